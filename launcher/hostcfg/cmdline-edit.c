/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "hostcfg/cmdline-edit.h"
#include "util/lines.h"
#include "util/strv.h"

/* ---- kernel command line ---- */

int cmdline_split(const char *s, size_t len, char ***ret)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	size_t i = 0;
	int r;

	if (!l)
		return -ENOMEM;
	while (i < len) {
		size_t start;
		bool quoted = false;

		while (i < len && lines_is_blank(s[i]))
			i++;
		if (i >= len || s[i] == 0)
			break;
		start = i;
		while (i < len && s[i] && (quoted || !lines_is_blank(s[i]))) {
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

int cmdline_missing(char *const *present, char *const *want, const char *where, struct diag_list *d,
		    char ***ret_add)
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

static int kcmd_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	_cleanup_free_ char *joined = strv_join(add, " ");
	ssize_t last = -1;
	int r;

	if (!joined)
		return -ENOMEM;
	r = lines_split(buf, len, &lines, err);
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

		lines_rstrip(lines[last]);
		if (asprintf(&s, "%s %s", lines[last], joined) < 0)
			return -ENOMEM;
		r = lines_replace(lines, (size_t)last, s);
	}
	if (r < 0)
		return r;
	return lines_join(lines, ret);
}

int cmdline_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	return error_set_errno(err, kcmd_edit(buf, len, add, ret, err));
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

			while (s[e] && !lines_is_blank(s[e]) && s[e] != ';' && s[e] != '#')
				e++;
			a = (struct grub_assign){
				.line = (ssize_t)i, .vstart = v, .vend = e, .quote = 0
			};
		}
	}
	*ret = a;
	return 0;
}

static int grub_assign_tokens(char *const *lines, char ***tokens, struct error *err)
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
		r = cmdline_split(lines[a.line] + a.vstart, a.vend - a.vstart, &t);
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
	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	r = grub_find(lines, "GRUB_CMDLINE_LINUX_DEFAULT", &a, err);
	if (r < 0)
		return r;
	if (!*joined)
		return lines_join(lines, ret);
	if (a.line < 0) {
		r = strv_extendf(&lines, "GRUB_CMDLINE_LINUX_DEFAULT=\"%s\"", joined);
		if (r < 0)
			return r;
		return lines_join(lines, ret);
	} else {
		const char *l = lines[a.line];
		bool space = a.vend > a.vstart && !lines_is_blank(l[a.vend - 1]);

		if (a.quote) {
			if (asprintf(&s, "%.*s%s%s%s", (int)a.vend, l, space ? " " : "", joined,
				     l + a.vend) < 0)
				return -ENOMEM;
		} else if (asprintf(&s, "%.*s\"%.*s%s%s\"%s", (int)a.vstart, l,
				    (int)(a.vend - a.vstart), l + a.vstart, space ? " " : "",
				    joined, l + a.vend) < 0)
			return -ENOMEM;
		r = lines_replace(lines, (size_t)a.line, s);
		if (r < 0)
			return r;
	}
	return lines_join(lines, ret);
}

int cmdline_grub_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	return error_set_errno(err, grub_edit(buf, len, add, ret, err));
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
	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	if (!*joined)
		return lines_join(lines, ret);
	for (size_t i = 0; lines[i]; i++)
		if (is_options_line(lines[i]))
			last = (ssize_t)i;
	if (last < 0) {
		r = strv_extendf(&lines, "options %s", joined);
	} else {
		lines_rstrip(lines[last]);
		if (asprintf(&s, "%s %s", lines[last], joined) < 0)
			return -ENOMEM;
		r = lines_replace(lines, (size_t)last, s);
	}
	if (r < 0)
		return r;
	return lines_join(lines, ret);
}

int cmdline_entry_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	return error_set_errno(err, entry_edit(buf, len, add, ret, err));
}

static int grub_tokens(const char *buf, size_t len, char ***ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL, **tokens = strv_new_empty();
	int r;

	if (!tokens)
		return -ENOMEM;
	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	r = grub_assign_tokens(lines, &tokens, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(tokens);
	return 0;
}

int cmdline_grub_tokens(const char *buf, size_t len, char ***ret, struct error *err)
{
	return error_set_errno(err, grub_tokens(buf, len, ret, err));
}

static int entry_tokens(const char *buf, size_t len, char ***ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL, **tokens = strv_new_empty();
	int r;

	if (!tokens)
		return -ENOMEM;
	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	for (size_t i = 0; lines[i]; i++) {
		_cleanup_strv_free_ char **t = NULL;
		const char *p;

		if (!is_options_line(lines[i]))
			continue;
		p = lines[i] + strspn(lines[i], " \t") + 7;
		r = cmdline_split(p, strlen(p), &t);
		if (r < 0)
			return r;
		for (char **k = t; *k; k++)
			if ((r = strv_extend(&tokens, *k)) < 0)
				return r;
	}
	*ret = TAKE_PTR(tokens);
	return 0;
}

int cmdline_entry_tokens(const char *buf, size_t len, char ***ret, struct error *err)
{
	return error_set_errno(err, entry_tokens(buf, len, ret, err));
}
