/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host/qmp.h"

/* How often a missing or refusing socket is tried again while QEMU starts. */
#define QMP_RETRY_MS 10

struct qmp {
	int fd;
	unsigned timeout_ms;
	unsigned next_id;
	char *buf; /* received, not yet consumed */
	size_t len, size;
};

static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct qmp *qmp_free(struct qmp *q)
{
	if (!q)
		return NULL;
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	return mfree(q);
}

/* Wait until @fd is ready for @events or @deadline passes. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno != EINTR)
			return negative_errno();
		if (n > 0)
			return 0;
	}
}

static int send_all(struct qmp *q, const char *s, long long deadline, struct error *err)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n;
		int k;

		k = wait_fd(q->fd, POLLOUT, deadline);
		if (k < 0)
			return error_set(err, k, "Failed to send to QEMU's QMP socket: %s",
					 strerror(-k));
		n = send(q->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == EPIPE)
				errno = ECONNRESET;
			return error_set(err, errno, "Failed to send to QEMU's QMP socket: %s",
					 strerror(errno));
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The next message as a JSON object, waiting until @deadline. */
static int read_message(struct qmp *q, long long deadline, json_object **ret, struct error *err)
{
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		ssize_t n;
		int k;

		if (nl) {
			size_t line = (size_t)(nl - q->buf);
			enum json_tokener_error jerr;
			json_object *o;
			bool blank;

			*nl = '\0';
			if (line > 0 && q->buf[line - 1] == '\r')
				q->buf[line - 1] = '\0';
			/* a blank line carries nothing */
			blank = !q->buf[strspn(q->buf, " \t")];
			o = blank ? NULL : json_tokener_parse_verbose(q->buf, &jerr);
			memmove(q->buf, nl + 1, q->len - line - 1);
			q->len -= line + 1;
			if (blank)
				continue;
			if (!o || !json_object_is_type(o, json_type_object)) {
				if (o)
					json_object_put(o);
				return error_set(
				    err, EBADMSG,
				    "QEMU's QMP socket sent a message that is not a JSON "
				    "object");
			}
			*ret = o;
			return 0;
		}
		if (q->len >= QMP_MESSAGE_MAX)
			return error_set(err, EBADMSG,
					 "QEMU's QMP socket sent a message longer than %d bytes",
					 QMP_MESSAGE_MAX);
		if (q->size - q->len < 4096) {
			size_t size = q->size ? q->size * 2 : 8192;
			char *b = realloc(q->buf, size);

			if (!b)
				return error_set(err, ENOMEM, "Out of memory");
			q->buf = b;
			q->size = size;
		}
		k = wait_fd(q->fd, POLLIN, deadline);
		if (k == -ETIMEDOUT)
			return error_set(err, ETIMEDOUT,
					 "QEMU did not answer on its QMP socket within %u ms",
					 q->timeout_ms);
		if (k < 0)
			return error_set(err, k, "Failed to read QEMU's QMP socket: %s",
					 strerror(-k));
		/* one byte kept for the terminating NUL above */
		n = recv(q->fd, q->buf + q->len, q->size - q->len - 1, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return error_set(err, errno, "Failed to read QEMU's QMP socket: %s",
					 strerror(errno));
		}
		if (n == 0)
			return error_set(err, ECONNRESET,
					 q->len ? "QEMU closed its QMP socket in the middle of a "
						  "message (truncated reply)"
						: "QEMU closed its QMP socket");
		q->len += (size_t)n;
	}
}

/* Run @command (no arguments) and give its "return" member. */
static int execute(struct qmp *q, const char *command, json_object **ret, struct error *err)
{
	_cleanup_free_ char *msg = NULL;
	long long deadline = now_ms() + q->timeout_ms;
	unsigned id = ++q->next_id;
	int k;

	if (asprintf(&msg, "{\"execute\":\"%s\",\"id\":%u}\n", command, id) < 0)
		return error_set(err, ENOMEM, "Out of memory");
	k = send_all(q, msg, deadline, err);
	if (k < 0)
		return k;
	for (;;) {
		_cleanup_json_ json_object *o = NULL;
		json_object *v, *e, *cls = NULL, *desc = NULL;

		k = read_message(q, deadline, &o, err);
		if (k < 0)
			return k;
		if (json_object_object_get_ex(o, "event", NULL))
			continue;
		if (json_object_object_get_ex(o, "id", &v) &&
		    (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) != id))
			continue; /* not ours */
		if (json_object_object_get_ex(o, "return", &v)) {
			*ret = json_object_get(v);
			return 0;
		}
		if (json_object_object_get_ex(o, "error", &e) &&
		    json_object_is_type(e, json_type_object)) {
			(void)json_object_object_get_ex(e, "class", &cls);
			(void)json_object_object_get_ex(e, "desc", &desc);
			k = streq_ptr(json_object_get_string(cls), "CommandNotFound") ? EOPNOTSUPP
										      : EIO;
			return error_set(err, k, "QMP %s failed: %s (%s)", command,
					 desc ? json_object_get_string(desc) : "no description",
					 cls ? json_object_get_string(cls) : "no class");
		}
		return error_set(err, EBADMSG,
				 "QEMU's reply to QMP %s has neither \"return\" nor \"error\"",
				 command);
	}
}

int qmp_open_fd(int fd, unsigned timeout_ms, struct qmp **ret, struct error *err)
{
	_cleanup_(qmp_freep) struct qmp *q = NULL;
	_cleanup_json_ json_object *greeting = NULL, *caps = NULL;
	int k;

	q = calloc(1, sizeof(*q));
	if (!q) {
		close(fd);
		return error_set(err, ENOMEM, "Out of memory");
	}
	q->fd = fd;
	q->timeout_ms = timeout_ms;
	k = read_message(q, now_ms() + timeout_ms, &greeting, err);
	if (k < 0) {
		error_prefix(err, "No QMP greeting");
		return k;
	}
	if (!json_object_object_get_ex(greeting, "QMP", NULL))
		return error_set(err, EPROTO,
				 "The QMP socket's first message is not a QMP greeting");
	k = execute(q, "qmp_capabilities", &caps, err);
	if (k < 0)
		return k;
	*ret = TAKE_PTR(q);
	return 0;
}

int qmp_connect(const char *path, unsigned timeout_ms, qmp_alive_fn alive, void *userdata,
		struct qmp **ret, struct error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + timeout_ms;
	int fd, k;

	if (strlen(path) >= sizeof(sa.sun_path))
		return error_set(err, ENAMETOOLONG,
				 "QMP socket path %s is longer than a UNIX socket address allows",
				 path);
	memcpy(sa.sun_path, path, strlen(path));
	for (;;) {
		struct timespec ts = { 0, QMP_RETRY_MS * 1000000L };

		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return error_set(err, errno, "Failed to create a socket: %s",
					 strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		k = errno;
		close(fd);
		/* QEMU has not created the socket yet, or not listening on it yet */
		if (k != ENOENT && k != ECONNREFUSED && k != EINTR)
			return error_set(err, k, "Failed to connect to QMP socket %s: %s", path,
					 strerror(k));
		if (alive) {
			k = alive(userdata, err);
			if (k < 0)
				return k;
		}
		if (now_ms() >= deadline)
			return error_set(err, ETIMEDOUT,
					 "QMP socket %s did not accept a connection within %u ms",
					 path, timeout_ms);
		nanosleep(&ts, NULL);
	}
	k = qmp_open_fd(fd, timeout_ms, ret, err);
	if (k < 0)
		error_prefix(err, "%s", path);
	return k;
}

static int cmp_cpu(const void *a, const void *b)
{
	const struct qmp_cpu *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static int parse_cpus(json_object *arr, struct qmp_cpu **ret, size_t *ret_n, struct error *err)
{
	_cleanup_free_ struct qmp_cpu *cpus = NULL;
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return error_set(err, EBADMSG, "query-cpus-fast: the reply is not an array");
	n = json_object_array_length(arr);
	cpus = calloc(n ? n : 1, sizeof(*cpus));
	if (!cpus)
		return error_set(err, ENOMEM, "Out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(arr, i), *idx, *tid;
		int64_t vi, vt;

		if (!json_object_is_type(c, json_type_object) ||
		    !json_object_object_get_ex(c, "cpu-index", &idx) ||
		    !json_object_is_type(idx, json_type_int) ||
		    !json_object_object_get_ex(c, "thread-id", &tid) ||
		    !json_object_is_type(tid, json_type_int))
			return error_set(err, EBADMSG,
					 "query-cpus-fast: entry %zu lacks an integer cpu-index "
					 "or thread-id",
					 i);
		vi = json_object_get_int64(idx);
		vt = json_object_get_int64(tid);
		if (vi < 0 || vi > 65535 || vt <= 0 || vt > INT32_MAX)
			return error_set(err, EBADMSG,
					 "query-cpus-fast: entry %zu has cpu-index %" PRId64
					 ", thread-id %" PRId64,
					 i, vi, vt);
		cpus[i] = (struct qmp_cpu){ .index = (unsigned)vi, .thread_id = (pid_t)vt };
	}
	qsort(cpus, n, sizeof(*cpus), cmp_cpu);
	for (size_t i = 1; i < n; i++)
		if (cpus[i].index == cpus[i - 1].index)
			return error_set(err, EBADMSG, "query-cpus-fast: vCPU %u is listed twice",
					 cpus[i].index);
	*ret = TAKE_PTR(cpus);
	*ret_n = n;
	return 0;
}

int qmp_parse_cpus(const char *json, struct qmp_cpu **ret, size_t *ret_n, struct error *err)
{
	_cleanup_json_ json_object *o = NULL;
	enum json_tokener_error jerr;

	o = json_tokener_parse_verbose(json, &jerr);
	if (!o)
		return error_set(err, EBADMSG, "query-cpus-fast: %s",
				 json_tokener_error_desc(jerr));
	return parse_cpus(o, ret, ret_n, err);
}

int qmp_query_cpus(struct qmp *q, struct qmp_cpu **ret, size_t *ret_n, struct error *err)
{
	_cleanup_json_ json_object *r = NULL;
	int k;

	k = execute(q, "query-cpus-fast", &r, err);
	if (k < 0)
		return k;
	return parse_cpus(r, ret, ret_n, err);
}
