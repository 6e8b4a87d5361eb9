/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who keeps a VM's journal alive: restore, run, bind and unbind decide from this, never from
 * whether a journal file exists.
 *
 * <state>/<vm>/lock is flock(LOCK_EX)ed by the gpurun that runs the VM, for its whole life, and
 * the descriptor is inherited by the QEMU it starts (spawn_options.keep_fds): as long as either
 * lives, the lock is held, also after gpurun itself was killed. The file says who took it, one
 * record a line, so that a refusal can name the holder:
 *
 *     gpurun PID START          the gpurun that took the lock
 *     qemu PID START            the QEMU it started (inherits the lock)
 *     libvirt NAME URI          the libvirt domain it started (written before the domain is
 *                               created; the domain lives in libvirtd and holds no lock)
 *
 * START is the process's start time (field 22 of /proc/PID/stat), so a pid that was reused by
 * another program does not count. A lock nobody holds is still "alive" while its QEMU record
 * names a running process or its libvirt domain is active (or libvirt cannot tell). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct error;

struct liveness_record {
	pid_t gpurun_pid; /* 0: none */
	unsigned long long gpurun_start;
	pid_t qemu_pid; /* 0: none */
	unsigned long long qemu_start;
	char *libvirt_domain; /* NULL: none */
	char *libvirt_uri;
};

/* Parse a lock file's contents. Pure. Unknown or malformed lines are skipped (the file is ours:
 * a line cut short by a crash must not make the lock unusable). 0 or -ENOMEM. */
int liveness_parse(const char *buf, size_t len, struct liveness_record *ret);
void liveness_record_done(struct liveness_record *r);

/* The start time of @pid (clock ticks after boot); -ESRCH when it does not exist or is a
 * zombie. */
int liveness_pid_start(pid_t pid, unsigned long long *ret);
/* @pid is running and started at @start. */
bool liveness_pid_alive(pid_t pid, unsigned long long start);

/* Who is alive according to @r, given whether the flock was found held (@locked). Returns 0 and
 * *ret NULL when nobody, 1 and *ret a malloc'd phrase that completes "VM 'X' is ...":
 *   "already run by gpurun (pid N), preparing the host"
 *   "already run by gpurun (pid N), QEMU pid M running it"
 *   "still running in QEMU pid M (its gpurun, pid N, is gone)"
 *   "still running as libvirt domain 'D' on URI"
 *   "held by a process started by gpurun (pid N): LOCK is locked"
 * @lock_path names the file in the last one. -ENOMEM. */
int liveness_describe(const struct liveness_record *r, bool locked, const char *lock_path,
		      char **ret);

/* Take the lock of a VM: "lock" in its verified directory @vmfd (path @vmpath). Returns 0 and
 * *ret_fd (O_RDWR, close-on-exec, flocked) when nobody else is alive. -EBUSY when someone is:
 * *ret_holder (may be NULL) gets liveness_describe()'s phrase and @err "VM '@vm' is PHRASE".
 * With @force a live holder is overridden: 0, *ret_holder set, *ret_fd the lock or -1 when
 * another process holds the flock. Other errors (a hostile lock file) as statedir.h. */
int liveness_lock(int vmfd, const char *vmpath, const char *vm, bool force, int *ret_fd,
		  char **ret_holder, struct error *err);

/* Record the caller as the holder of the lock @fd ("gpurun PID START", replacing the file's
 * contents), and add the guest it started. 0 or a negative errno. */
int liveness_claim(int fd);
int liveness_add_qemu(int fd, pid_t pid);
int liveness_add_libvirt(int fd, const char *uri, const char *domain);
