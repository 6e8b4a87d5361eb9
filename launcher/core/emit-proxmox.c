/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Proxmox VE VM config lines (/etc/pve/qemu-server/<vmid>.conf). hostpciN values are
 * qemu-server property strings: "ADDRESS[,pcie=1][,romfile=NAME][,x-vga=1]" where NAME is a
 * file in /usr/share/kvm and may not contain ',' or ';'. Disks, the EFI vars disk and the TPM
 * state need a Proxmox storage, so they are printed as the `qm` commands that create them. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/emit.h"
#include "core/guest.h"
#include "core/profile.h"
#include "util/error.h"
#include "util/strutil.h"
#include "util/strv.h"

/* Devices on guest port @port, in guest-function order (plan order), into @idx; their number. */
static size_t port_devices(const struct plan *p, unsigned port, size_t *idx)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n_devices; i++)
		if (p->devices[i].guest_port == port)
			idx[k++] = i;
	return k;
}

static unsigned n_ports(const struct plan *p)
{
	unsigned ports = 0;

	for (size_t i = 0; i < p->n_devices; i++)
		if (p->devices[i].guest_port + 1 > ports)
			ports = p->devices[i].guest_port + 1;
	return ports;
}

static void print_rom_options(const struct plan_device *d, bool xvga, FILE *f)
{
	if (d->rom_name)
		fprintf(f, ",romfile=%s", d->rom_name);
	if (xvga)
		fprintf(f, ",x-vga=1");
	fputc('\n', f);
}

/* One hostpciN per guest port, so that a slot stays one multi-function device as in the QEMU
 * and libvirt outputs: "dddd:bb:dd" for a discrete card's whole slot, "A;B" for chosen
 * functions (qemu-server makes the functions of one entry .0, .1, ... of one device). Its
 * romfile= goes to the first function only (PCI.pm print_hostpci_devices), so a slot where a
 * later function has its own ROM (the GOP driver on the HDMI audio) is one entry per function:
 * the ROMs are what makes the guest's screen work, the shared root port is not. */
static int print_hostpci(const struct plan *p, FILE *f)
{
	_cleanup_free_ size_t *idx = calloc(p->n_devices + 1, sizeof(size_t));
	unsigned n = 0, ports = n_ports(p);

	if (!idx)
		return -ENOMEM;
	for (unsigned port = 0; port < ports; port++) {
		size_t k = port_devices(p, port, idx);
		const struct plan_device *d0 = &p->devices[idx[0]], *late = NULL;
		bool xvga = false;

		if (k == 0)
			continue;
		for (size_t j = 0; j < k; j++) {
			xvga = xvga || p->devices[idx[j]].primary_vga;
			if (j > 0 && !late && p->devices[idx[j]].rom_name)
				late = &p->devices[idx[j]];
		}
		if (late) {
			fprintf(f,
				"# %s needs its own romfile (%s%s), and hostpci gives romfile= to "
				"the first function of an entry only: one hostpciN per function of "
				"%.*s (each on its own root port, unlike the QEMU and libvirt "
				"outputs; emit proxmox --args keeps one multi-function device)\n",
				late->address, late->rom_name,
				late->rom_is_gop ? ", the GOP driver" : "", 10, d0->address);
			for (size_t j = 0; j < k; j++) {
				const struct plan_device *d = &p->devices[idx[j]];

				if (n > 15)
					return -E2BIG;
				fprintf(f, "hostpci%u: %s,pcie=1", n++, d->address);
				print_rom_options(d, d->primary_vga, f);
			}
			continue;
		}
		if (n > 15)
			return -E2BIG;
		fprintf(f, "hostpci%u: ", n++);
		if (p->gpu_whole_slot && d0->role != PLAN_ROLE_EXTRA)
			/* "0000:03:00" passes every function of the slot */
			fprintf(f, "%.10s", d0->address);
		else
			for (size_t j = 0; j < k; j++)
				fprintf(f, "%s%s", j ? ";" : "", p->devices[idx[j]].address);
		fprintf(f, ",pcie=1");
		print_rom_options(d0, xvga, f);
	}
	return 0;
}

/* "@head[,opt,...]\n": the options of the guest features written as @kind (core/guest.c). */
static int print_keyed(FILE *f, const struct profile *pr, const char *head,
		       enum guest_pve_kind kind)
{
	fputs(head, f);
	for (size_t i = 0; i < guest_n_features; i++) {
		const struct guest_pve *v = guest_feature_pve(&guest_features[i], pr);

		if (v->kind == kind)
			fprintf(f, ",%s", v->value);
	}
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

/* Append @w to the args: line, quoted for Text::ParseWords::shellwords. */
static int print_word(FILE *f, const char *w)
{
	_cleanup_free_ char *q = emit_shellwords_quote(w);

	if (!q)
		return -ENOMEM;
	fprintf(f, " %s", q);
	return 0;
}

/* Root ports of the args: form: chassis numbers above anything qemu-server uses (its
 * ich9-pcie-port-N have chassis N, 1..16; its pci-bridges chassis_nr 1..); no addr=, so QEMU
 * picks a free slot of pcie.0 (args: come last on qemu-server's command line). */
#define ARGS_CHASSIS_BASE 200

/* --args: every passed-through function as -device words of the one args: line, then the
 * profile's [qemu] args. */
static int print_args(const struct plan *p, bool devices, FILE *f)
{
	const struct profile *pr = p->profile;
	unsigned ports = devices ? n_ports(p) : 0;
	_cleanup_strv_free_ char **features = NULL;
	int r = 0;

	/* the guest features qm has no key for (core/guest.c), one word per blank */
	for (size_t i = 0; i < guest_n_features; i++) {
		const struct guest_pve *v = guest_feature_pve(&guest_features[i], pr);
		_cleanup_strv_free_ char **words = NULL;

		if (v->kind != GUEST_PVE_ARGS)
			continue;
		if (strv_split(v->value, " ", &words) < 0)
			return -ENOMEM;
		for (char **w = words; *w; w++)
			if (strv_extend(&features, *w) < 0)
				return -ENOMEM;
	}
	if (!(pr->qemu_args && pr->qemu_args[0]) && ports == 0 && !features)
		return 0;
	if (ports > 255 - ARGS_CHASSIS_BASE)
		return -E2BIG;
	fprintf(f, "args:");
	for (unsigned port = 0; port < ports && r >= 0; port++) {
		_cleanup_free_ char *rp =
		    strdup_printf("pcie-root-port,id=gpurun-rp%u,bus=pcie.0,chassis=%u,slot=0",
				  port, ARGS_CHASSIS_BASE + port);

		if (!rp)
			return -ENOMEM;
		r = print_word(f, "-device");
		if (r >= 0)
			r = print_word(f, rp);
		for (size_t i = 0; i < p->n_devices && r >= 0; i++) {
			const struct plan_device *d = &p->devices[i];
			_cleanup_free_ char *dev = NULL;

			if (d->guest_port != port)
				continue;
			dev = strdup_printf("vfio-pci,host=%s,id=gpurun-hostdev%zu,bus=gpurun-rp%u,"
					    "addr=00.%u%s%s%s%s",
					    d->address, i, port, d->guest_function,
					    d->multifunction ? ",multifunction=on" : "",
					    d->rom_name ? ",romfile=/usr/share/kvm/" : "",
					    d->rom_name ? d->rom_name : "",
					    d->primary_vga ? ",x-vga=on" : "");
			if (!dev)
				return -ENOMEM;
			r = print_word(f, "-device");
			if (r >= 0)
				r = print_word(f, dev);
		}
	}
	for (char **a = features; a && *a && r >= 0; a++)
		r = print_word(f, *a);
	for (char **a = pr->qemu_args; a && *a && r >= 0; a++)
		r = print_word(f, *a);
	fputc('\n', f);
	if (r < 0 || ports == 0)
		return r;
	fprintf(f, "# args: passes");
	for (size_t i = 0; i < p->n_devices; i++)
		fprintf(f, " %s", p->devices[i].address);
	fprintf(f,
		" itself: qemu-server does not prepare devices named only in args: (no vfio-pci "
		"binding, reset or reservation), so a hookscript's pre-start `gpurun bind "
		"PROFILE` (or gpurun host-config's vfio-pci ids) must put them on vfio-pci before "
		"the VM starts, and a post-stop `gpurun unbind PROFILE` give them back\n");
	return 0;
}

/* ---- cluster-wide PCI resource mappings (--mapping) ---- */

bool emit_proxmox_id_valid(const char *s)
{
	/* pve-common PVE/JSONSchema.pm $CONFIGID_RE: [a-z][a-z0-9_-]+, case-insensitive */
	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) || !s[1])
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
	       strlen(s);
}

/* The VM name as qemu-server's `name` (format dns-name, pve_verify_dns_name: dot-separated
 * labels [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?; a value that is not one is dropped when the
 * file is read): '_' becomes '-', a label loses its leading and trailing '-', an empty label
 * goes. A profile name starts with a letter or digit, so something is left. */
static char *pve_dns_name(const char *name)
{
	size_t n = strlen(name), o = 0;
	char *r = malloc(n + 1);

	if (!r)
		return NULL;
	for (const char *s = name; *s;) {
		size_t len = strcspn(s, "."), start = o;

		for (size_t i = 0; i < len; i++) {
			char c = s[i];

			if (!isalnum((unsigned char)c))
				c = '-';
			if (c == '-' && o == start)
				continue; /* no leading '-' */
			r[o++] = c;
		}
		while (o > start && r[o - 1] == '-')
			o--;
		if (o > start)
			r[o++] = '.';
		s += len;
		if (*s == '.')
			s++;
	}
	if (o > 0 && r[o - 1] == '.')
		o--;
	r[o] = '\0';
	return r;
}

bool emit_proxmox_node_valid(const char *s)
{
	static const char alnum[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t n = s ? strlen(s) : 0;

	/* pve_verify_node_name: [a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])? */
	if (n == 0 || !strchr(alnum, s[0]) || !strchr(alnum, s[n - 1]))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

/* One mapping: one hostpciN entry of the VM, one `map` of this node. */
struct mapping {
	char *id;
	char path[PCI_ADDR_MAX];     /* "dddd:bb:dd" (the whole slot) or one function */
	const struct pci_func *func; /* whose ids Proxmox checks: the function, or the slot's .0 */
	const struct plan_device *rom; /* its romfile= comes from this device */
	bool xvga;
	bool split; /* one of the functions of a guest port split into one mapping each */
};

static void mappings_free(struct mapping *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++)
		free(m[i].id);
	free(m);
}

/* The id of the mapping of @d, not yet in @m[0..n-1]: @name for the first, else by role. */
static char *mapping_id(const char *name, const struct mapping *m, size_t n,
			const struct plan_device *d)
{
	_cleanup_free_ char *id = NULL;
	unsigned fn = (unsigned)(d->address[strlen(d->address) - 1] - '0');

	if (n == 0)
		return strdup(name);
	switch (d->role) {
	case PLAN_ROLE_GPU_AUDIO:
		id = strdup_printf("%s-audio", name);
		break;
	case PLAN_ROLE_EXTRA:
		/* [device NAME] allows '.', a mapping id does not */
		id = d->name ? strdup_printf("%s-%s", name, d->name) : NULL;
		for (char *c = id; c && *c; c++)
			if (*c == '.')
				*c = '-';
		break;
	default:
		break;
	}
	if (!id)
		id = strdup_printf("%s-f%x", name, fn);
	/* taken (a second audio function, a device named like another's suffix): NAME-N, the
	 * first N from the entry's index that is free */
	for (size_t i = 0, k = n; id && i < n; i++)
		if (strcasecmp(m[i].id, id) == 0) {
			free(id);
			id = strdup_printf("%s-%zu", name, k++);
			i = (size_t)-1; /* compare the new one with all again */
		}
	return TAKE_PTR(id);
}

static int mapping_add(const char *name, const struct host *h, struct mapping **m, size_t *n,
		       const struct plan_device *d, bool whole_slot, bool xvga, bool split)
{
	struct mapping *t, *e;
	char fn0[PCI_ADDR_MAX];

	if (*n >= 16)
		return -E2BIG;
	t = reallocarray(*m, *n + 1, sizeof(**m));
	if (!t)
		return -ENOMEM;
	*m = t;
	e = &t[*n];
	*e = (struct mapping){ .rom = d, .xvga = xvga, .split = split };
	if (whole_slot) {
		/* "0000:03:00": every function of the slot; Proxmox checks the ids of .0 */
		snprintf(e->path, sizeof(e->path), "%.10s", d->address);
		snprintf(fn0, sizeof(fn0), "%.10s.0", d->address);
		e->func = host_find_func(h, fn0);
	} else {
		snprintf(e->path, sizeof(e->path), "%s", d->address);
		e->func = host_find_func(h, d->address);
	}
	if (!e->func)
		return -ENODEV;
	e->id = mapping_id(name, t, *n, d);
	if (!e->id)
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* The mappings of @p, in hostpci order: per guest port the discrete card's whole slot as one
 * (unless a later function has its own ROM, as in print_hostpci), else one per function. */
static int mappings_build(const struct plan *p, const struct host *h, const char *name,
			  struct mapping **ret, size_t *ret_n)
{
	_cleanup_free_ size_t *idx = calloc(p->n_devices + 1, sizeof(size_t));
	struct mapping *m = NULL;
	unsigned ports = n_ports(p);
	size_t n = 0;
	int r = 0;

	if (!idx)
		return -ENOMEM;
	for (unsigned port = 0; port < ports && r >= 0; port++) {
		size_t k = port_devices(p, port, idx);
		const struct plan_device *d0;
		bool late = false, xvga = false;

		if (k == 0)
			continue;
		d0 = &p->devices[idx[0]];
		for (size_t j = 0; j < k; j++) {
			xvga = xvga || p->devices[idx[j]].primary_vga;
			late = late || (j > 0 && p->devices[idx[j]].rom_name);
		}
		if (!late && p->gpu_whole_slot && d0->role != PLAN_ROLE_EXTRA &&
		    streq(d0->address + 10, ".0")) {
			r = mapping_add(name, h, &m, &n, d0, true, xvga, false);
			continue;
		}
		for (size_t j = 0; j < k && r >= 0; j++) {
			const struct plan_device *d = &p->devices[idx[j]];

			r = mapping_add(name, h, &m, &n, d, false, d->primary_vga, k > 1);
		}
	}
	if (r < 0) {
		mappings_free(m, n);
		return r;
	}
	*ret = m;
	*ret_n = n;
	return 0;
}

static void print_map(const struct mapping *m, const char *node, FILE *f)
{
	fprintf(f, "node=%s,path=%s,id=%04x:%04x,subsystem-id=%04x:%04x", node, m->path,
		m->func->vendor, m->func->device, m->func->subvendor, m->func->subdevice);
	if (m->func->iommu_group >= 0)
		fprintf(f, ",iommugroup=%d", m->func->iommu_group);
}

/* hostpciN: mapping=ID,pcie=1[,romfile=][,x-vga=1], one per mapping. */
static int print_hostpci_mapping(const struct plan *p, const struct emit_options *o, FILE *f)
{
	struct mapping *m = NULL;
	size_t n = 0;
	bool said = false;
	int r;

	r = mappings_build(p, o->host, o->proxmox_mapping, &m, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (m[i].split && !said) {
			fprintf(f,
				"# Proxmox checks every path of a mapping against the mapping's "
				"one vendor:device id: the chosen functions of a slot are one "
				"mapping and one hostpciN each (each on its own root port, unlike "
				"the QEMU and libvirt outputs)\n");
			said = true;
		}
		fprintf(f, "hostpci%zu: mapping=%s,pcie=1", i, m[i].id);
		print_rom_options(m[i].rom, m[i].xvga, f);
	}
	mappings_free(m, n);
	return 0;
}

int emit_proxmox_mapping(const struct plan *p, const struct host *h, const char *name,
			 const char *node, FILE *f)
{
	struct mapping *m = NULL;
	size_t n = 0;
	int r;

	if (!p->resolved || !h)
		return -ENODEV;
	if (!emit_proxmox_id_valid(name) || !emit_proxmox_node_valid(node))
		return -EINVAL;
	r = mappings_build(p, h, name, &m, &n);
	if (r < 0)
		return r;
	fprintf(
	    f,
	    "# The cluster-wide PCI resource mapping%s (Datacenter > Resource Mappings) the "
	    "hostpci mapping= entries name, with this node's map: the VM starts on any node that "
	    "maps the same model. Create %s once, on one node:\n",
	    n > 1 ? "s" : "", n > 1 ? "them" : "it");
	/* a mediated-device parent's mapping says mdev 1: before a start Proxmox compares that
	 * with the device (Mapping/PCI.pm assert_valid), which fails a mapping without it */
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "#   pvesh create /cluster/mapping/pci --id %s%s --map ", m[i].id,
			m[i].func->mdev ? " --mdev 1" : "");
		print_map(&m[i], node, f);
		fputc('\n', f);
	}
	fprintf(f, "# which writes /etc/pve/mapping/pci.cfg:\n");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fprintf(f, "#\n");
		fprintf(f, "#   %s\n", m[i].id);
		if (m[i].func->mdev)
			fprintf(f, "#   \tmdev 1\n");
		fprintf(f, "#   \tmap ");
		print_map(&m[i], node, f);
		fputc('\n', f);
	}
	for (size_t i = 0; i < n; i++)
		if (m[i].path[10] == '\0')
			fprintf(f,
				"# path=%s without a function maps every function of the slot; "
				"Proxmox checks the ids of %s.0 on each node\n",
				m[i].path, m[i].path);
	fprintf(f,
		"# Each other node with the same model adds its own map: run `gpurun emit proxmox "
		"--mapping %s PROFILE` there and append the map it prints. pvesh set replaces the "
		"whole list, so give it every map the mapping has (pvesh get "
		"/cluster/mapping/pci/ID lists them) and the new one:\n",
		name);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "#   pvesh set /cluster/mapping/pci/%s --map EXISTING_MAP... --map ",
			m[i].id);
		print_map(&m[i], node, f);
		fputc('\n', f);
	}
	fprintf(f, "# or add the map line under the mapping's id in /etc/pve/mapping/pci.cfg.\n");
	mappings_free(m, n);
	return ferror(f) ? -EIO : 0;
}

/* A drive line (virtioN:, sataN:) is a property string whose first part is the path: a ','
 * ends it, and a part holding '=' is taken for key=value (pve-common JSONSchema.pm
 * parse_property_string). */
static int drive_path_check(const char *key, const char *path, struct error *err)
{
	const char *c = strpbrk(path, ",=");

	if (emit_has_control(path))
		return error_set(err, EINVAL, "%s = '%s' holds a control character", key, path);
	if (c)
		return error_set(err, EINVAL,
				 "%s = '%s' holds a '%c': a Proxmox drive line is a property "
				 "string, whose path cannot hold ',' or '=' (rename the file, or "
				 "import it with qm disk import and name the volume)",
				 key, path, *c);
	return 0;
}

int emit_proxmox_values_check(const struct plan *p, struct error *err)
{
	const struct profile *pr = p->profile;
	int r;

	for (size_t i = 0; i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];
		const char *rn = d->rom_name, *c;
		_cleanup_free_ char *key = NULL;
		size_t n;

		if (!rn)
			continue;
		/* the profile key and value the name comes from */
		if (d->rom_source == PLAN_ROM_FILE)
			key = strdup_printf("%s = '%s'", d->rom_is_gop ? "gop" : "vbios",
					    strna(d->rom_source_path));
		else
			key = strdup_printf("the ROM of %s", d->address);
		if (!key)
			return -ENOMEM;
		n = strlen(rn);
		c = strpbrk(rn, ",;");
		if (emit_has_control(rn))
			r = error_set(err, EINVAL,
				      "%s: ROM file name '%s' holds a control character", key, rn);
		else if (c)
			/* qemu-server PCI.pm $hostpci_fmt romfile: pattern '[^,;]+'; the
			 * property string ends the value at ',' before that */
			r = error_set(err, EINVAL,
				      "%s: ROM file name '%s' holds a '%c', and hostpci romfile= "
				      "(qemu-server's pattern [^,;]+) takes no ROM file name a ',' "
				      "or ';': rename the file",
				      key, rn, *c);
		else if (n > 0 && isspace((unsigned char)rn[n - 1]))
			/* QemuServer.pm parse_vm_config: "key: (.+?)\s*$" drops it at the end
			 * of a line, and romfile= is the last option there */
			r = error_set(err, EINVAL,
				      "%s: ROM file name '%s' ends in a blank, which qemu-server "
				      "drops from the end of a config line: rename the file",
				      key, rn);
		else
			r = 0;
		if (r < 0) {
			error_set_device(err, d->address);
			return r;
		}
	}
	for (char **a = pr->qemu_args; a && *a; a++)
		if (emit_has_control(*a))
			return error_set(err, EINVAL, "[qemu] args: '%s' holds a control character",
					 *a);
	if (emit_has_control(p->vm_name))
		return error_set(err, EINVAL, "name = '%s' holds a control character", p->vm_name);
	for (char **d = pr->disks; d && *d; d++) {
		r = drive_path_check("disk", *d, err);
		if (r < 0)
			return r;
	}
	for (char **d = pr->cdroms; d && *d; d++) {
		r = drive_path_check("cdrom", *d, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int emit_proxmox(const struct plan *p, const struct emit_options *o, FILE *f)
{
	const struct profile *pr = p->profile;
	_cleanup_free_ char *pve_name = NULL;
	char mac[EMIT_MAC_MAX];
	bool notes = false, xvga = false;
	int r;

	if (!p->resolved)
		return -ENODEV;
	r = emit_proxmox_values_check(p, NULL);
	if (r < 0)
		return r;
	if (o->proxmox_mapping && (o->proxmox_args || !emit_proxmox_id_valid(o->proxmox_mapping) ||
				   !emit_proxmox_node_valid(o->proxmox_node)))
		return -EINVAL;
	if (o->proxmox_mapping && !o->host)
		return -ENODEV;
	if (strv_length(pr->disks) > EMIT_PROXMOX_MAX_DISKS ||
	    strv_length(pr->cdroms) > EMIT_PROXMOX_MAX_CDROMS)
		return -E2BIG;

	fprintf(f, "# gpurun: Proxmox VE configuration for VM '%s'\n", p->vm_name);
	fprintf(f, "# Merge into /etc/pve/qemu-server/<vmid>.conf\n");
	pve_name = pve_dns_name(p->vm_name);
	if (!pve_name)
		return -ENOMEM;
	fprintf(f, "name: %s\n", pve_name);
	if (!streq(pve_name, p->vm_name))
		fprintf(f,
			"# name: qemu-server takes a DNS name only (letters, digits, '-' inside "
			"dot-separated labels): '%s' is written as '%s'\n",
			p->vm_name, pve_name);
	r = print_keyed(f, pr, "machine: q35", GUEST_PVE_MACHINE);
	if (r < 0)
		return r;
	fprintf(f, "bios: %s\n", pr->firmware == PROFILE_FIRMWARE_BIOS ? "seabios" : "ovmf");
	/* win11 also gives the Hyper-V enlightenments, local time, driftfix and HPET off
	 * (core/guest.c says which rows qemu-server covers) */
	fprintf(f, "ostype: %s\n", profile_guest_is_windows(pr) ? "win11" : "l26");
	if (pr->accel_tcg)
		fprintf(f, "kvm: 0\n");
	r = print_keyed(f, pr, pr->accel_tcg ? "cpu: max" : "cpu: host", GUEST_PVE_CPU);
	if (r < 0)
		return r;
	fprintf(f, "sockets: %u\n", p->sockets);
	fprintf(f, "cores: %u\n", p->cores);
	if (pr->cpu_pinning)
		fprintf(f, "affinity: %s\n", pr->cpu_pinning);
	for (size_t i = 0; i < guest_n_features; i++) {
		const struct guest_pve *v = guest_feature_pve(&guest_features[i], pr);

		if (v->kind == GUEST_PVE_LINE)
			fprintf(f, "%s\n", v->value);
	}
	fprintf(f, "memory: %" PRIu64 "\n", pr->memory_mib);
	/* passed-through devices DMA into all guest memory: no ballooning */
	fprintf(f, "balloon: 0\n");
	if (pr->hugepages)
		/* the page size of the QEMU and libvirt outputs (not "any"); qemu-server
		 * preallocates huge pages as they do */
		fprintf(f, "numa: 1\nhugepages: %u\n", HOST_HUGEPAGE_KB / 1024);
	/* a fixed MAC: qemu-server draws a random one at each start from a hand-merged config */
	emit_mac_address(p->vm_name, mac);
	if (pr->network == PROFILE_NETWORK_BRIDGE)
		fprintf(f, "net0: virtio=%s,bridge=%s\n", mac, pr->network_bridge);
	for (size_t i = 0; i < p->n_devices; i++)
		xvga = xvga || p->devices[i].primary_vga;
	if (xvga)
		fprintf(f, "vga: none\n");
	if (!o->proxmox_args) {
		r = o->proxmox_mapping ? print_hostpci_mapping(p, o, f) : print_hostpci(p, f);
		if (r < 0)
			return r;
		if (xvga && pr->firmware != PROFILE_FIRMWARE_BIOS)
			fprintf(
			    f,
			    "# x-vga=1 with bios: ovmf: qemu-server hides KVM and sets vga: none "
			    "but leaves x-vga=on out of the vfio-pci device (--args keeps it)\n");
	}
	/* one args: line (qemu-server splits it with Perl's shellwords) */
	r = print_args(p, o->proxmox_args, f);
	if (r < 0)
		return r;

	if (pr->firmware != PROFILE_FIRMWARE_BIOS)
		fprintf(f, "# UEFI: qemu-server uses its own OVMF build (pve-edk2-firmware), not "
			   "the one gpurun picked for the QEMU and libvirt outputs\n");
	if (pr->firmware != PROFILE_FIRMWARE_BIOS)
		fprintf(f, "# EFI vars disk: qm set <vmid> --efidisk0 <storage>:1,efitype=4m%s\n",
			pr->firmware == PROFILE_FIRMWARE_UEFI_SECBOOT ? ",pre-enrolled-keys=1"
								      : "");
	if (pr->tpm)
		fprintf(f, "# TPM: qm set <vmid> --tpmstate0 <storage>:1,version=v2.0\n");
	if (pr->disks && pr->disks[0])
		fprintf(f, "# disks by path (as root; or qm disk import <vmid> PATH <storage> and "
			   "name the volume instead)\n");
	for (char **d = pr->disks; d && *d; d++)
		fprintf(f, "virtio%td: %s,format=%s\n", d - pr->disks, *d, profile_disk_format(*d));
	/* the AHCI ports the QEMU (if=ide on q35) and libvirt (bus sata) outputs use too */
	for (char **d = pr->cdroms; d && *d; d++)
		fprintf(f, "sata%td: %s,media=cdrom\n", d - pr->cdroms, *d);
	if (pr->network == PROFILE_NETWORK_USER)
		fprintf(f,
			"# network = user has no Proxmox equivalent: add net0 on a bridge "
			"(net0: virtio=%s,bridge=vmbr0)\n",
			mac);

	for (size_t i = 0; i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];

		if (!d->rom_name)
			continue;
		if (!notes)
			fprintf(f, o->proxmox_args
				       ? "# ROM files the args: romfile= paths name, in "
					 "/usr/share/kvm/ (--stage copies them):\n"
				       : "# ROM files the hostpci romfile= entries name, in "
					 "/usr/share/kvm/ (--stage copies them):\n");
		notes = true;
		switch (d->rom_source) {
		case PLAN_ROM_VFCT:
			fprintf(f,
				"#   %s <- VBIOS of %s from the ACPI VFCT table (gpurun vbios "
				"extract)\n",
				d->rom_name, d->address);
			break;
		case PLAN_ROM_SYSFS:
			fprintf(f, "#   %s <- ROM of %s read from sysfs\n", d->rom_name,
				d->address);
			break;
		default:
			if (startswith(d->rom_source_path, "/usr/share/kvm/") &&
			    streq(d->rom_source_path + strlen("/usr/share/kvm/"), d->rom_name))
				fprintf(f, "#   %s: already there%s\n", d->rom_name,
					d->rom_is_gop ? " (GOP driver, on the HDMI audio function)"
						      : "");
			else
				fprintf(f, "#   %s <- copy of %s%s\n", d->rom_name,
					d->rom_source_path,
					d->rom_is_gop ? " (GOP driver, on the HDMI audio function)"
						      : "");
			break;
		}
	}
	if (o->proxmox_mapping) {
		r = emit_proxmox_mapping(p, o->host, o->proxmox_mapping, o->proxmox_node, f);
		if (r < 0)
			return r;
	}
	return ferror(f) ? -EIO : 0;
}
