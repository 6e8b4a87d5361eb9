/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
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

/* A modprobe.d file as lines, a line that ends with a backslash joined with the next one as
 * modprobe joins them (the backslash-newline kept in the string, so that an unchanged line is
 * written back as it was, and read as a blank by config_words()). */
static int config_lines(const char *buf, size_t len, char ***ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	size_t o = 0;
	int r;

	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	for (size_t i = 0; lines[i]; o++) {
		char *l = TAKE_PTR(lines[i]);

		i++;
		while (lines[i] && *l && l[strlen(l) - 1] == '\\') {
			char *x;

			if (asprintf(&x, "%s\n%s", l, lines[i]) < 0) {
				free(l);
				return -ENOMEM;
			}
			free(l);
			l = x;
			lines[i] = mfree(lines[i]);
			i++;
		}
		lines[o] = l;
	}
	lines[o] = NULL;
	*ret = TAKE_PTR(lines);
	return 0;
}

/* The 1-based line of the file where line @i of config_lines() starts. */
static size_t config_line_no(char *const *lines, size_t i)
{
	size_t n = 1;

	for (size_t k = 0; k < i && lines[k]; k++) {
		n++;
		for (const char *p = lines[k]; (p = strchr(p, '\n')); p++)
			n++;
	}
	return n;
}

static bool ends_in_backslash(const char *s)
{
	return *s && s[strlen(s) - 1] == '\\';
}

/* Before a line is appended: a last line that ends with a backslash would join the new line to
 * it (modprobe reads them as one), so an empty line ends it first. */
static int end_continuation(char ***plines)
{
	size_t n = strv_length(*plines);
	const char *l = n > 0 ? (*plines)[n - 1] : NULL;

	if (l && ends_in_backslash(l))
		return strv_extend(plines, "");
	return 0;
}

/* Whitespace-separated words of a config line up to a '#' comment (modprobe.d syntax). */
static int config_words(const char *line, char ***ret, char **ret_comment)
{
	_cleanup_free_ char *copy = strdup(line);
	char *hash;

	if (!copy)
		return -ENOMEM;
	/* a line continuation is a blank */
	for (char *p = copy; (p = strstr(p, "\\\n"));)
		p[0] = p[1] = ' ';
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
		if (prefix && (r = end_continuation(&lines)) < 0)
			return r;
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
	r = config_lines(buf, len, &lines, err);
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

/* ---- vfio-pci option lines: what the kernel and modprobe make of them ---- */

/* vfio-pci's module parameters (drivers/vfio/pci/vfio_pci.c); all but ids are booleans. */
static const char *const vfio_pci_params[] = { "ids",	       "nointxmask",
					       "disable_vga",  "disable_idle_d3",
					       "enable_sriov", "disable_denylist" };
/* modprobe.d(5) directives: one of these inside an options line starts a line of its own that
 * someone forgot to break. */
static const char *const modprobe_directives[] = { "options", "softdep", "blacklist", "install",
						   "remove",  "alias",	 "weakdep" };

static bool in_list(const char *const *l, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(l[i]) == len && !strncmp(l[i], s, len))
			return true;
	return false;
}

/* VENDOR:DEVICE[:SUBVENDOR[:SUBDEVICE[:CLASS[:CLASS_MASK]]]], hex fields of 1-8 digits. */
static bool vfio_id_ok(const char *s)
{
	unsigned fields = 0;

	for (;;) {
		size_t n = strspn(s, "0123456789abcdefABCDEF");

		if (n == 0 || n > 8)
			return false;
		fields++;
		s += n;
		if (!*s)
			return fields >= 2 && fields <= 6;
		if (*s++ != ':')
			return false;
	}
}

/* The kernel's kstrtobool(): y/Y/t/T/1, n/N/f/F/0, on/off; a bare flag is true. */
static bool bool_ok(const char *v)
{
	return v[0] && (strchr("yYtT1nNfF0", v[0]) ||
			((v[0] == 'o' || v[0] == 'O') && strchr("nNfF", v[1]) && v[1]));
}

static int problem(char **p, const char *fmt, ...) _printf_(2, 3);
static int problem(char **p, const char *fmt, ...)
{
	_cleanup_free_ char *m = NULL;
	char *x;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (asprintf(&x, "%s%s%s", *p ? *p : "", *p ? "; " : "", m) < 0)
		return -ENOMEM;
	free(*p);
	*p = x;
	return 0;
}

/* The words @w of an `options vfio-pci` line, corrected: *ret_words the options line,
 * *ret_extra lines for directives that were run into it, *ret_problems what was wrong (NULL:
 * nothing, the line is well-formed). Ids wrapped in brackets or quotes are read without them;
 * other words that are no vfio-pci parameter are dropped: the kernel ignores them anyway. */
static int vfio_line_fix(char *const *w, char ***ret_words, char ***ret_extra, char **ret_problems)
{
	_cleanup_strv_free_ char **out = strv_new_empty(), **extra = strv_new_empty();
	_cleanup_free_ char *probs = NULL;
	int r;

	if (!out || !extra)
		return -ENOMEM;
	if ((r = strv_extend(&out, w[0])) < 0 || (r = strv_extend(&out, w[1])) < 0)
		return r;
	for (size_t k = 2; w[k]; k++) {
		const char *eq = strchr(w[k], '=');
		size_t nl = eq ? (size_t)(eq - w[k]) : strlen(w[k]);

		if (in_list(modprobe_directives, ELEMENTSOF(modprobe_directives), w[k],
			    strlen(w[k]))) {
			_cleanup_free_ char *rest = strv_join((char **)w + k, " ");

			if (!rest)
				return -ENOMEM;
			if (ends_in_backslash(rest)) {
				char *x;

				if (asprintf(&x, "%s ", rest) < 0)
					return -ENOMEM;
				free(rest);
				rest = x;
			}
			if ((r = problem(&probs,
					 "'%s' is a directive of its own (moved to its own "
					 "line)",
					 rest)) < 0 ||
			    (r = strv_extend(&extra, rest)) < 0)
				return r;
			break;
		}
		if (!in_list(vfio_pci_params, ELEMENTSOF(vfio_pci_params), w[k], nl)) {
			if ((r = problem(&probs, "'%s' is not a vfio-pci parameter (dropped)",
					 w[k])) < 0)
				return r;
			continue;
		}
		if (nl == 3 && !strncmp(w[k], "ids", 3)) {
			_cleanup_strv_free_ char **v = NULL, **good = strv_new_empty();
			_cleanup_free_ char *j = NULL;

			if (!good)
				return -ENOMEM;
			r = strv_split(eq ? eq + 1 : "", ",", &v);
			if (r < 0)
				return r;
			for (char **i = v; *i; i++) {
				_cleanup_free_ char *bare = NULL;
				size_t a = strspn(*i, "([{\"'"), b = strlen(*i);

				if (vfio_id_ok(*i)) {
					if (!strv_contains_case(good, *i) &&
					    (r = strv_extend(&good, *i)) < 0)
						return r;
					continue;
				}
				while (b > a && strchr(")]}\"'", (*i)[b - 1]))
					b--;
				bare = strndup(*i + a, b - a);
				if (!bare)
					return -ENOMEM;
				if (vfio_id_ok(bare)) {
					r = problem(&probs,
						    "'%s' is not VENDOR:DEVICE (read as %s)", *i,
						    bare);
					if (r >= 0 && !strv_contains_case(good, bare))
						r = strv_extend(&good, bare);
				} else
					r = problem(&probs, "'%s' is not VENDOR:DEVICE (dropped)",
						    *i);
				if (r < 0)
					return r;
			}
			if (!good[0]) {
				if ((r = problem(&probs, "'%s' names no device (dropped)", w[k])) <
				    0)
					return r;
				continue;
			}
			j = strv_join(good, ",");
			if (!j || (r = strv_extendf(&out, "ids=%s", j)) < 0)
				return -ENOMEM;
			continue;
		}
		if (eq && !bool_ok(eq + 1)) {
			if ((r = problem(&probs, "'%s' is not a boolean (dropped)", w[k])) < 0)
				return r;
			continue;
		}
		if ((r = strv_extend(&out, w[k])) < 0)
			return r;
	}
	*ret_words = TAKE_PTR(out);
	*ret_extra = TAKE_PTR(extra);
	*ret_problems = TAKE_PTR(probs);
	return 0;
}

static int vfio_repair(char ***plines, const char *name, struct diag_list *d);

/* The advice for a malformed line of a file gpurun does not write: the lines vfio_repair()
 * would put in its place, "Replace that line with 'A' and 'B'" (or "Remove that line"). */
static int fix_text(const char *line, const char *name, char **ret)
{
	_cleanup_strv_free_ char **one = strv_new_empty();
	_cleanup_free_ char *l = NULL;
	struct diag_list scratch = {};
	int r;

	if (!one || (r = strv_extend(&one, line)) < 0)
		return -ENOMEM;
	r = vfio_repair(&one, name, &scratch);
	diag_list_clear(&scratch);
	if (r < 0)
		return r;
	l = strv_join(one, "' and '");
	if (!l)
		return -ENOMEM;
	if (asprintf(ret,
		     *l ? "Replace that line with '%s' (gpurun edits only the files it writes), "
			  "then run gpurun host-config again"
			: "Remove that line%s (gpurun edits only the files it writes), then run "
			  "gpurun host-config again",
		     l) < 0)
		return -ENOMEM;
	return 0;
}

static int vfio_lint(const char *buf, size_t len, const char *name, struct diag_list *d,
		     struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	int r, bad = 0;

	r = config_lines(buf, len, &lines, err);
	if (r < 0)
		return r;
	for (size_t i = 0; lines[i]; i++) {
		_cleanup_strv_free_ char **w = NULL, **fixed = NULL, **extra = NULL;
		_cleanup_free_ char *probs = NULL, *fix = NULL;

		r = config_words(lines[i], &w, NULL);
		if (r < 0)
			return r;
		if (!is_vfio_pci_options(w))
			continue;
		r = vfio_line_fix(w, &fixed, &extra, &probs);
		if (r < 0)
			return r;
		if (!probs)
			continue;
		r = fix_text(lines[i], name, &fix);
		if (r < 0)
			return r;
		r = diag_add(d, DIAG_FAIL, "hostcfg-modprobe-malformed", fix,
			     "%s:%zu: malformed vfio-pci options line, left as it is: %s", name,
			     config_line_no(lines, i), probs);
		if (r < 0)
			return r;
		bad++;
	}
	return bad;
}

int modprobe_vfio_lint(const char *buf, size_t len, const char *name, struct diag_list *d,
		       struct error *err)
{
	return error_set_errno(err, vfio_lint(buf, len, name, d, err));
}

/* A line made of words: a last word that ends with a backslash (it was followed by a blank or a
 * comment in the line it came from) gets a blank after it, or modprobe would join the next
 * line to it (ends_in_backslash()). */
static int rebuild_line(char **lines, size_t i, char *const *w, const char *comment)
{
	_cleanup_free_ char *j = strv_join(w, " ");
	char *s;

	if (!j)
		return -ENOMEM;
	if (asprintf(&s, "%s%s%s", j, comment || ends_in_backslash(j) ? " " : "",
		     comment ? comment : "") < 0)
		return -ENOMEM;
	return lines_replace(lines, i, s);
}

/* Several `options vfio-pci ids=` lines: the kernel keeps the last ids= it is given, so the
 * union @have goes on line @at and the others lose their ids=. */
static int vfio_ids_merge(char **lines, size_t at, char *const *have, const char *name,
			  struct diag_list *d)
{
	_cleanup_free_ char *j = strv_join(have, ",");
	int r;

	if (!j)
		return -ENOMEM;
	for (size_t i = 0; lines[i]; i++) {
		_cleanup_strv_free_ char **w = NULL;
		_cleanup_free_ char *comment = NULL;
		bool done = false, dropped = false;

		r = config_words(lines[i], &w, &comment);
		if (r < 0)
			return r;
		if (!is_vfio_pci_options(w))
			continue;
		for (size_t k = 2; w[k];) {
			if (!startswith(w[k], "ids=")) {
				k++;
				continue;
			}
			if (i == at && !done) {
				char *s;

				if (asprintf(&s, "ids=%s", j) < 0)
					return -ENOMEM;
				r = lines_replace(w, k++, s);
				if (r < 0)
					return r;
				done = true;
				continue;
			}
			free(w[k]);
			memmove(w + k, w + k + 1, (strv_length(w + k + 1) + 1) * sizeof(char *));
			dropped = true;
		}
		if (i != at && !dropped)
			continue;
		if (dropped && i != at) {
			r = diag_add(d, DIAG_WARN, "hostcfg-modprobe-conflict",
				     "Check the merged line in the diff below",
				     "%s:%zu: a second vfio-pci ids= overrides the one on line %zu "
				     "(the kernel keeps the last): merged into line %zu",
				     name, config_line_no(lines, i), config_line_no(lines, at),
				     config_line_no(lines, at));
			if (r < 0)
				return r;
		}
		r = rebuild_line(lines, i, w, comment);
		if (r < 0)
			return r;
	}
	return 0;
}

static int vfio_options(char **lines, char ***plines, char *const *ids, const char *name,
			struct diag_list *d)
{
	_cleanup_strv_free_ char **have = strv_new_empty(), **missing = strv_new_empty();
	_cleanup_free_ char *dv = NULL;
	ssize_t first = -1, with_ids = -1;
	size_t n_ids_lines = 0;
	int r;

	if (!have || !missing)
		return -ENOMEM;
	for (size_t i = 0; lines[i]; i++) {
		_cleanup_strv_free_ char **w = NULL;
		bool line_ids = false;

		r = config_words(lines[i], &w, NULL);
		if (r < 0)
			return r;
		if (!is_vfio_pci_options(w))
			continue;
		if (first < 0)
			first = (ssize_t)i;
		for (size_t k = 2; w[k]; k++) {
			if (startswith(w[k], "ids=") && (k == 2 || !line_ids))
				line_ids = true;
			if (startswith(w[k], "ids=") && with_ids < 0)
				with_ids = (ssize_t)i;
			if (startswith(w[k], "disable_vga=")) {
				free(dv);
				dv = strdup(w[k] + strlen("disable_vga="));
				if (!dv)
					return -ENOMEM;
			}
		}
		n_ids_lines += line_ids;
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
	if (n_ids_lines > 1) {
		/* the kernel keeps the last ids= it is given: one line must hold them all */
		r = vfio_ids_merge(lines, (size_t)with_ids, have, name, d);
		if (r < 0)
			return r;
	}
	if (strv_length(ids) == 0 || (strv_length(missing) == 0 && dv))
		return 0;

	if (first < 0) {
		_cleanup_free_ char *j = strv_join(ids, ",");

		if (!j)
			return -ENOMEM;
		if ((r = end_continuation(plines)) < 0)
			return r;
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
	if ((r = end_continuation(plines)) < 0)
		return r;
	return strv_extendf(plines, "softdep %s pre: vfio-pci", mod);
}

/* In the file gpurun writes: each malformed `options vfio-pci` line rewritten (vfio_line_fix()),
 * directives run into it put on lines of their own below it; a WARN says what changed. A line
 * left with no parameter goes (the kernel reads nothing from it), and a moved directive is
 * looked at in turn: it can be another malformed `options vfio-pci` line. Each moved line is a
 * strict tail of the words it came from, so this ends. */
static int vfio_repair(char ***plines, const char *name, struct diag_list *d)
{
	int r;

	for (size_t i = 0; (*plines)[i];) {
		_cleanup_strv_free_ char **w = NULL, **fixed = NULL, **extra = NULL;
		_cleanup_free_ char *comment = NULL, *probs = NULL;
		bool keep;
		size_t n, ne, add;
		char **x;

		r = config_words((*plines)[i], &w, &comment);
		if (r < 0)
			return r;
		if (!is_vfio_pci_options(w)) {
			i++;
			continue;
		}
		r = vfio_line_fix(w, &fixed, &extra, &probs);
		if (r < 0)
			return r;
		if (!probs) {
			i++;
			continue;
		}
		keep = strv_length(fixed) > 2 || comment;
		r = diag_add(d, DIAG_WARN, "hostcfg-modprobe-malformed",
			     "Check the rewritten line in the diff below",
			     "%s:%zu: malformed vfio-pci options line, %s: %s", name,
			     config_line_no(*plines, i), keep ? "rewritten" : "removed", probs);
		if (r < 0)
			return r;
		if (keep && strv_length(fixed) <= 2) {
			/* only a comment is left of it */
			r = lines_replace(*plines, i, strdup(comment));
		} else if (keep)
			r = rebuild_line(*plines, i, fixed, comment);
		if (r < 0)
			return r;
		n = strv_length(*plines);
		ne = strv_length(extra);
		add = ne + keep; /* lines in place of line i */
		if (add > 1) {
			x = realloc(*plines, (n + add) * sizeof(char *));
			if (!x)
				return -ENOMEM;
			*plines = x;
		}
		x = *plines;
		if (!keep)
			free(x[i]);
		/* the tail after line i, NULL included, moves to after the new lines */
		memmove(x + i + add, x + i + 1, (n - i) * sizeof(char *));
		for (size_t k = 0; k < ne; k++)
			x[i + keep + k] = TAKE_PTR(extra[k]);
		i += keep;
	}
	return 0;
}

static int vfio_edit(const char *buf, size_t len, char *const *ids, char *const *softdeps,
		     const char *name, struct diag_list *d, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	int r;

	r = config_lines(buf, len, &lines, err);
	if (r < 0)
		return r;
	if (!buf && (strv_length(ids) > 0 || strv_length(softdeps) > 0)) {
		r = strv_extend(&lines, "# vfio-pci claims the passthrough GPU before its host "
					"drivers do (gpurun host-config)");
		if (r < 0)
			return r;
	}
	r = vfio_repair(&lines, name, d);
	if (r < 0)
		return r;
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
