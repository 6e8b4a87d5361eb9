/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The three outputs of a plan: a QEMU argv, libvirt domain XML, Proxmox VE config lines.
 * All refuse a plan that is not `resolved` (-ENODEV) and any value carrying a control character
 * (-EINVAL); the profile parser already refuses those with file:line, this is the last guard. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "core/plan.h"

/* The complete QEMU command line, argv[0] = @qemu_binary. Values inside -device/-drive/...
 * option strings have their commas doubled. Returns 0 and a strv, -ENODEV, -EINVAL, -ENOMEM. */
int emit_qemu_argv(const struct plan *p, const char *qemu_binary, char ***ret_argv);
/* Print @argv shell-quoted, one option (with its value) per line, lines joined with " \\". */
int emit_qemu_print(char *const *argv, FILE *f);
/* Quote @s for a POSIX shell if needed (malloc'd). */
char *emit_shell_quote(const char *s);

/* Load @template (p->profile->template: a name looked up as TEMPLATES_DIR/NAME.xml, or a path
 * if it contains '/') and fill it from the plan with libxml2 nodes. @managed: managed='yes' on
 * every hostdev (libvirt detaches/reattaches), else 'no' (gpurun prepares the host).
 * Returns 0 and a malloc'd document, -ENOENT (template missing), -EBADMSG (template is not a
 * <domain> document), -ENODEV, -EINVAL, -ENOMEM. */
int emit_libvirt_xml(const struct plan *p, const char *templates_dir, bool managed, char **ret_xml);
/* Same, from a template already in memory. */
int emit_libvirt_xml_from_buffer(const struct plan *p, const char *buf, size_t len, bool managed,
				 char **ret_xml);

/* The lines for /etc/pve/qemu-server/<vmid>.conf, then comment lines naming the ROM files to
 * copy into /usr/share/kvm. Returns 0, -ENODEV, -EINVAL (a romfile name with ',' or ';'), -EIO. */
int emit_proxmox(const struct plan *p, FILE *f);

enum emit_kind {
	EMIT_QEMU,
	EMIT_LIBVIRT,
	EMIT_PROXMOX,
	_EMIT_KIND_MAX,
};

struct emit_options {
	const char *qemu_binary;   /* qemu */
	const char *templates_dir; /* libvirt */
	bool managed;		   /* libvirt */
};

struct emitter {
	const char *name;  /* "qemu", "libvirt", "proxmox" */
	const char *alias; /* "args", "xml", "proxmox" (the top-level command) */
	const char *description;
	/* write the output for @p to @f; 0 or negative errno */
	int (*emit)(const struct plan *p, const struct emit_options *o, FILE *f);
};

extern const struct emitter emitters[_EMIT_KIND_MAX];
const struct emitter *emitter_find(const char *name); /* by name or alias; NULL if unknown */
