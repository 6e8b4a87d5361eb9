/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The outputs of a plan: a QEMU argv, libvirt domain XML, Proxmox VE config lines. Pure: the
 * caller reads what an output needs (the libvirt template: host/paths.h) and passes it in
 * struct emit_options. All refuse a plan that is not `resolved` (-ENODEV) and any value carrying
 * a control character (-EINVAL); the profile parser already refuses those with file:line, this
 * is the last guard.
 *
 * The emitter table (emit.c) is how a caller picks an output (`gpurun emit NAME`, the aliases
 * `gpurun args|xml|proxmox`); each emit-*.c exports its entry function for the table and its own
 * finer-grained API below. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/plan.h"

enum emit_kind {
	EMIT_QEMU,
	EMIT_LIBVIRT,
	EMIT_PROXMOX,
	_EMIT_KIND_MAX,
};

struct emit_options {
	const char *qemu_binary;  /* qemu: argv[0] */
	const char *template_xml; /* libvirt: the template document (emitter.needs_template) */
	size_t template_len;
	bool managed;	   /* libvirt: managed='yes' on every hostdev (libvirt detaches/reattaches),
		       * else 'no' (gpurun prepares the host) */
	bool proxmox_args; /* proxmox: the passthrough as -device words of the args: line
			    * instead of hostpciN entries (--args) */
	/* proxmox --mapping: hostpciN name cluster-wide PCI resource mappings (mapping=ID) instead
	 * of host addresses, and the output ends with this node's map of each (see
	 * emit_proxmox_mapping). All three set, or proxmox_mapping NULL. */
	const char *proxmox_mapping; /* the first mapping's id (pve-configid) */
	const char *proxmox_node;    /* this node's name (what Proxmox's nodename is) */
	const struct host *host;     /* the snapshot the plan was built from: ids, subsystem ids
				      * and IOMMU groups of the mapped functions */
};

struct emitter {
	const char *name;	 /* "qemu", "libvirt", "proxmox" */
	const char *alias;	 /* "args", "xml", "proxmox" (the top-level command) */
	const char *description; /* "QEMU command line", ... (for messages) */
	bool needs_template;	 /* the caller loads the libvirt template into the options */
	bool takes_managed;	 /* emit_options.managed means something (--managed) */
	bool names_rom_files;	 /* the output names ROM files by plan_device.rom_name, which the
				  * caller may copy where it looks for them (--stage) */
	bool takes_args;	 /* emit_options.proxmox_args means something (--args) */
	bool takes_mapping;	 /* emit_options.proxmox_mapping/_node mean something (--mapping) */
	/* write the output for @p to @f; 0 or a negative errno (see each entry function) */
	int (*emit)(const struct plan *p, const struct emit_options *o, FILE *f);
};

extern const struct emitter emitters[_EMIT_KIND_MAX];
/* By name or alias; NULL if unknown. */
const struct emitter *emitter_find(const char *name);
/* The closest name or alias to @name (a typo of it), or NULL. */
const char *emitter_suggest(const char *name);
/* The names for a message: "qemu, libvirt or proxmox" (malloc'd; NULL on ENOMEM). */
char *emitter_names(void);

/* Shared by the emitters: whether @s (may be NULL: no) holds a control character. */
bool emit_has_control(const char *s);
/* Quote @s for a POSIX shell if needed (malloc'd; NULL on ENOMEM). */
char *emit_shell_quote(const char *s);
/* Quote @s for Perl's Text::ParseWords::shellwords(), which qemu-server uses to split a
 * Proxmox `args:` line: a word without blanks, quotes or backslashes as is, else in double
 * quotes with '\' and '"' escaped by a backslash (single quotes cannot hold a trailing
 * backslash for that reader). malloc'd; NULL on ENOMEM. */
char *emit_shellwords_quote(const char *s);

/* "52:54:00:12:34:56" + NUL */
#define EMIT_MAC_MAX 18
/* The guest NIC's MAC address, the same in every output: derived from @vm_name (FNV-1a), locally
 * administered and unicast (first octet xxxxxx10), lower-case, colon-separated. */
void emit_mac_address(const char *vm_name, char ret[static EMIT_MAC_MAX]);

/* emit-qemu.c. The table entry prints emit_qemu_header() then emit_qemu_argv() with
 * emit_qemu_print(). */
int emit_qemu(const struct plan *p, const struct emit_options *o, FILE *f);
/* The complete QEMU command line, argv[0] = @qemu_binary. Values inside -device/-drive/...
 * option strings have their commas doubled. Returns 0 and a strv, -ENODEV, -EINVAL, -ENOMEM. */
int emit_qemu_argv(const struct plan *p, const char *qemu_binary, char ***ret_argv);
/* Print @argv shell-quoted, one option (with its value) per line, lines joined with " \\". */
int emit_qemu_print(char *const *argv, FILE *f);
/* Shell comment lines: what must happen before the argv can run (gpurun bind: vfio-pci and the
 * ROM files it stages; the UEFI variables copy; swtpm). 0, -EINVAL, -EIO. */
int emit_qemu_header(const struct plan *p, FILE *f);

/* emit-libvirt.c. The table entry fills o->template_xml (-EINVAL when it is NULL). */
int emit_libvirt(const struct plan *p, const struct emit_options *o, FILE *f);
/* Fill the template @buf (@len bytes) from the plan with libxml2 nodes. Returns 0 and a malloc'd
 * document, -EBADMSG (the template is not a <domain> document), -EFBIG, -ENODEV, -EINVAL,
 * -ENOMEM. */
int emit_libvirt_xml_from_buffer(const struct plan *p, const char *buf, size_t len, bool managed,
				 char **ret_xml);

/* emit-proxmox.c: the lines for /etc/pve/qemu-server/<vmid>.conf, then comment lines naming the
 * ROM files to copy into /usr/share/kvm. A slot is one hostpciN ("dddd:bb:dd" whole, "A;B" for
 * chosen functions) unless a later function has its own ROM (a comment says so); with
 * o->proxmox_args the functions are -device words of the args: line instead, never both.
 * Guest features (core/guest.h) become keys of the machine:/cpu: lines, lines of their own, or
 * args: words where qm has no key.
 * Returns 0, -ENODEV, -EINVAL (a romfile name with ',' or ';'), -E2BIG (more than 16 hostpci
 * entries, or more disks/cdroms than below), -ENOMEM, -EIO. */
int emit_proxmox(const struct plan *p, const struct emit_options *o, FILE *f);
/* The values of @p that a Proxmox config cannot hold (emit_proxmox() refuses them with -EINVAL):
 * a ROM file name with ',' or ';' (hostpci romfile=), a blank at its end or a control
 * character; a disk or cdrom path with ',' or '='; a control character in [qemu] args or the
 * name. Returns 0, or -EINVAL with @err (may be NULL) naming the profile key and the value
 * (and the device), -ENOMEM. Pure. */
int emit_proxmox_values_check(const struct plan *p, struct error *err);
/* With o->proxmox_mapping the hostpciN entries are "mapping=ID,pcie=1[,romfile=][,x-vga=1]" and
 * the output ends with the mappings (emit_proxmox_mapping); -EINVAL also for an id or node name
 * Proxmox would refuse, or together with o->proxmox_args (args: names host addresses). */

/* Whether @s is a mapping id Proxmox accepts (pve-configid: [a-zA-Z][a-zA-Z0-9_-]+). */
bool emit_proxmox_id_valid(const char *s);
/* Whether @s is a node name Proxmox accepts (pve-node: letters, digits and inner '-'). */
bool emit_proxmox_node_valid(const char *s);
/* The cluster-wide PCI resource mappings (pve-guest-common PVE/Mapping/PCI.pm) the hostpci
 * mapping= entries of @p name, as comment lines: this node's `map` of each, as the `pvesh
 * create /cluster/mapping/pci` command, the /etc/pve/mapping/pci.cfg entry, and how another
 * node adds its own. The first mapping's id is @name, the others @name-audio, @name-fN or
 * @name-DEVICE. A discrete card's whole slot is one mapping (path "dddd:bb:dd", the ids of
 * function .0, which is what Proxmox checks); chosen functions are one mapping each, since
 * Proxmox checks every path of a mapping against its one vendor:device id. @h is the snapshot
 * @p was built from. Returns 0, -ENODEV (unresolved plan, or a device @h does not have),
 * -EINVAL (@name or @node invalid), -E2BIG (more than 16), -ENOMEM, -EIO. */
int emit_proxmox_mapping(const struct plan *p, const struct host *h, const char *name,
			 const char *node, FILE *f);
/* Proxmox drive keys: disks are virtio0..virtio15 (virtio-blk, as in the QEMU and libvirt
 * outputs), cdroms sata0..sata5 (AHCI). emit_proxmox() returns -E2BIG beyond them;
 * checks_output() names the limit first. A disk or cdrom path holding ',' or '=' is -EINVAL. */
#define EMIT_PROXMOX_MAX_DISKS 16
#define EMIT_PROXMOX_MAX_CDROMS 6
