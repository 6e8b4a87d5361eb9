/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a profile file (host/profile-load.c); the parser itself is pure (core/profile.h). */
#pragma once

#include "core/profile.h"

struct error;

#define PROFILE_MAX_SIZE (1024 * 1024)

/* Read @path (as the user named it: not under the ctx roots; at most PROFILE_MAX_SIZE bytes)
 * and parse it. Returns 0 and *ret, or a negative errno with @err (may be NULL) naming the
 * file: the read error ("file too large (over 1 MiB)" for -EFBIG, else strerror), or
 * profile_parse()'s error with its line. */
int profile_load(const char *path, struct profile **ret, struct error *err);
