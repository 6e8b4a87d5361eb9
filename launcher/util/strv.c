/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/strv.h"

char **strv_new_empty(void)
{
	return calloc(1, sizeof(char *));
}

char **strv_free(char **l)
{
	if (!l)
		return NULL;
	for (char **i = l; *i; i++)
		free(*i);
	free(l);
	return NULL;
}

size_t strv_length(char *const *l)
{
	size_t n = 0;

	if (!l)
		return 0;
	while (l[n])
		n++;
	return n;
}

int strv_consume(char ***l, char *s)
{
	size_t n = strv_length(*l);
	char **m;

	if (!s)
		return -ENOMEM;
	m = realloc(*l, sizeof(char *) * (n + 2));
	if (!m) {
		free(s);
		return -ENOMEM;
	}
	m[n] = s;
	m[n + 1] = NULL;
	*l = m;
	return 0;
}

int strv_extend(char ***l, const char *s)
{
	return strv_consume(l, strdup(s));
}

int strv_extendf(char ***l, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return strv_consume(l, s);
}

bool strv_contains(char *const *l, const char *s)
{
	if (!l)
		return false;
	for (char *const *i = l; *i; i++)
		if (streq(*i, s))
			return true;
	return false;
}

bool strv_contains_case(char *const *l, const char *s)
{
	for (; l && *l; l++)
		if (strcasecmp(*l, s) == 0)
			return true;
	return false;
}

int strv_split(const char *s, const char *sep, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	const char *p = s;
	int r;

	/* Always hand back a vector, even an empty one. */
	l = calloc(1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	while (*p) {
		size_t n;

		p += strspn(p, sep);
		n = strcspn(p, sep);
		if (n == 0)
			break;
		r = strv_consume(&l, strndup(p, n));
		if (r < 0)
			return r;
		p += n;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

char *strv_join(char *const *l, const char *sep)
{
	size_t len = 1, seplen = strlen(sep);
	char *s, *p;

	for (char *const *i = l; i && *i; i++)
		len += strlen(*i) + seplen;
	s = malloc(len);
	if (!s)
		return NULL;
	p = s;
	*p = 0;
	for (char *const *i = l; i && *i; i++) {
		if (i != l)
			p = stpcpy(p, sep);
		p = stpcpy(p, *i);
	}
	return s;
}

char **strv_copy(char *const *l)
{
	_cleanup_strv_free_ char **c = calloc(1, sizeof(char *));

	if (!c)
		return NULL;
	for (char *const *i = l; i && *i; i++)
		if (strv_extend(&c, *i) < 0)
			return NULL;
	return TAKE_PTR(c);
}
