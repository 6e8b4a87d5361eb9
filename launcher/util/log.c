/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <libxml/xmlerror.h>

#include "util/log.h"

static enum log_level max_level = LOG_NOTICE;
static bool color;
static char last_error[1024];

const char *log_last_error(void)
{
	return last_error[0] ? last_error : NULL;
}

void log_set_max_level(enum log_level l)
{
	max_level = l;
}

enum log_level log_get_max_level(void)
{
	return max_level;
}

bool log_use_color(int fd)
{
	const char *nc = getenv("NO_COLOR");

	/* no-color.org: set to anything, even empty, turns colour off */
	if (nc)
		return false;
	return isatty(fd) > 0;
}

void log_setup(void)
{
	color = log_use_color(STDERR_FILENO);
}

int log_internal(enum log_level level, int error, const char *fmt, ...)
{
	static const char *const prefix[_LOG_LEVEL_MAX] = {
		[LOG_ERR] = "error: ", [LOG_WARNING] = "warning: ", [LOG_NOTICE] = "",
		[LOG_INFO] = "",       [LOG_DEBUG] = "debug: ",
	};
	static const char *const col[_LOG_LEVEL_MAX] = {
		[LOG_ERR] = "\033[1;31m",
		[LOG_WARNING] = "\033[1;33m",
		[LOG_DEBUG] = "\033[2m",
	};
	va_list ap;
	int saved = errno;

	if (error)
		errno = -error;
	if (level == LOG_ERR) {
		/* kept even under -q: a --json command's error object quotes it (cli/report.h) */
		va_start(ap, fmt);
		vsnprintf(last_error, sizeof(last_error), fmt, ap);
		va_end(ap);
		if (error)
			errno = -error;
	}
	if (level > max_level) {
		errno = saved;
		return error;
	}
	if (color && col[level])
		fputs(col[level], stderr);
	fputs("gpurun: ", stderr);
	fputs(prefix[level], stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (color && col[level])
		fputs("\033[0m", stderr);
	fputc('\n', stderr);
	errno = saved;
	return error;
}

static void libxml2_error(void *userdata _unused_, const char *fmt, ...)
{
	va_list ap;

	if (max_level < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	fputs("gpurun: debug: libxml2: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void log_libxml2_init(void)
{
	xmlSetGenericErrorFunc(NULL, libxml2_error);
}
