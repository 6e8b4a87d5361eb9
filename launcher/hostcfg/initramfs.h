/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Initramfs generators: one table row each (initramfs-tools, mkinitcpio, dracut), with how the
 * tool is recognised and the command that rebuilds every installed kernel's initramfs, so
 * that the vfio modules and modprobe.d options are in it at the next boot. A tool is
 * recognised by a file or directory of its own under ROOT/etc (rows in table order, markers in
 * row order), else by the distribution's default (os-release ID and ID_LIKE, in the same
 * order). Nothing here logs. */
#pragma once

#include "hostcfg/hostcfg.h"
#include "util/error.h"

struct ctx;

struct initramfs_ops {
	const char *name;		 /* "initramfs-tools" */
	const char *const *markers;	 /* under ROOT/etc, NULL-terminated */
	const char *const *os_ids;	 /* os-release IDs it is the default of, NULL-terminated */
	const char *const *refresh_argv; /* the rebuild, argv[0] looked up in PATH */
	/* The file (under ROOT/etc) that tells the generator to put the vfio modules into the
	 * initramfs and load them before the GPU's driver (issue 13 item 5), and its PURE edit:
	 * @mods (strv, vfio_pci first) added to @buf (NULL: a new file) → *ret. */
	const char *conf;
	int (*edit)(const char *buf, size_t len, char *const *mods, char **ret, struct error *err);
};

/* The rows, NULL-terminated by a row with name NULL. */
extern const struct initramfs_ops initramfs_table[];

/* Recognise the host's generator: fill cfg->initramfs_argv (strv) and cfg->initramfs_evidence
 * ("/etc/initramfs-tools exists", "os-release says arch"); both stay NULL when no tool is
 * recognised. @os_ids: ID and ID_LIKE of os-release (strv, may be empty). 0 or -ENOMEM. */
int initramfs_detect(const struct ctx *c, char *const *os_ids, struct hostcfg *cfg);

/* The detected generator's conf file (cfg->initramfs) into @cfg as HOSTCFG_FILE_INITRAMFS
 * (hostcfg_load_file()); nothing when no generator was recognised. */
int initramfs_load(struct ctx *c, struct hostcfg *cfg, struct error *err);

/* PURE: @mods (strv, in load order) in the conf file of @row: *ret the new content. -EINVAL
 * (@err: the reason and line) when the file cannot be edited safely. */
int initramfs_edit(const struct initramfs_ops *row, const char *buf, size_t len, char *const *mods,
		   char **ret, struct error *err);
