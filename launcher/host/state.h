/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The read-only look at the host a preview needs beyond the snapshot (core/checks.h's struct
 * check_state): the profile's files, the VM's journal, the device locks, devices whose VFIO
 * group a process holds open. Opens, reads and tests locks; writes and takes nothing. */
#pragma once

#include "core/checks.h"

#include <stddef.h>
#include <sys/types.h>

struct ctx;
struct plan;

/* A process with a VFIO group open: the guest (QEMU, whoever started it) using its devices. */
struct vfio_user {
	pid_t pid;
	int group;     /* the N of /dev/vfio/N */
	char comm[17]; /* ROOT/proc/PID/comm, "?" when unreadable, control bytes as '?' */
};

/* Every /dev/vfio/N descriptor open in a process (ROOT/proc/PID/fd links; the container
 * /dev/vfio/vfio is not a group). *ret (malloc'd, NULL when none) and *ret_n. Processes that
 * vanish or cannot be read are skipped. 0 or -ENOMEM. */
int state_vfio_users(struct ctx *c, struct vfio_user **ret, size_t *ret_n);

/* Fill @ret for @p. The profile's files are looked up under the ctx root (ROOT/PATH), and as
 * given when ROOT/PATH does not exist (the path the runner opens). A file that cannot be read is data (check_file.error), not a failure.
 * Returns 0 or -ENOMEM. */
int state_read_preview(struct ctx *c, const struct plan *p, struct check_state *ret);

/* For a command that starts the guest (run, plan, check PROFILE; not emit or bind): whether the
 * programs run would start on this machine are there (spawn_find_program(), this machine's
 * PATH, never under the root): QEMU for backend = qemu, swtpm for tpm = yes (also with a local
 * libvirt, which starts it). Nothing for a remote node. Fills @s's program fields. 0 or -ENOMEM. */
int state_read_programs(struct ctx *c, const struct plan *p, struct check_state *s);
