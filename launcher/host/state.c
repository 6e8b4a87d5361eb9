/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/plan.h"
#include "core/profile.h"
#include "core/rom.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/journal.h"
#include "host/paths.h"
#include "host/spawn.h"
#include "host/state.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/strutil.h"
#include "util/strv.h"

static int add_file(struct ctx *c, struct check_state *s, enum check_file_kind kind,
		    const char *path)
{
	_cleanup_free_ char *full = paths_profile_file(c, path);
	struct check_file *t, *f;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (!full)
		return -ENOMEM;
	t = realloc(s->files, (s->n_files + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	s->files = t;
	f = &t[s->n_files];
	*f = (struct check_file){ .kind = kind, .path = strdup(path) };
	if (!f->path)
		return -ENOMEM;
	s->n_files++;
	if (kind == CHECK_FILE_VBIOS || kind == CHECK_FILE_GOP) {
		r = read_full_file(full, ROM_MAX_SIZE, &buf, &len);
		if (r == -ENOMEM)
			return r;
		f->error = r < 0 ? r : 0;
		f->data = (uint8_t *)buf;
		f->size = len;
		return 0;
	}
	/* disks, ISOs, nvram: QEMU opens them; readable is what can be known here, and for a
	 * disk or the nvram whether it is a qcow2 image (QEMU refuses one that is not, named
	 * format=qcow2) */
	f->qcow2 = -1;
	r = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (r < 0)
		f->error = -errno;
	else {
		unsigned char magic[4];
		ssize_t n = kind == CHECK_FILE_CDROM ? 0 : pread(r, magic, sizeof(magic), 0);

		if (n > 0)
			f->qcow2 = n == sizeof(magic) && memcmp(magic, "QFI\xfb", 4) == 0;
		close(r);
	}
	return 0;
}

/* The same decision a run takes (journal_probe), so the preview cannot disagree with it. */
static int read_journal(struct ctx *c, const char *vm, struct check_state *s)
{
	_cleanup_(error_clear) struct error err = {};
	enum journal_probe state;
	int r;

	r = journal_probe(c, vm, &state, &s->journal_text, &s->journal_entries, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		s->journal = CHECK_JOURNAL_BAD;
		s->journal_text = error_format(&err);
		return s->journal_text ? 0 : -ENOMEM;
	}
	s->journal = state == JOURNAL_PROBE_TAKEOVER ? CHECK_JOURNAL_TAKEOVER
		     : state == JOURNAL_PROBE_LIVE   ? CHECK_JOURNAL_LIVE
		     : state == JOURNAL_PROBE_LEFT   ? CHECK_JOURNAL_LEFT
						     : CHECK_JOURNAL_NONE;
	return 0;
}

static int read_lock(struct ctx *c, const char *vm, const char *bdf, struct check_state *s)
{
	_cleanup_free_ char *path = strdup_printf("%s/locks/%s.lock", c->state, bdf);
	_cleanup_free_ char *line = NULL, *jpath = NULL;
	struct check_lock *t, *l;
	char name[256];
	int pid = 0, fd;
	bool held = false, flock_held;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 0;
	/* a shared lock that cannot be had: a run holds it (released at once) */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		held = errno == EWOULDBLOCK;
	else
		(void)flock(fd, LOCK_UN);
	flock_held = held;
	close(fd);
	if (hostfs_read_line(path, &line) < 0 || sscanf(line, "%255s %d", name, &pid) != 2)
		name[0] = 0;
	if (name[0] && streq(name, vm))
		return 0; /* our own VM: its journal says what is left */
	if (!held && name[0]) {
		jpath = strdup_printf("%s/%s/journal", c->state, name);
		if (!jpath)
			return -ENOMEM;
		held = hostfs_exists(jpath);
	}
	if (!held)
		return 0;
	t = realloc(s->locks, (s->n_locks + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	s->locks = t;
	l = &t[s->n_locks];
	*l = (struct check_lock){ .held = true, .address = strdup(bdf) };
	/* worded as the run's own refusal (journal.c lock_try) */
	l->holder = !name[0]	 ? strdup("(unknown)")
		    : flock_held ? strdup_printf("%s (pid %d)", name, pid)
				 : strdup_printf("%s (journal left)", name);
	if (!l->address || !l->holder) {
		free(l->address);
		free(l->holder);
		return -ENOMEM;
	}
	s->n_locks++;
	return 0;
}

/* ROOT/proc/PID/comm into @buf ("?" when it cannot be read). */
static void read_comm(struct ctx *c, const char *pid, char *buf, size_t size)
{
	_cleanup_free_ char *path = strdup_printf("%s/%s/comm", c->proc, pid);
	_cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;

	if (!f || !fgets(buf, (int)size, f))
		snprintf(buf, size, "?");
	buf[strcspn(buf, "\n")] = 0;
	/* comm is what the process set (PR_SET_NAME), control bytes and all: it is printed */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

int state_vfio_users(struct ctx *c, struct vfio_user **ret, size_t *ret_n)
{
	_cleanup_free_ struct vfio_user *users = NULL;
	DIR *d = opendir(c->proc);
	struct dirent *e;
	size_t n = 0;
	int r = 0;

	if (d)
		while (r >= 0 && (e = readdir(d))) {
			_cleanup_free_ char *fds = NULL;
			DIR *fd_dir;
			struct dirent *fe;

			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			fds = strdup_printf("%s/%s/fd", c->proc, e->d_name);
			if (!fds) {
				r = -ENOMEM;
				break;
			}
			fd_dir = opendir(fds);
			if (!fd_dir)
				continue;
			while (r >= 0 && (fe = readdir(fd_dir))) {
				char target[PATH_MAX], tail;
				ssize_t k = readlinkat(dirfd(fd_dir), fe->d_name, target,
						       sizeof(target) - 1);
				struct vfio_user *u;
				int group;

				if (k <= 0)
					continue;
				target[k] = 0;
				/* /dev/vfio/N exactly: not the container /dev/vfio/vfio */
				if (sscanf(target, "/dev/vfio/%d%c", &group, &tail) != 1)
					continue;
				u = reallocarray(users, n + 1, sizeof(*users));
				if (!u) {
					r = -ENOMEM;
					break;
				}
				users = u;
				u = &users[n++];
				*u = (struct vfio_user){ .pid = atoi(e->d_name), .group = group };
				read_comm(c, e->d_name, u->comm, sizeof(u->comm));
			}
			closedir(fd_dir);
		}
	if (d)
		closedir(d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(users);
	*ret_n = n;
	return 0;
}

/* Which of @p's devices has its /dev/vfio/GROUP open in some process. */
static int read_vfio_open(struct ctx *c, const struct plan *p, struct check_state *s)
{
	_cleanup_free_ struct vfio_user *users = NULL;
	size_t n = 0;
	int r;

	r = state_vfio_users(c, &users, &n);
	for (size_t u = 0; r >= 0 && u < n; u++)
		for (size_t i = 0; r >= 0 && i < p->n_devices; i++)
			if (p->devices[i].iommu_group == users[u].group &&
			    !strv_contains(s->vfio_open, p->devices[i].address))
				r = strv_extend(&s->vfio_open, p->devices[i].address);
	return r < 0 ? r : 0;
}

int state_read_preview(struct ctx *c, const struct plan *p, struct check_state *ret)
{
	const struct profile *pr = p->profile;
	struct check_state s = {};
	int r = 0;

	if (pr->vbios == PROFILE_VBIOS_FILE && pr->vbios_path)
		r = add_file(c, &s, CHECK_FILE_VBIOS, pr->vbios_path);
	if (r >= 0 && pr->gop)
		r = add_file(c, &s, CHECK_FILE_GOP, pr->gop);
	/* a remote node's disks, nvram, device locks and VFIO groups are that host's: only the
	 * ROM files (uploaded from here) and the journal (kept here) are this machine's */
	if (r >= 0 && pr->nvram && p->ovmf_code && !p->remote_uri)
		r = add_file(c, &s, CHECK_FILE_NVRAM, pr->nvram);
	for (char **f = pr->disks; r >= 0 && f && *f && !p->remote_uri; f++)
		r = add_file(c, &s, CHECK_FILE_DISK, *f);
	for (char **f = pr->cdroms; r >= 0 && f && *f && !p->remote_uri; f++)
		r = add_file(c, &s, CHECK_FILE_CDROM, *f);
	if (r >= 0 && pr->backend == PROFILE_BACKEND_LIBVIRT) {
		/* the template run fills (libvirt_prepare): read the same way */
		_cleanup_(error_clear) struct error err = {};

		s.template_name = strdup(pr->template ? pr->template : "linux");
		s.template_dir = paths_templates_dir();
		if (!s.template_name || !s.template_dir)
			r = -ENOMEM;
		else
			s.template_error =
			    paths_load_template(c, s.template_dir, pr->template, &s.template_xml,
						&s.template_len, &err);
		if (s.template_error == -ENOMEM)
			r = -ENOMEM;
	}
	if (r >= 0)
		r = read_journal(c, p->vm_name, &s);
	for (size_t i = 0; r >= 0 && i < p->n_devices && !p->remote_uri; i++)
		r = read_lock(c, p->vm_name, p->devices[i].address, &s);
	if (r >= 0 && !p->remote_uri)
		r = read_vfio_open(c, p, &s);
	if (r < 0) {
		check_state_done(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int state_read_programs(struct ctx *c, const struct plan *p, struct check_state *s)
{
	const struct profile *pr = p->profile;
	int r;

	if (p->remote_uri)
		return 0;
	if (pr->backend == PROFILE_BACKEND_QEMU) {
		free(s->qemu_binary);
		s->qemu_binary = strdup(ctx_qemu_binary(c));
		if (!s->qemu_binary)
			return -ENOMEM;
		r = spawn_find_program(s->qemu_binary, NULL);
		if (r == -ENOMEM)
			return r;
		s->qemu_error = r == -EACCES ? r : r < 0 ? -ENOENT : 0;
	}
	if (pr->tpm) {
		r = spawn_find_program("swtpm", NULL);
		if (r == -ENOMEM)
			return r;
		s->swtpm_read = true;
		s->swtpm_error = r == -EACCES ? r : r < 0 ? -ENOENT : 0;
	}
	return 0;
}
