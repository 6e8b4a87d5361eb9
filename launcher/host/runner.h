/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starting the guest and waiting for it. Backends are a table (qemu, libvirt).
 *
 * Signals: the caller blocks SIGINT, SIGTERM, SIGHUP (runner_block_signals()) before it changes
 * the host, so a signal arriving while preparing stays pending and is seen between steps (see
 * prepare.h); the runner then takes them with sigtimedwait() while the guest runs and forwards
 * them (qemu: kill() to the child; libvirt: virDomainDestroy). The runner always returns so
 * that the caller can revert; it never exits. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util/macro.h"

struct runner_result {
	bool started;	   /* the guest process/domain was started */
	int exec_error;	   /* qemu: errno of a failed exec (negative), else 0 */
	bool signaled;	   /* qemu: the process died of a signal */
	int status;	   /* exit code, or the signal number when signaled */
	int forwarded;	   /* last signal gpurun received and passed on, 0 none */
	long long exec_ms; /* CLOCK_MONOTONIC ms when QEMU was exec'd / the domain created */
	long long exit_ms; /* ... when it was seen to stop */
};

/* Block SIGINT/SIGTERM/SIGHUP/SIGCHLD in the calling thread; *ret_old (may be NULL) gets the
 * previous mask. */
int runner_block_signals(sigset_t *ret_old);
/* Milliseconds of CLOCK_MONOTONIC. */
long long runner_now_ms(void);

/* fork + execvp(@argv[0], @argv) — no shell. In the child: default signal dispositions and an
 * empty mask, every descriptor above 2 closed, stdout/stderr appended to @log_path when not
 * NULL (stdin from /dev/null then). Waits for the child, forwarding SIGINT/SIGTERM/SIGHUP.
 * Returns 0 with *ret filled (also when exec failed: ret->exec_error), or a negative errno when
 * no child could be started (fork/pipe failure). */
int runner_qemu(char *const *argv, const char *log_path, struct runner_result *ret);

/* Start a helper (swtpm) like runner_qemu starts QEMU, without waiting: 0 and *ret_pid, the
 * exec error (negative errno), or a fork/pipe error. */
int runner_spawn(char *const *argv, const char *log_path, pid_t *ret_pid);
/* SIGTERM @pid and reap it, SIGKILL after @timeout_ms (then -ETIMEDOUT). */
int runner_stop(pid_t pid, unsigned timeout_ms);

/* Connect to @uri, create @xml as a transient domain, wait until it stops (polling its state,
 * and taking signals: one destroys the domain). On a libvirt error returns -EIO with
 * *ret_error = libvirt's message (malloc'd); -EOPNOTSUPP when libvirt.so is not installed. */
int runner_libvirt(const char *uri, const char *xml, struct runner_result *ret, char **ret_error);
