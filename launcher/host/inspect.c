/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/inspect.h"
#include "host/iommu.h"
#include "host/kmodule.h"
#include "host/pcidev.h"
#include "util/strutil.h"
#include "util/strv.h"

static void read_cpu(struct ctx *c, struct host *h)
{
	_cleanup_free_ char *p = path_join(c->proc, "cpuinfo"), *buf = NULL;
	char *line, *save = NULL;

	if (!p || read_full_file(p, 64 * 1024 * 1024, &buf, NULL) < 0)
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

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

static int read_u64(const char *dir, const char *name, uint64_t *ret)
{
	_cleanup_free_ char *p = path_join(dir, name), *line = NULL;
	char *end;
	unsigned long long v;

	if (!p || hostfs_read_line(p, &line) < 0)
		return -ENOENT;
	/* strtoull() takes "-5" as 2^64-5, and a sign or blanks the kernel never writes */
	if (line[0] < '0' || line[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(line, &end, 10);
	if (errno || end == line || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* The CPUs cpu-pinning may name. Unreadable or odd: unknown (n_cpus_online 0). */
static void read_cpus_online(struct ctx *c, struct host *h)
{
	_cleanup_free_ char *p = path_join(c->sys, "devices/system/cpu/online"), *line = NULL;
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n = 0;

	if (!p || hostfs_read_line(p, &line) < 0 ||
	    cpulist_parse(line, CPULIST_CPU_MAX + 1, &cpus, &n) < 0)
		return;
	qsort(cpus, n, sizeof(*cpus), cmp_unsigned);
	h->cpus_online = TAKE_PTR(cpus);
	h->n_cpus_online = n;
}

/* proc/self/status Cpus_allowed_list (where gpurun may run: cpu-pinning outside it fails) and
 * proc/meminfo MemTotal (all of a VFIO guest's memory is pinned). Unreadable: unknown. */
static void read_self_limits(struct ctx *c, struct host *h)
{
	_cleanup_free_ char *status = path_join(c->proc, "self/status"),
			    *meminfo = path_join(c->proc, "meminfo"), *buf = NULL;
	char *l;

	if (status && read_full_file(status, 1024 * 1024, &buf, NULL) >= 0 &&
	    (l = strstr(buf, "\nCpus_allowed_list:"))) {
		_cleanup_free_ unsigned *cpus = NULL;
		size_t n = 0;

		l += strlen("\nCpus_allowed_list:");
		l += strspn(l, " \t");
		l[strcspn(l, "\n")] = '\0';
		if (cpulist_parse(l, CPULIST_CPU_MAX + 1, &cpus, &n) >= 0) {
			qsort(cpus, n, sizeof(*cpus), cmp_unsigned);
			h->cpus_allowed = TAKE_PTR(cpus);
			h->n_cpus_allowed = n;
		}
	}
	free(buf);
	buf = NULL;
	if (meminfo && read_full_file(meminfo, 1024 * 1024, &buf, NULL) >= 0 &&
	    (l = strstr(buf, "MemTotal:")) && (l == buf || l[-1] == '\n')) {
		unsigned long long kib;
		char unit[4];

		if (sscanf(l, "MemTotal: %llu %3s", &kib, unit) == 2 && streq(unit, "kB"))
			h->mem_total_kib = kib;
	}
}

/* The host's bridges (sys/class/net/NAME/bridge): network = bridge:NAME needs one. */
static void read_bridges(struct ctx *c, struct host *h)
{
	_cleanup_free_ char *dir = path_join(c->sys, "class/net");
	DIR *d = dir ? opendir(dir) : NULL;

	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		_cleanup_free_ char *rel = NULL, *br = NULL;

		if (de->d_name[0] == '.')
			continue;
		rel = strdup_printf("%s/bridge", de->d_name);
		br = rel ? path_join(dir, rel) : NULL;
		if (br && hostfs_is_dir(br) && strv_extend(&h->bridges, de->d_name) < 0)
			break;
	}
	closedir(d);
	h->net_known = true;

	free(dir);
	dir = path_join(c->etc, "qemu/bridge.conf");
	if (!dir)
		h->bridge_conf_error = -ENOMEM;
	else {
		int r = read_full_file(dir, 1024 * 1024, &h->bridge_conf, NULL);

		h->bridge_conf_error = r < 0 ? r : 0;
	}
}

/* The 2 MiB huge page pool hugepages = yes draws from. */
static void read_hugepages(struct ctx *c, struct host *h)
{
	_cleanup_free_ char *rel = NULL, *dir = NULL;

	if (asprintf(&rel, "kernel/mm/hugepages/hugepages-%ukB", HOST_HUGEPAGE_KB) < 0)
		return;
	dir = path_join(c->sys, rel);
	if (!dir || read_u64(dir, "nr_hugepages", &h->hugepages_total) < 0 ||
	    read_u64(dir, "free_hugepages", &h->hugepages_free) < 0) {
		h->hugepages_total = h->hugepages_free = 0;
		return;
	}
	h->hugepages_known = true;
}

static void read_modules(struct ctx *c, struct host *h)
{
	for (int i = 0; i < _HOST_MOD_MAX; i++) {
		h->mod_loaded[i] = kmodule_is_loaded(c, host_module_names[i]);
		h->mod_available[i] = kmodule_available(c, host_module_names[i]);
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
			const char *dev = strrchr(target, '/');

			for (size_t i = 0; i < h->n_funcs; i++)
				if (h->funcs[i].boot_vga == 1) {
					h->funcs[i].fb = (int)n;
					h->funcs[i].console = fbcon;
					free(h->funcs[i].fb_platform);
					h->funcs[i].fb_platform = dev ? strdup(dev + 1) : NULL;
				}
			continue;
		}
		for (size_t i = 0; i < h->n_funcs; i++) {
			_cleanup_free_ char *dp = pcidev_attr_path(c, h->funcs[i].address, NULL);
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

	/* a remote node is read through libvirt (remote_inspect()), never this machine's sysfs */
	if (c->remote_uri)
		return -EREMOTE;
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
	read_hugepages(c, h);
	read_cpus_online(c, h);
	read_self_limits(c, h);
	read_bridges(c, h);

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
