/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun ls [DEVICE|GROUP...]: IOMMU groups with their devices, drivers and reset methods, in
 * lspci's words and order; one device, or one group, when named. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "host/inspect.h"
#include "host/pcidev.h"
#include "util/error.h"
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

/* Columns an ls line may take: COLUMNS, else the terminal's width on a tty, else 80. */
static size_t line_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	char *end;
	unsigned long n;

	if (env && *env) {
		errno = 0;
		n = strtoul(env, &end, 10);
		if (!errno && !*end && n >= 20 && n <= 1000)
			return n;
	}
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* lspci names the vendor "Advanced Micro Devices, Inc. [AMD/ATI]"; "AMD/ATI" when short of
 * room. NULL when the name has no short form. */
static char *short_vendor(const char *v)
{
	const char *o = v ? strrchr(v, '[') : NULL;
	size_t n = o ? strcspn(o + 1, "]") : 0;

	if (!o || n == 0 || o[1 + n] != ']')
		return NULL;
	return strndup(o + 1, n);
}

/* The device's name in at most @room columns: vendor and device as lspci prints them, else with
 * the vendor's short form, else the device alone, else that cut with "...". Never shorter than
 * 8 columns (the line is then longer than the width: the ids are never cut). */
static char *fitted_name(const struct pci_func *f, size_t room)
{
	_cleanup_free_ char *full = pcidev_display_name(f), *sv = short_vendor(f->vendor_name);
	char *s = NULL;

	if (!full)
		return NULL;
	if (strlen(full) <= room)
		return TAKE_PTR(full);
	if (sv && f->device_name && asprintf(&s, "%s %s", sv, f->device_name) < 0)
		return NULL;
	if (!s)
		s = TAKE_PTR(full);
	if (strlen(s) > room && f->vendor_name && f->device_name) {
		free(s);
		s = strdup(f->device_name);
		if (!s)
			return NULL;
	}
	if (room < 8)
		room = 8;
	if (strlen(s) > room)
		strcpy(s + room - 3, "...");
	return s;
}

/* lspci's line ("c4:00.0 VGA compatible controller [0300]: NAME [1002:1586] (rev c1)") after
 * the GPU/AUDIO marker, the name fitted to the width; then gpurun's extras on their own line,
 * as `lspci -k` puts the driver under the device. */
static void print_func_line(const struct host *h, const struct pci_func *f, bool color,
			    bool short_addr, size_t width)
{
	_cleanup_free_ char *reset = strv_join(f->reset_methods, " "), *name = NULL;
	const char *role = role_of(h, f), *addr = short_addr ? f->address + 5 : f->address;
	char marker[12] = "", tail[32], head[160];
	size_t used;

	if (role)
		snprintf(marker, sizeof(marker), "%s", streq(role, "gpu") ? "GPU" : "AUDIO");
	snprintf(head, sizeof(head), "%s %s [%04x]: ", addr,
		 f->class_name ? f->class_name : "Class", f->class >> 8);
	if (f->revision)
		snprintf(tail, sizeof(tail), " [%04x:%04x] (rev %02x)", f->vendor, f->device,
			 f->revision);
	else
		snprintf(tail, sizeof(tail), " [%04x:%04x]", f->vendor, f->device);
	used = 8 + strlen(head) + strlen(tail);
	name = fitted_name(f, width > used ? width - used : 0);
	printf("  %s%-5s%s %s%s%s\n", color && role ? "\033[1m" : "", marker,
	       color && role ? "\033[0m" : "", head, strna(name), tail);
	/* libvirt's node devices do not show reset methods: a remote node's are unknown */
	printf("          driver %s, reset: %s%s%s%s\n", f->driver ? f->driver : "none",
	       h->remote_uri	 ? "unknown"
	       : reset && *reset ? reset
				 : "none",
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
	printf(",\"revision\":\"%02x\",", f->revision);
	json_key(stdout, "class_name");
	json_string(stdout, f->class_name);
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
	if (h->remote_uri) {
		/* unknown, not "none": libvirt does not show a remote node's reset methods */
		printf(",\"reset\":null}");
		return;
	}
	printf(",\"reset\":[");
	for (char **m = f->reset_methods; m && *m; m++) {
		if (m != f->reset_methods)
			putchar(',');
		json_string(stdout, *m);
	}
	printf("]}");
}

static bool group_shown(const struct iommu_group *grp, const bool *show)
{
	for (size_t i = 0; i < grp->n_members; i++)
		if (show[grp->members[i]])
			return true;
	return false;
}

static bool ungrouped(const struct host *h, size_t i)
{
	return h->funcs[i].iommu_group < 0 || !host_find_group(h, h->funcs[i].iommu_group);
}

static void ls_json(const struct host *h, const bool *show)
{
	bool first = true, first_group = true;

	printf("{\"groups\":[");
	for (size_t g = 0; g < h->n_groups; g++) {
		const struct iommu_group *grp = &h->groups[g];
		bool first_dev = true;

		if (!group_shown(grp, show))
			continue;
		printf("%s{\"id\":%d,\"type\":", first_group ? "" : ",", grp->id);
		first_group = false;
		json_string(stdout, grp->type);
		printf(",\"devices\":[");
		for (size_t i = 0; i < grp->n_members; i++) {
			if (!show[grp->members[i]])
				continue;
			if (!first_dev)
				putchar(',');
			first_dev = false;
			print_func_json(h, &h->funcs[grp->members[i]]);
		}
		printf("]}");
	}
	printf("],\"ungrouped\":[");
	for (size_t i = 0; i < h->n_funcs; i++) {
		if (!ungrouped(h, i) || !show[i])
			continue;
		if (!first)
			putchar(',');
		first = false;
		print_func_json(h, &h->funcs[i]);
	}
	printf("]}\n");
}

static void ls_text(const struct host *h, const bool *show, bool all)
{
	bool color = log_use_color(STDOUT_FILENO), header = false, short_addr = true;
	size_t width = line_width();

	/* lspci leaves out domain 0000 when every device is in it */
	for (size_t i = 0; i < h->n_funcs; i++)
		short_addr = short_addr && h->funcs[i].domain == 0;
	if (h->n_groups == 0 && all)
		printf(
		    "No IOMMU groups: the IOMMU is off or not supported (see `gpurun check`).\n");
	for (size_t g = 0; g < h->n_groups; g++) {
		const struct iommu_group *grp = &h->groups[g];

		if (!group_shown(grp, show))
			continue;
		printf("IOMMU group %d%s%s%s:\n", grp->id, grp->type ? " (" : "",
		       grp->type ? grp->type : "", grp->type ? ")" : "");
		for (size_t i = 0; i < grp->n_members; i++)
			if (show[grp->members[i]])
				print_func_line(h, &h->funcs[grp->members[i]], color, short_addr,
						width);
	}
	for (size_t i = 0; i < h->n_funcs; i++) {
		if (!ungrouped(h, i) || !show[i])
			continue;
		if (!header)
			printf("Devices without an IOMMU group:\n");
		header = true;
		print_func_line(h, &h->funcs[i], color, short_addr, width);
	}
}

/* Mark what @arg names: a number is an IOMMU group (all its members), anything else a device
 * (every function an id matches). EXIT_OK or the exit status of the error it logged. */
static int select_arg(const struct host *h, const char *arg, bool *show)
{
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ const struct pci_func **m = NULL;
	int n;

	if (*arg && strspn(arg, "0123456789") == strlen(arg)) {
		/* a group number too large for an int is no group either */
		const struct iommu_group *g =
		    strlen(arg) <= 6 ? host_find_group(h, atoi(arg)) : NULL;

		if (!g) {
			/* with --connect the groups are the remote node's, not this host's */
			log_error("No IOMMU group %s on %s (%s).", arg,
				  h->remote_uri ? h->remote_uri : "this host",
				  h->n_groups == 0 ? "the IOMMU is off; see `gpurun ls`"
						   : "`gpurun ls` lists its groups");
			return EXIT_USAGE;
		}
		for (size_t i = 0; i < g->n_members; i++)
			show[g->members[i]] = true;
		return EXIT_OK;
	}
	n = host_resolve_devices(h, arg, &m, &err);
	if (n < 0)
		return cmd_device_error("device", arg, &err, n);
	for (int i = 0; i < n; i++)
		show[m[i] - h->funcs] = true;
	return EXIT_OK;
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
	_cleanup_free_ bool *show = NULL;
	int r;

	if (cmd_parse_options(&parser) < 0)
		return parser.status;
	if (cmd_make_ctx(&c) < 0)
		return EXIT_USAGE;
	if (cmd_host_inspect(c, &h) < 0)
		return EXIT_FAILURE_OP;
	show = calloc(h->n_funcs + 1, sizeof(bool));
	if (!show)
		return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
	for (int i = optind; i < argc; i++) {
		r = select_arg(h, argv[i], show);
		if (r != EXIT_OK)
			return r;
	}
	if (optind >= argc)
		for (size_t i = 0; i < h->n_funcs; i++)
			show[i] = true;
	if (arg_json) {
		ls_json(h, show);
		cmd_json_printed = true;
	} else
		ls_text(h, show, optind >= argc);
	return EXIT_OK;
}
