/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "core/nodedev.h"
#include "util/error.h"
#include "util/strv.h"

#define X(s) ((const xmlChar *)(s))

char *nodedev_name_from_address(const char *addr)
{
	unsigned dom, bus, dev, fn;
	char *s;

	if (!addr || sscanf(addr, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return NULL;
	if (asprintf(&s, "pci_%04x_%02x_%02x_%x", dom, bus, dev, fn) < 0)
		return NULL;
	return s;
}

bool nodedev_name_valid(const char *name)
{
	/* pci_DDDD_BB_DD_F, lower-case hex: it is looked up on the node and printed */
	static const char shape[] = "pci_xxxx_xx_xx_x";

	if (!name || strlen(name) != strlen(shape))
		return false;
	for (size_t i = 0; shape[i]; i++) {
		bool hex = (name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f');

		if (shape[i] == 'x' ? !hex : name[i] != shape[i])
			return false;
	}
	return true;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, X(name)))
			return c;
	return NULL;
}

/* The capability element of type @type directly under @n. */
static xmlNodePtr capability(xmlNodePtr n, const char *type)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next) {
		xmlChar *t;
		bool match;

		if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, X("capability")))
			continue;
		t = xmlGetProp(c, X("type"));
		match = t && xmlStrEqual(t, X(type));
		xmlFree(t);
		if (match)
			return c;
	}
	return NULL;
}

/* The trimmed text of @n (malloc'd), NULL when empty or on ENOMEM. */
static char *text_of(xmlNodePtr n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	const char *s = (const char *)t;
	char *ret = NULL;
	size_t len;

	if (!t)
		return NULL;
	s += strspn(s, " \t\r\n");
	len = strlen(s);
	while (len > 0 && strchr(" \t\r\n", s[len - 1]))
		len--;
	if (len > 0)
		ret = strndup(s, len);
	/* a name of the node's is printed on this terminal, one line per function: a tab or
	 * line break in it (the only control characters XML 1.0 lets through) is a blank */
	for (char *c = ret; c && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	xmlFree(t);
	return ret;
}

/* An unsigned number (decimal, or 0x hex) of at most @max; -EINVAL otherwise. */
static int parse_number(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int number_child(xmlNodePtr n, const char *name, unsigned long max, unsigned long *ret)
{
	_cleanup_free_ char *t = text_of(child(n, name));

	return parse_number(t, max, ret);
}

static int number_prop(xmlNodePtr n, const char *prop, unsigned long max, unsigned long *ret)
{
	xmlChar *t = n ? xmlGetProp(n, X(prop)) : NULL;
	int r = parse_number((const char *)t, max, ret);

	xmlFree(t);
	return r;
}

/* The class names `gpurun ls` shows (libpci's pci.ids names them for this machine; a node's
 * XML has only the number). */
static const struct {
	uint16_t class;
	const char *name;
} class_names[] = {
	{ 0x0108, "Non-Volatile memory controller" },
	{ 0x0200, "Ethernet controller" },
	{ 0x0280, "Network controller" },
	{ 0x0300, "VGA compatible controller" },
	{ 0x0302, "3D controller" },
	{ 0x0380, "Display controller" },
	{ 0x0403, "Audio device" },
	{ 0x0600, "Host bridge" },
	{ 0x0601, "ISA bridge" },
	{ 0x0604, "PCI bridge" },
	{ 0x0c03, "USB controller" },
	{ 0x0c05, "SMBus" },
};

static int parse_doc(xmlNodePtr dev, const char *name, struct pci_func *ret, struct error *err)
{
	struct pci_func f = { .iommu_group = -1, .boot_vga = -1, .fb = -1 };
	xmlNodePtr cap = capability(dev, "pci"), id;
	unsigned long dom, bus, slot, fn, vendor, device, class, group;
	_cleanup_free_ char *driver = NULL;

	if (!cap)
		return 0;
	if (number_child(cap, "domain", 0xffff, &dom) < 0 ||
	    number_child(cap, "bus", 0xff, &bus) < 0 ||
	    number_child(cap, "slot", 0x1f, &slot) < 0 ||
	    number_child(cap, "function", 0x7, &fn) < 0)
		return error_set(err, EINVAL, "node device %s: no valid PCI address", name);
	id = child(cap, "vendor");
	if (number_prop(id, "id", 0xffff, &vendor) < 0)
		return error_set(err, EINVAL, "node device %s: no valid vendor id", name);
	id = child(cap, "product");
	if (number_prop(id, "id", 0xffff, &device) < 0)
		return error_set(err, EINVAL, "node device %s: no valid product id", name);
	snprintf(f.address, sizeof(f.address), "%04lx:%02lx:%02lx.%lx", dom, bus, slot, fn);
	f.domain = (unsigned)dom;
	f.bus = (unsigned)bus;
	f.dev = (unsigned)slot;
	f.func = (unsigned)fn;
	f.vendor = (uint16_t)vendor;
	f.device = (uint16_t)device;
	/* <class> since libvirt 5.2; without it the class stays unknown (0) */
	if (child(cap, "class") && number_child(cap, "class", 0xffffff, &class) < 0)
		return error_set(err, EINVAL, "node device %s: bad <class>", name);
	if (child(cap, "class"))
		f.class = (uint32_t) class;
	f.is_bridge = (f.class >> 8) == 0x0604 || (f.class >> 8) == 0x0607;
	f.header_type = f.is_bridge ? 1 : 0;
	if (child(cap, "iommuGroup")) {
		if (number_prop(child(cap, "iommuGroup"), "number", INT_MAX, &group) < 0)
			return error_set(err, EINVAL, "node device %s: bad <iommuGroup number>",
					 name);
		f.iommu_group = (int)group;
	}
	for (size_t i = 0; i < ELEMENTSOF(class_names) && child(cap, "class"); i++)
		if (class_names[i].class == f.class >> 8 && !f.class_name &&
		    !(f.class_name = strdup(class_names[i].name)))
			return error_set(err, ENOMEM, NULL);
	/* <capability type='mdev_types'>: a mediated-device parent (hostinfo.h) */
	f.mdev = capability(cap, "mdev_types") != NULL;
	driver = text_of(child(child(dev, "driver"), "name"));
	f.vendor_name = text_of(child(cap, "vendor"));
	f.device_name = text_of(child(cap, "product"));
	f.reset_methods = calloc(1, sizeof(char *));
	if (!f.reset_methods) {
		host_func_clear(&f);
		return error_set(err, ENOMEM, NULL);
	}
	f.driver = TAKE_PTR(driver);
	*ret = f;
	return 1;
}

int nodedev_parse_pci(const char *xml, size_t len, struct pci_func *ret, struct error *err)
{
	_cleanup_free_ char *name = NULL;
	xmlDocPtr doc;
	xmlNodePtr root;
	int r;

	if (len > INT_MAX)
		return error_set(err, EINVAL, "node device XML too large");
	doc = xmlReadMemory(xml, (int)len, "nodedev.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return error_set(err, EINVAL, "node device XML does not parse");
	root = xmlDocGetRootElement(doc);
	if (!root || !xmlStrEqual(root->name, X("device"))) {
		xmlFreeDoc(doc);
		return error_set(err, EINVAL, "node device XML without <device>");
	}
	name = text_of(child(root, "name"));
	r = parse_doc(root, name ? name : "(no name)", ret, err);
	xmlFreeDoc(doc);
	return r;
}

static int cmp_func(const void *a, const void *b)
{
	return strcmp(((const struct pci_func *)a)->address, ((const struct pci_func *)b)->address);
}

static int cmp_group(const void *a, const void *b)
{
	const struct iommu_group *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int add_group_member(struct host *h, int id, size_t idx)
{
	struct iommu_group *g = NULL;
	size_t *m;

	for (size_t i = 0; i < h->n_groups && !g; i++)
		if (h->groups[i].id == id)
			g = &h->groups[i];
	if (!g) {
		struct iommu_group *t = realloc(h->groups, (h->n_groups + 1) * sizeof(*t));

		if (!t)
			return -ENOMEM;
		h->groups = t;
		g = &h->groups[h->n_groups++];
		*g = (struct iommu_group){ .id = id };
	}
	m = realloc(g->members, (g->n_members + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	g->members = m;
	g->members[g->n_members++] = idx;
	return 0;
}

int nodedev_host_build(const char *uri, const char *const *xmls, const size_t *lens, size_t n,
		       struct host **ret, struct error *err)
{
	_cleanup_(host_freep) struct host *h = calloc(1, sizeof(*h));
	int r;

	if (!h || !(h->remote_uri = strdup(uri ? uri : "")))
		return error_set(err, ENOMEM, NULL);
	h->intremap = -1;
	h->funcs = calloc(n ? n : 1, sizeof(*h->funcs));
	if (!h->funcs)
		return error_set(err, ENOMEM, NULL);
	for (size_t i = 0; i < n; i++) {
		struct pci_func f;
		bool dup = false;

		r = nodedev_parse_pci(xmls[i], lens[i], &f, err);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		for (size_t k = 0; k < h->n_funcs; k++)
			dup = dup || streq(h->funcs[k].address, f.address);
		if (dup) {
			r = error_set(err, EINVAL, "PCI function %s is listed twice", f.address);
			host_func_clear(&f);
			return r;
		}
		h->funcs[h->n_funcs++] = f;
	}
	qsort(h->funcs, h->n_funcs, sizeof(*h->funcs), cmp_func);
	for (size_t i = 0; i < h->n_funcs; i++)
		if (h->funcs[i].iommu_group >= 0 &&
		    add_group_member(h, h->funcs[i].iommu_group, i) < 0)
			return error_set(err, ENOMEM, NULL);
	qsort(h->groups, h->n_groups, sizeof(*h->groups), cmp_group);
	*ret = TAKE_PTR(h);
	return 0;
}

int nodedev_pool_path(const char *xml, size_t len, char **ret)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	char *path;

	if (len > INT_MAX)
		return -EINVAL;
	doc = xmlReadMemory(xml, (int)len, "pool.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -EINVAL;
	root = xmlDocGetRootElement(doc);
	path = root && xmlStrEqual(root->name, X("pool"))
		   ? text_of(child(child(root, "target"), "path"))
		   : NULL;
	xmlFreeDoc(doc);
	if (!path)
		return -ENOENT;
	if (path[0] != '/') {
		free(path);
		return -EINVAL;
	}
	*ret = path;
	return 0;
}
