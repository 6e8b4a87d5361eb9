/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal QMP client: QEMU's machine protocol over a UNIX stream socket, enough for the runner
 * to find the host threads of a guest's vCPUs (and pin them, runner.c).
 *
 *     r = qmp_connect(path, timeout_ms, alive, userdata, &q, &err);   greeting, qmp_capabilities
 *     r = qmp_query_cpus(q, &cpus, &n, &err);                          query-cpus-fast
 *     q = qmp_free(q);
 *
 * QEMU ends every message with a newline (it never pretty-prints unless told to); a message is
 * one line of at most QMP_MESSAGE_MAX bytes. Asynchronous events between a command and its reply
 * are skipped. Every wait is bounded: each step (connecting, the greeting, one command and its
 * reply) gets the session's timeout, and a QEMU that closes the socket ends it at once. The
 * socket is close-on-exec. Nothing here prints; failures fill the error object:
 *   -ETIMEDOUT  no connection / no complete reply within the timeout
 *   -ECONNRESET QEMU closed the connection (a reply cut short says "truncated")
 *   -EBADMSG    a message that is not a JSON object, or a reply without the members QMP has
 *   -EPROTO     the first message is not a QMP greeting
 *   -EIO        QEMU answered with an error ("QMP query-cpus-fast failed: DESC (CLASS)")
 *   -EOPNOTSUPP ... of class CommandNotFound (a QEMU older than the command) */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"
#include "util/macro.h"

#define QMP_MESSAGE_MAX (1024 * 1024)

struct qmp;

struct qmp_cpu {
	unsigned index;	 /* "cpu-index": vCPU 0.. as -smp counts them */
	pid_t thread_id; /* "thread-id": the host thread that runs it (several vCPUs may share
			  * one under single-threaded TCG) */
};

/* Asked between connection attempts (the socket does not exist or nobody accepts yet): 0 to go
 * on waiting, a negative errno (with @err filled) to give up — QEMU died, a signal came. */
typedef int (*qmp_alive_fn)(void *userdata, struct error *err);

/* Connect to the QMP socket at @path (a full path, at most 107 bytes: -ENAMETOOLONG), retrying
 * while it is missing or refuses for up to @timeout_ms, then read the greeting and negotiate
 * capabilities. @alive may be NULL. @timeout_ms also bounds every later step of the session. */
int qmp_connect(const char *path, unsigned timeout_ms, qmp_alive_fn alive, void *userdata,
		struct qmp **ret, struct error *err);
/* The same on a connected stream socket @fd, which the session owns from now on (closed on
 * failure too). */
int qmp_open_fd(int fd, unsigned timeout_ms, struct qmp **ret, struct error *err);

/* query-cpus-fast: the vCPUs, sorted by index; *ret malloc'd. */
int qmp_query_cpus(struct qmp *q, struct qmp_cpu **ret, size_t *ret_n, struct error *err);
/* Pure: the "return" value of query-cpus-fast as JSON text -> vCPUs sorted by index. -EBADMSG
 * for anything but an array of objects with an integer cpu-index and a positive thread-id, or
 * an index given twice. */
int qmp_parse_cpus(const char *json, struct qmp_cpu **ret, size_t *ret_n, struct error *err);

/* Closes the socket and frees. Returns NULL. */
struct qmp *qmp_free(struct qmp *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct qmp *, qmp_free)
