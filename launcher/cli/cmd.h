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

#include "host/ctx.h"
#include "util/macro.h"

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

struct host;
/* host_inspect() with the error logged (libpci's own text for -EIO) and the scan's notes
 * printed as warnings. Returns 0 or a negative errno (already logged). */
int cmd_host_inspect(struct ctx *c, struct host **ret);

int cmd_ls(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_host_config(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_emit(int argc, char **argv);  /* also `args`, `xml`, `proxmox` (argv[0] picks the output) */
int cmd_vbios(int argc, char **argv); /* vbios list | extract */
int cmd_rom(int argc, char **argv);   /* rom info | combine */

/* Profile -> host snapshot -> plan, shared by plan, emit and run (cmd-plan.c). */
struct cmd_planned {
	struct ctx *ctx;
	struct host *host;
	struct profile *profile;
	struct plan *plan;
};
/* Logs its own errors. Returns EXIT_OK (and fills *ret), EXIT_USAGE (bad profile) or
 * EXIT_FAILURE_OP. */
int cmd_plan_load(const char *profile_path, struct cmd_planned *ret);
void cmd_planned_done(struct cmd_planned *c);
/* Log the diagnostics of status >= @min to stderr (with their fixes). */
struct diag_list;
void cmd_print_diags(const struct diag_list *d, int min);

/* run, bind/unbind, restore (cmd-run.c, cmd-bind.c, cmd-restore.c) */
int cmd_run(int argc, char **argv);
int cmd_bind(int argc, char **argv); /* also `unbind` (argv[0] picks) */
int cmd_restore(int argc, char **argv);
struct plan;
struct journal;
/* Shared by run/bind/unbind/restore (cmd-run.c); each logs its own errors. */
int cmd_run_plan(const char *profile_path, bool allow_boot_vga, struct cmd_planned *ret);
/* Print the diagnostics; -EPERM when a FAIL (not overridden by @force) refuses the run. */
int cmd_run_check_plan(const struct plan *p, bool force);
/* prepare_options.say: userdata != NULL means dry run (stdout), else a notice on stderr. */
void cmd_run_say(void *userdata, const char *line);
int cmd_run_parse_timeout(const char *s, unsigned *ret_ms);
int cmd_run_create_journal(struct ctx *c, const char *vm, struct journal **ret);
/* Revert @j, print each function's final driver; on success unlock and remove the journal. */
int cmd_run_revert(struct ctx *c, struct journal *j, unsigned timeout_ms);
/* Restore one VM from its journal (cmd-restore.c); used by restore and unbind. */
int cmd_restore_vm(struct ctx *c, const char *vm, unsigned timeout_ms);
