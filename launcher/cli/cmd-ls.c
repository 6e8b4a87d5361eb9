/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun ls: IOMMU groups with their devices, drivers and reset methods. */
#include <stdio.h>

#include "cli/cmd.h"
#include "host/inspect.h"
#include "host/pcidev.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strv.h"

static const char *role_of(const struct host *h, const struct pci_func *f)
{
	if (pci_func_is_display(f))
		return "gpu";
	if (!pci_func_is_hda(f))
		return NULL;
	/* HD audio of the same vendor in a display function's slot is its HDMI/DP audio; an APU's
	 * own 1022 HD-audio controller in that slot is not. */
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct pci_func *g = &h->funcs[i];

		if (pci_func_is_display(g) && g->domain == f->domain && g->bus == f->bus &&
		    g->dev == f->dev && g->vendor == f->vendor)
			return "gpu-audio";
	}
	return NULL;
}

static void print_func_line(const struct host *h, const struct pci_func *f, bool color)
{
	_cleanup_free_ char *name = pcidev_display_name(f);
	_cleanup_free_ char *reset = strv_join(f->reset_methods, " ");
	const char *role = role_of(h, f);
	char marker[12] = "";

	if (role)
		snprintf(marker, sizeof(marker), "%s", streq(role, "gpu") ? "GPU" : "AUDIO");
	printf("  %s%-5s%s %s [%04x:%04x] %s: %s (driver %s, reset: %s)%s%s%s\n",
	       color && role ? "\033[1m" : "", marker, color && role ? "\033[0m" : "", f->address,
	       f->vendor, f->device, f->class_name ? f->class_name : "Class", strna(name),
	       f->driver ? f->driver : "none", reset && *reset ? reset : "none",
	       f->boot_vga == 1 ? " [boot VGA]" : "", f->console ? " [console]" : "",
	       f->config_dead ? " [not responding: config space reads 0xff]" : "");
}

static void print_func_json(const struct host *h, const struct pci_func *f)
{
	_cleanup_free_ char *name = pcidev_display_name(f);
	const char *role = role_of(h, f);

	printf("{\"address\":\"%s\",\"vendor\":\"%04x\",\"device\":\"%04x\","
	       "\"subsystem_vendor\":\"%04x\",\"subsystem_device\":\"%04x\",\"class\":\"%04x\",",
	       f->address, f->vendor, f->device, f->subvendor, f->subdevice, f->class >> 8);
	json_key(stdout, "name");
	json_string(stdout, name);
	printf(",");
	json_key(stdout, "driver");
	json_string(stdout, f->driver);
	printf(",");
	json_key(stdout, "driver_override");
	json_string(stdout, f->driver_override);
	printf(",\"boot_vga\":%s,\"console\":%s,\"bridge\":%s,\"responding\":%s,\"role\":",
	       f->boot_vga == 1 ? "true" : "false", f->console ? "true" : "false",
	       f->is_bridge ? "true" : "false", f->config_dead ? "false" : "true");
	json_string(stdout, role);
	printf(",\"reset\":[");
	for (char **m = f->reset_methods; m && *m; m++) {
		if (m != f->reset_methods)
			putchar(',');
		json_string(stdout, *m);
	}
	printf("]}");
}

static void ls_json(const struct host *h)
{
	bool first = true;

	printf("{\"groups\":[");
	for (size_t g = 0; g < h->n_groups; g++) {
		const struct iommu_group *grp = &h->groups[g];

		printf("%s{\"id\":%d,\"type\":", g ? "," : "", grp->id);
		json_string(stdout, grp->type);
		printf(",\"devices\":[");
		for (size_t i = 0; i < grp->n_members; i++) {
			if (i)
				putchar(',');
			print_func_json(h, &h->funcs[grp->members[i]]);
		}
		printf("]}");
	}
	printf("],\"ungrouped\":[");
	for (size_t i = 0; i < h->n_funcs; i++) {
		if (h->funcs[i].iommu_group >= 0 && host_find_group(h, h->funcs[i].iommu_group))
			continue;
		if (!first)
			putchar(',');
		first = false;
		print_func_json(h, &h->funcs[i]);
	}
	printf("]}\n");
}

static void ls_text(const struct host *h)
{
	bool color = log_use_color(STDOUT_FILENO), header = false;

	if (h->n_groups == 0)
		printf(
		    "No IOMMU groups: the IOMMU is off or not supported (see `gpurun check`).\n");
	for (size_t g = 0; g < h->n_groups; g++) {
		const struct iommu_group *grp = &h->groups[g];

		printf("IOMMU group %d%s%s%s:\n", grp->id, grp->type ? " (" : "",
		       grp->type ? grp->type : "", grp->type ? ")" : "");
		for (size_t i = 0; i < grp->n_members; i++)
			print_func_line(h, &h->funcs[grp->members[i]], color);
	}
	for (size_t i = 0; i < h->n_funcs; i++) {
		if (h->funcs[i].iommu_group >= 0 && host_find_group(h, h->funcs[i].iommu_group))
			continue;
		if (!header)
			printf("Devices without an IOMMU group:\n");
		header = true;
		print_func_line(h, &h->funcs[i], color);
	}
}

const struct cmd_option cmd_ls_options[] = {
	CMD_OPTION_GLOBAL("json", "the groups and their devices as one JSON object"),
	{},
};

int cmd_ls(int argc, char **argv)
{
	struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_ls_options);
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(host_freep) struct host *h = NULL;

	if (cmd_parse_options(&parser) < 0)
		return parser.status;
	if (optind < argc)
		return cmd_usage_error("ls", "takes no arguments (got '%s')", argv[optind]);
	if (cmd_make_ctx(&c) < 0)
		return EXIT_USAGE;
	if (cmd_host_inspect(c, &h) < 0)
		return EXIT_FAILURE_OP;
	if (arg_json)
		ls_json(h);
	else
		ls_text(h);
	return EXIT_OK;
}
