/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command layer. Each cmd-*.c implements one subcommand:
 *     int cmd_NAME(int argc, char **argv);
 * argv[0] is the command name. Its options are a const table (struct cmd_option, below), the
 * one source of both the parser and `gpurun help NAME`: it reads them with cmd_parse_options(),
 * which merges in the global options (cmd_common_options), so those work before and after the
 * command name. It returns an exit status: EXIT_OK, EXIT_FAILURE_OP (operation failed) or
 * EXIT_USAGE (usage or input error). Only main.c calls exit(). */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "host/ctx.h"
#include "host/runlog.h"
#include "util/macro.h"

#define EXIT_OK 0
#define EXIT_FAILURE_OP 1
#define EXIT_USAGE 2

/* Global options, set by cmd_parse_options() (cli/options.c). */
extern char *arg_root;
extern char *arg_state_dir;
extern char *arg_connect;
extern char *arg_qemu;
extern bool arg_json;
extern bool arg_dry_run;
extern bool arg_force;

/* Ids of the global options (and of main.c's --version); a command's own option ids are
 * _ARG_COMMON_MAX and up, or the option's short letter. */
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

/* One option in a command's table; a table ends with an entry whose name is NULL. */
struct cmd_option {
	const char *name;     /* long name, without "--" */
	char short_name;      /* the letter of -X, or 0 for a long-only option */
	int has_arg;	      /* no_argument or required_argument */
	int id;		      /* what cmd_parse_options() returns for it: > 0; the short letter
			       * when there is one; 0 = CMD_OPTION_GLOBAL */
	const char *arg_name; /* the argument in help ("SEC", "DIR"); NULL without argument */
	const char *help;     /* one line (it is wrapped to the terminal width when printed) */
};

/* A global option explained the way this command uses it (`--json` for check): the help lists
 * it with the command's options; the parser handles it as the global option it is. */
#define CMD_OPTION_GLOBAL(n, h)                                                                    \
	{                                                                                          \
		.name = (n), .help = (h)                                                           \
	}

/* The global options, in the order `--help` lists them (ids ARG_* or their short letter). */
extern const struct cmd_option cmd_common_options[];

/* The option tables of the commands, for the parser and for `gpurun help COMMAND`. */
extern const struct cmd_option cmd_run_options[];
extern const struct cmd_option cmd_check_options[];
extern const struct cmd_option cmd_ls_options[];
extern const struct cmd_option cmd_plan_options[];
extern const struct cmd_option cmd_emit_options[];  /* emit */
extern const struct cmd_option cmd_args_options[];  /* args = emit qemu */
extern const struct cmd_option cmd_xml_options[];   /* xml = emit libvirt */
extern const struct cmd_option cmd_pve_options[];   /* proxmox = emit proxmox */
extern const struct cmd_option cmd_vbios_options[]; /* vbios list|extract */
extern const struct cmd_option cmd_rom_options[];   /* rom info|combine */
extern const struct cmd_option cmd_bind_options[];  /* bind and unbind */
extern const struct cmd_option cmd_restore_options[];
extern const struct cmd_option cmd_host_config_options[];
extern const struct cmd_option cmd_explain_options[];

#define CMD_OPTIONS_MAX 32 /* global + command options one parser holds */

/* The state of one command's option parsing. Make it with CMD_PARSER(argc, argv, table). */
struct cmd_parser {
	int argc;
	char **argv;
	const struct cmd_option *options; /* the command's own table; NULL = none */
	const char *command; /* name in messages and for --help; NULL = the global level (main) */
	bool in_order;	     /* stop at the first operand (the options before a command name) */

	const char *arg; /* out: the argument of the option just returned; NULL if it takes none */
	int status;	 /* out: the exit status once cmd_parse_options() returned < 0 */

	/* private */
	bool started;
	struct option longopts[CMD_OPTIONS_MAX + 1];
	const struct cmd_option *entries[CMD_OPTIONS_MAX]; /* the table entry of each longopts[] */
	char shortopts[3 * CMD_OPTIONS_MAX + 3];
};

#define CMD_PARSER(argc_, argv_, options_)                                                         \
	{                                                                                          \
		.argc = (argc_), .argv = (argv_), .options = (options_), .command = (argv_)[0]     \
	}

/* The next option of the command line, getopt_long() style, with the global options merged in
 * and handled here (they set the arg_* globals and the log level). Returns:
 *   > 0  the id of the next option from the command's own table (its argument in p->arg);
 *   0    the options are done: the operands are argv[optind..argc-1], as after getopt_long();
 *   < 0  the command stops and returns p->status: EXIT_OK after --help (printed on stdout with
 *        cmd_print_help()), EXIT_USAGE after a bad option (reported once, with the closest
 *        option of this command when one is close: "did you mean '--json'?").
 * The first call resets getopt's state, so a parser can be used once per command line. Typical:
 *     struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_check_options);
 *     while ((opt = cmd_parse_options(&parser)) > 0)
 *             switch (opt) { case ARG_DEVICE: device = parser.arg; break; }
 *     if (opt < 0)
 *             return parser.status; */
int cmd_parse_options(struct cmd_parser *p);

/* The candidate (of the NULL-terminated @cands) closest to @word by edit distance (insertions,
 * deletions, substitutions, swaps of two neighbours) when it is close enough to be a typo of it
 * (1 edit for words under 5 characters, 2 from 5); else the only candidate that starts with
 * @word (3 characters or more: "host" -> "host-config"); else NULL. */
const char *cmd_closest(const char *word, const char *const *cands);

/* A usage error: "gpurun: error: COMMAND: MESSAGE" on stderr (without "COMMAND: " when
 * @command is NULL). Returns EXIT_USAGE. */
int cmd_usage_error(const char *command, const char *fmt, ...) _printf_(2, 3);

struct error;
/* Print an error from the engine once: "gpurun: error: CONTEXT: DETAIL", where CONTEXT is
 * @fmt formatted (left out when @fmt is NULL) and DETAIL is error_format(@e), or strerror(-@r)
 * when @e holds nothing. Returns the exit status: cmd_exit_status(@r), EXIT_FAILURE_OP when
 * @r >= 0 (an error was printed, so the command did not succeed). */
int cmd_log_error(const struct error *e, int r, const char *fmt, ...) _printf_(3, 4);
/* Report a device name that host_resolve_device(s) or pci_device_spec_parse() refused with
 * @r and @e; @what names where it came from ("--device", "device", "[gpu] device"):
 *   -EINVAL   "Invalid --device '03:00.8': function must be 0-7"
 *   -ENODEV   "No PCI device matches --device '7:0.0': no device 0000:07:00.0 on this host
 *             (did you mean 0000:03:00.0?); see `gpurun ls`"
 *   -ENOTUNIQ "--device '1002:1586': 1002:1586 matches 2 functions: ...; name one by address"
 * Returns EXIT_USAGE (EXIT_FAILURE_OP for -ENOMEM). */
int cmd_device_error(const char *what, const char *spec, const struct error *e, int r);
/* The exit status for a return value: EXIT_OK for r >= 0, EXIT_USAGE for -EINVAL (what the
 * user gave cannot be used as given: a value, a profile, a name), EXIT_FAILURE_OP otherwise.
 * A caller whose -EINVAL comes from the host (a sysfs write) returns EXIT_FAILURE_OP itself. */
int cmd_exit_status(int r);

/* A command as `gpurun help` shows it (the table is in main.c). */
struct cmd_example {
	const char *what;    /* one line: what it does (printed as a shell comment) */
	const char *command; /* the command line, starting with "gpurun " */
};
struct cmd_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;	 /* after "Usage: gpurun " */
	const char *summary;	 /* one line in the command list; NULL = not listed (alias) */
	const char *description; /* the paragraph of `gpurun help NAME`; NULL = the summary */
	const struct cmd_option *options;   /* NULL = none of its own */
	const struct cmd_example *examples; /* ends with { NULL, NULL }; NULL = none */
	void (*help_extra)(FILE *f);	    /* more help after the options (a table's rows) */
};

/* Print the help of @c: usage line, description, its options with their help, the global
 * options it did not explain itself, and its examples; lines fit 80 columns. */
void cmd_command_help(const struct cmd_command *c, FILE *f);
/* Print one option table as help lines ("  -o, --output DIR   the help"), leaving out the
 * options that @skip (may be NULL) names too: the global options a command explains itself. */
void cmd_options_help(const struct cmd_option *options, const struct cmd_option *skip, FILE *f);

/* Build the context from the global options; logs the error itself. Returns 0 or negative. */
int cmd_make_ctx(struct ctx **ret);

/* `gpurun help NAME` = `gpurun NAME --help` on stdout (main.c, which has the command table);
 * @name NULL prints the overview (`gpurun --help`). */
void cmd_print_help(const char *name);

struct host;
/* host_inspect() with the error logged (libpci's own text for -EIO) and the scan's notes
 * printed as warnings. Returns 0 or a negative errno (already logged). */
int cmd_host_inspect(struct ctx *c, struct host **ret);

int cmd_ls(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_host_config(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_emit(int argc, char **argv); /* also `args`, `xml`, `proxmox` (argv[0] picks the output) */
/* --help of emit: the outputs, from the emitter table. */
void cmd_emit_help_outputs(FILE *f);
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
 * EXIT_FAILURE_OP. @guest: the command starts the guest or says whether run would (run, plan,
 * check PROFILE): the programs run starts are checked too (state_read_programs); emit and bind
 * start none. */
int cmd_plan_load(const char *profile_path, bool guest, struct cmd_planned *ret);
/* The same with --allow-boot-vga applied to the profile before planning (run, bind). */
int cmd_plan_load_with(const char *profile_path, bool allow_boot_vga, bool guest,
		       struct cmd_planned *ret);
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
/* Print the diagnostics; -EPERM when a FAIL (not overridden by @force) refuses the run.
 * @devices_only (bind): FAILs about the guest alone (disk, cdrom, nvram) do not refuse. */
int cmd_run_check_plan(const struct plan *p, bool force, bool devices_only);
/* prepare_options.say: userdata != NULL means dry run (stdout), else a notice on stderr; with a
 * --json report on (cli/report.h) each line goes into the report instead of stdout. */
void cmd_run_say(void *userdata, const char *line);
int cmd_run_parse_timeout(const char *s, unsigned *ret_ms);
/* Create the journal of @vm, logging why not. @release (bind: the `gpurun unbind ...` command
 * line) turns "a previous run left its journal" into "already bound; release it with ...". */
int cmd_run_create_journal(struct ctx *c, const char *vm, const char *release,
			   struct journal **ret);
/* Revert @j, print each function's final driver; on success unlock and remove the journal. */
int cmd_run_revert(struct ctx *c, struct journal *j, unsigned timeout_ms);
/* Before the first host change of run/bind: SIGINT, SIGTERM, SIGHUP, SIGQUIT (and SIGCHLD)
 * blocked, so each leads to the revert (seen between steps, passed to the guest while it runs);
 * SIGINT and SIGQUIT taken back from an inherited SIG_IGN (a shell's background job), SIGHUP
 * left as inherited (nohup); SIGPIPE ignored, so a closed stderr cannot end gpurun before its
 * revert. */
int cmd_run_guard_signals(void);
/* After prepare_plan()/prepare_addresses() failed with @err: with nothing in @j nothing was
 * changed ("Refusing: ...", the journal goes); otherwise everything in @j is reverted, whatever
 * errno the failure carried. Returns the revert's result (0 when it was complete). */
int cmd_run_undo_prepare(struct ctx *c, struct journal *j, const char *what,
			 const struct error *err, unsigned timeout_ms);
/* explain (cmd-explain.c): `gpurun explain`, and the explanation at the end of a failed run. */
int cmd_explain(int argc, char **argv);
struct cmd_explain_run {
	int kmsg_fd;	   /* ROOT/dev/kmsg positioned at the run's start, -1 none */
	struct runlog rec; /* what <state>/<vm>/run records */
	bool recorded;	   /* ... and it was written */
};
/* Before the first host change: the start time, and the kernel log opened at its end (what
 * the kernel says from now on is the run's). Never fails: what is missing is left out. */
void cmd_explain_run_begin(struct ctx *c, struct cmd_explain_run *x);
/* Once the VM's state directory exists (the journal made it) and before the guest starts:
 * write the run record (@log: where QEMU's messages go, NULL none; its size now is where this
 * run's part starts). A failure is logged at debug level only. */
void cmd_explain_run_record(struct ctx *c, struct cmd_explain_run *x, const char *vm,
			    const char *profile, const char *backend, const char *log);
/* After the guest failed (@how: "QEMU exited with status 1"): the explanation on stderr, from
 * the run's log and the kernel's messages since the start, the fixes refined from @h and @p.
 * @cause_only: say nothing when no signature matched (a guest that stopped cleanly but soon). */
void cmd_explain_run_end(struct ctx *c, struct cmd_explain_run *x, const struct host *h,
			 const struct plan *p, const char *how, bool cause_only);
void cmd_explain_run_done(struct cmd_explain_run *x);

/* The processes that hold @bdf's device nodes open, as `fuser -v` lists them, and the display
 * manager among them (host/holders.h); nothing when there are none. For a driver that did not
 * let go of @bdf in time. */
void cmd_log_holders(struct ctx *c, const char *bdf);
/* Restore one VM from its journal (cmd-restore.c); used by restore and unbind. Refuses while
 * the VM is alive (liveness.h) unless @force. */
int cmd_restore_vm(struct ctx *c, const char *vm, unsigned timeout_ms, bool force);
