/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every read and write of a host path. Paths are full paths built from the ctx roots
 * (e.g. pcidev_attr_path(ctx, bdf, "driver")); nothing here adds a root.
 * Errors are negative errno values; nothing logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/fileio.h"
#include "util/macro.h"

/* First line of a (sysfs) file with trailing whitespace stripped. -ENOENT if missing. */
int hostfs_read_line(const char *path, char **ret);
/* Parse a sysfs hex/decimal number file ("0x1002\n"). */
int hostfs_read_ulong(const char *path, unsigned long *ret);
/* Basename of a symlink's target (driver -> ../../bus/pci/drivers/amdgpu gives "amdgpu"). */
int hostfs_readlink_base(const char *path, char **ret);
bool hostfs_exists(const char *path);
bool hostfs_is_dir(const char *path);

/* Write @s to an existing attribute with a single write(); the kernel's error (EBUSY, ENODEV,
 * EINVAL...) is returned as-is. Opens O_WRONLY|O_CLOEXEC without O_CREAT|O_TRUNC semantics
 * beyond what sysfs needs (O_TRUNC is set so regular files in fixtures behave alike). */
int hostfs_write_attr(const char *path, const char *s);
/* Called with the path and the value just before each hostfs_write_attr() (every sysfs write
 * gpurun makes); the command layer sets one that logs them for -v. NULL removes it. */
typedef void (*hostfs_write_hook_t)(void *userdata, const char *path, const char *value);
void hostfs_set_write_hook(hostfs_write_hook_t hook, void *userdata);

/* Write @len bytes to @path atomically: temp file in the same directory, fsync, chmod @mode,
 * rename. Parent directories are not created. */
int hostfs_write_atomic(const char *path, const void *buf, size_t len, mode_t mode);
/* The same, the new file owned by @uid:@gid ((uid_t)-1 / (gid_t)-1: the writer's); the owner
 * is set (fchown) only when it differs from the writer's. */
int hostfs_write_atomic_owned(const char *path, const void *buf, size_t len, mode_t mode, uid_t uid,
			      gid_t gid);
/* mkdir -p with @mode for newly created components. */
int hostfs_mkdir_p(const char *path, mode_t mode);
/* Compare file contents with @buf: 1 same, 0 different, -ENOENT missing. */
int hostfs_same_content(const char *path, const void *buf, size_t len);
