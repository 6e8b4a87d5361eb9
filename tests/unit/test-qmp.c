/* SPDX-License-Identifier: GPL-2.0-or-later */
/* host/qmp.c against a fake QMP server: a forked child listening on a socket in a temporary
 * directory, speaking a canned script (greeting, capabilities, query-cpus-fast), including an
 * error reply, a truncated reply, silence, a reply split over several writes and events in
 * between; and the pure query-cpus-fast parser on bad input. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/qmp.h"
#include "testutil.h"

#define GREETING                                                                                   \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, "         \
	"\"capabilities\": [\"oob\"]}}\r\n"
#define CPUS                                                                                       \
	"[{\"thread-id\": 1002, \"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 1}, " \
	"\"qom-path\": \"/machine/unattached/device[1]\", \"cpu-index\": 1, \"target\": "          \
	"\"x86_64\"}, {\"thread-id\": 1001, \"props\": {\"core-id\": 0, \"thread-id\": 0, "        \
	"\"socket-id\": 0}, \"qom-path\": \"/machine/unattached/device[0]\", \"cpu-index\": 0, "   \
	"\"target\": \"x86_64\"}]"

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void put(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n <= 0)
			_exit(3);
		s += n;
		len -= (size_t)n;
	}
}

/* Read one command line; its "id" member as text ("1"), so the reply can carry it. */
static void get_command(int fd, const char *want, char id[16])
{
	char line[512];
	size_t n = 0;
	const char *p;

	while (n < sizeof(line) - 1) {
		if (read(fd, line + n, 1) != 1)
			_exit(4);
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	if (!strstr(line, want))
		_exit(5);
	p = strstr(line, "\"id\":");
	if (!p)
		_exit(6);
	p += 5;
	n = strspn(p, "0123456789");
	if (n == 0 || n >= 16)
		_exit(7);
	memcpy(id, p, n);
	id[n] = '\0';
}

static void reply(int fd, const char *id, const char *fmt)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "{\"return\": %s, \"id\": %s}\r\n", fmt, id);
	put(fd, buf);
}

/* greeting + capabilities, what every script starts with */
static void handshake(int fd)
{
	char id[16];

	put(fd, GREETING);
	get_command(fd, "\"execute\":\"qmp_capabilities\"", id);
	reply(fd, id, "{}");
}

enum script {
	S_GOOD,		  /* events between, the reply in three writes */
	S_NOT_FOUND,	  /* query-cpus-fast: CommandNotFound */
	S_GENERIC_ERROR,  /* query-cpus-fast: GenericError */
	S_TRUNCATED,	  /* query-cpus-fast: half a reply, then the socket closes */
	S_SILENT,	  /* accepts, never greets */
	S_NOT_GREETING,	  /* the first message is a reply */
	S_NOT_JSON,	  /* the first line is text */
	S_CLOSE,	  /* closes right after accepting */
	S_BAD_CPUS,	  /* query-cpus-fast returns objects without thread-id */
	S_OTHER_ID_FIRST, /* a reply with another id comes before ours */
};

static void serve(int fd, enum script s)
{
	char id[16], buf[4096];
	const char *half;

	switch (s) {
	case S_SILENT:
		msleep(2000);
		return;
	case S_CLOSE:
		return;
	case S_NOT_GREETING:
		put(fd, "{\"return\": {}}\r\n");
		msleep(500);
		return;
	case S_NOT_JSON:
		put(fd, "QEMU 7.2.0 monitor - type 'help' for more information\r\n");
		msleep(500);
		return;
	default:
		break;
	}
	handshake(fd);
	get_command(fd, "\"execute\":\"query-cpus-fast\"", id);
	switch (s) {
	case S_GOOD:
		put(fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": "
			"\"RESUME\"}\r\n\r\n");
		snprintf(buf, sizeof(buf), "{\"return\": %s, \"id\": %s}\r\n", CPUS, id);
		half = buf + strlen(buf) / 2;
		if (write(fd, buf, 10) != 10)
			_exit(3);
		msleep(30);
		if (write(fd, buf + 10, (size_t)(half - buf - 10)) != half - buf - 10)
			_exit(3);
		msleep(30);
		put(fd, half);
		break;
	case S_NOT_FOUND:
		snprintf(buf, sizeof(buf),
			 "{\"id\": %s, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
			 "command query-cpus-fast has not been found\"}}\r\n",
			 id);
		put(fd, buf);
		break;
	case S_GENERIC_ERROR:
		snprintf(buf, sizeof(buf),
			 "{\"id\": %s, \"error\": {\"class\": \"GenericError\", \"desc\": \"no "
			 "CPUs here\"}}\r\n",
			 id);
		put(fd, buf);
		break;
	case S_TRUNCATED:
		put(fd, "{\"return\": [{\"cpu-index\": 0, \"thread-");
		break;
	case S_BAD_CPUS:
		reply(fd, id, "[{\"cpu-index\": 0, \"qom-path\": \"/x\"}]");
		break;
	case S_OTHER_ID_FIRST:
		reply(fd, "999", "[]");
		reply(fd, id, "[{\"cpu-index\": 0, \"thread-id\": 4242}]");
		break;
	default:
		break;
	}
}

struct server {
	char *dir;
	char *path;
	pid_t pid;
};

/* A child listening on DIR/qmp.sock (after @delay_ms) that serves one connection with @s. */
static void server_start(struct server *sv, enum script s, long delay_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	sv->dir = testutil_mkroot();
	sv->path = testutil_path(sv->dir, "qmp.sock");
	assert_true(strlen(sv->path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, sv->path);
	sv->pid = fork();
	assert_true(sv->pid >= 0);
	if (sv->pid == 0) {
		int l, fd;

		msleep(delay_ms);
		l = socket(AF_UNIX, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
			_exit(1);
		fd = accept(l, NULL, NULL);
		if (fd < 0)
			_exit(2);
		serve(fd, s);
		_exit(0);
	}
}

/* The child's exit status (0: it followed its script); @stop: end it first. */
static int server_done(struct server *sv, bool stop)
{
	int st = 0;

	if (stop)
		kill(sv->pid, SIGTERM);
	assert_int_equal(waitpid(sv->pid, &st, 0), sv->pid);
	testutil_rmroot(sv->dir);
	free(sv->path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_good(void **state)
{
	struct server sv;
	struct qmp *q = NULL;
	struct qmp_cpu *cpus = NULL;
	size_t n = 0;
	struct error err = {};

	(void)state;
	/* the socket appears only after a while, as when QEMU is still starting */
	server_start(&sv, S_GOOD, 150);
	assert_int_equal(qmp_connect(sv.path, 3000, NULL, NULL, &q, &err), 0);
	assert_int_equal(qmp_query_cpus(q, &cpus, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(cpus[0].index, 0);
	assert_int_equal(cpus[0].thread_id, 1001);
	assert_int_equal(cpus[1].index, 1);
	assert_int_equal(cpus[1].thread_id, 1002);
	free(cpus);
	q = qmp_free(q);
	assert_int_equal(server_done(&sv, false), 0);
	assert_false(error_is_set(&err));
}

static void test_other_id_first(void **state)
{
	struct server sv;
	struct qmp *q = NULL;
	struct qmp_cpu *cpus = NULL;
	size_t n = 0;
	struct error err = {};

	(void)state;
	server_start(&sv, S_OTHER_ID_FIRST, 0);
	assert_int_equal(qmp_connect(sv.path, 3000, NULL, NULL, &q, &err), 0);
	assert_int_equal(qmp_query_cpus(q, &cpus, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cpus[0].thread_id, 4242);
	free(cpus);
	q = qmp_free(q);
	assert_int_equal(server_done(&sv, false), 0);
}

/* connect + query against script @s; the query's (or the connection's) result */
static int query(enum script s, unsigned timeout_ms, struct error *err)
{
	struct server sv;
	struct qmp *q = NULL;
	struct qmp_cpu *cpus = NULL;
	size_t n = 0;
	int r;

	server_start(&sv, s, 0);
	r = qmp_connect(sv.path, timeout_ms, NULL, NULL, &q, err);
	if (r >= 0) {
		r = qmp_query_cpus(q, &cpus, &n, err);
		free(cpus);
	}
	q = qmp_free(q);
	(void)server_done(&sv, true);
	return r;
}

static void test_error_replies(void **state)
{
	struct error err = {};

	(void)state;
	assert_int_equal(query(S_NOT_FOUND, 3000, &err), -EOPNOTSUPP);
	assert_string_equal(err.message, "QMP query-cpus-fast failed: The command "
					 "query-cpus-fast has not been found (CommandNotFound)");
	error_clear(&err);
	assert_int_equal(query(S_GENERIC_ERROR, 3000, &err), -EIO);
	assert_string_equal(err.message, "QMP query-cpus-fast failed: no CPUs here (GenericError)");
	error_clear(&err);
	assert_int_equal(query(S_BAD_CPUS, 3000, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "lacks an integer cpu-index or thread-id"));
	error_clear(&err);
}

static void test_broken_sessions(void **state)
{
	struct error err = {};

	(void)state;
	assert_int_equal(query(S_TRUNCATED, 3000, &err), -ECONNRESET);
	assert_non_null(strstr(err.message, "truncated reply"));
	error_clear(&err);
	assert_int_equal(query(S_CLOSE, 3000, &err), -ECONNRESET);
	assert_non_null(strstr(err.message, "No QMP greeting: QEMU closed its QMP socket"));
	error_clear(&err);
	assert_int_equal(query(S_SILENT, 200, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.message, "did not answer on its QMP socket within 200 ms"));
	error_clear(&err);
	assert_int_equal(query(S_NOT_GREETING, 3000, &err), -EPROTO);
	assert_non_null(strstr(err.message, "not a QMP greeting"));
	error_clear(&err);
	assert_int_equal(query(S_NOT_JSON, 3000, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "not a JSON object"));
	error_clear(&err);
}

static int count_calls(void *userdata, struct error *err)
{
	int *calls = userdata;

	if (++*calls < 3)
		return 0;
	return error_set(err, ESRCH, "QEMU exited");
}

static void test_no_socket(void **state)
{
	char *dir = testutil_mkroot(), *path = testutil_path(dir, "qmp.sock");
	char longpath[200];
	struct qmp *q = NULL;
	struct error err = {};
	int calls = 0;

	(void)state;
	assert_int_equal(qmp_connect(path, 100, NULL, NULL, &q, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.message, "did not accept a connection within 100 ms"));
	error_clear(&err);
	/* the alive callback ends the wait early, with its own error */
	assert_int_equal(qmp_connect(path, 5000, count_calls, &calls, &q, &err), -ESRCH);
	assert_int_equal(calls, 3);
	assert_string_equal(err.message, "QEMU exited");
	error_clear(&err);
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(qmp_connect(longpath, 100, NULL, NULL, &q, &err), -ENAMETOOLONG);
	error_clear(&err);
	assert_null(q);
	free(path);
	testutil_rmroot(dir);
}

static void test_parse_cpus(void **state)
{
	static const char *const bad[] = {
		"{}",
		"[1]",
		"[{\"cpu-index\": 0}]",
		"[{\"cpu-index\": 0, \"thread-id\": 0}]",
		"[{\"cpu-index\": -1, \"thread-id\": 5}]",
		"[{\"cpu-index\": \"0\", \"thread-id\": 5}]",
		"[{\"cpu-index\": 0, \"thread-id\": 5}, {\"cpu-index\": 0, \"thread-id\": 6}]",
		"[{\"cpu-index\": 0, \"thread-id\": 5}",
		"",
	};
	struct qmp_cpu *cpus = NULL;
	size_t n = 9;
	struct error err = {};

	(void)state;
	assert_int_equal(qmp_parse_cpus(CPUS, &cpus, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(cpus[1].thread_id, 1002);
	free(cpus);
	cpus = NULL;
	assert_int_equal(qmp_parse_cpus("[]", &cpus, &n, &err), 0);
	assert_int_equal(n, 0);
	free(cpus);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		cpus = NULL;
		n = 9;
		assert_int_equal(qmp_parse_cpus(bad[i], &cpus, &n, &err), -EBADMSG);
		assert_null(cpus);
		assert_int_equal(n, 9);
		assert_non_null(err.message);
		error_clear(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),	      cmocka_unit_test(test_other_id_first),
		cmocka_unit_test(test_error_replies), cmocka_unit_test(test_broken_sessions),
		cmocka_unit_test(test_no_socket),     cmocka_unit_test(test_parse_cpus),
	};

	signal(SIGPIPE, SIG_IGN);
	return testutil_run(tests);
}
