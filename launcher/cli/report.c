/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --json report of the commands that change the host or write files (bind, unbind,
 * restore, vbios extract, rom combine): what was done is collected while it happens and printed
 * once, as one JSON object on stdout. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "util/json.h"
#include "util/log.h"
#include "util/macro.h"

bool cmd_report_on;
bool cmd_json_printed;

struct report_array {
	char *buf;
	size_t len;
	FILE *f;
	bool any;
};

static struct report_array arrays[_CMD_REPORT_MAX];
static const char *const array_names[_CMD_REPORT_MAX] = {
	[CMD_REPORT_CHANGES] = "changes",
	[CMD_REPORT_FUNCTIONS] = "functions",
	[CMD_REPORT_FILES] = "files",
};

static FILE *array_start(enum cmd_report_array a)
{
	struct report_array *r = &arrays[a];

	if (!r->f)
		r->f = open_memstream(&r->buf, &r->len);
	if (!r->f)
		return NULL;
	if (r->any)
		fputc(',', r->f);
	r->any = true;
	return r->f;
}

void cmd_report_start(void)
{
	cmd_report_on = true;
}

void cmd_report_change(const char *line)
{
	FILE *f;

	if (!cmd_report_on || !(f = array_start(CMD_REPORT_CHANGES)))
		return;
	json_string(f, line);
}

void cmd_report_say(const char *fmt, ...)
{
	_cleanup_free_ char *line = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	if (cmd_report_on)
		cmd_report_change(line);
	else
		printf("%s\n", line);
}

void cmd_report_function(const char *vm, const char *address, const char *driver, bool ok)
{
	FILE *f;

	if (!cmd_report_on || !(f = array_start(CMD_REPORT_FUNCTIONS)))
		return;
	fputs("{\"vm\":", f);
	json_string(f, vm);
	fputs(",\"address\":", f);
	json_string(f, address);
	fputs(",\"driver\":", f);
	json_string(f, driver);
	fprintf(f, ",\"ok\":%s}", ok ? "true" : "false");
}

void cmd_report_file(const char *path, size_t size, const char *what)
{
	FILE *f;

	if (!cmd_report_on || !(f = array_start(CMD_REPORT_FILES)))
		return;
	fputs("{\"path\":", f);
	json_string(f, path);
	fprintf(f, ",\"size\":%zu,\"what\":", size);
	json_string(f, what);
	fputc('}', f);
}

void cmd_report_print(const char *command, int status, ...)
{
	va_list ap;

	if (!cmd_report_on)
		return;
	printf("{\"command\":");
	json_string(stdout, command);
	printf(",\"ok\":%s,\"exit_status\":%d", status == 0 ? "true" : "false", status);
	va_start(ap, status);
	for (const char *key; (key = va_arg(ap, const char *));) {
		const char *value = va_arg(ap, const char *);

		putchar(',');
		json_key(stdout, key);
		json_string(stdout, value);
	}
	va_end(ap);
	for (size_t i = 0; i < _CMD_REPORT_MAX; i++) {
		struct report_array *r = &arrays[i];

		if (r->f)
			fflush(r->f);
		printf(",\"%s\":[%s]", array_names[i], r->buf && r->any ? r->buf : "");
		if (r->f)
			fclose(r->f);
		free(r->buf);
		*r = (struct report_array){};
	}
	printf("}\n");
	fflush(stdout);
	cmd_report_on = false;
	cmd_json_printed = true;
}

int cmd_json_finish(const char *command, int status)
{
	if (!arg_json || status == EXIT_OK || cmd_json_printed)
		return status;
	if (cmd_report_on) {
		cmd_report_print(command, status, "error", log_last_error(), (const char *)NULL);
		return status;
	}
	printf("{\"command\":");
	json_string(stdout, command);
	printf(",\"ok\":false,\"exit_status\":%d,\"error\":", status);
	json_string(stdout, log_last_error());
	printf("}\n");
	fflush(stdout);
	cmd_json_printed = true;
	return status;
}
