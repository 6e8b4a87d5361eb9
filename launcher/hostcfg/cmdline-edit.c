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

/* The next token of a kernel command line from *@i: [*ret_start, *ret_end). The kernel's
 * rule: whitespace separates, a '"' toggles quoting (lib/cmdline.c next_arg()). 0 at the end
 * (or a NUL byte). */
static int ktok_next(const char *s, size_t len, size_t *i, size_t *ret_start, size_t *ret_end)
{
	bool quoted = false;
	size_t p = *i, start;

	while (p < len && lines_is_blank(s[p]))
		p++;
	if (p >= len || s[p] == 0) {
		*i = p;
		return 0;
	}
	start = p;
	while (p < len && s[p] && (quoted || !lines_is_blank(s[p]))) {
		if (s[p] == '"')
			quoted = !quoted;
		p++;
	}
	*i = p;
	*ret_start = start;
	*ret_end = p;
	return 1;
}

int cmdline_split(const char *s, size_t len, char ***ret)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	size_t i = 0, a, b;
	int r;

	if (!l)
		return -ENOMEM;
	while (ktok_next(s, len, &i, &a, &b)) {
		r = strv_consume(&l, strndup(s + a, b - a));
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

int cmdline_missing(char *const *present, const unsigned *lines, char *const *want,
		    const char *where, struct diag_list *d, char ***ret_add)
{
	_cleanup_strv_free_ char **add = strv_new_empty();
	int r;

	if (!add)
		return -ENOMEM;
	for (char *const *w = want; w && *w; w++) {
		const char *conflict = NULL;
		unsigned cline = 0;
		bool found = false;

		for (size_t k = 0; present && present[k] && !found; k++) {
			int m = param_match(present[k], *w);

			if (m > 0)
				found = true;
			else if (m < 0 && !conflict) {
				conflict = present[k];
				cline = lines ? lines[k] : 0;
			}
		}
		if (found || strv_contains(add, *w))
			continue;
		if (conflict) {
			char at[32] = "";

			/* where it is set, for a file whose value builds up over several lines */
			if (cline)
				snprintf(at, sizeof(at), " (line %u)", cline);
			r = diag_add(
			    d, DIAG_WARN, "hostcfg-conflict",
			    "Remove it from the file if you want gpurun's setting, then run gpurun "
			    "host-config again",
			    "%s has '%s', which conflicts with '%s': left as it is, '%s' not "
			    "added%s",
			    where, conflict, *w, *w, at);
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

/* The kernel parameters of a command line, with the 1-based line of each: the tokens before a
 * `--` (what follows it is init's). @lines of @s start at @line. */
static int kparams(const char *s, size_t len, unsigned line, char ***tokens, unsigned **lines,
		   size_t *n, bool *ret_dashdash)
{
	size_t i = 0, a, b, p = 0;
	int r;

	while (ktok_next(s, len, &i, &a, &b)) {
		unsigned *x;

		for (; p < a; p++)
			line += s[p] == '\n';
		if (b - a == 2 && s[a] == '-' && s[a + 1] == '-') {
			if (ret_dashdash)
				*ret_dashdash = true;
			return 0;
		}
		r = strv_consume(tokens, strndup(s + a, b - a));
		if (r < 0)
			return r;
		x = realloc(*lines, (*n + 1) * sizeof(unsigned));
		if (!x)
			return -ENOMEM;
		*lines = x;
		x[(*n)++] = line;
	}
	return 0;
}

/* Where @add goes in the command line @s: before the first `--` token, else at the end. */
static size_t kinsert_at(const char *s, size_t len, bool *ret_dashdash)
{
	size_t i = 0, a, b;

	*ret_dashdash = false;
	while (ktok_next(s, len, &i, &a, &b))
		if (b - a == 2 && s[a] == '-' && s[a + 1] == '-') {
			*ret_dashdash = true;
			return a;
		}
	while (len > 0 && lines_is_blank(s[len - 1]))
		len--;
	return len;
}

/* @s with @joined put at @at: "A joined B", a blank between it and each neighbour. */
static char *insert_params(const char *s, size_t at, const char *joined)
{
	bool before = at > 0 && !lines_is_blank(s[at - 1]);
	bool after = s[at] && !lines_is_blank(s[at]);
	char *out;

	if (asprintf(&out, "%.*s%s%s%s%s", (int)at, s, before ? " " : "", joined, after ? " " : "",
		     s + at) < 0)
		return NULL;
	return out;
}

/* The kernel parameters and what goes to init, of a whole file. */
struct kcmd_view {
	char **params;
	unsigned *lines;
	size_t n;
	char **init; /* tokens after `--` */
};

static void kcmd_view_done(struct kcmd_view *v)
{
	strv_free(v->params);
	free(v->lines);
	strv_free(v->init);
	*v = (struct kcmd_view){};
}

static int kcmd_view(const char *buf, size_t len, struct kcmd_view *v)
{
	bool dd = false;
	size_t i = 0, a, b;
	int r;

	*v = (struct kcmd_view){ .params = strv_new_empty(), .init = strv_new_empty() };
	if (!v->params || !v->init)
		return -ENOMEM;
	r = kparams(buf, len, 1, &v->params, &v->lines, &v->n, &dd);
	if (r < 0 || !dd)
		return r;
	/* everything after the first `--` */
	while (ktok_next(buf, len, &i, &a, &b))
		if (b - a == 2 && buf[a] == '-' && buf[a + 1] == '-')
			break;
	while (ktok_next(buf, len, &i, &a, &b))
		if ((r = strv_consume(&v->init, strndup(buf + a, b - a))) < 0)
			return r;
	return 0;
}

static bool strv_equal_n(char *const *a, char *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!a[i] || !b[i] || !streq(a[i], b[i]))
			return false;
	return true;
}

/* @new's params == @old's + @add, and the same tokens after `--`. */
static bool kcmd_verify(const struct kcmd_view *old, const struct kcmd_view *new, char *const *add)
{
	size_t na = strv_length(add);

	if (new->n != old->n + na || !strv_equal_n(new->params, old->params, old->n) ||
	    !strv_equal_n(new->params + old->n, add, na))
		return false;
	return strv_length(new->init) == strv_length(old->init) &&
	       strv_equal_n(new->init, old->init, strv_length(old->init));
}

/* The end of an edit: @lines (the edited file) joined into *@ret, kept only when @view of it
 * gives @view of the old file @buf plus @add. Otherwise -EINVAL, @err naming @at_line
 * (0-based, -1: none) and saying "adding '@joined'@where would not give ...". */
static int kcmd_finish(char *const *lines, const char *buf, size_t len, char *const *add,
		       const char *joined, int (*view)(const char *, size_t, struct kcmd_view *),
		       ssize_t at_line, const char *where, char **ret, struct error *err)
{
	_cleanup_free_ char *out = NULL;
	struct kcmd_view old = {}, new = {};
	int r;

	r = lines_join(lines, &out);
	if (r < 0)
		return r;
	r = view(buf, len, &old);
	if (r >= 0)
		r = view(out, strlen(out), &new);
	if (r >= 0 && !kcmd_verify(&old, &new, add))
		r = error_set_line(err, EINVAL, NULL, at_line >= 0 ? (unsigned)at_line + 1 : 0,
				   "adding '%s'%s would not give the old kernel parameters plus "
				   "these: refused",
				   joined, where);
	kcmd_view_done(&old);
	kcmd_view_done(&new);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(out);
	return 0;
}

/* Hand out @v's parameters (when @r is not an error), then free @v: 0 or @r, set in @err. */
static int kcmd_view_take(struct kcmd_view *v, int r, char ***ret, unsigned **ret_lines,
			  struct error *err)
{
	if (r >= 0) {
		*ret = TAKE_PTR(v->params);
		if (ret_lines)
			*ret_lines = TAKE_PTR(v->lines);
	}
	kcmd_view_done(v);
	return r < 0 ? error_set_errno(err, r) : 0;
}

int cmdline_kernel_params(const char *buf, size_t len, char ***ret, unsigned **ret_lines,
			  struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	struct kcmd_view v;
	int r;

	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return error_set_errno(err, r);
	r = kcmd_view(buf, len, &v);
	return kcmd_view_take(&v, r, ret, ret_lines, err);
}

static int kcmd_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	_cleanup_free_ char *joined = strv_join(add, " ");
	ssize_t at_line = -1;
	bool dd = false;
	int r;

	if (!joined)
		return -ENOMEM;
	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	if (!*joined) {
		*ret = buf ? strndup(buf, len) : strdup("");
		return *ret ? 0 : -ENOMEM;
	}
	/* the first line holding `--` (parameters after it reach init, not the kernel), else
	 * the last non-empty line */
	for (size_t i = 0; lines[i] && !dd; i++) {
		(void)kinsert_at(lines[i], strlen(lines[i]), &dd);
		if (dd || lines[i][strspn(lines[i], " \t\r")])
			at_line = (ssize_t)i;
	}
	if (at_line < 0) {
		strv_free(lines);
		lines = strv_new_empty();
		if (!lines)
			return -ENOMEM;
		r = strv_extend(&lines, joined);
	} else {
		char *l = lines[at_line];
		size_t at = kinsert_at(l, strlen(l), &dd);

		if (!dd)
			lines_rstrip(l);
		r = lines_replace(lines, (size_t)at_line, insert_params(l, at, joined));
	}
	if (r < 0)
		return r;
	return kcmd_finish(lines, buf, len, add, joined, kcmd_view, at_line, "", ret, err);
}

int cmdline_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	return error_set_errno(err, kcmd_edit(buf, len, add, ret, err));
}

/* ---- etc/default/grub: a POSIX shell file that grub-mkconfig sources ----
 *
 * No shell runs here, and neither does wordexp(3): glibc's wordexp forks /bin/sh only for a
 * command substitution (which WRDE_NOCMD refuses), but it still reads the caller's environment
 * for $VAR and IFS, globs unquoted patterns against the working directory and looks up ~user —
 * none of which an assignment in a sourced file does — and musl's wordexp runs `sh -c` for
 * every word. So the file is read with the shell's own rules for what GRUB files use: quotes,
 * backslashes, $NAME and ${NAME} (evaluated against the assignments earlier in the file), and
 * the command structure (a block, a conditional, a command prefix). Anything else that touches
 * GRUB_CMDLINE_LINUX or GRUB_CMDLINE_LINUX_DEFAULT is refused with its line. */

/* A string evaluated from the file, each byte tagged with the 1-based line it came from. */
struct shval {
	char *s;
	unsigned *ln;
	size_t n, cap;
};

static void shval_done(struct shval *v)
{
	free(v->s);
	free(v->ln);
	*v = (struct shval){};
}

static int shval_add(struct shval *v, char ch, unsigned line)
{
	if (v->n + 2 > v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		char *s = realloc(v->s, cap);
		unsigned *ln;

		if (!s)
			return -ENOMEM;
		v->s = s;
		ln = realloc(v->ln, cap * sizeof(unsigned));
		if (!ln)
			return -ENOMEM;
		v->ln = ln;
		v->cap = cap;
	}
	v->s[v->n] = ch;
	v->ln[v->n++] = line;
	v->s[v->n] = 0;
	return 0;
}

static int shval_append(struct shval *v, const struct shval *src)
{
	int r;

	for (size_t i = 0; i < src->n; i++)
		if ((r = shval_add(v, src->s[i], src->ln[i])) < 0)
			return r;
	return 0;
}

struct shvar {
	char *name;
	struct shval v;
	bool known;    /* false: set by something not evaluated here (a command substitution...) */
	unsigned line; /* of the assignment */
};

enum { GRUB_LINUX, GRUB_DEFAULT, _GRUB_VAR_MAX };
static const char *const grub_vars[_GRUB_VAR_MAX] = { "GRUB_CMDLINE_LINUX",
						      "GRUB_CMDLINE_LINUX_DEFAULT" };

struct grub_assign {
	bool set;
	size_t wstart, wend; /* the word after NAME=, byte offsets in the buffer */
	unsigned line;
	struct shval own; /* what the word evaluates to */
};

struct grub_file {
	struct shvar *vars;
	size_t n_vars;
	struct grub_assign last[_GRUB_VAR_MAX];
};

static void grub_file_done(struct grub_file *g)
{
	for (size_t i = 0; i < g->n_vars; i++) {
		free(g->vars[i].name);
		shval_done(&g->vars[i].v);
	}
	free(g->vars);
	for (size_t i = 0; i < _GRUB_VAR_MAX; i++)
		shval_done(&g->last[i].own);
	*g = (struct grub_file){};
}

static struct shvar *grub_var(struct grub_file *g, const char *name, size_t n)
{
	for (size_t i = 0; i < g->n_vars; i++)
		if (strlen(g->vars[i].name) == n && !strncmp(g->vars[i].name, name, n))
			return &g->vars[i];
	return NULL;
}

static int grub_watched(const char *name, size_t n)
{
	for (int i = 0; i < _GRUB_VAR_MAX; i++)
		if (strlen(grub_vars[i]) == n && !strncmp(grub_vars[i], name, n))
			return i;
	return -1;
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static bool is_op_char(char c)
{
	return c && strchr(";&|()<>", c);
}

/* The lexer: just enough of the shell grammar to know where words and commands end. */
struct lexer {
	const char *s;
	size_t len, p;
	unsigned line;
};

#define LEX_NEST_MAX 32

static int lex_until_quote(struct lexer *x, char q)
{
	while (x->p < x->len && x->s[x->p] != q)
		x->line += x->s[x->p++] == '\n';
	if (x->p >= x->len)
		return -EINVAL;
	x->p++;
	return 0;
}

static int lex_dquote(struct lexer *x, unsigned nest);
static int lex_backtick(struct lexer *x);

/* After "$(": to the matching ')'. */
static int lex_paren(struct lexer *x, unsigned nest)
{
	unsigned depth = 1;
	int r = 0;

	if (nest > LEX_NEST_MAX)
		return -EINVAL;
	while (x->p < x->len) {
		char c = x->s[x->p++];

		if (c == '\n')
			x->line++;
		else if (c == '\\' && x->p < x->len)
			x->line += x->s[x->p++] == '\n';
		else if (c == '\'')
			r = lex_until_quote(x, '\'');
		else if (c == '"')
			r = lex_dquote(x, nest + 1);
		else if (c == '`')
			r = lex_backtick(x);
		else if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return 0;
		if (r < 0)
			return r;
	}
	return -EINVAL;
}

static int lex_backtick(struct lexer *x)
{
	while (x->p < x->len && x->s[x->p] != '`') {
		if (x->s[x->p] == '\\' && x->p + 1 < x->len)
			x->line += x->s[++x->p] == '\n';
		else
			x->line += x->s[x->p] == '\n';
		x->p++;
	}
	if (x->p >= x->len)
		return -EINVAL;
	x->p++;
	return 0;
}

/* After '$': a $( ), ${ } or nothing special. */
static int lex_dollar(struct lexer *x, unsigned nest)
{
	if (x->p < x->len && x->s[x->p] == '(') {
		x->p++;
		return lex_paren(x, nest + 1);
	}
	if (x->p < x->len && x->s[x->p] == '{')
		return lex_until_quote(x, '}');
	return 0;
}

/* After '"': to the closing '"'. */
static int lex_dquote(struct lexer *x, unsigned nest)
{
	int r = 0;

	if (nest > LEX_NEST_MAX)
		return -EINVAL;
	while (x->p < x->len) {
		char c = x->s[x->p++];

		if (c == '"')
			return 0;
		if (c == '\n')
			x->line++;
		else if (c == '\\' && x->p < x->len)
			x->line += x->s[x->p++] == '\n';
		else if (c == '$')
			r = lex_dollar(x, nest);
		else if (c == '`')
			r = lex_backtick(x);
		if (r < 0)
			return r;
	}
	return -EINVAL;
}

/* A word from x->p (not at a blank or an operator): to its end. */
static int lex_word(struct lexer *x)
{
	int r = 0;

	while (x->p < x->len) {
		char c = x->s[x->p];

		if (c == ' ' || c == '\t' || c == '\n' || is_op_char(c))
			return 0;
		x->p++;
		if (c == '\\' && x->p < x->len)
			x->line += x->s[x->p++] == '\n';
		else if (c == '\'')
			r = lex_until_quote(x, '\'');
		else if (c == '"')
			r = lex_dquote(x, 0);
		else if (c == '`')
			r = lex_backtick(x);
		else if (c == '$')
			r = lex_dollar(x, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Evaluate an assignment's word @w (@n bytes, starting on @line) as the shell does: no field
 * splitting, no pathname expansion. -EINVAL with *why (static or in @whybuf) for what is not
 * evaluated here; *unquoted_exp when an unquoted $NAME was expanded. */
static int sh_eval(struct grub_file *g, const char *w, size_t n, unsigned line, struct shval *out,
		   bool *unquoted_exp, const char **why, char *whybuf, size_t whylen)
{
	bool dq = false;
	int r;

	for (size_t i = 0; i < n;) {
		char c = w[i];

		if (!dq && c == '\'') {
			for (i++; i < n && w[i] != '\''; i++) {
				if ((r = shval_add(out, w[i], line)) < 0)
					return r;
				line += w[i] == '\n';
			}
			i++;
			continue;
		}
		if (c == '"') {
			dq = !dq;
			i++;
			continue;
		}
		if (c == '`') {
			*why = "a command substitution (`...`)";
			return -EINVAL;
		}
		if (c == '\\' && i + 1 < n) {
			char e = w[i + 1];

			i += 2;
			if (e == '\n') {
				line++;
				continue;
			}
			/* inside double quotes a backslash escapes only $ ` " \ */
			if (dq && !strchr("$`\"\\", e) && (r = shval_add(out, '\\', line)) < 0)
				return r;
			if ((r = shval_add(out, e, line)) < 0)
				return r;
			line += e == '\n';
			continue;
		}
		if (!dq && c == '~' && (i == 0 || w[i - 1] == ':')) {
			*why = "a tilde expansion (~)";
			return -EINVAL;
		}
		if (c == '$' && i + 1 < n) {
			char e = w[i + 1];
			size_t s, k;
			const struct shvar *v;

			if (e == '(') {
				*why = "a command substitution or arithmetic ($(...))";
				return -EINVAL;
			}
			if (!dq && (e == '\'' || e == '"')) {
				*why = "$'...' or $\"...\" quoting, which shells read differently";
				return -EINVAL;
			}
			if (e == '{') {
				s = i + 2;
				for (k = s; k < n && is_name_char(w[k]); k++)
					;
				if (k == s || !is_name_start(w[s]) || k >= n || w[k] != '}') {
					*why = "a ${...} expansion with an operator";
					return -EINVAL;
				}
				i = k + 1;
			} else if (is_name_start(e)) {
				s = i + 1;
				for (k = s; k < n && is_name_char(w[k]); k++)
					;
				i = k;
			} else if (strchr("0123456789@*#?-$!", e)) {
				*why = "a special parameter ($1, $@, $?, ...)";
				return -EINVAL;
			} else {
				if ((r = shval_add(out, c, line)) < 0)
					return r;
				i++;
				continue;
			}
			v = grub_var(g, w + s, k - s);
			if (!v || !v->known) {
				snprintf(
				    whybuf, whylen,
				    v ? "$%.*s, which is set on line %u in a way gpurun does not "
					"evaluate"
				      : "$%.*s, which is not set earlier in this file",
				    (int)(k - s), w + s, v ? v->line : 0);
				*why = whybuf;
				return -EINVAL;
			}
			if (!dq)
				*unquoted_exp = true;
			if ((r = shval_append(out, &v->v)) < 0)
				return r;
			continue;
		}
		if ((r = shval_add(out, c, line)) < 0)
			return r;
		line += c == '\n';
		i++;
	}
	return 0;
}

/* An assignment word of the simple command being read. */
struct sh_assign {
	size_t start, end; /* the whole word NAME=VALUE */
	size_t namelen;
	unsigned line;
	bool append;	/* NAME+=VALUE (bash) */
	bool multiline; /* the word goes on past its first line */
	bool exported;	/* an argument of export/readonly */
};

#define SH_ASSIGN_MAX 32

struct sh_cmd {
	struct sh_assign a[SH_ASSIGN_MAX];
	size_t n;
	bool words;	 /* any word yet (the command is not empty) */
	bool cmd_word;	 /* a command word other than export/readonly */
	bool after_cond; /* begins after &&, || or | */
	bool declare;	 /* the command is export or readonly */
	bool skip_next;	 /* the next word is a redirection's target */
	bool at_cmd;	 /* the next word is in command position */
};

static const char *const sh_changers[] = { "unset", "read",    "eval",	 "declare", "typeset",
					   "local", "getopts", "printf", "mapfile", "readarray" };

static int grub_fail(struct error *err, unsigned line, const char *var, const char *why)
{
	return error_set_line(err, EINVAL, NULL, line, "%s is set %s: gpurun cannot tell its value",
			      var, why);
}

/* The end of a simple command: record its assignments. @cond_end: it ends with &&, ||, | or &
 * (a pipeline or background job runs it in a subshell, and a conditional may skip what
 * follows). */
static int sh_cmd_end(struct grub_file *g, const char *buf, struct sh_cmd *c, unsigned depth,
		      bool cond_end, struct error *err)
{
	int r;

	for (size_t i = 0; i < c->n; i++) {
		const struct sh_assign *a = &c->a[i];
		int w = grub_watched(buf + a->start, a->namelen);
		const char *why = NULL;
		char whybuf[160];
		struct shval val = {};
		struct shvar *v;
		bool unq = false;

		if (depth > 0)
			why = "inside a compound command (if, case, a loop, a function or a { } "
			      "block)";
		else if (c->after_cond || cond_end)
			why = "in a conditional, a pipeline or a background command (&&, ||, |, &)";
		else if (c->cmd_word)
			why = "as a prefix of a command (it does not stay set)";
		else if (a->append)
			why = "with += (not POSIX sh)";
		else if (a->multiline)
			why = "with a value that continues on the next line";
		if (!why) {
			size_t vs = a->start + a->namelen + 1;

			r = sh_eval(g, buf + vs, a->end - vs, a->line, &val, &unq, &why, whybuf,
				    sizeof(whybuf));
			if (r < 0 && r != -EINVAL) {
				shval_done(&val);
				return r;
			}
			if (r >= 0 && unq && a->exported) {
				/* older dash split `export A=$B` into fields */
				why = "by export with an unquoted $ expansion";
				r = -EINVAL;
			}
			if (r < 0 && w >= 0) {
				char m[200];

				snprintf(m, sizeof(m), "with %s", why);
				shval_done(&val);
				return grub_fail(err, a->line, grub_vars[w], m);
			}
		}
		if (why && w >= 0) {
			shval_done(&val);
			return grub_fail(err, a->line, grub_vars[w], why);
		}
		v = grub_var(g, buf + a->start, a->namelen);
		if (!v) {
			struct shvar *x = realloc(g->vars, (g->n_vars + 1) * sizeof(*x));

			if (!x) {
				shval_done(&val);
				return -ENOMEM;
			}
			g->vars = x;
			v = &g->vars[g->n_vars];
			*v = (struct shvar){ .name = strndup(buf + a->start, a->namelen) };
			if (!v->name) {
				shval_done(&val);
				return -ENOMEM;
			}
			g->n_vars++;
		}
		shval_done(&v->v);
		v->known = !why;
		v->line = a->line;
		if (why) {
			shval_done(&val);
			continue;
		}
		v->v = val;
		if (w >= 0) {
			struct grub_assign *l = &g->last[w];

			shval_done(&l->own);
			*l = (struct grub_assign){ .set = true,
						   .wstart = a->start + a->namelen + 1,
						   .wend = a->end,
						   .line = a->line };
			if ((r = shval_append(&l->own, &val)) < 0)
				return r;
		}
	}
	*c = (struct sh_cmd){ .at_cmd = true };
	return 0;
}

static bool word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && !strncmp(w, s, n);
}

/* A command that can change a variable by name (unset, read, eval...): refused when its
 * arguments, up to the end of the command, name one of ours. */
static int sh_changer(const char *buf, size_t len, const char *w, size_t n, size_t p, unsigned line,
		      struct error *err)
{
	bool changer = false;
	size_t e = p;

	for (size_t i = 0; i < ELEMENTSOF(sh_changers); i++)
		changer |= word_is(w, n, sh_changers[i]);
	if (!changer)
		return 0;
	/* to the end of the command: a line continuation does not end it */
	while (e < len && !strchr(";&|", buf[e]) &&
	       (buf[e] != '\n' || (e > p && buf[e - 1] == '\\')))
		e++;
	for (int v = _GRUB_VAR_MAX - 1; v >= 0; v--)
		if (memmem(buf + p, e - p, grub_vars[v], strlen(grub_vars[v])))
			return error_set_line(
			    err, EINVAL, NULL, line,
			    "%s is changed by `%.*s`, which gpurun does not follow", grub_vars[v],
			    (int)n, w);
	return 0;
}

/* A word whose leading name is cut by a line continuation (`NA\<newline>ME=...`), which the
 * shell joins before reading the word: 1 when it is an assignment to another variable (not
 * followed: a later $NAME of it is refused as not set), -EINVAL when it assigns one of ours,
 * 0 when it is no assignment. */
static int sh_split_name(const char *w, size_t n, unsigned line, struct error *err)
{
	char name[64];
	size_t k = 0, m = 0;

	while (k < n) {
		if (k + 1 < n && w[k] == '\\' && w[k + 1] == '\n')
			k += 2;
		else if (is_name_char(w[k]) && m + 1 < sizeof(name))
			name[m++] = w[k++];
		else
			break;
	}
	if (m == 0 || !is_name_start(name[0]) || k >= n ||
	    !(w[k] == '=' || (w[k] == '+' && k + 1 < n && w[k + 1] == '=')))
		return 0;
	for (int v = 0; v < _GRUB_VAR_MAX; v++)
		if (word_is(name, m, grub_vars[v]))
			return grub_fail(err, line, grub_vars[v],
					 "with a line continuation (a backslash at the end of a "
					 "line) inside its name");
	return 1;
}

/* Read @buf (NUL-free) into @g. -EINVAL (@err: line, reason) for what touches the watched
 * variables in a way not followed here, or a file the shell cannot parse. */
static int grub_scan(const char *buf, size_t len, struct grub_file *g, struct error *err)
{
	struct lexer x = { .s = buf, .len = len, .line = 1 };
	struct sh_cmd c = { .at_cmd = true };
	unsigned depth = 0, case_depth = 0;
	int r;

	*g = (struct grub_file){};
	while (x.p < len) {
		char ch = buf[x.p];
		size_t ws;
		unsigned wline;

		if (ch == ' ' || ch == '\t') {
			x.p++;
			continue;
		}
		/* a line continuation between words is removed before the line is read: the
		 * command goes on, and the next word starts after it */
		if (ch == '\\' && x.p + 1 < len && buf[x.p + 1] == '\n') {
			x.p += 2;
			x.line++;
			continue;
		}
		if (ch == '\n') {
			if (x.p > 0 && buf[x.p - 1] == '\r')
				return error_set_line(err, EINVAL, NULL, x.line,
						      "the line ends with a carriage return (a DOS "
						      "line ending), which the shell reads as part "
						      "of the line: convert the file to Unix line "
						      "endings (dos2unix)");
			x.p++;
			x.line++;
			/* a newline after && || | continues the same list */
			if (c.words || !c.after_cond) {
				r = sh_cmd_end(g, buf, &c, depth, false, err);
				if (r < 0)
					return r;
			}
			continue;
		}
		if (ch == '#') {
			while (x.p < len && buf[x.p] != '\n')
				x.p++;
			continue;
		}
		if (is_op_char(ch)) {
			char n2 = x.p + 1 < len ? buf[x.p + 1] : 0;

			x.p++;
			if (ch == '<' && n2 == '<')
				return error_set_line(err, EINVAL, NULL, x.line,
						      "a here-document (<<), which gpurun does not "
						      "follow");
			if (ch == '<' || ch == '>') {
				if (x.p < len && strchr("<>&|", buf[x.p]))
					x.p++;
				c.skip_next = true;
				continue;
			}
			if ((ch == '&' && n2 == '&') || (ch == '|' && n2 == '|') || ch == '|' ||
			    ch == '&') {
				if ((ch == '&' && n2 == '&') || (ch == '|' && n2 == '|'))
					x.p++;
				r = sh_cmd_end(g, buf, &c, depth, true, err);
				if (r < 0)
					return r;
				c.after_cond = ch == '|' || n2 == '&';
				continue;
			}
			if (ch == ';') {
				if (n2 == ';')
					x.p++;
				r = sh_cmd_end(g, buf, &c, depth, false, err);
				if (r < 0)
					return r;
				continue;
			}
			/* ( and ): a subshell or a function definition; in a case, patterns */
			r = sh_cmd_end(g, buf, &c, depth, false, err);
			if (r < 0)
				return r;
			if (case_depth == 0) {
				if (ch == '(')
					depth++;
				else if (depth > 0)
					depth--;
			}
			continue;
		}
		ws = x.p;
		wline = x.line;
		r = lex_word(&x);
		if (r < 0)
			return error_set_line(err, EINVAL, NULL, wline,
					      "a quote or substitution that is never closed");
		c.words = true;
		if (c.skip_next) {
			c.skip_next = false;
			continue;
		}
		{
			const char *w = buf + ws;
			size_t n = x.p - ws, k = 0;

			if (word_is(w, n, "{") || word_is(w, n, "}")) {
				if (w[0] == '{')
					depth++;
				else if (depth > 0)
					depth--;
				continue;
			}
			if (c.at_cmd) {
				if (word_is(w, n, "if") || word_is(w, n, "while") ||
				    word_is(w, n, "until") || word_is(w, n, "for") ||
				    word_is(w, n, "case") || word_is(w, n, "select")) {
					depth++;
					if (w[0] == 'c')
						case_depth++;
					c.at_cmd = w[0] == 'i' || w[0] == 'w' || w[0] == 'u';
					c.words = false;
					continue;
				}
				if (word_is(w, n, "fi") || word_is(w, n, "done") ||
				    word_is(w, n, "esac")) {
					if (depth > 0)
						depth--;
					if (w[0] == 'e' && case_depth > 0)
						case_depth--;
					c.at_cmd = false;
					continue;
				}
				if (word_is(w, n, "then") || word_is(w, n, "do") ||
				    word_is(w, n, "else") || word_is(w, n, "elif") ||
				    word_is(w, n, "!")) {
					c.words = false;
					continue;
				}
				if (word_is(w, n, "function")) {
					c.at_cmd = false;
					continue;
				}
			}
			while (k < n && is_name_char(w[k]))
				k++;
			if ((c.at_cmd || c.declare) && k + 1 < n && w[k] == '\\' &&
			    w[k + 1] == '\n') {
				r = sh_split_name(w, n, wline, err);
				if (r < 0)
					return r;
				if (r > 0)
					continue;
			}
			if ((c.at_cmd || c.declare) && k > 0 && is_name_start(w[0]) && k < n &&
			    (w[k] == '=' || (w[k] == '+' && k + 1 < n && w[k + 1] == '='))) {
				struct sh_assign *a;

				if (c.n >= SH_ASSIGN_MAX)
					return error_set_line(err, EINVAL, NULL, wline,
							      "too many assignments in one "
							      "command");
				a = &c.a[c.n++];
				*a = (struct sh_assign){ .start = ws,
							 .end = x.p,
							 .namelen = k,
							 .line = wline,
							 .append = w[k] == '+',
							 .multiline = memchr(w, '\n', n) != NULL,
							 .exported = c.declare };
				continue;
			}
			if (c.at_cmd) {
				c.at_cmd = false;
				if (word_is(w, n, "export") || word_is(w, n, "readonly")) {
					c.declare = true;
					continue;
				}
				c.cmd_word = true;
				/* another file read into this one can set anything */
				if (word_is(w, n, ".") || word_is(w, n, "source"))
					return error_set_line(
					    err, EINVAL, NULL, wline,
					    "`%.*s` reads another file into this one, which can "
					    "change GRUB_CMDLINE_LINUX and "
					    "GRUB_CMDLINE_LINUX_DEFAULT "
					    "in ways gpurun does not follow",
					    (int)n, w);
				r = sh_changer(buf, len, w, n, x.p, wline, err);
				if (r < 0)
					return r;
			}
		}
	}
	if (len > 0 && buf[len - 1] == '\r')
		return error_set_line(err, EINVAL, NULL, x.line,
				      "the file ends with a carriage return, which the shell reads "
				      "as part of the line: remove it");
	r = sh_cmd_end(g, buf, &c, depth, false, err);
	if (r < 0)
		return r;
	return 0;
}

/* The kernel parameters a variable holds at the end of the file, with their lines. */
static int grub_var_params(struct grub_file *g, int w, char ***tokens, unsigned **lines, size_t *n)
{
	const struct shvar *v = grub_var(g, grub_vars[w], strlen(grub_vars[w]));
	size_t i = 0, a, b;
	int r;

	if (!v)
		return 0;
	while (ktok_next(v->v.s, v->v.n, &i, &a, &b)) {
		unsigned *x;

		r = strv_consume(tokens, strndup(v->v.s + a, b - a));
		if (r < 0)
			return r;
		x = realloc(*lines, (*n + 1) * sizeof(unsigned));
		if (!x)
			return -ENOMEM;
		*lines = x;
		x[(*n)++] = v->v.ln[a];
	}
	return 0;
}

/* GRUB_CMDLINE_LINUX's tokens then GRUB_CMDLINE_LINUX_DEFAULT's; @ret_nlinux: how many are
 * GRUB_CMDLINE_LINUX's. */
static int grub_params(const char *buf, size_t len, char ***ret, unsigned **ret_lines,
		       size_t *ret_nlinux, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL, **tokens = strv_new_empty();
	_cleanup_free_ unsigned *tl = NULL;
	struct grub_file g;
	size_t n = 0, nlinux;
	int r;

	if (!tokens)
		return -ENOMEM;
	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	r = grub_scan(buf, len, &g, err);
	if (r >= 0)
		r = grub_var_params(&g, GRUB_LINUX, &tokens, &tl, &n);
	nlinux = n;
	if (r >= 0)
		r = grub_var_params(&g, GRUB_DEFAULT, &tokens, &tl, &n);
	grub_file_done(&g);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(tokens);
	if (ret_lines)
		*ret_lines = TAKE_PTR(tl);
	if (ret_nlinux)
		*ret_nlinux = nlinux;
	return 0;
}

int cmdline_grub_params(const char *buf, size_t len, char ***ret, unsigned **ret_lines,
			struct error *err)
{
	return error_set_errno(err, grub_params(buf, len, ret, ret_lines, NULL, err));
}

int cmdline_grub_tokens(const char *buf, size_t len, char ***ret, struct error *err)
{
	return cmdline_grub_params(buf, len, ret, NULL, err);
}

/* @s in double quotes: \ " $ ` escaped. */
static int dq_append(char **out, const char *s)
{
	size_t n = strlen(*out), m = 0;
	char *x;

	for (const char *p = s; *p; p++)
		m += strchr("\\\"$`", *p) ? 2 : 1;
	x = realloc(*out, n + m + 1);
	if (!x)
		return -ENOMEM;
	for (const char *p = s; *p; p++) {
		if (strchr("\\\"$`", *p))
			x[n++] = '\\';
		x[n++] = *p;
	}
	x[n] = 0;
	*out = x;
	return 0;
}

static bool sh_plain(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(w[i]) && !strchr("-=.,:/+@%", w[i]))
			return false;
	return true;
}

/* The new word for the last GRUB_CMDLINE_LINUX_DEFAULT assignment: its value plus @joined.
 * The quoting it has is kept when appending inside it is exact (one "..." or '...' string, or
 * a plain word that gets double quotes); anything else (backslashes, mixed quoting) is
 * rewritten in double quotes from the value. */
static int grub_new_word(const char *buf, const struct grub_assign *a, const char *joined,
			 char **ret)
{
	const char *w = buf + a->wstart;
	size_t n = a->wend - a->wstart;
	/* a CR in the value is no separator for GRUB's own parser */
	bool sep = a->own.n > 0 && a->own.s[a->own.n - 1] != ' ' && a->own.s[a->own.n - 1] != '\t';
	_cleanup_free_ char *out = NULL;
	int r;

	if (n >= 2 && w[0] == '"' && w[n - 1] == '"' && !memchr(w + 1, '"', n - 2) &&
	    !memchr(w, '\\', n)) {
		out = strndup(w, n - 1);
		if (!out)
			return -ENOMEM;
		if (sep && (r = dq_append(&out, " ")) < 0)
			return r;
		if ((r = dq_append(&out, joined)) < 0)
			return r;
		if (asprintf(ret, "%s\"", out) < 0)
			return -ENOMEM;
		return 0;
	}
	if (n >= 2 && w[0] == '\'' && w[n - 1] == '\'' && !memchr(w + 1, '\'', n - 2) &&
	    !strchr(joined, '\'')) {
		if (asprintf(ret, "%.*s%s%s'", (int)(n - 1), w, sep ? " " : "", joined) < 0)
			return -ENOMEM;
		return 0;
	}
	out = strdup("\"");
	if (!out)
		return -ENOMEM;
	if (sh_plain(w, n) && !(n > 0 && w[0] == '~')) {
		char *x;

		if (asprintf(&x, "\"%.*s", (int)n, w) < 0)
			return -ENOMEM;
		free(out);
		out = x;
	} else if ((r = dq_append(&out, a->own.s ? a->own.s : "")) < 0)
		return r;
	if (sep && (r = dq_append(&out, " ")) < 0)
		return r;
	if ((r = dq_append(&out, joined)) < 0)
		return r;
	if (asprintf(ret, "%s\"", out) < 0)
		return -ENOMEM;
	return 0;
}

static int grub_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL, **old = NULL, **new = NULL;
	_cleanup_free_ char *joined = strv_join(add, " "), *word = NULL, *out = NULL;
	size_t old_linux, new_linux, na = strv_length(add);
	struct grub_file g;
	unsigned line = 0;
	int r;

	if (!joined)
		return -ENOMEM;
	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	r = grub_scan(buf, len, &g, err);
	if (r < 0) {
		grub_file_done(&g);
		return r;
	}
	if (!*joined) {
		grub_file_done(&g);
		return lines_join(lines, ret);
	}
	if (!g.last[GRUB_DEFAULT].set) {
		char *x;

		grub_file_done(&g);
		r = lines_join(lines, &out);
		if (r < 0)
			return r;
		word = strdup("\"");
		if (!word || dq_append(&word, joined) < 0)
			return -ENOMEM;
		if (asprintf(&x, "%sGRUB_CMDLINE_LINUX_DEFAULT=%s\"\n", out, word) < 0)
			return -ENOMEM;
		free(out);
		out = x;
		line = (unsigned)strv_length(lines) + 1;
	} else {
		const struct grub_assign *a = &g.last[GRUB_DEFAULT];
		_cleanup_strv_free_ char **nl = NULL;
		char *x;

		line = a->line;
		r = grub_new_word(buf, a, joined, &word);
		if (r >= 0 && asprintf(&x, "%.*s%s%.*s", (int)a->wstart, buf, word,
				       (int)(len - a->wend), buf + a->wend) < 0)
			r = -ENOMEM;
		grub_file_done(&g);
		if (r < 0)
			return r;
		/* every line ends with a newline, as lines_join() writes them */
		r = lines_split(x, strlen(x), &nl, NULL);
		free(x);
		if (r >= 0)
			r = lines_join(nl, &out);
		if (r < 0)
			return r;
	}

	/* the edit is right only if sourcing the new file gives the old value plus @add */
	r = grub_params(buf, len, &old, NULL, &old_linux, NULL);
	if (r < 0)
		return r;
	r = grub_params(out, strlen(out), &new, NULL, &new_linux, NULL);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || new_linux != old_linux || strv_length(new) != strv_length(old) + na ||
	    !strv_equal_n(new, old, strv_length(old)) ||
	    !strv_equal_n(new + strv_length(old), add, na))
		return error_set_line(
		    err, EINVAL, NULL, line,
		    "adding '%s' to GRUB_CMDLINE_LINUX_DEFAULT here would not give "
		    "its old value plus these parameters: refused",
		    joined);
	*ret = TAKE_PTR(out);
	return 0;
}

int cmdline_grub_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	return error_set_errno(err, grub_edit(buf, len, add, ret, err));
}

/* ---- loader entries ---- */

static bool is_options_line(const char *l)
{
	const char *p = l + strspn(l, " \t");

	return startswith(p, "options") && (p[7] == ' ' || p[7] == '\t' || p[7] == 0);
}

/* Every `options` line's kernel parameters, in order, up to a `--`. */
static int entry_params(char *const *lines, char ***tokens, unsigned **tl, size_t *n, char ***init)
{
	bool dd = false;
	int r;

	for (size_t i = 0; lines[i]; i++) {
		const char *p;
		size_t k = 0, a, b;

		if (!is_options_line(lines[i]))
			continue;
		p = lines[i] + strspn(lines[i], " \t") + 7;
		if (!dd) {
			r = kparams(p, strlen(p), (unsigned)i + 1, tokens, tl, n, &dd);
			if (r < 0)
				return r;
			if (!dd)
				continue;
			while (ktok_next(p, strlen(p), &k, &a, &b))
				if (b - a == 2 && p[a] == '-' && p[a + 1] == '-')
					break;
		}
		while (init && ktok_next(p, strlen(p), &k, &a, &b))
			if ((r = strv_consume(init, strndup(p + a, b - a))) < 0)
				return r;
	}
	return 0;
}

static int entry_view(const char *buf, size_t len, struct kcmd_view *v, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	int r;

	*v = (struct kcmd_view){ .params = strv_new_empty(), .init = strv_new_empty() };
	if (!v->params || !v->init)
		return -ENOMEM;
	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	return entry_params(lines, &v->params, &v->lines, &v->n, &v->init);
}

static int entry_view_quiet(const char *buf, size_t len, struct kcmd_view *v)
{
	return entry_view(buf, len, v, NULL);
}

static int entry_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	_cleanup_free_ char *joined = strv_join(add, " ");
	ssize_t last = -1;
	bool dd = false;
	int r;

	if (!joined)
		return -ENOMEM;
	r = lines_split(buf, len, &lines, err);
	if (r < 0)
		return r;
	if (!*joined)
		return lines_join(lines, ret);
	/* the first options line holding `--`, else the last options line */
	for (size_t i = 0; lines[i] && !dd; i++)
		if (is_options_line(lines[i])) {
			const char *p = lines[i] + strspn(lines[i], " \t") + 7;

			(void)kinsert_at(p, strlen(p), &dd);
			last = (ssize_t)i;
		}
	if (last < 0) {
		r = strv_extendf(&lines, "options %s", joined);
	} else {
		char *l = lines[last];
		size_t off = strspn(l, " \t") + 7, at;

		at = off + kinsert_at(l + off, strlen(l + off), &dd);
		if (!dd)
			lines_rstrip(l);
		if (at > strlen(l))
			at = strlen(l);
		r = lines_replace(lines, (size_t)last, insert_params(l, at, joined));
	}
	if (r < 0)
		return r;
	return kcmd_finish(lines, buf, len, add, joined, entry_view_quiet, last, " to the options",
			   ret, err);
}

int cmdline_entry_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err)
{
	return error_set_errno(err, entry_edit(buf, len, add, ret, err));
}

int cmdline_entry_params(const char *buf, size_t len, char ***ret, unsigned **ret_lines,
			 struct error *err)
{
	struct kcmd_view v;
	int r;

	r = entry_view(buf, len, &v, err);
	return kcmd_view_take(&v, r, ret, ret_lines, err);
}

int cmdline_entry_tokens(const char *buf, size_t len, char ***ret, struct error *err)
{
	return cmdline_entry_params(buf, len, ret, NULL, err);
}
