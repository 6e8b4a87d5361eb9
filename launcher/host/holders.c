/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "host/ctx.h"
#include "host/holders.h"
#include "host/hostfs.h"
#include "host/pcidev.h"
#include "util/fileio.h"
#include "util/strutil.h"
#include "util/strv.h"

void holder_list_clear(struct holder_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].user);
		free(l->items[i].command);
		free(l->items[i].node);
	}
	free(l->items);
	*l = (struct holder_list){};
}

/* The path of @path inside the root as the machine names it: "/dev/dri/card1". */
static const char *machine_path(const struct ctx *c, const char *path)
{
	size_t n = strlen(c->root);

	if (n > 0 && strncmp(path, c->root, n) == 0 && path[n] == '/')
		return path + n;
	return path;
}

static int add_node(const struct ctx *c, char ***l, const char *dir, const char *name)
{
	_cleanup_free_ char *p = path_join(c->dev, dir, name);

	if (!p)
		return -ENOMEM;
	if (strv_contains(*l, machine_path(c, p)))
		return 0;
	return strv_extend(l, machine_path(c, p));
}

/* ALSA nodes of card @n: controlCn, pcmCnD*, hwCnD*, midiCn*: the digits after the first 'C'
 * are the card, followed by the end or 'D'. */
static bool snd_node_of(const char *name, unsigned n)
{
	const char *p = strchr(name, 'C');
	char *end;
	unsigned long v;

	if (!p || p == name || !isdigit((unsigned char)p[1]))
		return false;
	for (const char *q = name; q < p; q++)
		if (!islower((unsigned char)*q))
			return false;
	v = strtoul(p + 1, &end, 10);
	return v == n && (*end == '\0' || *end == 'D');
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int holders_nodes(struct ctx *c, const char *bdf, char ***ret)
{
	_cleanup_free_ char *drm = pcidev_attr_path(c, bdf, "drm"),
			    *sound = pcidev_attr_path(c, bdf, "sound"),
			    *snd_dir = path_join(c->dev, "snd");
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
	DIR *d;
	int r = 0;

	if (!drm || !sound || !snd_dir || !l)
		return -ENOMEM;
	d = opendir(drm);
	for (struct dirent *de; d && r >= 0 && (de = readdir(d));)
		if (startswith(de->d_name, "card") || startswith(de->d_name, "renderD"))
			r = add_node(c, &l, "dri", de->d_name);
	if (d)
		closedir(d);
	if (r < 0)
		return r;
	d = opendir(sound);
	for (struct dirent *de; d && r >= 0 && (de = readdir(d));) {
		unsigned card;
		char extra;
		DIR *s;

		if (sscanf(de->d_name, "card%u%c", &card, &extra) != 1)
			continue;
		s = opendir(snd_dir);
		for (struct dirent *se; s && r >= 0 && (se = readdir(s));)
			if (snd_node_of(se->d_name, card))
				r = add_node(c, &l, "snd", se->d_name);
		if (s)
			closedir(s);
	}
	if (d)
		closedir(d);
	if (r < 0)
		return r;
	qsort(l, strv_length(l), sizeof(char *), str_cmp);
	*ret = TAKE_PTR(l);
	return 0;
}

/* The name of @uid in ROOT/etc/passwd, else the number. */
static char *user_name(const struct ctx *c, unsigned long uid)
{
	_cleanup_free_ char *path = path_join(c->etc, "passwd"), *buf = NULL;
	size_t len;

	if (path && read_full_file(path, 1 << 20, &buf, &len) >= 0)
		for (char *line = buf, *next; line && *line; line = next) {
			char name[64];
			unsigned long u;

			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (sscanf(line, "%63[^:]:%*[^:]:%lu:", name, &u) == 2 && u == uid)
				return strdup(name);
		}
	return strdup_printf("%lu", uid);
}

static int proc_uid(const char *status, unsigned long *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	const char *p;

	if (read_full_file(status, 1 << 16, &buf, &len) < 0)
		return -ENOENT;
	p = strstr(buf, "\nUid:");
	if (!p || sscanf(p + 5, "%lu", ret) != 1)
		return -EBADMSG;
	return 0;
}

static int add_holder(const struct ctx *c, struct holder_list *l, pid_t pid, const char *piddir,
		      const char *node)
{
	_cleanup_free_ char *comm_path = path_join(piddir, "comm"),
			    *status = path_join(piddir, "status"), *comm = NULL;
	struct holder *items, h = { .pid = pid };
	unsigned long uid = 0;

	if (!comm_path || !status)
		return -ENOMEM;
	if (hostfs_read_line(comm_path, &comm) < 0 && !(comm = strdup("?")))
		return -ENOMEM;
	/* the kernel hands out comm as the process set it (PR_SET_NAME), control bytes and all;
	 * it ends up on root's terminal */
	for (char *p = comm; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	(void)proc_uid(status, &uid);
	h.user = user_name(c, uid);
	h.command = TAKE_PTR(comm);
	h.node = strdup(node);
	h.display = holders_is_display(h.command);
	items = reallocarray(l->items, l->n + 1, sizeof(*items));
	if (!h.user || !h.node || !items) {
		if (items)
			l->items = items;
		free(h.user);
		free(h.command);
		free(h.node);
		return -ENOMEM;
	}
	l->items = items;
	l->items[l->n++] = h;
	return 0;
}

static int holder_cmp(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->node, y->node);
}

int holders_scan(struct ctx *c, const char *bdf, struct holder_list *ret)
{
	_cleanup_strv_free_ char **nodes = NULL;
	struct holder_list l = {};
	DIR *proc;
	int r;

	r = holders_nodes(c, bdf, &nodes);
	if (r < 0)
		return r;
	proc = strv_length(nodes) > 0 ? opendir(c->proc) : NULL;
	for (struct dirent *pe; proc && (pe = readdir(proc));) {
		_cleanup_free_ char *piddir = NULL, *fddir = NULL;
		_cleanup_strv_free_ char **seen = NULL;
		char *end;
		long pid = strtol(pe->d_name, &end, 10);
		DIR *fds;

		if (*end || pid <= 0 || !isdigit((unsigned char)pe->d_name[0]))
			continue;
		piddir = path_join(c->proc, pe->d_name);
		fddir = piddir ? path_join(piddir, "fd") : NULL;
		if (!fddir) {
			r = -ENOMEM;
			break;
		}
		fds = opendir(fddir);
		for (struct dirent *fe; fds && r >= 0 && (fe = readdir(fds));) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dirfd(fds), fe->d_name, target, sizeof(target) - 1);
			const char *t;

			if (n <= 0)
				continue;
			target[n] = '\0';
			t = machine_path(c, target);
			if (!strv_contains(nodes, t) || strv_contains(seen, t))
				continue;
			r = strv_extend(&seen, t);
			if (r >= 0)
				r = add_holder(c, &l, (pid_t)pid, piddir, t);
		}
		if (fds)
			closedir(fds);
		if (r < 0)
			break;
	}
	if (proc)
		closedir(proc);
	if (r < 0) {
		holder_list_clear(&l);
		return r;
	}
	if (l.n > 1)
		qsort(l.items, l.n, sizeof(*l.items), holder_cmp);
	*ret = l;
	return 0;
}

/* Display managers (their systemd unit is their name) and display servers. */
static const char *const display_managers[] = {
	"gdm", "gdm3", "sddm", "lightdm", "lxdm", "xdm", "greetd", "ly", NULL,
};
static const char *const display_servers[] = {
	"Xorg",	  "X",	    "Xwayland", "gnome-shell", "kwin_wayland", "kwin_x11", "sway",
	"weston", "mutter", "Hyprland", "cosmic-comp", "labwc",	       "wayfire",  NULL,
};

static const char *display_manager_of(const char *command)
{
	for (const char *const *m = display_managers; *m; m++) {
		size_t n = strlen(*m);

		/* gdm-wayland-session, sddm-helper, lightdm-gtk-greeter */
		if (strncmp(command, *m, n) == 0 && (command[n] == '\0' || command[n] == '-'))
			return *m;
	}
	return NULL;
}

bool holders_is_display(const char *command)
{
	if (!command)
		return false;
	if (display_manager_of(command))
		return true;
	for (const char *const *s = display_servers; *s; s++)
		if (streq(command, *s))
			return true;
	return false;
}

const char *holders_display_manager(const struct holder_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *m = display_manager_of(l->items[i].command);

		if (m)
			return streq(m, "gdm3") ? "gdm" : m;
	}
	return NULL;
}

char *holders_format(const struct holder_list *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "  %-22s %-10s %7s %s\n", "NODE", "USER", "PID", "COMMAND");
	for (size_t i = 0; i < l->n; i++) {
		const struct holder *h = &l->items[i];

		fprintf(f, "  %-22s %-10s %7d %s%s\n", h->node, h->user, (int)h->pid, h->command,
			!h->display			 ? ""
			: display_manager_of(h->command) ? " (display manager)"
							 : " (display server)");
	}
	if (fclose(f) != 0)
		return mfree(buf);
	return buf;
}
