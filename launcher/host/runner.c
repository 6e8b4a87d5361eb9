/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "host/dlopen-libvirt.h"
#include "host/runner.h"

long long runner_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void forward_set(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGINT);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGHUP);
	sigaddset(s, SIGCHLD);
}

int runner_block_signals(sigset_t *ret_old)
{
	sigset_t s;

	forward_set(&s);
	if (sigprocmask(SIG_BLOCK, &s, ret_old) < 0)
		return negative_errno();
	return 0;
}

static void close_stray_fds(int keep)
{
	long max;

#ifdef SYS_close_range
	if (keep < 0 && syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		if (fd != keep)
			close(fd);
}

/* In the child, between fork and exec: only async-signal-safe calls. Reports a failure through
 * @err_fd (CLOEXEC: closed by a successful exec) and exits 127. */
_noreturn_ static void child(char *const *argv, const char *log_path, int err_fd)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE };
	sigset_t empty;
	int e;

	for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);

	if (log_path) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			goto fail;
	}
	if (err_fd < 3) /* cannot happen: 0-2 are open in gpurun */
		goto fail;
	close_stray_fds(err_fd);
	execvp(argv[0], argv);
fail:
	e = errno;
	if (write(err_fd, &e, sizeof(e)) < 0) {
		/* nothing left to report to */
	}
	_exit(127);
}

/* fork + exec with the child set-up above. 0 and *ret_pid, or *ret_exec_error (negative) when
 * the exec failed (the child is reaped), or a negative errno when no child could be made. */
static int spawn(char *const *argv, const char *log_path, pid_t *ret_pid, int *ret_exec_error)
{
	int pipefd[2], e = 0, status, r;
	ssize_t n;
	pid_t pid;

	if (!argv || !argv[0])
		return -EINVAL;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return negative_errno();
	pid = fork();
	if (pid < 0) {
		r = negative_errno();
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	if (pid == 0) {
		close(pipefd[0]);
		child(argv, log_path, pipefd[1]);
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	*ret_exec_error = 0;
	if (n == sizeof(e)) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		*ret_exec_error = -e;
		return 0;
	}
	*ret_pid = pid;
	return 0;
}

int runner_spawn(char *const *argv, const char *log_path, pid_t *ret_pid)
{
	int r, exec_error;
	pid_t pid = 0;

	r = spawn(argv, log_path, &pid, &exec_error);
	if (r < 0)
		return r;
	if (exec_error)
		return exec_error;
	*ret_pid = pid;
	return 0;
}

int runner_stop(pid_t pid, unsigned timeout_ms)
{
	long long deadline = runner_now_ms() + timeout_ms;
	int status;

	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return negative_errno();
	for (unsigned step = 1;; step = step < 50 ? step * 2 : 50) {
		struct timespec ts = { 0, (long)step * 1000000L };
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid || (w < 0 && errno == ECHILD))
			return 0;
		if (runner_now_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return -ETIMEDOUT;
}

int runner_qemu(char *const *argv, const char *log_path, struct runner_result *ret)
{
	struct runner_result res = {};
	sigset_t s;
	int status, r, exec_error;
	pid_t pid = 0;

	forward_set(&s);
	res.exec_ms = runner_now_ms();
	r = spawn(argv, log_path, &pid, &exec_error);
	if (r < 0)
		return r;
	if (exec_error) {
		res.exec_error = exec_error;
		res.exit_ms = runner_now_ms();
		*ret = res;
		return 0;
	}
	res.started = true;

	for (;;) {
		siginfo_t si;
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return negative_errno();
		if (sigwaitinfo(&s, &si) < 0)
			continue;
		if (si.si_signo == SIGCHLD)
			continue;
		res.forwarded = si.si_signo;
		(void)kill(pid, si.si_signo);
	}
	res.exit_ms = runner_now_ms();
	if (WIFSIGNALED(status)) {
		res.signaled = true;
		res.status = WTERMSIG(status);
	} else
		res.status = WEXITSTATUS(status);
	*ret = res;
	return 0;
}

static int libvirt_error(char **ret_error, const char *what)
{
	const char *m = sym_virGetLastErrorMessage ? sym_virGetLastErrorMessage() : NULL;

	if (ret_error && asprintf(ret_error, "%s: %s", what, m ? m : "unknown libvirt error") < 0)
		*ret_error = NULL;
	return -EIO;
}

int runner_libvirt(const char *uri, const char *xml, struct runner_result *ret, char **ret_error)
{
	struct runner_result res = {};
	virConnectPtr conn;
	virDomainPtr dom;
	sigset_t s;
	int r;

	r = dlopen_libvirt(ret_error);
	if (r < 0)
		return r;
	forward_set(&s);
	conn = sym_virConnectOpen(uri);
	if (!conn)
		return libvirt_error(ret_error, "Failed to connect to libvirt");
	res.exec_ms = runner_now_ms();
	dom = sym_virDomainCreateXML(conn, xml, 0);
	if (!dom) {
		r = libvirt_error(ret_error, "Failed to start the domain");
		sym_virConnectClose(conn);
		return r;
	}
	res.started = true;
	for (;;) {
		struct timespec tick = { .tv_sec = 0, .tv_nsec = 200 * 1000000L };
		siginfo_t si;
		int active = sym_virDomainIsActive(dom);

		if (active == 0)
			break;
		if (active < 0) {
			/* a transient domain that stopped is gone: lookups fail */
			break;
		}
		if (sigtimedwait(&s, &si, &tick) < 0 || si.si_signo == SIGCHLD)
			continue;
		res.forwarded = si.si_signo;
		if (sym_virDomainDestroy(dom) < 0) {
			r = libvirt_error(ret_error, "Failed to stop the domain");
			sym_virDomainFree(dom);
			sym_virConnectClose(conn);
			return r;
		}
	}
	res.exit_ms = runner_now_ms();
	sym_virDomainFree(dom);
	sym_virConnectClose(conn);
	*ret = res;
	return 0;
}
