/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plain file helpers any layer may use: joining paths and reading a whole file by its full path.
 * Nothing here adds a root (host paths are built from the ctx roots by their callers). Errors are
 * negative errno values; nothing logs. */
#pragma once

#include <stddef.h>

/* Join path components with single slashes: path_join("a/", "/b", "c") = "a/b/c". The list is
 * NULL-terminated by the macro. Returns malloc'd string or NULL on ENOMEM. */
char *path_join_internal(const char *first, ...);
#define path_join(...) path_join_internal(__VA_ARGS__, (const char *)NULL)

/* Read a whole file (up to @max bytes, -EFBIG beyond). *ret is NUL-terminated as a
 * convenience; *ret_len excludes that NUL. The one reader of whole files: only regular files
 * are read (sysfs and /proc attributes are regular files). The file is opened O_NONBLOCK, so a
 * FIFO, device or socket never blocks the open: it is refused at once with -EINVAL (a
 * directory with -EISDIR). read_full_file_strerror() words the refusal. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* The cause of a read_full_file() failure @r (negative errno) for a message: "not a regular
 * file (a FIFO, device or socket)" for -EINVAL, strerror otherwise. */
const char *read_full_file_strerror(int r);
