/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "host/ctx.h"
#include "host/dlopen-libvirt.h"
#include "host/liveness.h"
#include "host/statedir.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/strutil.h"

#define LOCK_NAME "lock"
#define LOCK_MAX 4096

static const char *after(const char *s, const char *prefix)
{
	return startswith(s, prefix) ? s + strlen(prefix) : NULL;
}

void liveness_record_done(struct liveness_record *r)
{
	free(r->libvirt_domain);
	free(r->libvirt_uri);
	*r = (struct liveness_record){};
}

static int parse_pid_start(const char *s, pid_t *ret_pid, unsigned long long *ret_start)
{
	long pid;
	unsigned long long start;
	int n = 0;

	if (sscanf(s, "%ld %llu%n", &pid, &start, &n) != 2 || s[n] || pid <= 0 || pid > INT32_MAX)
		return -EBADMSG;
	*ret_pid = (pid_t)pid;
	*ret_start = start;
	return 0;
}

int liveness_parse(const char *buf, size_t len, struct liveness_record *ret)
{
	struct liveness_record r = {};
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		_cleanup_free_ char *line = NULL;
		const char *rest;

		if (!nl)
			break; /* cut short: never complete */
		line = strndup(buf + pos, (size_t)(nl - buf - pos));
		pos = (size_t)(nl - buf) + 1;
		if (!line) {
			liveness_record_done(&r);
			return -ENOMEM;
		}
		if ((rest = after(line, "gpurun ")))
			(void)parse_pid_start(rest, &r.gpurun_pid, &r.gpurun_start);
		else if ((rest = after(line, "qemu ")))
			(void)parse_pid_start(rest, &r.qemu_pid, &r.qemu_start);
		else if ((rest = after(line, "libvirt "))) {
			const char *sp = strchr(rest, ' ');

			if (!sp || sp == rest || !sp[1])
				continue;
			free(r.libvirt_domain);
			free(r.libvirt_uri);
			r.libvirt_domain = strndup(rest, (size_t)(sp - rest));
			r.libvirt_uri = strdup(sp + 1);
			if (!r.libvirt_domain || !r.libvirt_uri) {
				liveness_record_done(&r);
				return -ENOMEM;
			}
		}
	}
	*ret = r;
	return 0;
}

int liveness_pid_start(pid_t pid, unsigned long long *ret)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	unsigned long long start;
	const char *p;
	char state;
	int r;

	if (pid <= 0)
		return -ESRCH;
	if (asprintf(&path, "%s/%d/stat", ctx_live_proc(), (int)pid) < 0)
		return -ENOMEM;
	r = read_full_file(path, 4096, &buf, NULL);
	if (r == -ENOENT)
		return -ESRCH;
	if (r < 0)
		return r;
	/* "PID (COMM) STATE ..." where COMM may hold spaces and parentheses: after the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
			 " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			 "%*d %*d %llu",
			 &state, &start) != 2)
		return -EBADMSG;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	*ret = start;
	return 0;
}

bool liveness_pid_alive(pid_t pid, unsigned long long start)
{
	unsigned long long now;

	return liveness_pid_start(pid, &now) >= 0 && now == start;
}

/* 1 active, 0 not (or no such domain), negative when libvirt cannot tell (*ret_why says why) */
static int libvirt_active(const char *uri, const char *name, char **ret_why)
{
	_cleanup_(error_clear) struct error err = {};
	virConnectPtr conn;
	virDomainPtr dom;
	int r;

	r = dlopen_libvirt(&err);
	if (r < 0) {
		*ret_why = strdup(err.message ? err.message : strerror(-r));
		return r;
	}
	conn = sym_virConnectOpen(uri);
	if (!conn) {
		const char *m = sym_virGetLastErrorMessage ? sym_virGetLastErrorMessage() : NULL;

		*ret_why = strdup(m ? m : "cannot connect");
		return -EIO;
	}
	dom = sym_virDomainLookupByName(conn, name);
	r = dom ? sym_virDomainIsActive(dom) : 0;
	if (dom)
		sym_virDomainFree(dom);
	sym_virConnectClose(conn);
	if (r < 0) {
		*ret_why = strdup("virDomainIsActive failed");
		return -EIO;
	}
	return r > 0;
}

int liveness_describe(const struct liveness_record *r, bool locked, const char *lock_path,
		      char **ret)
{
	bool g = r->gpurun_pid > 0 && liveness_pid_alive(r->gpurun_pid, r->gpurun_start);
	bool q = r->qemu_pid > 0 && liveness_pid_alive(r->qemu_pid, r->qemu_start);
	_cleanup_free_ char *why = NULL;
	char *s = NULL;
	int k;

	*ret = NULL;
	if (locked && g && q)
		s = strdup_printf("already run by gpurun (pid %d), QEMU pid %d running it",
				  (int)r->gpurun_pid, (int)r->qemu_pid);
	else if (locked && g && r->libvirt_domain)
		s = strdup_printf("already run by gpurun (pid %d), as libvirt domain '%s' on %s",
				  (int)r->gpurun_pid, r->libvirt_domain, r->libvirt_uri);
	else if (locked && g)
		s = strdup_printf("already run by gpurun (pid %d), preparing the host",
				  (int)r->gpurun_pid);
	else if (q && r->gpurun_pid > 0)
		s = strdup_printf("still running in QEMU pid %d (its gpurun, pid %d, is gone)",
				  (int)r->qemu_pid, (int)r->gpurun_pid);
	else if (q)
		s = strdup_printf("still running in QEMU pid %d", (int)r->qemu_pid);
	else if (locked && r->gpurun_pid > 0)
		s = strdup_printf("held by a process started by gpurun (pid %d): %s is locked",
				  (int)r->gpurun_pid, lock_path);
	else if (locked)
		s = strdup_printf("held by another process: %s is locked", lock_path);
	else if (r->libvirt_domain) {
		k = libvirt_active(r->libvirt_uri, r->libvirt_domain, &why);
		if (k == 0)
			return 0;
		if (k > 0)
			s = strdup_printf("still running as libvirt domain '%s' on %s",
					  r->libvirt_domain, r->libvirt_uri);
		else
			s = strdup_printf("perhaps still running as libvirt domain '%s' on %s "
					  "(libvirt cannot tell: %s)",
					  r->libvirt_domain, r->libvirt_uri, strna(why));
	} else
		return 0;
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 1;
}

static int read_record(int fd, struct liveness_record *ret)
{
	char buf[LOCK_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	if (n < 0)
		return negative_errno();
	return liveness_parse(buf, (size_t)n, ret);
}

/* The file we locked is still the one named "lock": a remover unlinks it while holding it, and
 * whoever opened it before the unlink must not think it holds the lock of the new one. */
static bool still_linked(int vmfd, int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && fstatat(vmfd, LOCK_NAME, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int liveness_lock(int vmfd, const char *vmpath, const char *vm, bool force, int *ret_fd,
		  char **ret_holder, struct error *err)
{
	_cleanup_free_ char *lock_path = path_join(vmpath, LOCK_NAME);
	int r;

	if (!lock_path)
		return error_set(err, ENOMEM, NULL);
	for (unsigned attempt = 0; attempt < 16; attempt++) {
		_cleanup_(liveness_record_done) struct liveness_record rec = {};
		_cleanup_close_ int fd = -1;
		_cleanup_free_ char *who = NULL;
		bool locked = false;

		r = statedir_open_file(vmfd, vmpath, LOCK_NAME, O_RDWR | O_CREAT, &fd, err);
		if (r < 0)
			return r;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno != EWOULDBLOCK)
				return error_set(err, errno, "Failed to lock %s: %s", lock_path,
						 strerror(errno));
			locked = true;
		} else if (!still_linked(vmfd, fd))
			continue;
		r = read_record(fd, &rec);
		if (r < 0)
			return error_set(err, r, "Failed to read %s: %s", lock_path, strerror(-r));
		r = liveness_describe(&rec, locked, lock_path, &who);
		if (r < 0)
			return error_set(err, r, NULL);
		if (r > 0 && !force) {
			r = error_set(err, EBUSY, "VM '%s' is %s", vm, who);
			if (ret_holder)
				*ret_holder = TAKE_PTR(who);
			return r;
		}
		if (ret_holder)
			*ret_holder = TAKE_PTR(who);
		*ret_fd = locked ? -1 : TAKE_FD(fd);
		return 0;
	}
	return error_set(err, EAGAIN, "Failed to lock %s: it keeps being replaced", lock_path);
}

static int write_at(int fd, const char *s, off_t off)
{
	size_t len = strlen(s);
	ssize_t n = pwrite(fd, s, len, off);

	if (n < 0)
		return negative_errno();
	if ((size_t)n != len)
		return -EIO;
	if (fsync(fd) < 0)
		return negative_errno();
	return 0;
}

static int append_line(int fd, const char *s)
{
	struct stat st;

	if (fd < 0)
		return -EBADF;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	return write_at(fd, s, st.st_size);
}

int liveness_claim(int fd)
{
	_cleanup_free_ char *line = NULL;
	unsigned long long start;
	int r;

	if (fd < 0)
		return -EBADF;
	r = liveness_pid_start(getpid(), &start);
	if (r < 0)
		return r;
	line = strdup_printf("gpurun %d %llu\n", (int)getpid(), start);
	if (!line)
		return -ENOMEM;
	if (ftruncate(fd, 0) < 0)
		return negative_errno();
	return write_at(fd, line, 0);
}

int liveness_add_qemu(int fd, pid_t pid)
{
	_cleanup_free_ char *line = NULL;
	unsigned long long start;
	int r;

	r = liveness_pid_start(pid, &start);
	if (r < 0)
		return r;
	line = strdup_printf("qemu %d %llu\n", (int)pid, start);
	if (!line)
		return -ENOMEM;
	return append_line(fd, line);
}

int liveness_add_libvirt(int fd, const char *uri, const char *domain)
{
	_cleanup_free_ char *line = NULL;

	if (!uri || !*uri || !domain || !*domain || strpbrk(domain, " \n") || strchr(uri, '\n'))
		return -EINVAL;
	line = strdup_printf("libvirt %s %s\n", domain, uri);
	if (!line)
		return -ENOMEM;
	return append_line(fd, line);
}
