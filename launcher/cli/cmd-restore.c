/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun restore [VM]: replay the journal a killed gpurun left in the state dir. */
#include <stdio.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "host/journal.h"
#include "host/pcidev.h"
#include "host/state.h"
#include "host/statedir.h"
#include "host/vfio.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/strv.h"

/* A process that has the VFIO group of a device the journal moved open is a guest using it
 * (its QEMU, or a libvirt domain started after a hook's bind): restoring would pull the
 * device from under it. 1 and *ret a phrase naming the first such process, 0 when none. */
static int vfio_in_use(struct ctx *c, const struct journal *j, char **ret)
{
	_cleanup_free_ struct vfio_user *users = NULL;
	size_t n = 0;
	int r;

	r = state_vfio_users(c, &users, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < j->n_entries; i++) {
		const struct journal_entry *e = &j->entries[i];
		int group;

		if (e->kind != JOURNAL_BIND)
			continue;
		group = pcidev_iommu_group(c, e->target);
		if (group < 0)
			continue;
		for (size_t u = 0; u < n; u++)
			if (users[u].group == group) {
				*ret = strdup_printf(
				    "%s is in use by pid %d (%s) through /dev/vfio/%d", e->target,
				    (int)users[u].pid, users[u].comm, group);
				return *ret ? 1 : -ENOMEM;
			}
	}
	return 0;
}

int cmd_restore_vm(struct ctx *c, const char *vm, unsigned timeout_ms, bool force)
{
	_cleanup_(journal_freep) struct journal *j = NULL;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *why = NULL;
	int r;

	r = journal_open(c, vm, force, &j, &err);
	if (r == -ENOENT) {
		log_notice("Nothing to restore for VM '%s' (no journal in %s).", vm, c->state);
		return 0;
	}
	if (r < 0)
		why = error_format(&err);
	if (r == -EBUSY)
		return log_error_errno(r,
				       "Not restoring: %s; its devices are in use. Stop it first "
				       "(override: `gpurun restore --force %s`).",
				       strna(why), vm);
	if (r < 0)
		return log_error_errno(r, "%s", strna(why));
	if (j->holder)
		log_warning("Restoring VM '%s' although it is %s (--force).", vm, j->holder);
	if (j->n_entries == 0) {
		/* nobody holds it and it names no change: gpurun was stopped before its first */
		if (c->dry_run) {
			cmd_report_say("remove %s (no entries: nothing to undo)", j->path);
			return 0;
		}
		r = journal_remove(c, vm);
		if (r < 0)
			return log_error_errno(r, "Failed to remove %s: %m", j->path);
		log_notice(
		    "VM '%s': the journal %s named no change (%s); gpurun was stopped before "
		    "its first one. Nothing to undo: removed it.",
		    vm, j->path, j->headerless ? "not even its first line" : "no entries");
		return 0;
	}
	/* the device locks: a gpurun running another VM on one of them is left alone */
	r = journal_lock_entries(c, j, &err);
	if (r < 0) {
		free(why);
		why = error_format(&err);
	}
	if (r == -EBUSY && !force)
		return log_error_errno(
		    r, "Not restoring VM '%s': %s; stop or restore that VM first.", vm, strna(why));
	if (r == -EBUSY)
		log_warning("Restoring VM '%s' although %s (--force).", vm, strna(why));
	else if (r < 0)
		return log_error_errno(r, "Failed to lock the devices of VM '%s': %s", vm,
				       strna(why));
	free(why);
	why = NULL;
	r = vfio_in_use(c, j, &why);
	if (r < 0)
		return log_error_errno(r, "Failed to look for processes using VM '%s': %m", vm);
	if (r > 0 && !force)
		return log_error_errno(-EBUSY,
				       "Not restoring VM '%s': %s; stop the guest first "
				       "(override: `gpurun restore --force %s`).",
				       vm, why, vm);
	if (r > 0)
		log_warning("Restoring VM '%s' although %s (--force).", vm, why);
	if (c->dry_run) {
		for (size_t i = j->n_entries; i > 0; i--) {
			const struct journal_entry *e = &j->entries[i - 1];

			if (e->kind == JOURNAL_NODEDEV)
				cmd_report_say("undo %s %s %s -> %s",
					       journal_kind_to_string(e->kind), e->target, e->value,
					       *e->extra ? e->extra : "no driver");
			else
				cmd_report_say("undo %s %s%s%s", journal_kind_to_string(e->kind),
					       e->target, e->kind == JOURNAL_BIND ? " -> " : "",
					       e->kind == JOURNAL_BIND
						   ? (*e->value ? e->value : "no driver")
						   : "");
		}
		return 0;
	}
	log_notice("Restoring VM '%s' (journal of pid %d, %zu entries)", vm, (int)j->pid,
		   j->n_entries);
	return cmd_run_revert(c, j, timeout_ms);
}

enum { ARG_TIMEOUT = _ARG_COMMON_MAX, ARG_FORCE };

const struct cmd_option cmd_restore_options[] = {
	{ "force", 0, no_argument, ARG_FORCE, NULL,
	  "restore although the VM still runs (a gpurun preparing it, its QEMU, its libvirt "
	  "domain): the devices are taken from under it" },
	{ "timeout", 0, required_argument, ARG_TIMEOUT, "SEC",
	  "how long to wait for each function to get its driver back (0 to 3600, default 10)" },
	CMD_OPTION_GLOBAL("dry-run", "print what would be undone, last change first"),
	CMD_OPTION_GLOBAL("json", "what was undone as one JSON object: each function and the "
				  "driver it has again"),
	{},
};

int cmd_restore(int argc, char **argv)
{
	struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_restore_options);
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_strv_free_ char **vms = NULL;
	unsigned timeout_ms = VFIO_DEFAULT_TIMEOUT_MS;
	bool force = false;
	int opt, r, ret = EXIT_OK;

	while ((opt = cmd_parse_options(&parser)) > 0) {
		if (opt == ARG_TIMEOUT && cmd_run_parse_timeout(parser.arg, &timeout_ms) < 0)
			return EXIT_USAGE;
		if (opt == ARG_FORCE)
			force = true;
	}
	if (opt < 0)
		return parser.status;
	if (argc - optind > 1)
		return cmd_usage_error("restore", "expected at most one VM name");
	if (cmd_make_ctx(&c) < 0)
		return EXIT_USAGE;
	if (optind < argc) {
		if (!journal_vm_name_ok(argv[optind])) {
			log_error("restore: '%s' is not a VM name.", argv[optind]);
			return EXIT_USAGE;
		}
		r = strv_extend(&vms, argv[optind]);
	} else
		r = journal_list(c, &vms);
	if (r < 0 && r != -ENOMEM) {
		/* a hostile state dir: say which directory and why */
		_cleanup_(error_clear) struct error err = {};
		_cleanup_free_ char *why = NULL;
		int fd = -1;

		if (statedir_open(c, false, &fd, &err) >= 0)
			close(fd);
		why = error_is_set(&err) ? error_format(&err) : NULL;
		if (why)
			log_error("Failed to list journals: %s", why);
		else
			log_error_errno(r, "Failed to list journals in %s: %m", c->state);
		return EXIT_FAILURE_OP;
	}
	if (r < 0) {
		log_error_errno(r, "Failed to list journals in %s: %m", c->state);
		return EXIT_FAILURE_OP;
	}
	if (arg_json)
		cmd_report_start();
	if (strv_length(vms) == 0)
		log_notice("Nothing to restore: no journal in %s.", c->state);
	for (char **v = vms; v && *v; v++)
		if (cmd_restore_vm(c, *v, timeout_ms, force || arg_force) < 0)
			ret = EXIT_FAILURE_OP;
	cmd_report_print("restore", ret, "vm", optind < argc ? argv[optind] : NULL,
			 (const char *)NULL);
	return ret;
}
