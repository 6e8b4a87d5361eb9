/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault injection for gpurun, LD_PRELOAD'ed into the gpurun process under test. It acts only in
 * a program named $FAULT_PROG (default "gpurun"): a wrapper in between (timeout, env) passes it
 * on untouched; that program takes it out of LD_PRELOAD for the programs it starts (QEMU), and
 * its forked children are left alone.
 *
 * It sees the libc calls through which a program changes files and counts those that change
 * something under $FAULT_ROOT (a copy of a fixture host): one "host write" is one write(),
 * pwrite(), writev(), rename(), unlink(), rmdir(), mkdir(), symlink(), link(), ftruncate() or
 * (f)chmod() that changes a file or directory there, or an open()/fopen()/mkstemp() that creates
 * or truncates a file there. A call that changes nothing (mkdir of an existing directory, unlink
 * of a missing file, an empty write) is not counted. fsync()/fdatasync() change nothing and are
 * counted only when FAULT_OPS names them.
 *
 *   FAULT_ROOT=DIR   the tree whose changes are counted (required; nothing happens without it)
 *   FAULT_LOG=FILE   append one line per host write: "N OP PATH" (PATH relative to FAULT_ROOT;
 *                    rename adds " -> NEWPATH"), and a "# fault: ..." line when acting
 *   FAULT_AT=N       act at the Nth host write (1-based), as FAULT_MODE says;
 *   FAULT_AT=N+      errno modes only: at the Nth and every later one (a disk that is full
 *                    from then on):
 *   FAULT_MODE=kill-before | kill-after | errno:NAME | errno:NUMBER
 *                    kill-*: raise(SIGKILL) before / after the call; errno: fail the call with
 *                    that errno (EBUSY, EIO, ...) without making it
 *   FAULT_OPS=op,op  count only these ops (names as in the log; default: all but fsync)
 *   FAULT_PROG=NAME  the program to act in (default gpurun)
 *
 * Without FAULT_AT the library only counts and logs. With FAULT_AT, files under
 * $FAULT_ROOT/sys behave more like sysfs attributes: open(O_TRUNC) does not empty them, a write()
 * replaces their content (the fixture's attributes are plain files, and a truncating open of a
 * real sysfs attribute changes nothing); and a request to tests/tools/fake-kernel
 * (sys/bus/pci/drivers_probe, sys/bus/pci/drivers/X/bind|unbind, and the platform drivers'
 * sys/bus/platform/drivers/X/bind|unbind) is synchronous, as in the kernel: close() returns
 * once the fake kernel has taken it (emptied the file), so that a failure injected right after
 * an unbind does not find the old driver still linked.
 *
 * stdio writes (fwrite/fprintf to a FILE) go through libc's internal write and are not seen;
 * gpurun writes host files with write(2). */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_NONE, MODE_KILL_BEFORE, MODE_KILL_AFTER, MODE_ERRNO };

static struct {
	bool on;	     /* FAULT_ROOT set, in the process that loaded us */
	pid_t pid;	     /* that process */
	char root[PATH_MAX]; /* FAULT_ROOT, canonical */
	char root_lex[PATH_MAX];
	char sys[PATH_MAX]; /* root + "/sys" */
	char log[PATH_MAX];
	unsigned long at;
	bool onward; /* FAULT_AT=N+ */
	enum mode mode;
	int err;
	char ops[256]; /* ",op,op," or "" for the default */
	unsigned long count;
} F;

static __thread int in_hook;

#define MAX_FDS 1024
static unsigned char request_fd[MAX_FDS]; /* written: a request to the fake kernel */

#define REAL(name)                                                                                 \
	static __typeof__(name) *real_##name;                                                      \
	if (!real_##name)                                                                          \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EBUSY", EBUSY },   { "EIO", EIO },	    { "ENOSPC", ENOSPC },
	{ "EACCES", EACCES }, { "EPERM", EPERM },   { "ENODEV", ENODEV },
	{ "ENOENT", ENOENT }, { "EINTR", EINTR },   { "EAGAIN", EAGAIN },
	{ "EROFS", EROFS },   { "EEXIST", EEXIST }, { "ENOTDIR", ENOTDIR },
	{ "EISDIR", EISDIR }, { "EINVAL", EINVAL }, { "ENOMEM", ENOMEM },
	{ "ENXIO", ENXIO },   { "EDQUOT", EDQUOT }, { "ENAMETOOLONG", ENAMETOOLONG },
};

static void die(const char *msg, const char *arg)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "libfault: %s%s\n", msg, arg ? arg : "");

	if (n > 0)
		(void)!write(STDERR_FILENO, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
	_exit(125);
}

/* Drop this library from LD_PRELOAD: QEMU (or its stand-in) and any helper gpurun starts run
 * without it. */
static void unpreload(void)
{
	const char *pre = getenv("LD_PRELOAD");
	char out[4096] = "", *copy, *save = NULL;

	if (!pre)
		return;
	copy = strdup(pre);
	if (!copy)
		return;
	for (char *w = strtok_r(copy, ": ", &save); w; w = strtok_r(NULL, ": ", &save)) {
		const char *base = strrchr(w, '/');

		if (strcmp(base ? base + 1 : w, "libfault.so") == 0)
			continue;
		if (*out)
			strncat(out, ":", sizeof(out) - strlen(out) - 1);
		strncat(out, w, sizeof(out) - strlen(out) - 1);
	}
	free(copy);
	if (*out)
		setenv("LD_PRELOAD", out, 1);
	else
		unsetenv("LD_PRELOAD");
}

__attribute__((constructor)) static void fault_init(void)
{
	const char *root = getenv("FAULT_ROOT"), *at = getenv("FAULT_AT"),
		   *mode = getenv("FAULT_MODE"), *log = getenv("FAULT_LOG"),
		   *ops = getenv("FAULT_OPS"), *prog = getenv("FAULT_PROG");
	char *end;

	if (strcmp(program_invocation_short_name, prog && *prog ? prog : "gpurun") != 0)
		return;
	unpreload();
	if (!root || !*root)
		return;
	if (!realpath(root, F.root))
		die("FAULT_ROOT does not exist: ", root);
	if (strlen(root) >= sizeof(F.root_lex))
		die("FAULT_ROOT too long: ", root);
	strcpy(F.root_lex, root);
	while (strlen(F.root_lex) > 1 && F.root_lex[strlen(F.root_lex) - 1] == '/')
		F.root_lex[strlen(F.root_lex) - 1] = 0;
	if (snprintf(F.sys, sizeof(F.sys), "%s/sys", F.root) >= (int)sizeof(F.sys))
		die("FAULT_ROOT too long: ", root);
	if (log && *log)
		snprintf(F.log, sizeof(F.log), "%s", log);
	if (ops && *ops)
		snprintf(F.ops, sizeof(F.ops), ",%s,", ops);
	if (at && *at) {
		errno = 0;
		F.at = strtoul(at, &end, 10);
		if (!errno && end && *end == '+') {
			F.onward = true;
			end++;
		}
		if (errno || *end || F.at == 0)
			die("FAULT_AT is not a positive number: ", at);
		if (!mode || !*mode)
			die("FAULT_AT without FAULT_MODE", NULL);
		if (strcmp(mode, "kill-before") == 0)
			F.mode = MODE_KILL_BEFORE;
		else if (strcmp(mode, "kill-after") == 0)
			F.mode = MODE_KILL_AFTER;
		else if (strncmp(mode, "errno:", 6) == 0) {
			F.mode = MODE_ERRNO;
			for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
				if (strcmp(mode + 6, errnos[i].name) == 0)
					F.err = errnos[i].value;
			if (!F.err) {
				long v = strtol(mode + 6, &end, 10);

				if (*end || v <= 0 || v > 4095)
					die("FAULT_MODE: unknown errno: ", mode + 6);
				F.err = (int)v;
			}
		} else
			die("FAULT_MODE: expected kill-before, kill-after or errno:NAME, not ",
			    mode);
	}
	F.pid = getpid();
	F.on = true;
}

static bool active(void)
{
	return F.on && !in_hook && getpid() == F.pid;
}

static bool op_counted(const char *op)
{
	char key[64];

	if (!*F.ops)
		return strcmp(op, "fsync") != 0 && strcmp(op, "fdatasync") != 0;
	snprintf(key, sizeof(key), ",%s,", op);
	return strstr(F.ops, key) != NULL;
}

/* Collapse "//", "/./" and "/x/../" of an absolute path, in place. */
static void normalize(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		if (in[0] == '.' && (in[1] == '/' || !in[1])) {
			in++;
			continue;
		}
		if (in[0] == '.' && in[1] == '.' && (in[2] == '/' || !in[2])) {
			in += 2;
			while (out > p && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		while (*in && *in != '/')
			*out++ = *in++;
	}
	if (out == p)
		*out++ = '/';
	*out = 0;
}

static bool fd_path(int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n < 0)
		return false;
	buf[n] = 0;
	return buf[0] == '/';
}

/* The canonical absolute form of @path (relative to @dirfd): its directory resolved (the last
 * component is not followed: it may be a symlink to remove, or not exist yet). */
static bool abs_path(int dirfd, const char *path, char *buf, size_t size)
{
	char tmp[PATH_MAX * 2], dir[PATH_MAX];
	char *slash;

	if (!path)
		return false;
	if (path[0] == '/')
		snprintf(tmp, sizeof(tmp), "%s", path);
	else {
		if (dirfd == AT_FDCWD) {
			if (!getcwd(dir, sizeof(dir)))
				return false;
		} else if (!fd_path(dirfd, dir, sizeof(dir)))
			return false;
		snprintf(tmp, sizeof(tmp), "%s/%s", dir, path);
	}
	normalize(tmp);
	slash = strrchr(tmp, '/');
	if (slash && slash != tmp) {
		*slash = 0;
		if (realpath(tmp, dir))
			return snprintf(buf, size, "%s/%s", dir, slash + 1) < (int)size;
		*slash = '/';
	}
	return snprintf(buf, size, "%s", tmp) < (int)size;
}

/* @path under the root: its part relative to the root, else NULL */
static const char *under_root(const char *path)
{
	const char *roots[] = { F.root, F.root_lex };

	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(roots[i]);

		if (strncmp(path, roots[i], n) == 0 && (path[n] == '/' || !path[n]))
			return path[n] ? path + n + 1 : ".";
	}
	return NULL;
}

static bool under_sys(const char *path)
{
	size_t n = strlen(F.sys);

	return strncmp(path, F.sys, n) == 0 && (path[n] == '/' || !path[n]);
}

/* sys/bus/pci/drivers_probe, sys/bus/pci/drivers/X/(un)bind or sys/bus/platform/drivers/X/(un)bind:
 * the files the fake kernel takes requests from (and empties once it has read one) */
static bool fake_kernel_request(const char *path)
{
	size_t n = strlen(F.sys);
	const char *p = path + n, *slash;

	if (!under_sys(path))
		return false;
	if (strcmp(p, "/bus/pci/drivers_probe") == 0)
		return true;
	if (strncmp(p, "/bus/pci/drivers/", 17) == 0)
		p += 17;
	else if (strncmp(p, "/bus/platform/drivers/", 22) == 0)
		p += 22;
	else
		return false;
	slash = strchr(p, '/');
	return slash && (strcmp(slash, "/bind") == 0 || strcmp(slash, "/unbind") == 0);
}

static void log_line(const char *line)
{
	REAL(open);
	REAL(write);
	int fd;

	if (!*F.log)
		return;
	fd = real_open(F.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void)!real_write(fd, line, strlen(line));
	close(fd);
}

/* One host write about to happen. Returns 0 to go on, -errno to fail the call instead; kills
 * the process for kill-before. *ret_n is the write's number, for after(). */
static int before(const char *op, const char *path, const char *path2, unsigned long *ret_n)
{
	char line[PATH_MAX * 2 + 128];
	const char *rel = under_root(path), *rel2 = path2 ? under_root(path2) : NULL;
	unsigned long n;

	*ret_n = 0;
	if (!rel && !rel2)
		return 0;
	if (!op_counted(op))
		return 0;
	n = __atomic_add_fetch(&F.count, 1, __ATOMIC_SEQ_CST);
	*ret_n = n;
	if (path2)
		snprintf(line, sizeof(line), "%lu %s %s -> %s\n", n, op, rel ? rel : path,
			 rel2 ? rel2 : path2);
	else
		snprintf(line, sizeof(line), "%lu %s %s\n", n, op, rel);
	log_line(line);
	if (n != F.at && !(F.onward && n > F.at))
		return 0;
	switch (F.mode) {
	case MODE_KILL_BEFORE:
		snprintf(line, sizeof(line), "# fault: kill-before at %lu\n", n);
		log_line(line);
		raise(SIGKILL);
		return 0;
	case MODE_ERRNO:
		snprintf(line, sizeof(line), "# fault: errno %d (%s) at %lu\n", F.err,
			 strerror(F.err), n);
		log_line(line);
		return -F.err;
	default:
		return 0;
	}
}

static void after(unsigned long n)
{
	char line[64];

	if (n && n == F.at && F.mode == MODE_KILL_AFTER) {
		snprintf(line, sizeof(line), "# fault: kill-after at %lu\n", n);
		log_line(line);
		raise(SIGKILL);
	}
}

static bool exists(const char *path, struct stat *st)
{
	struct stat s;

	return lstat(path, st ? st : &s) == 0;
}

/* Does open(@path, @flags) create or truncate something? Its op name, or NULL. */
static const char *open_changes(const char *path, int flags)
{
	struct stat st;

	if (!under_root(path))
		return NULL;
	if (!exists(path, &st))
		return flags & O_CREAT ? "open" : NULL;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return NULL; /* fails with EEXIST */
	if ((flags & O_TRUNC) && S_ISREG(st.st_mode) && st.st_size > 0 && !under_sys(path))
		return "open";
	return NULL;
}

static int sysfs_flags(const char *path, int flags)
{
	if (F.at && (flags & O_TRUNC) && under_sys(path))
		return flags & ~O_TRUNC;
	return flags;
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode)
{
	REAL(openat);
	char abs[PATH_MAX];
	const char *op = NULL;
	unsigned long n = 0;
	int fd, r, f = flags;

	if (!active() || !abs_path(dirfd, path, abs, sizeof(abs)))
		return real_openat(dirfd, path, flags, mode);
	in_hook++;
	if ((flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) && under_root(abs)) {
		op = open_changes(abs, flags);
		f = sysfs_flags(abs, flags);
	}
	r = op ? before(op, abs, NULL, &n) : 0;
	in_hook--;
	if (r < 0) {
		errno = -r;
		return -1;
	}
	fd = real_openat(dirfd, path, f, mode);
	after(n);
	return fd;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = open_mode(flags, ap);
	va_end(ap);
	return do_open(AT_FDCWD, path, flags, m);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = open_mode(flags, ap);
	va_end(ap);
	return do_open(AT_FDCWD, path, flags, m);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = open_mode(flags, ap);
	va_end(ap);
	return do_open(dirfd, path, flags, m);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = open_mode(flags, ap);
	va_end(ap);
	return do_open(dirfd, path, flags, m);
}

int creat(const char *path, mode_t mode)
{
	return do_open(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int creat64(const char *path, mode_t mode)
{
	return do_open(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

static int fopen_flags(const char *mode)
{
	int f = 0;

	if (strchr(mode, '+'))
		f |= O_RDWR;
	else if (mode[0] != 'r')
		f |= O_WRONLY;
	if (mode[0] == 'w')
		f |= O_CREAT | O_TRUNC;
	else if (mode[0] == 'a')
		f |= O_CREAT | O_APPEND;
	return f;
}

static FILE *do_fopen(FILE *(*real)(const char *, const char *), const char *path, const char *mode)
{
	char abs[PATH_MAX];
	const char *op;
	unsigned long n = 0;
	FILE *f;
	int r;

	if (!active() || !abs_path(AT_FDCWD, path, abs, sizeof(abs)))
		return real(path, mode);
	in_hook++;
	op = open_changes(abs, fopen_flags(mode)) ? "fopen" : NULL;
	r = op ? before(op, abs, NULL, &n) : 0;
	in_hook--;
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	f = real(path, mode);
	after(n);
	return f;
}

FILE *fopen(const char *path, const char *mode)
{
	REAL(fopen);
	return do_fopen(real_fopen, path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	REAL(fopen64);
	return do_fopen(real_fopen64, path, mode);
}

/* mkstemp() and friends create through libc-internal calls, invisible to open() above: one
 * host write, logged with the template (the name is not known before). -errno to fail. */
static int mktemp_before(const char *tmpl, unsigned long *n)
{
	char abs[PATH_MAX];
	int r = 0;

	*n = 0;
	if (!active() || !abs_path(AT_FDCWD, tmpl, abs, sizeof(abs)))
		return 0;
	in_hook++;
	if (under_root(abs))
		r = before("mkstemp", abs, NULL, n);
	in_hook--;
	return r;
}

static int mktemp_after(int fd, unsigned long n)
{
	after(n);
	return fd;
}

int mkstemp(char *tmpl)
{
	REAL(mkstemp);
	unsigned long n;
	int r = mktemp_before(tmpl, &n);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	return mktemp_after(real_mkstemp(tmpl), n);
}

int mkstemp64(char *tmpl)
{
	REAL(mkstemp64);
	unsigned long n;
	int r = mktemp_before(tmpl, &n);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	return mktemp_after(real_mkstemp64(tmpl), n);
}

int mkostemp(char *tmpl, int flags)
{
	REAL(mkostemp);
	unsigned long n;
	int r = mktemp_before(tmpl, &n);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	return mktemp_after(real_mkostemp(tmpl, flags), n);
}

int mkostemp64(char *tmpl, int flags)
{
	REAL(mkostemp64);
	unsigned long n;
	int r = mktemp_before(tmpl, &n);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	return mktemp_after(real_mkostemp64(tmpl, flags), n);
}

int mkstemps(char *tmpl, int suffixlen)
{
	REAL(mkstemps);
	unsigned long n;
	int r = mktemp_before(tmpl, &n);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	return mktemp_after(real_mkstemps(tmpl, suffixlen), n);
}

int mkostemps(char *tmpl, int suffixlen, int flags)
{
	REAL(mkostemps);
	unsigned long n;
	int r = mktemp_before(tmpl, &n);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	return mktemp_after(real_mkostemps(tmpl, suffixlen, flags), n);
}

/* A descriptor-based change: @op on @fd when @changes. -errno to fail, 0 to go on. */
static int fd_before(const char *op, int fd, bool changes, unsigned long *n, bool *ret_sysfs)
{
	char path[PATH_MAX];
	int r;

	*n = 0;
	*ret_sysfs = false;
	if (!active() || !changes || !fd_path(fd, path, sizeof(path)) || !under_root(path))
		return 0;
	in_hook++;
	r = before(op, path, NULL, n);
	in_hook--;
	/* an attribute under sys/ is opened without O_TRUNC when FAULT_AT is set (see open) */
	*ret_sysfs = F.at && under_sys(path) && lseek(fd, 0, SEEK_CUR) == 0;
	return r;
}

/* the attribute opened without O_TRUNC: a write replaces what it holds, as in sysfs */
static void sysfs_replace(int fd)
{
	REAL(ftruncate);
	(void)real_ftruncate(fd, 0);
	(void)lseek(fd, 0, SEEK_SET);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	REAL(write);
	char path[PATH_MAX];
	unsigned long n;
	bool sysfs;
	ssize_t ret;
	int r = fd_before("write", fd, len > 0, &n, &sysfs);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	if (sysfs)
		sysfs_replace(fd);
	ret = real_write(fd, buf, len);
	if (ret > 0 && sysfs && fd < MAX_FDS && fd_path(fd, path, sizeof(path)))
		request_fd[fd] = fake_kernel_request(path);
	after(n);
	return ret;
}

/* After a request to the fake kernel: wait (up to 2 s) until it has emptied the file, and a
 * little longer for it to act on what it read. */
int close(int fd)
{
	REAL(close);
	char path[PATH_MAX];
	struct timespec tick = { 0, 1000000 };
	struct stat st;
	bool request = fd >= 0 && fd < MAX_FDS && request_fd[fd];
	int ret;

	if (!request)
		return real_close(fd);
	request_fd[fd] = 0;
	if (!active() || !fd_path(fd, path, sizeof(path)))
		return real_close(fd);
	ret = real_close(fd);
	for (int i = 0; i < 2000 && stat(path, &st) == 0 && st.st_size > 0; i++)
		nanosleep(&tick, NULL);
	nanosleep(&tick, NULL);
	return ret;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	REAL(pwrite);
	unsigned long n;
	bool sysfs;
	ssize_t ret;
	int r = fd_before("pwrite", fd, len > 0, &n, &sysfs);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	ret = real_pwrite(fd, buf, len, off);
	after(n);
	return ret;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	REAL(pwrite64);
	unsigned long n;
	bool sysfs;
	ssize_t ret;
	int r = fd_before("pwrite", fd, len > 0, &n, &sysfs);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	ret = real_pwrite64(fd, buf, len, off);
	after(n);
	return ret;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(writev);
	unsigned long n;
	bool sysfs, any = false;
	ssize_t ret;
	int r;

	for (int i = 0; i < cnt; i++)
		any = any || iov[i].iov_len > 0;
	r = fd_before("writev", fd, any, &n, &sysfs);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	if (sysfs)
		sysfs_replace(fd);
	ret = real_writev(fd, iov, cnt);
	after(n);
	return ret;
}

static bool size_differs(int fd, off_t len)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size != len;
}

int ftruncate(int fd, off_t len)
{
	REAL(ftruncate);
	unsigned long n;
	bool sysfs;
	int r = fd_before("ftruncate", fd, active() && size_differs(fd, len), &n, &sysfs), ret;

	if (r < 0) {
		errno = -r;
		return -1;
	}
	ret = real_ftruncate(fd, len);
	after(n);
	return ret;
}

int ftruncate64(int fd, off64_t len)
{
	REAL(ftruncate64);
	unsigned long n;
	bool sysfs;
	int r = fd_before("ftruncate", fd, active() && size_differs(fd, (off_t)len), &n, &sysfs),
	    ret;

	if (r < 0) {
		errno = -r;
		return -1;
	}
	ret = real_ftruncate64(fd, len);
	after(n);
	return ret;
}

static bool mode_differs(int fd, mode_t mode)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (st.st_mode & 07777) != (mode & 07777);
}

int fchmod(int fd, mode_t mode)
{
	REAL(fchmod);
	unsigned long n;
	bool sysfs;
	int r = fd_before("fchmod", fd, active() && mode_differs(fd, mode), &n, &sysfs), ret;

	if (r < 0) {
		errno = -r;
		return -1;
	}
	ret = real_fchmod(fd, mode);
	after(n);
	return ret;
}

int fsync(int fd)
{
	REAL(fsync);
	unsigned long n;
	bool sysfs;
	int r = fd_before("fsync", fd, true, &n, &sysfs), ret;

	if (r < 0) {
		errno = -r;
		return -1;
	}
	ret = real_fsync(fd);
	after(n);
	return ret;
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	unsigned long n;
	bool sysfs;
	int r = fd_before("fdatasync", fd, true, &n, &sysfs), ret;

	if (r < 0) {
		errno = -r;
		return -1;
	}
	ret = real_fdatasync(fd);
	after(n);
	return ret;
}

/* A path-based change. @check tells whether the call changes anything. */
enum check { CHANGES, IF_EXISTS, IF_MISSING, IF_EMPTY_DIR, IF_SIZE, IF_MODE };

struct pcall {
	const char *op;
	int dirfd;
	const char *path;
	enum check check;
	long long arg; /* size or mode */
	int dirfd2;
	const char *path2;
	unsigned long n;
};

static bool dir_empty(const char *path)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(path);

	if (!d)
		return false;
	while (empty && (de = readdir(d)))
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

static int path_before(struct pcall *c)
{
	char abs[PATH_MAX], abs2[PATH_MAX];
	struct stat st;
	bool changes = false, have2 = false;
	int r;

	c->n = 0;
	if (!active() || !abs_path(c->dirfd, c->path, abs, sizeof(abs)))
		return 0;
	if (c->path2)
		have2 = abs_path(c->dirfd2, c->path2, abs2, sizeof(abs2));
	if (!under_root(abs) && !(have2 && under_root(abs2)))
		return 0;
	in_hook++;
	switch (c->check) {
	case CHANGES:
		changes = true;
		break;
	case IF_EXISTS:
		changes = exists(abs, NULL);
		break;
	case IF_MISSING:
		changes = !exists(abs, NULL);
		break;
	case IF_EMPTY_DIR:
		changes = dir_empty(abs);
		break;
	case IF_SIZE:
		changes = stat(abs, &st) == 0 && S_ISREG(st.st_mode) && st.st_size != c->arg;
		break;
	case IF_MODE:
		changes = stat(abs, &st) == 0 && (st.st_mode & 07777) != (c->arg & 07777);
		break;
	}
	r = changes ? before(c->op, abs, have2 ? abs2 : NULL, &c->n) : 0;
	in_hook--;
	return r;
}

#define PATH_CALL(pc, call)                                                                        \
	do {                                                                                       \
		int r_ = path_before(&(pc)), ret_;                                                 \
                                                                                                   \
		if (r_ < 0) {                                                                      \
			errno = -r_;                                                               \
			return -1;                                                                 \
		}                                                                                  \
		ret_ = (call);                                                                     \
		after((pc).n);                                                                     \
		return ret_;                                                                       \
	} while (0)

int mkdir(const char *path, mode_t mode)
{
	REAL(mkdir);
	struct pcall c = { "mkdir", AT_FDCWD, path, IF_MISSING, 0, 0, NULL, 0 };

	PATH_CALL(c, real_mkdir(path, mode));
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
	REAL(mkdirat);
	struct pcall c = { "mkdir", dirfd, path, IF_MISSING, 0, 0, NULL, 0 };

	PATH_CALL(c, real_mkdirat(dirfd, path, mode));
}

int rmdir(const char *path)
{
	REAL(rmdir);
	struct pcall c = { "rmdir", AT_FDCWD, path, IF_EMPTY_DIR, 0, 0, NULL, 0 };

	PATH_CALL(c, real_rmdir(path));
}

int unlink(const char *path)
{
	REAL(unlink);
	struct pcall c = { "unlink", AT_FDCWD, path, IF_EXISTS, 0, 0, NULL, 0 };

	PATH_CALL(c, real_unlink(path));
}

int unlinkat(int dirfd, const char *path, int flags)
{
	REAL(unlinkat);
	struct pcall c = { flags & AT_REMOVEDIR ? "rmdir" : "unlink",
			   dirfd,
			   path,
			   flags & AT_REMOVEDIR ? IF_EMPTY_DIR : IF_EXISTS,
			   0,
			   0,
			   NULL,
			   0 };

	PATH_CALL(c, real_unlinkat(dirfd, path, flags));
}

int remove(const char *path)
{
	REAL(remove);
	struct stat st;
	bool dir = lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
	struct pcall c = { dir ? "rmdir" : "unlink",
			   AT_FDCWD,
			   path,
			   dir ? IF_EMPTY_DIR : IF_EXISTS,
			   0,
			   0,
			   NULL,
			   0 };

	PATH_CALL(c, real_remove(path));
}

int rename(const char *from, const char *to)
{
	REAL(rename);
	struct pcall c = { "rename", AT_FDCWD, from, IF_EXISTS, 0, AT_FDCWD, to, 0 };

	PATH_CALL(c, real_rename(from, to));
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
	REAL(renameat);
	struct pcall c = { "rename", fd1, from, IF_EXISTS, 0, fd2, to, 0 };

	PATH_CALL(c, real_renameat(fd1, from, fd2, to));
}

int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags)
{
	REAL(renameat2);
	struct pcall c = { "rename", fd1, from, IF_EXISTS, 0, fd2, to, 0 };

	PATH_CALL(c, real_renameat2(fd1, from, fd2, to, flags));
}

int symlink(const char *target, const char *path)
{
	REAL(symlink);
	struct pcall c = { "symlink", AT_FDCWD, path, IF_MISSING, 0, 0, NULL, 0 };

	PATH_CALL(c, real_symlink(target, path));
}

int symlinkat(const char *target, int dirfd, const char *path)
{
	REAL(symlinkat);
	struct pcall c = { "symlink", dirfd, path, IF_MISSING, 0, 0, NULL, 0 };

	PATH_CALL(c, real_symlinkat(target, dirfd, path));
}

int link(const char *from, const char *to)
{
	REAL(link);
	struct pcall c = { "link", AT_FDCWD, to, IF_MISSING, 0, 0, NULL, 0 };

	PATH_CALL(c, real_link(from, to));
}

int linkat(int fd1, const char *from, int fd2, const char *to, int flags)
{
	REAL(linkat);
	struct pcall c = { "link", fd2, to, IF_MISSING, 0, 0, NULL, 0 };

	PATH_CALL(c, real_linkat(fd1, from, fd2, to, flags));
}

int truncate(const char *path, off_t len)
{
	REAL(truncate);
	struct pcall c = { "truncate", AT_FDCWD, path, IF_SIZE, (long long)len, 0, NULL, 0 };

	PATH_CALL(c, real_truncate(path, len));
}

int chmod(const char *path, mode_t mode)
{
	REAL(chmod);
	struct pcall c = { "chmod", AT_FDCWD, path, IF_MODE, (long long)mode, 0, NULL, 0 };

	PATH_CALL(c, real_chmod(path, mode));
}

int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	REAL(fchmodat);
	struct pcall c = { "chmod", dirfd, path, IF_MODE, (long long)mode, 0, NULL, 0 };

	PATH_CALL(c, real_fchmodat(dirfd, path, mode, flags));
}
