/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The read-only look at the host a preview needs beyond the snapshot (core/checks.h's struct
 * check_state): the profile's files, the VM's journal, the device locks, devices whose VFIO
 * group a process holds open. Opens, reads and tests locks; writes and takes nothing. */
#pragma once

#include "core/checks.h"

struct ctx;
struct plan;

/* Fill @ret for @p. The profile's files are looked up under the ctx root (ROOT/PATH), and as
 * given when ROOT/PATH does not exist (the path the runner opens). A file that cannot be read is data (check_file.error), not a failure.
 * Returns 0 or -ENOMEM. */
int state_read_preview(struct ctx *c, const struct plan *p, struct check_state *ret);
