/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line, the same way for every command: one option parser (the global options
 * merged into the command's own table), the help made from the same tables so it cannot drift
 * from what is parsed, usage errors that suggest the option or command meant, and the one
 * printer for errors that come back from the engine. */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strutil.h"

char *arg_root;
char *arg_state_dir;
char *arg_connect;
char *arg_qemu;
bool arg_json;
bool arg_dry_run;
bool arg_force;

const struct cmd_option cmd_common_options[] = {
	{ "help", 'h', no_argument, 'h', NULL, "show this help and exit" },
	{ "verbose", 'v', no_argument, 'v', NULL, "more output; twice for debug messages" },
	{ "quiet", 'q', no_argument, 'q', NULL, "only errors and warnings" },
	{ "root", 0, required_argument, ARG_ROOT, "DIR",
	  "read and change the host tree under DIR, not /" },
	{ "state-dir", 0, required_argument, ARG_STATE_DIR, "DIR",
	  "journals and locks (default /run/gpurun)" },
	{ "connect", 0, required_argument, ARG_CONNECT, "URI",
	  "libvirt connection URI (overrides the profile)" },
	{ "qemu", 0, required_argument, ARG_QEMU, "PATH",
	  "QEMU binary (default qemu-system-x86_64, or the environment's GPURUN_QEMU)" },
	{ "json", 0, no_argument, ARG_JSON, NULL,
	  "machine-readable output where a command reports" },
	{ "dry-run", 0, no_argument, ARG_DRY_RUN, NULL,
	  "print each host change instead of making it" },
	{ "no-color", 0, no_argument, ARG_NO_COLOR, NULL,
	  "never colour the output (also NO_COLOR=1)" },
	{},
};

/* Help lines are at most HELP_WIDTH - 1 columns; option help starts in HELP_COLUMN. */
#define HELP_WIDTH 80
#define HELP_COLUMN 30

static const struct cmd_option *option_by_name(const struct cmd_option *t, const char *name)
{
	for (; t && t->name; t++)
		if (streq(t->name, name))
			return t;
	return NULL;
}

static bool is_common(const struct cmd_option *o)
{
	for (const struct cmd_option *c = cmd_common_options; c->name; c++)
		if (c == o)
			return true;
	return false;
}

/* The global options other than --help: they set the arg_* globals and the log level. */
static int common_option(int id, const char *arg)
{
	enum log_level l = log_get_max_level();
	char **target = NULL, *copy;

	switch (id) {
	case 'v':
		if (l < LOG_DEBUG)
			log_set_max_level(l < LOG_INFO ? LOG_INFO : LOG_DEBUG);
		return 0;
	case 'q':
		log_set_max_level(LOG_WARNING);
		return 0;
	case ARG_ROOT:
		target = &arg_root;
		break;
	case ARG_STATE_DIR:
		target = &arg_state_dir;
		break;
	case ARG_CONNECT:
		target = &arg_connect;
		break;
	case ARG_QEMU:
		target = &arg_qemu;
		break;
	case ARG_JSON:
		arg_json = true;
		return 0;
	case ARG_DRY_RUN:
		arg_dry_run = true;
		return 0;
	case ARG_NO_COLOR:
		setenv("NO_COLOR", "1", 1);
		log_setup();
		return 0;
	default:
		return -EINVAL;
	}
	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	free(*target);
	*target = copy;
	return 0;
}

/* A broken option table is a bug in gpurun, not a usage error: say so, exit status 1. */
static int table_bug(struct cmd_parser *p, const char *name, const char *why)
{
	log_error("internal error: option '--%s' of '%s': %s", name, strempty(p->command), why);
	p->status = EXIT_FAILURE_OP;
	return -EINVAL;
}

static int parser_add(struct cmd_parser *p, size_t *n, size_t *ns, const struct cmd_option *o)
{
	if (*n >= CMD_OPTIONS_MAX)
		return table_bug(p, o->name, "more than CMD_OPTIONS_MAX options");
	if (o->id <= 0 || (o->short_name && o->id != o->short_name))
		return table_bug(p, o->name,
				 "the id must be > 0, and the letter of a short option");
	for (size_t i = 0; i < *n; i++)
		if (p->entries[i]->id == o->id || streq(p->entries[i]->name, o->name))
			return table_bug(p, o->name, "its name or id is taken");
	p->entries[*n] = o;
	p->longopts[*n] = (struct option){ o->name, o->has_arg, NULL, o->id };
	(*n)++;
	if (o->short_name) {
		p->shortopts[(*ns)++] = o->short_name;
		if (o->has_arg == required_argument)
			p->shortopts[(*ns)++] = ':';
	}
	return 0;
}

static int parser_start(struct cmd_parser *p)
{
	size_t n = 0, ns = 0;
	int r;

	/* "+": stop at the first operand; ":": report a missing argument as ':' */
	if (p->in_order)
		p->shortopts[ns++] = '+';
	p->shortopts[ns++] = ':';
	for (const struct cmd_option *o = cmd_common_options; o->name; o++) {
		r = parser_add(p, &n, &ns, o);
		if (r < 0)
			return r;
	}
	for (const struct cmd_option *o = p->options; o && o->name; o++) {
		bool global = option_by_name(cmd_common_options, o->name);

		if (o->id == 0 && !global)
			return table_bug(p, o->name, "CMD_OPTION_GLOBAL names no global option");
		if (o->id == 0)
			continue;
		r = parser_add(p, &n, &ns, o);
		if (r < 0)
			return r;
	}
	p->longopts[n] = (struct option){};
	p->shortopts[ns] = '\0';
	p->started = true;
	optind = 0; /* glibc: a full reinitialisation, for each command's own argv */
	return 0;
}

static const struct cmd_option *parser_entry(const struct cmd_parser *p, int id)
{
	for (size_t i = 0; i < CMD_OPTIONS_MAX && p->longopts[i].name; i++)
		if (p->entries[i]->id == id)
			return p->entries[i];
	return NULL;
}

/* The long names of the parser's options, NULL-terminated. */
static void parser_names(const struct cmd_parser *p, const char **ret)
{
	size_t n = 0;

	for (; n < CMD_OPTIONS_MAX && p->longopts[n].name; n++)
		ret[n] = p->longopts[n].name;
	ret[n] = NULL;
}

static const char *help_hint(const struct cmd_parser *p, char *buf, size_t size)
{
	snprintf(buf, size, " (see 'gpurun %s%s--help')", strempty(p->command),
		 p->command ? " " : "");
	return buf;
}

static void unknown_long(struct cmd_parser *p, const char *elem)
{
	const char *names[CMD_OPTIONS_MAX + 1], *matches[CMD_OPTIONS_MAX + 1], *best;
	size_t len = strcspn(elem + 2, "="), n_matches = 0;
	char word[64], hint[64];

	if (len >= sizeof(word))
		len = sizeof(word) - 1;
	memcpy(word, elem + 2, len);
	word[len] = '\0';
	parser_names(p, names);
	/* getopt_long takes an unambiguous abbreviation: this one had several completions */
	for (size_t i = 0; *word && names[i]; i++)
		if (strncmp(names[i], word, len) == 0)
			matches[n_matches++] = names[i];
	if (n_matches > 1) {
		char list[512] = "";
		size_t at = 0;

		for (size_t i = 0; i < n_matches && at < sizeof(list); i++)
			at += (size_t)snprintf(list + at, sizeof(list) - at, "%s'--%s'",
					       i == 0		    ? ""
					       : i + 1 == n_matches ? " or "
								    : ", ",
					       matches[i]);
		cmd_usage_error(p->command, "option '--%s' is ambiguous; did you mean %s?", word,
				list);
		return;
	}
	best = cmd_closest(word, names);
	if (best)
		cmd_usage_error(p->command, "unrecognized option '--%s'; did you mean '--%s'?",
				word, best);
	else
		cmd_usage_error(p->command, "unrecognized option '--%s'%s", word,
				help_hint(p, hint, sizeof(hint)));
}

/* -x that is no option. `-json` (one dash) is a common slip for --json: suggest that. */
static void unknown_short(struct cmd_parser *p, int c)
{
	const char *names[CMD_OPTIONS_MAX + 1], *elem = NULL, *best = NULL;
	char hint[64];

	/* mid-cluster, getopt has not moved past the element yet; at its end it has */
	if (optind < p->argc && p->argv[optind][0] == '-' && p->argv[optind][1] != '-' &&
	    strchr(p->argv[optind], c))
		elem = p->argv[optind];
	else if (optind > 0 && optind <= p->argc && p->argv[optind - 1][0] == '-')
		elem = p->argv[optind - 1];
	parser_names(p, names);
	if (elem && elem[1] != '-' && strlen(elem) > 2)
		best = cmd_closest(elem + 1, names);
	if (best)
		cmd_usage_error(p->command, "invalid option '-%c' in '%s'; did you mean '--%s'?", c,
				elem, best);
	else
		cmd_usage_error(p->command, "invalid option '-%c'%s", c,
				help_hint(p, hint, sizeof(hint)));
}

static int bad_option(struct cmd_parser *p, int c)
{
	const char *elem = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : "";
	const struct cmd_option *o = optopt ? parser_entry(p, optopt) : NULL;
	bool typed_long = startswith(elem, "--");

	p->status = EXIT_USAGE;
	if (c == ':' && o) {
		char shown[64];

		if (typed_long || !o->short_name)
			snprintf(shown, sizeof(shown), "--%s", o->name);
		else
			snprintf(shown, sizeof(shown), "-%c", o->short_name);
		cmd_usage_error(p->command, "option '%s' needs an argument (%s %s)", shown, shown,
				o->arg_name ? o->arg_name : "VALUE");
		return -EINVAL;
	}
	if (o && typed_long) {
		cmd_usage_error(p->command, "option '--%s' takes no argument (got '%s')", o->name,
				elem);
		return -EINVAL;
	}
	if (optopt)
		unknown_short(p, optopt);
	else if (typed_long)
		unknown_long(p, elem);
	else
		cmd_usage_error(p->command, "invalid option '%s'", elem);
	return -EINVAL;
}

int cmd_parse_options(struct cmd_parser *p)
{
	for (;;) {
		const struct cmd_option *o;
		int c, r;

		if (!p->started) {
			r = parser_start(p);
			if (r < 0)
				return r;
		}
		p->arg = NULL;
		opterr = 0; /* every message comes from here, with the gpurun: prefix */
		c = getopt_long(p->argc, p->argv, p->shortopts, p->longopts, NULL);
		if (c == -1)
			return 0;
		if (c == '?' || c == ':')
			return bad_option(p, c);
		o = parser_entry(p, c);
		if (!o) {
			optopt = c;
			return bad_option(p, '?');
		}
		if (o->has_arg != no_argument)
			p->arg = optarg;
		if (!is_common(o))
			return c;
		if (c == 'h') {
			cmd_print_help(p->command);
			p->status = EXIT_OK;
			return -ECANCELED;
		}
		/* `--root "$UNSET"` must not mean the real host, nor `--state-dir ""` journals in / */
		if (o->has_arg != no_argument && optarg && !*optarg) {
			cmd_usage_error(p->command, "option '--%s' needs a non-empty %s (got '')",
					o->name, o->arg_name ? o->arg_name : "argument");
			p->status = EXIT_USAGE;
			return -EINVAL;
		}
		r = common_option(c, optarg);
		if (r < 0) {
			log_error_errno(r, "Failed to handle option '--%s': %m", o->name);
			p->status = EXIT_FAILURE_OP;
			return r;
		}
	}
}

const char *cmd_closest(const char *word, const char *const *cands)
{
	size_t n = 0;

	_cleanup_free_ char *lower = NULL;
	const char *best;

	while (cands && cands[n])
		n++;
	best = str_closest(word, cands, n);
	if (best || !word)
		return best;
	/* `gpurun LS`, `--JSON`: every name is lower case */
	lower = strdup(word);
	if (!lower)
		return NULL;
	for (char *c = lower; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return streq(lower, word) ? NULL : str_closest(lower, cands, n);
}

static int vlog_usage(const char *command, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	log_error("%s%s%s", strempty(command), command ? ": " : "", msg ? msg : fmt);
	return EXIT_USAGE;
}

int cmd_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vlog_usage(command, fmt, ap);
	va_end(ap);
	return r;
}

int cmd_exit_status(int r)
{
	if (r >= 0)
		return EXIT_OK;
	return r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE_OP;
}

int cmd_log_error(const struct error *e, int r, const char *fmt, ...)
{
	_cleanup_free_ char *context = NULL, *detail = NULL;
	va_list ap;

	if (r >= 0)
		r = error_is_set(e) ? -e->errnum : -EIO;
	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&context, fmt, ap) < 0)
			context = NULL;
		va_end(ap);
	}
	if (error_is_set(e))
		detail = error_format(e);
	log_error("%s%s%s", context ? context : strempty(fmt), fmt ? ": " : "",
		  detail ? detail : strerror(-r));
	return r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE_OP;
}

int cmd_device_error(const char *what, const char *spec, const struct error *e, int r)
{
	const char *msg = error_is_set(e) && e->message ? e->message : strerror(-r), *reason = msg;
	_cleanup_free_ char *quoted = NULL;

	if (r == -ENOMEM)
		return log_error_errno(r, "Out of memory"), EXIT_FAILURE_OP;
	if (r == -EINVAL) {
		/* the parser quotes @spec first: "'x': function must be 0-7", "'x' is neither" */
		if (asprintf(&quoted, "'%s'", strempty(spec)) < 0)
			return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
		if (startswith(msg, quoted)) {
			reason = msg + strlen(quoted);
			reason += startswith(reason, ": ") ? 2 : startswith(reason, " is ") ? 4 : 0;
		}
		log_error("Invalid %s '%s': %s", what, strempty(spec), reason);
	} else if (r == -ENODEV)
		log_error("No PCI device matches %s '%s': %s; see `gpurun ls`", what,
			  strempty(spec), msg);
	else
		log_error("%s '%s': %s", what, strempty(spec), msg);
	return EXIT_USAGE;
}

/* Print @text from column @col, wrapped before HELP_WIDTH; each further line (also after a
 * '\n' in @text) starts with @cont. Ends the line. */
static void print_wrapped(FILE *f, const char *text, size_t col, const char *cont)
{
	bool line_start = true;

	for (const char *s = text; *s;) {
		size_t len = strcspn(s, " \n");

		if (!line_start && col + 1 + len >= HELP_WIDTH) {
			fprintf(f, "\n%s", cont);
			col = strlen(cont);
		} else if (!line_start) {
			fputc(' ', f);
			col++;
		}
		fwrite(s, 1, len, f);
		col += len;
		line_start = false;
		s += len;
		if (*s == '\n') {
			fprintf(f, "\n%s", cont);
			col = strlen(cont);
			line_start = true;
			s++;
		}
		while (*s == ' ')
			s++;
	}
	fputc('\n', f);
}

void cmd_options_help(const struct cmd_option *options, const struct cmd_option *skip, FILE *f)
{
	char indent[HELP_COLUMN + 1];

	memset(indent, ' ', HELP_COLUMN);
	indent[HELP_COLUMN] = '\0';
	for (const struct cmd_option *o = options; o && o->name; o++) {
		/* CMD_OPTION_GLOBAL: the letter and argument are the global option's */
		const struct cmd_option *g =
		    o->id == 0 ? option_by_name(cmd_common_options, o->name) : NULL;
		const struct cmd_option *shape = g ? g : o;
		char left[96];
		int n;

		if (skip && option_by_name(skip, o->name))
			continue;
		if (shape->short_name)
			n = snprintf(left, sizeof(left), "  -%c, --%s", shape->short_name, o->name);
		else
			n = snprintf(left, sizeof(left), "      --%s", o->name);
		if (shape->arg_name && n > 0 && (size_t)n < sizeof(left))
			n += snprintf(left + n, sizeof(left) - (size_t)n, " %s", shape->arg_name);
		if (n < 0)
			continue;
		fputs(left, f);
		if ((size_t)n + 2 > HELP_COLUMN)
			fprintf(f, "\n%s", indent);
		else
			fprintf(f, "%*s", HELP_COLUMN - n, "");
		print_wrapped(f, strempty(o->help), HELP_COLUMN, indent);
	}
}

static bool has_options(const struct cmd_option *t)
{
	return t && t->name;
}

void cmd_command_help(const struct cmd_command *c, FILE *f)
{
	const char *s = c->synopsis;
	bool first = true;

	/* one "gpurun ..." line per line of the synopsis */
	while (s && *s) {
		size_t len = strcspn(s, "\n");

		fprintf(f, "%s gpurun %.*s\n", first ? "Usage:" : "      ", (int)len, s);
		first = false;
		s += len;
		if (*s == '\n')
			s++;
	}
	fputc('\n', f);
	print_wrapped(f, c->description ? c->description : strempty(c->summary), 0, "");
	if (has_options(c->options)) {
		fputs("\nOptions:\n", f);
		cmd_options_help(c->options, NULL, f);
	}
	if (c->help_extra)
		c->help_extra(f);
	fputs("\nGlobal options (also before the command name):\n", f);
	cmd_options_help(cmd_common_options, c->options, f);
	if (c->examples && c->examples[0].command) {
		fputs("\nExamples:\n", f);
		for (const struct cmd_example *e = c->examples; e->command; e++) {
			if (e->what) {
				fputs("  # ", f);
				print_wrapped(f, e->what, 4, "  # ");
			}
			fprintf(f, "  %s\n", e->command);
		}
	}
}
