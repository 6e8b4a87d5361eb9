/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt domain XML: a template (read by the caller: host/paths.h paths_load_template())
 * parsed with libxml2 and filled with nodes and attributes (libxml2 escapes text and attribute
 * values on output, so names and paths with <>&'" come out right). Nothing is pasted into XML
 * as a string. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "core/emit.h"
#include "core/guest.h"
#include "core/profile.h"
#include "util/strutil.h"

static inline void xml_doc_freep(xmlDocPtr *d)
{
	if (*d)
		xmlFreeDoc(*d);
}

static const xmlChar *X(const char *s)
{
	return (const xmlChar *)s;
}

static bool is_elem(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, X(name));
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent->children; n; n = n->next)
		if (is_elem(n, name))
			return n;
	return NULL;
}

static void remove_children(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = parent->children, next;

	for (; n; n = next) {
		next = n->next;
		if (is_elem(n, name)) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		}
	}
}

/* Error state: the first failure sticks, later calls do nothing. */
struct xb {
	int error;
};

static xmlNodePtr new_child(struct xb *b, xmlNodePtr parent, const char *name)
{
	xmlNodePtr n;

	if (b->error || !parent)
		return NULL;
	n = xmlNewChild(parent, NULL, X(name), NULL);
	if (!n)
		b->error = -ENOMEM;
	return n;
}

static xmlNodePtr ensure_child(struct xb *b, xmlNodePtr parent, const char *name)
{
	xmlNodePtr n;

	if (b->error || !parent)
		return NULL;
	n = child(parent, name);
	return n ? n : new_child(b, parent, name);
}

static void set_prop(struct xb *b, xmlNodePtr n, const char *name, const char *value)
{
	if (b->error || !n)
		return;
	if (!xmlSetProp(n, X(name), X(value)))
		b->error = -ENOMEM;
}

/* set_prop() with a value made by strdup_printf(), owned here; NULL is -ENOMEM. */
static void set_prop_take(struct xb *b, xmlNodePtr n, const char *name, char *value)
{
	_cleanup_free_ char *v = value;

	if (!v) {
		b->error = -ENOMEM;
		return;
	}
	set_prop(b, n, name, v);
}

/* Replace the content of @n with the text @s (escaped on output). */
static void set_text(struct xb *b, xmlNodePtr n, const char *s)
{
	xmlNodePtr t;

	if (b->error || !n)
		return;
	while (n->children) {
		t = n->children;
		xmlUnlinkNode(t);
		xmlFreeNode(t);
	}
	t = xmlNewText(X(s));
	if (!t || !xmlAddChild(n, t)) {
		xmlFreeNode(t);
		b->error = -ENOMEM;
	}
}

/* set_text() with a string made by strdup_printf(), owned here; NULL is -ENOMEM. */
static void set_text_take(struct xb *b, xmlNodePtr n, char *s)
{
	_cleanup_free_ char *v = s;

	if (!v) {
		b->error = -ENOMEM;
		return;
	}
	set_text(b, n, v);
}

static void fill_os(struct xb *b, const struct plan *p, xmlNodePtr dom)
{
	const struct profile *pr = p->profile;
	xmlNodePtr os = ensure_child(b, dom, "os"), type, loader, nvram, fw;

	if (b->error)
		return;
	type = child(os, "type");
	if (!type) {
		type = new_child(b, os, "type");
		set_text(b, type, "hvm");
	}
	set_prop(b, type, "arch", "x86_64");
	set_prop(b, type, "machine", "q35");
	remove_children(os, "loader");
	remove_children(os, "nvram");
	remove_children(os, "firmware");
	xmlUnsetProp(os, X("firmware"));
	if (pr->firmware == PROFILE_FIRMWARE_BIOS || b->error)
		return;
	/* libvirt before 9.2 (Debian 12 has 9.0) has no format attribute on <loader>/<nvram>
	 * and would read a qcow2 build as raw: for one, let libvirt pick the firmware from the
	 * same descriptors instead, which selects the qcow2 build itself */
	if (!p->ovmf_code || p->ovmf_code_format != FIRMWARE_FORMAT_RAW ||
	    p->ovmf_vars_format != FIRMWARE_FORMAT_RAW) {
		/* no OVMF found here: let libvirt pick one where the XML is used */
		set_prop(b, os, "firmware", "efi");
		fw = xmlNewNode(NULL, X("firmware"));
		if (!fw || !xmlAddNextSibling(type, fw)) {
			xmlFreeNode(fw);
			b->error = -ENOMEM;
			return;
		}
		/* without secure-boot='no' libvirt takes the first descriptor, which is a
		 * secure-boot one on Fedora and Debian */
		set_prop(b, new_child(b, fw, "feature"), "enabled", p->secure_boot ? "yes" : "no");
		set_prop(b, fw->last, "name", "secure-boot");
		if (p->secure_boot) {
			set_prop(b, new_child(b, fw, "feature"), "enabled", "yes");
			set_prop(b, fw->last, "name", "enrolled-keys");
		}
		return;
	}
	loader = xmlNewNode(NULL, X("loader"));
	nvram = xmlNewNode(NULL, X("nvram"));
	if (!loader || !nvram || !xmlAddNextSibling(type, loader) ||
	    !xmlAddNextSibling(loader, nvram)) {
		b->error = -ENOMEM;
		return;
	}
	set_prop(b, loader, "readonly", "yes");
	/* libvirt's secure='yes' is SMM-protected flash: the descriptor's requires-smm */
	set_prop(b, loader, "secure", p->requires_smm ? "yes" : "no");
	set_prop(b, loader, "type", "pflash");
	set_text(b, loader, p->ovmf_code);
	set_prop(b, nvram, "template", p->ovmf_vars_template);
	set_text(b, nvram, p->ovmf_vars);
}

/* libvirt's target names: vda..vdz, vdaa.. (bijective base 26, as virDiskNameToIndex reads
 * them), so no disk is dropped after the 26th. */
static char *disk_target(const char *prefix, unsigned idx)
{
	char tmp[8];
	size_t n = 0;

	for (unsigned long v = (unsigned long)idx + 1; v && n < sizeof(tmp); v = (v - 1) / 26)
		tmp[n++] = (char)('a' + (v - 1) % 26);
	for (size_t i = 0; i < n / 2; i++) {
		char c = tmp[i];

		tmp[i] = tmp[n - 1 - i];
		tmp[n - 1 - i] = c;
	}
	return strdup_printf("%s%.*s", prefix, (int)n, tmp);
}

static void add_disk(struct xb *b, xmlNodePtr devs, const char *path, bool cdrom, unsigned idx)
{
	bool block = startswith(path, "/dev/");
	xmlNodePtr d = new_child(b, devs, "disk"), n;

	set_prop(b, d, "type", block ? "block" : "file");
	set_prop(b, d, "device", cdrom ? "cdrom" : "disk");
	n = new_child(b, d, "driver");
	set_prop(b, n, "name", "qemu");
	set_prop(b, n, "type", cdrom ? "raw" : profile_disk_format(path));
	n = new_child(b, d, "source");
	set_prop(b, n, block ? "dev" : "file", path);
	n = new_child(b, d, "target");
	if (cdrom) {
		set_prop_take(b, n, "dev", disk_target("sd", idx));
		set_prop(b, n, "bus", "sata");
		new_child(b, d, "readonly");
	} else {
		set_prop_take(b, n, "dev", disk_target("vd", idx));
		set_prop(b, n, "bus", "virtio");
	}
}

/* Largest pci controller index in the template (0 = only the implicit pcie-root). */
static unsigned max_pci_index(xmlNodePtr devs)
{
	unsigned max = 0;

	for (xmlNodePtr n = devs->children; n; n = n->next) {
		xmlChar *type, *index;

		if (!is_elem(n, "controller"))
			continue;
		type = xmlGetProp(n, X("type"));
		index = xmlGetProp(n, X("index"));
		if (type && index && xmlStrEqual(type, X("pci"))) {
			unsigned long v = strtoul((const char *)index, NULL, 0);

			if (v > max && v < 255)
				max = (unsigned)v;
		}
		xmlFree(type);
		xmlFree(index);
	}
	return max;
}

static void fill_devices(struct xb *b, const struct plan *p, xmlNodePtr dom, bool managed)
{
	const struct profile *pr = p->profile;
	xmlNodePtr devs = ensure_child(b, dom, "devices"), n;
	unsigned idx = 0, base, ports = 0;

	if (b->error)
		return;
	remove_children(devs, "disk");
	remove_children(devs, "hostdev");
	remove_children(devs, "tpm");
	remove_children(devs, "interface");

	for (char **d = pr->disks; d && *d; d++)
		add_disk(b, devs, *d, false, idx++);
	idx = 0;
	for (char **d = pr->cdroms; d && *d; d++)
		add_disk(b, devs, *d, true, idx++);

	if (pr->network != PROFILE_NETWORK_NONE) {
		xmlNodePtr itf = new_child(b, devs, "interface");
		char mac[EMIT_MAC_MAX];

		set_prop(b, itf, "type", pr->network == PROFILE_NETWORK_USER ? "user" : "bridge");
		emit_mac_address(p->vm_name, mac);
		set_prop(b, new_child(b, itf, "mac"), "address", mac);
		if (pr->network == PROFILE_NETWORK_BRIDGE)
			set_prop(b, new_child(b, itf, "source"), "bridge", pr->network_bridge);
		set_prop(b, new_child(b, itf, "model"), "type", "virtio");
	}
	if (pr->tpm) {
		xmlNodePtr tpm = new_child(b, devs, "tpm");

		set_prop(b, tpm, "model", "tpm-crb");
		n = new_child(b, tpm, "backend");
		set_prop(b, n, "type", "emulator");
		set_prop(b, n, "version", "2.0");
	}

	/* one pcie-root-port per host slot so a GPU and its audio stay one multi-function
	 * device in the guest, as on the host */
	base = max_pci_index(devs) + 1;
	for (size_t i = 0; i < p->n_devices; i++)
		if (p->devices[i].guest_port + 1 > ports)
			ports = p->devices[i].guest_port + 1;
	for (unsigned port = 0; port < ports; port++) {
		xmlNodePtr c = new_child(b, devs, "controller");

		set_prop(b, c, "type", "pci");
		set_prop_take(b, c, "index", strdup_printf("%u", base + port));
		set_prop(b, c, "model", "pcie-root-port");
	}
	for (size_t i = 0; i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];
		unsigned dom_, bus, slot, fn;
		xmlNodePtr h = new_child(b, devs, "hostdev"), src, a;

		if (b->error)
			return;
		if (sscanf(d->address, "%x:%x:%x.%x", &dom_, &bus, &slot, &fn) != 4) {
			b->error = -EINVAL;
			return;
		}
		set_prop(b, h, "mode", "subsystem");
		set_prop(b, h, "type", "pci");
		set_prop(b, h, "managed", managed ? "yes" : "no");
		set_prop(b, new_child(b, h, "driver"), "name", "vfio");
		src = new_child(b, h, "source");
		a = new_child(b, src, "address");
		set_prop_take(b, a, "domain", strdup_printf("0x%04x", dom_));
		set_prop_take(b, a, "bus", strdup_printf("0x%02x", bus));
		set_prop_take(b, a, "slot", strdup_printf("0x%02x", slot));
		set_prop_take(b, a, "function", strdup_printf("0x%x", fn));
		if (d->romfile)
			set_prop(b, new_child(b, h, "rom"), "file", d->romfile);
		a = new_child(b, h, "address");
		set_prop(b, a, "type", "pci");
		set_prop(b, a, "domain", "0x0000");
		set_prop_take(b, a, "bus", strdup_printf("0x%02x", base + d->guest_port));
		set_prop(b, a, "slot", "0x00");
		set_prop_take(b, a, "function", strdup_printf("0x%x", d->guest_function));
		if (d->multifunction)
			set_prop(b, a, "multifunction", "on");
		/* the user alias (libvirt wants the "ua-" prefix) names the device in
		 * <qemu:override> and becomes its QEMU id */
		set_prop_take(b, new_child(b, h, "alias"), "name",
			      strdup_printf("ua-gpurun-hostdev%zu", i));
	}
}

static void fill_cpu(struct xb *b, const struct plan *p, xmlNodePtr dom)
{
	const struct profile *pr = p->profile;
	xmlNodePtr vcpu = ensure_child(b, dom, "vcpu"), tune, n;

	set_prop(b, vcpu, "placement", "static");
	set_text_take(b, vcpu, strdup_printf("%u", pr->cpus));
	if (b->error)
		return;
	/* libvirt refuses host-passthrough in a type='qemu' (TCG) domain; "maximum" is QEMU's
	 * -cpu max, what the QEMU output gives under TCG */
	n = child(dom, "cpu");
	if (!n) {
		n = new_child(b, dom, "cpu");
		set_prop(b, n, "mode", pr->accel_tcg ? "maximum" : "host-passthrough");
	} else if (pr->accel_tcg)
		set_prop(b, n, "mode", "maximum");
	/* the plan's topology (without one libvirt makes every vCPU a socket of its own) */
	n = ensure_child(b, n, "topology");
	set_prop_take(b, n, "sockets", strdup_printf("%u", p->sockets));
	if (n && xmlHasProp(n, X("dies")))
		set_prop(b, n, "dies", "1");
	set_prop_take(b, n, "cores", strdup_printf("%u", p->cores));
	set_prop_take(b, n, "threads", strdup_printf("%u", p->threads));
	remove_children(dom, "cputune");
	if (pr->n_pin_cpus > 0) {
		tune = xmlNewNode(NULL, X("cputune"));
		if (!tune || !xmlAddNextSibling(vcpu, tune)) {
			xmlFreeNode(tune);
			b->error = -ENOMEM;
			return;
		}
		for (size_t i = 0; i < pr->n_pin_cpus; i++) {
			n = new_child(b, tune, "vcpupin");
			set_prop_take(b, n, "vcpu", strdup_printf("%zu", i));
			set_prop_take(b, n, "cpuset", strdup_printf("%u", pr->pin_cpus[i]));
		}
		/* QEMU's other threads off the vCPUs' CPUs, as gpurun run pins them */
		if (p->emulator_cpus) {
			n = new_child(b, tune, "emulatorpin");
			set_prop(b, n, "cpuset", p->emulator_cpus);
		}
	}
}

/* Set the space-separated "k=v" pairs of @attrs (may be NULL) on @n. */
static void set_attrs(struct xb *b, xmlNodePtr n, const char *attrs)
{
	_cleanup_free_ char *copy = attrs ? strdup(attrs) : NULL;
	char *save = NULL;

	if (!attrs || b->error || !n)
		return;
	if (!copy) {
		b->error = -ENOMEM;
		return;
	}
	for (char *kv = strtok_r(copy, " ,", &save); kv; kv = strtok_r(NULL, " ,", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq) {
			b->error = -EINVAL;
			return;
		}
		*eq = '\0';
		set_prop(b, n, kv, eq + 1);
	}
}

/* Whether @n carries every "k=v" of @attrs ("k=v,k=v"; NULL: yes). */
static bool has_attrs(xmlNodePtr n, const char *attrs)
{
	_cleanup_free_ char *copy = attrs ? strdup(attrs) : NULL;
	char *save = NULL;
	bool ok = true;

	if (!attrs)
		return true;
	if (!copy)
		return false;
	for (char *kv = strtok_r(copy, ",", &save); kv && ok; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		xmlChar *v;

		if (!eq)
			return false;
		*eq = '\0';
		v = xmlGetProp(n, X(kv));
		ok = v && xmlStrEqual(v, X(eq + 1));
		xmlFree(v);
	}
	return ok;
}

/* The element at @path under @dom: "/"-separated names, each optionally with "[k=v,...]" that
 * selects among same-named children and is set on one created. Missing elements are created
 * when @create, else NULL is returned. */
static xmlNodePtr xml_path(struct xb *b, xmlNodePtr dom, const char *path, bool create)
{
	_cleanup_free_ char *copy = strdup(path);
	char *save = NULL;
	xmlNodePtr cur = dom;

	if (!copy) {
		b->error = -ENOMEM;
		return NULL;
	}
	for (char *seg = strtok_r(copy, "/", &save); seg && cur && !b->error;
	     seg = strtok_r(NULL, "/", &save)) {
		char *sel = strchr(seg, '[');
		xmlNodePtr found = NULL;

		if (sel) {
			*sel++ = '\0';
			sel[strcspn(sel, "]")] = '\0';
		}
		for (xmlNodePtr n = cur->children; n && !found; n = n->next)
			if (is_elem(n, seg) && has_attrs(n, sel))
				found = n;
		if (!found && create) {
			found = new_child(b, cur, seg);
			set_attrs(b, found, sel);
		}
		cur = found;
	}
	return b->error ? NULL : cur;
}

/* The guest feature table (core/guest.h): each row's element set when it applies, else its off
 * attributes set or the element removed (with a <hyperv>/<kvm>/<pm> left empty), whatever the
 * template said: the XML describes the machine the QEMU argv does. */
static void fill_features(struct xb *b, const struct plan *p, xmlNodePtr dom)
{
	for (size_t i = 0; i < guest_n_features && !b->error; i++) {
		const struct guest_feature *f = &guest_features[i];
		xmlNodePtr n, parent;

		if (guest_feature_on(f, p->profile)) {
			set_attrs(b, xml_path(b, dom, f->xml, true), f->xml_on);
			continue;
		}
		if (f->xml_off) {
			set_attrs(b, xml_path(b, dom, f->xml, true), f->xml_off);
			continue;
		}
		n = xml_path(b, dom, f->xml, false);
		if (!n)
			continue;
		parent = n->parent;
		xmlUnlinkNode(n);
		xmlFreeNode(n);
		if (parent && parent != dom && !xmlFirstElementChild(parent) &&
		    (is_elem(parent, "hyperv") || is_elem(parent, "kvm") ||
		     is_elem(parent, "pm"))) {
			xmlUnlinkNode(parent);
			xmlFreeNode(parent);
		}
	}
}

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

/* Remove the template's <qemu:NAME> children of the domain. */
static void remove_qemu_children(xmlNodePtr dom, const char *name)
{
	xmlNodePtr n, next;

	for (n = dom->children; n; n = next) {
		next = n->next;
		if (is_elem(n, name) && n->ns && xmlStrEqual(n->ns->href, X(QEMU_NS))) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		}
	}
}

static xmlNodePtr new_qemu_child(struct xb *b, xmlNodePtr parent, xmlNsPtr ns, const char *name)
{
	xmlNodePtr n;

	if (b->error || !parent)
		return NULL;
	n = xmlNewChild(parent, ns, X(name), NULL);
	if (!n)
		b->error = -ENOMEM;
	return n;
}

/* [qemu] args: <qemu:commandline><qemu:arg value='...'/></qemu:commandline>. x-vga: libvirt has
 * no element for it, so the documented override of a device's QEMU properties (libvirt >= 8.2)
 * sets it on the hostdev with that alias:
 * <qemu:override><qemu:device alias='ua-gpurun-hostdevN'><qemu:frontend>
 * <qemu:property name='x-vga' type='bool' value='true'/>. */
static void fill_qemu_ns(struct xb *b, const struct plan *p, xmlNodePtr dom)
{
	const struct profile *pr = p->profile;
	bool args = pr->qemu_args && pr->qemu_args[0], xvga = false;
	xmlNodePtr cl, ov, n;
	xmlNsPtr ns;

	if (b->error)
		return;
	remove_qemu_children(dom, "commandline");
	remove_qemu_children(dom, "override");
	for (size_t i = 0; i < p->n_devices; i++)
		xvga = xvga || p->devices[i].primary_vga;
	if (!args && !xvga)
		return;
	ns = xmlSearchNsByHref(dom->doc, dom, X(QEMU_NS));
	if (!ns)
		ns = xmlNewNs(dom, X(QEMU_NS), X("qemu"));
	if (!ns) {
		b->error = -ENOMEM;
		return;
	}
	if (args) {
		cl = new_qemu_child(b, dom, ns, "commandline");
		for (char **a = pr->qemu_args; *a; a++)
			set_prop(b, new_qemu_child(b, cl, ns, "arg"), "value", *a);
	}
	if (!xvga)
		return;
	ov = new_qemu_child(b, dom, ns, "override");
	for (size_t i = 0; i < p->n_devices; i++) {
		if (!p->devices[i].primary_vga)
			continue;
		n = new_qemu_child(b, ov, ns, "device");
		set_prop_take(b, n, "alias", strdup_printf("ua-gpurun-hostdev%zu", i));
		n = new_qemu_child(b, new_qemu_child(b, n, ns, "frontend"), ns, "property");
		set_prop(b, n, "name", "x-vga");
		set_prop(b, n, "type", "bool");
		set_prop(b, n, "value", "true");
	}
}

int emit_libvirt_xml_from_buffer(const struct plan *p, const char *buf, size_t len, bool managed,
				 char **ret_xml)
{
	const struct profile *pr = p->profile;
	_cleanup_(xml_doc_freep) xmlDocPtr doc = NULL;
	xmlNodePtr dom, n;
	struct xb b = {};
	xmlBufferPtr out;
	xmlSaveCtxtPtr save;
	char *xml;

	if (!p->resolved)
		return -ENODEV;
	if (len > INT_MAX)
		return -EFBIG;
	if (emit_has_control(p->vm_name) || emit_has_control(p->ovmf_code) ||
	    emit_has_control(p->ovmf_vars))
		return -EINVAL;
	for (char **d = pr->disks; d && *d; d++)
		if (emit_has_control(*d))
			return -EINVAL;
	for (char **d = pr->cdroms; d && *d; d++)
		if (emit_has_control(*d))
			return -EINVAL;
	for (size_t i = 0; i < p->n_devices; i++)
		if (emit_has_control(p->devices[i].romfile))
			return -EINVAL;
	for (char **a = pr->qemu_args; a && *a; a++)
		if (emit_has_control(*a))
			return -EINVAL;

	doc = xmlReadMemory(buf, (int)len, "template.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	if (!doc)
		return -EBADMSG;
	dom = xmlDocGetRootElement(doc);
	if (!dom || !is_elem(dom, "domain"))
		return -EBADMSG;

	/* type='qemu' is TCG; the templates say kvm */
	set_prop(&b, dom, "type", pr->accel_tcg ? "qemu" : "kvm");
	remove_children(dom, "uuid");
	set_text(&b, ensure_child(&b, dom, "name"), p->vm_name);
	n = ensure_child(&b, dom, "memory");
	set_prop(&b, n, "unit", "MiB");
	set_text_take(&b, n, strdup_printf("%" PRIu64, pr->memory_mib));
	n = ensure_child(&b, dom, "currentMemory");
	set_prop(&b, n, "unit", "MiB");
	set_text_take(&b, n, strdup_printf("%" PRIu64, pr->memory_mib));
	if (pr->hugepages) {
		/* what the QEMU output says: 2 MiB pages from a memfd, preallocated */
		xmlNodePtr mb = ensure_child(&b, dom, "memoryBacking"), hp, pg;

		hp = ensure_child(&b, mb, "hugepages");
		if (hp)
			remove_children(hp, "page");
		pg = new_child(&b, hp, "page");
		set_prop_take(&b, pg, "size", strdup_printf("%u", HOST_HUGEPAGE_KB));
		set_prop(&b, pg, "unit", "KiB");
		set_prop(&b, ensure_child(&b, mb, "source"), "type", "memfd");
		set_prop(&b, ensure_child(&b, mb, "allocation"), "mode", "immediate");
	}
	fill_cpu(&b, p, dom);
	fill_os(&b, p, dom);
	fill_features(&b, p, dom);
	if (p->secure_boot) {
		n = ensure_child(&b, ensure_child(&b, dom, "features"), "smm");
		set_prop(&b, n, "state", "on");
	}
	fill_devices(&b, p, dom, managed);
	fill_qemu_ns(&b, p, dom);
	if (b.error)
		return b.error;

	out = xmlBufferCreate();
	if (!out)
		return -ENOMEM;
	save = xmlSaveToBuffer(out, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
	if (!save) {
		xmlBufferFree(out);
		return -ENOMEM;
	}
	if (xmlSaveTree(save, dom) < 0 || xmlSaveClose(save) < 0) {
		xmlBufferFree(out);
		return -ENOMEM;
	}
	xml = malloc((size_t)xmlBufferLength(out) + 2);
	if (!xml) {
		xmlBufferFree(out);
		return -ENOMEM;
	}
	memcpy(xml, xmlBufferContent(out), (size_t)xmlBufferLength(out));
	xml[xmlBufferLength(out)] = '\0';
	if (xmlBufferLength(out) == 0 || xml[xmlBufferLength(out) - 1] != '\n')
		strcat(xml, "\n");
	xmlBufferFree(out);
	*ret_xml = xml;
	return 0;
}

int emit_libvirt(const struct plan *p, const struct emit_options *o, FILE *f)
{
	_cleanup_free_ char *xml = NULL;
	int r;

	if (!o->template_xml)
		return -EINVAL;
	r = emit_libvirt_xml_from_buffer(p, o->template_xml, o->template_len, o->managed, &xml);
	if (r < 0)
		return r;
	fputs(xml, f);
	return ferror(f) ? -EIO : 0;
}
