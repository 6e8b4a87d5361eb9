/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starting the guest and waiting for it. The backends are a table indexed by the profile's
 * `backend =`: qemu (gpurun execs QEMU itself, and swtpm for `tpm = yes`) and libvirt (a
 * transient domain on a libvirt connection). The command layer picks the row once and calls
 * through it:
 *
 *     const struct runner_backend *b = runner_backend_get(profile->backend);
 *     r = runner_new(b, &options, &runner);
 *     r = b->prepare(runner, ctx, plan, &err);      build argv / XML, touch nothing
 *     dry run: b->describe(runner, stdout);          what start would do
 *     r = b->start(runner, &result, &err);           after the host is prepared
 *     r = b->wait(runner, &result, &err);            until the guest stops
 *     runner = runner_free(runner);                  stops what still runs (swtpm), then revert
 *
 * Signals: the caller blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT and the other stops
 * (runner_stop_signals(): SIGUSR1, SIGALRM, ...; runner_block_signals()) before
 * it changes the host, so a signal arriving while preparing stays pending and is seen between
 * steps (see prepare.h); wait() then takes them with sigtimedwait() while the guest runs and
 * passes each to the row's stop() (qemu: kill() to the child, SIGINT and SIGHUP as they are,
 * every other stop as SIGTERM; libvirt:
 * virDomainDestroy). wait() blocks them
 * itself when the caller has not, and leaves them blocked. The runner always returns so that
 * the caller can revert; it never exits and never prints: progress lines go to the say()
 * callback, failures into the error object. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/profile.h"
#include "util/error.h"
#include "util/macro.h"

/* How long QEMU gets, by default, until its QMP socket answers (runner_options.qmp_timeout_ms). */
#define RUNNER_QMP_TIMEOUT_MS 60000

struct ctx;
struct plan;

struct runner_result {
	bool started;	   /* the guest process/domain was started */
	pid_t pid;	   /* qemu: QEMU's pid once started, 0 otherwise */
	bool signaled;	   /* qemu: the process died of a signal */
	int status;	   /* exit code, or the signal number when signaled */
	int forwarded;	   /* last signal gpurun received and passed on, 0 none */
	long long exec_ms; /* CLOCK_MONOTONIC ms when QEMU was exec'd / the domain created */
	long long exit_ms; /* ... when it was seen to stop */
};

struct runner_options {
	unsigned timeout_ms; /* qemu: how long swtpm may take to create its socket */
	bool log_file;	     /* qemu: stdout/stderr appended to STATE/VM/qemu.log */
	/* qemu with cpu-pinning: how long QEMU may take until its QMP socket answers (memory
	 * preallocation comes first); 0: RUNNER_QMP_TIMEOUT_MS */
	unsigned qmp_timeout_ms;
	/* qemu without log_file: QEMU's stderr still goes to gpurun's stderr, and a copy of its
	 * first RUNNER_LOG_MAX bytes to STATE/VM/qemu.log (truncated at the start, opened through
	 * the verified state dir; the VM's directory must exist), for `gpurun explain` */
	bool keep_log;
	/* Progress lines ("Starting ...", "QEMU exited with status 0"); NULL: dropped. */
	void (*say)(void *userdata, const char *line);
	void *userdata;
};

struct runner;

struct runner_backend {
	const char *name;	 /* the profile's `backend =` value: "qemu", "libvirt" */
	const char *start_event; /* what start() times, for the -v line: "QEMU exec" */

	/* Build what start() needs from @p (QEMU argv, or domain XML and URI). Changes nothing.
	 * @c and @p must outlive the runner. Fills @err ("Failed to build ...") on failure. */
	int (*prepare)(struct runner *r, struct ctx *c, const struct plan *p, struct error *err);
	/* Dry run: write to @f what start() would do, one step a line. */
	int (*describe)(const struct runner *r, FILE *f);
	/* Start the guest (qemu: swtpm first when the plan has a TPM; with cpu-pinning, QEMU's
	 * threads pinned over QMP once it answers, see runner_set_pinning()). Sets res->started
	 * and res->exec_ms. On failure everything it started is stopped again. */
	int (*start)(struct runner *r, struct runner_result *res, struct error *err);
	/* Wait until the guest stops, passing signals to stop(); sets the rest of @res and says
	 * how it ended. 0 when it ended well, -EIO when it did not (@err says how: "QEMU exited
	 * with status 3"), another negative errno when waiting failed. */
	int (*wait)(struct runner *r, struct runner_result *res, struct error *err);
	/* Pass @sig on to the running guest (qemu: kill(); libvirt: destroy the domain). */
	int (*stop)(struct runner *r, int sig, struct error *err);
};

/* The rows, indexed by enum profile_backend. */
extern const struct runner_backend runner_backends[_PROFILE_BACKEND_MAX];
/* The row for @b; NULL when out of range. */
const struct runner_backend *runner_backend_get(enum profile_backend b);

/* A runner for @b with a copy of @o (may be NULL). 0, or -ENOMEM. */
int runner_new(const struct runner_backend *b, const struct runner_options *o, struct runner **ret);
/* Stops whatever the runner still has running (swtpm; a QEMU that was never waited for is
 * SIGTERMed, then SIGKILLed), closes the libvirt connection, frees. Returns NULL. */
struct runner *runner_free(struct runner *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct runner *, runner_free)

/* The most of QEMU's stderr keep_log copies into qemu.log. */
#define RUNNER_LOG_MAX (1024 * 1024)
/* Where QEMU's messages of this run go (qemu row: the log_file or keep_log file), or NULL. */
const char *runner_log_path(const struct runner *r);

/* For tests and callers that have their own command line: what the qemu row starts, used
 * instead of prepare(). @argv and @log_path are copied; @log_path NULL inherits the terminal. */
int runner_set_command(struct runner *r, char *const *argv, const char *log_path);
/* cpu-pinning for the qemu row: after start() QEMU's vCPU i runs only on host CPU @cpus[i] (n
 * of them, each < 8192) and its other threads on the CPUs gpurun may use that no vCPU has. The
 * threads come from QMP query-cpus-fast on @qmp_path, the socket QEMU must serve (prepare() adds
 * `-qmp unix:PATH,server=on,wait=off` to the argv; a command set by hand must do it itself).
 * A failure to pin fails start(), which then stops QEMU, as libvirt fails a domain's start.
 * 0, -EINVAL, -ENAMETOOLONG (not a UNIX socket address), -ENOMEM. */
int runner_set_pinning(struct runner *r, const unsigned *cpus, size_t n, const char *qmp_path);
/* A descriptor the qemu row's QEMU inherits (the VM lock, liveness.h: restore sees the guest
 * alive as long as it runs); -1 none. Not owned by the runner. */
void runner_set_keep_fd(struct runner *r, int fd);
/* ... and what the libvirt row starts: domain @xml on @uri, @name for the messages (all
 * copied, none NULL: -EINVAL). */
int runner_set_domain(struct runner *r, const char *uri, const char *xml, const char *name);

/* The signals that stop a run and lead to the revert: SIGINT, SIGTERM, SIGHUP, SIGQUIT and
 * every other one whose default action ends the process and that gpurun does not raise
 * itself (SIGUSR1/2, SIGALRM, SIGXCPU, real-time signals, ...). runner_block_signals() blocks
 * them and SIGCHLD in the calling thread; *ret_old (may be NULL) gets the previous mask. */
void runner_stop_signals(sigset_t *s);
int runner_block_signals(sigset_t *ret_old);
/* Milliseconds of CLOCK_MONOTONIC. */
long long runner_now_ms(void);
