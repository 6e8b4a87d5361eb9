/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host snapshot as data: lookups, parsing of PCI addresses and ids, slot and IOMMU-group
 * reasoning. Pure: nothing here reads the host. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/hostinfo.h"
#include "util/error.h"
#include "util/strutil.h"
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
	free(h->cpus_online);
	free(h->cpus_allowed);
	strv_free(h->bridges);
	free(h->bridge_conf);
	free(h->intremap_evidence);
	strv_free(h->vtconsoles);
	strv_free(h->notes);
	free(h->remote_uri);
	free(h->remote_rom_pool);
	free(h->remote_rom_dir);
	free(h);
	return NULL;
}

/* One hex field of an address: 1 to 8 hex digits (more cannot be in range anyway). */
static bool hex_field(const char *s, size_t len, unsigned *ret)
{
	unsigned v = 0;

	if (len == 0 || len > 8)
		return false;
	for (size_t i = 0; i < len; i++) {
		int c = tolower((unsigned char)s[i]);

		if (!isxdigit(c))
			return false;
		v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
	}
	*ret = v;
	return true;
}

static int not_an_address(const char *s, struct error *err)
{
	return error_set(err, EINVAL,
			 "'%s' is not a PCI address (like 0000:c4:00.0, c4:00.0 or 3:0.0)", s);
}

int pci_addr_parse_err(const char *s, char ret[PCI_ADDR_MAX], struct error *err)
{
	const char *field[4], *dot;
	size_t len[4], n = 0;
	unsigned v[4] = { 0 }, dom = 0, bus, dev, fn;

	if (!s)
		return error_set(err, EINVAL, "no PCI address given");
	/* [domain:]bus:device.function */
	dot = strrchr(s, '.');
	if (!dot || strchr(s, '.') != dot || strrchr(s, ':') > dot)
		return not_an_address(s, err);
	for (const char *p = s;;) {
		const char *q = p + strcspn(p, ":.");

		if (n == ELEMENTSOF(field))
			return not_an_address(s, err);
		field[n] = p;
		len[n++] = (size_t)(q - p);
		if (!*q)
			break;
		p = q + 1;
	}
	if (n != 3 && n != 4)
		return not_an_address(s, err);
	for (size_t i = 0; i < n; i++)
		if (!hex_field(field[i], len[i], &v[i]))
			return not_an_address(s, err);
	if (n == 4)
		dom = v[0];
	bus = v[n - 3];
	dev = v[n - 2];
	fn = v[n - 1];
	if (dom > 0xffff)
		return error_set(err, EINVAL, "'%s': domain must be 0000-ffff", s);
	if (bus > 0xff)
		return error_set(err, EINVAL, "'%s': bus must be 00-ff", s);
	if (dev > 0x1f)
		return error_set(err, EINVAL, "'%s': device must be 00-1f", s);
	if (fn > 7)
		return error_set(err, EINVAL, "'%s': function must be 0-7", s);
	snprintf(ret, PCI_ADDR_MAX, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

int pci_addr_parse(const char *s, char ret[PCI_ADDR_MAX])
{
	return pci_addr_parse_err(s, ret, NULL);
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

int pci_device_spec_parse(const char *s, struct pci_device_spec *ret, struct error *err)
{
	struct pci_device_spec spec = {};
	const char *colon = s ? strchr(s, ':') : NULL;
	int r;

	if (!s || !*s)
		return error_set(err, EINVAL,
				 "no device given (an address like 0000:c4:00.0 or "
				 "a vendor:device id like 1002:1586)");
	/* a '.' or a domain makes it an address; explain a bad one as an address */
	if (strchr(s, '.') || (colon && strchr(colon + 1, ':'))) {
		r = pci_addr_parse_err(s, spec.address, err);
		if (r < 0)
			return r;
	} else if (pci_id_parse(s, &spec.vendor, &spec.device) >= 0)
		spec.is_id = true;
	else
		return error_set(err, EINVAL,
				 "'%s' is neither a vendor:device id (1002:1586) nor a PCI address "
				 "(0000:c4:00.0)",
				 s);
	*ret = spec;
	return 0;
}

/* How likely @f is the device meant when a name is one typo off: a GPU, then an endpoint. */
static int suggestion_rank(const struct pci_func *f)
{
	return pci_func_is_display(f) ? 2 : f->is_bridge ? 0 : 1;
}

/* The address or id on @h one typo (str_edit_distance) off @want, written to @buf; "" if none.
 * Between equally close ones a GPU wins, then an endpoint over a bridge. */
static void closest_device(const struct host *h, const char *want, bool id, char *buf, size_t size)
{
	const struct pci_func *best = NULL;

	buf[0] = '\0';
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct pci_func *f = &h->funcs[i];
		char cand[PCI_ADDR_MAX];

		if (id)
			snprintf(cand, sizeof(cand), "%04x:%04x", f->vendor, f->device);
		else
			snprintf(cand, sizeof(cand), "%s", f->address);
		if (str_edit_distance(want, cand) != 1)
			continue;
		if (!best || suggestion_rank(f) > suggestion_rank(best))
			best = f;
	}
	if (!best)
		return;
	if (id)
		snprintf(buf, size, "%04x:%04x (%s)", best->vendor, best->device, best->address);
	else
		snprintf(buf, size, "%s", best->address);
}

int host_resolve_devices(const struct host *h, const char *spec, const struct pci_func ***ret,
			 struct error *err)
{
	_cleanup_free_ const struct pci_func **m = NULL;
	struct pci_device_spec ds;
	char want[PCI_ADDR_MAX], hint[64];
	size_t n = 0;
	int r;

	r = pci_device_spec_parse(spec, &ds, err);
	if (r < 0)
		return r;
	m = calloc(h->n_funcs + 1, sizeof(*m));
	if (!m)
		return error_set(err, ENOMEM, NULL);
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct pci_func *f = &h->funcs[i];

		if (ds.is_id ? f->vendor == ds.vendor && f->device == ds.device
			     : streq(f->address, ds.address))
			m[n++] = f;
	}
	if (n == 0) {
		if (ds.is_id)
			snprintf(want, sizeof(want), "%04x:%04x", ds.vendor, ds.device);
		else
			snprintf(want, sizeof(want), "%s", ds.address);
		closest_device(h, want, ds.is_id, hint, sizeof(hint));
		return error_set(err, ENODEV, "no device %s%s on this host%s%s%s",
				 ds.is_id ? "with id " : "", want, *hint ? " (did you mean " : "",
				 hint, *hint ? "?)" : "");
	}
	*ret = TAKE_PTR(m);
	return (int)n;
}

int host_resolve_device(const struct host *h, const char *spec, const struct pci_func **ret,
			struct error *err)
{
	_cleanup_free_ const struct pci_func **m = NULL;
	_cleanup_free_ char *list = NULL;
	size_t len = 0;
	FILE *f;
	int n;

	n = host_resolve_devices(h, spec, &m, err);
	if (n < 0)
		return n;
	if (n == 1) {
		*ret = m[0];
		return 0;
	}
	f = open_memstream(&list, &len);
	if (!f)
		return error_set(err, ENOMEM, NULL);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", m[i]->address);
	if (fclose(f) != 0)
		return error_set(err, ENOMEM, NULL);
	return error_set(err, ENOTUNIQ, "%s matches %d functions: %s; name one by address", spec, n,
			 list);
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

int cpulist_parse(const char *s, size_t max_n, unsigned **ret, size_t *ret_n)
{
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n = 0;
	const char *c = s;

	for (;;) {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char)*c))
			return -EINVAL;
		errno = 0;
		a = b = strtoul(c, &end, 10);
		if (errno)
			return -ERANGE;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -EINVAL;
			b = strtoul(end + 1, &end, 10);
			if (errno)
				return -ERANGE;
		}
		if (a > b || b > CPULIST_CPU_MAX)
			return -ERANGE;
		for (unsigned long i = a; i <= b; i++) {
			unsigned *t;

			if (n >= max_n)
				return -E2BIG;
			t = reallocarray(cpus, n + 1, sizeof(*cpus));
			if (!t)
				return -ENOMEM;
			cpus = t;
			cpus[n++] = (unsigned)i;
		}
		if (*end == '\0')
			break;
		if (*end != ',')
			return -EINVAL;
		c = end + 1;
	}
	*ret = TAKE_PTR(cpus);
	*ret_n = n;
	return 0;
}

char *cpulist_format(const unsigned *cpus, size_t n)
{
	_cleanup_free_ char *s = strdup("");

	for (size_t i = 0; s && i < n;) {
		size_t j = i;
		char *t;

		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		t = j > i ? strdup_printf("%s%s%u-%u", s, *s ? "," : "", cpus[i], cpus[j])
			  : strdup_printf("%s%s%u", s, *s ? "," : "", cpus[i]);
		free(s);
		s = t;
		i = j + 1;
	}
	return TAKE_PTR(s);
}

/* @cpu in the list @l of @n CPUs; an empty list (not known) holds every CPU */
static bool cpu_in(const unsigned *l, size_t n, unsigned cpu)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (l[i] == cpu)
			return true;
	return false;
}

bool host_cpu_allowed(const struct host *h, unsigned cpu)
{
	return cpu_in(h->cpus_allowed, h->n_cpus_allowed, cpu);
}

bool host_cpu_online(const struct host *h, unsigned cpu)
{
	return cpu_in(h->cpus_online, h->n_cpus_online, cpu);
}
