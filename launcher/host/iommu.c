/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/iommu.h"
#include "util/strv.h"

static int group_cmp(const void *a, const void *b)
{
	const struct iommu_group *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static ssize_t find_func_index(const struct host *h, const char *address)
{
	for (size_t i = 0; i < h->n_funcs; i++)
		if (streq(h->funcs[i].address, address))
			return (ssize_t)i;
	return -1;
}

static int read_group(struct ctx *c, struct host *h, const char *dir, struct iommu_group *g)
{
	_cleanup_free_ char *devs = path_join(dir, "devices"), *type = path_join(dir, "type");
	struct dirent *de;
	DIR *d;

	if (!devs || !type)
		return -ENOMEM;
	(void)c;
	if (hostfs_read_line(type, &g->type) < 0)
		g->type = NULL;
	d = opendir(devs);
	if (!d)
		return negative_errno();
	while ((de = readdir(d))) {
		ssize_t idx;
		size_t *m;

		if (de->d_name[0] == '.')
			continue;
		idx = find_func_index(h, de->d_name);
		if (idx < 0) {
			strv_extendf(
			    &h->notes,
			    "IOMMU group %d lists %s, which is not a known PCI function, ignoring",
			    g->id, de->d_name);
			continue;
		}
		m = realloc(g->members, sizeof(*m) * (g->n_members + 1));
		if (!m) {
			closedir(d);
			return -ENOMEM;
		}
		g->members = m;
		m[g->n_members++] = (size_t)idx;
		/* The group directory is authoritative if the device's own link was unreadable. */
		if (h->funcs[idx].iommu_group < 0)
			h->funcs[idx].iommu_group = g->id;
	}
	closedir(d);
	return 0;
}

static int size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

int iommu_read_groups(struct ctx *c, struct host *h)
{
	_cleanup_free_ char *root = path_join(c->sys, "kernel/iommu_groups");
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (!root)
		return -ENOMEM;
	d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : negative_errno();
	while ((de = readdir(d))) {
		_cleanup_free_ char *dir = NULL;
		struct iommu_group *n, g = { 0 };
		char *end;
		long id;

		if (de->d_name[0] == '.')
			continue;
		id = strtol(de->d_name, &end, 10);
		if (*end || id < 0 || id > INT_MAX) {
			strv_extendf(&h->notes, "odd IOMMU group entry '%s', ignoring", de->d_name);
			continue;
		}
		g.id = (int)id;
		dir = path_join(root, de->d_name);
		if (!dir) {
			r = -ENOMEM;
			break;
		}
		r = read_group(c, h, dir, &g);
		if (r < 0) {
			strv_extendf(&h->notes, "IOMMU group %d unreadable (%s), ignoring", g.id,
				     strerror(-r));
			free(g.members);
			free(g.type);
			r = 0;
			continue;
		}
		if (g.n_members > 1)
			qsort(g.members, g.n_members, sizeof(size_t), size_cmp);
		n = realloc(h->groups, sizeof(*n) * (h->n_groups + 1));
		if (!n) {
			free(g.members);
			free(g.type);
			r = -ENOMEM;
			break;
		}
		h->groups = n;
		h->groups[h->n_groups++] = g;
	}
	closedir(d);
	if (h->n_groups > 1)
		qsort(h->groups, h->n_groups, sizeof(*h->groups), group_cmp);
	return r;
}

int iommu_read_intremap(struct ctx *c, struct host *h)
{
	_cleanup_free_ char *p = path_join(c->proc, "interrupts"), *buf = NULL;
	_cleanup_free_ char *ecap_path = path_join(c->sys, "class/iommu/dmar0/intel-iommu/ecap");
	unsigned long ecap;
	int r;

	if (!p || !ecap_path)
		return -ENOMEM;
	h->intremap = -1;
	r = read_full_file(p, 4 * 1024 * 1024, &buf, NULL);
	if (r >= 0) {
		/* With remapping active the kernel names the irqchips IR-IO-APIC, IR-PCI-MSI (Intel
		 * and AMD alike); without it they are plain IO-APIC / PCI-MSI. */
		if (strstr(buf, "IR-PCI-MSI") || strstr(buf, "IR-IO-APIC") ||
		    strstr(buf, "AMD-IR") || strstr(buf, "INTEL-IR")) {
			h->intremap = 1;
			h->intremap_evidence = strdup("IR- interrupt chips in /proc/interrupts");
		} else if (strstr(buf, "PCI-MSI") || strstr(buf, "IO-APIC")) {
			h->intremap = 0;
			h->intremap_evidence = strdup(
			    "no IR- interrupt chips in /proc/interrupts (plain IO-APIC/PCI-MSI)");
		}
	}
	if (h->intremap < 0 && hostfs_read_ulong(ecap_path, &ecap) >= 0) {
		h->intremap = (ecap >> 3) & 1;
		h->intremap_evidence =
		    strdup(h->intremap ? "DMAR ecap has the IR bit" : "DMAR ecap lacks the IR bit");
	}
	return 0;
}
