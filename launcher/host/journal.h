/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The write-ahead undo log of one VM, and the per-device locks.
 *
 * File: <state>/<vm>/journal (state = ctx->state, default ROOT/run/gpurun). Text, one entry per
 * line, fields separated by one space. Every entry is appended with O_APPEND and fsync'd BEFORE
 * the host change it describes is made, so after a crash the journal names every change that
 * may have happened (possibly one that did not: revert is idempotent).
 *
 *     gpurun-journal 1 VM PID                      first line: format version, owner
 *     module NAME                                  gpurun loads kernel module NAME
 *     rom PATH new|existing                        a ROM file staged at PATH (new: did not exist;
 *                                                  "existing" only in older journals)
 *     vtcon NAME OLD                               class/vtconsole/NAME/bind was OLD, now 0
 *     platform DEVICE DRIVER                       platform DEVICE unbound from DRIVER
 *     bind BDF driver=DRIVER override=OVERRIDE     PCI function BDF had DRIVER (empty: none) and
 *                                                  driver_override OVERRIDE (empty: none); it
 *                                                  is being moved to vfio-pci
 *
 * Each kind is one row of the host operation table (hostop.h): names, fields and the values a
 * journal may hold come from there.
 *
 * Field values escape '\\', bytes <= 0x20 and 0x7f as \xHH. A last line without its newline is
 * a write cut short by a crash: the action after it was never started, so it is ignored.
 * Anything else unknown is an error naming the line.
 *
 * Locks: <state>/locks/<BDF>.lock, flock(LOCK_EX|LOCK_NB) held by the run for its lifetime, and
 * the file holds "VM PID". A lock file naming another VM whose journal still exists (a
 * `gpurun bind` that was not unbound, or a killed run not yet restored) also counts as held. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/macro.h"

struct ctx;
struct error;

enum journal_kind {
	JOURNAL_MODULE,
	JOURNAL_ROM,
	JOURNAL_VTCON,
	JOURNAL_PLATFORM,
	JOURNAL_BIND,
	_JOURNAL_KIND_MAX,
};

struct journal_entry {
	enum journal_kind kind;
	char *target; /* module name, ROM path, vtcon name, platform device, BDF */
	char *value;  /* rom: "new"/"existing"; vtcon: old bind value; platform: driver;
		       * bind: old driver ("" none); module: NULL */
	char *extra;  /* bind: old driver_override ("" none); else NULL */
	unsigned line;
};

struct journal {
	char *vm;
	pid_t pid;
	struct journal_entry *entries;
	size_t n_entries;

	/* set by journal_create() only */
	int fd;
	char *path;
	int *lock_fds;
	size_t n_locks;
};

/* "module", "rom", "vtcon", "platform", "bind": the first field of an entry line. */
DECLARE_STRING_TABLE_LOOKUP(journal_kind, enum journal_kind);

/* Parse a journal file's contents. Pure. Returns 0, -EBADMSG or -ENOMEM; on failure @err (may
 * be NULL) gets the cause and, for -EBADMSG, the 1-based line (err->file stays NULL: the caller
 * names the file). Besides the shape of each line, the fields that become sysfs paths on revert
 * are checked: a bind target is a canonical PCI address, vtcon and platform names have no '/'. */
int journal_parse(const void *buf, size_t len, struct journal **ret, struct error *err);

/* Format one entry line (with its newline). Returns a malloc'd string or NULL. */
char *journal_format_entry(enum journal_kind k, const char *target, const char *value,
			   const char *extra);

/* <state>/<vm>/journal (malloc'd) */
char *journal_path(const struct ctx *c, const char *vm);

/* Start a journal for @vm: creates <state>/<vm>/ and the journal with O_EXCL. -EEXIST when a
 * journal for @vm already exists (a previous run was not reverted: `gpurun restore VM`). */
int journal_create(struct ctx *c, const char *vm, struct journal **ret);
/* Read and parse <state>/<vm>/journal. -ENOENT if none, -EBADMSG as journal_parse(), or the
 * read error; @err (may be NULL) then names the journal's path in err->file (and the line). */
int journal_load(struct ctx *c, const char *vm, struct journal **ret, struct error *err);
/* Append an entry: one write() with O_APPEND, then fsync(). The entry is also added to j's
 * in-memory list. -EBADF for a journal that was only loaded. */
int journal_append(struct journal *j, enum journal_kind k, const char *target, const char *value,
		   const char *extra);
/* Remove <state>/<vm>/journal and the directory when empty. 0 also when already gone. */
int journal_remove(struct ctx *c, const char *vm);
/* VM names with a journal in the state dir, sorted. */
int journal_list(struct ctx *c, char ***ret);

/* Take the lock of PCI function @bdf for @j's VM (kept open in j). -EBUSY when another gpurun
 * holds it, or when the lock file names another VM that still has a journal; @err (may be NULL)
 * then says "BDF is in use by gpurun VM NAME (pid N)" (or "(journal left)") and err->device is
 * @bdf. Other failures (the lock file cannot be created: the errno) name @bdf the same way. */
int journal_lock_device(struct ctx *c, struct journal *j, const char *bdf, struct error *err);
/* Take over the locks of every bound function of a loaded journal (restore/unbind): like
 * journal_lock_device, but a lock file naming the journal's own VM is ours. */
int journal_lock_entries(struct ctx *c, struct journal *j, struct error *err);
/* Clear and release every lock held by @j. */
void journal_unlock_all(struct journal *j);

struct journal *journal_free(struct journal *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct journal *, journal_free)
