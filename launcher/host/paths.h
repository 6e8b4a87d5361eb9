/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the planner's inputs live on the host (host/paths.c). */
#pragma once

#include "core/plan.h"

struct ctx;
struct error;

/* Fill @ret from the ctx roots: the QEMU firmware descriptors of ROOT/etc/qemu/firmware and
 * ROOT/usr/share/qemu/firmware (*.json, parsed by core/firmware.c, their file names prefixed
 * with the root and checked for existence), and, for a host without descriptors, usr_share
 * probed for the Debian/Ubuntu, Fedora and Arch OVMF file names (plan.c's table). Not pure
 * (reads directories, stat()s files). */
int plan_paths_from_ctx(struct ctx *c, struct plan_paths *ret);
/* Where the xml-templates are: $GPURUN_DATADIR/xml-templates (secure_getenv), else
 * <dir of /proc/self/exe>/../xml-templates when running from the source tree, else
 * GPURUN_DATADIR "/xml-templates". Returns a malloc'd path or NULL (ENOMEM). */
char *paths_templates_dir(void);

/* Where a file a profile names (vbios, gop, nvram, disk, cdrom) is read: ROOT/PATH when it
 * exists (a fixture or captured host), else PATH as given (what QEMU opens on the real machine
 * and what a workstation uploads to a remote node). malloc'd; NULL on ENOMEM. */
char *paths_profile_file(const struct ctx *c, const char *path);
/* Read the libvirt domain template @name (a profile's `template`): NULL means "linux"; a name
 * without '/' is TEMPLATES_DIR/NAME.xml, an absolute path is read as paths_profile_file(@c)
 * resolves it (ROOT/PATH when that exists, else PATH; @c NULL: PATH), anything else with a '/'
 * a path as given. At most
 * PATHS_TEMPLATE_MAX bytes. Returns 0 with *ret_buf (malloc'd, NUL-terminated) and *ret_len, or
 * the read error (-ENOENT: no such template, -EFBIG, ...) with @err (may be NULL) naming the
 * file that was tried. */
#define PATHS_TEMPLATE_MAX (4 * 1024 * 1024)
int paths_load_template(const struct ctx *c, const char *templates_dir, const char *name,
			char **ret_buf, size_t *ret_len, struct error *err);
