/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IOMMU groups and kernel IOMMU state. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "inspect.h"

struct ctx;

/* Read ROOT/sys/kernel/iommu_groups into @h->groups, linking members to @h->funcs by address.
 * Group members missing from funcs are noted and skipped. */
int iommu_read_groups(struct ctx *c, struct host *h);

/* Members of group @id that block passing @passed (a strv of addresses) to a guest: every
 * member that is neither in @passed nor a bridge. Returns the count (>= 0) and, if @ret_idx is
 * non-NULL, a malloc'd array of indices into h->funcs. -ENOENT if the group does not exist. */
int iommu_group_blockers(const struct host *h, int id, char *const *passed, size_t **ret_idx);

/* "identity" groups (iommu=pt) are the passthrough default domain type. */
bool iommu_group_is_passthrough(const struct iommu_group *g);

/* Interrupt remapping evidence from ROOT/proc/interrupts ("IR-" chips) and the Intel DMAR
 * ecap bit; sets h->intremap and h->intremap_evidence. */
int iommu_read_intremap(struct ctx *c, struct host *h);
