/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing what hostcfg_compute() decided, with a backup to undo it: `gpurun host-config
 * --apply` and `--revert`.
 *
 * A backup is the directory ROOT/etc/gpurun/backup/<UTC timestamp>/ (a "-N" suffix when that
 * name is taken) holding a copy of every file about to change at BACKUP/NAME and a `manifest`:
 * "mkdir NAME" for each directory the writes create, then one line per file, "saved MODE NAME"
 * (octal mode) or "absent NAME"; NAME is the host path and runs to the end of the line. A
 * reverted backup is renamed "reverted-<timestamp>".
 *
 * Errors are negative errno values; @err (may be NULL) is filled on failure (util/error.h),
 * naming the file (host name) when one is to blame. Nothing here logs. */
#pragma once

#include "hostcfg/hostcfg.h"
#include "util/error.h"

struct ctx;

/* Write every file of @cfg with a new content: first the backup, then each file atomically
 * (hostfs), creating missing parent directories. If a write fails, the files already written
 * are restored from the backup and the backup is removed; @err->file is then the failing
 * file's host name. When the backup itself cannot be made nothing was written and @err->file
 * is unset. On success *ret_backup (malloc'd, may be NULL) is the backup dir. */
int backup_apply(struct ctx *c, struct hostcfg *cfg, char **ret_backup, struct error *err);

/* Restore the newest backup that was not reverted yet: saved files are written back
 * atomically, files that did not exist are removed (and the directories the apply created, if
 * empty); the backup dir is then renamed to "reverted-<timestamp>". -ENOENT when there is
 * none. *ret_backup names the backup used, *ret_files the host names restored (strv, a removed
 * file marked " (removed: it did not exist before)"). Keeps going past a file it cannot
 * restore and returns the first error, @err naming that file (the backup then stays in place
 * for another try). A damaged backup (a malformed or missing manifest, a saved copy missing):
 * -EBADMSG before anything is touched, @err naming the manifest (host name) and the 1-based
 * line. */
int backup_revert(struct ctx *c, char **ret_backup, char ***ret_files, struct error *err);
