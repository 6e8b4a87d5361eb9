/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging. Only the command layer (cmd-*.c, main.c) should log errors; lower layers return a
 * negative errno or diagnostics as data. Library messages (libpci, libvirt, libxml2, libkmod)
 * are routed here at debug level. */
#pragma once

#include <stdbool.h>

#include "util/macro.h"

enum log_level {
	LOG_ERR,
	LOG_WARNING,
	LOG_NOTICE, /* progress lines, shown unless -q */
	LOG_INFO,   /* shown with -v */
	LOG_DEBUG,  /* shown with -vv */
	_LOG_LEVEL_MAX,
};

void log_set_max_level(enum log_level l);
enum log_level log_get_max_level(void);
/* Colour decision for stderr: a terminal and no NO_COLOR. Recomputed by log_setup(). */
void log_setup(void);
bool log_use_color(int fd);

/* Log @fmt at @level; errno is set to -@error (if non-zero) first, so %m works.
 * Returns @error when non-zero, else 0, so `return log_error_errno(r, ...)` works. */
int log_internal(enum log_level level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, -abs(e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, -abs(e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, -abs(e), __VA_ARGS__)

/* The text of the last message logged at LOG_ERR (whatever the level shown), without the
 * "gpurun: error: " prefix; NULL when none was. */
const char *log_last_error(void);

/* libxml2 messages go to debug output (libvirt is silenced in dlopen-libvirt.c). */
void log_libxml2_init(void);
