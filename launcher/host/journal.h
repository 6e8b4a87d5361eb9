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
 *     volume URI POOL NAME                         a ROM uploaded as volume NAME into storage
 *                                                  pool POOL of remote node URI (host/remote.h)
 *     nodedev-detach URI NAME driver=DRIVER        PCI node device NAME (pci_0000_03_00_0) of
 *                                                  remote node URI had DRIVER ("" none) and is
 *                                                  being detached to vfio-pci there; revert
 *                                                  reattaches it (virNodeDeviceReAttach)
 *
 * Each kind is one row of the host operation table (hostop.h): names, fields and the values a
 * journal may hold come from there.
 *
 * Field values escape '\\', bytes <= 0x20 and 0x7f as \xHH. A last line without its newline is
 * a write cut short by a crash: the action after it was never started, so it is ignored.
 * Anything else unknown is an error naming the line.
 *
 * The state dir and everything in it are opened as statedir.h says (owned by us, not writable by
 * others, no symlinks followed), and a journal read from disk holds only what gpurun's own
 * actions write: modules gpurun loads, ROM files in the staging dirs (ctx->rom_dir,
 * ctx->pve_rom_dir), vtconN consoles, plain driver names; and it names the VM of its directory.
 *
 * Liveness: <state>/<vm>/lock (liveness.h) is held by the run for its whole life and by the QEMU
 * it starts; journal_create() and journal_open() decide from it who may touch the journal.
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
	JOURNAL_VOLUME,
	JOURNAL_NODEDEV,
	_JOURNAL_KIND_MAX,
};

struct journal_entry {
	enum journal_kind kind;
	char *target; /* module name, ROM path, vtcon name, platform device, BDF; volume and
		       * nodedev-detach: the node's libvirt URI */
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

	char *path;

	/* journal_create(), journal_open(): the VM lock (liveness.h), -1 when not held */
	int lock_fd;
	/* journal_open() with force: who was alive and overridden (NULL: nobody) */
	char *holder;
	/* journal_create(): a journal without entries that nobody held was replaced */
	bool taken_over;
	/* read from an empty file or one whose first line was cut short (no header, no entries) */
	bool headerless;

	/* set by journal_create() only */
	int fd;
	int *lock_fds;
	size_t n_locks;
};

/* "module", "rom", "vtcon", "platform", "bind", "volume", "nodedev-detach": the first field of
 * an entry line. */
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

/* A VM name that can be a directory in the state dir and a journal field. */
bool journal_vm_name_ok(const char *vm);

/* Start a journal for @vm: takes <state>/<vm>/lock, then creates <state>/<vm>/journal with
 * O_EXCL and records the caller as the lock's holder. Returns 0, or:
 *   -EBUSY   someone is alive (liveness.h): @err says "VM 'X' is already run by gpurun (pid N)..."
 *   -EEXIST  nobody is, but a journal with entries is left (`gpurun restore VM` first)
 *   -EBADMSG that journal is corrupt or hostile (@err names file and line)
 *   -EPERM, -ELOOP, -EINVAL: a hostile state dir (statedir.h), or a bad VM name.
 * A journal without entries (empty, first line cut short, header only) that nobody holds is a
 * crash before the first change: it is replaced, and (*ret)->taken_over says so. */
int journal_create(struct ctx *c, const char *vm, struct journal **ret, struct error *err);
/* For restore and unbind: take @vm's lock, then read its journal. -ENOENT when there is no
 * journal (no error set); -EBUSY when someone is alive (@err as journal_create), unless @force:
 * then (*ret)->holder says who was overridden (and lock_fd is -1 when the lock is another
 * process's). A journal without entries loads with n_entries 0 (headerless when it has no
 * first line either). Errors name the file (and line). */
int journal_open(struct ctx *c, const char *vm, bool force, struct journal **ret,
		 struct error *err);
/* Read and parse <state>/<vm>/journal without locking anything. -ENOENT if none, -EBADMSG as
 * journal_parse() (also for a file without a complete first line), or the read error; @err
 * (may be NULL) then names the journal's path in err->file (and the line). */
int journal_load(struct ctx *c, const char *vm, struct journal **ret, struct error *err);

/* What a run of @vm would find in the state dir, read-only (nothing is created or changed; the
 * VM lock is tried only when its file exists, and released at once): the same decision
 * journal_create() takes. For plan/check previews. */
enum journal_probe {
	JOURNAL_PROBE_NONE,	/* no journal: a run starts a new one */
	JOURNAL_PROBE_TAKEOVER, /* a journal naming no change, nobody alive: a run takes it over */
	JOURNAL_PROBE_LIVE,	/* someone keeps the VM alive: *ret_text "VM 'X' is ..." */
	JOURNAL_PROBE_LEFT,	/* entries left by a run that is gone: `gpurun restore` first */
};
/* Returns 0 and *ret (and *ret_text, malloc'd, for LIVE; *ret_entries for LEFT), or the error
 * a run would stop at (a state dir or journal gpurun must not trust) with @err naming the file. */
int journal_probe(struct ctx *c, const char *vm, enum journal_probe *ret, char **ret_text,
		  size_t *ret_entries, struct error *err);
/* Record the guest in the VM lock (liveness.h): QEMU's pid (it inherits the lock), or the
 * libvirt domain (before it is created). 0 or a negative errno. */
int journal_record_qemu(struct journal *j, pid_t pid);
int journal_record_libvirt(struct journal *j, const char *uri, const char *domain);
/* Append an entry: one write() with O_APPEND, then fsync(). The entry is also added to j's
 * in-memory list. -EBADF for a journal that was only loaded. */
int journal_append(struct journal *j, enum journal_kind k, const char *target, const char *value,
		   const char *extra);
/* Remove <state>/<vm>/journal, then its lock (the caller holds it), and the directory when
 * empty. 0 also when already gone. */
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
/* Whether PCI function @bdf is taken: -EBUSY (with @err as journal_lock_device) when a gpurun
 * holds its lock or the lock names a VM whose journal exists; 0 when free. Makes and writes
 * nothing (a lock file that does not exist is held by nobody). */
int journal_device_in_use(struct ctx *c, const char *bdf, struct error *err);
/* Clear and release every lock held by @j. */
void journal_unlock_all(struct journal *j);

struct journal *journal_free(struct journal *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct journal *, journal_free)
