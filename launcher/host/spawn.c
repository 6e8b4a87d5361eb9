/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "host/spawn.h"

/* What the child reports through the pipe when it cannot exec. */
enum child_step {
	CHILD_STEP_STDIO,
	CHILD_STEP_EXEC,
};

struct child_report {
	int step;
	int errnum;
};

/* The layout the kernel returns from getdents64(2). */
struct fd_dirent {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* close_range(2) exists since Linux 5.9; called through syscall() so that older C libraries
 * build too. @keep: sorted, distinct, each >= 3. */
static int close_range_except(const int *keep, size_t n)
{
#ifdef SYS_close_range
	unsigned from = 3;

	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] > from &&
		    syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0U) < 0)
			return negative_errno();
		from = (unsigned)keep[i] + 1;
	}
	if (syscall(SYS_close_range, from, ~0U, 0U) < 0)
		return negative_errno();
	return 0;
#else
	(void)keep;
	(void)n;
	return -ENOSYS;
#endif
}

static bool kept(const int *keep, size_t n, int fd)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

static int parse_fd(const char *s)
{
	int fd = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || fd > (INT32_MAX - 9) / 10)
			return -1;
		fd = fd * 10 + (*s - '0');
	}
	return fd;
}

/* Without close_range: the kernel's own list in /proc/self/fd, read with getdents64 into a
 * stack buffer (opendir() would malloc, which is not safe after fork in a threaded process). */
static int close_listed(const int *keep, size_t n_keep)
{
	char buf[4096] __attribute__((aligned(8)));
	int dfd, closed;

	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return negative_errno();
	/* Closing while reading moves the directory under us: read again from the start until a
	 * pass closes nothing. */
	do {
		long n;

		closed = 0;
		if (lseek(dfd, 0, SEEK_SET) < 0)
			break;
		while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
			for (long off = 0; off < n;) {
				const struct fd_dirent *d = (const struct fd_dirent *)(buf + off);
				int fd = parse_fd(d->d_name);

				off += d->d_reclen;
				if (fd < 3 || kept(keep, n_keep, fd) || fd == dfd)
					continue;
				if (close(fd) == 0 || errno != EBADF)
					closed++;
			}
		}
		if (n < 0) {
			int r = negative_errno();

			close(dfd);
			return r;
		}
	} while (closed > 0);
	close(dfd);
	return 0;
}

/* Without /proc: every number below the descriptor limit. */
static void close_up_to_limit(const int *keep, size_t n_keep)
{
	struct rlimit rl;
	rlim_t max = 65536;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur;
	if (max > INT32_MAX)
		max = INT32_MAX;
	for (int fd = 3; (rlim_t)fd < max; fd++)
		if (!kept(keep, n_keep, fd))
			close(fd);
}

int spawn_close_fds_except(const int *keep, size_t n_keep, bool use_close_range)
{
	if (use_close_range && close_range_except(keep, n_keep) == 0)
		return 0;
	if (close_listed(keep, n_keep) == 0)
		return 0;
	close_up_to_limit(keep, n_keep);
	return 0;
}

int spawn_close_fds(int keep, bool use_close_range)
{
	return spawn_close_fds_except(&keep, keep >= 3 ? 1 : 0, use_close_range);
}

/* Make @from the descriptor @to, without close-on-exec. dup2() onto itself would keep the flag. */
static int move_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

_noreturn_ static void child_fail(int report_fd, enum child_step step)
{
	struct child_report rep = { .step = step, .errnum = errno };

	if (write(report_fd, &rep, sizeof(rep)) < 0) {
		/* nobody left to tell: the exit status says it */
	}
	_exit(127);
}

/* Between fork and exec: async-signal-safe calls only. Every descriptor passed in is >= 3 and
 * close-on-exec. */
_noreturn_ static void child(char *const *argv, int null_fd, int log_fd, int err_fd, int report_fd,
			     const int *keep, size_t n_keep)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t empty;

	/* Handlers are reset by exec anyway, but ignored signals (gpurun ignores SIGPIPE) are
	 * inherited. glibc refuses to touch its internal real-time signals (32, 33), which gpurun
	 * may have inherited ignored: for those the system call itself, with an all-zero kernel
	 * sigaction (SIG_DFL, no flags, empty mask) in any architecture's layout. The kernel
	 * refuses SIGKILL and SIGSTOP, which cannot be ignored anyway. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, &sa, NULL) < 0 && errno == EINVAL) {
			static const unsigned long dfl[8];

			(void)syscall(SYS_rt_sigaction, sig, dfl, NULL, (size_t)(NSIG - 1) / 8);
		}
	sigemptyset(&empty);
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);

	if (null_fd >= 0 && move_fd(null_fd, STDIN_FILENO) < 0)
		child_fail(report_fd, CHILD_STEP_STDIO);
	if (log_fd >= 0 &&
	    (move_fd(log_fd, STDOUT_FILENO) < 0 || move_fd(log_fd, STDERR_FILENO) < 0))
		child_fail(report_fd, CHILD_STEP_STDIO);
	if (err_fd > 2 && move_fd(err_fd, STDERR_FILENO) < 0)
		child_fail(report_fd, CHILD_STEP_STDIO);
	/* the report pipe is close-on-exec: kept open until exec succeeds; @keep (report_fd among
	 * them) is sorted */
	(void)spawn_close_fds_except(keep, n_keep, true);
	for (size_t i = 0; i < n_keep; i++)
		if (keep[i] != report_fd && fcntl(keep[i], F_SETFD, 0) < 0)
			child_fail(report_fd, CHILD_STEP_STDIO);
	execvp(argv[0], argv);
	child_fail(report_fd, CHILD_STEP_EXEC);
}

/* open()/pipe2() return the lowest free number, which is 0-2 when gpurun itself was started
 * with a closed standard stream; the child needs its sources above 2. */
static int fd_above_stdio(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0) {
		int r = negative_errno();

		close(fd);
		errno = -r;
		return -1;
	}
	close(fd);
	return nfd;
}

int spawn_start(char *const *argv, const struct spawn_options *o, pid_t *ret_pid, struct error *err)
{
	static const struct spawn_options defaults = {};
	_cleanup_close_ int null_fd = -1, log_fd = -1, rd = -1, wr = -1;
	struct child_report rep = {};
	int pipefd[2], r, keep[SPAWN_KEEP_MAX + 1];
	size_t n_keep = 0;
	ssize_t n;
	pid_t pid;

	if (!argv || !argv[0])
		return error_set(err, EINVAL, "Nothing to execute");
	if (!o)
		o = &defaults;
	if (o->n_keep_fds > SPAWN_KEEP_MAX)
		return error_set(err, EINVAL, "Failed to start %s: too many descriptors to pass",
				 argv[0]);
	for (size_t i = 0; i < o->n_keep_fds; i++)
		if (o->keep_fds[i] < 3 || fcntl(o->keep_fds[i], F_GETFD) < 0)
			return error_set(err, EBADF,
					 "Failed to start %s: descriptor %d cannot be passed on",
					 argv[0], o->keep_fds[i]);
	if (o->stderr_fd > 2 && fcntl(o->stderr_fd, F_GETFD) < 0)
		return error_set(err, EBADF,
				 "Failed to start %s: descriptor %d cannot be passed on", argv[0],
				 o->stderr_fd);

	if (!o->keep_stdin) {
		null_fd = fd_above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY));
		if (null_fd < 0)
			return error_set(err, errno, "Failed to open /dev/null: %s",
					 strerror(errno));
	}
	if (o->log_path) {
		/* O_NOFOLLOW: the log lives in the state dir, where a symlink is never ours */
		log_fd = fd_above_stdio(
		    open(o->log_path,
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600));
		if (log_fd < 0)
			return error_set(err, errno, "Failed to open %s: %s", o->log_path,
					 strerror(errno));
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return error_set(err, errno, "Failed to start %s: %s", argv[0], strerror(errno));
	rd = fd_above_stdio(pipefd[0]);
	wr = fd_above_stdio(pipefd[1]);
	if (rd < 0 || wr < 0)
		return error_set(err, errno, "Failed to start %s: %s", argv[0], strerror(errno));

	/* sorted here, the child may not allocate or call qsort() */
	keep[n_keep++] = wr;
	for (size_t i = 0; i < o->n_keep_fds; i++) {
		size_t k = n_keep++;

		for (; k > 0 && keep[k - 1] > o->keep_fds[i]; k--)
			keep[k] = keep[k - 1];
		keep[k] = o->keep_fds[i];
	}

	pid = fork();
	if (pid < 0)
		return error_set(err, errno, "Failed to start %s: %s", argv[0], strerror(errno));
	if (pid == 0)
		child(argv, null_fd, log_fd, o->stderr_fd, wr, keep, n_keep);

	close(TAKE_FD(wr));
	do
		n = read(rd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		/* EOF: the pipe was closed by a successful exec */
		*ret_pid = pid;
		return 0;
	}
	if (n < 0) {
		/* we cannot tell whether it runs: it must not run unknown to the caller */
		r = negative_errno();
		(void)kill(pid, SIGKILL);
		(void)spawn_wait(pid, true, &(struct spawn_status){});
		return error_set(err, r, "Failed to start %s: %s", argv[0], strerror(-r));
	}

	/* the child reported why it did not exec, and exits */
	r = n == (ssize_t)sizeof(rep) && rep.errnum > 0 ? -rep.errnum : -EIO;
	(void)spawn_wait(pid, true, &(struct spawn_status){});
	if (n == (ssize_t)sizeof(rep) && rep.step == CHILD_STEP_EXEC)
		return error_set(err, r, "Failed to execute %s: %s", argv[0], strerror(-r));
	return error_set(err, r, "Failed to start %s: %s", argv[0], strerror(-r));
}

int spawn_wait(pid_t pid, bool block, struct spawn_status *ret)
{
	int status;
	pid_t w;

	do
		w = waitpid(pid, &status, block ? 0 : WNOHANG);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return negative_errno();
	if (w == 0)
		return 0;
	if (WIFSIGNALED(status))
		*ret = (struct spawn_status){ .signaled = true, .code = WTERMSIG(status) };
	else
		*ret = (struct spawn_status){ .code = WEXITSTATUS(status) };
	return 1;
}

int spawn_stop(pid_t pid, unsigned timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct spawn_status st;
	int r;

	if (pid <= 0)
		return -EINVAL;
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return negative_errno();
	for (unsigned step = 1;; step = step < 50 ? step * 2 : 50) {
		struct timespec ts = { 0, (long)step * 1000000L };

		r = spawn_wait(pid, false, &st);
		if (r > 0 || r == -ECHILD)
			return 0;
		if (r < 0)
			return r;
		if (now_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	(void)kill(pid, SIGKILL);
	(void)spawn_wait(pid, true, &st);
	return -ETIMEDOUT;
}

int spawn_run(char *const *argv, const struct spawn_options *o, struct spawn_status *ret,
	      struct error *err)
{
	struct spawn_status st;
	pid_t pid;
	int r;

	r = spawn_start(argv, o, &pid, err);
	if (r < 0)
		return r;
	r = spawn_wait(pid, true, &st);
	if (r < 0)
		return error_set(err, r, "Failed to wait for %s: %s", argv[0], strerror(-r));
	*ret = st;
	return 0;
}

static int program_at(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	return access(path, X_OK) < 0 ? -errno : 0;
}

int spawn_find_program(const char *name, char **ret_path)
{
	_cleanup_free_ char *dflt = NULL, *copy = NULL;
	const char *path;
	int r, found = -ENOENT;

	if (!name || !*name)
		return -EINVAL;
	if (strchr(name, '/')) {
		r = program_at(name);
		if (r < 0)
			return r == -ENOTDIR ? -ENOENT : r;
		if (ret_path && !(*ret_path = strdup(name)))
			return -ENOMEM;
		return 0;
	}
	path = getenv("PATH");
	if (!path) {
		size_t n = confstr(_CS_PATH, NULL, 0);

		dflt = n ? malloc(n) : NULL;
		if (!dflt)
			return -ENOMEM;
		(void)confstr(_CS_PATH, dflt, n);
		path = dflt;
	}
	/* strsep keeps empty entries (the current directory), as execvp reads them */
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	for (char *rest = copy, *dir; (dir = strsep(&rest, ":"));) {
		_cleanup_free_ char *cand = NULL;

		if (asprintf(&cand, "%s/%s", *dir ? dir : ".", name) < 0)
			return -ENOMEM;
		r = program_at(cand);
		if (r == 0) {
			if (ret_path)
				*ret_path = TAKE_PTR(cand);
			return 0;
		}
		if (r == -EACCES)
			found = -EACCES;
	}
	return found;
}
