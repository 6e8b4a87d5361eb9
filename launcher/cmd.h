/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command layer. Each cmd-*.c implements one subcommand:
 *     int cmd_NAME(int argc, char **argv);
 * argv[0] is the command name. It parses its own options with getopt_long, using
 * CMD_COMMON_OPTIONS / CMD_COMMON_SHORT and passing unknown option characters to
 * cmd_common_option(), so the global options work before and after the command name.
 * It returns an exit status: EXIT_OK, EXIT_FAILURE_OP (operation failed) or EXIT_USAGE
 * (usage or input error). Only main.c calls exit(). */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "ctx.h"
#include "macro.h"

#define EXIT_OK 0
#define EXIT_FAILURE_OP 1
#define EXIT_USAGE 2

/* Global options, set by main.c and cmd_common_option(). */
extern char *arg_root;
extern char *arg_state_dir;
extern char *arg_connect;
extern char *arg_qemu;
extern bool arg_json;
extern bool arg_dry_run;
extern bool arg_force;

enum {
	ARG_ROOT = 0x100,
	ARG_STATE_DIR,
	ARG_CONNECT,
	ARG_QEMU,
	ARG_JSON,
	ARG_DRY_RUN,
	ARG_NO_COLOR,
	ARG_VERSION,
	_ARG_COMMON_MAX = 0x140, /* commands number their own long-only options from here */
};

#define CMD_COMMON_SHORT "hvq"
#define CMD_COMMON_OPTIONS                                                                         \
	{ "help", no_argument, NULL, 'h' }, { "verbose", no_argument, NULL, 'v' },                 \
	    { "quiet", no_argument, NULL, 'q' }, { "root", required_argument, NULL, ARG_ROOT },    \
	    { "state-dir", required_argument, NULL, ARG_STATE_DIR },                               \
	    { "connect", required_argument, NULL, ARG_CONNECT },                                   \
	    { "qemu", required_argument, NULL, ARG_QEMU },                                         \
	    { "json", no_argument, NULL, ARG_JSON },                                               \
	    { "dry-run", no_argument, NULL, ARG_DRY_RUN },                                         \
	{                                                                                          \
		"no-color", no_argument, NULL, ARG_NO_COLOR                                        \
	}

/* Handle a global option returned by getopt_long. Returns 0 if handled, 1 for --help/-h
 * (caller prints its help and returns EXIT_OK), -EINVAL for '?' or an unknown option
 * (getopt already printed the message; caller returns EXIT_USAGE). */
int cmd_common_option(int opt, const char *arg);

/* Build the context from the global options; logs the error itself. Returns 0 or negative. */
int cmd_make_ctx(struct ctx **ret);

/* Print the usage of one command ("gpurun ls [OPTIONS]" + description) from the table. */
void cmd_print_help(const char *name);

int cmd_ls(int argc, char **argv);
int cmd_check(int argc, char **argv);
