/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ROM I/O on the host: the ACPI VFCT table and a device's sysfs `rom` read through the ctx
 * roots, and staging a ROM file where QEMU, libvirt or Proxmox look for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "core/rom.h"
#include "core/vfct.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/pcidev.h"
#include "host/romstage.h"
#include "util/error.h"

#ifndef SYSFS_MAGIC
#define SYSFS_MAGIC 0x62656572
#endif

char *vfct_path(const struct ctx *c)
{
	return path_join(c->sys, "firmware/acpi/tables/VFCT");
}

int vfct_read(struct ctx *c, struct vfct_table **ret, struct diag_list *warnings, struct error *err)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len;
	int r;

	path = vfct_path(c);
	if (!path)
		return error_set(err, ENOMEM, "%s", strerror(ENOMEM));
	r = read_full_file(path, VFCT_MAX_SIZE, &buf, &len);
	if (r < 0)
		return error_set_line(err, r, path, 0, "%s", strerror(-r));
	r = vfct_parse(buf, len, ret, warnings, err);
	if (r < 0) {
		if (!error_is_set(err))
			error_set(err, r, "%s", strerror(-r));
		error_set_file(err, path, false);
	}
	return r;
}
int rom_stage(struct ctx *c, const void *buf, size_t len, const char *dir, const char *name,
	      bool force, char **ret_path)
{
	_cleanup_free_ char *path = NULL;
	int r;

	(void)c;
	if (!name || !*name || strchr(name, '/') || strpbrk(name, ",;") || streq(name, ".") ||
	    streq(name, ".."))
		return -EINVAL;
	r = hostfs_mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	path = path_join(dir, name);
	if (!path)
		return -ENOMEM;
	r = hostfs_same_content(path, buf, len);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && !force)
		return -EEXIST;
	if (r != 1) {
		r = hostfs_write_atomic(path, buf, len, 0644);
		if (r < 0)
			return r;
	}
	if (ret_path)
		*ret_path = TAKE_PTR(path);
	return 0;
}

static bool on_sysfs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && (unsigned long)sfs.f_type == SYSFS_MAGIC;
}

int rom_read_sysfs(struct ctx *c, const char *bdf, void **ret, size_t *ret_len)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len = 0;
	bool toggle;
	int r, q;

	path = pcidev_attr_path(c, bdf, "rom");
	if (!path)
		return -ENOMEM;
	if (!hostfs_exists(path))
		return -ENOENT;
	toggle = on_sysfs(path);
	if (toggle) {
		r = hostfs_write_attr(path, "1");
		if (r >= 0)
			r = read_full_file(path, ROM_MAX_SIZE, &buf, &len);
		/* the ROM BAR must not stay enabled (decoding it can clash with the BARs) */
		q = hostfs_write_attr(path, "0");
		if (r >= 0 && q < 0)
			r = q;
	} else
		r = read_full_file(path, ROM_MAX_SIZE, &buf, &len);
	if (r < 0)
		return r;
	if (len == 0)
		return -ENODATA;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}
