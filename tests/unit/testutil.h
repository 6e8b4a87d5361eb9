/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared helpers for the cmocka unit tests: build `struct host` snapshots by hand so that pure
 * code (plan, checks, emitters) can be tested without a fixture tree. Include after cmocka. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/inspect.h"
#include "util/strv.h"

static inline struct host *testutil_host_new(void)
{
	struct host *h = calloc(1, sizeof(*h));

	if (!h)
		abort();
	h->intremap = -1;
	return h;
}

/* Add a function (address "0000:bb:dd.f"); @group < 0 for none. Groups are created on demand.
 * Returns the new function (pointer valid until the next add). */
static inline struct pci_func *testutil_host_add(struct host *h, const char *addr, uint16_t vendor,
						 uint16_t device, uint32_t class,
						 const char *driver, int group)
{
	struct pci_func *f;
	struct iommu_group *g = NULL;
	size_t idx;

	h->funcs = realloc(h->funcs, sizeof(*h->funcs) * (h->n_funcs + 1));
	if (!h->funcs)
		abort();
	idx = h->n_funcs++;
	f = &h->funcs[idx];
	*f = (struct pci_func){ .iommu_group = group, .boot_vga = -1, .fb = -1 };
	if (pci_addr_parse(addr, f->address) < 0)
		abort();
	sscanf(f->address, "%x:%x:%x.%x", &f->domain, &f->bus, &f->dev, &f->func);
	f->vendor = vendor;
	f->device = device;
	f->class = class;
	f->is_bridge = (class >> 16) == 0x06;
	f->driver = driver ? strdup(driver) : NULL;
	f->reset_methods = calloc(1, sizeof(char *));
	if (group < 0)
		return f;
	for (size_t i = 0; i < h->n_groups; i++)
		if (h->groups[i].id == group)
			g = &h->groups[i];
	if (!g) {
		h->groups = realloc(h->groups, sizeof(*h->groups) * (h->n_groups + 1));
		if (!h->groups)
			abort();
		g = &h->groups[h->n_groups++];
		*g = (struct iommu_group){ .id = group, .type = strdup("DMA") };
	}
	g->members = realloc(g->members, sizeof(size_t) * (g->n_members + 1));
	if (!g->members)
		abort();
	g->members[g->n_members++] = idx;
	return f;
}

/* The Strix Halo APU slot from the strix-halo fixture, as a snapshot: c4:00.0 GPU + .1 audio in
 * group 14, the PSP/USB/ACP/HDA functions of the slot each in their own group. */
static inline struct host *testutil_host_strix(void)
{
	struct host *h = testutil_host_new();

	testutil_host_add(h, "0000:00:08.1", 0x1022, 0x150c, 0x060400, "pcieport", 5);
	testutil_host_add(h, "0000:c4:00.0", 0x1002, 0x1586, 0x030000, "amdgpu", 14)->boot_vga = 1;
	testutil_host_add(h, "0000:c4:00.1", 0x1002, 0x1640, 0x040300, "snd_hda_intel", 14);
	testutil_host_add(h, "0000:c4:00.2", 0x1022, 0x17e0, 0x108000, "ccp", 15);
	testutil_host_add(h, "0000:c4:00.4", 0x1022, 0x1587, 0x0c0330, "xhci_hcd", 16);
	testutil_host_add(h, "0000:c4:00.5", 0x1022, 0x15e2, 0x048000, "snd_pci_acp6x", 17);
	testutil_host_add(h, "0000:c4:00.6", 0x1022, 0x15e3, 0x040300, "snd_hda_intel", 18);
	h->cpu_vendor = strdup("AuthenticAMD");
	h->cpu_virt = true;
	h->dev_kvm = true;
	h->intremap = 1;
	return h;
}
