/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ROM I/O on the host (host/romstage.c). Paths come from the ctx roots. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/vfct.h"

struct ctx;
struct error;

/* Path of the table under the ctx roots: ROOT/sys/firmware/acpi/tables/VFCT (malloc'd). */
char *vfct_path(const struct ctx *c);
/* Read and parse ROOT/sys/firmware/acpi/tables/VFCT. -ENOENT when the firmware has no VFCT;
 * otherwise as vfct_parse(). On failure @err (may be NULL) names the table's path as the file:
 * with the read error (strerror), or vfct_parse()'s byte offset and message. */
int vfct_read(struct ctx *c, struct vfct_table **ret, struct diag_list *warnings,
	      struct error *err);
/* Write @buf to DIR/NAME: DIR created (0755) if missing, written atomically (temp file + rename)
 * with mode 0644. An identical existing file is left alone (success); a different one gives
 * -EEXIST unless @force. @name must be a plain file name (-EINVAL otherwise, also for names with
 * ',' or ';' which Proxmox cannot use). *ret_path (may be NULL) gets the full path. @c is unused
 * today but keeps the signature of the other host writers. */
int rom_stage(struct ctx *c, const void *buf, size_t len, const char *dir, const char *name,
	      bool force, char **ret_path);
/* Read the ROM of PCI function @bdf ("0000:c4:00.0") through ROOT/sys/bus/pci/devices/BDF/rom:
 * write "1" to enable reading, read, write "0" — the disable is written even when the enable or
 * the read failed. When the attribute is not on sysfs (a fixture tree), the file is only read.
 * -ENOENT if the device has no rom attribute; the kernel's error otherwise (e.g. -EIO when the
 * ROM BAR cannot be read); -ENODATA when the read returned no bytes. */
int rom_read_sysfs(struct ctx *c, const char *bdf, void **ret, size_t *ret_len);
