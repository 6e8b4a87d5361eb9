/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Replaying a journal backwards: PCI functions back to their old driver and driver_override,
 * consoles rebound, ROM files gpurun created removed, modules gpurun loaded unloaded. Every
 * step is attempted even when an earlier one failed (a failure is a warning in the report),
 * and every step is idempotent, so a revert can be run again (`gpurun restore`). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

struct ctx;
struct journal;

struct revert_function {
	char *bdf;
	char *want;  /* driver before gpurun, NULL = none */
	char *final; /* driver at the end, NULL = none */
	bool ok;     /* final == want */
};

struct revert_report {
	char **warnings;		   /* strv: one line per failed step, with the cause */
	char **notes;			   /* strv: steps skipped on purpose ("--root is not /") */
	struct revert_function *functions; /* in revert order */
	size_t n_functions;
	unsigned n_failed;
};

/* Revert every entry of @j, last first, each through its host operation (hostop.h). Returns 0
 * (see ret->n_failed for failed steps) or -ENOMEM. @timeout_ms bounds each driver wait.
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT and the other stopping signals (runner_stop_signals()) are
 * blocked for the whole replay (and the caller's mask restored after), so a signal cannot cut
 * a revert in half: it stays pending. */
int revert_journal(struct ctx *c, const struct journal *j, unsigned timeout_ms,
		   struct revert_report *ret);
void revert_report_done(struct revert_report *r);

/* For the host operations' revert (hostop.c): a failed step, "MESSAGE: strerror(@error)"
 * (n_failed counted); a step skipped on purpose; a function's outcome (ok when @final equals
 * @want). Each returns 0 or -ENOMEM. */
int revert_report_warn(struct revert_report *r, int error, const char *fmt, ...) _printf_(3, 4);
int revert_report_note(struct revert_report *r, const char *fmt, ...) _printf_(2, 3);
int revert_report_function(struct revert_report *r, const char *bdf, const char *want,
			   const char *final);
