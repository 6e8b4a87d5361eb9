/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun plan PROFILE: what `run` would do, changing nothing. */
#include <stdio.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "core/checks.h"
#include "core/plan.h"
#include "core/profile.h"
#include "host/inspect.h"
#include "host/paths.h"
#include "host/profile-load.h"
#include "host/remote.h"
#include "host/romstage.h"
#include "host/state.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"

/* Which host the profile's VM runs on: a remote libvirt node (--connect, else the profile's
 * libvirt-uri with backend = libvirt) or this machine. */
static int cmd_plan_remote(struct cmd_planned *c)
{
	_cleanup_(error_clear) struct error err = {};
	int r;

	if (!c->ctx->remote_uri && !c->ctx->connect_uri &&
	    c->profile->backend == PROFILE_BACKEND_LIBVIRT && c->profile->libvirt_uri) {
		r = remote_uri_classify(c->profile->libvirt_uri, &err);
		if (r < 0) {
			log_error("Profile libvirt-uri: %s", strna(err.message));
			return EXIT_USAGE;
		}
		if (r > 0 && !(c->ctx->remote_uri = strdup(c->profile->libvirt_uri)))
			return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
	}
	if (c->ctx->remote_uri && c->profile->backend != PROFILE_BACKEND_LIBVIRT) {
		log_error("--connect %s is another host, but backend = %s starts QEMU on this one; "
			  "set backend = libvirt in the profile to run the VM on %s",
			  c->ctx->remote_uri, profile_backend_to_string(c->profile->backend),
			  c->ctx->remote_uri);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_plan_load_with(const char *profile_path, bool allow_boot_vga, bool guest,
		       struct cmd_planned *ret)
{
	struct cmd_planned c = {};
	struct plan_paths paths = {};
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *msg = NULL;
	int r;

	r = profile_load(profile_path, &c.profile, &err);
	if (r < 0) {
		if (error_is_set(&err) && (msg = error_format(&err)))
			log_error("%s", msg);
		else
			log_error_errno(r, "Failed to load profile '%s': %m", profile_path);
		return r == -EINVAL || r == -ENOENT || r == -EFBIG || r == -EISDIR
			   ? EXIT_USAGE
			   : EXIT_FAILURE_OP;
	}
	if (cmd_make_ctx(&c.ctx) < 0) {
		cmd_planned_done(&c);
		return EXIT_USAGE;
	}
	if (allow_boot_vga)
		c.profile->allow_boot_vga = true;
	r = cmd_plan_remote(&c);
	if (r != EXIT_OK) {
		cmd_planned_done(&c);
		return r;
	}
	r = cmd_host_inspect(c.ctx, &c.host);
	if (r < 0) {
		cmd_planned_done(&c);
		return EXIT_FAILURE_OP;
	}
	r = plan_paths_from_ctx(c.ctx, &paths);
	if (r >= 0)
		r = plan_build(c.profile, c.host, &paths, &c.plan);
	plan_paths_done(&paths);
	if (r >= 0) {
		/* what run would trip over beyond the snapshot: files, journal, locks, guests */
		struct check_state st = {};

		r = state_read_preview(c.ctx, c.plan, &st);
		if (r >= 0 && guest)
			r = state_read_programs(c.ctx, c.plan, &st);
		if (r >= 0)
			r = checks_preview(c.host, c.plan, &st, &c.plan->diags);
		check_state_done(&st);
	}
	if (r < 0) {
		log_error_errno(r, "Failed to plan '%s': %m", profile_path);
		cmd_planned_done(&c);
		return EXIT_FAILURE_OP;
	}
	*ret = c;
	return EXIT_OK;
}

int cmd_plan_load(const char *profile_path, bool guest, struct cmd_planned *ret)
{
	return cmd_plan_load_with(profile_path, false, guest, ret);
}

void cmd_planned_done(struct cmd_planned *c)
{
	c->plan = plan_free(c->plan);
	c->profile = profile_free(c->profile);
	c->host = host_free(c->host);
	c->ctx = ctx_free(c->ctx);
}

void cmd_print_diags(const struct diag_list *d, int min)
{
	/* same shape as the plan dump: "FAIL id: message" and an indented fix */
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->items[i];

		if ((int)x->status < min)
			continue;
		fprintf(stderr, "%s %s: %s\n", diag_status_to_string(x->status), x->id, x->message);
		if (x->fix)
			fprintf(stderr, "  fix: %s\n", x->fix);
	}
}

static void print_json(const struct plan *p)
{
	FILE *f = stdout;

	fputs("{", f);
	json_key(f, "vm");
	json_string(f, p->vm_name);
	fputs(",", f);
	json_key(f, "resolved");
	fputs(p->resolved ? "true" : "false", f);
	fputs(",", f);
	json_key(f, "ovmf_code");
	json_string(f, p->ovmf_code);
	fputs(",", f);
	json_key(f, "ovmf_vars");
	json_string(f, p->ovmf_vars);
	fputs(",", f);
	json_key(f, "devices");
	fputs("[", f);
	for (size_t i = 0; i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];

		fputs(i ? ",{" : "{", f);
		json_key(f, "address");
		json_string(f, d->address);
		fputs(",", f);
		json_key(f, "role");
		json_string(f, plan_role_to_string(d->role));
		fputs(",", f);
		json_key(f, "iommu_group");
		fprintf(f, "%d,", d->iommu_group);
		json_key(f, "driver");
		json_string(f, d->host_driver);
		fputs(",", f);
		json_key(f, "romfile");
		json_string(f, d->romfile);
		fputs("}", f);
	}
	fputs("],", f);
	json_key(f, "actions");
	fputs("[", f);
	for (size_t i = 0; i < p->n_actions; i++) {
		fputs(i ? ",{" : "{", f);
		json_key(f, "action");
		json_string(f, plan_action_kind_to_string(p->actions[i].kind));
		fputs(",", f);
		json_key(f, "target");
		json_string(f, p->actions[i].target);
		fputs(",", f);
		json_key(f, "source");
		json_string(f, p->actions[i].source);
		fputs("}", f);
	}
	fputs("],", f);
	json_key(f, "diagnostics");
	fputs("[", f);
	for (size_t i = 0, k = 0; i < p->diags.n; i++) {
		const struct diag *d = &p->diags.items[i];

		if (d->status == DIAG_PASS)
			continue; /* the same findings as the text (plan_dump) */
		fputs(k++ ? ",{" : "{", f);
		json_key(f, "status");
		json_string(f, diag_status_json_to_string(d->status));
		fputs(",", f);
		json_key(f, "id");
		json_string(f, d->id);
		fputs(",", f);
		json_key(f, "message");
		json_string(f, d->message);
		fputs(",", f);
		json_key(f, "fix");
		json_string(f, d->fix);
		if (d->cause) {
			fputs(",", f);
			json_key(f, "cause");
			json_string(f, d->cause);
		}
		fputs("}", f);
	}
	fputs("]}\n", f);
}

const struct cmd_option cmd_plan_options[] = {
	CMD_OPTION_GLOBAL("json", "the plan as one JSON object: devices, actions, diagnostics"),
	{},
};

int cmd_plan(int argc, char **argv)
{
	struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_plan_options);
	struct cmd_planned c = {};
	int r;

	if (cmd_parse_options(&parser) < 0)
		return parser.status;
	if (optind + 1 != argc)
		return cmd_usage_error("plan", "expected exactly one PROFILE argument");
	r = cmd_plan_load(argv[optind], true, &c);
	if (r != EXIT_OK)
		return r;
	if (arg_json) {
		print_json(c.plan);
		cmd_json_printed = true;
	} else if (plan_dump(c.plan, stdout) < 0)
		r = EXIT_FAILURE_OP;
	if (r == EXIT_OK && diag_count(&c.plan->diags, DIAG_FAIL) > 0)
		r = EXIT_FAILURE_OP;
	cmd_planned_done(&c);
	return r;
}
