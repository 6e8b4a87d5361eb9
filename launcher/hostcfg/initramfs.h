/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Initramfs generators: one table row each (initramfs-tools, mkinitcpio, dracut), with how the
 * tool is recognised and the command that rebuilds every installed kernel's initramfs, so
 * that the vfio modules and modprobe.d options are in it at the next boot. A tool is
 * recognised by a file or directory of its own under ROOT/etc (rows in table order, markers in
 * row order), else by the distribution's default (os-release ID and ID_LIKE, in the same
 * order). Nothing here logs. */
#pragma once

#include "hostcfg/hostcfg.h"

struct ctx;

struct initramfs_ops {
	const char *name;		 /* "initramfs-tools" */
	const char *const *markers;	 /* under ROOT/etc, NULL-terminated */
	const char *const *os_ids;	 /* os-release IDs it is the default of, NULL-terminated */
	const char *const *refresh_argv; /* the rebuild, argv[0] looked up in PATH */
};

/* The rows, NULL-terminated by a row with name NULL. */
extern const struct initramfs_ops initramfs_table[];

/* Recognise the host's generator: fill cfg->initramfs_argv (strv) and cfg->initramfs_evidence
 * ("/etc/initramfs-tools exists", "os-release says arch"); both stay NULL when no tool is
 * recognised. @os_ids: ID and ID_LIKE of os-release (strv, may be empty). 0 or -ENOMEM. */
int initramfs_detect(const struct ctx *c, char *const *os_ids, struct hostcfg *cfg);
