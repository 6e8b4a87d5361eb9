/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The error object: what went wrong and where. The layer that finds a problem fills it; the
 * command layer (cli/) prints it once. It travels next to the negative-errno return value: a
 * function that takes `struct error *err` returns -errno as usual and, on failure, fills *err
 * (when @err is non-NULL) with the same errno, a message and whatever location it knows.
 *
 * Ownership: the strings are malloc'd and owned by the struct; error_clear() frees them and
 * resets the struct to its empty state. Declare one as
 *     _cleanup_(error_clear) struct error err = {};
 * Setting an error on a struct that already holds one replaces it (the newest, outermost
 * context wins; callers that want to keep the inner text use error_prefix()). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

#define ERROR_DEVICE_MAX 16 /* "0000:c4:00.0" + NUL */

struct error {
	int errnum;    /* positive errno of the failure; 0 = nothing recorded */
	char *message; /* the cause in words, without the location; NULL = none */
	char *file;    /* the file the problem is in or about (profile, ROM, journal...) */
	unsigned line; /* 1-based line in @file; 0 = not line-based */
	size_t offset; /* byte offset in @file (or the buffer), valid when has_offset */
	bool has_offset;
	char device[ERROR_DEVICE_MAX]; /* PCI address (BDF) the problem is about; "" = none */
};

/* Record @errnum (positive or negative; 0 is taken as EIO) and a printf-style message in @e.
 * @e may be NULL (the caller does not want detail). Returns -errnum, so a failing path can
 * `return error_set(err, EINVAL, "...")`. Out of memory while formatting leaves message NULL. */
int error_set(struct error *e, int errnum, const char *fmt, ...) _printf_(3, 4);
/* As error_set(), also naming the file and the 1-based line (0 = none). */
int error_set_line(struct error *e, int errnum, const char *file, unsigned line, const char *fmt,
		   ...) _printf_(5, 6);
/* As error_set(), also naming the byte offset (and the file, may be NULL). */
int error_set_offset(struct error *e, int errnum, const char *file, size_t offset, const char *fmt,
		     ...) _printf_(5, 6);

/* Add location to an error already set (no-op when @e is NULL). error_set_file() keeps an
 * existing file name unless @force; error_set_device() copies at most ERROR_DEVICE_MAX-1 bytes. */
void error_set_file(struct error *e, const char *file, bool force);
void error_set_device(struct error *e, const char *bdf);
/* Put "PREFIX: " in front of the message (no-op when @e is NULL or empty). */
void error_prefix(struct error *e, const char *fmt, ...) _printf_(2, 3);

/* The last line of a function that fills @e: when @r is a negative errno that @e does not hold
 * yet, record it alone (strerror stands in for the message). Failures found deeper down set
 * their cause and place themselves; this covers the others (-ENOMEM). An error in @e about a
 * different errno is not this failure's (a file that could not be restored, then -ENOMEM) and
 * is replaced. Returns @r:  return error_set_errno(err, do_thing(..., err)); */
int error_set_errno(struct error *e, int r);

bool error_is_set(const struct error *e);
void error_clear(struct error *e);

/* One line for a person: "FILE:LINE: MESSAGE", "FILE: byte N (0xN): MESSAGE", "BDF: MESSAGE"
 * or just "MESSAGE"; with no message, strerror(errnum) stands in. The device is not put in
 * front of a message that already names it ("0000:c4:00.0 is in use by ..."), so a sentence
 * that reads best with the address inside it can still carry err->device. malloc'd; NULL on
 * ENOMEM. */
char *error_format(const struct error *e);
