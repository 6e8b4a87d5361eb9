/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Executing host actions through the journal: for each action, the journal entry is appended
 * (fsync'd) first, then the change is made. Before the first change every PCI function's lock
 * is taken, so a refusal changes nothing. With dry_run nothing is written (no journal either):
 * each step is only described through say(). On failure the journal holds everything that may
 * have been changed: the caller reverts it (revert.h). */
#pragma once

#include <stdbool.h>

#include "util/macro.h"

struct ctx;
struct error;
struct journal;
struct plan;

struct prepare_options {
	bool dry_run;
	unsigned timeout_ms; /* per driver/group wait */
	/* stop with -EINTR between steps when SIGINT/TERM/HUP/QUIT is pending (the caller
	 * blocks them, see runner.h) */
	bool check_signals;
	/* one line per step, e.g. "bind 0000:c4:00.1: snd_hda_intel -> vfio-pci" (may be NULL) */
	void (*say)(void *userdata, const char *line);
	void *userdata;
};

/* Carry out @p's actions through the host operation table (hostop.h), then wait for
 * ROOT/dev/vfio/N of every group, then create the per-VM UEFI variable file from its template
 * if missing. Before the first change every input is read and checked (ROM sources, each ROM
 * against its function, the ROM destinations: a different file already there is refused, as
 * gpurun never replaces a file it did not create; the UEFI variable template) and every PCI
 * function's lock is taken. @j may be NULL only with dry_run. Returns 0 or a negative errno,
 * with @err (may be NULL) saying what failed and why; err->device is the PCI function when the
 * failure is about one. Whatever the errno, whether anything changed is what @j holds: no
 * entries, nothing changed (a refusal, e.g. -EBUSY for a lock held by another gpurun, whose
 * message names the holder and the way out); otherwise the caller reverts @j. */
int prepare_plan(struct ctx *c, const struct plan *p, struct journal *j,
		 const struct prepare_options *o, struct error *err);

/* Bind a list of PCI functions (canonical addresses) to vfio-pci without a plan: the VFIO
 * modules first (when missing), then the functions, non-display functions (HD audio) first. */
int prepare_addresses(struct ctx *c, char *const *bdfs, struct journal *j,
		      const struct prepare_options *o, struct error *err);
