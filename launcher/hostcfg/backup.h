/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing what hostcfg_compute() decided, with a backup to undo it: `gpurun host-config
 * --apply` and `--revert`.
 *
 * A backup is the directory ROOT/etc/gpurun/backup/<UTC timestamp>/ (a "-N" suffix when that
 * name is taken) holding a copy of every file about to change at BACKUP/NAME and a `manifest`:
 * "mkdir NAME" for each directory the writes create, then one line per file, "saved MODE NAME"
 * (octal mode) or "absent NAME", each followed by "owner UID:GID NAME" (saved files) and
 * "wrote LEN:HASH NAME" (what apply wrote: its length and FNV-1a 64 hash, hex); NAME is the
 * host path and runs to the end of the line; when a boot tool sets the parameters
 * (hostcfg.tool), one "undo TOOL PATH PARAM..." line (grubby or kernelstub, its host path, the
 * parameters it is to add), written before the tool runs. A reverted backup is renamed
 * "reverted-<timestamp>".
 *
 * Errors are negative errno values; @err (may be NULL) is filled on failure (util/error.h),
 * naming the file (host name) when one is to blame. Nothing here logs. */
#pragma once

#include "hostcfg/hostcfg.h"
#include "util/error.h"

struct ctx;

/* What the rollback of a failed apply did (backup_apply()); free with backup_rollback_done(). */
struct backup_rollback {
	char *kept;	     /* the backup dir, kept because a file could not be put back; or NULL
			       * (everything was put back, the backup is removed) */
	char **restored;     /* host names put back (strv) */
	char **not_restored; /* "NAME (cause)" of those that could not be (strv) */
};
void backup_rollback_done(struct backup_rollback *rb);

/* Write every file of @cfg with a new content: first the backup, then each file atomically
 * (hostfs), creating missing parent directories.
 * - Only one apply or revert runs at a time (flock on BACKUP_BASE/.lock).
 * - The backup is built as BASE/.partial-NAME and renamed to BASE/NAME once its manifest is
 *   written, so an apply killed on the way never hides an earlier backup from backup_revert();
 *   leftover .partial-* directories are removed by the next apply or revert.
 * - A file that is a symlink is written through it (its target under the root changes, the link
 *   stays); the new file keeps the owner and mode of the one it replaces. The manifest records
 *   the owner ("owner UID:GID NAME") and what was written ("wrote LEN:HASH NAME").
 * - A boot tool (cfg->tool with parameters to add) runs once the backup is published, before the
 *   first file is written, only on the real root (else cfg->tool.skipped); failing (-EIO, @err
 *   naming the tool), its undo runs and nothing is written.
 * - If a write fails, the files already written are put back from the backup, and the tool's
 *   undo runs ("the boot entries (...)" in rb); @err->file is
 *   the failing file's host name and @rb (may be NULL) says what was restored. The backup is
 *   removed when everything was put back and kept (rb->kept) when not.
 * When the backup itself cannot be made nothing was written and @err->file is unset. On
 * success *ret_backup (malloc'd, may be NULL) is the backup dir. */
int backup_apply(struct ctx *c, struct hostcfg *cfg, char **ret_backup, struct backup_rollback *rb,
		 struct error *err);

/* Restore the newest backup that was not reverted yet: the boot tool's undo runs first (on the
 * real root only), then saved files are written back
 * atomically, files that did not exist are removed (and the directories the apply created, if
 * empty); the backup dir is then renamed to "reverted-<timestamp>". -ENOENT when there is
 * none. *ret_backup names the backup used, *ret_files the host names restored (strv, a removed
 * file marked " (removed: it did not exist before)"). Keeps going past a file it cannot
 * restore and returns the first error, @err naming that file (the backup then stays in place
 * for another try). A damaged backup (a malformed or missing manifest, a saved copy missing):
 * -EBADMSG before anything is touched, @err naming the manifest (host name) and the 1-based
 * line. A file the user changed since the apply (its content neither what gpurun wrote nor
 * what was there before; a removed file has nothing to lose): -ESTALE before anything is
 * touched, @err naming it (and the others in its message) and the backup dir. Leftover temp
 * files of a killed write ("NAME.gpurun-XXXXXX") are removed; symlinks, owner and mode as in
 * backup_apply(). */
int backup_revert(struct ctx *c, char **ret_backup, char ***ret_files, struct error *err);
