/* SPDX-License-Identifier: GPL-2.0-or-later */
/* host/spawn.c, the one fork/exec: exec errors, exit status and signals, what the child
 * inherits (descriptors, stdin, signal dispositions and mask) and the log file. The children
 * are ordinary programs (ls, grep, sh, sleep) run by argv, as gpurun runs QEMU. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "host/spawn.h"
#include "util/fileio.h"

struct tmp {
	char dir[64];
	char log[128];
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/gpurun-test-spawn.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->log, sizeof(t->log), "%s/out.log", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	char p[160];

	(void)unlink(t->log);
	snprintf(p, sizeof(p), "%s/leak-me", t->dir);
	(void)unlink(p);
	(void)rmdir(t->dir);
	free(t);
	return 0;
}

/* Run @argv with stdout/stderr to a fresh log; return the log's text (malloc'd). */
static char *run_logged(struct tmp *t, char *const *argv, bool keep_stdin, struct spawn_status *st)
{
	_cleanup_(error_clear) struct error err = {};
	struct spawn_options o = { .log_path = t->log, .keep_stdin = keep_stdin };
	char *out = NULL;
	size_t len;

	(void)unlink(t->log);
	assert_int_equal(spawn_run(argv, &o, st, &err), 0);
	assert_false(error_is_set(&err));
	assert_int_equal(read_full_file(t->log, 1 << 20, &out, &len), 0);
	return out;
}

static void test_missing_binary(void **state)
{
	_cleanup_(error_clear) struct error err = {};
	char *argv[] = { (char *)"gpurun-no-such-program", NULL };
	char *abs[] = { (char *)"/nonexistent/qemu", NULL };
	pid_t pid = 0;

	(void)state;
	assert_int_equal(spawn_start(argv, NULL, &pid, &err), -ENOENT);
	assert_int_equal(pid, 0); /* not written on failure */
	assert_int_equal(err.errnum, ENOENT);
	assert_string_equal(err.message,
			    "Failed to execute gpurun-no-such-program: No such file or directory");
	assert_int_equal(spawn_start(abs, NULL, &pid, &err), -ENOENT);
	assert_string_equal(err.message,
			    "Failed to execute /nonexistent/qemu: No such file or directory");
	/* the failed child was reaped: no zombie left for us */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	/* NULL error object: the errno alone */
	assert_int_equal(spawn_start(argv, NULL, &pid, NULL), -ENOENT);
	assert_int_equal(spawn_start((char *[]){ NULL }, NULL, &pid, NULL), -EINVAL);
}

static void test_not_executable(void **state)
{
	struct tmp *t = *state;
	_cleanup_(error_clear) struct error err = {};
	char *argv[] = { t->log, NULL };
	pid_t pid;
	int fd;

	fd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(spawn_start(argv, NULL, &pid, &err), -EACCES);
	assert_non_null(strstr(err.message, "Failed to execute "));
}

static void test_exit_status_and_signal(void **state)
{
	char *f[] = { (char *)"false", NULL };
	char *t[] = { (char *)"true", NULL };
	char *killed[] = { (char *)"sh", (char *)"-c", (char *)"kill -s KILL $$", NULL };
	char *exit7[] = { (char *)"sh", (char *)"-c", (char *)"exit 7", NULL };
	struct spawn_status st;

	(void)state;
	assert_int_equal(spawn_run(t, NULL, &st, NULL), 0);
	assert_false(st.signaled);
	assert_int_equal(st.code, 0);
	assert_int_equal(spawn_run(f, NULL, &st, NULL), 0);
	assert_false(st.signaled);
	assert_int_equal(st.code, 1);
	assert_int_equal(spawn_run(exit7, NULL, &st, NULL), 0);
	assert_int_equal(st.code, 7);
	assert_int_equal(spawn_run(killed, NULL, &st, NULL), 0);
	assert_true(st.signaled);
	assert_int_equal(st.code, SIGKILL);
}

static void test_wait_and_stop(void **state)
{
	struct tmp *t = *state;
	char *argv[] = { (char *)"sleep", (char *)"30", NULL };
	char *ignores_term[] = { (char *)"sh", (char *)"-c",
				 (char *)"trap '' TERM; echo ready; while :; do sleep 0.05; done",
				 NULL };
	struct spawn_options o = { .log_path = t->log };
	struct spawn_status st;
	pid_t pid;

	assert_int_equal(spawn_start(argv, NULL, &pid, NULL), 0);
	assert_true(pid > 0);
	assert_int_equal(spawn_wait(pid, false, &st), 0); /* still running */
	assert_int_equal(spawn_stop(pid, 5000), 0);
	assert_int_equal(spawn_wait(pid, false, &st), -ECHILD); /* reaped */

	/* a child that ignores SIGTERM is killed after the timeout */
	(void)unlink(t->log);
	assert_int_equal(spawn_start(ignores_term, &o, &pid, NULL), 0);
	for (int i = 0; i < 1000; i++) { /* until the shell has set its trap: 10 s at most */
		_cleanup_free_ char *out = NULL;
		size_t len;

		if (read_full_file(t->log, 1 << 20, &out, &len) == 0 && strstr(out, "ready"))
			break;
		usleep(10 * 1000);
	}
	assert_int_equal(spawn_stop(pid, 200), -ETIMEDOUT);
	assert_int_equal(spawn_wait(pid, false, &st), -ECHILD);
}

/* A descriptor gpurun opened without O_CLOEXEC (a library may) does not reach the child. */
static void test_no_descriptor_leaks(void **state)
{
	struct tmp *t = *state;
	char *argv[] = { (char *)"ls", (char *)"-l", (char *)"/proc/self/fd/", NULL };
	_cleanup_free_ char *out = NULL;
	char leak[160];
	struct spawn_status st;
	int fd, high, n = 0;

	snprintf(leak, sizeof(leak), "%s/leak-me", t->dir);
	fd = open(leak, O_RDWR | O_CREAT, 0600); /* deliberately inheritable */
	assert_true(fd >= 0);
	high = fcntl(fd, F_DUPFD, 100); /* and one far above, past any small loop */
	assert_true(high >= 100);

	out = run_logged(t, argv, false, &st);
	assert_int_equal(st.code, 0);
	assert_null(strstr(out, "leak-me"));
	/* 0, 1, 2 and the directory ls reads: nothing else */
	for (const char *p = out; (p = strstr(p, " -> ")); p++)
		n++;
	assert_int_equal(n, 4);
	assert_non_null(strstr(out, " 0 -> /dev/null"));
	close(fd);
	close(high);
}

/* The fallbacks for kernels without close_range(2), in a child of the test. */
static void test_close_fds_fallback(void **state)
{
	(void)state;
	for (int use_close_range = 0; use_close_range < 2; use_close_range++) {
		int status;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			int a = open("/dev/null", O_RDONLY);
			int keep = open("/dev/null", O_RDONLY);
			int b = fcntl(a, F_DUPFD, 200);

			if (a < 3 || keep <= a || b < 200)
				_exit(10);
			if (spawn_close_fds(keep, use_close_range) < 0)
				_exit(11);
			if (fcntl(a, F_GETFD) >= 0 || errno != EBADF)
				_exit(12);
			if (fcntl(b, F_GETFD) >= 0 || errno != EBADF)
				_exit(13);
			if (fcntl(keep, F_GETFD) < 0)
				_exit(14);
			if (fcntl(0, F_GETFD) < 0 || fcntl(2, F_GETFD) < 0)
				_exit(15);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

/* SIGPIPE ignored and SIGTERM blocked in gpurun: the child has neither (nor glibc's internal
 * signals 32 and 33, which the environment that runs the tests may pass on ignored). */
static void test_default_signals(void **state)
{
	struct tmp *t = *state;
	char *argv[] = { (char *)"grep", (char *)"-E",
			 (char *)"^Sig(Ign|Blk):", (char *)"/proc/self/status", NULL };
	_cleanup_free_ char *out = NULL;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigset_t block, old_mask;
	struct spawn_status st;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	assert_int_equal(sigaction(SIGPIPE, &ign, &old_pipe), 0);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old_mask), 0);
	out = run_logged(t, argv, false, &st);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);

	assert_int_equal(st.code, 0);
	if (!strstr(out, "SigBlk:\t0000000000000000") || !strstr(out, "SigIgn:\t0000000000000000"))
		print_message("%s", out);
	assert_non_null(strstr(out, "SigBlk:\t0000000000000000"));
	assert_non_null(strstr(out, "SigIgn:\t0000000000000000"));
}

static void test_log_and_stdin(void **state)
{
	struct tmp *t = *state;
	char *echo[] = { (char *)"echo", (char *)"hello", NULL };
	char *err_out[] = { (char *)"ls", (char *)"/gpurun-nonexistent", NULL };
	char *stdin_of[] = { (char *)"readlink", (char *)"/proc/self/fd/0", NULL };
	_cleanup_(error_clear) struct error err = {};
	struct spawn_options o = { .log_path = t->log };
	_cleanup_free_ char *out = NULL, *out2 = NULL, *kept = NULL;
	char missing[200];
	struct spawn_status st;
	size_t len;
	int saved, fd;

	/* appended, stdout and stderr both */
	(void)unlink(t->log);
	assert_int_equal(spawn_run(echo, &o, &st, NULL), 0);
	assert_int_equal(spawn_run(echo, &o, &st, NULL), 0);
	assert_int_equal(spawn_run(err_out, &o, &st, NULL), 0);
	assert_int_not_equal(st.code, 0);
	assert_int_equal(read_full_file(t->log, 1 << 20, &out, &len), 0);
	assert_true(startswith(out, "hello\nhello\n"));
	assert_non_null(strstr(out, "gpurun-nonexistent"));

	/* a log that cannot be opened: no child at all */
	snprintf(missing, sizeof(missing), "%s/no/such/dir/log", t->dir);
	o.log_path = missing;
	assert_int_equal(spawn_run(echo, &o, &st, &err), -ENOENT);
	assert_non_null(strstr(err.message, "Failed to open "));

	/* stdin: /dev/null, or gpurun's own with keep_stdin */
	saved = fcntl(0, F_DUPFD_CLOEXEC, 3);
	assert_true(saved >= 0);
	fd = open(t->log, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(dup2(fd, 0) == 0);
	close(fd);
	out2 = run_logged(t, stdin_of, false, &st);
	kept = run_logged(t, stdin_of, true, &st);
	assert_true(dup2(saved, 0) == 0);
	close(saved);
	assert_string_equal(out2, "/dev/null\n");
	assert_non_null(strstr(kept, "out.log"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_binary),
		cmocka_unit_test_setup_teardown(test_not_executable, setup, teardown),
		cmocka_unit_test(test_exit_status_and_signal),
		cmocka_unit_test_setup_teardown(test_wait_and_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_descriptor_leaks, setup, teardown),
		cmocka_unit_test(test_close_fds_fallback),
		cmocka_unit_test_setup_teardown(test_default_signals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_and_stdin, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
