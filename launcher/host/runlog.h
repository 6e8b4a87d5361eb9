/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What `gpurun explain` reads about a run: the run record, QEMU's log and the kernel's messages.
 *
 * <state>/<vm>/run is written by `gpurun run` when it starts the guest and stays after the run
 * (the journal and lock go; this file and qemu.log keep the VM's directory), so that `gpurun
 * explain VM` still knows afterwards where the run's messages are. Text, one "KEY VALUE" a
 * line, written to a temp file and renamed into place, in the verified state dir (statedir.h):
 *
 *     gpurun-run 1                  format version
 *     vm NAME
 *     profile PATH                  the profile, as given (for the host snapshot and plan)
 *     backend qemu|libvirt
 *     boot-id UUID                  ROOT/proc/sys/kernel/random/boot_id at the start
 *     start-usec N                  CLOCK_MONOTONIC at the start, in µs (the kernel log's clock)
 *     log PATH                      QEMU's log: <state>/<vm>/qemu.log, or libvirt's
 *     log-offset N                  its size when the run started: this run's part follows
 *     kmsg-seq N                    the first kernel record of the run (when it was read)
 *
 * Unknown keys are skipped (a newer gpurun may add some). The kernel log is ROOT/dev/kmsg:
 * the character device on a real machine, a regular file of records in the fixture trees. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ctx;
struct error;

struct runlog {
	char *vm;
	char *profile; /* NULL: unknown */
	char *backend; /* "qemu", "libvirt" */
	char *boot_id; /* NULL: unknown */
	unsigned long long start_usec;
	char *log;  /* NULL: none kept */
	char *node; /* the libvirt URI of the remote node the guest ran on; NULL: this machine
		     * (then log and the kernel's messages are this machine's) */
	unsigned long long log_offset;
	bool has_kmsg_seq;
	unsigned long long kmsg_seq;
};

void runlog_done(struct runlog *r);

/* Parse a run record. Pure. 0, -EBADMSG (no "gpurun-run 1" first line, a bad number) with
 * @err naming the line, or -ENOMEM. */
int runlog_parse(const char *buf, size_t len, struct runlog *ret, struct error *err);
/* The record as text (malloc'd), or NULL. */
char *runlog_format(const struct runlog *r);

/* Write <state>/<vm>/run (the VM's directory must exist: the run's journal made it). */
int runlog_write(struct ctx *c, const struct runlog *r, struct error *err);
/* Read <state>/<vm>/run. -ENOENT when there is none (no error set). */
int runlog_read(struct ctx *c, const char *vm, struct runlog *ret, struct error *err);

/* The VMs of the state dir that have a run record, sorted (an empty list without a state dir). */
int runlog_list(struct ctx *c, char ***ret);

/* CLOCK_MONOTONIC in µs: the clock of the kernel log's timestamps. */
unsigned long long runlog_now_usec(void);
/* ROOT/proc/sys/kernel/random/boot_id, or NULL. */
char *runlog_boot_id(struct ctx *c);
/* The path of libvirt's log of domain @vm: ROOT/var/log/libvirt/qemu/VM.log (malloc'd). */
char *runlog_libvirt_log(struct ctx *c, const char *vm);
/* The size of @path, 0 when it does not exist. */
unsigned long long runlog_file_size(const char *path);

/* Read a log from @offset to its end, at most @max bytes (the last @max when longer). A log in
 * the state dir (@in_state: <state>/<vm>/NAME) is opened through statedir.h; others by path.
 * 0, or a negative errno with @err naming the file. */
int runlog_read_log(struct ctx *c, const char *path, bool in_state, unsigned long long offset,
		    size_t max, char **ret, size_t *ret_len, struct error *err);

/* ROOT/dev/kmsg opened for reading (non-blocking, close-on-exec) and positioned at its end:
 * what is read from it later is what the kernel logged after this call. -errno (-EPERM/-EACCES
 * without CAP_SYSLOG when dmesg_restrict is set). */
int runlog_kmsg_open(struct ctx *c, bool at_end, int *ret_fd);
/* Every record readable from @fd now (one record per read() on the device; a regular file in
 * chunks), at most @max bytes. 0 or a negative errno. */
int runlog_kmsg_read(int fd, size_t max, char **ret, size_t *ret_len);
