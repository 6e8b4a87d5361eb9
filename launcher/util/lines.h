/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Text files as lines: the pure helpers the configuration editors share (hostcfg/cmdline-edit.c,
 * hostcfg/modprobe-edit.c). A line is a malloc'd string without its '\n'; a file is a strv of
 * them (util/strv.h). Nothing here does I/O or logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct error;

/* Space, tab, CR or LF. */
bool lines_is_blank(char ch);

/* Split @buf (@len bytes; NULL with @len 0 is an empty file) into lines without their '\n'; a
 * last line without '\n' is a line too. A NUL byte is refused (not a text file): -EINVAL, @err
 * (may be NULL) holding the reason and its 1-based line, no file name. -ENOMEM leaves @err
 * alone. *ret is a strv, empty for an empty buffer. */
int lines_split(const char *buf, size_t len, char ***ret, struct error *err);

/* @l back into one malloc'd, NUL-terminated buffer; every line ends with '\n'. -ENOMEM. */
int lines_join(char *const *l, char **ret);

/* Replace l[i] with @s, taking @s (NULL: -ENOMEM, as when the caller's strdup failed). */
int lines_replace(char **l, size_t i, char *s);

/* Drop trailing blanks (lines_is_blank) of @s in place. */
void lines_rstrip(char *s);
