/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun bind PROFILE|BDF... / gpurun unbind PROFILE|BDF...: prepare or release devices
 * without a guest (libvirt hooks, Proxmox hookscripts). The journal is the same as run's and
 * stays in the state dir until unbind (or restore) replays it. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "core/plan.h"
#include "core/profile.h"
#include "host/inspect.h"
#include "host/journal.h"
#include "host/prepare.h"
#include "host/runner.h"
#include "host/vfio.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strv.h"

/* Journal name for a list of addresses: "bind-0000:c4:00.0" after the first one. */
static char *bdf_vm_name(char *const *bdfs)
{
	char *s;

	if (asprintf(&s, "bind-%s", bdfs[0]) < 0)
		return NULL;
	return s;
}

/* Each argument (an address in any form, or a vendor:device id naming one function) as the
 * canonical address of a function on this host; a function named twice counts once. */
static int resolve_bdfs(const struct host *h, int n, char **args, char ***ret)
{
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
	int r;

	if (!l)
		return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
	for (int i = 0; i < n; i++) {
		_cleanup_(error_clear) struct error err = {};
		const struct pci_func *f;

		r = host_resolve_device(h, args[i], &f, &err);
		if (r < 0)
			return cmd_device_error("device", args[i], &err, r);
		if (strv_contains(l, f->address))
			continue;
		r = strv_extend(&l, f->address);
		if (r < 0)
			return log_error_errno(r, "Out of memory"), EXIT_FAILURE_OP;
	}
	*ret = TAKE_PTR(l);
	return EXIT_OK;
}

/* A word as the shell reads it back: as is when plain, else in single quotes. */
static int shell_word(FILE *f, const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "_./:=@%+,-") == strlen(w))
		return fputs(w, f);
	fputc('\'', f);
	for (; *w; w++)
		if (*w == '\'')
			fputs("'\\''", f);
		else
			fputc(*w, f);
	return fputc('\'', f);
}

/* The exact command that gives back what this bind binds: the same root and state dir, the
 * same profile (as given) or addresses. malloc'd; NULL on ENOMEM. */
static char *unbind_command(char *const *args)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs("gpurun", f);
	if (arg_root) {
		fputs(" --root ", f);
		shell_word(f, arg_root);
	}
	if (arg_state_dir) {
		fputs(" --state-dir ", f);
		shell_word(f, arg_state_dir);
	}
	fputs(" unbind", f);
	for (char *const *a = args; *a; a++) {
		fputc(' ', f);
		shell_word(f, *a);
	}
	if (fclose(f) != 0)
		return mfree(buf);
	return buf;
}

/* The refusals run applies through the plan, for a bare list of addresses. */
static int check_bdfs(const struct host *h, char *const *bdfs, bool allow_boot_vga, bool force)
{
	int refuse = 0;

	for (char *const *b = bdfs; *b; b++) {
		const struct pci_func *f = host_find_func(h, *b);
		const struct iommu_group *g;

		if (!f) {
			log_error("Refusing: %s is not a PCI function on this host", *b);
			refuse = -ENOENT;
			continue;
		}
		if (f->iommu_group < 0 || !(g = host_find_group(h, f->iommu_group))) {
			log_error("Refusing: %s has no IOMMU group (the IOMMU is off); enable it "
				  "(gpurun host-config)",
				  *b);
			refuse = -EPERM;
			continue;
		}
		if ((f->boot_vga == 1 || f->console) && !allow_boot_vga) {
			log_error("Refusing: %s is the %s (override: --allow-boot-vga)", *b,
				  f->console ? "GPU holding the host console" : "boot VGA device");
			refuse = -EPERM;
		}
		for (size_t i = 0; i < g->n_members; i++) {
			const struct pci_func *m = &h->funcs[g->members[i]];

			/* a member already on vfio-pci does not stop the kernel from opening the
			 * group (the lock and in-use checks speak for it) */
			if (m->is_bridge || strv_contains(bdfs, m->address) ||
			    streq_ptr(m->driver, VFIO_DRIVER))
				continue;
			/* no --force: binding part of a group cannot work */
			log_error(
			    "Refusing: IOMMU group %d of %s also holds %s (%s); pass it too%s",
			    g->id, *b, m->address, m->driver ? m->driver : "no driver",
			    force ? " (--force cannot override it: the kernel refuses to open "
				    "an IOMMU group while another member keeps its host driver)"
				  : "");
			refuse = -EPERM;
		}
	}
	return refuse;
}

/* A device name (0000:c4:00.0, c4:00.0, 1002:1586), or something meant as one ("c4:00.8": a
 * ':' in a word that is not a file) gets the device parser's explanation; the rest is a
 * profile. */
static bool looks_like_profile(const char *s)
{
	struct pci_device_spec ds;

	if (pci_device_spec_parse(s, &ds, NULL) >= 0)
		return false;
	return !strchr(s, ':') || strchr(s, '/') || access(s, F_OK) == 0;
}

/* A bind of a VM whose journal holds changes nobody is alive for: the devices are bound (by an
 * earlier bind, or by a run that was killed); say so and how to release them. -EEXIST then. */
static int refuse_bound(struct ctx *c, const char *vm, const char *release)
{
	_cleanup_free_ char *text = NULL;
	enum journal_probe state;
	size_t n = 0;

	if (c->dry_run || journal_probe(c, vm, &state, &text, &n, NULL) < 0 ||
	    state != JOURNAL_PROBE_LEFT)
		return 0; /* anything else is the plan's or journal_create()'s to say */
	log_error("VM '%s' is already bound (its changes are in %s/%s/journal); release it with "
		  "`%s`.",
		  vm, c->state, vm, release);
	return -EEXIST;
}

static int do_bind(struct ctx *c, const struct plan *p, char *const *bdfs, const char *vm,
		   const char *release, struct prepare_options *po)
{
	_cleanup_(journal_freep) struct journal *j = NULL;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *why = NULL;
	int r;

	if (c->dry_run) {
		po->dry_run = true;
		po->userdata = po;
		r = p ? prepare_plan(c, p, NULL, po, &err)
		      : prepare_addresses(c, bdfs, NULL, po, &err);
		if (r < 0) {
			why = error_format(&err);
			return log_error_errno(r, "%s", strna(why));
		}
		return 0;
	}
	r = cmd_run_guard_signals();
	if (r < 0)
		return r;
	po->check_signals = true;
	r = cmd_run_create_journal(c, vm, release, &j);
	if (r < 0)
		return r;
	r = p ? prepare_plan(c, p, j, po, &err) : prepare_addresses(c, bdfs, j, po, &err);
	if (r < 0) {
		(void)cmd_run_undo_prepare(c, j, "Binding failed", &err, po->timeout_ms);
		return r;
	}
	log_notice("Bound for '%s'. To give the devices back: %s", vm, release);
	return 0;
}

/* unbind BDF...: every journal holding one of them is replayed whole, and so is the journal a
 * `bind` of them makes (bind-BDF), which holds only module entries when that bind was killed
 * before its first function; a function no journal knows is released to whichever host driver
 * claims it. Success only when the host is back: no journal of them left, each function on a
 * driver other than vfio-pci. */
static int do_unbind_bdfs(struct ctx *c, char *const *bdfs, unsigned timeout_ms, bool force)
{
	_cleanup_strv_free_ char **vms = NULL, **done = NULL;
	int r, ret = 0;

	r = journal_list(c, &vms);
	if (r < 0)
		return log_error_errno(r, "Failed to list journals in %s: %m", c->state);
	for (char **v = vms; v && *v; v++) {
		_cleanup_(journal_freep) struct journal *j = NULL;
		_cleanup_(error_clear) struct error err = {};
		bool match = false;

		for (char *const *b = bdfs; *b && !match; b++)
			match = startswith(*v, "bind-") && streq(*v + strlen("bind-"), *b);
		r = journal_load(c, *v, &j, &err);
		if (r < 0 && !match)
			continue; /* someone else's journal that does not load: restore names it */
		for (size_t i = 0; j && i < j->n_entries; i++) {
			const struct journal_entry *e = &j->entries[i];

			if (e->kind != JOURNAL_BIND || !strv_contains(bdfs, e->target))
				continue;
			match = true;
			if (strv_extend(&done, e->target) < 0)
				return log_error_errno(-ENOMEM, "Out of memory");
		}
		if (match && cmd_restore_vm(c, *v, timeout_ms, force) < 0)
			ret = -EIO;
	}
	for (char *const *b = bdfs; *b; b++) {
		_cleanup_(error_clear) struct error err = {};
		_cleanup_free_ char *final = NULL;

		if (strv_contains(done, *b))
			continue;
		/* a run that is preparing it holds its lock before its journal names it */
		r = journal_device_in_use(c, *b, &err);
		if (r < 0) {
			_cleanup_free_ char *why = error_format(&err);

			log_error("Not releasing %s: %s", *b, strna(why));
			ret = r;
			error_clear(&err);
			continue;
		}
		if (c->dry_run) {
			_cleanup_free_ char *now = NULL;

			/* what vfio_release() would do, from the driver the function has now */
			(void)vfio_read_state(c, *b, &now, NULL);
			if (!now || streq(now, VFIO_DRIVER))
				cmd_report_say("release %s: clear driver_override, %sdrivers_probe",
					       *b, now ? "unbind from " VFIO_DRIVER ", " : "");
			else
				cmd_report_say("release %s: already on %s (clear driver_override)",
					       *b, now);
			continue;
		}
		r = vfio_release(c, *b, timeout_ms, &final);
		if (r < 0 && r != -ETIMEDOUT) {
			log_error_errno(r, "Failed to release %s: %m", *b);
			ret = r;
		} else if (!final || streq(final, VFIO_DRIVER)) {
			log_error("%s: %s (no journal says which driver it had; bind it to its "
				  "driver by hand)",
				  *b, final ? "still on " VFIO_DRIVER : "no driver took it");
			ret = -EIO;
		} else
			log_notice("%s: %s", *b, final);
		cmd_report_function(NULL, *b, final, r >= 0 && final && !streq(final, VFIO_DRIVER));
	}
	return ret;
}

/* --json: what bind/unbind did; for bind also its journal and the command that releases it. */
static void report(const char *command, int status, const char *vm, const struct ctx *c,
		   const char *release)
{
	_cleanup_free_ char *journal = vm && !c->dry_run ? journal_path(c, vm) : NULL;

	cmd_report_print(command, status, "vm", vm, "journal", status == EXIT_OK ? journal : NULL,
			 "release", status == EXIT_OK ? release : NULL, (const char *)NULL);
}

enum {
	ARG_ALLOW_BOOT_VGA = _ARG_COMMON_MAX,
	ARG_FORCE,
	ARG_TIMEOUT,
};

/* bind and unbind share the table: the hooks pass the same options to both */
const struct cmd_option cmd_bind_options[] = {
	{ "allow-boot-vga", 0, no_argument, ARG_ALLOW_BOOT_VGA, NULL,
	  "(bind) bind the GPU the host booted on (as allow-boot-vga = yes in the profile)" },
	{ "force", 0, no_argument, ARG_FORCE, NULL,
	  "(bind) as for run: go on although a passed function has no IOMMU group, never past "
	  "an IOMMU group that holds devices not passed; (unbind) give the devices back "
	  "although the VM still runs" },
	{ "timeout", 0, required_argument, ARG_TIMEOUT, "SEC",
	  "how long to wait for each function to change driver (0 to 3600, default 10)" },
	CMD_OPTION_GLOBAL("dry-run", "print each host change instead of making it"),
	CMD_OPTION_GLOBAL("json", "what was done as one JSON object: the changes, the functions "
				  "given back, the journal and the command that releases them"),
	{},
};

int cmd_bind(int argc, char **argv)
{
	struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_bind_options);
	struct prepare_options po = { .timeout_ms = VFIO_DEFAULT_TIMEOUT_MS, .say = cmd_run_say };
	bool unbind = streq(argv[0], "unbind"), allow_boot_vga = false, force = false;
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(host_freep) struct host *h = NULL;
	_cleanup_strv_free_ char **bdfs = NULL;
	_cleanup_free_ char *vm = NULL, *release = NULL;
	int opt, r, ret;

	while ((opt = cmd_parse_options(&parser)) > 0)
		switch (opt) {
		case ARG_ALLOW_BOOT_VGA:
			allow_boot_vga = true;
			break;
		case ARG_FORCE:
			force = true;
			break;
		case ARG_TIMEOUT:
			if (cmd_run_parse_timeout(parser.arg, &po.timeout_ms) < 0)
				return EXIT_USAGE;
			break;
		}
	if (opt < 0)
		return parser.status;
	if (optind >= argc)
		return cmd_usage_error(argv[0], "expected a PROFILE or PCI addresses");

	if (arg_json)
		cmd_report_start();
	if (looks_like_profile(argv[optind])) {
		struct cmd_planned p = {};

		if (argc - optind != 1)
			return cmd_usage_error(argv[0], "expected one PROFILE");
		r = cmd_plan_load_with(argv[optind], allow_boot_vga, false, &p);
		if (r != EXIT_OK)
			return r;
		release = unbind_command(argv + optind);
		if (!release)
			r = log_error_errno(-ENOMEM, "Out of memory");
		else if (unbind)
			r = cmd_restore_vm(p.ctx, p.plan->vm_name, po.timeout_ms,
					   force || arg_force);
		else if (refuse_bound(p.ctx, p.plan->vm_name, release) < 0 ||
			 cmd_run_check_plan(p.plan, force || arg_force, true) < 0)
			r = -EPERM;
		else
			r = do_bind(p.ctx, p.plan, NULL, p.plan->vm_name, release, &po);
		ret = r < 0 ? EXIT_FAILURE_OP : EXIT_OK;
		report(argv[0], ret, p.plan->vm_name, p.ctx, unbind ? NULL : release);
		cmd_planned_done(&p);
		return ret;
	}

	if (cmd_make_ctx(&c) < 0)
		return EXIT_USAGE;
	if (c->remote_uri)
		return cmd_usage_error(argv[0],
				       "--connect %s is another host: name a PROFILE (its devices "
				       "are prepared there through libvirt), not PCI addresses",
				       c->remote_uri);
	r = host_inspect(c, &h);
	if (r < 0)
		return log_error_errno(r, "Failed to inspect the host: %m"), EXIT_FAILURE_OP;
	ret = resolve_bdfs(h, argc - optind, argv + optind, &bdfs);
	if (ret != EXIT_OK)
		return ret;
	for (char **b = bdfs; *b; b++) {
		r = vfio_read_state(c, *b, NULL, NULL);
		if (r < 0) {
			log_error_errno(r, "PCI function %s: %m", *b);
			return r == -ENOENT ? EXIT_USAGE : EXIT_FAILURE_OP;
		}
	}
	release = unbind_command(bdfs);
	vm = bdf_vm_name(bdfs);
	if (!vm || !release)
		return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
	if (unbind)
		ret = do_unbind_bdfs(c, bdfs, po.timeout_ms, force || arg_force) < 0
			  ? EXIT_FAILURE_OP
			  : EXIT_OK;
	else if (refuse_bound(c, vm, release) < 0 ||
		 check_bdfs(h, bdfs, allow_boot_vga, force || arg_force) < 0)
		ret = EXIT_FAILURE_OP;
	else
		ret = do_bind(c, NULL, bdfs, vm, release, &po) < 0 ? EXIT_FAILURE_OP : EXIT_OK;
	report(argv[0], ret, unbind ? NULL : vm, c, unbind ? NULL : release);
	return ret;
}
