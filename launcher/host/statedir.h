/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state dir (ctx->state, default ROOT/run/gpurun) as a place root can trust.
 *
 * gpurun replays what it finds there as root (restore writes sysfs files and removes ROM files
 * named in a journal), so a state dir someone else can write is a way to make root do their
 * bidding. Rules, checked on every open:
 *   - every directory above the state dir is owned by root or the effective uid, and is not
 *     writable by group or others unless it is sticky (/tmp); symlinks there are followed;
 *   - the state dir and everything in it (VM dirs, the locks dir, journals, locks, logs) is
 *     owned by the effective uid (root in production), not writable by group or others, and is
 *     opened relative to its verified parent with O_NOFOLLOW: a symlink is refused, not followed;
 *   - files are regular files (a FIFO would block the open; it is refused after O_NONBLOCK).
 * A refusal is -EPERM (owner, mode), -ELOOP (a symlink) or -EINVAL (not a directory or not a
 * regular file), with @err naming the path (err->file) and saying what is wrong. */
#pragma once

#include <stdbool.h>

struct ctx;
struct error;

/* Open ctx->state as a verified directory fd (O_RDONLY|O_DIRECTORY|O_CLOEXEC). @create: make
 * it (0700, missing parents 0755) when it does not exist; otherwise -ENOENT. */
int statedir_open(const struct ctx *c, bool create, int *ret_fd, struct error *err);

/* Open the directory @name inside the verified directory @dfd (whose path is @dpath, for
 * messages); @create makes it 0700 when missing. @name is one plain path component. */
int statedir_open_dir(int dfd, const char *dpath, const char *name, bool create, int *ret_fd,
		      struct error *err);

/* Open the regular file @name inside the verified directory @dfd with @flags (O_RDONLY,
 * O_RDWR, O_WRONLY, O_CREAT, O_EXCL, O_APPEND; O_NOFOLLOW, O_CLOEXEC are added; created 0600),
 * then verify it. -ENOENT when missing without O_CREAT, -EEXIST with O_EXCL. */
int statedir_open_file(int dfd, const char *dpath, const char *name, int flags, int *ret_fd,
		       struct error *err);

/* Verify an open descriptor: a directory (@dir) or a regular file, owned by the effective uid,
 * not writable by group or others. @path names it in the error. */
int statedir_verify(int fd, const char *path, bool dir, struct error *err);

/* One plain path component: not empty, no '/', not "." or "..". */
bool statedir_plain_name(const char *s);

/* The names of the VM directories in ctx->state (not "locks", nothing starting with '.') that
 * hold @file, sorted, in a strv the caller frees; an empty list without a state dir. @suspect:
 * list also what opening would refuse, so that opening names the problem: a symlink in place
 * of a VM directory, and a @file of any type; without it, only a VM whose @file is a regular
 * file counts (a symlinked VM directory is followed there). 0 or a negative errno. */
int statedir_list_vms(const struct ctx *c, const char *file, bool suspect, char ***ret);
