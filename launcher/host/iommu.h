/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IOMMU groups and kernel IOMMU state. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host/inspect.h"

struct ctx;

/* Read ROOT/sys/kernel/iommu_groups into @h->groups, linking members to @h->funcs by address.
 * Group members missing from funcs are noted and skipped. */
int iommu_read_groups(struct ctx *c, struct host *h);

/* Interrupt remapping evidence from ROOT/proc/interrupts ("IR-" chips) and the Intel DMAR
 * ecap bit; sets h->intremap and h->intremap_evidence. */
int iommu_read_intremap(struct ctx *c, struct host *h);
