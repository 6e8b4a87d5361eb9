/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun run PROFILE: check, prepare the host through the journal, start the guest, wait,
 * revert — whatever happened in between. Also the pieces bind/unbind/restore share. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "cli/cmd.h"
#include "core/emit.h"
#include "core/plan.h"
#include "core/profile.h"
#include "host/hostfs.h"
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
#include "util/strv.h"

/* FAIL diagnostics --force may override: the user knows what else sits in the group. */
static const char *const forceable[] = { "group-viable", "iommu-group" };

static bool is_forceable(const char *id)
{
	for (size_t i = 0; i < ELEMENTSOF(forceable); i++)
		if (streq(id, forceable[i]))
			return true;
	return false;
}

int cmd_run_check_plan(const struct plan *p, bool force)
{
	bool refuse = false;

	cmd_print_diags(&p->diags, DIAG_WARN);
	for (size_t i = 0; i < p->diags.n; i++) {
		const struct diag *d = &p->diags.items[i];

		if (d->status != DIAG_FAIL)
			continue;
		if (force && is_forceable(d->id)) {
			log_warning("Overriding '%s' (--force): %s", d->id, d->message);
			continue;
		}
		if (streq(d->id, "boot-vga"))
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

	if (dry)
		printf("%s\n", line);
	else
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

int cmd_run_create_journal(struct ctx *c, const char *vm, struct journal **ret)
{
	_cleanup_(journal_freep) struct journal *old = NULL;
	int r;

	r = journal_create(c, vm, ret);
	if (r != -EEXIST) {
		if (r < 0)
			return log_error_errno(
			    r, "Failed to create the journal for VM '%s' in %s: %m", vm, c->state);
		return 0;
	}
	if (journal_load(c, vm, &old, NULL) >= 0 && old->pid > 0 && kill(old->pid, 0) == 0)
		log_error("VM '%s' is already run by gpurun (pid %d).", vm, (int)old->pid);
	else
		log_error(
		    "A previous run of VM '%s' left its journal in %s/%s; run `gpurun restore "
		    "%s` first.",
		    vm, c->state, vm, vm);
	return -EEXIST;
}

int cmd_run_revert(struct ctx *c, struct journal *j, unsigned timeout_ms)
{
	struct revert_report rep = {};
	int r;

	r = revert_journal(c, j, timeout_ms, &rep);
	if (r < 0)
		return log_error_errno(r, "Failed to revert VM '%s': %m", j->vm);
	for (char **s = rep.notes; s && *s; s++)
		log_notice("%s", *s);
	for (char **s = rep.warnings; s && *s; s++)
		log_warning("%s", *s);
	for (size_t i = 0; i < rep.n_functions; i++) {
		const struct revert_function *f = &rep.functions[i];

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
		log_warning_errno(r, "Failed to remove the journal of VM '%s', ignoring: %m",
				  j->vm);
	log_notice("Host restored: every function of VM '%s' is back on its driver.", j->vm);
	return 0;
}

/* Plan with --allow-boot-vga applied. */
int cmd_run_plan(const char *profile_path, bool allow_boot_vga, struct cmd_planned *ret)
{
	struct cmd_planned c = {};
	struct plan_paths paths = {};
	int r;

	r = cmd_plan_load(profile_path, &c);
	if (r != EXIT_OK)
		return r;
	if (allow_boot_vga && !c.profile->allow_boot_vga) {
		c.profile->allow_boot_vga = true;
		c.plan = plan_free(c.plan);
		r = plan_paths_from_ctx(c.ctx, &paths);
		if (r >= 0)
			r = plan_build(c.profile, c.host, &paths, &c.plan);
		plan_paths_done(&paths);
		if (r < 0) {
			log_error_errno(r, "Failed to plan '%s': %m", profile_path);
			cmd_planned_done(&c);
			return EXIT_FAILURE_OP;
		}
	}
	*ret = c;
	return EXIT_OK;
}

static int start_guest(struct cmd_planned *c, char *const *argv, const char *xml, bool log_file,
		       struct runner_result *res)
{
	_cleanup_free_ char *log_path = NULL, *error = NULL;
	int r;

	if (xml) {
		const char *uri = ctx_libvirt_uri(c->ctx, c->profile->libvirt_uri);

		log_notice("Starting domain '%s' on %s", c->plan->vm_name, uri);
		r = runner_libvirt(uri, xml, res, &error);
		if (r < 0) {
			if (error)
				log_error("%s", error);
			else
				log_error_errno(r, "Failed to start the domain: %m");
		}
		return r;
	}
	if (log_file) {
		log_path = path_join(c->ctx->state, c->plan->vm_name, "qemu.log");
		if (!log_path)
			return log_error_errno(-ENOMEM, "Out of memory");
		log_notice("QEMU output goes to %s", log_path);
	}
	log_notice("Starting %s", argv[0]);
	r = runner_qemu(argv, log_path, res);
	if (r < 0)
		return log_error_errno(r, "Failed to start %s: %m", argv[0]);
	if (res->exec_error)
		return log_error_errno(res->exec_error, "Failed to execute %s: %m", argv[0]);
	return 0;
}

/* swtpm for `tpm = yes`: its state persists in plan->tpm_dir; QEMU connects to the socket. */
static int start_swtpm(struct cmd_planned *c, unsigned timeout_ms, pid_t *ret_pid)
{
	_cleanup_free_ char *state = NULL, *ctrl = NULL;
	char *argv[] = { (char *)"swtpm",
			 (char *)"socket",
			 (char *)"--tpm2",
			 (char *)"--tpmstate",
			 NULL,
			 (char *)"--ctrl",
			 NULL,
			 NULL };
	long long deadline;
	int r;

	r = hostfs_mkdir_p(c->plan->tpm_dir, 0700);
	if (r < 0)
		return log_error_errno(r, "Failed to create %s: %m", c->plan->tpm_dir);
	if (asprintf(&state, "dir=%s", c->plan->tpm_dir) < 0 ||
	    asprintf(&ctrl, "type=unixio,path=%s", c->plan->tpm_socket) < 0)
		return log_error_errno(-ENOMEM, "Out of memory");
	argv[4] = state;
	argv[6] = ctrl;
	(void)unlink(c->plan->tpm_socket);
	r = runner_spawn(argv, NULL, ret_pid);
	if (r < 0)
		return log_error_errno(r, "Failed to start swtpm (needed for tpm = yes): %m");
	deadline = runner_now_ms() + timeout_ms;
	while (!hostfs_exists(c->plan->tpm_socket)) {
		struct timespec ts = { 0, 5 * 1000000L };

		if (runner_now_ms() >= deadline) {
			(void)runner_stop(*ret_pid, 1000);
			return log_error_errno(-ETIMEDOUT, "swtpm did not create %s: %m",
					       c->plan->tpm_socket);
		}
		nanosleep(&ts, NULL);
	}
	log_notice("swtpm listening on %s", c->plan->tpm_socket);
	return 0;
}

static int report_guest(const struct runner_result *res, bool libvirt)
{
	if (!res->started)
		return -EIO;
	if (res->forwarded)
		log_notice("Received %s, %s the guest", strsignal(res->forwarded),
			   libvirt ? "destroyed" : "passed it to");
	if (libvirt) {
		log_notice("Domain stopped");
		return 0;
	}
	if (res->signaled) {
		log_error("QEMU was killed by signal %d (%s)", res->status, strsignal(res->status));
		return -EIO;
	}
	if (res->status != 0) {
		log_error("QEMU exited with status %d", res->status);
		return -EIO;
	}
	log_notice("QEMU exited with status 0");
	return 0;
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
	  "go on although the GPU's IOMMU group holds other devices that are not passed: you know "
	  "what else sits in the group" },
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
	_cleanup_strv_free_ char **qemu_argv = NULL;
	_cleanup_free_ char *xml = NULL, *tdir = NULL, *why = NULL, *txml = NULL;
	size_t tlen = 0;
	_cleanup_(error_clear) struct error err = {};
	struct runner_result res = {};
	struct prepare_options po = { .timeout_ms = VFIO_DEFAULT_TIMEOUT_MS, .say = cmd_run_say };
	bool allow_boot_vga = false, force = false, log_file = false, libvirt;
	long long t_start = runner_now_ms(), t_end;
	int opt, r, ret = EXIT_FAILURE_OP;
	pid_t swtpm = 0;

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
	r = cmd_run_plan(argv[optind], allow_boot_vga, &c);
	if (r != EXIT_OK)
		return r;
	if (cmd_run_check_plan(c.plan, force || arg_force) < 0)
		goto out;

	/* Everything that can fail without touching the host comes first. */
	libvirt = c.profile->backend == PROFILE_BACKEND_LIBVIRT;
	if (libvirt) {
		tdir = paths_templates_dir();
		r = tdir ? paths_load_template(tdir, c.profile->template, &txml, &tlen, NULL)
			 : -ENOMEM;
		if (r >= 0)
			r = emit_libvirt_xml_from_buffer(c.plan, txml, tlen, false, &xml);
	} else
		r = emit_qemu_argv(c.plan, ctx_qemu_binary(c.ctx), &qemu_argv);
	if (r < 0) {
		log_error_errno(r, "Failed to build the %s for VM '%s': %m",
				libvirt ? "domain XML" : "QEMU command line", c.plan->vm_name);
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
		if (!libvirt && c.profile->tpm && c.plan->tpm_socket)
			printf("start swtpm socket --tpm2 --tpmstate dir=%s --ctrl "
			       "type=unixio,path=%s\n",
			       c.plan->tpm_dir, c.plan->tpm_socket);
		if (libvirt)
			printf("start transient domain '%s' on %s\n", c.plan->vm_name,
			       ctx_libvirt_uri(c.ctx, c.profile->libvirt_uri));
		else {
			printf("exec:\n");
			emit_qemu_print(qemu_argv, stdout);
		}
		printf("then revert every step above, last first\n");
		ret = EXIT_OK;
		goto out;
	}

	r = runner_block_signals(NULL);
	if (r < 0) {
		log_error_errno(r, "Failed to block signals: %m");
		goto out;
	}
	po.check_signals = true;
	if (cmd_run_create_journal(c.ctx, c.plan->vm_name, &j) < 0)
		goto out;

	r = prepare_plan(c.ctx, c.plan, j, &po, &err);
	if (r < 0)
		why = error_format(&err);
	if (r == -EBUSY && j->n_entries == 0) {
		/* a lock refused: nothing was changed (a kernel -EBUSY after a change is reverted) */
		log_error("Refusing: %s", strna(why));
		(void)journal_remove(c.ctx, j->vm);
		goto out;
	}
	if (r < 0) {
		log_error("Preparing the host failed: %s", strna(why));
		log_notice("Reverting");
		(void)cmd_run_revert(c.ctx, j, po.timeout_ms);
		goto out;
	}

	if (!libvirt && c.profile->tpm && c.plan->tpm_socket) {
		r = start_swtpm(&c, po.timeout_ms, &swtpm);
		if (r < 0) {
			log_notice("Reverting the host");
			(void)cmd_run_revert(c.ctx, j, po.timeout_ms);
			goto out;
		}
	}
	r = start_guest(&c, qemu_argv, xml, log_file, &res);
	if (res.exec_ms)
		log_info("Time from start to %s: %lld ms",
			 libvirt ? "domain creation" : "QEMU exec", res.exec_ms - t_start);
	if (r >= 0)
		r = report_guest(&res, libvirt);
	if (!res.exit_ms)
		res.exit_ms = runner_now_ms();

	if (swtpm > 0)
		(void)runner_stop(swtpm, 2000);
	log_notice("Reverting the host");
	if (cmd_run_revert(c.ctx, j, po.timeout_ms) < 0)
		r = -EIO;
	t_end = runner_now_ms();
	log_info("Time from guest exit to end of revert: %lld ms", t_end - res.exit_ms);
	ret = r < 0 ? EXIT_FAILURE_OP : EXIT_OK;
out:
	cmd_planned_done(&c);
	return ret;
}
