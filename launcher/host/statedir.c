/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/ctx.h"
#include "host/statedir.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/strutil.h"
#include "util/strv.h"

bool statedir_plain_name(const char *s)
{
	return s && *s && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..");
}

_printf_(4, 5) static int refuse(struct error *err, int errnum, const char *path, const char *fmt,
				 ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	msg = strdup_vprintf(fmt, ap);
	va_end(ap);
	r = error_set(err, errnum, "%s", msg ? msg : strerror(errnum));
	error_set_file(err, path, true);
	return r;
}

int statedir_verify(int fd, const char *path, bool dir, struct error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int r = error_set(err, errno, "cannot stat: %s", strerror(errno));

		error_set_file(err, path, true);
		return r;
	}
	if (dir && !S_ISDIR(st.st_mode))
		return refuse(err, EINVAL, path, "not a directory");
	if (!dir && !S_ISREG(st.st_mode))
		return refuse(err, EINVAL, path,
			      "not a regular file: refusing a gpurun state file that is not one");
	if (st.st_uid != geteuid())
		return refuse(err, EPERM, path,
			      "owned by uid %u, not by uid %u: refusing state that another user "
			      "controls (chown it, or remove it)",
			      (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return refuse(
		    err, EPERM, path,
		    "writable by group or others (mode %04o): refusing state that another "
		    "user can change (chmod go-w, or remove it)",
		    (unsigned)(st.st_mode & 07777));
	return 0;
}

/* A directory above the state dir: root's or ours, and others may only add their own entries
 * to it when it is sticky (they cannot replace ours then). */
static int verify_ancestor(int fd, const char *path, struct error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int r = error_set(err, errno, "cannot stat: %s", strerror(errno));

		error_set_file(err, path, true);
		return r;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return refuse(err, EPERM, path,
			      "owned by uid %u, neither root nor us: refusing a state dir below a "
			      "directory another user controls",
			      (unsigned)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		return refuse(err, EPERM, path,
			      "writable by group or others and not sticky (mode %04o): refusing a "
			      "state dir below it",
			      (unsigned)(st.st_mode & 07777));
	return 0;
}

static int open_component(int dfd, const char *dpath, const char *name, bool follow, bool create,
			  mode_t mode, int *ret_fd, struct error *err)
{
	_cleanup_free_ char *path = path_join(dpath, name);
	int fd, nofollow = follow ? 0 : O_NOFOLLOW;

	if (!path)
		return error_set(err, ENOMEM, NULL);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dfd, name, mode) < 0 && errno != EEXIST) {
			int r = error_set(err, errno, "cannot create the directory: %s",
					  strerror(errno));

			error_set_file(err, path, true);
			return r;
		}
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow);
	}
	if (fd < 0) {
		int e = errno;
		struct stat st;

		/* O_NOFOLLOW|O_DIRECTORY on a symlink: ENOTDIR on some kernels, ELOOP on others */
		if (!follow && (e == ELOOP || e == ENOTDIR) &&
		    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			return refuse(err, ELOOP, path,
				      "a symbolic link: refusing to follow it in the state "
				      "dir");
		if (e == ENOENT)
			return -ENOENT;
		error_set(err, e, "cannot open: %s", strerror(e));
		error_set_file(err, path, true);
		return -e;
	}
	*ret_fd = fd;
	return 0;
}

int statedir_open_dir(int dfd, const char *dpath, const char *name, bool create, int *ret_fd,
		      struct error *err)
{
	_cleanup_free_ char *path = path_join(dpath, name);
	_cleanup_close_ int fd = -1;
	int r;

	if (!path)
		return error_set(err, ENOMEM, NULL);
	if (!statedir_plain_name(name))
		return refuse(err, EINVAL, path, "not a plain name");
	r = open_component(dfd, dpath, name, false, create, 0700, &fd, err);
	if (r < 0)
		return r;
	r = statedir_verify(fd, path, true, err);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int statedir_open_file(int dfd, const char *dpath, const char *name, int flags, int *ret_fd,
		       struct error *err)
{
	_cleanup_free_ char *path = path_join(dpath, name);
	_cleanup_close_ int fd = -1;
	int r;

	if (!path)
		return error_set(err, ENOMEM, NULL);
	if (!statedir_plain_name(name))
		return refuse(err, EINVAL, path, "not a plain name");
	/* O_NONBLOCK: a FIFO planted here must not block the open; cleared again below */
	fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0600);
	if (fd < 0) {
		int e = errno;

		if (e == ELOOP)
			return refuse(err, ELOOP, path,
				      "a symbolic link: refusing to follow it in the state "
				      "dir");
		if (e == ENOENT || (e == EEXIST && (flags & O_EXCL)))
			return -e;
		error_set(err, e, "cannot open: %s", strerror(e));
		error_set_file(err, path, true);
		return -e;
	}
	r = statedir_verify(fd, path, false, err);
	if (r < 0)
		return r;
	if (fcntl(fd, F_SETFL, flags & O_APPEND) < 0)
		return error_set(err, errno, "fcntl: %s", strerror(errno));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int statedir_open(const struct ctx *c, bool create, int *ret_fd, struct error *err)
{
	_cleanup_free_ char *copy = NULL, *sofar = NULL;
	_cleanup_close_ int fd = -1;
	char *save = NULL, *comp, *next;
	int r;

	if (!c->state || c->state[0] != '/')
		return error_set(err, EINVAL, "the state dir '%s' is not an absolute path",
				 c->state ? c->state : "");
	copy = strdup(c->state);
	sofar = strdup("/");
	if (!copy || !sofar)
		return error_set(err, ENOMEM, NULL);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "cannot open /: %s", strerror(errno));
	comp = strtok_r(copy, "/", &save);
	if (!comp) {
		error_set(err, EPERM, "refusing / as the state dir");
		error_set_file(err, "/", true);
		return -EPERM;
	}
	for (; comp; comp = next) {
		_cleanup_free_ char *path = path_join(sofar, comp);
		int nfd;
		bool last;

		next = strtok_r(NULL, "/", &save);
		last = !next;
		if (!path)
			return error_set(err, ENOMEM, NULL);
		r = verify_ancestor(fd, sofar, err);
		if (r < 0)
			return r;
		if (streq(comp, ".") || streq(comp, ".."))
			return refuse(err, EINVAL, c->state, "'.' or '..' in the state dir path");
		/* the directories above may be symlinks (/var/run -> /run); the state dir itself
		 * may not */
		r = open_component(fd, sofar, comp, !last, create, last ? 0700 : 0755, &nfd, err);
		if (r == -ENOENT)
			return create ? error_set(err, ENOENT, "cannot create %s", path) : -ENOENT;
		if (r < 0)
			return r;
		close(fd);
		fd = nfd;
		free(sofar);
		sofar = TAKE_PTR(path);
	}
	r = statedir_verify(fd, c->state, true, err);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Whether the entry @name of the state dir @sfd is a VM directory that holds @file. */
static int vm_has_file(int sfd, const char *name, const char *file, bool suspect)
{
	_cleanup_free_ char *p = path_join(name, file);
	struct stat st;

	if (!p)
		return -ENOMEM;
	if (!suspect)
		return fstatat(sfd, p, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode);
	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (S_ISLNK(st.st_mode))
		return true;
	return S_ISDIR(st.st_mode) && fstatat(sfd, p, &st, AT_SYMLINK_NOFOLLOW) >= 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int statedir_list_vms(const struct ctx *c, const char *file, bool suspect, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_close_ int sfd = -1;
	struct dirent *de;
	DIR *d;
	int r, dfd;

	l = calloc(1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	r = statedir_open(c, false, &sfd, NULL);
	if (r == -ENOENT) {
		*ret = TAKE_PTR(l);
		return 0;
	}
	if (r < 0)
		return r;
	dfd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return negative_errno();
	d = fdopendir(dfd);
	if (!d) {
		r = negative_errno();
		close(dfd);
		return r;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || streq(de->d_name, "locks"))
			continue;
		r = vm_has_file(sfd, de->d_name, file, suspect);
		if (r < 0)
			break;
		if (r == 0)
			continue;
		r = strv_extend(&l, de->d_name);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	qsort(l, strv_length(l), sizeof(char *), cmp_str);
	*ret = TAKE_PTR(l);
	return 0;
}
