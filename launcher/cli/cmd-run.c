/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun run PROFILE: check, prepare the host through the journal, start the guest, wait,
 * revert — whatever happened in between. Also the pieces bind/unbind/restore share. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "core/plan.h"
#include "core/profile.h"
#include "host/holders.h"
#include "host/inspect.h"
#include "host/journal.h"
#include "host/paths.h"
#include "host/prepare.h"
#include "host/revert.h"
#include "host/romstage.h"
#include "host/runner.h"
#include "host/vfio.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strutil.h"

/* A guest that stops within this time of its start is explained when the logs name a cause. */
#define RUN_EXPLAIN_QUICK_MS 10000

/* FAIL diagnostics --force may override. Not group-viable: binding only part of an IOMMU group
 * cannot work, the kernel refuses to open a group while another member keeps its host driver. */
static const char *const forceable[] = { "iommu-group" };

/* Why --force does not override group-viable, and what does. */
#define GROUP_NOT_FORCEABLE                                                                        \
	"--force cannot override it: the kernel refuses to open an IOMMU group while another "     \
	"member keeps its host driver. Pass the whole group (list its other members in the "       \
	"profile), move the card to another slot, or isolate it in the firmware (an ACS override " \
	"patch is your own business)"

/* FAILs about the guest, not the devices: bind (no guest starts; a libvirt hook's domain has
 * its own disks) does not refuse on them. */
static const char *const guest_only[] = { "disk", "cdrom", "nvram" };

static bool is_guest_only(const char *id)
{
	for (size_t i = 0; i < ELEMENTSOF(guest_only); i++)
		if (streq(id, guest_only[i]))
			return true;
	return false;
}

static bool is_forceable(const char *id)
{
	for (size_t i = 0; i < ELEMENTSOF(forceable); i++)
		if (streq(id, forceable[i]))
			return true;
	return false;
}

int cmd_run_check_plan(const struct plan *p, bool force, bool devices_only)
{
	bool refuse = false;

	cmd_print_diags(&p->diags, DIAG_WARN);
	for (size_t i = 0; i < p->diags.n; i++) {
		const struct diag *d = &p->diags.items[i];

		if (d->status != DIAG_FAIL)
			continue;
		if (devices_only && is_guest_only(d->id)) {
			log_notice("Not refusing: %s (bind starts no guest)", d->message);
			continue;
		}
		if (force && is_forceable(d->id)) {
			log_warning("Overriding '%s' (--force): %s", d->id, d->message);
			continue;
		}
		if (streq(d->id, "group-viable"))
			log_error("Refusing: %s%s%s", d->message, force ? "; " : "",
				  force ? GROUP_NOT_FORCEABLE : "");
		else if (streq(d->id, "boot-vga"))
			log_error(
			    "Refusing: %s (override: --allow-boot-vga or allow-boot-vga = yes)",
			    d->message);
		else if (is_forceable(d->id))
			log_error("Refusing: %s (override: --force)", d->message);
		else
			log_error("Refusing: %s", d->message);
		refuse = true;
	}
	if (!p->resolved)
		refuse = true;
	return refuse ? -EPERM : 0;
}

void cmd_run_say(void *userdata, const char *line)
{
	bool dry = userdata != NULL;

	/* --json of bind: the changes go into its report, not to stdout */
	cmd_report_change(line);
	if (dry && !cmd_report_on)
		printf("%s\n", line);
	else if (!dry)
		log_notice("%s", line);
}

int cmd_run_parse_timeout(const char *s, unsigned *ret_ms)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(d) || d <= 0 || d > 3600)
		return log_error_errno(-EINVAL,
				       "Invalid --timeout '%s': seconds between 0 and 3600", s);
	*ret_ms = (unsigned)(d * 1000 + 0.5);
	if (*ret_ms == 0)
		*ret_ms = 1;
	return 0;
}

int cmd_run_create_journal(struct ctx *c, const char *vm, const char *release, struct journal **ret)
{
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *why = NULL;
	int r;

	r = journal_create(c, vm, ret, &err);
	if (r >= 0) {
		if ((*ret)->taken_over)
			log_notice("Took over the journal of VM '%s' in %s: it named no change (a "
				   "gpurun stopped before its first one).",
				   vm, c->state);
		return 0;
	}
	why = error_format(&err);
	if (r == -EBUSY)
		log_error("%s.", strna(why));
	else if (r == -EEXIST && release)
		/* bind leaves its journal on purpose: the devices are bound, not left behind */
		log_error("VM '%s' is already bound (its changes are in %s/%s/journal); release it "
			  "with `%s`.",
			  vm, c->state, vm, release);
	else if (r == -EEXIST)
		log_error(
		    "A previous run of VM '%s' left its journal in %s/%s; run `gpurun restore "
		    "%s` first.",
		    vm, c->state, vm, vm);
	else
		log_error("Failed to create the journal for VM '%s': %s", vm, strna(why));
	return r;
}

int cmd_run_revert(struct ctx *c, struct journal *j, unsigned timeout_ms)
{
	struct revert_report rep = {};
	int r;

	r = revert_journal(c, j, timeout_ms, &rep);
	if (r < 0)
		return log_error_errno(r, "Failed to revert VM '%s': %m", j->vm);
	if (rep.n_failed > 0) {
		/* revert is idempotent: a step the kernel refused once (EBUSY while a driver
		 * settles, an interrupted write) is tried once more before the journal is left
		 * for `gpurun restore` */
		for (char **s = rep.warnings; s && *s; s++)
			log_warning("%s", *s);
		log_warning("Revert of VM '%s': %u steps failed, replaying the journal once more.",
			    j->vm, rep.n_failed);
		revert_report_done(&rep);
		(void)usleep(200 * 1000);
		r = revert_journal(c, j, timeout_ms, &rep);
		if (r < 0)
			return log_error_errno(r, "Failed to revert VM '%s': %m", j->vm);
	}
	for (char **s = rep.notes; s && *s; s++)
		log_notice("%s", *s);
	for (char **s = rep.warnings; s && *s; s++)
		log_warning("%s", *s);
	for (size_t i = 0; i < rep.n_functions; i++) {
		const struct revert_function *f = &rep.functions[i];

		cmd_report_function(j->vm, f->bdf, f->final, f->ok);
		if (f->ok)
			log_notice("%s: %s (restored)", f->bdf, f->final ? f->final : "no driver");
		else
			log_error("%s: %s, expected %s", f->bdf, f->final ? f->final : "no driver",
				  f->want ? f->want : "no driver");
	}
	if (rep.n_failed > 0) {
		log_error(
		    "Revert of VM '%s' incomplete (%u failed steps); the journal stays in %s: "
		    "fix the cause and run `gpurun restore %s`.",
		    j->vm, rep.n_failed, c->state, j->vm);
		revert_report_done(&rep);
		return -EIO;
	}
	revert_report_done(&rep);
	journal_unlock_all(j);
	r = journal_remove(c, j->vm);
	if (r < 0)
		/* a journal left behind would refuse the next run: that is a failure to say */
		return log_error_errno(r,
				       "Host restored, but the journal of VM '%s' could not be "
				       "removed: %m. Nothing is left to undo: remove %s by hand.",
				       j->vm, strna(j->path));
	log_notice("Host restored: every function of VM '%s' is back on its driver.", j->vm);
	return 0;
}

int cmd_run_guard_signals(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, dfl = { .sa_handler = SIG_DFL };
	int r;

	if (sigaction(SIGPIPE, &ign, NULL) < 0)
		return log_error_errno(negative_errno(), "Failed to ignore SIGPIPE: %m");
	r = runner_block_signals(NULL);
	if (r < 0)
		return log_error_errno(r, "Failed to block signals: %m");
	/* a shell starts a background job (`gpurun bind ... &` in a script) with SIGINT and SIGQUIT
	 * ignored: blocked now, they are to revert like SIGTERM, not be dropped (SIGHUP stays as
	 * inherited: under nohup, a hangup is not the user's stop) */
	if (sigaction(SIGINT, &dfl, NULL) < 0 || sigaction(SIGQUIT, &dfl, NULL) < 0)
		return log_error_errno(negative_errno(), "Failed to reset SIGINT/SIGQUIT: %m");
	return 0;
}

void cmd_log_holders(struct ctx *c, const char *bdf)
{
	_cleanup_(holder_list_clear) struct holder_list l = {};
	_cleanup_free_ char *table = NULL;
	const char *dm;
	bool display = false;
	int r;

	r = holders_scan(c, bdf, &l);
	if (r < 0) {
		log_warning_errno(r, "Failed to find the processes that hold %s, ignoring: %m",
				  bdf);
		return;
	}
	if (l.n == 0)
		return;
	table = holders_format(&l);
	if (!table) {
		log_error_errno(-ENOMEM, "Out of memory");
		return;
	}
	log_error("%s is in use: its device nodes are held by", bdf);
	for (char *line = table, *next; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		log_notice("%s", line);
	}
	for (size_t i = 0; i < l.n; i++)
		display = display || l.items[i].display;
	dm = holders_display_manager(&l);
	if (dm)
		log_notice(
		    "The display manager %s uses the GPU: stop it first (`systemctl stop %s`), "
		    "or give the desktop another GPU.",
		    dm, dm);
	else if (display)
		log_notice("A display server uses the GPU: log out of that session (or stop the "
			   "display manager) first.");
	else
		log_notice("Close those programs (or stop them) and try again.");
}

int cmd_run_undo_prepare(struct ctx *c, struct journal *j, const char *what,
			 const struct error *err, unsigned timeout_ms)
{
	_cleanup_free_ char *why = error_format(err);
	int r;

	if (j->n_entries == 0) {
		/* journal first, then act: an empty journal means nothing was changed (a lock
		 * refused, an input could not be read, a signal came before the first step) */
		log_error("Refusing: %s", strna(why));
		journal_unlock_all(j);
		r = journal_remove(c, j->vm);
		if (r < 0)
			log_warning_errno(
			    r, "Failed to remove the journal of VM '%s', ignoring: %m", j->vm);
		return 0;
	}
	log_error("%s: %s", what, strna(why));
	/* a driver that does not let go of its device: say who keeps it busy, before the revert
	 * (which gives it back to that driver anyway) */
	if (err && err->errnum == ETIMEDOUT && err->device[0])
		cmd_log_holders(c, err->device);
	log_notice("Reverting");
	return cmd_run_revert(c, j, timeout_ms);
}

/* The runner's error, once, with its cause (the runner never prints). */
static int log_runner_error(const struct error *e, int r)
{
	_cleanup_free_ char *m = error_is_set(e) ? error_format(e) : NULL;

	log_error("%s", m ? m : strerror(-r));
	return r;
}

enum {
	ARG_ALLOW_BOOT_VGA = _ARG_COMMON_MAX,
	ARG_FORCE,
	ARG_LOG,
	ARG_TIMEOUT,
};

const struct cmd_option cmd_run_options[] = {
	{ "allow-boot-vga", 0, no_argument, ARG_ALLOW_BOOT_VGA, NULL,
	  "pass through the GPU the host booted on (as allow-boot-vga = yes in the profile); the "
	  "host console goes dark while the guest runs and comes back after" },
	{ "force", 0, no_argument, ARG_FORCE, NULL,
	  "go on although a passed function has no IOMMU group (never past an IOMMU group that "
	  "holds devices not passed: that cannot work)" },
	{ "log", 0, no_argument, ARG_LOG, NULL,
	  "write QEMU's output to STATE-DIR/VM/qemu.log instead of the terminal" },
	{ "timeout", 0, required_argument, ARG_TIMEOUT, "SEC",
	  "how long to wait for each function to reach vfio-pci and, on revert, its own driver "
	  "(0 to 3600, default 10)" },
	CMD_OPTION_GLOBAL("dry-run", "print each host change and the QEMU command line instead of "
				     "running anything"),
	{},
};

int cmd_run(int argc, char **argv)
{
	struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_run_options);
	struct cmd_planned c = {};
	_cleanup_(journal_freep) struct journal *j = NULL;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *why = NULL;
	_cleanup_(runner_freep) struct runner *guest = NULL;
	_cleanup_(error_clear) struct error guest_err = {};
	const struct runner_backend *backend;
	struct runner_result res = {};
	struct prepare_options po = { .timeout_ms = VFIO_DEFAULT_TIMEOUT_MS, .say = cmd_run_say };
	struct runner_options ro = { .say = cmd_run_say, .keep_log = true };
	struct cmd_explain_run ex = { .kmsg_fd = -1 };
	_cleanup_free_ char *how = NULL;
	bool allow_boot_vga = false, force = false, log_file = false;
	long long t_start = runner_now_ms(), t_end;
	int opt, r, ret = EXIT_FAILURE_OP;

	while ((opt = cmd_parse_options(&parser)) > 0)
		switch (opt) {
		case ARG_ALLOW_BOOT_VGA:
			allow_boot_vga = true;
			break;
		case ARG_FORCE:
			force = true;
			break;
		case ARG_LOG:
			log_file = true;
			break;
		case ARG_TIMEOUT:
			if (cmd_run_parse_timeout(parser.arg, &po.timeout_ms) < 0)
				return EXIT_USAGE;
			break;
		}
	if (opt < 0)
		return parser.status;
	if (optind + 1 != argc)
		return cmd_usage_error("run", "expected exactly one PROFILE argument");
	r = cmd_plan_load_with(argv[optind], allow_boot_vga, true, &c);
	if (r != EXIT_OK)
		return r;
	if (cmd_run_check_plan(c.plan, force || arg_force, false) < 0)
		goto out;

	/* Everything that can fail without touching the host comes first. */
	backend = runner_backend_get(c.profile->backend);
	ro.timeout_ms = po.timeout_ms;
	ro.log_file = log_file;
	r = runner_new(backend, &ro, &guest);
	if (r < 0) {
		log_error_errno(r, "Failed to set up the %s runner: %m",
				strna(profile_backend_to_string(c.profile->backend)));
		goto out;
	}
	r = backend->prepare(guest, c.ctx, c.plan, &guest_err);
	if (r < 0) {
		log_runner_error(&guest_err, r);
		goto out;
	}

	if (c.ctx->dry_run) {
		po.dry_run = true;
		po.userdata = &po; /* cmd_run_say prints to stdout */
		r = prepare_plan(c.ctx, c.plan, NULL, &po, &err);
		if (r < 0) {
			why = error_format(&err);
			log_error("%s", strna(why));
			goto out;
		}
		(void)backend->describe(guest, stdout);
		printf("then revert every step above, last first\n");
		ret = EXIT_OK;
		goto out;
	}

	if (cmd_run_guard_signals() < 0)
		goto out;
	po.check_signals = true;
	cmd_explain_run_begin(c.ctx, &ex);
	if (cmd_run_create_journal(c.ctx, c.plan->vm_name, NULL, &j) < 0)
		goto out;

	r = prepare_plan(c.ctx, c.plan, j, &po, &err);
	if (r < 0) {
		(void)cmd_run_undo_prepare(c.ctx, j, "Preparing the host failed", &err,
					   po.timeout_ms);
		goto out;
	}

	/* the guest holds the VM lock too: restore sees it alive after gpurun is gone */
	runner_set_keep_fd(guest, j->lock_fd);
	if (c.profile->backend == PROFILE_BACKEND_LIBVIRT) {
		r = journal_record_libvirt(j, ctx_libvirt_uri(c.ctx, c.profile->libvirt_uri),
					   c.plan->vm_name);
		if (r < 0) {
			log_error_errno(r, "Failed to record the libvirt domain of VM '%s': %m",
					c.plan->vm_name);
			log_notice("Reverting");
			(void)cmd_run_revert(c.ctx, j, po.timeout_ms);
			goto out;
		}
	}
	{
		_cleanup_free_ char *lv = c.profile->backend == PROFILE_BACKEND_LIBVIRT
					      ? runlog_libvirt_log(c.ctx, c.plan->vm_name)
					      : NULL;

		cmd_explain_run_record(c.ctx, &ex, c.plan->vm_name, argv[optind], backend->name,
				       lv ? lv : runner_log_path(guest));
	}
	r = backend->start(guest, &res, &guest_err);
	if (res.pid > 0 && journal_record_qemu(j, res.pid) < 0)
		log_warning("Failed to record QEMU's pid in %s/%s/lock, ignoring: restore will "
			    "still see the lock QEMU holds",
			    c.ctx->state, c.plan->vm_name);
	if (res.exec_ms)
		log_info("Time from start to %s: %lld ms", backend->start_event,
			 res.exec_ms - t_start);
	if (r >= 0)
		r = backend->wait(guest, &res, &guest_err);
	if (r < 0)
		log_runner_error(&guest_err, r);
	if (!res.exit_ms)
		res.exit_ms = runner_now_ms();

	guest = runner_free(guest); /* nothing of the guest's may outlive it into the revert */
	log_notice("Reverting the host");
	if (cmd_run_revert(c.ctx, j, po.timeout_ms) < 0)
		r = -EIO;
	t_end = runner_now_ms();
	log_info("Time from guest exit to end of revert: %lld ms", t_end - res.exit_ms);
	ret = r < 0 ? EXIT_FAILURE_OP : EXIT_OK;

	/* A guest that failed gets its explanation last, where the user looks (the host is back
	 * already). One that stopped cleanly but within seconds only when the logs name a cause. */
	if (res.forwarded)
		;
	else if (!res.started && c.profile->backend == PROFILE_BACKEND_LIBVIRT)
		how = strdup("the domain did not start");
	else if (res.started && res.signaled)
		how = strdup_printf("QEMU was killed by signal %d (%s)", res.status,
				    strsignal(res.status));
	else if (res.started && res.status != 0)
		how = strdup_printf("QEMU exited with status %d", res.status);
	else if (res.started && res.exit_ms - res.exec_ms < RUN_EXPLAIN_QUICK_MS)
		how = strdup_printf("the guest stopped %.1f s after it started",
				    (double)(res.exit_ms - res.exec_ms) / 1000);
	if (how)
		cmd_explain_run_end(c.ctx, &ex, c.host, c.plan, how,
				    res.started && !res.signaled && res.status == 0);
out:
	cmd_explain_run_done(&ex);
	cmd_planned_done(&c);
	return ret;
}
