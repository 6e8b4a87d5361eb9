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

/* Revert every entry of @j, last first. Returns 0 (see ret->n_failed for failed steps) or
 * -ENOMEM. @timeout_ms bounds each driver wait. */
int revert_journal(struct ctx *c, const struct journal *j, unsigned timeout_ms,
		   struct revert_report *ret);
void revert_report_done(struct revert_report *r);
