/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/lines.h"
#include "util/strv.h"

bool lines_is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

int lines_split(const char *buf, size_t len, char ***ret, struct error *err)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	const char *p, *end;
	unsigned line = 1;
	int r;

	if (!l)
		return -ENOMEM;
	if (!buf)
		buf = "", len = 0;
	p = buf;
	end = buf + len;
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

int lines_join(char *const *l, char **ret)
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

int lines_replace(char **l, size_t i, char *s)
{
	if (!s)
		return -ENOMEM;
	free(l[i]);
	l[i] = s;
	return 0;
}

void lines_rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && lines_is_blank(s[n - 1]))
		s[--n] = 0;
}
