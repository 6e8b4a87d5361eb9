/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/macro.h"

char *path_join_internal(const char *first, ...)
{
	va_list ap;
	size_t len = 0;
	char *s, *p;

	va_start(ap, first);
	for (const char *c = first; c; c = va_arg(ap, const char *))
		len += strlen(c) + 1;
	va_end(ap);

	s = malloc(len + 1);
	if (!s)
		return NULL;
	p = s;
	va_start(ap, first);
	for (const char *c = first; c; c = va_arg(ap, const char *)) {
		if (c == first) {
			p = stpcpy(p, c);
			continue;
		}
		while (*c == '/')
			c++;
		if (*c == 0)
			continue;
		if (p > s && p[-1] != '/')
			*p++ = '/';
		p = stpcpy(p, c);
	}
	va_end(ap);
	*p = 0;
	return s;
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, alloc = 4096;
	struct stat st;

	/* O_NONBLOCK: the open of a FIFO without a writer would wait for one; for a regular file
	 * the flag changes nothing */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	buf = malloc(alloc + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == alloc) {
			char *nb;

			if (alloc >= max)
				return -EFBIG;
			alloc = alloc * 2 > max ? max : alloc * 2;
			nb = realloc(buf, alloc + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, alloc - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

const char *read_full_file_strerror(int r)
{
	if (r == -EINVAL)
		return "not a regular file (a FIFO, device or socket)";
	return strerror(r < 0 ? -r : r);
}
