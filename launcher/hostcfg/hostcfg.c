/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/inspect.h"
#include "host/kmodule.h"
#include "host/pcidev.h"
#include "host/spawn.h"
#include "hostcfg/hostcfg.h"
#include "util/strv.h"

#define HOSTCFG_FILE_MAX (1024 * 1024)

static const char *const hostcfg_boot_table[_HOSTCFG_BOOT_MAX] = {
	[HOSTCFG_BOOT_PROXMOX_SDBOOT] = "Proxmox VE, systemd-boot via proxmox-boot-tool",
	[HOSTCFG_BOOT_PROXMOX_GRUB] = "Proxmox VE, GRUB",
	[HOSTCFG_BOOT_GRUB] = "GRUB",
	[HOSTCFG_BOOT_SDBOOT] = "systemd-boot / kernel-install",
	[HOSTCFG_BOOT_UNKNOWN] = "unknown",
};

DEFINE_STRING_TABLE_LOOKUP(hostcfg_boot, enum hostcfg_boot, _HOSTCFG_BOOT_MAX)

static const char *const hostcfg_file_kind_table[_HOSTCFG_FILE_KIND_MAX] = {
	[HOSTCFG_FILE_CMDLINE] = "cmdline",
	[HOSTCFG_FILE_GRUB] = "grub",
	[HOSTCFG_FILE_LOADER_ENTRY] = "loader-entry",
	[HOSTCFG_FILE_MODULES_LOAD] = "modules-load",
	[HOSTCFG_FILE_MODPROBE] = "modprobe",
	[HOSTCFG_FILE_BLACKLIST] = "blacklist",
	[HOSTCFG_FILE_MODPROBE_OTHER] = "modprobe-other",
	[HOSTCFG_FILE_GRUB_DROPIN] = "grub-dropin",
};

DEFINE_STRING_TABLE_LOOKUP(hostcfg_file_kind, enum hostcfg_file_kind, _HOSTCFG_FILE_KIND_MAX)

/* ---- errors ---- */

/* Every public function that takes @err fills it when it fails (util/error.h). Failures found
 * deeper down set the cause and the place themselves; this records the errno of the others
 * (-ENOMEM), with strerror() standing in for the message. An error already in @err about a
 * different errno is not this failure's (a file that could not be restored, then -ENOMEM):
 * it is replaced. */
static int fail_errno(struct error *err, int r)
{
	if (r < 0 && err && err->errnum != -r)
		(void)error_set(err, r, NULL);
	return r;
}

/* @r about @file (host name), no message of its own: error_format() says "FILE: strerror". */
static int fail_file(struct error *err, int r, const char *file)
{
	return error_set_line(err, r, file, 0, NULL);
}

/* ---- small text helpers ---- */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Module names: the kernel treats '-' and '_' alike. */
static bool modname_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

static bool strv_contains_mod(char *const *l, const char *m)
{
	for (; l && *l; l++)
		if (modname_eq(*l, m))
			return true;
	return false;
}

static bool strv_contains_case(char *const *l, const char *s)
{
	for (; l && *l; l++)
		if (strcasecmp(*l, s) == 0)
			return true;
	return false;
}

static char **strv_new_empty(void)
{
	return calloc(1, sizeof(char *));
}

/* Lines without their '\n'. A NUL byte in the buffer is refused (not a text file): -EINVAL,
 * @err holding its line. */
static int split_lines(const char *buf, size_t len, char ***ret, struct error *err)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	const char *p = buf, *end = buf + len;
	unsigned line = 1;
	int r;

	if (!l)
		return -ENOMEM;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (memchr(p, 0, n))
			return error_set_line(err, EINVAL, NULL, line,
					      "binary data (a NUL byte): not a text file");
		r = strv_consume(&l, strndup(p, n));
		if (r < 0)
			return r;
		p += n + (nl ? 1 : 0);
		line++;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* Lines back into a buffer; every line ends with '\n'. */
static int join_lines(char *const *l, char **ret)
{
	_cleanup_free_ char *s = NULL;
	size_t len = 0;
	char *p;

	for (char *const *i = l; i && *i; i++)
		len += strlen(*i) + 1;
	s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	p = s;
	for (char *const *i = l; i && *i; i++) {
		p = stpcpy(p, *i);
		*p++ = '\n';
	}
	*p = 0;
	*ret = TAKE_PTR(s);
	return 0;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = 0;
}

/* Replace l[i] with @s (taking it). */
static int strv_replace(char **l, size_t i, char *s)
{
	if (!s)
		return -ENOMEM;
	free(l[i]);
	l[i] = s;
	return 0;
}

/* Whitespace-separated words of a config line up to a '#' comment (modprobe.d syntax). */
static int config_words(const char *line, char ***ret, char **ret_comment)
{
	_cleanup_free_ char *copy = strdup(line);
	char *hash;

	if (!copy)
		return -ENOMEM;
	hash = strchr(copy, '#');
	if (ret_comment)
		*ret_comment = NULL;
	if (hash) {
		if (ret_comment) {
			*ret_comment = strdup(hash);
			if (!*ret_comment)
				return -ENOMEM;
		}
		*hash = 0;
	}
	return strv_split(copy, " \t\r", ret);
}

/* ---- kernel command line ---- */

int hostcfg_cmdline_split(const char *s, size_t len, char ***ret)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	size_t i = 0;
	int r;

	if (!l)
		return -ENOMEM;
	while (i < len) {
		size_t start;
		bool quoted = false;

		while (i < len && is_blank(s[i]))
			i++;
		if (i >= len || s[i] == 0)
			break;
		start = i;
		while (i < len && s[i] && (quoted || !is_blank(s[i]))) {
			if (s[i] == '"')
				quoted = !quoted;
			i++;
		}
		r = strv_consume(&l, strndup(s + start, i - start));
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

struct param_rule {
	const char *key;
	bool list; /* the value is a comma list, several occurrences add up */
	const char *conflicts[4];
};

static const struct param_rule param_rules[] = {
	{ "iommu", true, { "soft", "off", "nopt" } },
	{ "amd_iommu", true, { "off" } },
	{ "intel_iommu", true, { "off" } },
	{ "initcall_blacklist", true, { NULL } },
	{ "video", false, { NULL } },
};

static const struct param_rule *rule_for(const char *key, size_t keylen)
{
	for (size_t i = 0; i < ELEMENTSOF(param_rules); i++)
		if (strlen(param_rules[i].key) == keylen &&
		    !strncmp(param_rules[i].key, key, keylen))
			return &param_rules[i];
	return NULL;
}

/* 1: @tok satisfies @want; -1: @tok conflicts with it; 0: unrelated. */
static int param_match(const char *tok, const char *want)
{
	const char *eq = strchr(want, '=');
	const struct param_rule *rule;
	_cleanup_strv_free_ char **vals = NULL;
	size_t keylen;

	if (streq(tok, want))
		return 1;
	if (!eq)
		return 0;
	keylen = (size_t)(eq - want);
	if (strncmp(tok, want, keylen + 1) != 0)
		return 0;
	rule = rule_for(want, keylen);
	if (!rule)
		return 0;
	if (!rule->list)
		return 0;
	if (strv_split(tok + keylen + 1, ",", &vals) < 0)
		return 0;
	if (strv_contains(vals, eq + 1))
		return 1;
	for (size_t i = 0; i < ELEMENTSOF(rule->conflicts) && rule->conflicts[i]; i++)
		if (strv_contains(vals, rule->conflicts[i]))
			return -1;
	return 0;
}

int hostcfg_cmdline_missing(char *const *present, char *const *want, const char *where,
			    struct diag_list *d, char ***ret_add)
{
	_cleanup_strv_free_ char **add = strv_new_empty();
	int r;

	if (!add)
		return -ENOMEM;
	for (char *const *w = want; w && *w; w++) {
		const char *conflict = NULL;
		bool found = false;

		for (char *const *p = present; p && *p && !found; p++) {
			int m = param_match(*p, *w);

			if (m > 0)
				found = true;
			else if (m < 0 && !conflict)
				conflict = *p;
		}
		if (found || strv_contains(add, *w))
			continue;
		if (conflict) {
			r = diag_add(
			    d, DIAG_WARN, "hostcfg-conflict",
			    "Remove it from the file if you want gpurun's setting, then run gpurun "
			    "host-config again",
			    "%s has '%s', which conflicts with '%s': left as it is, '%s' not added",
			    where, conflict, *w, *w);
			if (r < 0)
				return r;
			continue;
		}
		r = strv_extend(&add, *w);
		if (r < 0)
			return r;
	}
	*ret_add = TAKE_PTR(add);
	return 0;
}

static int cmdline_edit(const char *buf, size_t len, char *const *add, char **ret,
			struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	_cleanup_free_ char *joined = strv_join(add, " ");
	ssize_t last = -1;
	int r;

	if (!joined)
		return -ENOMEM;
	r = split_lines(buf ? buf : "", buf ? len : 0, &lines, err);
	if (r < 0)
		return r;
	for (size_t i = 0; lines[i]; i++)
		if (lines[i][strspn(lines[i], " \t\r")])
			last = (ssize_t)i;
	if (!*joined) {
		*ret = buf ? strndup(buf, len) : strdup("");
		return *ret ? 0 : -ENOMEM;
	}
	if (last < 0) {
		strv_free(lines);
		lines = strv_new_empty();
		if (!lines)
			return -ENOMEM;
		r = strv_extend(&lines, joined);
	} else {
		char *s;

		rstrip(lines[last]);
		if (asprintf(&s, "%s %s", lines[last], joined) < 0)
			return -ENOMEM;
		r = strv_replace(lines, (size_t)last, s);
	}
	if (r < 0)
		return r;
	return join_lines(lines, ret);
}

int hostcfg_cmdline_edit(const char *buf, size_t len, char *const *add, char **ret,
			 struct error *err)
{
	return fail_errno(err, cmdline_edit(buf, len, add, ret, err));
}

/* A shell assignment NAME=VALUE on one line of /etc/default/grub. */
struct grub_assign {
	ssize_t line;	     /* -1: none */
	size_t vstart, vend; /* value inside the quotes (or the bare word) */
	char quote;	     /* '"', '\'' or 0 */
};

static int grub_find(char *const *lines, const char *var, struct grub_assign *ret,
		     struct error *err)
{
	struct grub_assign a = { .line = -1 };
	size_t vlen = strlen(var);

	for (size_t i = 0; lines[i]; i++) {
		const char *s = lines[i], *p = s + strspn(s, " \t");
		size_t v;

		if (startswith(p, "export") && (p[6] == ' ' || p[6] == '\t'))
			p += 6 + strspn(p + 6, " \t");
		if (strncmp(p, var, vlen) != 0 || p[vlen] != '=')
			continue;
		v = (size_t)(p - s) + vlen + 1;
		if (s[v] == '"' || s[v] == '\'') {
			char q = s[v];
			size_t e = v + 1;

			while (s[e] && s[e] != q) {
				if (q == '"' && s[e] == '\\' && s[e + 1])
					e++;
				e++;
			}
			/* a value continued on the next line: not something to edit blindly */
			if (!s[e])
				return error_set_line(
				    err, EINVAL, NULL, (unsigned)i + 1,
				    "the quoted value of %s continues on the next line", var);
			a = (struct grub_assign){
				.line = (ssize_t)i, .vstart = v + 1, .vend = e, .quote = q
			};
		} else {
			size_t e = v;

			while (s[e] && !is_blank(s[e]) && s[e] != ';' && s[e] != '#')
				e++;
			a = (struct grub_assign){
				.line = (ssize_t)i, .vstart = v, .vend = e, .quote = 0
			};
		}
	}
	*ret = a;
	return 0;
}

static int grub_tokens(char *const *lines, char ***tokens, struct error *err)
{
	static const char *const vars[] = { "GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT" };
	int r;

	for (size_t k = 0; k < ELEMENTSOF(vars); k++) {
		_cleanup_strv_free_ char **t = NULL;
		struct grub_assign a;

		r = grub_find(lines, vars[k], &a, err);
		if (r < 0)
			return r;
		if (a.line < 0)
			continue;
		r = hostcfg_cmdline_split(lines[a.line] + a.vstart, a.vend - a.vstart, &t);
		if (r < 0)
			return r;
		for (char **i = t; *i; i++) {
			r = strv_extend(tokens, *i);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int grub_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	_cleanup_free_ char *joined = strv_join(add, " ");
	struct grub_assign a;
	char *s;
	int r;

	if (!joined)
		return -ENOMEM;
	r = split_lines(buf ? buf : "", buf ? len : 0, &lines, err);
	if (r < 0)
		return r;
	r = grub_find(lines, "GRUB_CMDLINE_LINUX_DEFAULT", &a, err);
	if (r < 0)
		return r;
	if (!*joined)
		return join_lines(lines, ret);
	if (a.line < 0) {
		r = strv_extendf(&lines, "GRUB_CMDLINE_LINUX_DEFAULT=\"%s\"", joined);
		if (r < 0)
			return r;
		return join_lines(lines, ret);
	} else {
		const char *l = lines[a.line];
		bool space = a.vend > a.vstart && !is_blank(l[a.vend - 1]);

		if (a.quote) {
			if (asprintf(&s, "%.*s%s%s%s", (int)a.vend, l, space ? " " : "", joined,
				     l + a.vend) < 0)
				return -ENOMEM;
		} else if (asprintf(&s, "%.*s\"%.*s%s%s\"%s", (int)a.vstart, l,
				    (int)(a.vend - a.vstart), l + a.vstart, space ? " " : "",
				    joined, l + a.vend) < 0)
			return -ENOMEM;
		r = strv_replace(lines, (size_t)a.line, s);
		if (r < 0)
			return r;
	}
	return join_lines(lines, ret);
}

int hostcfg_grub_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	return fail_errno(err, grub_edit(buf, len, add, ret, err));
}

static bool is_options_line(const char *l)
{
	const char *p = l + strspn(l, " \t");

	return startswith(p, "options") && (p[7] == ' ' || p[7] == '\t' || p[7] == 0);
}

static int entry_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	_cleanup_free_ char *joined = strv_join(add, " ");
	ssize_t last = -1;
	char *s;
	int r;

	if (!joined)
		return -ENOMEM;
	r = split_lines(buf ? buf : "", buf ? len : 0, &lines, err);
	if (r < 0)
		return r;
	if (!*joined)
		return join_lines(lines, ret);
	for (size_t i = 0; lines[i]; i++)
		if (is_options_line(lines[i]))
			last = (ssize_t)i;
	if (last < 0) {
		r = strv_extendf(&lines, "options %s", joined);
	} else {
		rstrip(lines[last]);
		if (asprintf(&s, "%s %s", lines[last], joined) < 0)
			return -ENOMEM;
		r = strv_replace(lines, (size_t)last, s);
	}
	if (r < 0)
		return r;
	return join_lines(lines, ret);
}

int hostcfg_entry_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	return fail_errno(err, entry_edit(buf, len, add, ret, err));
}

static int file_cmdline(enum hostcfg_file_kind kind, const char *buf, size_t len, char ***ret,
			struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL, **tokens = strv_new_empty();
	int r;

	if (!tokens)
		return -ENOMEM;
	if (!buf) {
		*ret = TAKE_PTR(tokens);
		return 0;
	}
	switch (kind) {
	case HOSTCFG_FILE_CMDLINE:
		tokens = strv_free(tokens);
		return hostcfg_cmdline_split(buf, len, ret);
	case HOSTCFG_FILE_GRUB:
		r = split_lines(buf, len, &lines, err);
		if (r < 0)
			return r;
		r = grub_tokens(lines, &tokens, err);
		if (r < 0)
			return r;
		break;
	case HOSTCFG_FILE_LOADER_ENTRY:
		r = split_lines(buf, len, &lines, err);
		if (r < 0)
			return r;
		for (size_t i = 0; lines[i]; i++) {
			_cleanup_strv_free_ char **t = NULL;
			const char *p;

			if (!is_options_line(lines[i]))
				continue;
			p = lines[i] + strspn(lines[i], " \t") + 7;
			r = hostcfg_cmdline_split(p, strlen(p), &t);
			if (r < 0)
				return r;
			for (char **k = t; *k; k++)
				if ((r = strv_extend(&tokens, *k)) < 0)
					return r;
		}
		break;
	default:
		return error_set(err, EINVAL, "files of kind '%s' hold no kernel command line",
				 strna(hostcfg_file_kind_to_string(kind)));
	}
	*ret = TAKE_PTR(tokens);
	return 0;
}

int hostcfg_file_cmdline(enum hostcfg_file_kind kind, const char *buf, size_t len, char ***ret,
			 struct error *err)
{
	return fail_errno(err, file_cmdline(kind, buf, len, ret, err));
}

/* ---- modules-load.d, modprobe.d ---- */

static int list_edit(const char *buf, size_t len, const char *header, const char *prefix,
		     char *const *mods, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL, **have = strv_new_empty();
	int r;

	if (!have)
		return -ENOMEM;
	r = split_lines(buf ? buf : "", buf ? len : 0, &lines, err);
	if (r < 0)
		return r;
	for (size_t i = 0; lines[i]; i++) {
		_cleanup_strv_free_ char **w = NULL;

		/* modules-load.d(5) comments start with '#' or ';' */
		if (lines[i][strspn(lines[i], " \t")] == ';')
			continue;
		r = config_words(lines[i], &w, NULL);
		if (r < 0)
			return r;
		if (!prefix && strv_length(w) == 1)
			r = strv_extend(&have, w[0]);
		else if (prefix && strv_length(w) == 2 && streq(w[0], prefix))
			r = strv_extend(&have, w[1]);
		if (r < 0)
			return r;
	}
	if (!buf && strv_length(mods) > 0 && (r = strv_extend(&lines, header)) < 0)
		return r;
	for (char *const *m = mods; m && *m; m++) {
		if (strv_contains_mod(have, *m))
			continue;
		r = prefix ? strv_extendf(&lines, "%s %s", prefix, *m) : strv_extend(&lines, *m);
		if (r < 0)
			return r;
		r = strv_extend(&have, *m);
		if (r < 0)
			return r;
	}
	return join_lines(lines, ret);
}

int hostcfg_modules_edit(const char *buf, size_t len, char *const *mods, char **ret,
			 struct error *err)
{
	return fail_errno(err, list_edit(buf, len,
					 "# vfio modules for GPU passthrough (gpurun host-config)",
					 NULL, mods, ret, err));
}

int hostcfg_blacklist_edit(const char *buf, size_t len, char *const *mods, char **ret,
			   struct error *err)
{
	return fail_errno(
	    err, list_edit(buf, len,
			   "# host drivers kept off the passthrough GPU (gpurun host-config "
			   "--blacklist)",
			   "blacklist", mods, ret, err));
}

static bool is_vfio_pci_options(char *const *w)
{
	return strv_length(w) >= 2 && streq(w[0], "options") && modname_eq(w[1], "vfio_pci");
}

static int ids_of_words(char *const *w, char ***ids)
{
	int r;

	for (size_t k = 2; w[k]; k++) {
		_cleanup_strv_free_ char **v = NULL;

		if (!startswith(w[k], "ids="))
			continue;
		r = strv_split(w[k] + 4, ",", &v);
		if (r < 0)
			return r;
		for (char **i = v; *i; i++)
			if (!strv_contains_case(*ids, *i) && (r = strv_extend(ids, *i)) < 0)
				return r;
	}
	return 0;
}

static int modprobe_ids(const char *buf, size_t len, char ***ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL, **ids = strv_new_empty();
	int r;

	if (!ids)
		return -ENOMEM;
	r = split_lines(buf ? buf : "", buf ? len : 0, &lines, err);
	if (r < 0)
		return r;
	for (size_t i = 0; lines[i]; i++) {
		_cleanup_strv_free_ char **w = NULL;

		r = config_words(lines[i], &w, NULL);
		if (r < 0)
			return r;
		if (is_vfio_pci_options(w) && (r = ids_of_words(w, &ids)) < 0)
			return r;
	}
	*ret = TAKE_PTR(ids);
	return 0;
}

int hostcfg_modprobe_ids(const char *buf, size_t len, char ***ret, struct error *err)
{
	return fail_errno(err, modprobe_ids(buf, len, ret, err));
}

static int rebuild_line(char **lines, size_t i, char *const *w, const char *comment)
{
	_cleanup_free_ char *j = strv_join(w, " ");
	char *s;

	if (!j)
		return -ENOMEM;
	if (asprintf(&s, "%s%s%s", j, comment ? " " : "", comment ? comment : "") < 0)
		return -ENOMEM;
	return strv_replace(lines, i, s);
}

static int modprobe_options(char **lines, char ***plines, char *const *ids, const char *name,
			    struct diag_list *d)
{
	_cleanup_strv_free_ char **have = strv_new_empty(), **missing = strv_new_empty();
	_cleanup_free_ char *dv = NULL;
	ssize_t first = -1, with_ids = -1;
	int r;

	if (!have || !missing)
		return -ENOMEM;
	for (size_t i = 0; lines[i]; i++) {
		_cleanup_strv_free_ char **w = NULL;

		r = config_words(lines[i], &w, NULL);
		if (r < 0)
			return r;
		if (!is_vfio_pci_options(w))
			continue;
		if (first < 0)
			first = (ssize_t)i;
		for (size_t k = 2; w[k]; k++) {
			if (startswith(w[k], "ids=") && with_ids < 0)
				with_ids = (ssize_t)i;
			if (startswith(w[k], "disable_vga=")) {
				free(dv);
				dv = strdup(w[k] + strlen("disable_vga="));
				if (!dv)
					return -ENOMEM;
			}
		}
		r = ids_of_words(w, &have);
		if (r < 0)
			return r;
	}
	for (char *const *i = ids; i && *i; i++)
		if (!strv_contains_case(have, *i) && (r = strv_extend(&missing, *i)) < 0)
			return r;
	if (dv && !streq(dv, "1") && !streq(dv, "Y") && !streq(dv, "y")) {
		r = diag_add(d, DIAG_WARN, "hostcfg-disable-vga",
			     "Set disable_vga=1 unless the host needs VGA decoding on that GPU",
			     "%s has disable_vga=%s: left as it is", name, dv);
		if (r < 0)
			return r;
	}
	if (strv_length(ids) == 0 || (strv_length(missing) == 0 && dv))
		return 0;

	if (first < 0) {
		_cleanup_free_ char *j = strv_join(ids, ",");

		if (!j)
			return -ENOMEM;
		return strv_extendf(plines, "options vfio-pci ids=%s disable_vga=1", j);
	} else {
		size_t at = (size_t)(with_ids >= 0 ? with_ids : first);
		_cleanup_strv_free_ char **w = NULL, **all = NULL;
		_cleanup_free_ char *comment = NULL, *j = NULL;
		bool done = false;

		r = config_words(lines[at], &w, &comment);
		if (r < 0)
			return r;
		all = strv_copy(have);
		if (!all)
			return -ENOMEM;
		for (char **i = missing; *i; i++)
			if ((r = strv_extend(&all, *i)) < 0)
				return r;
		j = strv_join(all, ",");
		if (!j)
			return -ENOMEM;
		for (size_t k = 2; w[k];) {
			char *s;

			if (!startswith(w[k], "ids=")) {
				k++;
				continue;
			}
			if (done) {
				/* a later ids= on the line would override the merged one */
				free(w[k]);
				memmove(w + k, w + k + 1,
					(strv_length(w + k + 1) + 1) * sizeof(char *));
				continue;
			}
			if (asprintf(&s, "ids=%s", j) < 0)
				return -ENOMEM;
			r = strv_replace(w, k, s);
			if (r < 0)
				return r;
			done = true;
			k++;
		}
		if (!done && (r = strv_extendf(&w, "ids=%s", j)) < 0)
			return r;
		if (!dv && (r = strv_extend(&w, "disable_vga=1")) < 0)
			return r;
		return rebuild_line(lines, at, w, comment);
	}
}

static int modprobe_softdep(char ***plines, const char *mod)
{
	char **lines = *plines;
	int r;

	for (size_t i = 0; lines[i]; i++) {
		_cleanup_strv_free_ char **w = NULL;
		_cleanup_free_ char *comment = NULL;
		ssize_t pre = -1;
		bool in_pre = false;
		size_t k;

		r = config_words(lines[i], &w, &comment);
		if (r < 0)
			return r;
		if (strv_length(w) < 2 || !streq(w[0], "softdep") || !modname_eq(w[1], mod))
			continue;
		for (k = 2; w[k]; k++) {
			if (streq(w[k], "pre:")) {
				in_pre = true;
				pre = (ssize_t)k;
			} else if (streq(w[k], "post:"))
				in_pre = false;
			else if (in_pre && modname_eq(w[k], "vfio_pci"))
				return 0;
		}
		{
			size_t n = strv_length(w), at = pre >= 0 ? (size_t)pre + 1 : 2;
			size_t extra = pre >= 0 ? 1 : 2;
			char **nw = calloc(n + extra + 1, sizeof(char *));

			if (!nw)
				return -ENOMEM;
			memcpy(nw, w, at * sizeof(char *));
			if (pre < 0)
				nw[at] = strdup("pre:");
			nw[at + extra - 1] = strdup("vfio-pci");
			memcpy(nw + at + extra, w + at, (n - at) * sizeof(char *));
			free(w);
			w = nw;
			if (!w[at] || !w[at + extra - 1])
				return -ENOMEM;
		}
		return rebuild_line(lines, i, w, comment);
	}
	return strv_extendf(plines, "softdep %s pre: vfio-pci", mod);
}

static int modprobe_edit(const char *buf, size_t len, char *const *ids, char *const *softdeps,
			 const char *name, struct diag_list *d, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	int r;

	r = split_lines(buf ? buf : "", buf ? len : 0, &lines, err);
	if (r < 0)
		return r;
	if (!buf && (strv_length(ids) > 0 || strv_length(softdeps) > 0)) {
		r = strv_extend(&lines, "# vfio-pci claims the passthrough GPU before its host "
					"drivers do (gpurun host-config)");
		if (r < 0)
			return r;
	}
	r = modprobe_options(lines, &lines, ids, name, d);
	if (r < 0)
		return r;
	for (char *const *m = softdeps; m && *m; m++)
		if ((r = modprobe_softdep(&lines, *m)) < 0)
			return r;
	return join_lines(lines, ret);
}

int hostcfg_modprobe_edit(const char *buf, size_t len, char *const *ids, char *const *softdeps,
			  const char *name, struct diag_list *d, char **ret, struct error *err)
{
	return fail_errno(err, modprobe_edit(buf, len, ids, softdeps, name, d, ret, err));
}

/* ---- unified diff ---- */

struct dline {
	const char *p;
	size_t len;
	bool nl;
};

static int to_dlines(const char *buf, size_t len, struct dline **ret, size_t *ret_n)
{
	_cleanup_free_ struct dline *l = NULL;
	size_t n = 0, alloc = 0;
	const char *p = buf, *end = buf + len;

	while (buf && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (n == alloc) {
			struct dline *x;

			alloc = alloc ? alloc * 2 : 16;
			x = realloc(l, alloc * sizeof(*l));
			if (!x)
				return -ENOMEM;
			l = x;
		}
		l[n++] = (struct dline){ p, nl ? (size_t)(nl - p) : (size_t)(end - p), nl != NULL };
		p = nl ? nl + 1 : end;
	}
	*ret = TAKE_PTR(l);
	*ret_n = n;
	return 0;
}

static bool dline_eq(const struct dline *a, const struct dline *b)
{
	return a->len == b->len && a->nl == b->nl && memcmp(a->p, b->p, a->len) == 0;
}

static void put_dline(FILE *f, char tag, const struct dline *l)
{
	fputc(tag, f);
	fwrite(l->p, 1, l->len, f);
	fputc('\n', f);
	if (!l->nl)
		fputs("\\ No newline at end of file\n", f);
}

static void put_range(FILE *f, char tag, size_t start, size_t count)
{
	fprintf(f, "%c%zu", tag, count == 0 ? start : start + 1);
	if (count != 1)
		fprintf(f, ",%zu", count);
}

int hostcfg_diff(const char *name, const char *old, size_t old_len, const char *new, size_t new_len,
		 char **ret)
{
	enum { CONTEXT = 3 };
	_cleanup_free_ struct dline *a = NULL, *b = NULL;
	_cleanup_free_ uint32_t *dp = NULL;
	_cleanup_free_ char *ops = NULL; /* ' ', '-', '+' */
	_cleanup_free_ char *out = NULL;
	size_t na, nb, nops = 0, outlen = 0;
	bool header = false;
	FILE *f;
	int r;

	r = to_dlines(old, old_len, &a, &na);
	if (r < 0)
		return r;
	r = to_dlines(new, new_len, &b, &nb);
	if (r < 0)
		return r;
	/* the files are small; a huge one is shown as replaced as a whole */
	if ((na + 1) * (nb + 1) <= 4u * 1024 * 1024) {
		dp = calloc((na + 1) * (nb + 1), sizeof(*dp));
		if (!dp)
			return -ENOMEM;
		for (size_t i = na; i-- > 0;)
			for (size_t j = nb; j-- > 0;) {
				uint32_t *c = &dp[i * (nb + 1) + j];

				if (dline_eq(&a[i], &b[j]))
					*c = dp[(i + 1) * (nb + 1) + j + 1] + 1;
				else {
					uint32_t x = dp[(i + 1) * (nb + 1) + j],
						 y = dp[i * (nb + 1) + j + 1];
					*c = x > y ? x : y;
				}
			}
	}
	ops = malloc(na + nb + 1);
	if (!ops)
		return -ENOMEM;
	for (size_t i = 0, j = 0; i < na || j < nb;) {
		if (dp && i < na && j < nb && dline_eq(&a[i], &b[j])) {
			ops[nops++] = ' ';
			i++, j++;
		} else if (i < na && (j >= nb || !dp ||
				      dp[(i + 1) * (nb + 1) + j] >= dp[i * (nb + 1) + j + 1])) {
			ops[nops++] = '-';
			i++;
		} else {
			ops[nops++] = '+';
			j++;
		}
	}

	f = open_memstream(&out, &outlen);
	if (!f)
		return -ENOMEM;
	for (size_t k = 0, ai = 0, bi = 0; k < nops;) {
		size_t start, end, last, oa, ob, ca = 0, cb = 0;

		if (ops[k] == ' ') {
			k++, ai++, bi++;
			continue;
		}
		if (!header) {
			fprintf(f, "--- %s\n+++ %s\n", old ? name : "/dev/null",
				new ? name : "/dev/null");
			header = true;
		}
		/* hunk: back up CONTEXT lines, then run until CONTEXT*2 unchanged lines in a row */
		start = k > CONTEXT ? k - CONTEXT : 0;
		last = k;
		for (end = k; end < nops; end++) {
			if (ops[end] != ' ')
				last = end;
			else if (end - last > 2 * CONTEXT)
				break;
		}
		end = last + CONTEXT + 1 < nops ? last + CONTEXT + 1 : nops;
		oa = ai - (k - start);
		ob = bi - (k - start);
		for (size_t m = start; m < end; m++) {
			ca += ops[m] != '+';
			cb += ops[m] != '-';
		}
		fputs("@@ ", f);
		put_range(f, '-', oa, ca);
		fputc(' ', f);
		put_range(f, '+', ob, cb);
		fputs(" @@\n", f);
		ai = oa;
		bi = ob;
		for (size_t m = start; m < end; m++) {
			if (ops[m] == '+')
				put_dline(f, '+', &b[bi++]);
			else if (ops[m] == '-')
				put_dline(f, '-', &a[ai++]);
			else {
				put_dline(f, ' ', &a[ai++]);
				bi++;
			}
		}
		k = end;
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(out);
	return 0;
}

/* ---- loading ---- */

int hostcfg_add_file(struct hostcfg *cfg, enum hostcfg_file_kind kind, const char *path,
		     const char *name, const char *content, size_t len, mode_t mode)
{
	struct hostcfg_file *x, *f;

	x = realloc(cfg->files, (cfg->n_files + 1) * sizeof(*x));
	if (!x)
		return -ENOMEM;
	cfg->files = x;
	f = &cfg->files[cfg->n_files];
	*f = (struct hostcfg_file){ .kind = kind, .mode = mode ? mode : 0644 };
	f->path = strdup(path);
	f->name = strdup(name);
	if (content) {
		f->old = malloc(len + 1);
		if (f->old) {
			memcpy(f->old, content, len);
			f->old[len] = 0;
		}
		f->old_len = len;
	}
	if (!f->path || !f->name || (content && !f->old)) {
		free(f->path);
		free(f->name);
		free(f->old);
		return -ENOMEM;
	}
	cfg->n_files++;
	return 0;
}

struct hostcfg *hostcfg_free(struct hostcfg *cfg)
{
	if (!cfg)
		return NULL;
	free(cfg->boot_evidence);
	strv_free(cfg->refresh_argv);
	strv_free(cfg->initramfs_argv);
	free(cfg->initramfs_evidence);
	for (size_t i = 0; i < cfg->n_files; i++) {
		free(cfg->files[i].path);
		free(cfg->files[i].name);
		free(cfg->files[i].old);
		free(cfg->files[i].new);
	}
	free(cfg->files);
	for (size_t i = 0; i < cfg->n_func_modules; i++)
		strv_free(cfg->func_modules[i]);
	free(cfg->func_modules);
	free(cfg);
	return NULL;
}

/* The host's name for a path under the root: "ROOT/etc/x" -> "/etc/x". */
static const char *host_name(const struct ctx *c, const char *path)
{
	size_t n = strlen(c->root);

	return strncmp(path, c->root, n) == 0 && path[n] == '/' ? path + n : path;
}

/* Read @path into @cfg as @kind. Absent (also when a parent is not a directory) = new file. */
static int load_file(struct ctx *c, struct hostcfg *cfg, enum hostcfg_file_kind kind,
		     const char *path, struct error *err)
{
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	if (stat(path, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return fail_file(err, negative_errno(), host_name(c, path));
		return hostcfg_add_file(cfg, kind, path, host_name(c, path), NULL, 0, 0644);
	}
	if (S_ISDIR(st.st_mode))
		return fail_file(err, -EISDIR, host_name(c, path));
	r = read_full_file(path, HOSTCFG_FILE_MAX, &buf, &len);
	if (r < 0)
		return fail_file(err, r, host_name(c, path));
	return hostcfg_add_file(cfg, kind, path, host_name(c, path), buf, len, st.st_mode & 07777);
}

static int sorted_dir(const char *dir, const char *suffix, char ***ret)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	struct dirent **list = NULL;
	int n, r = 0;

	if (!l)
		return -ENOMEM;
	n = scandir(dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *e = list[i]->d_name;
		size_t el = strlen(e), sl = strlen(suffix);

		if (r >= 0 && e[0] != '.' && el > sl && streq(e + el - sl, suffix))
			r = strv_consume(&l, path_join(dir, e));
		free(list[i]);
	}
	free(list);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(l);
	return 0;
}

static int os_ids(struct ctx *c, char ***ret)
{
	_cleanup_free_ char *p = path_join(c->etc, "os-release"), *buf = NULL;
	_cleanup_strv_free_ char **lines = NULL, **ids = strv_new_empty();
	int r;

	if (!p || !ids)
		return -ENOMEM;
	if (read_full_file(p, 64 * 1024, &buf, NULL) >= 0 &&
	    split_lines(buf, strlen(buf), &lines, NULL) >= 0)
		for (size_t i = 0; lines[i]; i++) {
			const char *v;
			_cleanup_strv_free_ char **w = NULL;

			if (startswith(lines[i], "ID="))
				v = lines[i] + 3;
			else if (startswith(lines[i], "ID_LIKE="))
				v = lines[i] + 8;
			else
				continue;
			r = strv_split(v, " \"'", &w);
			if (r < 0)
				return r;
			for (char **k = w; *k; k++)
				if ((r = strv_extend(&ids, *k)) < 0)
					return r;
		}
	*ret = TAKE_PTR(ids);
	return 0;
}

static bool exists_under(const char *root, const char *rel)
{
	_cleanup_free_ char *p = path_join(root, rel);

	return p && hostfs_exists(p);
}

static int set_argv(char ***dst, const char *a, const char *b, const char *c2, const char *d)
{
	const char *v[] = { a, b, c2, d };

	*dst = strv_new_empty();
	if (!*dst)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(v) && v[i]; i++)
		if (strv_extend(dst, v[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int detect_initramfs(struct ctx *c, struct hostcfg *cfg, char *const *ids)
{
	static const struct {
		const char *rel;
		const char *argv[4];
	} by_file[] = {
		{ "initramfs-tools", { "update-initramfs", "-u", "-k", "all" } },
		{ "mkinitcpio.conf", { "mkinitcpio", "-P" } },
		{ "dracut.conf.d", { "dracut", "-f", "--regenerate-all" } },
		{ "dracut.conf", { "dracut", "-f", "--regenerate-all" } },
	};
	static const struct {
		const char *id;
		size_t tool;
	} by_os[] = {
		{ "debian", 0 }, { "ubuntu", 0 }, { "arch", 1 },
		{ "fedora", 2 }, { "rhel", 2 },	  { "centos", 2 },
	};
	ssize_t tool = -1;

	for (size_t i = 0; i < ELEMENTSOF(by_file) && tool < 0; i++)
		if (exists_under(c->etc, by_file[i].rel)) {
			tool = (ssize_t)i;
			if (asprintf(&cfg->initramfs_evidence, "%s/%s exists", host_name(c, c->etc),
				     by_file[i].rel) < 0)
				return -ENOMEM;
		}
	for (size_t i = 0; i < ELEMENTSOF(by_os) && tool < 0; i++)
		if (strv_contains(ids, by_os[i].id)) {
			tool = (ssize_t)by_os[i].tool;
			if (asprintf(&cfg->initramfs_evidence, "os-release says %s", by_os[i].id) <
			    0)
				return -ENOMEM;
		}
	if (tool < 0)
		return 0;
	return set_argv(&cfg->initramfs_argv, by_file[tool].argv[0], by_file[tool].argv[1],
			by_file[tool].argv[2], by_file[tool].argv[3]);
}

static bool grub_bls_enabled(const struct hostcfg_file *f)
{
	_cleanup_strv_free_ char **lines = NULL;
	bool on = false;

	if (!f->old || split_lines(f->old, f->old_len, &lines, NULL) < 0)
		return false;
	for (size_t i = 0; lines[i]; i++) {
		const char *p = lines[i] + strspn(lines[i], " \t");

		if (startswith(p, "GRUB_ENABLE_BLSCFG="))
			on = startswith(p + 19, "true") || startswith(p + 19, "\"true\"");
	}
	return on;
}

static int detect_boot(struct ctx *c, struct hostcfg *cfg, struct error *err)
{
	_cleanup_free_ char *kcmd = path_join(c->etc, "kernel/cmdline");
	_cleanup_free_ char *uuids = path_join(c->etc, "kernel/proxmox-boot-uuids");
	_cleanup_free_ char *pve = path_join(c->etc, "pve");
	_cleanup_free_ char *grub = path_join(c->etc, "default/grub");
	_cleanup_free_ char *grubd = path_join(c->etc, "default/grub.d");
	_cleanup_free_ char *ent1 = path_join(c->boot, "loader/entries");
	_cleanup_free_ char *ent2 = path_join(c->boot, "efi/loader/entries");
	_cleanup_strv_free_ char **entries = NULL, **more = NULL, **ids = NULL;
	bool has_kcmd, has_uuids, has_pve, has_grub, grub_dir;
	int r;

	if (!kcmd || !uuids || !pve || !grub || !grubd || !ent1 || !ent2)
		return -ENOMEM;
	r = sorted_dir(ent1, ".conf", &entries);
	if (r < 0)
		return r;
	r = sorted_dir(ent2, ".conf", &more);
	if (r < 0)
		return r;
	for (char **i = more; *i; i++)
		if ((r = strv_extend(&entries, *i)) < 0)
			return r;
	r = os_ids(c, &ids);
	if (r < 0)
		return r;
	has_kcmd = hostfs_exists(kcmd);
	has_uuids = hostfs_exists(uuids);
	has_pve = hostfs_is_dir(pve);
	has_grub = hostfs_exists(grub);
	grub_dir = exists_under(c->boot, "grub") || exists_under(c->boot, "grub2");

	if (has_uuids && has_kcmd) {
		_cleanup_free_ char *buf = NULL;
		bool zfs = read_full_file(kcmd, HOSTCFG_FILE_MAX, &buf, NULL) >= 0 &&
			   strstr(buf, "root=ZFS=");

		cfg->boot = HOSTCFG_BOOT_PROXMOX_SDBOOT;
		if (asprintf(&cfg->boot_evidence, "%s and %s exist%s", host_name(c, kcmd),
			     host_name(c, uuids), zfs ? "; root on ZFS (root=ZFS=)" : "") < 0)
			return -ENOMEM;
		r = set_argv(&cfg->refresh_argv, "proxmox-boot-tool", "refresh", NULL, NULL);
	} else if ((has_uuids || has_pve) && has_grub) {
		cfg->boot = HOSTCFG_BOOT_PROXMOX_GRUB;
		if (asprintf(&cfg->boot_evidence, "%s exists and %s", host_name(c, grub),
			     has_uuids ? "proxmox-boot-tool manages the ESPs (proxmox-boot-uuids)"
				       : "this is a Proxmox VE host (/etc/pve)") < 0)
			return -ENOMEM;
		r = has_uuids
			? set_argv(&cfg->refresh_argv, "proxmox-boot-tool", "refresh", NULL, NULL)
			: set_argv(&cfg->refresh_argv, "update-grub", NULL, NULL, NULL);
	} else if (has_grub && (grub_dir || strv_length(entries) == 0 || !has_kcmd)) {
		cfg->boot = HOSTCFG_BOOT_GRUB;
		if (asprintf(&cfg->boot_evidence, "%s exists%s", host_name(c, grub),
			     grub_dir ? " and a GRUB directory under /boot" : "") < 0)
			return -ENOMEM;
		if (strv_contains(ids, "debian") || strv_contains(ids, "ubuntu"))
			r = set_argv(&cfg->refresh_argv, "update-grub", NULL, NULL, NULL);
		else if (exists_under(c->boot, "grub2") || strv_contains(ids, "fedora") ||
			 strv_contains(ids, "rhel")) {
			_cleanup_free_ char *out = path_join(c->boot, "grub2/grub.cfg");

			r = out ? set_argv(&cfg->refresh_argv, "grub2-mkconfig", "-o", out, NULL)
				: -ENOMEM;
		} else {
			_cleanup_free_ char *out = path_join(c->boot, "grub/grub.cfg");

			r = out ? set_argv(&cfg->refresh_argv, "grub-mkconfig", "-o", out, NULL)
				: -ENOMEM;
		}
	} else if (has_kcmd || strv_length(entries) > 0) {
		cfg->boot = HOSTCFG_BOOT_SDBOOT;
		if (asprintf(&cfg->boot_evidence, "%s%s%s%s", has_kcmd ? host_name(c, kcmd) : "",
			     has_kcmd ? " exists" : "", has_kcmd && entries[0] ? " and " : "",
			     entries[0] ? "loader entries with options lines under /boot" : "") < 0)
			return -ENOMEM;
	} else {
		cfg->boot = HOSTCFG_BOOT_UNKNOWN;
		if (asprintf(&cfg->boot_evidence,
			     "none of %s, %s or loader entries under %s/loader/entries exist",
			     host_name(c, grub), host_name(c, kcmd), host_name(c, c->boot)) < 0)
			return -ENOMEM;
	}
	if (r < 0)
		return r;

	switch (cfg->boot) {
	case HOSTCFG_BOOT_PROXMOX_SDBOOT:
		r = load_file(c, cfg, HOSTCFG_FILE_CMDLINE, kcmd, err);
		break;
	case HOSTCFG_BOOT_PROXMOX_GRUB:
	case HOSTCFG_BOOT_GRUB: {
		_cleanup_strv_free_ char **drop = NULL;

		size_t grub_idx = cfg->n_files;

		r = load_file(c, cfg, HOSTCFG_FILE_GRUB, grub, err);
		if (r < 0)
			return r;
		r = sorted_dir(grubd, ".cfg", &drop);
		for (char **i = drop; r >= 0 && *i; i++)
			r = load_file(c, cfg, HOSTCFG_FILE_GRUB_DROPIN, *i, err);
		/* Fedora: with BLS the entries carry their own options, grub.cfg does not */
		if (r >= 0 && grub_bls_enabled(&cfg->files[grub_idx]))
			for (char **i = entries; r >= 0 && *i; i++)
				r = load_file(c, cfg, HOSTCFG_FILE_LOADER_ENTRY, *i, err);
		break;
	}
	case HOSTCFG_BOOT_SDBOOT:
		if (has_kcmd)
			r = load_file(c, cfg, HOSTCFG_FILE_CMDLINE, kcmd, err);
		for (char **i = entries; r >= 0 && *i; i++)
			r = load_file(c, cfg, HOSTCFG_FILE_LOADER_ENTRY, *i, err);
		break;
	default:
		break;
	}
	if (r < 0)
		return r;
	return detect_initramfs(c, cfg, ids);
}

static int load_modprobe(struct ctx *c, struct hostcfg *cfg, struct error *err)
{
	_cleanup_free_ char *ml = path_join(c->etc, "modules-load.d/vfio.conf");
	_cleanup_free_ char *mpd = path_join(c->etc, "modprobe.d");
	_cleanup_free_ char *mp = path_join(c->etc, "modprobe.d/vfio.conf");
	_cleanup_free_ char *bl = path_join(c->etc, "modprobe.d/blacklist-gpu.conf");
	_cleanup_strv_free_ char **others = NULL;
	int r;

	if (!ml || !mpd || !mp || !bl)
		return -ENOMEM;
	r = load_file(c, cfg, HOSTCFG_FILE_MODULES_LOAD, ml, err);
	if (r >= 0)
		r = load_file(c, cfg, HOSTCFG_FILE_MODPROBE, mp, err);
	if (r >= 0)
		r = load_file(c, cfg, HOSTCFG_FILE_BLACKLIST, bl, err);
	if (r >= 0)
		r = sorted_dir(mpd, ".conf", &others);
	for (char **i = others; r >= 0 && *i; i++)
		if (!streq(*i, mp) && !streq(*i, bl))
			r = load_file(c, cfg, HOSTCFG_FILE_MODPROBE_OTHER, *i, err);
	return r;
}

/* Which modules claim @f: its bound driver's module, else (unbound or held by vfio-pci) the
 * modules whose aliases match its modalias. */
static int func_modules(struct ctx *c, bool kmod_index, const struct pci_func *f, char ***ret)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	int r = 0;

	if (!l)
		return -ENOMEM;
	if (f->driver && !modname_eq(f->driver, "vfio_pci")) {
		_cleanup_free_ char *p = path_join(c->sys, "bus/pci/drivers", f->driver, "module");
		_cleanup_free_ char *m = NULL;

		if (!p)
			return -ENOMEM;
		/* the driver name is not always the module's: xhci_hcd is xhci_pci */
		if (hostfs_readlink_base(p, &m) < 0) {
			m = strdup(f->driver);
			if (!m)
				return -ENOMEM;
			for (char *s = m; *s; s++)
				if (*s == '-')
					*s = '_';
		}
		r = strv_consume(&l, TAKE_PTR(m));
		if (r < 0)
			return r;
	} else if (kmod_index) {
		_cleanup_free_ char *p = pcidev_attr_path(c, f->address, "modalias");
		_cleanup_free_ char *alias = NULL;
		_cleanup_strv_free_ char **found = NULL;

		if (!p)
			return -ENOMEM;
		if (hostfs_read_line(p, &alias) >= 0 && kmodule_lookup(c, alias, &found) >= 0)
			for (char **n = found; *n; n++)
				if (!startswith(*n, "vfio") && !strv_contains_mod(l, *n)) {
					r = strv_extend(&l, *n);
					if (r < 0)
						return r;
				}
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* @h may be NULL: then only which vfio modules exist is looked up. */
static int load_modules(struct ctx *c, const struct host *h, struct hostcfg *cfg)
{
	_cleanup_free_ char *dep = NULL, *release = NULL;
	int r;

	release = h && h->kernel_release ? strdup(h->kernel_release) : ctx_kernel_release(c);
	if (release)
		dep = path_join(c->modules, release, "modules.dep.bin");
	cfg->kmod_index = dep && hostfs_exists(dep);
	for (int i = 0; i < _HOST_MOD_MAX; i++)
		cfg->mod_exists[i] = cfg->kmod_index ? kmodule_available(c, host_module_names[i])
						     : host_module_required(i);

	if (!h)
		return 0;
	cfg->func_modules = calloc(h->n_funcs + 1, sizeof(char **));
	if (!cfg->func_modules)
		return -ENOMEM;
	cfg->n_func_modules = h->n_funcs;
	for (size_t i = 0; i < h->n_funcs; i++) {
		r = func_modules(c, cfg->kmod_index, &h->funcs[i], &cfg->func_modules[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_internal(struct ctx *c, const struct host *h, struct hostcfg **ret,
			 struct error *err)
{
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = calloc(1, sizeof(*cfg));
	int r;

	if (!cfg)
		return -ENOMEM;
	r = detect_boot(c, cfg, err);
	if (r < 0)
		return r;
	r = load_modprobe(c, cfg, err);
	if (r < 0)
		return r;
	r = load_modules(c, h, cfg);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(cfg);
	return 0;
}

int hostcfg_load(struct ctx *c, const struct host *h, struct hostcfg **ret, struct error *err)
{
	return fail_errno(err, load_internal(c, h, ret, err));
}

/* ---- compute ---- */

static int kernel_version(const char *release, unsigned *major, unsigned *minor)
{
	if (!release || sscanf(release, "%u.%u", major, minor) != 2)
		return -EINVAL;
	return 0;
}

static ssize_t func_index(const struct host *h, const struct pci_func *f)
{
	return f >= h->funcs && f < h->funcs + h->n_funcs ? f - h->funcs : -1;
}

static int selected_functions(const struct host *h, const struct hostcfg_request *req, char ***ret)
{
	_cleanup_strv_free_ char **sel = strv_new_empty();
	int r;

	if (!sel)
		return -ENOMEM;
	for (char *const *a = req->functions; a && *a; a++)
		if (!strv_contains(sel, *a) && (r = strv_extend(&sel, *a)) < 0)
			return r;
	for (size_t g = 0; g < req->n_gpus && !req->functions; g++) {
		_cleanup_strv_free_ char **slot = NULL;

		if (pci_func_is_display(req->gpus[g])) {
			r = host_gpu_slot_functions(h, req->gpus[g], &slot);
			if (r < 0)
				return r;
		} else {
			slot = strv_new_empty();
			if (!slot || strv_extend(&slot, req->gpus[g]->address) < 0)
				return -ENOMEM;
		}
		for (char **a = slot; *a; a++)
			if (!strv_contains(sel, *a) && (r = strv_extend(&sel, *a)) < 0)
				return r;
	}
	*ret = TAKE_PTR(sel);
	return 0;
}

static int kernel_params(const struct host *h, const struct hostcfg_request *req,
			 struct diag_list *d, char ***ret)
{
	_cleanup_strv_free_ char **p = strv_new_empty();
	bool boot_vga = false;
	unsigned major, minor;
	int r;

	if (!p)
		return -ENOMEM;
	if (h->cpu_vendor && streq(h->cpu_vendor, "AuthenticAMD"))
		r = strv_extend(&p, "amd_iommu=on");
	else if (h->cpu_vendor && streq(h->cpu_vendor, "GenuineIntel"))
		r = strv_extend(&p, "intel_iommu=on");
	else
		r = diag_add(
		    d, DIAG_WARN, "hostcfg-cpu-vendor",
		    "Add amd_iommu=on or intel_iommu=on to the kernel command line by hand",
		    "CPU vendor '%s' unknown: no IOMMU enable parameter added",
		    strna(h->cpu_vendor));
	if (r < 0)
		return r;
	r = strv_extend(&p, "iommu=pt");
	if (r < 0)
		return r;
	for (size_t g = 0; g < req->n_gpus; g++)
		boot_vga |= req->gpus[g]->boot_vga == 1 || req->gpus[g]->console;
	if (!boot_vga) {
		*ret = TAKE_PTR(p);
		return 0;
	}

	/* Since 5.15 the firmware framebuffer (efifb or simpledrm) is registered by sysfb_init
	 * and keeps the GPU's BAR reserved; before, efifb alone did. */
	if (kernel_version(h->kernel_release, &major, &minor) < 0) {
		r = strv_extend(&p, "video=efifb:off");
		if (r >= 0)
			r = strv_extend(&p, "initcall_blacklist=sysfb_init");
	} else if (major > 5 || (major == 5 && minor >= 15))
		r = strv_extend(&p, "initcall_blacklist=sysfb_init");
	else
		r = strv_extend(&p, "video=efifb:off");
	if (r < 0)
		return r;
	r = diag_add(d, DIAG_WARN, "hostcfg-boot-vga",
		     "Reach the host over SSH or a serial console; or leave the GPU to the host "
		     "and let `gpurun run` bind it only while the guest runs",
		     "The GPU is the boot VGA device: the firmware framebuffer is kept off it (%s, "
		     "kernel %s), so after the reboot the host has no console on it",
		     p[strv_length(p) - 1], strna(h->kernel_release));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

static int set_new(struct hostcfg_file *f, char *content)
{
	size_t len = strlen(content);

	/* an absent file with nothing to put in it stays absent */
	if ((!f->old && len == 0) ||
	    (f->old && f->old_len == len && memcmp(f->old, content, len) == 0)) {
		free(content);
		return 0;
	}
	free(f->new);
	f->new = content;
	f->new_len = len;
	return 1;
}

int hostcfg_compute(struct hostcfg *cfg, const struct host *h, const struct hostcfg_request *req,
		    struct diag_list *d)
{
	_cleanup_strv_free_ char **sel = NULL, **ids = strv_new_empty(), **mods = strv_new_empty();
	_cleanup_strv_free_ char **softdeps = strv_new_empty(), **blacklist = strv_new_empty();
	_cleanup_strv_free_ char **p_all = NULL;
	int r, changed = 0;

	if (!ids || !mods || !softdeps || !blacklist)
		return -ENOMEM;
	r = selected_functions(h, req, &sel);
	if (r < 0)
		return r;

	/* ids and the modules that would claim the functions first */
	for (char **a = sel; *a; a++) {
		const struct pci_func *f = host_find_func(h, *a);
		ssize_t idx = f ? func_index(h, f) : -1;
		char id[10];

		if (!f)
			continue;
		snprintf(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
		if (!strv_contains(ids, id) && (r = strv_extend(&ids, id)) < 0)
			return r;
		if (idx < 0 || (size_t)idx >= cfg->n_func_modules || !cfg->func_modules[idx])
			continue;
		if (!cfg->func_modules[idx][0]) {
			r = diag_add(d, DIAG_INFO, "hostcfg-no-driver", NULL,
				     "%s: no host driver claims it (%s): no softdep for it",
				     f->address,
				     f->driver ? "bound to vfio-pci, no module alias matches"
					       : "unbound, no module alias matches");
			if (r < 0)
				return r;
		}
		for (char **m = cfg->func_modules[idx]; *m; m++)
			if (!strv_contains_mod(softdeps, *m) &&
			    (r = strv_extend(&softdeps, *m)) < 0)
				return r;
	}
	/* vfio-pci ids= takes every device with those ids, not only ours */
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct pci_func *f = &h->funcs[i];
		char id[10];

		snprintf(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
		if (strv_contains(ids, id) && !strv_contains(sel, f->address)) {
			r = diag_add(d, DIAG_WARN, "hostcfg-ids-shared",
				     "Bind that device per address at run time instead (gpurun "
				     "run) and leave ids= out",
				     "vfio-pci ids=%s also claims %s, which is not part of the "
				     "passthrough GPU",
				     id, f->address);
			if (r < 0)
				return r;
		}
	}
	for (char **m = softdeps; *m; m++) {
		const char *user = NULL;

		for (size_t i = 0; i < h->n_funcs && !user; i++) {
			const struct pci_func *f = &h->funcs[i];
			bool uses = f->driver && modname_eq(f->driver, *m);

			if (i < cfg->n_func_modules && cfg->func_modules[i] && f->driver)
				uses |= strv_contains_mod(cfg->func_modules[i], *m);
			if (uses && !strv_contains(sel, f->address))
				user = f->address;
		}
		if (!req->blacklist)
			continue;
		if (user) {
			r = diag_add(d, DIAG_WARN, "hostcfg-blacklist-shared",
				     "The softdep in modprobe.d/vfio.conf already makes vfio-pci "
				     "claim the GPU first",
				     "Not blacklisting %s: it also drives %s on this host "
				     "(blacklisting it would take that device's driver away)",
				     *m, user);
			if (r < 0)
				return r;
			continue;
		}
		r = strv_extend(&blacklist, *m);
		if (r < 0)
			return r;
	}

	/* modules that exist on this kernel */
	for (int i = 0; i < _HOST_MOD_MAX; i++) {
		/* a missing one is the vfio-modules finding (core/checks.c), which the command
		 * reports; it is just not listed here */
		if (!cfg->mod_exists[i])
			continue;
		r = strv_extend(&mods, host_module_names[i]);
		if (r < 0)
			return r;
	}
	if (!cfg->kmod_index) {
		r = diag_add(d, DIAG_INFO, "hostcfg-kmod-index", NULL,
			     "No module index for kernel %s: listing the standard vfio modules "
			     "(vfio, vfio_iommu_type1, vfio_pci)",
			     strna(h->kernel_release));
		if (r < 0)
			return r;
	}

	r = kernel_params(h, req, d, &p_all);
	if (r < 0)
		return r;

	for (size_t i = 0; i < cfg->n_files; i++) {
		struct hostcfg_file *f = &cfg->files[i];
		_cleanup_strv_free_ char **present = NULL, **add = NULL;
		_cleanup_free_ char *content = NULL;
		_cleanup_(error_clear) struct error e = {};

		switch (f->kind) {
		case HOSTCFG_FILE_CMDLINE:
		case HOSTCFG_FILE_GRUB:
		case HOSTCFG_FILE_LOADER_ENTRY:
			r = hostcfg_file_cmdline(f->kind, f->old, f->old_len, &present, &e);
			if (r >= 0)
				r = hostcfg_cmdline_missing(present, p_all, f->name, d, &add);
			if (r >= 0 && f->kind == HOSTCFG_FILE_CMDLINE)
				r = hostcfg_cmdline_edit(f->old, f->old_len, add, &content, &e);
			else if (r >= 0 && f->kind == HOSTCFG_FILE_GRUB)
				r = hostcfg_grub_edit(f->old, f->old_len, add, &content, &e);
			else if (r >= 0)
				r = hostcfg_entry_edit(f->old, f->old_len, add, &content, &e);
			break;
		case HOSTCFG_FILE_MODULES_LOAD:
			r = hostcfg_modules_edit(f->old, f->old_len, mods, &content, &e);
			break;
		case HOSTCFG_FILE_MODPROBE:
			r = hostcfg_modprobe_edit(f->old, f->old_len, ids, softdeps, f->name, d,
						  &content, &e);
			break;
		case HOSTCFG_FILE_BLACKLIST:
			r = req->blacklist ? hostcfg_blacklist_edit(f->old, f->old_len, blacklist,
								    &content, &e)
					   : 0;
			break;
		case HOSTCFG_FILE_MODPROBE_OTHER: {
			_cleanup_strv_free_ char **other = NULL;

			r = hostcfg_modprobe_ids(f->old, f->old_len, &other, &e);
			if (r >= 0 && strv_length(other) > 0)
				r = diag_add(
				    d, DIAG_WARN, "hostcfg-ids-elsewhere",
				    "Keep one `options vfio-pci ids=` line: merge it into "
				    "/etc/modprobe.d/vfio.conf and remove the other",
				    "%s also sets vfio-pci ids=: the two files override each other",
				    f->name);
			break;
		}
		case HOSTCFG_FILE_GRUB_DROPIN:
			if (f->old && strstr(f->old, "GRUB_CMDLINE_LINUX_DEFAULT"))
				r = diag_add(
				    d, DIAG_WARN, "hostcfg-grub-dropin",
				    "Move the parameters into /etc/default/grub or add them to the "
				    "drop-in",
				    "%s sets GRUB_CMDLINE_LINUX_DEFAULT after /etc/default/grub: "
				    "it may override the parameters gpurun adds",
				    f->name);
			break;
		default:
			r = 0;
		}
		if (r == -EINVAL) {
			_cleanup_free_ char *where = NULL;
			int q;

			/* "NAME:LINE: cannot edit this file safely: REASON" */
			error_set_file(&e, f->name, false);
			error_prefix(&e, "cannot edit this file safely");
			where = error_format(&e);
			if (!where)
				return -ENOMEM;
			q = diag_add(
			    d, DIAG_FAIL, "hostcfg-unparsable",
			    "Edit the file by hand, or simplify that line, then run gpurun "
			    "host-config again",
			    "%s", where);
			return q < 0 ? q : -EINVAL;
		}
		if (r < 0)
			return r;
		if (content) {
			r = set_new(f, TAKE_PTR(content));
			changed += r;
		}
	}
	if (cfg->boot == HOSTCFG_BOOT_UNKNOWN) {
		_cleanup_free_ char *j = strv_join(p_all, " ");

		r = diag_add(d, DIAG_WARN, "hostcfg-bootloader",
			     "Add the parameters to your bootloader's kernel command line by hand",
			     "Bootloader not recognised (%s): kernel parameters not written: %s",
			     strna(cfg->boot_evidence), strna(j));
		if (r < 0)
			return r;
	}
	return changed;
}

/* ---- apply / revert ---- */

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(p);
	return 0;
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int mkdir_parent(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	char *slash;

	if (!p)
		return -ENOMEM;
	slash = strrchr(p, '/');
	if (!slash || slash == p)
		return 0;
	*slash = 0;
	return hostfs_mkdir_p(p, mode);
}

static int backup_base(struct ctx *c, char **ret)
{
	*ret = path_join(c->etc, "gpurun/backup");
	return *ret ? 0 : -ENOMEM;
}

static int restore_one(const char *path, const char *content, size_t len, mode_t mode)
{
	int r;

	if (!content) {
		if (unlink(path) < 0 && errno != ENOENT)
			return negative_errno();
		return 0;
	}
	r = mkdir_parent(path, 0755);
	if (r < 0)
		return r;
	return hostfs_write_atomic(path, content, len, mode);
}

/* Directories the writes will create, outermost first, so that revert can remove them. */
static int missing_dirs(const struct hostcfg *cfg, char ***ret)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	int r;

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_files; i++) {
		_cleanup_strv_free_ char **chain = strv_new_empty();
		_cleanup_free_ char *p = NULL;
		char *slash;

		if (!cfg->files[i].new)
			continue;
		p = strdup(cfg->files[i].path);
		if (!p || !chain)
			return -ENOMEM;
		while ((slash = strrchr(p, '/')) && slash != p) {
			*slash = 0;
			if (hostfs_exists(p))
				break;
			r = strv_extend(&chain, p);
			if (r < 0)
				return r;
		}
		for (size_t k = strv_length(chain); k-- > 0;)
			if (!strv_contains(l, chain[k]) && (r = strv_extend(&l, chain[k])) < 0)
				return r;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

static int apply(struct ctx *c, struct hostcfg *cfg, char **ret_backup, struct error *err)
{
	_cleanup_free_ char *base = NULL, *dir = NULL, *manifest = NULL, *mpath = NULL;
	_cleanup_strv_free_ char **created = NULL;
	size_t mlen = 0;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *m;
	int r;

	r = backup_base(c, &base);
	if (r < 0)
		return r;
	if (!gmtime_r(&now, &tm) || !strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm))
		return -EINVAL;
	for (int n = 1; n < 100; n++) {
		free(dir);
		if (n == 1)
			dir = path_join(base, ts);
		else if (asprintf(&dir, "%s/%s-%d", base, ts, n) < 0)
			dir = NULL;
		if (!dir)
			return -ENOMEM;
		if (!hostfs_exists(dir))
			break;
	}
	r = hostfs_mkdir_p(dir, 0700);
	if (r < 0)
		return r;

	r = missing_dirs(cfg, &created);
	if (r < 0) {
		rm_rf(dir);
		return r;
	}
	m = open_memstream(&manifest, &mlen);
	if (!m) {
		rm_rf(dir);
		return -ENOMEM;
	}
	for (char **i = created; *i; i++)
		fprintf(m, "mkdir %s\n", host_name(c, *i));
	for (size_t i = 0; i < cfg->n_files; i++) {
		struct hostcfg_file *f = &cfg->files[i];
		_cleanup_free_ char *b = NULL;

		if (!f->new)
			continue;
		if (!f->old) {
			fprintf(m, "absent %s\n", f->name);
			continue;
		}
		fprintf(m, "saved %04o %s\n", (unsigned)f->mode, f->name);
		b = path_join(dir, f->name);
		r = b ? mkdir_parent(b, 0700) : -ENOMEM;
		if (r >= 0)
			r = hostfs_write_atomic(b, f->old, f->old_len, f->mode);
		if (r < 0) {
			fclose(m);
			rm_rf(dir);
			return r;
		}
	}
	if (fclose(m) != 0) {
		rm_rf(dir);
		return -ENOMEM;
	}
	mpath = path_join(dir, "manifest");
	r = mpath ? hostfs_write_atomic(mpath, manifest, mlen, 0600) : -ENOMEM;
	if (r < 0) {
		rm_rf(dir);
		return r;
	}

	for (size_t i = 0; i < cfg->n_files; i++) {
		struct hostcfg_file *f = &cfg->files[i];

		if (!f->new)
			continue;
		r = mkdir_parent(f->path, 0755);
		if (r >= 0)
			r = hostfs_write_atomic(f->path, f->new, f->new_len, f->mode);
		if (r < 0) {
			(void)fail_file(err, r, f->name);
			/* all or nothing: put back what was already written */
			for (size_t j = 0; j < i; j++)
				if (cfg->files[j].new)
					(void)restore_one(cfg->files[j].path, cfg->files[j].old,
							  cfg->files[j].old_len,
							  cfg->files[j].mode);
			for (size_t k = strv_length(created); k-- > 0;)
				(void)rmdir(created[k]);
			rm_rf(dir);
			return r;
		}
	}
	if (ret_backup)
		*ret_backup = TAKE_PTR(dir);
	return 0;
}

int hostcfg_apply(struct ctx *c, struct hostcfg *cfg, char **ret_backup, struct error *err)
{
	return fail_errno(err, apply(c, cfg, ret_backup, err));
}

/* A manifest name must be an absolute path without "." or ".." components. */
static bool name_ok(const char *n)
{
	_cleanup_strv_free_ char **parts = NULL;

	if (n[0] != '/' || strv_split(n, "/", &parts) < 0 || strv_length(parts) == 0)
		return false;
	for (char **p = parts; *p; p++)
		if (streq(*p, "..") || streq(*p, "."))
			return false;
	return true;
}

struct restore_item {
	char *name;
	bool dir;      /* a directory gpurun created */
	char *content; /* NULL: the file did not exist */
	size_t len;
	mode_t mode;
};

static void restore_items_free(struct restore_item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(it[i].name);
		free(it[i].content);
	}
	free(it);
}

static int revert(struct ctx *c, char **ret_backup, char ***ret_files, struct error *err)
{
	_cleanup_free_ char *base = NULL, *newest = NULL, *dir = NULL, *mpath = NULL, *buf = NULL;
	_cleanup_free_ char *done = NULL;
	_cleanup_strv_free_ char **lines = NULL, **files = strv_new_empty();
	struct restore_item *items = NULL;
	size_t n = 0, len = 0;
	struct dirent **list = NULL;
	const char *mname;
	int nd, r, first_err = 0;

	if (!files)
		return -ENOMEM;
	r = backup_base(c, &base);
	if (r < 0)
		return r;
	nd = scandir(base, &list, NULL, alphasort);
	if (nd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return error_set_line(err, ENOENT, host_name(c, base), 0, "no backup to revert");
	if (nd < 0)
		return fail_file(err, negative_errno(), host_name(c, base));
	for (int i = 0; i < nd; i++) {
		if (isdigit((unsigned char)list[i]->d_name[0])) {
			free(newest);
			newest = strdup(list[i]->d_name);
		}
		free(list[i]);
	}
	free(list);
	if (!newest)
		return error_set_line(err, ENOENT, host_name(c, base), 0, "no backup to revert");
	dir = path_join(base, newest);
	mpath = dir ? path_join(dir, "manifest") : NULL;
	if (!mpath)
		return -ENOMEM;
	mname = host_name(c, mpath);
	r = read_full_file(mpath, HOSTCFG_FILE_MAX, &buf, &len);
	/* a backup directory without its manifest is damaged, not absent (-ENOENT) */
	if (r == -ENOENT)
		return error_set_line(err, EBADMSG, mname, 0, "missing");
	if (r < 0)
		return fail_file(err, r, mname);
	/* the whole length: a NUL byte must not hide the lines after it */
	r = split_lines(buf, len, &lines, err);
	if (r == -EINVAL)
		return error_set_line(err, EBADMSG, mname, err ? err->line : 0,
				      "binary data (a NUL byte) in the manifest");
	if (r < 0)
		return r;

	items = calloc(strv_length(lines) + 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; lines[i]; i++) {
		struct restore_item *it = &items[n];
		const char *l = lines[i], *name = NULL;
		unsigned long mode = 0;
		char *end = NULL;

		if (startswith(l, "saved ")) {
			errno = 0;
			mode = strtoul(l + 6, &end, 8);
			if (!errno && end && *end == ' ' && end > l + 6 && mode <= 07777)
				name = end + 1;
		} else if (startswith(l, "absent "))
			name = l + 7;
		else if (startswith(l, "mkdir ")) {
			name = l + 6;
			it->dir = true;
		} else if (!*l)
			continue;
		if (!name || !name_ok(name)) {
			r = error_set_line(
			    err, EBADMSG, mname, (unsigned)i + 1,
			    "expected 'saved MODE NAME', 'absent NAME' or 'mkdir NAME' "
			    "with NAME an absolute path without . or ..");
			goto out;
		}
		if (startswith(l, "saved ")) {
			_cleanup_free_ char *b = path_join(dir, name);

			r = b ? read_full_file(b, HOSTCFG_FILE_MAX, &it->content, &it->len)
			      : -ENOMEM;
			/* not "no backup" (-ENOENT): this one is incomplete */
			if (r == -ENOENT)
				r = error_set_line(err, EBADMSG, mname, (unsigned)i + 1,
						   "the saved copy %s is missing", host_name(c, b));
			else if (r < 0 && b)
				(void)fail_file(err, r, host_name(c, b));
			if (r < 0)
				goto out;
		}
		it->mode = (mode_t)mode;
		it->name = strdup(name);
		n++;
		if (!it->name) {
			r = -ENOMEM;
			goto out;
		}
	}

	/* keep going past a failing file: restore as much as possible */
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, "%s%s", c->root, items[i].name) < 0) {
			r = -ENOMEM;
			goto out;
		}
		if (items[i].dir)
			continue;
		r = restore_one(p, items[i].content, items[i].len, items[i].mode);
		if (r < 0 && !first_err)
			first_err = fail_file(err, r, items[i].name);
		if (r >= 0 &&
		    (r = strv_extendf(
			 &files, "%s%s", items[i].name,
			 items[i].content ? "" : " (removed: it did not exist before)")) < 0)
			goto out;
	}
	/* directories created by the apply, innermost first; still-used ones stay */
	for (size_t i = n; i-- > 0;) {
		_cleanup_free_ char *p = NULL;

		if (!items[i].dir)
			continue;
		if (asprintf(&p, "%s%s", c->root, items[i].name) < 0) {
			r = -ENOMEM;
			goto out;
		}
		(void)rmdir(p);
	}
	r = first_err;
	if (r < 0)
		goto out;
	if (asprintf(&done, "%s/reverted-%s", base, newest) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (rename(dir, done) < 0) {
		r = fail_file(err, negative_errno(), host_name(c, dir));
		goto out;
	}
	if (ret_backup)
		*ret_backup = TAKE_PTR(dir);
	if (ret_files)
		*ret_files = TAKE_PTR(files);
	r = 0;
out:
	restore_items_free(items, n + 1);
	return r;
}

int hostcfg_revert(struct ctx *c, char **ret_backup, char ***ret_files, struct error *err)
{
	return fail_errno(err, revert(c, ret_backup, ret_files, err));
}

int hostcfg_run(char *const *argv)
{
	struct spawn_status st;
	int r;

	r = spawn_run(argv, NULL, &st, NULL);
	if (r < 0)
		return r;
	return st.signaled ? 128 + st.code : st.code;
}

/* ---- pending ---- */

struct hostcfg_state *hostcfg_state_free(struct hostcfg_state *st)
{
	if (!st)
		return NULL;
	free(st->source);
	strv_free(st->cmdline);
	strv_free(st->vfio_ids);
	free(st->ids_source);
	free(st);
	return NULL;
}

int hostcfg_read_state(struct ctx *c, struct hostcfg_state **ret)
{
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_(hostcfg_state_freep) struct hostcfg_state *st = calloc(1, sizeof(*st));
	const struct hostcfg_file *src = NULL;
	int r;

	if (!st)
		return -ENOMEM;
	r = load_internal(c, NULL, &cfg, NULL);
	if (r < 0)
		return r;
	/* the file the next boot takes its command line from */
	for (int pass = 0; pass < 3 && !src; pass++)
		for (size_t i = 0; i < cfg->n_files && !src; i++) {
			const struct hostcfg_file *f = &cfg->files[i];

			if (!f->old)
				continue;
			if ((pass == 0 && f->kind == HOSTCFG_FILE_GRUB) ||
			    (pass == 0 && f->kind == HOSTCFG_FILE_CMDLINE &&
			     cfg->boot == HOSTCFG_BOOT_PROXMOX_SDBOOT) ||
			    (pass == 1 && f->kind == HOSTCFG_FILE_LOADER_ENTRY) ||
			    (pass == 2 && f->kind == HOSTCFG_FILE_CMDLINE))
				src = f;
		}
	if (src) {
		r = hostcfg_file_cmdline(src->kind, src->old, src->old_len, &st->cmdline, NULL);
		if (r < 0 && r != -EINVAL)
			return r;
		st->source = strdup(src->name);
		if (!st->source)
			return -ENOMEM;
	}
	st->vfio_ids = strv_new_empty();
	if (!st->vfio_ids)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_files; i++) {
		const struct hostcfg_file *f = &cfg->files[i];
		_cleanup_strv_free_ char **ids = NULL;

		if ((f->kind != HOSTCFG_FILE_MODPROBE && f->kind != HOSTCFG_FILE_MODPROBE_OTHER) ||
		    !f->old)
			continue;
		r = hostcfg_modprobe_ids(f->old, f->old_len, &ids, NULL);
		if (r == -EINVAL)
			continue;
		if (r < 0)
			return r;
		if (ids[0] && !st->ids_source && !(st->ids_source = strdup(f->name)))
			return -ENOMEM;
		for (char **k = ids; *k; k++)
			if (!strv_contains_case(st->vfio_ids, *k) &&
			    (r = strv_extend(&st->vfio_ids, *k)) < 0)
				return r;
	}
	*ret = TAKE_PTR(st);
	return 0;
}

static bool is_iommu_param(const char *t)
{
	return startswith(t, "iommu=") || startswith(t, "amd_iommu=") ||
	       startswith(t, "intel_iommu=");
}

int hostcfg_pending(const struct host *h, const struct hostcfg_state *st, struct diag_list *out)
{
	_cleanup_strv_free_ char **running = NULL, **missing = strv_new_empty();
	bool relevant = strv_length(st->vfio_ids) > 0;
	int pending = 0, r;

	if (!missing)
		return -ENOMEM;
	r = hostcfg_cmdline_split(strempty(h->cmdline), strlen(strempty(h->cmdline)), &running);
	if (r < 0)
		return r;
	for (char **t = st->cmdline; t && *t; t++) {
		relevant |= is_iommu_param(*t);
		/* shell variables of /etc/default/grub ($vt_handoff) are not known here */
		if (strchr(*t, '$') || strv_contains(running, *t))
			continue;
		if ((r = strv_extend(&missing, *t)) < 0)
			return r;
	}
	if (missing[0]) {
		_cleanup_free_ char *j = strv_join(missing, " ");

		r = diag_add(out, DIAG_WARN, "hostcfg-pending",
			     "Reboot to activate it (after refreshing the boot configuration if "
			     "the file was edited by hand: gpurun host-config --apply does both)",
			     "Configured but not active yet: %s sets '%s', the running kernel was "
			     "booted without it",
			     strna(st->source), strna(j));
		if (r < 0)
			return r;
		pending++;
	}
	for (char **id = st->vfio_ids; id && *id; id++) {
		uint16_t v, dv;

		if (pci_id_parse(*id, &v, &dv) < 0)
			continue;
		for (size_t i = 0; i < h->n_funcs; i++) {
			const struct pci_func *f = &h->funcs[i];

			if (f->vendor != v || f->device != dv || !f->driver ||
			    modname_eq(f->driver, "vfio_pci"))
				continue;
			r = diag_add(
			    out, DIAG_WARN, "hostcfg-pending",
			    "Reboot; if it stays, rebuild the initramfs (update-initramfs -u -k "
			    "all, dracut -f or mkinitcpio -P) so that vfio-pci loads first",
			    "Configured but not active yet: %s gives %s to vfio-pci, but %s is "
			    "bound to %s",
			    strna(st->ids_source), *id, f->address, f->driver);
			if (r < 0)
				return r;
			pending++;
		}
	}
	if (!pending && relevant) {
		r = diag_add(out, DIAG_PASS, "hostcfg-active", NULL,
			     "Persistent host configuration is active (%s%s%s)", strna(st->source),
			     st->ids_source ? ", " : "", st->ids_source ? st->ids_source : "");
		if (r < 0)
			return r;
	}
	return pending;
}
