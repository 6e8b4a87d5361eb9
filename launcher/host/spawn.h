/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one fork/exec: every program gpurun starts (QEMU, swtpm, the initramfs and bootloader
 * refresh commands of host-config) goes through spawn_start().
 *
 * The child gets exactly what it is meant to have: argv (execvp, no shell), stdin from
 * /dev/null unless asked to keep the terminal, stdout/stderr inherited or appended to a log
 * file, every signal at its default disposition with an empty mask, and no descriptor above 2
 * but those it is explicitly given (keep_fds) (close_range(), with a fallback over
 * /proc/self/fd, then over RLIMIT_NOFILE). Whether the
 * exec itself worked comes back through a close-on-exec pipe, so a missing binary is an error
 * of spawn_start(), not an exit status. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

struct spawn_options {
	/* stdout and stderr appended to this file (created 0600 when missing); NULL: inherited */
	const char *log_path;
	/* stdin inherited (a guest console on the terminal); false: /dev/null */
	bool keep_stdin;
	/* descriptors the child inherits under the same numbers (each >= 3; close-on-exec in the
	 * caller is fine, it is cleared in the child only): the VM lock QEMU holds (liveness.h).
	 * At most SPAWN_KEEP_MAX; a bad one is -EBADF before anything is started. */
	const int *keep_fds;
	size_t n_keep_fds;
	/* > 2: the child's stderr is this descriptor (the write end of a pipe its parent reads,
	 * close-on-exec in the caller is fine), stdout stays as above; 0: stderr as stdout */
	int stderr_fd;
};

#define SPAWN_KEEP_MAX 8

/* Start @argv (argv[0] looked up in PATH). @o may be NULL (all defaults).
 * Returns 0 and *ret_pid when the program is running, else a negative errno and, in @err,
 * which step failed, with the cause:
 *   "Failed to execute ARGV0: CAUSE"  exec failed: the child's errno (-ENOENT: not in PATH,
 *                                     -EACCES: not executable); the child has been reaped
 *   "Failed to open LOG: CAUSE"       the log file could not be opened (no child was made; a
 *                                     symlink is not followed: -ELOOP)
 *   "Failed to start ARGV0: CAUSE"    pipe/fork failed, or the child could not set up its
 *                                     standard streams
 * -EINVAL for an empty @argv. */
int spawn_start(char *const *argv, const struct spawn_options *o, pid_t *ret_pid,
		struct error *err);

/* Where execvp(3) would find program @name: a name with a '/' is taken as it is, else each
 * directory of $PATH (confstr(_CS_PATH) when unset; an empty entry is the current directory).
 * The file must be a regular file this process may execute. Returns 0 (*ret_path, may be NULL,
 * the malloc'd path), -ENOENT (not found), -EACCES (found, not executable), -EINVAL (empty
 * name), -ENOMEM. */
int spawn_find_program(const char *name, char **ret_path);

struct spawn_status {
	bool signaled; /* killed by a signal */
	int code;      /* exit status (0..255), or the signal number when @signaled */
};

/* Reap @pid. @block: wait until it ends; else return at once. Returns 1 and *ret when it ended,
 * 0 when it still runs (only without @block), or a negative errno (-ECHILD: not our child).
 * EINTR is retried. */
int spawn_wait(pid_t pid, bool block, struct spawn_status *ret);

/* SIGTERM @pid and reap it; SIGKILL after @timeout_ms (then -ETIMEDOUT, still reaped).
 * 0 also when it was already gone. */
int spawn_stop(pid_t pid, unsigned timeout_ms);

/* spawn_start() then spawn_wait(block): 0 and *ret with how it ended, or spawn_start()'s
 * error. */
int spawn_run(char *const *argv, const struct spawn_options *o, struct spawn_status *ret,
	      struct error *err);

/* What the child does before exec, exported for tests: close every descriptor >= 3 except
 * @keep (-1: none). @use_close_range false skips close_range() to test the fallbacks. Only
 * async-signal-safe calls; returns 0 or a negative errno. */
int spawn_close_fds(int keep, bool use_close_range);
/* The same, keeping every descriptor of @keep (sorted ascending, each >= 3). */
int spawn_close_fds_except(const int *keep, size_t n_keep, bool use_close_range);
