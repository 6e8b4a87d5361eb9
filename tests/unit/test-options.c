/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line (cli/options.c): the option parser with the global options merged in, its
 * usage errors and suggestions, the help made from the option tables, and the error printer. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "cli/cmd.h"
#include "util/error.h"
#include "util/log.h"

/* cmd_print_help() lives in main.c with the command table: record what the parser asks for. */
static char help_asked[64];
static int help_calls;

void cmd_print_help(const char *name)
{
	snprintf(help_asked, sizeof(help_asked), "%s", name ? name : "(overview)");
	help_calls++;
}

/* stderr into a memfd while a test runs the code that reports. */
static int saved_stderr = -1, capture_fd = -1;

static void capture_start(void)
{
	fflush(stderr);
	capture_fd = memfd_create("stderr", MFD_CLOEXEC);
	assert_true(capture_fd >= 0);
	saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(capture_fd, STDERR_FILENO), STDERR_FILENO);
}

/* What was written to stderr since capture_start(); malloc'd. */
static char *capture_end(void)
{
	char *buf = calloc(1, 4096);
	ssize_t n;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	assert_non_null(buf);
	n = pread(capture_fd, buf, 4095, 0);
	assert_true(n >= 0);
	close(capture_fd);
	return buf;
}

enum { T_DEVICE = _ARG_COMMON_MAX, T_FORCE, T_TIMEOUT };

static const struct cmd_option test_options[] = {
	{ "device", 0, required_argument, T_DEVICE, "BDF", "the device" },
	{ "output", 'o', required_argument, 'o', "DIR", "where to write" },
	{ "force", 0, no_argument, T_FORCE, NULL, "replace what is there" },
	{ "timeout", 0, required_argument, T_TIMEOUT, "SEC", "how long to wait" },
	CMD_OPTION_GLOBAL("json", "the result as JSON"),
	{},
};

static int reset_globals(void **state)
{
	(void)state;
	arg_root = mfree(arg_root);
	arg_state_dir = mfree(arg_state_dir);
	arg_connect = mfree(arg_connect);
	arg_qemu = mfree(arg_qemu);
	arg_json = arg_dry_run = arg_force = false;
	log_set_max_level(LOG_NOTICE);
	help_asked[0] = '\0';
	help_calls = 0;
	return 0;
}

/* Parse @argv (NULL-terminated) with test_options as command "cmd" until the parser stops;
 * returns its last return value, the parser's state in *p. */
static int parse_all(char **argv, struct cmd_parser *p, const struct cmd_option *table)
{
	int argc = 0, r;

	while (argv[argc])
		argc++;
	*p = (struct cmd_parser)CMD_PARSER(argc, argv, table);
	while ((r = cmd_parse_options(p)) > 0)
		;
	return r;
}

/* The message one bad command line gets, and its exit status. */
static void assert_usage_error(const char *const *args, const char *want)
{
	char *argv[16] = {};
	struct cmd_parser p;
	_cleanup_free_ char *err = NULL;
	size_t n = 0;
	int r;

	for (; args[n]; n++)
		argv[n] = (char *)args[n];
	capture_start();
	r = parse_all(argv, &p, test_options);
	err = capture_end();
	assert_true(r < 0);
	assert_int_equal(p.status, EXIT_USAGE);
	assert_string_equal(err, want);
	assert_int_equal(help_calls, 0);
}

static void test_options_and_operands(void **state)
{
	char *argv[] = { "cmd",	   "--device", "1002:1586",   "prof", "-v",
			 "--json", "--force",  "--timeout=5", NULL };
	struct cmd_parser p = CMD_PARSER(8, argv, test_options);

	(void)state;
	assert_int_equal(cmd_parse_options(&p), T_DEVICE);
	assert_string_equal(p.arg, "1002:1586");
	/* -v and --json are global: handled, not returned */
	assert_int_equal(cmd_parse_options(&p), T_FORCE);
	assert_null(p.arg);
	assert_int_equal(cmd_parse_options(&p), T_TIMEOUT);
	assert_string_equal(p.arg, "5");
	assert_int_equal(cmd_parse_options(&p), 0);
	assert_true(arg_json);
	assert_int_equal(log_get_max_level(), LOG_INFO);
	/* the operand, after the options as getopt_long permutes them */
	assert_int_equal(optind, 7);
	assert_string_equal(argv[optind], "prof");
}

static void test_short_options(void **state)
{
	char *argv[] = { "cmd", "-o", "x.rom", "info", "-qo", "y.rom", "--", "-o", NULL };
	struct cmd_parser p = CMD_PARSER(8, argv, test_options);

	(void)state;
	assert_int_equal(cmd_parse_options(&p), 'o');
	assert_string_equal(p.arg, "x.rom");
	assert_int_equal(cmd_parse_options(&p), 'o');
	assert_string_equal(p.arg, "y.rom");
	assert_int_equal(log_get_max_level(), LOG_WARNING);
	assert_int_equal(cmd_parse_options(&p), 0);
	/* "--" ends the options: "-o" after it is an operand */
	assert_int_equal(8 - optind, 2);
	assert_string_equal(argv[optind], "info");
	assert_string_equal(argv[optind + 1], "-o");
}

static void test_global_values(void **state)
{
	char *argv[] = { "cmd",
			 "--root",
			 "/tmp/a",
			 "--root=/tmp/b",
			 "--state-dir",
			 "/s",
			 "--connect=test:///default",
			 "--qemu",
			 "/bin/q",
			 "--dry-run",
			 "-vv",
			 NULL };
	struct cmd_parser p;

	(void)state;
	assert_int_equal(parse_all(argv, &p, test_options), 0);
	assert_string_equal(arg_root, "/tmp/b"); /* the last one wins */
	assert_string_equal(arg_state_dir, "/s");
	assert_string_equal(arg_connect, "test:///default");
	assert_string_equal(arg_qemu, "/bin/q");
	assert_true(arg_dry_run);
	assert_int_equal(log_get_max_level(), LOG_DEBUG);
	assert_int_equal(optind, 11);
}

static void test_help_stops(void **state)
{
	char *argv[] = { "cmd", "--force", "--help", "--bogus", NULL };
	char *argv2[] = { "cmd", "-h", NULL };
	struct cmd_parser p;
	_cleanup_free_ char *err = NULL;

	(void)state;
	p = (struct cmd_parser)CMD_PARSER(4, argv, test_options);
	capture_start();
	assert_int_equal(cmd_parse_options(&p), T_FORCE);
	assert_true(cmd_parse_options(&p) < 0);
	err = capture_end();
	assert_int_equal(p.status, EXIT_OK);
	assert_string_equal(help_asked, "cmd");
	assert_int_equal(help_calls, 1);
	assert_string_equal(err, ""); /* --bogus after --help is never looked at */
	assert_true(parse_all(argv2, &p, NULL) < 0);
	assert_int_equal(p.status, EXIT_OK);
	assert_int_equal(help_calls, 2);
}

static void test_unknown_long(void **state)
{
	(void)state;
	assert_usage_error(
	    (const char *const[]){ "cmd", "--jsn", NULL },
	    "gpurun: error: cmd: unrecognized option '--jsn'; did you mean '--json'?\n");
	assert_usage_error((const char *const[]){ "cmd", "x", "--froce", NULL },
			   "gpurun: error: cmd: unrecognized option '--froce'; did you mean "
			   "'--force'?\n");
	assert_usage_error((const char *const[]){ "cmd", "--timeuot=3", NULL },
			   "gpurun: error: cmd: unrecognized option '--timeuot'; did you mean "
			   "'--timeout'?\n");
	assert_usage_error((const char *const[]){ "cmd", "--bogus", NULL },
			   "gpurun: error: cmd: unrecognized option '--bogus' (see 'gpurun cmd "
			   "--help')\n");
	/* an option of another command is no option of this one */
	assert_usage_error((const char *const[]){ "cmd", "--managed", NULL },
			   "gpurun: error: cmd: unrecognized option '--managed' (see 'gpurun cmd "
			   "--help')\n");
}

static void test_ambiguous(void **state)
{
	(void)state;
	assert_usage_error(
	    (const char *const[]){ "cmd", "--d", NULL },
	    "gpurun: error: cmd: option '--d' is ambiguous; did you mean '--dry-run' "
	    "or '--device'?\n");
	/* an unambiguous abbreviation is the option */
	{
		char *argv[] = { "cmd", "--dev", "x", "--ti", "2", NULL };
		struct cmd_parser p = CMD_PARSER(5, argv, test_options);

		assert_int_equal(cmd_parse_options(&p), T_DEVICE);
		assert_string_equal(p.arg, "x");
		assert_int_equal(cmd_parse_options(&p), T_TIMEOUT);
		assert_string_equal(p.arg, "2");
	}
}

static void test_argument_errors(void **state)
{
	(void)state;
	assert_usage_error((const char *const[]){ "cmd", "--device", NULL },
			   "gpurun: error: cmd: option '--device' needs an argument (--device "
			   "BDF)\n");
	assert_usage_error((const char *const[]){ "cmd", "-o", NULL },
			   "gpurun: error: cmd: option '-o' needs an argument (-o DIR)\n");
	assert_usage_error((const char *const[]){ "cmd", "--output", NULL },
			   "gpurun: error: cmd: option '--output' needs an argument (--output "
			   "DIR)\n");
	assert_usage_error((const char *const[]){ "cmd", "--root", NULL },
			   "gpurun: error: cmd: option '--root' needs an argument (--root DIR)\n");
	assert_usage_error((const char *const[]){ "cmd", "--force=yes", NULL },
			   "gpurun: error: cmd: option '--force' takes no argument (got "
			   "'--force=yes')\n");
	assert_usage_error((const char *const[]){ "cmd", "--verbose=2", NULL },
			   "gpurun: error: cmd: option '--verbose' takes no argument (got "
			   "'--verbose=2')\n");
}

static void test_single_dash(void **state)
{
	(void)state;
	/* -json: -j is no option; --json was meant */
	assert_usage_error((const char *const[]){ "cmd", "-json", NULL },
			   "gpurun: error: cmd: invalid option '-j' in '-json'; did you mean "
			   "'--json'?\n");
	/* -verbose: -v is fine, -e is not */
	assert_usage_error((const char *const[]){ "cmd", "a", "-verbose", NULL },
			   "gpurun: error: cmd: invalid option '-e' in '-verbose'; did you mean "
			   "'--verbose'?\n");
	assert_usage_error((const char *const[]){ "cmd", "-x", NULL },
			   "gpurun: error: cmd: invalid option '-x' (see 'gpurun cmd --help')\n");
	assert_usage_error((const char *const[]){ "cmd", "-vx", NULL },
			   "gpurun: error: cmd: invalid option '-x' (see 'gpurun cmd --help')\n");
}

/* main.c's parser: the global options before the command name, no command in messages */
static void test_global_level(void **state)
{
	static const struct cmd_option main_options[] = {
		{ "version", 0, no_argument, ARG_VERSION, NULL, "the version" },
		{},
	};
	char *argv[] = { "gpurun", "-v", "ls", "--json", NULL };
	char *bad[] = { "gpurun", "--jsn", "ls", NULL };
	char *bad2[] = { "gpurun", "--nope", "ls", NULL };
	char *ver[] = { "gpurun", "--version", NULL };
	struct cmd_parser p = {
		.argc = 4, .argv = argv, .options = main_options, .in_order = true
	};
	_cleanup_free_ char *err = NULL;

	(void)state;
	assert_int_equal(cmd_parse_options(&p), 0);
	assert_int_equal(optind, 2); /* stopped at the command name */
	assert_false(arg_json);
	assert_int_equal(log_get_max_level(), LOG_INFO);

	p = (struct cmd_parser){
		.argc = 2, .argv = ver, .options = main_options, .in_order = true
	};
	assert_int_equal(cmd_parse_options(&p), ARG_VERSION);

	p = (struct cmd_parser){
		.argc = 3, .argv = bad, .options = main_options, .in_order = true
	};
	capture_start();
	assert_true(cmd_parse_options(&p) < 0);
	p = (struct cmd_parser){
		.argc = 3, .argv = bad2, .options = main_options, .in_order = true
	};
	assert_true(cmd_parse_options(&p) < 0);
	err = capture_end();
	assert_int_equal(p.status, EXIT_USAGE);
	assert_string_equal(err,
			    "gpurun: error: unrecognized option '--jsn'; did you mean '--json'?\n"
			    "gpurun: error: unrecognized option '--nope' (see 'gpurun "
			    "--help')\n");

	p = (struct cmd_parser){ .argc = 2,
				 .argv = (char *[]){ "gpurun", "--help", NULL },
				 .in_order = true };
	assert_true(cmd_parse_options(&p) < 0);
	assert_int_equal(p.status, EXIT_OK);
	assert_string_equal(help_asked, "(overview)");
}

/* A broken table is gpurun's bug: exit status 1 and "internal error", never a usage error. */
static void assert_table_bug(const struct cmd_option *table)
{
	char *argv[] = { "cmd", NULL };
	struct cmd_parser p;
	_cleanup_free_ char *err = NULL;

	capture_start();
	assert_true(parse_all(argv, &p, table) < 0);
	err = capture_end();
	assert_int_equal(p.status, EXIT_FAILURE_OP);
	assert_non_null(strstr(err, "gpurun: error: internal error: option '--"));
}

static void test_table_bugs(void **state)
{
	static struct cmd_option many[CMD_OPTIONS_MAX + 1];
	static char names[CMD_OPTIONS_MAX][8];

	(void)state;
	/* a global name with its own id */
	assert_table_bug(
	    (const struct cmd_option[]){ { "json", 0, no_argument, 0x150, NULL, "x" }, {} });
	/* CMD_OPTION_GLOBAL of no global option */
	assert_table_bug((const struct cmd_option[]){ CMD_OPTION_GLOBAL("jason", "x"), {} });
	/* a short option whose id is not its letter */
	assert_table_bug((const struct cmd_option[]){
	    { "output", 'o', required_argument, 0x150, "DIR", "x" }, {} });
	/* an id taken by a global option (-v) */
	assert_table_bug(
	    (const struct cmd_option[]){ { "vendor", 0, no_argument, 'v', NULL, "x" }, {} });
	/* two options, one id */
	assert_table_bug((const struct cmd_option[]){ { "a", 0, no_argument, 0x150, NULL, "x" },
						      { "b", 0, no_argument, 0x150, NULL, "x" },
						      {} });
	/* more than the parser holds */
	for (size_t i = 0; i < CMD_OPTIONS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "o%zu", i);
		many[i] =
		    (struct cmd_option){ names[i], 0, no_argument, 0x150 + (int)i, NULL, "x" };
	}
	assert_table_bug(many);
}

static void test_closest(void **state)
{
	static const char *const commands[] = { "run",	       "check", "ls",	"plan",	  "emit",
						"vbios",       "rom",	"bind", "unbind", "restore",
						"host-config", "help",	NULL };
	static const char *const options[] = { "json", "device", "dry-run", "force", NULL };

	(void)state;
	assert_string_equal(cmd_closest("chek", commands), "check");
	assert_string_equal(cmd_closest("chekc", commands), "check");
	assert_string_equal(cmd_closest("restroe", commands), "restore");  /* a swap is one edit */
	assert_string_equal(cmd_closest("host", commands), "host-config"); /* the only start */
	assert_string_equal(cmd_closest("jsn", options), "json");
	assert_string_equal(cmd_closest("jsno", options), "json");
	assert_string_equal(cmd_closest("dryrun", options), "dry-run");
	assert_null(cmd_closest("frobnicate", commands));
	assert_null(
	    cmd_closest("xz", commands));	/* two edits from "ls": too far for a short word */
	assert_null(cmd_closest("d", options)); /* too short to be the start of one */
	assert_null(cmd_closest("jsn", NULL));
	{
		char long_word[100];

		memset(long_word, 'a', sizeof(long_word) - 1);
		long_word[sizeof(long_word) - 1] = '\0';
		assert_null(cmd_closest(long_word, options));
	}
}

static void test_command_help(void **state)
{
	static const struct cmd_option opts[] = {
		{ "output", 'o', required_argument, 'o', "DIR",
		  "the directory to write to; this help is long enough that it has to be wrapped "
		  "onto a second line" },
		{ "a-very-long-option-name", 0, required_argument, 0x150, "VALUE", "long" },
		CMD_OPTION_GLOBAL("json", "the result as one JSON object"),
		CMD_OPTION_GLOBAL("verbose", "say more"),
		{},
	};
	static const struct cmd_example examples[] = {
		{ "demo one file", "gpurun demo x" },
		{ NULL, "gpurun demo --all" },
		{},
	};
	static const struct cmd_command c = {
		.name = "demo",
		.synopsis = "demo [OPTIONS] FILE\ndemo [OPTIONS] --all",
		.summary = "not shown when there is a description",
		.description = "Do the demo thing.\n\nA second paragraph.",
		.options = opts,
		.examples = examples,
	};
	_cleanup_free_ char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&out, &len);
	assert_non_null(f);
	cmd_command_help(&c, f);
	fclose(f);
	assert_string_equal(
	    out, "Usage: gpurun demo [OPTIONS] FILE\n"
		 "       gpurun demo [OPTIONS] --all\n"
		 "\n"
		 "Do the demo thing.\n"
		 "\n"
		 "A second paragraph.\n"
		 "\n"
		 "Options:\n"
		 "  -o, --output DIR            the directory to write to; this help is long\n"
		 "                              enough that it has to be wrapped onto a second\n"
		 "                              line\n"
		 "      --a-very-long-option-name VALUE\n"
		 "                              long\n"
		 "      --json                  the result as one JSON object\n"
		 "  -v, --verbose               say more\n"
		 "\n"
		 "Global options (also before the command name):\n"
		 "  -h, --help                  show this help and exit\n"
		 "  -q, --quiet                 only errors and warnings\n"
		 "      --root DIR              read and change the host tree under DIR, not /\n"
		 "      --state-dir DIR         journals and locks (default /run/gpurun)\n"
		 "      --connect URI           libvirt connection URI (overrides the profile)\n"
		 "      --qemu PATH             QEMU binary (default qemu-system-x86_64, or the\n"
		 "                              environment's GPURUN_QEMU)\n"
		 "      --dry-run               print each host change instead of making it\n"
		 "      --no-color              never colour the output (also NO_COLOR=1)\n"
		 "\n"
		 "Examples:\n"
		 "  # demo one file\n"
		 "  gpurun demo x\n"
		 "  gpurun demo --all\n");
}

/* Every global option is in the overview's table, with a line of help, and the help of a
 * command without options of its own lists them all under "Global options". */
static void test_common_table(void **state)
{
	static const char *const want[] = { "help",    "verbose", "quiet", "root",    "state-dir",
					    "connect", "qemu",	  "json",  "dry-run", "no-color" };
	static const struct cmd_command c = { .name = "bare", .synopsis = "bare" };
	_cleanup_free_ char *out = NULL;
	size_t len = 0, n = 0;
	FILE *f;

	(void)state;
	for (const struct cmd_option *o = cmd_common_options; o->name; o++, n++) {
		assert_true(n < ELEMENTSOF(want));
		assert_string_equal(o->name, want[n]);
		assert_true(o->help && *o->help);
		assert_true((o->has_arg == required_argument) == (o->arg_name != NULL));
	}
	assert_int_equal(n, ELEMENTSOF(want));
	f = open_memstream(&out, &len);
	assert_non_null(f);
	cmd_command_help(&c, f);
	fclose(f);
	assert_null(strstr(out, "Options:\n"));
	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		char line[32];

		snprintf(line, sizeof(line), "--%s ", want[i]);
		assert_non_null(strstr(out, line));
	}
	assert_null(strstr(out, "Examples:"));
}

static void test_log_error(void **state)
{
	_cleanup_(error_clear) struct error e = {};
	_cleanup_free_ char *err = NULL;
	int a, b, c, d;

	(void)state;
	error_set_line(&e, EINVAL, "w.profile", 7, "unknown key 'memroy'");
	capture_start();
	a = cmd_log_error(&e, -EINVAL, "Failed to load '%s'", "w.profile");
	b = cmd_log_error(NULL, -EBUSY, "Failed to bind %s", "0000:c4:00.0");
	error_clear(&e);
	c = cmd_log_error(&e, 0, NULL);
	error_set(&e, ENOENT, "no journal");
	error_set_device(&e, "0000:c4:00.0");
	d = cmd_log_error(&e, 0, "restore");
	assert_int_equal(cmd_usage_error("check", "unexpected argument '%s'", "x"), EXIT_USAGE);
	assert_int_equal(cmd_usage_error(NULL, "unknown command '%s'", "chek"), EXIT_USAGE);
	err = capture_end();
	assert_int_equal(a, EXIT_USAGE);
	assert_int_equal(b, EXIT_FAILURE_OP);
	assert_int_equal(c, EXIT_FAILURE_OP); /* printed an error: never EXIT_OK */
	assert_int_equal(d, EXIT_FAILURE_OP);
	assert_string_equal(err, "gpurun: error: Failed to load 'w.profile': w.profile:7: unknown "
				 "key 'memroy'\n"
				 "gpurun: error: Failed to bind 0000:c4:00.0: Device or resource "
				 "busy\n"
				 "gpurun: error: Input/output error\n"
				 "gpurun: error: restore: 0000:c4:00.0: no journal\n"
				 "gpurun: error: check: unexpected argument 'x'\n"
				 "gpurun: error: unknown command 'chek'\n");
	assert_int_equal(cmd_exit_status(0), EXIT_OK);
	assert_int_equal(cmd_exit_status(3), EXIT_OK);
	assert_int_equal(cmd_exit_status(-EINVAL), EXIT_USAGE);
	assert_int_equal(cmd_exit_status(-EIO), EXIT_FAILURE_OP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_options_and_operands, reset_globals),
		cmocka_unit_test_setup(test_short_options, reset_globals),
		cmocka_unit_test_setup(test_global_values, reset_globals),
		cmocka_unit_test_setup(test_help_stops, reset_globals),
		cmocka_unit_test_setup(test_unknown_long, reset_globals),
		cmocka_unit_test_setup(test_ambiguous, reset_globals),
		cmocka_unit_test_setup(test_argument_errors, reset_globals),
		cmocka_unit_test_setup(test_single_dash, reset_globals),
		cmocka_unit_test_setup(test_global_level, reset_globals),
		cmocka_unit_test_setup(test_table_bugs, reset_globals),
		cmocka_unit_test(test_closest),
		cmocka_unit_test(test_command_help),
		cmocka_unit_test(test_common_table),
		cmocka_unit_test_setup(test_log_error, reset_globals),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	reset_globals(NULL);
	return r;
}
