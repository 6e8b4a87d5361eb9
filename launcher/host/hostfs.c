/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "host/hostfs.h"

int hostfs_read_line(const char *path, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = read_full_file(path, 64 * 1024, &buf, &len);
	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = 0;
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\r'))
		buf[--len] = 0;
	*ret = TAKE_PTR(buf);
	return 0;
}

int hostfs_read_ulong(const char *path, unsigned long *ret)
{
	_cleanup_free_ char *s = NULL;
	char *end;
	unsigned long v;
	int r;

	r = hostfs_read_line(path, &s);
	if (r < 0)
		return r;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int hostfs_readlink_base(const char *path, char **ret)
{
	char buf[PATH_MAX];
	ssize_t n;
	const char *b;
	char *s;

	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return negative_errno();
	buf[n] = 0;
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = 0;
	b = strrchr(buf, '/');
	s = strdup(b ? b + 1 : buf);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

bool hostfs_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

bool hostfs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static hostfs_write_hook_t write_hook;
static void *write_hook_userdata;

void hostfs_set_write_hook(hostfs_write_hook_t hook, void *userdata)
{
	write_hook = hook;
	write_hook_userdata = userdata;
}

int hostfs_write_attr(const char *path, const char *s)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(s);
	ssize_t n;

	/* before the write: an unbind that blocks while a driver lets go shows where it waits */
	if (write_hook)
		write_hook(write_hook_userdata, path, s);

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_TRUNC);
	if (fd < 0)
		return negative_errno();
	n = write(fd, s, len);
	if (n < 0)
		return negative_errno();
	if ((size_t)n != len)
		return -EIO;
	if (close(TAKE_FD(fd)) < 0)
		return negative_errno();
	return 0;
}

int hostfs_write_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
	return hostfs_write_atomic_owned(path, buf, len, mode, (uid_t)-1, (gid_t)-1);
}

int hostfs_write_atomic_owned(const char *path, const void *buf, size_t len, mode_t mode, uid_t uid,
			      gid_t gid)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	const char *p = buf;
	int r;

	if (asprintf(&tmp, "%s.gpurun-XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = negative_errno();
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	/* the new file is ours: give it the owner of the one it replaces */
	if ((uid != (uid_t)-1 && uid != geteuid()) || (gid != (gid_t)-1 && gid != getegid())) {
		if (fchown(fd, uid, gid) < 0) {
			r = negative_errno();
			goto fail;
		}
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		r = negative_errno();
		goto fail;
	}
	if (close(TAKE_FD(fd)) < 0) {
		r = negative_errno();
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		r = negative_errno();
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	return r;
}

int hostfs_mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return negative_errno();
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return negative_errno();
	if (!hostfs_is_dir(p))
		return -ENOTDIR;
	return 0;
}

int hostfs_same_content(const char *path, const void *buf, size_t len)
{
	_cleanup_free_ char *old = NULL;
	size_t oldlen;
	int r;

	r = read_full_file(path, len + 1, &old, &oldlen);
	if (r == -EFBIG)
		return 0;
	if (r < 0)
		return r;
	return oldlen == len && memcmp(old, buf, len) == 0;
}
