/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun explain [VM | --log FILE...]: the cause and fix of a failed start, from what QEMU and
 * the kernel said (core/explain.c's signature table), and the same report at the end of a
 * `gpurun run` whose guest failed. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "core/explain.h"
#include "core/plan.h"
#include "core/profile.h"
#include "host/inspect.h"
#include "host/paths.h"
#include "host/profile-load.h"
#include "host/runlog.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/strv.h"

/* The most of one log or of the kernel's messages that is read. */
#define EXPLAIN_READ_MAX (4 * 1024 * 1024)

/* What was read, for the report's first line and --json. */
struct source {
	char *name; /* "QEMU log", "kernel", the --log FILE */
	char *path; /* NULL for the kernel */
	size_t lines;
	char *problem; /* why it could not be read, or NULL */
};

struct report {
	struct source *sources;
	size_t n_sources;
};

static void report_done(struct report *r)
{
	for (size_t i = 0; i < r->n_sources; i++) {
		free(r->sources[i].name);
		free(r->sources[i].path);
		free(r->sources[i].problem);
	}
	free(r->sources);
	*r = (struct report){};
}

static size_t count_lines(const char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			n++;
	return n + (len > 0 && buf[len - 1] != '\n');
}

static int add_source(struct report *r, const char *name, const char *path, size_t lines,
		      const char *problem)
{
	struct source *n = realloc(r->sources, (r->n_sources + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	r->sources = n;
	n = &r->sources[r->n_sources++];
	*n = (struct source){ .name = strdup(name),
			      .path = path ? strdup(path) : NULL,
			      .lines = lines,
			      .problem = problem ? strdup(problem) : NULL };
	if (!n->name || (path && !n->path) || (problem && !n->problem))
		return -ENOMEM;
	return 0;
}

/* Feed @buf as source @name (evidence names "@where:LINE", or "@where" unnumbered). */
static int feed(struct explain *e, struct report *rep, const char *name, const char *path,
		const char *where, bool numbered, const char *buf, size_t len)
{
	int r = explain_feed(e, where, numbered, buf, len);

	if (r < 0)
		return r;
	return add_source(rep, name, path, count_lines(buf, len), NULL);
}

static void print_evidence(const struct explain_finding *f, const char *label, FILE *out)
{
	for (size_t j = 0; j < f->n_evidence; j++)
		fprintf(out, "  %-9s %s: %s\n", label, f->evidence[j].where, f->evidence[j].text);
	if (f->n_matches > f->n_evidence)
		fprintf(out, "  %-9s (%u more matching line%s)\n", "",
			f->n_matches - (unsigned)f->n_evidence,
			f->n_matches - f->n_evidence == 1 ? "" : "s");
}

static void print_text(const struct explain *e, const struct report *rep, FILE *out)
{
	size_t n = 0;

	fputs("Read:", out);
	for (size_t i = 0; i < rep->n_sources; i++) {
		const struct source *s = &rep->sources[i];

		fprintf(out, "%s %s", i ? ";" : "", s->name);
		if (s->path)
			fprintf(out, " %s", s->path);
		if (s->problem)
			fprintf(out, " (not read: %s)", s->problem);
		else
			fprintf(out, " (%zu line%s)", s->lines, s->lines == 1 ? "" : "s");
	}
	fputs(rep->n_sources ? "\n" : " nothing\n", out);

	for (size_t i = 0; i < e->n_findings; i++) {
		const struct explain_finding *f = &e->findings[i];

		if (f->sig->benign)
			continue;
		fprintf(out, "\nCause %zu: %s%s%s\n", ++n, f->sig->id, f->device[0] ? " on " : "",
			f->device);
		fprintf(out, "  %-9s %s\n", "what:", f->sig->meaning);
		print_evidence(f, "evidence:", out);
		fprintf(out, "  %-9s %s\n", "fix:", f->fix);
		fprintf(out, "  %-9s %s\n", "source:", f->sig->source);
	}
	if (n == 0) {
		fprintf(out,
			"\nNo known cause; here is what to collect for a report (none of gpurun's "
			"%zu signatures matches these messages):\n",
			explain_table_size);
		for (const char *const *c = explain_collect; *c; c++)
			fprintf(out, "  - %s\n", *c);
	}
	for (size_t i = 0; i < e->n_findings; i++) {
		const struct explain_finding *f = &e->findings[i];

		if (!f->sig->benign)
			continue;
		fprintf(out, "\nHarmless: %s: %s\n", f->sig->id, f->sig->meaning);
		print_evidence(f, "seen:", out);
	}
}

static void json_finding(const struct explain_finding *f, FILE *out)
{
	fputs("{", out);
	json_key(out, "id");
	json_string(out, f->sig->id);
	fputs(",", out);
	json_key(out, "meaning");
	json_string(out, f->sig->meaning);
	fputs(",", out);
	json_key(out, "fix");
	json_string(out, f->fix);
	fputs(",", out);
	json_key(out, "source");
	json_string(out, f->sig->source);
	fputs(",", out);
	json_key(out, "device");
	json_string(out, f->device[0] ? f->device : NULL);
	fputs(",", out);
	json_key(out, "matches");
	fprintf(out, "%u,", f->n_matches);
	json_key(out, "evidence");
	fputs("[", out);
	for (size_t j = 0; j < f->n_evidence; j++) {
		fputs(j ? ",{" : "{", out);
		json_key(out, "where");
		json_string(out, f->evidence[j].where);
		fputs(",", out);
		json_key(out, "line");
		json_string(out, f->evidence[j].text);
		fputs("}", out);
	}
	fputs("]}", out);
}

static void print_json(const struct explain *e, const struct report *rep, const char *vm, FILE *out)
{
	bool first;

	fputs("{", out);
	json_key(out, "vm");
	json_string(out, vm);
	fputs(",", out);
	json_key(out, "read");
	fputs("[", out);
	for (size_t i = 0; i < rep->n_sources; i++) {
		fputs(i ? ",{" : "{", out);
		json_key(out, "source");
		json_string(out, rep->sources[i].name);
		fputs(",", out);
		json_key(out, "path");
		json_string(out, rep->sources[i].path);
		fputs(",", out);
		json_key(out, "lines");
		fprintf(out, "%zu,", rep->sources[i].lines);
		json_key(out, "problem");
		json_string(out, rep->sources[i].problem);
		fputs("}", out);
	}
	fputs("],", out);
	for (int benign = 0; benign <= 1; benign++) {
		json_key(out, benign ? "harmless" : "causes");
		fputs("[", out);
		first = true;
		for (size_t i = 0; i < e->n_findings; i++) {
			if (e->findings[i].sig->benign != (bool)benign)
				continue;
			if (!first)
				fputs(",", out);
			first = false;
			json_finding(&e->findings[i], out);
		}
		fputs("],", out);
	}
	json_key(out, "known_cause");
	fputs(explain_n_causes(e) ? "true," : "false,", out);
	json_key(out, "collect");
	fputs("[", out);
	if (explain_n_causes(e) == 0)
		for (const char *const *c = explain_collect; *c; c++) {
			if (c != explain_collect)
				fputs(",", out);
			json_string(out, *c);
		}
	fputs("]}\n", out);
}

/* The kernel's messages from @fd (records after @min_seq / @min_usec) into @e. */
static int feed_kmsg(struct explain *e, struct report *rep, int fd, unsigned long long min_seq,
		     unsigned long long min_usec, unsigned long long *ret_first_seq)
{
	_cleanup_free_ char *raw = NULL, *text = NULL;
	size_t rlen, tlen;
	int r;

	r = runlog_kmsg_read(fd, EXPLAIN_READ_MAX, &raw, &rlen);
	if (r < 0)
		return add_source(rep, "kernel messages", NULL, 0, strerror(-r));
	r = explain_kmsg_parse(raw, rlen, min_seq, min_usec, &text, &tlen, ret_first_seq);
	if (r < 0)
		return r;
	return feed(e, rep, "kernel messages since the run started", NULL, "kernel", false, text,
		    tlen);
}

static int kmsg_problem(struct report *rep, int r)
{
	return add_source(rep, "kernel messages", NULL, 0,
			  r == -EPERM || r == -EACCES
			      ? "reading them needs root (or paste `dmesg` with --log)"
			      : strerror(-r));
}

/* The run's log (QEMU's, or libvirt's for the domain) from where the run started. */
static int feed_run_log(struct ctx *c, struct explain *e, struct report *rep,
			const struct runlog *rl)
{
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *buf = NULL, *why = NULL;
	const char *base;
	bool in_state;
	size_t len, sl = strlen(c->state);
	int r;

	if (!rl->log)
		return 0;
	base = strrchr(rl->log, '/');
	base = base ? base + 1 : rl->log;
	in_state = strncmp(rl->log, c->state, sl) == 0 && rl->log[sl] == '/';
	r = runlog_read_log(c, rl->log, in_state, rl->log_offset, EXPLAIN_READ_MAX, &buf, &len,
			    &err);
	if (r < 0) {
		why = error_format(&err);
		return add_source(rep, "QEMU log", rl->log, 0, why ? why : strerror(-r));
	}
	return feed(e, rep, "QEMU log", rl->log, base, true, buf, len);
}

/* A guest on a remote node: its QEMU log and kernel messages are there; say where, read
 * nothing of this machine's. */
static int node_sources(struct report *rep, const char *node, const char *vm)
{
	_cleanup_free_ char *where = strdup_printf(
	    "on the node %s: libvirt keeps it there (/var/log/libvirt/qemu/%s.log); paste it with "
	    "--log",
	    node, strna(vm));
	_cleanup_free_ char *kwhere =
	    strdup_printf("on the node %s: `journalctl -k` there; paste them with --log", node);

	if (!where || !kwhere)
		return -ENOMEM;
	if (add_source(rep, "QEMU log", NULL, 0, where) < 0 ||
	    add_source(rep, "kernel messages", NULL, 0, kwhere) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- the end of a failed `gpurun run` ---- */

void cmd_explain_run_begin(struct ctx *c, struct cmd_explain_run *x)
{
	*x = (struct cmd_explain_run){ .kmsg_fd = -1 };
	x->rec.start_usec = runlog_now_usec();
	/* a guest on a remote node: this machine's kernel says nothing about it */
	if (!c->remote_uri && runlog_kmsg_open(c, true, &x->kmsg_fd) < 0)
		x->kmsg_fd = -1;
}

void cmd_explain_run_record(struct ctx *c, struct cmd_explain_run *x, const char *vm,
			    const char *profile, const char *backend, const char *log)
{
	_cleanup_(error_clear) struct error err = {};
	char *abs = profile ? realpath(profile, NULL) : NULL;
	int r;

	if (c->remote_uri) {
		/* QEMU's log and the kernel's messages are on the node, not here */
		x->rec.node = strdup(c->remote_uri);
		log = NULL;
	}
	x->rec.vm = strdup(vm);
	x->rec.profile = abs ? abs : (profile ? strdup(profile) : NULL);
	x->rec.backend = strdup(backend);
	x->rec.boot_id = c->remote_uri ? NULL : runlog_boot_id(c);
	x->rec.log = log ? strdup(log) : NULL;
	/* --log appends, libvirt's log is libvirt's: this run's part starts at today's end */
	x->rec.log_offset = runlog_file_size(log);
	r = runlog_write(c, &x->rec, &err);
	if (r < 0) {
		_cleanup_free_ char *why = error_format(&err);

		log_debug("Not recording the run for `gpurun explain`: %s", strna(why));
		return;
	}
	x->recorded = true;
}

/* After a guest that failed: its explanation, on stderr. */
void cmd_explain_run_end(struct ctx *c, struct cmd_explain_run *x, const struct host *h,
			 const struct plan *p, const char *how, bool cause_only)
{
	_cleanup_(explain_freep) struct explain *e = NULL;
	_cleanup_(report_done) struct report rep = {};
	unsigned long long first = UINT64_MAX;
	int r;

	r = explain_new(&e, NULL);
	if (r < 0)
		return;
	/* the log's offset was taken when the record was written, before QEMU started */
	if (c->remote_uri)
		r = node_sources(&rep, c->remote_uri, x->rec.vm);
	else
		r = feed_run_log(c, e, &rep, &x->rec);
	if (r >= 0 && x->kmsg_fd >= 0)
		r = feed_kmsg(e, &rep, x->kmsg_fd, 0, 0, &first);
	if (r >= 0 && x->kmsg_fd < 0 && !c->remote_uri)
		r = add_source(&rep, "kernel messages", NULL, 0, "not readable");
	if (r >= 0)
		r = explain_finish(e, h, p);
	if (r < 0)
		return;
	if (first != UINT64_MAX && x->recorded) {
		/* `gpurun explain VM` later reads exactly these kernel records again */
		x->rec.has_kmsg_seq = true;
		x->rec.kmsg_seq = first;
		(void)runlog_write(c, &x->rec, NULL);
	}
	if (cause_only && explain_n_causes(e) == 0)
		return;
	fprintf(stderr, "\ngpurun explain: %s; what QEMU and the kernel said:\n", how);
	print_text(e, &rep, stderr);
	if (x->recorded)
		fprintf(stderr, "\n(again later: gpurun explain %s)\n", x->rec.vm);
}

void cmd_explain_run_done(struct cmd_explain_run *x)
{
	if (x->kmsg_fd >= 0)
		close(x->kmsg_fd);
	x->kmsg_fd = -1;
	runlog_done(&x->rec);
}

/* ---- gpurun explain ---- */

enum {
	ARG_LOG = _ARG_COMMON_MAX,
};

const struct cmd_option cmd_explain_options[] = {
	{ "log", 0, required_argument, ARG_LOG, "FILE",
	  "explain this log instead of a run's: QEMU's output, dmesg or journalctl lines, a "
	  "guest's error (repeatable; - reads stdin)" },
	CMD_OPTION_GLOBAL("json", "the causes, their evidence and fixes as JSON"),
	{},
};

/* The host snapshot and the plan of the run's profile, for the fixes; quietly nothing when
 * they cannot be had (the profile changed or went away). */
static void load_context(struct ctx *c, const char *profile_path, struct host **ret_host,
			 struct profile **ret_profile, struct plan **ret_plan)
{
	struct plan_paths paths = {};

	if (host_inspect(c, ret_host) < 0) {
		*ret_host = NULL;
		return;
	}
	if (!profile_path || profile_load(profile_path, ret_profile, NULL) < 0) {
		*ret_profile = NULL;
		return;
	}
	if (plan_paths_from_ctx(c, &paths) < 0 ||
	    plan_build(*ret_profile, *ret_host, &paths, ret_plan) < 0)
		*ret_plan = NULL;
	plan_paths_done(&paths);
}

/* The one VM with a run record when none was named. */
static int only_recorded_vm(struct ctx *c, char **ret)
{
	_cleanup_strv_free_ char **with = NULL;
	int r;

	r = runlog_list(c, &with);
	if (r < 0)
		return log_error_errno(r, "Failed to list the VMs in %s: %m", c->state);
	if (strv_length(with) == 1) {
		*ret = strdup(with[0]);
		return *ret ? 0 : log_error_errno(-ENOMEM, "Out of memory");
	}
	if (strv_length(with) == 0)
		return cmd_usage_error("explain",
				       "no run is recorded in %s; name the VM or give "
				       "the log with --log FILE",
				       c->state),
		       -ENOENT;
	{
		_cleanup_free_ char *list = strv_join(with, ", ");

		return cmd_usage_error("explain", "runs of several VMs are recorded (%s): name one",
				       strna(list)),
		       -EINVAL;
	}
}

/* stdin, or a pipe named on the command line (`--log <(journalctl -k)`) */
static int read_stream(FILE *f, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = malloc(max + 1);
	size_t n = 0, k;

	if (!buf)
		return -ENOMEM;
	while (n < max && (k = fread(buf + n, 1, max - n, f)) > 0)
		n += k;
	if (ferror(f))
		return -EIO;
	/* more than @max: refused as read_full_file() refuses a file that large, rather than
	 * explained from its first part while the cause is usually in its last lines */
	if (n == max && fgetc(f) != EOF)
		return -EFBIG;
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = n;
	return 0;
}

/* what to do with a log over EXPLAIN_READ_MAX: its end holds the failure */
#define TOO_LARGE                                                                                  \
	"explain reads at most 4 MiB; give it the end of the log, where the failure is: "          \
	"`tail -n 20000 FILE | gpurun explain --log -`"

static int explain_logs(struct explain *e, struct report *rep, char **logs)
{
	for (char **l = logs; *l; l++) {
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		int r;

		if (streq(*l, "-")) {
			r = read_stream(stdin, EXPLAIN_READ_MAX, &buf, &len);
			if (r == -EFBIG)
				return log_error("Failed to read stdin: File too large (%s)",
						 TOO_LARGE),
				       r;
			if (r < 0)
				return log_error_errno(r, "Failed to read stdin: %m");
			r = feed(e, rep, "stdin", NULL, "stdin", true, buf, len);
		} else {
			struct stat st;

			/* a pipe by name is read once, like stdin (opening it twice would lose its
			 * writer); anything else as a regular file only */
			if (stat(*l, &st) == 0 && S_ISFIFO(st.st_mode)) {
				_cleanup_fclose_ FILE *f = fopen(*l, "re");

				r = f ? read_stream(f, EXPLAIN_READ_MAX, &buf, &len) : -errno;
				if (r == -EFBIG)
					return log_error("Failed to read '%s': File too large (%s)",
							 *l, TOO_LARGE),
					       r;
				if (r < 0)
					return log_error_errno(r, "Failed to read '%s': %m", *l);
			} else
				r = read_full_file(*l, EXPLAIN_READ_MAX, &buf, &len);
			if (r == -EFBIG)
				return log_error("Failed to read '%s': File too large (%s)", *l,
						 TOO_LARGE),
				       r;
			if (r < 0)
				return log_error("Failed to read '%s': %s", *l,
						 read_full_file_strerror(r)),
				       r;
			r = feed(e, rep, "log", *l, *l, true, buf, len);
		}
		if (r < 0)
			return log_error_errno(r, "Out of memory");
	}
	return 0;
}

static int explain_vm(struct ctx *c, struct explain *e, struct report *rep, const char *vm,
		      struct runlog *rl)
{
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *boot = NULL;
	int r, fd = -1;

	r = runlog_read(c, vm, rl, &err);
	if (r == -ENOENT) {
		log_error("No run of VM '%s' is recorded in %s (`gpurun run` keeps one); give the "
			  "log with --log FILE",
			  vm, c->state);
		return r;
	}
	if (r < 0)
		return cmd_log_error(&err, r, "Failed to read the run record of VM '%s'", vm), r;
	if (rl->node) {
		/* the guest ran on another machine: nothing of this one's is its */
		if (node_sources(rep, rl->node, vm) < 0)
			return log_error_errno(-ENOMEM, "Out of memory");
		return 0;
	}
	r = feed_run_log(c, e, rep, rl);
	if (r < 0)
		return log_error_errno(r, "Out of memory");

	boot = runlog_boot_id(c);
	if (rl->boot_id && boot && !streq(rl->boot_id, boot))
		r = add_source(rep, "kernel messages", NULL, 0,
			       "the host was rebooted since the run; its messages are gone");
	else {
		r = runlog_kmsg_open(c, false, &fd);
		if (r < 0)
			r = kmsg_problem(rep, r);
		else {
			r = feed_kmsg(e, rep, fd, rl->has_kmsg_seq ? rl->kmsg_seq : 0,
				      rl->has_kmsg_seq ? 0 : rl->start_usec, NULL);
			close(fd);
		}
	}
	if (r < 0)
		return log_error_errno(r, "Out of memory");
	return 0;
}

int cmd_explain(int argc, char **argv)
{
	struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_explain_options);
	_cleanup_strv_free_ char **logs = NULL;
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(explain_freep) struct explain *e = NULL;
	_cleanup_(report_done) struct report rep = {};
	_cleanup_(error_clear) struct error err = {};
	_cleanup_(host_freep) struct host *h = NULL;
	_cleanup_free_ char *vm = NULL;
	struct profile *profile = NULL;
	struct plan *plan = NULL;
	struct runlog rl = {};
	int opt, r, ret = EXIT_FAILURE_OP;

	while ((opt = cmd_parse_options(&parser)) > 0)
		if (opt == ARG_LOG && strv_extend(&logs, parser.arg) < 0)
			return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
	if (opt < 0)
		return parser.status;
	if (argc - optind > 1)
		return cmd_usage_error("explain", "expected at most one VM, got '%s' too",
				       argv[optind + 1]);
	if (logs && optind < argc)
		return cmd_usage_error("explain", "a VM and --log exclude each other");
	if (cmd_make_ctx(&c) < 0)
		return EXIT_USAGE;
	r = explain_new(&e, &err);
	if (r < 0)
		return cmd_log_error(&err, r, "Failed to set up the signatures");

	if (logs) {
		if (explain_logs(e, &rep, logs) < 0)
			return EXIT_FAILURE_OP;
	} else {
		if (optind < argc)
			vm = strdup(argv[optind]);
		else if ((r = only_recorded_vm(c, &vm)) < 0)
			return r == -ENOENT || r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE_OP;
		if (!vm)
			return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
		if (explain_vm(c, e, &rep, vm, &rl) < 0)
			goto out;
		if (!rl.node) /* this machine's devices are not the node's */
			load_context(c, rl.profile, &h, &profile, &plan);
	}
	r = explain_finish(e, h, plan);
	if (r < 0) {
		log_error_errno(r, "Out of memory");
		goto out;
	}
	if (arg_json) {
		print_json(e, &rep, vm, stdout);
		cmd_json_printed = true;
	} else
		print_text(e, &rep, stdout);
	ret = EXIT_OK;
out:
	plan_free(plan);
	profile_free(profile);
	runlog_done(&rl);
	return ret;
}
