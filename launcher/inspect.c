/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <libkmod.h>

#include "ctx.h"
#include "hostfs.h"
#include "inspect.h"
#include "iommu.h"
#include "pcidev.h"
#include "strv.h"

const char *const host_module_names[_HOST_MOD_MAX] = {
	[HOST_MOD_VFIO] = "vfio",
	[HOST_MOD_VFIO_IOMMU_TYPE1] = "vfio_iommu_type1",
	[HOST_MOD_VFIO_PCI] = "vfio_pci",
};

struct host *host_free(struct host *h)
{
	if (!h)
		return NULL;
	for (size_t i = 0; i < h->n_funcs; i++)
		pcidev_func_clear(&h->funcs[i]);
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

static void read_cpu(struct ctx *c, struct host *h)
{
	_cleanup_free_ char *p = path_join(c->proc, "cpuinfo"), *buf = NULL;
	char *line, *save = NULL;

	if (!p || hostfs_read_file(p, 64 * 1024 * 1024, &buf, NULL) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		if (!h->cpu_vendor && startswith(line, "vendor_id")) {
			h->cpu_vendor = strdup(colon + 1 + strspn(colon + 1, " \t"));
		} else if (startswith(line, "flags")) {
			_cleanup_strv_free_ char **flags = NULL;

			if (strv_split(colon + 1, " \t", &flags) >= 0 &&
			    (strv_contains(flags, "svm") || strv_contains(flags, "vmx")))
				h->cpu_virt = true;
			/* one processor's flags are enough */
			if (h->cpu_vendor)
				break;
		}
	}
}

static void read_modules(struct ctx *c, struct host *h)
{
	struct kmod_ctx *k = ctx_kmod(c);

	for (int i = 0; i < _HOST_MOD_MAX; i++) {
		_cleanup_free_ char *p = path_join(c->sys, "module", host_module_names[i]);
		struct kmod_list *list = NULL;

		h->mod_loaded[i] = p && hostfs_is_dir(p);
		if (h->mod_loaded[i]) {
			h->mod_available[i] = true;
			continue;
		}
		if (!k)
			continue;
		/* lookup finds modules in modules.dep and built-ins in modules.builtin */
		if (kmod_module_new_from_lookup(k, host_module_names[i], &list) >= 0 && list) {
			h->mod_available[i] = true;
			kmod_module_unref_list(list);
		}
	}
}

/* Which framebuffer belongs to which PCI function, and whether a vt console is bound to a
 * framebuffer at all (fbcon binds to every registered framebuffer). */
static void read_console(struct ctx *c, struct host *h)
{
	_cleanup_free_ char *gdir = path_join(c->sys, "class/graphics");
	_cleanup_free_ char *vdir = path_join(c->sys, "class/vtconsole");
	bool fbcon = false;
	struct dirent *de;
	DIR *d;

	if (!gdir || !vdir)
		return;
	d = opendir(vdir);
	if (d) {
		while ((de = readdir(d))) {
			_cleanup_free_ char *np = NULL, *bp = NULL, *name = NULL, *bind = NULL;

			if (!startswith(de->d_name, "vtcon"))
				continue;
			np = path_join(vdir, de->d_name, "name");
			bp = path_join(vdir, de->d_name, "bind");
			if (!np || !bp || hostfs_read_line(np, &name) < 0)
				continue;
			if (hostfs_read_line(bp, &bind) < 0)
				continue;
			strv_extendf(&h->vtconsoles, "%s: %s (%s)", de->d_name, name,
				     streq(bind, "1") ? "bound" : "unbound");
			if (strstr(name, "frame buffer") && streq(bind, "1"))
				fbcon = true;
		}
		closedir(d);
	}
	d = opendir(gdir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *lp = NULL, *target = NULL;
		char *end;
		long n;

		if (!startswith(de->d_name, "fb"))
			continue;
		n = strtol(de->d_name + 2, &end, 10);
		if (*end || n < 0 || n > 1024)
			continue;
		lp = path_join(gdir, de->d_name, "device");
		if (!lp)
			continue;
		target = realpath(lp, NULL);
		if (!target)
			continue;
		/* efifb / simple-framebuffer scan out of the boot VGA device's memory */
		if (strstr(target, "efi-framebuffer") || strstr(target, "simple-framebuffer")) {
			for (size_t i = 0; i < h->n_funcs; i++)
				if (h->funcs[i].boot_vga == 1) {
					h->funcs[i].fb = (int)n;
					h->funcs[i].console = fbcon;
				}
			continue;
		}
		for (size_t i = 0; i < h->n_funcs; i++) {
			_cleanup_free_ char *dp =
			    path_join(c->sys, "bus/pci/devices", h->funcs[i].address);
			_cleanup_free_ char *real = dp ? realpath(dp, NULL) : NULL;

			if (real && streq(real, target)) {
				h->funcs[i].fb = (int)n;
				h->funcs[i].console = fbcon;
			}
		}
	}
	closedir(d);
}

int host_inspect(struct ctx *c, struct host **ret)
{
	_cleanup_(host_freep) struct host *h = NULL;
	_cleanup_free_ char *p = NULL;
	struct stat st;
	int r;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->intremap = -1;

	r = pcidev_scan(c, &h->funcs, &h->n_funcs, &h->notes);
	if (r < 0)
		return r;
	r = iommu_read_groups(c, h);
	if (r < 0)
		return r;
	r = iommu_read_intremap(c, h);
	if (r < 0)
		return r;

	h->kernel_release = ctx_kernel_release(c);
	p = path_join(c->proc, "cmdline");
	if (!p)
		return -ENOMEM;
	if (hostfs_read_line(p, &h->cmdline) < 0)
		strv_extend(&h->notes, "cannot read the kernel command line");
	read_cpu(c, h);
	read_modules(c, h);
	read_console(c, h);

	free(p);
	p = path_join(c->dev, "kvm");
	h->dev_kvm = p && hostfs_exists(p);
	free(p);
	p = path_join(c->dev, "vfio/vfio");
	h->dev_vfio = p && hostfs_exists(p);
	free(p);
	p = path_join(c->sys, "class/iommu");
	if (p) {
		DIR *d = opendir(p);

		if (d) {
			for (struct dirent *de; (de = readdir(d));)
				if (de->d_name[0] != '.')
					h->iommu_sysfs = true;
			closedir(d);
		}
	}
	free(p);
	p = path_join(c->sys, "firmware/acpi/tables/VFCT");
	if (p && stat(p, &st) == 0) {
		h->has_vfct = true;
		h->vfct_size = (size_t)st.st_size;
	}

	*ret = TAKE_PTR(h);
	return 0;
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
