/* SPDX-License-Identifier: GPL-2.0-or-later */
/* host/runner.c: the backend table, and each row's start/wait/stop/describe on a command line
 * or domain given by hand (prepare() from a plan is covered by tests/cli/run.t): how the guest's
 * end is reported, signals passed on, exec and libvirt errors in the error object. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "host/dlopen-libvirt.h"
#include "host/runner.h"
#include "util/fileio.h"
#include "util/strv.h"

/* say() lines, joined with '\n' */
static void collect(void *userdata, const char *line)
{
	char **all = userdata;
	char *n = NULL;

	assert_true(asprintf(&n, "%s%s\n", strempty(*all), line) >= 0);
	free(*all);
	*all = n;
}

struct run {
	struct runner *r;
	struct runner_result res;
	struct error err;
	char *said;
	sigset_t old_mask;
};

static void run_init(struct run *t, enum profile_backend b)
{
	struct runner_options o = { .say = collect, .userdata = &t->said, .timeout_ms = 1000 };

	*t = (struct run){};
	assert_int_equal(runner_new(runner_backend_get(b), &o, &t->r), 0);
	assert_int_equal(runner_block_signals(&t->old_mask), 0);
}

static void run_done(struct run *t)
{
	sigset_t pending, s;
	siginfo_t si;
	struct timespec zero = {};

	t->r = runner_free(t->r);
	error_clear(&t->err);
	free(t->said);
	/* leave no signal of the test pending when the old mask returns */
	sigpending(&pending);
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	if (sigismember(&pending, SIGCHLD))
		(void)sigtimedwait(&s, &si, &zero);
	sigprocmask(SIG_SETMASK, &t->old_mask, NULL);
}

/* start + wait of the qemu row on @script (sh -c) */
static int run_qemu(struct run *t, const char *script, const char *log_path)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)script, NULL };
	const struct runner_backend *b = runner_backend_get(PROFILE_BACKEND_QEMU);
	int r;

	assert_int_equal(runner_set_command(t->r, argv, log_path), 0);
	r = b->start(t->r, &t->res, &t->err);
	if (r < 0)
		return r;
	return b->wait(t->r, &t->res, &t->err);
}

static void test_table(void **state)
{
	(void)state;
	for (int b = 0; b < _PROFILE_BACKEND_MAX; b++) {
		const struct runner_backend *rb = runner_backend_get(b);

		assert_non_null(rb);
		/* the row answers to the profile's `backend =` value */
		assert_string_equal(rb->name, profile_backend_to_string(b));
		assert_non_null(rb->start_event);
		assert_non_null(rb->prepare);
		assert_non_null(rb->describe);
		assert_non_null(rb->start);
		assert_non_null(rb->wait);
		assert_non_null(rb->stop);
	}
	assert_null(runner_backend_get(_PROFILE_BACKEND_MAX));
	assert_null(runner_backend_get((enum profile_backend) - 1));
}

static void test_qemu_exit_status(void **state)
{
	struct run t;

	(void)state;
	run_init(&t, PROFILE_BACKEND_QEMU);
	assert_int_equal(run_qemu(&t, "exit 0", NULL), 0);
	assert_true(t.res.started);
	assert_false(t.res.signaled);
	assert_int_equal(t.res.status, 0);
	assert_true(t.res.exec_ms > 0 && t.res.exit_ms >= t.res.exec_ms);
	assert_false(error_is_set(&t.err));
	assert_string_equal(t.said, "Starting sh\nQEMU exited with status 0\n");
	run_done(&t);

	run_init(&t, PROFILE_BACKEND_QEMU);
	assert_int_equal(run_qemu(&t, "exit 3", NULL), -EIO);
	assert_int_equal(t.res.status, 3);
	assert_string_equal(t.err.message, "QEMU exited with status 3");
	run_done(&t);

	run_init(&t, PROFILE_BACKEND_QEMU);
	assert_int_equal(run_qemu(&t, "kill -s KILL $$", NULL), -EIO);
	assert_true(t.res.signaled);
	assert_int_equal(t.res.status, SIGKILL);
	assert_string_equal(t.err.message, "QEMU was killed by signal 9 (Killed)");
	run_done(&t);
}

static void test_qemu_exec_error(void **state)
{
	const struct runner_backend *b = runner_backend_get(PROFILE_BACKEND_QEMU);
	char *argv[] = { (char *)"/nonexistent/qemu-system-x86_64", NULL };
	struct run t;

	(void)state;
	run_init(&t, PROFILE_BACKEND_QEMU);
	assert_int_equal(runner_set_command(t.r, argv, NULL), 0);
	assert_int_equal(b->start(t.r, &t.res, &t.err), -ENOENT);
	assert_false(t.res.started);
	assert_string_equal(t.err.message, "Failed to execute /nonexistent/qemu-system-x86_64: "
					   "No such file or directory");
	/* nothing to wait for */
	assert_int_equal(b->wait(t.r, &t.res, &t.err), -ECHILD);
	run_done(&t);
}

/* The guest's wait for the signal: bounded, so that a runner that forwards nothing fails the
 * test (exit 42) instead of hanging it. */
#define WAIT_5S "i=0; while [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done; "

/* A signal gpurun receives while the guest runs goes to QEMU, which ends as it likes. */
static void test_qemu_forwards_signals(void **state)
{
	struct run t;

	(void)state;
	run_init(&t, PROFILE_BACKEND_QEMU);
	assert_int_equal(
	    run_qemu(&t, "trap 'exit 0' TERM; kill -s TERM $PPID; " WAIT_5S "exit 42", NULL), 0);
	assert_int_equal(t.res.forwarded, SIGTERM);
	assert_int_equal(t.res.status, 0);
	assert_non_null(strstr(t.said, "Received Terminated, passed it to the guest\n"
				       "QEMU exited with status 0\n"));
	run_done(&t);

	/* ... and a QEMU that dies of it is reported as killed */
	run_init(&t, PROFILE_BACKEND_QEMU);
	assert_int_equal(run_qemu(&t, "kill -s HUP $PPID; " WAIT_5S "exit 42", NULL), -EIO);
	assert_int_equal(t.res.forwarded, SIGHUP);
	assert_true(t.res.signaled);
	assert_int_equal(t.res.status, SIGHUP);
	run_done(&t);
}

static void test_qemu_log_and_describe(void **state)
{
	char dir[] = "/tmp/gpurun-test-runner.XXXXXX";
	_cleanup_free_ char *log = NULL, *out = NULL, *desc = NULL;
	char *argv[] = { (char *)"qemu-system-x86_64", (char *)"-name", (char *)"a b", NULL };
	size_t len;
	FILE *f;
	struct run t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	log = path_join(dir, "qemu.log");
	run_init(&t, PROFILE_BACKEND_QEMU);
	assert_int_equal(run_qemu(&t, "echo to-stdout; echo to-stderr >&2", log), 0);
	assert_int_equal(read_full_file(log, 1 << 20, &out, &len), 0);
	assert_string_equal(out, "to-stdout\nto-stderr\n");
	assert_true(startswith(t.said, "QEMU output goes to "));

	/* dry run: the command line, shell-quoted */
	assert_int_equal(runner_set_command(t.r, argv, NULL), 0);
	f = open_memstream(&desc, &len);
	assert_non_null(f);
	assert_int_equal(runner_backend_get(PROFILE_BACKEND_QEMU)->describe(t.r, f), 0);
	fclose(f);
	assert_true(startswith(desc, "exec:\nqemu-system-x86_64"));
	assert_non_null(strstr(desc, "'a b'"));
	run_done(&t);
	(void)unlink(log);
	(void)rmdir(dir);
}

static const char domain_xml[] = "<domain type='test'><name>gpurun-test</name>"
				 "<memory>65536</memory><os><type>hvm</type></os></domain>";

static void test_libvirt(void **state)
{
	const struct runner_backend *b = runner_backend_get(PROFILE_BACKEND_LIBVIRT);
	_cleanup_free_ char *desc = NULL;
	size_t len;
	FILE *f;
	struct run t;

	(void)state;
	if (dlopen_libvirt(NULL) < 0)
		skip(); /* libvirt.so.0 not installed */

	run_init(&t, PROFILE_BACKEND_LIBVIRT);
	assert_int_equal(runner_set_domain(t.r, "test:///default", domain_xml, "gpurun-test"), 0);
	f = open_memstream(&desc, &len);
	assert_non_null(f);
	assert_int_equal(b->describe(t.r, f), 0);
	fclose(f);
	assert_string_equal(desc, "start transient domain 'gpurun-test' on test:///default\n");

	assert_int_equal(b->start(t.r, &t.res, &t.err), 0);
	assert_true(t.res.started);
	/* SIGTERM to gpurun while the domain runs: destroyed, then waited for */
	assert_int_equal(raise(SIGTERM), 0);
	assert_int_equal(b->wait(t.r, &t.res, &t.err), 0);
	assert_int_equal(t.res.forwarded, SIGTERM);
	assert_string_equal(t.said, "Starting domain 'gpurun-test' on test:///default\n"
				    "Received Terminated, destroyed the guest\n"
				    "Domain stopped\n");
	run_done(&t);

	run_init(&t, PROFILE_BACKEND_LIBVIRT);
	assert_int_equal(
	    runner_set_domain(t.r, "test:///gpurun/no/such/file.xml", domain_xml, "gpurun-test"),
	    0);
	assert_int_equal(b->start(t.r, &t.res, &t.err), -EIO);
	assert_false(t.res.started);
	assert_true(startswith(t.err.message, "Failed to connect to libvirt: "));
	assert_non_null(strstr(t.err.message, "no/such/file.xml"));
	run_done(&t);

	/* a domain libvirt refuses */
	run_init(&t, PROFILE_BACKEND_LIBVIRT);
	assert_int_equal(runner_set_domain(t.r, "test:///default", "<domain/>", "bad"), 0);
	assert_int_equal(b->start(t.r, &t.res, &t.err), -EIO);
	assert_true(startswith(t.err.message, "Failed to start the domain: "));
	run_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_qemu_exit_status),
		cmocka_unit_test(test_qemu_exec_error),
		cmocka_unit_test(test_qemu_forwards_signals),
		cmocka_unit_test(test_qemu_log_and_describe),
		cmocka_unit_test(test_libvirt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
