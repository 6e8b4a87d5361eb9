/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun host-config: persistent host setup for a GPU dedicated to guests. Shows the change as
 * a diff per file; --apply writes it (backup first, all or nothing) and refreshes the boot
 * configuration; --revert restores the newest backup. */
#include <stdio.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "core/checks.h"
#include "core/diag.h"
#include "core/profile.h"
#include "host/inspect.h"
#include "host/profile-load.h"
#include "host/remote.h"
#include "hostcfg/backup.h"
#include "hostcfg/bootloader.h"
#include "hostcfg/diff.h"
#include "hostcfg/hostcfg.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strv.h"

static void print_diags(const struct diag_list *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->items[i];

		printf("%-4s  %s\n", diag_status_to_string(x->status), x->message);
		if (x->fix && x->status >= DIAG_WARN)
			printf("      fix: %s\n", x->fix);
	}
}

static void json_strv(char *const *l)
{
	printf("[");
	for (size_t i = 0; l && l[i]; i++) {
		printf("%s", i ? "," : "");
		json_string(stdout, l[i]);
	}
	printf("]");
}

/* The boot tool's command as the host runs it (host path), or NULL when it has nothing to do. */
static char **tool_argv(const struct ctx *c, const struct hostcfg *cfg)
{
	char **argv = NULL;

	if (cfg->tool.tool == HOSTCFG_TOOL_NONE || strv_length(cfg->tool.add) == 0 ||
	    bootloader_tool_argv(cfg->tool.tool, hostcfg_host_name(c, cfg->tool.path),
				 cfg->tool.add, false, &argv) < 0)
		return NULL;
	return argv;
}

/* argv as a shell would take it back: words with a space in double quotes */
static char *quoted(char *const *argv)
{
	_cleanup_strv_free_ char **q = strv_new_empty();

	for (size_t i = 0; q && argv[i]; i++) {
		const char *eq = strchr(argv[i], '=');

		if (!strchr(argv[i], ' '))
			(void)strv_extend(&q, argv[i]);
		else if (eq && argv[i][0] == '-')
			(void)strv_extendf(&q, "%.*s\"%s\"", (int)(eq - argv[i] + 1), argv[i],
					   eq + 1);
		else
			(void)strv_extendf(&q, "\"%s\"", argv[i]);
	}
	return q ? strv_join(q, " ") : NULL;
}

/* --json: the plan as data (the same diffs and diagnostics as the text). */
static int print_json(const struct ctx *c, const struct hostcfg *cfg, const struct diag_list *d)
{
	_cleanup_strv_free_ char **tool = tool_argv(c, cfg);

	printf("{\"bootloader\":");
	json_string(stdout, hostcfg_boot_to_string(cfg->boot));
	printf(",\"evidence\":");
	json_string(stdout, cfg->boot_evidence);
	printf(",\"initramfs_evidence\":");
	json_string(stdout, cfg->initramfs_evidence);
	printf(",\"files\":[");
	for (size_t i = 0, n = 0; i < cfg->n_files; i++) {
		const struct hostcfg_file *f = &cfg->files[i];
		_cleanup_free_ char *diff = NULL;
		int r;

		if (!f->new)
			continue;
		r = diff_unified(f->name, f->old, f->old_len, f->new, f->new_len, &diff);
		if (r < 0)
			return r;
		printf("%s{\"path\":", n++ ? "," : "");
		json_string(stdout, f->name);
		printf(",\"exists\":%s,\"diff\":", f->old ? "true" : "false");
		json_string(stdout, diff);
		printf(",\"content\":");
		json_string(stdout, f->new);
		printf("}");
	}
	printf("],\"commands\":[");
	if (tool)
		json_strv(tool);
	if (cfg->refresh_argv) {
		printf("%s", tool ? "," : "");
		json_strv(cfg->refresh_argv);
	}
	if (cfg->initramfs_argv) {
		printf("%s", tool || cfg->refresh_argv ? "," : "");
		json_strv(cfg->initramfs_argv);
	}
	printf("],\"checks\":");
	diag_list_json(d, stdout);
	printf("}\n");
	return 0;
}

/* Run (or, off the real root, only name) the commands that make the files take effect.
 * Returns false when one of them failed. */
static bool run_commands(const struct ctx *c, char **const *cmds, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *line = NULL;
		int r;

		if (!cmds[i])
			continue;
		line = strv_join(cmds[i], " ");
		if (!c->real_root) {
			printf("skipped: --root is not /: %s\n", strna(line));
			continue;
		}
		printf("running: %s\n", strna(line));
		fflush(stdout);
		r = hostcfg_run(cmds[i]);
		if (r < 0) {
			log_error_errno(r, "Failed to run '%s': %m", strna(line));
			ok = false;
		} else if (r != 0) {
			log_error("'%s' failed with exit status %d.", strna(line), r);
			ok = false;
		}
	}
	return ok;
}

static void print_commands(const struct ctx *c, const struct hostcfg *cfg)
{
	_cleanup_strv_free_ char **tool = tool_argv(c, cfg);
	_cleanup_free_ char *tline = tool ? quoted(tool) : NULL;
	_cleanup_free_ char *refresh = cfg->refresh_argv ? strv_join(cfg->refresh_argv, " ") : NULL;
	_cleanup_free_ char *initrd =
	    cfg->initramfs_argv ? strv_join(cfg->initramfs_argv, " ") : NULL;

	if (tline)
		printf("Run (with the backup; --revert undoes it):\n  %s\n", tline);
	printf("Then:\n");
	if (refresh)
		printf("  %s\n", refresh);
	else if (cfg->boot == HOSTCFG_BOOT_SDBOOT)
		printf("  (no bootloader refresh: systemd-boot reads the entries directly)\n");
	else if (cfg->tool.tool != HOSTCFG_TOOL_NONE)
		printf("  (no bootloader refresh: %s writes the boot entries itself)\n",
		       hostcfg_tool_to_string(cfg->tool.tool));
	if (initrd)
		printf("  %s\n", initrd);
	else
		printf("  (initramfs tool not recognised: rebuild the initramfs by hand)\n");
	printf("  reboot\n");
}

/* hostcfg_load() failed: "Failed to read FILE: cause" when a file could not be read, else the
 * cause alone (out of memory). */
static void log_load_error(const struct error *err, const char *tail)
{
	_cleanup_free_ char *s = error_format(err);

	if (err->file)
		log_error("Failed to read %s%s", strna(s), tail);
	else
		log_error("Failed to read the host configuration: %s%s", strna(s), tail);
}

/* host-config edits this machine's boot configuration: never in the name of another host */
static int refuse_remote(const struct ctx *c)
{
	if (!c->remote_uri)
		return 0;
	log_error("host-config changes this machine, but --connect %s is another host: run "
		  "`gpurun host-config` on that host.",
		  c->remote_uri);
	return -EINVAL;
}

static int do_revert(void)
{
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_(error_clear) struct error err = {}, load_err = {};
	_cleanup_free_ char *backup = NULL, *msg = NULL;
	_cleanup_strv_free_ char **files = NULL;
	int r;

	if (cmd_make_ctx(&c) < 0 || refuse_remote(c) < 0)
		return EXIT_USAGE;
	r = backup_revert(c, &backup, &files, &err);
	if (r == -ENOENT) {
		log_error("No gpurun host-config backup to revert under %s/gpurun/backup.", c->etc);
		return EXIT_FAILURE_OP;
	}
	if (r < 0)
		msg = error_format(&err);
	if (r == -EBADMSG) {
		log_error("Damaged backup: %s; nothing restored.", strna(msg));
		return EXIT_USAGE;
	}
	if (r == -ESTALE) {
		log_error("Not reverted: %s.", strna(msg));
		return EXIT_FAILURE_OP;
	}
	if (r < 0) {
		log_error("Failed to restore the backup under %s/gpurun/backup: %s", c->etc,
			  strna(msg));
		return EXIT_FAILURE_OP;
	}
	printf("Restored from %s:\n", backup);
	for (char **f = files; f && *f; f++)
		printf("  %s\n", *f);
	r = hostcfg_load(c, NULL, &cfg, &load_err);
	if (r < 0) {
		log_load_error(&load_err, ".");
		return EXIT_FAILURE_OP;
	}
	{
		char **cmds[] = { cfg->refresh_argv, cfg->initramfs_argv };

		if (!run_commands(c, cmds, ELEMENTSOF(cmds)))
			return EXIT_FAILURE_OP;
	}
	printf("Reboot to return to the previous configuration.\n");
	return EXIT_OK;
}

enum {
	ARG_DEVICE = _ARG_COMMON_MAX,
	ARG_APPLY,
	ARG_REVERT,
	ARG_BLACKLIST,
};

const struct cmd_option cmd_host_config_options[] = {
	{ "device", 0, required_argument, ARG_DEVICE, "BDF|VVVV:DDDD",
	  "the GPU, when no PROFILE is given: a PCI address or a vendor:device id" },
	{ "apply", 0, no_argument, ARG_APPLY, NULL,
	  "write each file (backup first, all or nothing), run the bootloader and initramfs "
	  "commands; a reboot makes it take effect" },
	{ "revert", 0, no_argument, ARG_REVERT, NULL,
	  "restore the files from the newest backup and run the commands again" },
	{ "blacklist", 0, no_argument, ARG_BLACKLIST, NULL,
	  "also blacklist the GPU's host driver in modprobe.d (a warning says when another device "
	  "uses it)" },
	CMD_OPTION_GLOBAL("json",
			  "the bootloader, the files with their diffs, the commands and the "
			  "checks as one JSON object (not with --apply or --revert)"),
	CMD_OPTION_GLOBAL("dry-run", "show the diff only, as without --apply"),
	{},
};

int cmd_host_config(int argc, char **argv)
{
	struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_host_config_options);
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(host_freep) struct host *h = NULL;
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_(profile_freep) struct profile *profile = NULL;
	_cleanup_free_ const struct pci_func **gpus = NULL;
	_cleanup_free_ char *device = NULL, *backup = NULL;
	_cleanup_(error_clear) struct error err = {};
	struct backup_rollback rb = {};
	struct diag_list d = { 0 };
	struct hostcfg_request req;
	bool apply = false, revert = false, blacklist = false;
	int opt, r, n, changed, ret = EXIT_OK;

	while ((opt = cmd_parse_options(&parser)) > 0)
		switch (opt) {
		case ARG_DEVICE:
			free(device);
			device = strdup(parser.arg);
			if (!device)
				return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
			break;
		case ARG_APPLY:
			apply = true;
			break;
		case ARG_REVERT:
			revert = true;
			break;
		case ARG_BLACKLIST:
			blacklist = true;
			break;
		}
	if (opt < 0)
		return parser.status;
	if (arg_dry_run)
		apply = false;
	if (arg_json && (apply || revert))
		return cmd_usage_error("host-config", "--json shows the plan only; it does not "
						      "combine with --apply or --revert");
	if (revert) {
		if (device || optind < argc || apply || blacklist)
			return cmd_usage_error("host-config", "--revert takes no device, profile, "
							      "--apply or --blacklist");
		return do_revert();
	}
	if (optind + 1 < argc || (optind < argc && device))
		return cmd_usage_error("host-config", "give one PROFILE or --device, not both");
	if (optind < argc) {
		_cleanup_free_ char *msg = NULL;

		r = profile_load(argv[optind], &profile, &err);
		if (r < 0) {
			msg = error_format(&err);
			log_error("%s", msg ? msg : "Out of memory");
			return r == -ENOMEM ? EXIT_FAILURE_OP : EXIT_USAGE;
		}
		device = strdup(profile->gpu_device);
		if (!device)
			return EXIT_FAILURE_OP;
	}
	if (!device) {
		log_error("host-config: which GPU? Give a PROFILE or --device BDF|VVVV:DDDD (see "
			  "`gpurun ls`).");
		return EXIT_USAGE;
	}

	if (cmd_make_ctx(&c) < 0 || refuse_remote(c) < 0)
		return EXIT_USAGE;
	/* the VM of a backend = libvirt profile runs where its libvirt-uri points (as in plan) */
	if (profile && profile->backend == PROFILE_BACKEND_LIBVIRT && profile->libvirt_uri &&
	    remote_uri_classify(profile->libvirt_uri, NULL) > 0) {
		log_error("host-config changes this machine, but the profile's libvirt-uri %s is "
			  "another host: run `gpurun host-config` on that host.",
			  profile->libvirt_uri);
		return EXIT_USAGE;
	}
	if (cmd_host_inspect(c, &h) < 0)
		return EXIT_FAILURE_OP;
	n = host_resolve_devices(h, device, &gpus, &err);
	if (n < 0)
		return cmd_device_error(profile ? "the profile's [gpu] device" : "--device", device,
					&err, n);
	error_clear(&err);

	r = hostcfg_load(c, h, &cfg, &err);
	if (r < 0) {
		log_load_error(&err, "; nothing changed.");
		return EXIT_FAILURE_OP;
	}
	if (!arg_json) {
		printf("Bootloader: %s (%s)\n", hostcfg_boot_to_string(cfg->boot),
		       cfg->boot_evidence);
		if (cfg->initramfs_argv)
			printf("Initramfs: %s (%s)\n", cfg->initramfs_argv[0],
			       cfg->initramfs_evidence);
	}

	req = (struct hostcfg_request){
		.gpus = gpus,
		.n_gpus = (size_t)n,
		.functions = profile && !profile->gpu_functions_all ? profile->gpu_functions : NULL,
		.blacklist = blacklist,
	};
	/* the host facts host-config acts on, as check words them (one id, one severity) */
	r = checks_iommu(h, &d);
	if (r >= 0)
		r = checks_vfio_modules(h, &d);
	if (r < 0) {
		diag_list_clear(&d);
		return log_error_errno(r, "Out of memory"), EXIT_FAILURE_OP;
	}
	changed = hostcfg_compute(cfg, h, &req, &d);
	if (arg_json && changed >= 0) {
		_cleanup_(hostcfg_state_freep) struct hostcfg_state *st = NULL;

		if (changed == 0 && hostcfg_read_state(c, &st) >= 0)
			(void)hostcfg_pending(h, st, &d);
		r = print_json(c, cfg, &d);
		cmd_json_printed = true;
		diag_list_clear(&d);
		if (r < 0)
			return log_error_errno(r, "Out of memory"), EXIT_FAILURE_OP;
		return EXIT_OK;
	}
	print_diags(&d);
	if (changed == -EINVAL) {
		diag_list_clear(&d);
		log_error(
		    "Cannot compute the configuration: see the FAIL line above; nothing changed.");
		return EXIT_USAGE;
	}
	if (changed < 0) {
		diag_list_clear(&d);
		return log_error_errno(changed, "Failed to compute the configuration: %m"),
		       EXIT_FAILURE_OP;
	}
	diag_list_clear(&d);

	if (changed == 0) {
		_cleanup_(hostcfg_state_freep) struct hostcfg_state *st = NULL;

		printf("Nothing to change: the host configuration is already in place.\n");
		if (hostcfg_read_state(c, &st) >= 0 && hostcfg_pending(h, st, &d) >= 0)
			print_diags(&d);
		diag_list_clear(&d);
		return EXIT_OK;
	}

	for (size_t i = 0; i < cfg->n_files; i++) {
		const struct hostcfg_file *f = &cfg->files[i];
		_cleanup_free_ char *diff = NULL;

		if (!f->new)
			continue;
		r = diff_unified(f->name, f->old, f->old_len, f->new, f->new_len, &diff);
		if (r < 0)
			return log_error_errno(r, "Out of memory"), EXIT_FAILURE_OP;
		fputs(diff, stdout);
	}
	print_commands(c, cfg);
	if (apply && cfg->boot == HOSTCFG_BOOT_UNKNOWN) {
		/* where the kernel parameters go is not known, nor whether the initramfs tool that
		 * would be refreshed is the one this boot uses: the diffs are the instructions */
		log_error("Bootloader not recognised: nothing written. Make the changes above by "
			  "hand, with the kernel parameters on your bootloader's command line, and "
			  "rebuild the initramfs.");
		return EXIT_FAILURE_OP;
	}
	if (!apply) {
		printf("Nothing was changed: run `gpurun host-config --apply` with the same "
		       "arguments to write this.\n");
		return EXIT_OK;
	}

	r = backup_apply(c, cfg, &backup, &rb, &err);
	if (r < 0) {
		_cleanup_free_ char *msg = error_format(&err);

		/* a file named: its write failed after the backup, the others were put back */
		if (err.file && !rb.kept)
			log_error("Failed to write %s; the files already written were restored, "
				  "nothing changed.",
				  strna(msg));
		else if (err.file) {
			_cleanup_free_ char *bad = strv_join(rb.not_restored, ", ");
			_cleanup_free_ char *good = strv_join(rb.restored, ", ");

			log_error(
			    "Failed to write %s; NOT restored: %s%s%s. The backup is kept in "
			    "%s: run `gpurun host-config --revert` once the cause is fixed, or "
			    "copy the files back from it by hand.",
			    strna(msg), strna(bad), good && *good ? "; restored: " : "",
			    good && *good ? good : "", rb.kept);
		} else
			log_error("Failed to back up the files under %s/gpurun/backup: %s; nothing "
				  "changed.",
				  c->etc, strna(msg));
		backup_rollback_done(&rb);
		return EXIT_FAILURE_OP;
	}
	printf("Written (backup in %s; `gpurun host-config --revert` restores it).\n", backup);
	{
		_cleanup_strv_free_ char **tool = tool_argv(c, cfg);
		_cleanup_free_ char *tline = tool ? quoted(tool) : NULL;

		if (tline)
			printf("%s: %s\n", cfg->tool.skipped ? "skipped: --root is not /" : "ran",
			       tline);
	}
	{
		char **cmds[] = { cfg->refresh_argv, cfg->initramfs_argv };

		if (!run_commands(c, cmds, ELEMENTSOF(cmds))) {
			log_error("The files are written but the boot configuration was not "
				  "refreshed: run the failed command by hand before rebooting.");
			ret = EXIT_FAILURE_OP;
		}
	}
	printf("Reboot needed: the new kernel parameters and vfio-pci binding take effect at the "
	       "next boot.\n");
	return ret;
}
