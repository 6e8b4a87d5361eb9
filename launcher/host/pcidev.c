/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <pci/pci.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/pcidev.h"
#include "util/strv.h"

#define PCI_DEVICES_DIR "bus/pci/devices" /* under ROOT/sys */

#ifndef PCI_EXP_DEVCAP_FLR
#define PCI_EXP_DEVCAP_FLR 0x10000000 /* Function Level Reset (PCIe r3.0 7.8.3) */
#endif

static int func_cmp(const void *a, const void *b)
{
	const struct pci_func *x = a, *y = b;

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->func != y->func)
		return x->func < y->func ? -1 : 1;
	return 0;
}

int pcidev_iommu_group(const struct ctx *c, const char *bdf)
{
	_cleanup_free_ char *p = pcidev_attr_path(c, bdf, "iommu_group"), *s = NULL;
	char *end;
	long g;
	int r;

	if (!p)
		return -ENOMEM;
	r = hostfs_readlink_base(p, &s);
	if (r < 0)
		return r;
	errno = 0;
	g = strtol(s, &end, 10);
	if (errno || end == s || *end || g < 0 || g > INT_MAX)
		return -EINVAL;
	return (int)g;
}

char *pcidev_attr_path(const struct ctx *c, const char *bdf, const char *attr)
{
	return attr ? path_join(c->sys, PCI_DEVICES_DIR, bdf, attr)
		    : path_join(c->sys, PCI_DEVICES_DIR, bdf);
}

static char *lookup(struct pci_access *a, int flags, int v1, int v2)
{
	char buf[256], *r;

	r = pci_lookup_name(a, buf, sizeof(buf), flags | PCI_LOOKUP_NO_NUMBERS, v1, v2);
	return r ? strdup(r) : NULL;
}

/* Read the kernel-side attributes of one function. Missing attributes are normal (boot_vga only
 * exists on display devices, reset_method on kernels >= 5.15); anything odd becomes a note. */
static void read_sysfs_attrs(struct ctx *c, struct pci_func *f, char ***notes)
{
	_cleanup_free_ char *dir = pcidev_attr_path(c, f->address, NULL);
	_cleanup_free_ char *p = NULL, *s = NULL;
	unsigned long v;
	int r;

	if (!dir)
		return;

	free(p);
	p = path_join(dir, "driver");
	r = p ? hostfs_readlink_base(p, &f->driver) : -ENOMEM;
	if (r < 0 && r != -ENOENT)
		strv_extendf(notes, "%s: cannot read driver link: %s", f->address, strerror(-r));

	free(p);
	p = path_join(dir, "driver_override");
	if (p && hostfs_read_line(p, &s) >= 0) {
		if (*s && !streq(s, "(null)"))
			f->driver_override = TAKE_PTR(s);
	}
	s = mfree(s);

	free(p);
	p = path_join(dir, "iommu_group");
	r = pcidev_iommu_group(c, f->address);
	if (r >= 0)
		f->iommu_group = r;
	else if (r == -EINVAL)
		strv_extendf(notes, "%s: odd iommu_group link, ignoring", f->address);
	else if (p && hostfs_exists(dir) && !hostfs_exists(p)) {
		/* a dangling link is reported; an absent one means no IOMMU */
		struct stat st;
		if (lstat(p, &st) == 0)
			strv_extendf(notes, "%s: dangling iommu_group link, ignoring", f->address);
	}
	s = mfree(s);

	if (pci_func_is_display(f)) {
		free(p);
		p = path_join(dir, "boot_vga");
		if (p && hostfs_read_ulong(p, &v) >= 0)
			f->boot_vga = v ? 1 : 0;
		free(p);
		p = path_join(dir, "rom");
		f->has_rom = p && hostfs_exists(p);
	}

	free(p);
	p = path_join(dir, "reset_method");
	if (p && hostfs_read_line(p, &s) >= 0)
		strv_split(s, " \t", &f->reset_methods);
	else
		f->reset_method_missing = true;
	s = mfree(s);

	free(p);
	p = path_join(dir, "reset");
	f->reset_attr = p && hostfs_exists(p);

	free(p);
	p = path_join(dir, "rom");
	f->has_rom = p && hostfs_exists(p);

	free(p);
	p = path_join(dir, "mdev_supported_types");
	f->mdev = p && hostfs_exists(p);
}

static int read_flr_guarded(struct pci_access *a, const struct pci_func *f)
{
	struct pci_dev *d;
	struct pci_cap *cap;
	jmp_buf jb;
	int r;

	if (ctx_pci_guard(&jb)) {
		ctx_pci_jmp = NULL;
		return -EIO;
	}
	for (d = a->devices; d; d = d->next)
		if ((unsigned)d->domain == f->domain && d->bus == f->bus && d->dev == f->dev &&
		    d->func == f->func)
			break;
	r = 0;
	if (d) {
		cap = pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
		if (cap && (pci_read_long(d, cap->addr + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR))
			r = 1;
	}
	ctx_pci_jmp = NULL;
	return r;
}

static int scan_guarded(struct pci_access *a)
{
	jmp_buf jb;

	if (ctx_pci_guard(&jb)) {
		ctx_pci_jmp = NULL;
		return -EIO;
	}
	pci_scan_bus(a);
	ctx_pci_jmp = NULL;
	return 0;
}

/* Per device, so that one unreadable device (vanished mid-scan) costs only itself. */
static int read_header_guarded(struct pci_dev *d, struct pci_func *f)
{
	u8 hdr[64];
	jmp_buf jb;
	bool got;

	if (ctx_pci_guard(&jb)) {
		ctx_pci_jmp = NULL;
		return -EIO;
	}
	/* One read of the config header gives ids, class and subsystem: far fewer syscalls
	 * than libpci's per-attribute sysfs files (see bench/run). */
	/* A device that stopped responding reads all ones ("Unknown header type 7f" in the
	 * kernel log) while sysfs keeps the ids the kernel read at boot: take those, flag it. */
	got = pci_read_block(d, 0, hdr, sizeof(hdr));
	if (got && le16(hdr + PCI_VENDOR_ID) == 0xffff) {
		f->config_dead = true;
		got = false;
	}
	if (got) {
		f->vendor = le16(hdr + PCI_VENDOR_ID);
		f->device = le16(hdr + PCI_DEVICE_ID);
		f->revision = hdr[PCI_REVISION_ID];
		f->class = (uint32_t)le16(hdr + PCI_CLASS_DEVICE) << 8 | hdr[PCI_CLASS_PROG];
		f->header_type = hdr[PCI_HEADER_TYPE] & 0x7f;
		if (f->header_type == PCI_HEADER_TYPE_NORMAL) {
			f->subvendor = le16(hdr + PCI_SUBSYSTEM_VENDOR_ID);
			f->subdevice = le16(hdr + PCI_SUBSYSTEM_ID);
		}
	} else {
		pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT |
				     PCI_FILL_SUBSYS);
		f->vendor = d->vendor_id;
		f->device = d->device_id;
		f->class = (uint32_t)d->device_class << 8 | d->prog_if;
		f->revision = d->rev_id;
		f->subvendor = d->subsys_vendor_id;
		f->subdevice = d->subsys_id;
	}
	ctx_pci_jmp = NULL;
	f->is_bridge = (f->class >> 16) == PCI_BASE_CLASS_BRIDGE;
	return 0;
}

static size_t count_devices(struct ctx *c)
{
	_cleanup_free_ char *p = path_join(c->sys, PCI_DEVICES_DIR);
	DIR *d;
	size_t n = 0;

	if (!p || !(d = opendir(p)))
		return 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

int pcidev_scan(struct ctx *c, struct pci_func **ret, size_t *ret_n, char ***notes)
{
	struct pci_access *a = ctx_pci(c);
	struct pci_func *funcs;
	size_t n = 0, max;
	int r;

	if (!a)
		return -EIO;
	/* Slack for devices that appear between the count and the scan. */
	max = count_devices(c) + 64;
	funcs = calloc(max, sizeof(*funcs));
	if (!funcs)
		return -ENOMEM;
	r = scan_guarded(a);
	if (r < 0) {
		free(funcs);
		return r;
	}
	for (struct pci_dev *d = a->devices; d && n < max; d = d->next) {
		struct pci_func *f = &funcs[n];

		*f = (struct pci_func){ .iommu_group = -1, .boot_vga = -1, .fb = -1 };
		f->domain = (unsigned)d->domain;
		f->bus = d->bus;
		f->dev = d->dev;
		f->func = d->func;
		snprintf(f->address, sizeof(f->address), "%04x:%02x:%02x.%x", f->domain, f->bus,
			 f->dev, f->func);
		if (read_header_guarded(d, f) < 0) {
			strv_extendf(notes, "%s: unreadable (%s), skipping", f->address,
				     ctx_pci_error);
			continue;
		}
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		struct pci_func *f = &funcs[i];

		read_sysfs_attrs(c, f, notes);
		/* Kernels before 5.15 have no reset_method: FLR from the PCIe capability. */
		if (f->reset_method_missing)
			f->pcie_flr = read_flr_guarded(a, f) > 0;
		f->vendor_name = lookup(a, PCI_LOOKUP_VENDOR, f->vendor, 0);
		f->device_name = lookup(a, PCI_LOOKUP_DEVICE, f->vendor, f->device);
		f->class_name = lookup(a, PCI_LOOKUP_CLASS, (int)(f->class >> 8), 0);
		if (!f->reset_methods) {
			f->reset_methods = calloc(1, sizeof(char *));
			if (f->pcie_flr)
				strv_extend(&f->reset_methods, "flr");
		}
	}
	qsort(funcs, n, sizeof(*funcs), func_cmp);
	*ret = funcs;
	*ret_n = n;
	return 0;
}

char *pcidev_display_name(const struct pci_func *f)
{
	char *s;
	int r;

	if (f->vendor_name && f->device_name)
		r = asprintf(&s, "%s %s", f->vendor_name, f->device_name);
	else if (f->vendor_name)
		r = asprintf(&s, "%s Device %04x", f->vendor_name, f->device);
	else
		r = asprintf(&s, "Device %04x:%04x", f->vendor, f->device);
	return r < 0 ? NULL : s;
}
