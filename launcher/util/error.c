/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static int set_va(struct error *e, int errnum, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (errnum < 0)
		errnum = -errnum;
	if (errnum == 0)
		errnum = EIO;
	if (!e)
		return -errnum;
	error_clear(e);
	e->errnum = errnum;
	if (fmt && vasprintf(&msg, fmt, ap) >= 0)
		e->message = msg;
	return -errnum;
}

int error_set(struct error *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = set_va(e, errnum, fmt, ap);
	va_end(ap);
	return r;
}

int error_set_line(struct error *e, int errnum, const char *file, unsigned line, const char *fmt,
		   ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = set_va(e, errnum, fmt, ap);
	va_end(ap);
	if (e) {
		error_set_file(e, file, true);
		e->line = line;
	}
	return r;
}

int error_set_offset(struct error *e, int errnum, const char *file, size_t offset, const char *fmt,
		     ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = set_va(e, errnum, fmt, ap);
	va_end(ap);
	if (e) {
		error_set_file(e, file, true);
		e->offset = offset;
		e->has_offset = true;
	}
	return r;
}

void error_set_file(struct error *e, const char *file, bool force)
{
	char *f;

	if (!e || !file || (e->file && !force))
		return;
	f = strdup(file);
	if (!f)
		return;
	free(e->file);
	e->file = f;
}

void error_set_device(struct error *e, const char *bdf)
{
	if (!e || !bdf)
		return;
	snprintf(e->device, sizeof(e->device), "%s", bdf);
}

void error_prefix(struct error *e, const char *fmt, ...)
{
	_cleanup_free_ char *pre = NULL;
	char *s;
	va_list ap;
	int r;

	if (!e || !error_is_set(e))
		return;
	va_start(ap, fmt);
	r = vasprintf(&pre, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	if (asprintf(&s, "%s: %s", pre, e->message ? e->message : strerror(e->errnum)) < 0)
		return;
	free(e->message);
	e->message = s;
}

int error_set_errno(struct error *e, int r)
{
	if (r < 0 && e && e->errnum != -r)
		(void)error_set(e, r, NULL);
	return r;
}

bool error_is_set(const struct error *e)
{
	return e && e->errnum != 0;
}

void error_clear(struct error *e)
{
	if (!e)
		return;
	free(e->message);
	free(e->file);
	*e = (struct error){};
}

char *error_format(const struct error *e)
{
	const char *msg = e->message ? e->message : strerror(e->errnum ? e->errnum : EIO);
	char *s = NULL;
	int r;

	if (e->file && e->line)
		r = asprintf(&s, "%s:%u: %s", e->file, e->line, msg);
	else if (e->file && e->has_offset)
		r = asprintf(&s, "%s: byte %zu (0x%zx): %s", e->file, e->offset, e->offset, msg);
	else if (e->has_offset)
		r = asprintf(&s, "byte %zu (0x%zx): %s", e->offset, e->offset, msg);
	else if (e->file)
		r = asprintf(&s, "%s: %s", e->file, msg);
	else if (e->device[0] && !strstr(msg, e->device))
		r = asprintf(&s, "%s: %s", e->device, msg);
	else
		r = asprintf(&s, "%s", msg);
	return r < 0 ? NULL : s;
}
