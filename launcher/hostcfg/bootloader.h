/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bootloaders: where the kernel command line of the next boot is set, one table row each
 * (enum hostcfg_boot): detect, load its files, edit them, the command that makes the boot
 * configuration take the change. Rows are tried in enum order; the first whose detect()
 * matches is the host's bootloader, HOSTCFG_BOOT_UNKNOWN matching always.
 *
 * Paths are full paths under the ctx roots; messages and evidence use host names
 * (hostcfg_host_name()). Errors are negative errno values; @err (may be NULL) as in
 * hostcfg/hostcfg.h. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "hostcfg/hostcfg.h"
#include "util/error.h"

struct ctx;

/* What detection looks at, gathered once by bootloader_load(). */
struct bootloader_probe {
	char *kcmd;	     /* ROOT/etc/kernel/cmdline */
	char *uuids;	     /* ROOT/etc/kernel/proxmox-boot-uuids */
	char *grub;	     /* ROOT/etc/default/grub */
	char *grubd;	     /* ROOT/etc/default/grub.d */
	char **entries;	     /* loader entries: ROOT/boot/loader/entries/, then
			 * ROOT/boot/efi/loader/entries/, then ROOT/efi/loader/entries/ (bootctl's
			 * ESP and XBOOTLDR places), each sorted; never NULL */
	char *const *os_ids; /* borrowed: the ID and ID_LIKE words of os-release */
	char *grubby;	 /* ROOT/usr/sbin/grubby or ROOT/usr/bin/grubby when installed, else NULL */
	char *kstub;	 /* ROOT/usr/bin/kernelstub */
	char *kstub_cfg; /* ROOT/etc/kernelstub/configuration */
	bool has_kcmd, has_uuids, has_grub, has_kstub_cfg;
	bool entries_boot; /* loader entries under ROOT/boot/loader/entries */
	bool has_pve;	   /* ROOT/etc/pve is a directory */
	bool grub_dir;	   /* ROOT/boot/grub or ROOT/boot/grub2 exists */
};

struct bootloader_ops {
	enum hostcfg_boot boot; /* the name is hostcfg_boot_to_string(boot) */
	/* 1 when this is the host's bootloader, *ret_evidence (malloc'd) saying why; 0 when it
	 * is not; -ENOMEM. */
	int (*detect)(const struct ctx *c, const struct bootloader_probe *p, char **ret_evidence);
	/* Add the files that set the command line to @cfg (hostcfg_load_file()); NULL: none. */
	int (*load)(struct ctx *c, const struct bootloader_probe *p, struct hostcfg *cfg,
		    struct error *err);
	/* The new content of one of the files load() added, of @kind, with @add appended
	 * (hostcfg/cmdline-edit.h); -EINVAL for a kind the row does not load. NULL: none. */
	int (*edit)(enum hostcfg_file_kind kind, const char *buf, size_t len, char *const *add,
		    char **ret, struct error *err);
	/* The refresh command to run after the files changed (strv); NULL, or *ret NULL: the
	 * bootloader reads the files itself. */
	int (*refresh_argv)(const struct ctx *c, const struct bootloader_probe *p, char ***ret);
};

/* The row of @boot; NULL when out of range. */
const struct bootloader_ops *bootloader_get(enum hostcfg_boot boot);

/* Detect the bootloader of the host under @c's roots: fill cfg->boot, ->boot_evidence and
 * ->refresh_argv, and load its files into @cfg. @os_ids: ID and ID_LIKE of os-release (strv,
 * may be empty). Returns 0, -ENOMEM or the error of a file that cannot be read (@err naming
 * it). */
int bootloader_load(struct ctx *c, char *const *os_ids, struct hostcfg *cfg, struct error *err);

/* @add put into a file of @boot's, through its row's edit(): *ret is the new content. -EINVAL
 * when the file cannot be edited safely (@err: reason and line) or @boot has no such file. */
int bootloader_edit(enum hostcfg_boot boot, enum hostcfg_file_kind kind, const char *buf,
		    size_t len, char *const *add, char **ret, struct error *err);

/* The command that has @tool (full path @path) add @params to every boot entry, or with
 * @remove take them out again: grubby --update-kernel=ALL --args="P..." (--remove-args=),
 * kernelstub -a "P..." (-d). -EINVAL for HOSTCFG_TOOL_NONE, -ENOMEM. */
int bootloader_tool_argv(enum hostcfg_tool tool, const char *path, char *const *params, bool remove,
			 char ***ret);

/* Tokens of the command line a file configures (kind CMDLINE, GRUB, LOADER_ENTRY, TOOL_STATE: a
 * BLS entry's options, or kernelstub's JSON "user": {"kernel_options"}; a NULL
 * @buf, an absent file, gives none). -EINVAL for another kind, or a file that cannot be
 * parsed (@err: reason and line). */
int bootloader_file_cmdline(enum hostcfg_file_kind kind, const char *buf, size_t len, char ***ret,
			    struct error *err);
