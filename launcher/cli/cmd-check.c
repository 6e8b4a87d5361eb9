/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun check: host readiness, one PASS/WARN/FAIL line per check with the fix. */
#include <stdio.h>

#include "cli/cmd.h"
#include "core/diag.h"
#include "core/plan.h"
#include "host/inspect.h"
#include "host/iommu.h"
#include "hostcfg/hostcfg.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strv.h"

static bool cmdline_has(const struct host *h, const char *param)
{
	_cleanup_strv_free_ char **l = NULL;

	if (!h->cmdline || strv_split(h->cmdline, " \t", &l) < 0)
		return false;
	return strv_contains(l, param);
}

static bool is_amd_cpu(const struct host *h)
{
	return h->cpu_vendor && streq(h->cpu_vendor, "AuthenticAMD");
}

static int check_host(const struct host *h, struct diag_list *d)
{
	const char *flag = is_amd_cpu(h) ? "svm" : "vmx";
	int r = 0;

	if (h->cpu_virt)
		r |= diag_add(d, DIAG_PASS, "cpu-virt", NULL, "CPU hardware virtualization (%s)",
			      flag);
	else
		r |= diag_add(d, DIAG_FAIL, "cpu-virt",
			      is_amd_cpu(h) ? "Enable SVM Mode in the firmware (BIOS/UEFI) setup"
					    : "Enable Intel VT-x in the firmware (BIOS/UEFI) setup",
			      "CPU hardware virtualization: no %s flag in /proc/cpuinfo", flag);

	if (h->dev_kvm)
		r |= diag_add(d, DIAG_PASS, "kvm", NULL, "/dev/kvm exists");
	else
		r |=
		    diag_add(d, DIAG_FAIL, "kvm",
			     is_amd_cpu(h) ? "modprobe kvm_amd (and enable SVM in the firmware)"
					   : "modprobe kvm_intel (and enable VT-x in the firmware)",
			     "/dev/kvm is missing: guests would run without KVM acceleration");

	if (h->n_groups > 0)
		r |= diag_add(d, DIAG_PASS, "iommu-enabled", NULL,
			      "IOMMU enabled: %zu IOMMU groups", h->n_groups);
	else
		r |= diag_add(
		    d, DIAG_FAIL, "iommu-enabled",
		    is_amd_cpu(h)
			? "Enable IOMMU / AMD-Vi in the firmware setup and add amd_iommu=on "
			  "iommu=pt to the kernel command line (gpurun host-config)"
			: "Enable VT-d in the firmware setup and add intel_iommu=on iommu=pt to "
			  "the kernel command line (gpurun host-config)",
		    "IOMMU: no IOMMU groups in /sys/kernel/iommu_groups%s",
		    h->iommu_sysfs ? " (an IOMMU driver is registered but no groups)" : "");

	if (h->n_groups > 0) {
		bool identity = false;

		for (size_t i = 0; i < h->n_groups; i++)
			identity |= iommu_group_is_passthrough(&h->groups[i]);
		if (cmdline_has(h, "iommu=pt") || identity)
			r |= diag_add(d, DIAG_PASS, "iommu-passthrough", NULL,
				      "IOMMU in passthrough mode for host devices (%s)",
				      cmdline_has(h, "iommu=pt") ? "iommu=pt" : "identity domains");
		else
			r |= diag_add(
			    d, DIAG_WARN, "iommu-passthrough",
			    "Add iommu=pt to the kernel command line (gpurun host-config)",
			    "IOMMU translates all host DMA (no iommu=pt): slower host I/O");
	}

	if (h->intremap == 1)
		r |= diag_add(d, DIAG_PASS, "interrupt-remapping", NULL,
			      "Interrupt remapping on (%s)", strna(h->intremap_evidence));
	else if (h->intremap == 0)
		r |= diag_add(d, DIAG_FAIL, "interrupt-remapping",
			      "Enable interrupt remapping / x2APIC in the firmware setup; only as "
			      "a last resort: options vfio_iommu_type1 allow_unsafe_interrupts=1",
			      "Interrupt remapping off (%s): vfio refuses to assign devices",
			      strna(h->intremap_evidence));
	else
		r |= diag_add(d, DIAG_WARN, "interrupt-remapping",
			      "Check `dmesg | grep -i remapping` for 'Enabled IRQ remapping'",
			      "Interrupt remapping: no evidence either way");

	for (int i = 0; i < _HOST_MOD_MAX; i++) {
		_cleanup_free_ char *id = NULL;

		if (!host_module_required(i))
			continue;
		if (asprintf(&id, "module-%s", host_module_names[i]) < 0)
			return -ENOMEM;
		if (h->mod_loaded[i])
			r |= diag_add(d, DIAG_PASS, id, NULL, "Module %s loaded",
				      host_module_names[i]);
		else if (h->mod_available[i])
			r |= diag_add(d, DIAG_PASS, id, NULL,
				      "Module %s available (gpurun loads it when a guest starts)",
				      host_module_names[i]);
		else
			r |= diag_add(
			    d, DIAG_FAIL, id,
			    "Install the kernel's modules package, or build with CONFIG_VFIO_PCI",
			    "Module %s not found for kernel %s", host_module_names[i],
			    strna(h->kernel_release));
	}

	if (h->has_vfct)
		r |= diag_add(d, DIAG_INFO, "vfct", NULL, "ACPI VFCT table present (%zu bytes)",
			      h->vfct_size);
	return r < 0 ? -ENOMEM : 0;
}

/* @passed: the functions a profile's plan gives the guest, or NULL for the slot default */
static int check_gpu(const struct host *h, const struct pci_func *gpu, char *const *passed,
		     struct diag_list *d)
{
	_cleanup_strv_free_ char **slot = NULL, **reset_copy = NULL;
	_cleanup_free_ size_t *block = NULL;
	_cleanup_free_ char *resets = strv_join(gpu->reset_methods, " ");
	const char *a = gpu->address;
	int r = 0, n;

	if (passed) {
		slot = strv_copy(passed);
		if (!slot)
			return -ENOMEM;
	} else {
		r |= host_gpu_slot_functions(h, gpu, &slot);
		if (r < 0)
			return r;
	}

	if (gpu->iommu_group < 0)
		r |= diag_add(d, DIAG_FAIL, "gpu-group", "Turn the IOMMU on (see iommu-enabled)",
			      "%s [%04x:%04x] has no IOMMU group", a, gpu->vendor, gpu->device);
	else {
		_cleanup_free_ char *members = strv_join(slot, " ");

		r |= diag_add(d, DIAG_PASS, "gpu-group", NULL,
			      "%s [%04x:%04x] is in IOMMU group %d; passed with it: %s", a,
			      gpu->vendor, gpu->device, gpu->iommu_group, strna(members));
		n = iommu_group_blockers(h, gpu->iommu_group, slot, &block);
		if (n == 0)
			r |= diag_add(
			    d, DIAG_PASS, "group-viable", NULL,
			    "IOMMU group %d is viable (only the GPU's functions and bridges)",
			    gpu->iommu_group);
		else if (n > 0) {
			_cleanup_strv_free_ char **others = calloc(1, sizeof(char *));

			for (int i = 0; i < n; i++) {
				const struct pci_func *o = &h->funcs[block[i]];

				strv_extendf(&others, "%s [%04x:%04x] (%s)", o->address, o->vendor,
					     o->device, o->driver ? o->driver : "no driver");
			}
			_cleanup_free_ char *list = strv_join(others, ", ");
			r |= diag_add(d, DIAG_FAIL, "group-viable",
				      "Move the card to another slot, update the firmware, or pass "
				      "every member of the group to the guest; the ACS override "
				      "patch is a last resort that removes isolation",
				      "IOMMU group %d is not viable: it also holds %s",
				      gpu->iommu_group, strna(list));
		}
	}

	r |= diag_add(d, gpu->driver ? DIAG_PASS : DIAG_INFO, "gpu-driver", NULL,
		      "%s driver: %s%s%s", a, gpu->driver ? gpu->driver : "none",
		      gpu->driver_override ? ", driver_override " : "",
		      gpu->driver_override ? gpu->driver_override : "");

	if (gpu->boot_vga == 1 || gpu->console)
		r |= diag_add(d, DIAG_WARN, "gpu-boot-vga",
			      "Use `gpurun run --allow-boot-vga` (the console is handed back on "
			      "exit), or make another GPU primary in the firmware setup",
			      "%s is %s: the host loses its display while the guest runs", a,
			      gpu->boot_vga == 1 && gpu->console
				  ? "the boot VGA device and holds the console"
			      : gpu->boot_vga == 1 ? "the boot VGA device"
						   : "the console framebuffer");
	else
		r |= diag_add(d, DIAG_PASS, "gpu-boot-vga", NULL,
			      "%s is not the boot VGA device and holds no console", a);

	if (strv_contains(gpu->reset_methods, "flr"))
		r |= diag_add(d, DIAG_PASS, "gpu-reset", NULL, "%s resets with FLR (reset: %s)", a,
			      resets);
	else if (strv_contains(gpu->reset_methods, "device_specific"))
		r |= diag_add(d, DIAG_PASS, "gpu-reset", NULL,
			      "%s has a device-specific reset (vendor-reset) (reset: %s)", a,
			      resets);
	else if (gpu->vendor == 0x1002)
		r |= diag_add(
		    d, DIAG_WARN, "gpu-reset",
		    "Install the vendor-reset module (reset_method device_specific) or an in-guest "
		    "reset service; after a guest crash the GPU may need a host reboot",
		    "%s: AMD GPU without FLR (reset: %s): the AMD reset bug may leave it unusable "
		    "after the guest stops",
		    a, resets && *resets ? resets : "none");
	else
		r |= diag_add(d, DIAG_WARN, "gpu-reset",
			      "Check the card's reset support (lspci -vv: FLReset+)",
			      "%s has no FLR (reset: %s)", a, resets && *resets ? resets : "none");

	if (h->has_vfct && gpu->vendor == 0x1002)
		r |= diag_add(d, DIAG_PASS, "gpu-vbios", NULL,
			      "VBIOS source for %s: ACPI VFCT table (gpurun vbios extract)", a);
	else if (gpu->has_rom)
		r |= diag_add(d, DIAG_PASS, "gpu-vbios", NULL,
			      "VBIOS source for %s: the device's sysfs rom", a);
	else
		r |= diag_add(d, DIAG_WARN, "gpu-vbios",
			      "Dump the VBIOS on a host where the card is not primary, or set "
			      "vbios = /path/file.rom in the profile",
			      "No VBIOS source for %s (no VFCT table, no sysfs rom)", a);
	(void)reset_copy;
	return r < 0 ? -ENOMEM : 0;
}

static void print_text(const struct diag_list *d)
{
	bool color = log_use_color(STDOUT_FILENO);
	static const char *const col[_DIAG_STATUS_MAX] = {
		[DIAG_PASS] = "\033[1;32m",
		[DIAG_INFO] = "\033[1;34m",
		[DIAG_WARN] = "\033[1;33m",
		[DIAG_FAIL] = "\033[1;31m",
	};

	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->items[i];

		printf("%s%-4s%s  %s\n", color ? col[x->status] : "",
		       diag_status_to_string(x->status), color ? "\033[0m" : "", x->message);
		if (x->fix && x->status >= DIAG_WARN)
			printf("      fix: %s\n", x->fix);
	}
	printf("%zu passed, %zu warnings, %zu failed\n", diag_count(d, DIAG_PASS),
	       diag_count(d, DIAG_WARN), diag_count(d, DIAG_FAIL));
}

static void print_json(const struct diag_list *d)
{
	printf("{\"checks\":");
	diag_list_json(d, stdout);
	printf("}\n");
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
	_cleanup_strv_free_ char **passed = NULL;
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
		r = cmd_plan_load(argv[optind], &planned);
		if (r != EXIT_OK)
			return r;
		have_plan = true;
	}
	if (cmd_make_ctx(&c) < 0)
		return EXIT_USAGE;
	if (cmd_host_inspect(c, &h) < 0)
		return EXIT_FAILURE_OP;

	if (device) {
		n = host_match_device(h, device, &gpus);
		if (n == -EINVAL) {
			log_error("Invalid --device '%s': expected an address like 0000:c4:00.0 or "
				  "ids like 1002:1586.",
				  device);
			return EXIT_USAGE;
		}
		if (n == 0) {
			log_error("No PCI device matches --device '%s' (see `gpurun ls`).", device);
			return EXIT_USAGE;
		}
	} else {
		gpus = calloc(h->n_funcs + 1, sizeof(*gpus));
		if (!gpus)
			return EXIT_FAILURE_OP;
		for (size_t i = 0; i < h->n_funcs; i++) {
			const struct pci_func *f = &h->funcs[i];
			bool take = pci_func_is_display(f);

			/* with a profile: only the GPU functions its plan resolved */
			if (have_plan) {
				take = false;
				for (size_t j = 0; j < planned.plan->n_devices; j++)
					if (planned.plan->devices[j].role == PLAN_ROLE_GPU &&
					    streq(planned.plan->devices[j].address, f->address))
						take = true;
			}
			if (take)
				gpus[n++] = f;
		}
	}
	if (n < 0)
		return log_error_errno(n, "Failed to match devices: %m"), EXIT_FAILURE_OP;

	r = check_host(h, &d);
	if (have_plan) {
		passed = calloc(1, sizeof(char *));
		for (size_t j = 0; passed && j < planned.plan->n_devices; j++)
			if (strv_extend(&passed, planned.plan->devices[j].address) < 0)
				passed = strv_free(passed);
		if (!passed)
			r = -ENOMEM;
	}
	for (int i = 0; r >= 0 && i < n; i++)
		r = check_gpu(h, gpus[i], passed, &d);
	if (r >= 0) {
		_cleanup_(hostcfg_state_freep) struct hostcfg_state *st = NULL;

		/* persistent configuration written but not active yet (no reboot) */
		if (hostcfg_read_state(c, &st) >= 0)
			r = hostcfg_pending(h, st, &d);
	}
	if (r >= 0 && have_plan)
		for (size_t i = 0; r >= 0 && i < planned.plan->diags.n; i++) {
			const struct diag *x = &planned.plan->diags.items[i];

			if (x->status >= DIAG_WARN)
				r = diag_add(&d, x->status, x->id, x->fix, "%s", x->message);
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
		print_json(&d);
	else
		print_text(&d);
	ret = diag_count(&d, DIAG_FAIL) > 0 ? EXIT_FAILURE_OP : EXIT_OK;
	diag_list_clear(&d);
	return ret;
}
