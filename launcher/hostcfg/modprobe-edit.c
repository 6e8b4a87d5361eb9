/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "hostcfg/modprobe-edit.h"
#include "util/lines.h"
#include "util/strv.h"

/* Module names: the kernel treats '-' and '_' alike. */
bool modprobe_modname_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

bool modprobe_modname_in(char *const *l, const char *m)
{
	for (; l && *l; l++)
		if (modprobe_modname_eq(*l, m))
			return true;
	return false;
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

/* ---- modules-load.d, modprobe.d ---- */

static int list_edit(const char *buf, size_t len, const char *header, const char *prefix,
		     char *const *mods, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL, **have = strv_new_empty();
	int r;

	if (!have)
		return -ENOMEM;
	r = lines_split(buf, len, &lines, err);
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
		if (modprobe_modname_in(have, *m))
			continue;
		r = prefix ? strv_extendf(&lines, "%s %s", prefix, *m) : strv_extend(&lines, *m);
		if (r < 0)
			return r;
		r = strv_extend(&have, *m);
		if (r < 0)
			return r;
	}
	return lines_join(lines, ret);
}

int modprobe_modules_load_edit(const char *buf, size_t len, char *const *mods, char **ret,
			       struct error *err)
{
	return error_set_errno(
	    err, list_edit(buf, len, "# vfio modules for GPU passthrough (gpurun host-config)",
			   NULL, mods, ret, err));
}

int modprobe_blacklist_edit(const char *buf, size_t len, char *const *mods, char **ret,
			    struct error *err)
{
	return error_set_errno(
	    err, list_edit(buf, len,
			   "# host drivers kept off the passthrough GPU (gpurun host-config "
			   "--blacklist)",
			   "blacklist", mods, ret, err));
}

static bool is_vfio_pci_options(char *const *w)
{
	return strv_length(w) >= 2 && streq(w[0], "options") &&
	       modprobe_modname_eq(w[1], "vfio_pci");
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

static int vfio_ids(const char *buf, size_t len, char ***ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL, **ids = strv_new_empty();
	int r;

	if (!ids)
		return -ENOMEM;
	r = lines_split(buf, len, &lines, err);
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

int modprobe_vfio_ids(const char *buf, size_t len, char ***ret, struct error *err)
{
	return error_set_errno(err, vfio_ids(buf, len, ret, err));
}

static int rebuild_line(char **lines, size_t i, char *const *w, const char *comment)
{
	_cleanup_free_ char *j = strv_join(w, " ");
	char *s;

	if (!j)
		return -ENOMEM;
	if (asprintf(&s, "%s%s%s", j, comment ? " " : "", comment ? comment : "") < 0)
		return -ENOMEM;
	return lines_replace(lines, i, s);
}

static int vfio_options(char **lines, char ***plines, char *const *ids, const char *name,
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
			r = lines_replace(w, k, s);
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

static int vfio_softdep(char ***plines, const char *mod)
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
		if (strv_length(w) < 2 || !streq(w[0], "softdep") ||
		    !modprobe_modname_eq(w[1], mod))
			continue;
		for (k = 2; w[k]; k++) {
			if (streq(w[k], "pre:")) {
				in_pre = true;
				pre = (ssize_t)k;
			} else if (streq(w[k], "post:"))
				in_pre = false;
			else if (in_pre && modprobe_modname_eq(w[k], "vfio_pci"))
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

static int vfio_edit(const char *buf, size_t len, char *const *ids, char *const *softdeps,
		     const char *name, struct diag_list *d, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	int r;

	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	if (!buf && (strv_length(ids) > 0 || strv_length(softdeps) > 0)) {
		r = strv_extend(&lines, "# vfio-pci claims the passthrough GPU before its host "
					"drivers do (gpurun host-config)");
		if (r < 0)
			return r;
	}
	r = vfio_options(lines, &lines, ids, name, d);
	if (r < 0)
		return r;
	for (char *const *m = softdeps; m && *m; m++)
		if ((r = vfio_softdep(&lines, *m)) < 0)
			return r;
	return lines_join(lines, ret);
}

int modprobe_vfio_edit(const char *buf, size_t len, char *const *ids, char *const *softdeps,
		       const char *name, struct diag_list *d, char **ret, struct error *err)
{
	return error_set_errno(err, vfio_edit(buf, len, ids, softdeps, name, d, ret, err));
}
