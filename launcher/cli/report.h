/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --json report of bind, unbind, restore, vbios extract and rom combine: one JSON object on
 * stdout, printed at the end, with what was done:
 *   {"command":"bind","ok":true,"exit_status":0, KEY:VALUE..., "changes":[LINE...],
 *    "functions":[{"vm","address","driver","ok"}...], "files":[{"path","size","what"}...]}
 * A command calls cmd_report_start() when --json is given; until cmd_report_print() the
 * collectors record (they do nothing when no report is on). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum cmd_report_array {
	CMD_REPORT_CHANGES,   /* each host change made (or, with --dry-run, that would be made) */
	CMD_REPORT_FUNCTIONS, /* each PCI function given back, with its driver at the end */
	CMD_REPORT_FILES,     /* each file written */
	_CMD_REPORT_MAX,
};

/* Set once the command's JSON object is on stdout (every --json printer sets it). */
extern bool cmd_json_printed;

/* The end of every command whose options explain --json (main.c calls it): a script piping its output gets ONE JSON object whatever
 * happened. When --json is on, @status is not EXIT_OK and the command printed no object (a
 * usage error, a file that cannot be read, a host that cannot be inspected), print
 *   {"command":COMMAND,"ok":false,"exit_status":STATUS,"error":MESSAGE}
 * (MESSAGE: the last error logged, null if none), or the report begun with cmd_report_start()
 * with "error" added. Returns @status. */
int cmd_json_finish(const char *command, int status);

/* Whether a report is being collected (the change lines then go into it, not to stdout). */
extern bool cmd_report_on;

void cmd_report_start(void);
void cmd_report_change(const char *line);
/* A dry run's line: into the report when one is on, else on stdout. */
void cmd_report_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cmd_report_function(const char *vm, const char *address, const char *driver, bool ok);
void cmd_report_file(const char *path, size_t size, const char *what);
/* Print the report: @status is the command's exit status; then pairs of const char * KEY,
 * VALUE (a NULL value prints null), ended by a NULL KEY. Ends the report. */
void cmd_report_print(const char *command, int status, ...) __attribute__((sentinel));
