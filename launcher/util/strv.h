/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NULL-terminated string vectors (argv-like), owned as a whole. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

/* An empty vector (just the NULL); NULL on ENOMEM. */
char **strv_new_empty(void);
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
/* Append a copy of @s; on -ENOMEM @l is unchanged. */
int strv_extend(char ***l, const char *s);
/* Append @s, taking ownership of it (freed on failure). */
int strv_consume(char ***l, char *s);
int strv_extendf(char ***l, const char *fmt, ...) _printf_(2, 3);
bool strv_contains(char *const *l, const char *s);
/* As strv_contains(), ignoring ASCII case ("1002:AB30" is "1002:ab30"). */
bool strv_contains_case(char *const *l, const char *s);
/* Split @s at any of @sep (empty fields dropped). */
int strv_split(const char *s, const char *sep, char ***ret);
/* Join with @sep; returns a malloc'd string or NULL on ENOMEM. */
char *strv_join(char *const *l, const char *sep);
char **strv_copy(char *const *l);
