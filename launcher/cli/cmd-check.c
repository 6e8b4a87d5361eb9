/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun check: host readiness, one PASS/WARN/FAIL line per check with the fix. */
#include <stdio.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "core/checks.h"
#include "core/diag.h"
#include "core/plan.h"
#include "host/inspect.h"
#include "hostcfg/hostcfg.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strv.h"

/* -q (as virt-host-validate -q): only the WARN and FAIL lines, in the text and the JSON alike */
static bool shown(const struct diag *x)
{
	return log_get_max_level() >= LOG_NOTICE || x->status >= DIAG_WARN;
}

static void print_text(const struct diag_list *d)
{
	bool color = log_use_color(STDOUT_FILENO);
	bool quiet = log_get_max_level() < LOG_NOTICE;
	static const char *const col[_DIAG_STATUS_MAX] = {
		[DIAG_PASS] = "\033[1;32m",
		[DIAG_INFO] = "\033[1;34m",
		[DIAG_WARN] = "\033[1;33m",
		[DIAG_FAIL] = "\033[1;31m",
	};

	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->items[i];

		if (!shown(x))
			continue;
		printf("%s%-4s%s  %s\n", color ? col[x->status] : "",
		       diag_status_to_string(x->status), color ? "\033[0m" : "", x->message);
		if (x->fix && x->status >= DIAG_WARN)
			printf("      fix: %s\n", x->fix);
	}
	if (quiet)
		return;
	printf("%zu passed, %zu warnings, %zu failed\n", diag_count(d, DIAG_PASS),
	       diag_count(d, DIAG_WARN), diag_count(d, DIAG_FAIL));
}

static int print_json(const struct diag_list *d)
{
	struct diag_list l = {};
	int r;

	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->items[i];

		if (!shown(x))
			continue;
		r = diag_add(&l, x->status, x->id, x->fix, "%s", x->message);
		if (r >= 0 && x->cause)
			r = diag_set_cause(&l, x->cause);
		if (r < 0) {
			diag_list_clear(&l);
			return r;
		}
	}
	printf("{\"checks\":");
	diag_list_json(&l, stdout);
	printf("}\n");
	cmd_json_printed = true;
	diag_list_clear(&l);
	return 0;
}

enum { ARG_DEVICE = _ARG_COMMON_MAX };

const struct cmd_option cmd_check_options[] = {
	{ "device", 0, required_argument, ARG_DEVICE, "BDF|VVVV:DDDD",
	  "check this device only: a PCI address (0000:c4:00.0, c4:00.0) or a vendor:device id "
	  "(1002:1586)" },
	CMD_OPTION_GLOBAL("json", "the checks as one JSON object (id, status, message, fix each)"),
	{},
};

int cmd_check(int argc, char **argv)
{
	struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_check_options);
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(host_freep) struct host *h = NULL;
	_cleanup_free_ const struct pci_func **gpus = NULL;
	_cleanup_free_ char *device = NULL;
	struct diag_list d = { 0 };
	struct cmd_planned planned = { 0 };
	bool have_plan = false;
	int opt, r, n = 0, ret;

	while ((opt = cmd_parse_options(&parser)) > 0)
		if (opt == ARG_DEVICE) {
			free(device);
			device = strdup(parser.arg);
			if (!device)
				return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
		}
	if (opt < 0)
		return parser.status;
	if (optind < argc - 1)
		return cmd_usage_error("check", "unexpected argument '%s'", argv[optind + 1]);
	if (optind == argc - 1) {
		if (device)
			return cmd_usage_error("check", "give a PROFILE or --device, not both");
		r = cmd_plan_load(argv[optind], true, &planned);
		if (r != EXIT_OK)
			return r;
		have_plan = true;
	}
	if (cmd_make_ctx(&c) < 0)
		return EXIT_USAGE;
	/* the profile's remote node (its libvirt-uri) is the host checked */
	if (have_plan && planned.ctx->remote_uri && !c->remote_uri &&
	    !(c->remote_uri = strdup(planned.ctx->remote_uri)))
		return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
	if (cmd_host_inspect(c, &h) < 0)
		return EXIT_FAILURE_OP;

	if (device) {
		_cleanup_(error_clear) struct error err = {};

		/* every function with the id: identical GPUs are each checked */
		n = host_resolve_devices(h, device, &gpus, &err);
		if (n < 0)
			return cmd_device_error("--device", device, &err, n);
	} else if (!have_plan) {
		gpus = calloc(h->n_funcs + 1, sizeof(*gpus));
		if (!gpus)
			return EXIT_FAILURE_OP;
		for (size_t i = 0; i < h->n_funcs; i++)
			if (pci_func_is_display(&h->funcs[i]))
				gpus[n++] = &h->funcs[i];
	}
	if (n < 0)
		return log_error_errno(n, "Failed to match devices: %m"), EXIT_FAILURE_OP;

	/* one engine: with a profile its plan carries every finding (checks_plan and
	 * checks_preview); without one, the host and each GPU with what goes with it */
	if (have_plan)
		r = diag_list_append(&d, &planned.plan->diags);
	else {
		r = checks_host(h, true, &d);
		for (int i = 0; r >= 0 && i < n; i++)
			r = checks_gpu(h, gpus[i], NULL, false, &d);
	}
	if (r >= 0 && !c->remote_uri) {
		_cleanup_(hostcfg_state_freep) struct hostcfg_state *st = NULL;

		/* persistent configuration written but not active yet (no reboot) */
		if (hostcfg_read_state(c, &st) >= 0)
			r = hostcfg_pending(h, st, &d);
	}
	if (have_plan)
		cmd_planned_done(&planned);
	if (r >= 0 && n == 0 && !have_plan)
		r = diag_add(&d, DIAG_WARN, "gpu",
			     "Check that the GPU is seated and enabled in the firmware setup",
			     "No display controller (PCI class 03xx) found on this host");
	if (r < 0) {
		diag_list_clear(&d);
		log_error_errno(r, "Out of memory");
		return EXIT_FAILURE_OP;
	}
	if (arg_json)
		r = print_json(&d);
	else
		print_text(&d);
	if (r < 0) {
		diag_list_clear(&d);
		return log_error_errno(r, "Out of memory"), EXIT_FAILURE_OP;
	}
	ret = diag_count(&d, DIAG_FAIL) > 0 ? EXIT_FAILURE_OP : EXIT_OK;
	diag_list_clear(&d);
	return ret;
}
