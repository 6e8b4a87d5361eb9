/* SPDX-License-Identifier: GPL-2.0-or-later */
/* String helpers any layer may use: formatting into a new string, and the closest word of a
 * list for "did you mean ...?" suggestions. Nothing here logs. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "util/macro.h"

/* printf into a new malloc'd string; NULL on ENOMEM. */
char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
char *strdup_vprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* Edit distance between @a and @b (insert, delete, substitute, swap two neighbours: 1 each).
 * Words of 63 characters or more are never close: SIZE_MAX. */
size_t str_edit_distance(const char *a, const char *b);
/* The entry of @cands (@n entries, NULL entries skipped) closest to @word, if it is close
 * enough to be a typo of it: at most 1 edit for words under 5 characters, else 2. The first of
 * equally close entries wins. Failing that, the one entry that starts with @word (at least 3
 * characters: "host" for "host-config"). NULL when none is close. */
const char *str_closest(const char *word, const char *const *cands, size_t n);
