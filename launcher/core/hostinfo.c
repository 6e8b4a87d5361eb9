/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host snapshot as data: lookups, parsing of PCI addresses and ids, slot and IOMMU-group
 * reasoning. Pure: nothing here reads the host. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/hostinfo.h"
#include "util/strv.h"

const char *const host_module_names[_HOST_MOD_MAX] = {
	[HOST_MOD_VFIO] = "vfio",
	[HOST_MOD_VFIO_IOMMU_TYPE1] = "vfio_iommu_type1",
	[HOST_MOD_VFIO_PCI] = "vfio_pci",
	[HOST_MOD_VFIO_VIRQFD] = "vfio_virqfd",
};

bool host_module_required(enum host_module m)
{
	return m != HOST_MOD_VFIO_VIRQFD;
}

void host_func_clear(struct pci_func *f)
{
	free(f->vendor_name);
	free(f->device_name);
	free(f->class_name);
	free(f->driver);
	free(f->driver_override);
	strv_free(f->reset_methods);
	free(f->fb_platform);
	*f = (struct pci_func){ .iommu_group = -1, .boot_vga = -1, .fb = -1 };
}
struct host *host_free(struct host *h)
{
	if (!h)
		return NULL;
	for (size_t i = 0; i < h->n_funcs; i++)
		host_func_clear(&h->funcs[i]);
	free(h->funcs);
	for (size_t i = 0; i < h->n_groups; i++) {
		free(h->groups[i].members);
		free(h->groups[i].type);
	}
	free(h->groups);
	free(h->kernel_release);
	free(h->cmdline);
	free(h->cpu_vendor);
	free(h->intremap_evidence);
	strv_free(h->vtconsoles);
	strv_free(h->notes);
	free(h->remote_uri);
	free(h->remote_rom_pool);
	free(h->remote_rom_dir);
	free(h);
	return NULL;
}

int pci_addr_parse(const char *s, char ret[PCI_ADDR_MAX])
{
	unsigned dom = 0, bus, dev, fn;
	int n = 0;

	if (!s)
		return -EINVAL;
	if (sscanf(s, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) == 4 && s[n] == 0 &&
	    strlen(s) == 12)
		;
	else if (n = 0, dom = 0,
		 sscanf(s, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) == 3 && s[n] == 0 &&
		     strlen(s) == 7)
		;
	else
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return -EINVAL;
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(ret, PCI_ADDR_MAX, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

int pci_id_parse(const char *s, uint16_t *ret_vendor, uint16_t *ret_device)
{
	unsigned v, d;
	int n = 0;

	if (!s || strlen(s) != 9 || s[4] != ':')
		return -EINVAL;
	for (int i = 0; i < 9; i++)
		if (i != 4 && !isxdigit((unsigned char)s[i]))
			return -EINVAL;
	if (sscanf(s, "%4x:%4x%n", &v, &d, &n) != 2 || n != 9)
		return -EINVAL;
	*ret_vendor = (uint16_t)v;
	*ret_device = (uint16_t)d;
	return 0;
}

const struct pci_func *host_find_func(const struct host *h, const char *address)
{
	for (size_t i = 0; i < h->n_funcs; i++)
		if (streq(h->funcs[i].address, address))
			return &h->funcs[i];
	return NULL;
}

const struct iommu_group *host_find_group(const struct host *h, int id)
{
	for (size_t i = 0; i < h->n_groups; i++)
		if (h->groups[i].id == id)
			return &h->groups[i];
	return NULL;
}

static bool same_slot(const struct pci_func *a, const struct pci_func *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev;
}

bool host_slot_is_apu(const struct host *h, const struct pci_func *gpu)
{
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct pci_func *f = &h->funcs[i];
		uint32_t cls = f->class >> 8;

		if (!same_slot(f, gpu) || f == gpu)
			continue;
		if (f->vendor != gpu->vendor)
			return true;
		/* display, HD audio, USB (VirtualLink) and serial bus (USB-C UCSI) ride on cards */
		if ((cls >> 8) != 0x03 && cls != 0x0403 && cls != 0x0c03 && cls != 0x0c80)
			return true;
	}
	return false;
}

int host_gpu_slot_functions(const struct host *h, const struct pci_func *gpu, char ***ret)
{
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
	bool apu = host_slot_is_apu(h, gpu);
	int r;

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct pci_func *f = &h->funcs[i];

		if (!same_slot(f, gpu))
			continue;
		/* on an APU: the display function(s) and the GPU vendor's HDMI/DP audio, not the
		 * platform's own HD-audio controller (1022:15e3) that shares the slot */
		if (apu && !pci_func_is_display(f) &&
		    !(pci_func_is_hda(f) && f->vendor == gpu->vendor))
			continue;
		r = strv_extend(&l, f->address);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

int host_match_device(const struct host *h, const char *spec, const struct pci_func ***ret)
{
	_cleanup_free_ const struct pci_func **m = calloc(h->n_funcs + 1, sizeof(*m));
	char addr[PCI_ADDR_MAX];
	uint16_t v, d;
	size_t n = 0;

	if (!m)
		return -ENOMEM;
	if (pci_addr_parse(spec, addr) >= 0) {
		const struct pci_func *f = host_find_func(h, addr);

		if (f)
			m[n++] = f;
	} else if (pci_id_parse(spec, &v, &d) >= 0) {
		for (size_t i = 0; i < h->n_funcs; i++)
			if (h->funcs[i].vendor == v && h->funcs[i].device == d)
				m[n++] = &h->funcs[i];
	} else
		return -EINVAL;
	*ret = TAKE_PTR(m);
	return (int)n;
}
int iommu_group_blockers(const struct host *h, int id, char *const *passed, size_t **ret_idx)
{
	const struct iommu_group *g = host_find_group(h, id);
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;

	if (!g)
		return -ENOENT;
	idx = calloc(g->n_members + 1, sizeof(size_t));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < g->n_members; i++) {
		const struct pci_func *f = &h->funcs[g->members[i]];

		if (f->is_bridge || strv_contains(passed, f->address))
			continue;
		idx[n++] = g->members[i];
	}
	if (ret_idx)
		*ret_idx = TAKE_PTR(idx);
	return (int)n;
}

bool iommu_group_is_passthrough(const struct iommu_group *g)
{
	return g->type && streq(g->type, "identity");
}
