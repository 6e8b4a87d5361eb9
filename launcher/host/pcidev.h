/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI functions through libpci (forced to sysfs under the ctx root) plus the sysfs attributes
 * libpci does not report (driver, driver_override, iommu_group, boot_vga, reset_method). */
#pragma once

#include <stddef.h>

#include "host/inspect.h"

/* Enumerate every PCI function into a sorted array. Entries whose attributes cannot be read are
 * kept with what could be read; a device that vanished mid-scan is dropped. Each problem adds a
 * line to @notes. Returns 0 or a negative errno (-EIO: libpci failed, text in ctx_pci_error). */
int pcidev_scan(struct ctx *c, struct pci_func **ret, size_t *ret_n, char ***notes);
/* The sysfs directory of PCI function @bdf ("0000:c4:00.0"), ROOT/sys/bus/pci/devices/BDF, or
 * the attribute @attr under it (may be NULL for the directory itself; may have several
 * components, e.g. "driver/unbind"). The one place that spells this path. malloc'd; NULL on
 * ENOMEM. */
char *pcidev_attr_path(const struct ctx *c, const char *bdf, const char *attr);
/* The IOMMU group of @bdf (the number its ROOT/sys/bus/pci/devices/BDF/iommu_group link names).
 * -ENOENT: no link (no IOMMU, or no such device); -EINVAL: the link names no number; other
 * negative errnos from readlink. */
int pcidev_iommu_group(const struct ctx *c, const char *bdf);
/* "Advanced Micro Devices, Inc. [AMD/ATI] Strix Halo [...]", or "Device 1002:1586" when the
 * names are unknown. malloc'd. */
char *pcidev_display_name(const struct pci_func *f);
