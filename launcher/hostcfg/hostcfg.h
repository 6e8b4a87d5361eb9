/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Persistent host configuration for a GPU dedicated to guests: IOMMU kernel parameters in the
 * bootloader's configuration, vfio modules in modules-load.d, vfio-pci ids and softdeps in
 * modprobe.d, optionally a driver blacklist.
 *
 * Three stages, like the rest of gpurun:
 *   hostcfg_load(ctx, host)       I/O: detect the bootloader (hostcfg/bootloader.h) and the
 *                                 initramfs generator (hostcfg/initramfs.h), read every file
 *                                 that may change (and the ones that may interfere), ask libkmod
 *                                 which modules exist and which modules claim each function.
 *   hostcfg_compute(cfg, host, …) PURE: the new content of each file, the commands to run after,
 *                                 and diagnostics (conflicting user parameters, shared drivers).
 *   backup_apply / backup_revert  I/O (hostcfg/backup.h): backup, then write every file.
 * The text editors are pure functions of their buffers (hostcfg/cmdline-edit.h,
 * hostcfg/modprobe-edit.h), as is the diff shown for each file (hostcfg/diff.h).
 *
 * Paths: hostcfg_file.path is the full path under the ctx roots; .name is the same file as the
 * host sees it ("/etc/default/grub"), used in messages, diffs, the backup manifest and errors.
 * Errors are negative errno values; a function that takes `struct error *err` (may be NULL)
 * also fills it on failure (util/error.h): errno, the cause, and the file (host name) and
 * 1-based line when known. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/diag.h"
#include "core/hostinfo.h"
#include "util/error.h"
#include "util/macro.h"

/* The largest configuration file read (a larger one fails with -EFBIG). */
#define HOSTCFG_FILE_MAX (1024 * 1024)

struct ctx;
struct host;
struct initramfs_ops;
struct pci_func;

enum hostcfg_boot {
	HOSTCFG_BOOT_PROXMOX_SDBOOT, /* etc/kernel/cmdline + etc/kernel/proxmox-boot-uuids */
	HOSTCFG_BOOT_PROXMOX_GRUB,   /* etc/pve or proxmox-boot-uuids, with etc/default/grub */
	HOSTCFG_BOOT_KERNELSTUB,     /* Pop!_OS: etc/kernelstub/configuration, kernelstub -a */
	HOSTCFG_BOOT_FEDORA_BLS, /* Fedora/RHEL: grubby --update-kernel=ALL + etc/default/grub */
	HOSTCFG_BOOT_GRUB,	 /* etc/default/grub */
	HOSTCFG_BOOT_SDBOOT,	 /* etc/kernel/cmdline (kernel-install) and/or loader entries */
	HOSTCFG_BOOT_UNKNOWN,
	_HOSTCFG_BOOT_MAX,
};
/* "GRUB", "Proxmox VE, GRUB", ...: what the user reads after "Bootloader: ". */
DECLARE_STRING_TABLE_LOOKUP(hostcfg_boot, enum hostcfg_boot);

enum hostcfg_file_kind {
	HOSTCFG_FILE_CMDLINE,	   /* etc/kernel/cmdline: the whole file is the command line */
	HOSTCFG_FILE_GRUB,	   /* etc/default/grub: GRUB_CMDLINE_LINUX(_DEFAULT) */
	HOSTCFG_FILE_LOADER_ENTRY, /* boot/loader/entries/NAME.conf: `options` lines */
	HOSTCFG_FILE_MODULES_LOAD, /* etc/modules-load.d/vfio.conf */
	HOSTCFG_FILE_MODPROBE,	   /* etc/modprobe.d/vfio.conf */
	HOSTCFG_FILE_BLACKLIST,	   /* etc/modprobe.d/blacklist-gpu.conf */
	HOSTCFG_FILE_INITRAMFS,	   /* the initramfs generator's list of early modules */
	/* read only, never written: files that can override ours */
	HOSTCFG_FILE_MODPROBE_OTHER, /* every other modprobe.d NAME.conf modprobe reads: etc/, run/,
				      * usr/local/lib/, usr/lib/, lib/ (a name hides later ones) */
	HOSTCFG_FILE_GRUB_DROPIN,    /* etc/default/grub.d/NAME.cfg */
	/* read only: what a boot tool (struct hostcfg_tool) changes itself: the BLS entries
	 * grubby edits, kernelstub's configuration */
	HOSTCFG_FILE_TOOL_STATE,
	_HOSTCFG_FILE_KIND_MAX,
};
/* "cmdline", "grub", "loader-entry", "modules-load", "modprobe", "blacklist", "initramfs",
 * "modprobe-other", "grub-dropin", "tool-state". */
DECLARE_STRING_TABLE_LOOKUP(hostcfg_file_kind, enum hostcfg_file_kind);

struct hostcfg_file {
	enum hostcfg_file_kind kind;
	char *path; /* full path under the roots */
	char *name; /* as the host sees it: "/etc/default/grub" */
	char *old;  /* current content, NUL-terminated; NULL when the file does not exist */
	size_t old_len;
	mode_t mode; /* of the existing file; 0644 for a new one */
	char *new;   /* content after hostcfg_compute(); NULL = unchanged */
	size_t new_len;
};

/* A boot tool that sets the kernel parameters itself (grubby, kernelstub): gpurun does not edit
 * its files but runs it with the parameters to add, and records in the backup manifest how to
 * undo it (hostcfg/backup.h). */
enum hostcfg_tool {
	HOSTCFG_TOOL_NONE,
	HOSTCFG_TOOL_GRUBBY,	 /* grubby --update-kernel=ALL --args="P..." / --remove-args= */
	HOSTCFG_TOOL_KERNELSTUB, /* kernelstub -a "P..." / -d "P..." */
	_HOSTCFG_TOOL_MAX,
};
/* "none", "grubby", "kernelstub": also the word of the manifest's undo line. */
DECLARE_STRING_TABLE_LOOKUP(hostcfg_tool, enum hostcfg_tool);

struct hostcfg_tool_run {
	enum hostcfg_tool tool; /* HOSTCFG_TOOL_NONE: the bootloader has no such tool */
	char *path;		/* full path under the roots of the installed tool */
	char **add;   /* hostcfg_compute(): the parameters it is to add; NULL or empty: none */
	bool skipped; /* backup_apply(): not run, --root is not / (hostcfg/backup.h) */
};

struct hostcfg {
	enum hostcfg_boot boot;
	struct hostcfg_tool_run tool;
	char *
	    boot_evidence; /* why: "/etc/kernel/cmdline and /etc/kernel/proxmox-boot-uuids exist" */
	char **refresh_argv;   /* bootloader refresh command, NULL if the loader reads our file */
	char **initramfs_argv; /* initramfs rebuild, NULL if no tool was recognised */
	char *initramfs_evidence;	       /* why that tool */
	const struct initramfs_ops *initramfs; /* its row (hostcfg/initramfs.h), or NULL */

	struct hostcfg_file *files;
	size_t n_files;

	/* libkmod view of the kernel in ROOT/proc (modules.dep.bin under ROOT/lib/modules) */
	bool kmod_index; /* false: no index, the three standard modules are assumed */
	bool mod_exists
	    [_HOST_MOD_MAX]; /* modules-load.d gets those the kernel has (core/hostinfo.h) */
	/* Per host->funcs index: the modules that claim the function (the bound driver's module,
	 * or for an unbound/vfio-pci-bound function the modules matching its modalias);
	 * strv, NULL when unknown. Array of h->n_funcs entries. */
	char ***func_modules;
	size_t n_func_modules;
};

struct hostcfg_request {
	const struct pci_func *const *gpus; /* the selected functions (display or any) */
	size_t n_gpus;
	/* Explicit function addresses (a profile's `functions = ...`), or NULL: every function of
	 * each display function's slot (on an APU only its display and HD-audio functions, see
	 * host_gpu_slot_functions()), plus each non-display function itself. */
	char *const *functions;
	bool blacklist; /* also write blacklist-gpu.conf */
};

/* Detect and read. @h is the snapshot of the same root. Returns 0, -ENOMEM, or the error of a
 * file that exists but cannot be read (e.g. -EISDIR where a file is expected); @err->file
 * then names that file (host name), and is unset for any other failure. */
int hostcfg_load(struct ctx *c, const struct host *h, struct hostcfg **ret, struct error *err);
struct hostcfg *hostcfg_free(struct hostcfg *cfg);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hostcfg *, hostcfg_free)

/* Add a file to @cfg by hand (unit tests, and hostcfg_load). @content NULL = absent. */
int hostcfg_add_file(struct hostcfg *cfg, enum hostcfg_file_kind kind, const char *path,
		     const char *name, const char *content, size_t len, mode_t mode);

/* ---- loading helpers, for the bootloader and initramfs rows ---- */

/* The host's name for a path under the roots: "ROOT/etc/x" -> "/etc/x" (a pointer into @path;
 * @path itself when it is not under the root). */
const char *hostcfg_host_name(const struct ctx *c, const char *path);
/* @path (full, under @root) with the symlinks of its last component followed, a link's
 * absolute target taken under @root ("/etc/x" is ROOT/etc/x): the file that is read and written
 * for @path, so that a symlinked /etc/kernel/cmdline stays a symlink. A missing path (or a
 * dangling link's target) is returned as it is. -ELOOP past 32 links, -ENOMEM. */
int hostcfg_resolve(const char *root, const char *path, char **ret);
/* Read @path (full path under the roots, symlinks followed as hostcfg_resolve() says) into @cfg as @kind, with its mode. A file that does
 * not exist (also when a parent is not a directory) is added as absent: a new file, 0644.
 * Fails with the error of a file that exists but cannot be read (-EISDIR for a directory,
 * -EFBIG beyond HOSTCFG_FILE_MAX), @err naming it (host name), or -ENOMEM. */
int hostcfg_load_file(struct ctx *c, struct hostcfg *cfg, enum hostcfg_file_kind kind,
		      const char *path, struct error *err);
/* The entries of @dir whose names end in @suffix (hidden ones skipped) as full paths, sorted by
 * name; an empty strv when @dir cannot be read. 0 or -ENOMEM. */
int hostcfg_list_dir(const char *dir, const char *suffix, char ***ret);
/* Whether @root/@rel exists (false also on ENOMEM). */
bool hostcfg_exists_under(const char *root, const char *rel);

/* Compute every change for @req. Fills files[].new where content changes, tool.add with the
 * parameters a boot tool is to add (it counts as one change), and appends
 * diagnostics (WARN for conflicting user parameters, a driver shared with other devices,
 * missing modules; INFO for what was decided and why). Returns the number of files that
 * change, -EINVAL when a file cannot be edited (a FAIL "hostcfg-unparsable" in @d says
 * "NAME:LINE: cannot edit this file safely: REASON") or a modprobe.d file gpurun does not write
 * has a malformed vfio-pci options line (a FAIL "hostcfg-modprobe-malformed" each, with the
 * correct line as the fix), or -ENOMEM. */
int hostcfg_compute(struct hostcfg *cfg, const struct host *h, const struct hostcfg_request *req,
		    struct diag_list *d);

/* Run @argv (argv[0] looked up in PATH) with spawn_run(): no shell, stdin /dev/null,
 * stdout/stderr inherited; wait for it. Returns its exit status (0..255), 128+signal when
 * killed, or a negative errno when it could not be started (-ENOENT: not installed). */
int hostcfg_run(char *const *argv);

/* ---- "configured but not rebooted yet", for gpurun check ---- */

struct hostcfg_state {
	char *source;	  /* host name of the file the command line was read from, or NULL */
	char **cmdline;	  /* tokens the bootloader configuration gives the next boot */
	char **vfio_ids;  /* "1002:1586" from every etc/modprobe.d options vfio-pci ids= */
	char *ids_source; /* host name of the (first) file holding ids, or NULL */
};
/* Read what the configuration files say (bootloader detection as in hostcfg_load). */
int hostcfg_read_state(struct ctx *c, struct hostcfg_state **ret);
struct hostcfg_state *hostcfg_state_free(struct hostcfg_state *st);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hostcfg_state *, hostcfg_state_free)

/* PURE. Compare @st with the running system in @h: every configured parameter missing from
 * /proc/cmdline, every configured vfio-pci id whose functions are bound to another driver →
 * one WARN "hostcfg-pending" each, with the fix "reboot" (or refresh + reboot). When something
 * is configured and everything is active: one PASS "hostcfg-active". Nothing configured:
 * nothing added. Returns the number of pending items, or -ENOMEM. */
int hostcfg_pending(const struct host *h, const struct hostcfg_state *st, struct diag_list *out);
