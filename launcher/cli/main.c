/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "host/inspect.h"
#include "util/log.h"

char *arg_root;
char *arg_state_dir;
char *arg_connect;
char *arg_qemu;
bool arg_json;
bool arg_dry_run;
bool arg_force;

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
	const char *help;
};

/* Aliases point at the same function; `gpurun FILE` means `gpurun run FILE`. */
static const struct command commands[] = {
	{ "help", NULL, "help", NULL },
	{ "ls", cmd_ls, "ls", "List IOMMU groups with their devices, drivers and reset methods" },
	{ "check", cmd_check, "check [PROFILE | --device BDF|VVVV:DDDD]",
	  "Host readiness report: PASS/WARN/FAIL with the fix for each" },
	{ "host-config", cmd_host_config, "host-config [PROFILE|--device BDF|VVVV:DDDD]",
	  "Persistent host setup (kernel cmdline, modprobe.d, modules-load.d) as a diff; --apply "
	  "writes it, --revert restores the backup, --blacklist also blacklists the GPU driver" },
	{ "plan", cmd_plan, "plan PROFILE", "What `run` would do, step by step, changing nothing" },
	{ "emit", cmd_emit, "emit qemu|libvirt|proxmox PROFILE [--managed] [--stage]",
	  "Print the QEMU command line, libvirt domain XML or Proxmox VE config lines" },
	{ "args", cmd_emit, "args PROFILE", NULL },
	{ "xml", cmd_emit, "xml PROFILE [--managed]", NULL },
	{ "proxmox", cmd_emit, "proxmox PROFILE [--stage]", NULL },
	{ "vbios", cmd_vbios, "vbios list | extract [--device BDF|VVVV:DDDD] [-o DIR] [--force]",
	  "List the VBIOS images in the ACPI VFCT table, or extract one (sysfs ROM as fallback)" },
	{ "rom", cmd_rom, "rom info [--json] FILE... | combine -o OUT VBIOS GOP [--force]",
	  "Decode and validate option ROM files, or combine a VBIOS with a GOP driver ROM" },
	{ "run", cmd_run, "run PROFILE",
	  "Check, prepare the host, start the guest, wait, revert the host "
	  "(--allow-boot-vga --force --log --timeout SEC)" },
	{ "bind", cmd_bind, "bind PROFILE|BDF...",
	  "Bind devices to vfio-pci without a guest, journalled (--allow-boot-vga --force "
	  "--timeout SEC)" },
	{ "unbind", cmd_bind, "unbind PROFILE|BDF...",
	  "Give devices bound by `gpurun bind` back to their drivers (--timeout SEC)" },
	{ "restore", cmd_restore, "restore [VM]",
	  "Undo what a killed gpurun left behind, from its journal; all VMs without VM" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (streq(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void help(void)
{
	printf("Usage: gpurun [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
	       "       gpurun PROFILE            same as `gpurun run PROFILE`\n\n"
	       "Launch virtual machines with a physical GPU passed through (VFIO).\n\n"
	       "Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (commands[i].help)
			printf("  %-44s %s\n", commands[i].synopsis, commands[i].help);
	printf("\nGlobal options:\n"
	       "  --root DIR        read and change the host tree under DIR instead of /\n"
	       "  --state-dir DIR   journals and locks (default /run/gpurun)\n"
	       "  --connect URI     libvirt connection URI (overrides the profile)\n"
	       "  --qemu PATH       QEMU binary (default qemu-system-x86_64, env GPURUN_QEMU)\n"
	       "  --json            machine-readable output where a command reports\n"
	       "  --dry-run         print each host change instead of making it\n"
	       "  -v, --verbose     more output (twice for debug)\n"
	       "  -q, --quiet       only errors\n"
	       "  --no-color        never colour output (also NO_COLOR=1)\n"
	       "  -h, --help        this help; `gpurun COMMAND --help` for one command\n"
	       "  --version\n\n"
	       "Exit status: 0 success, 1 an operation failed, 2 usage or input error.\n"
	       "See gpurun(8) and gpurun.profile(5).\n");
}

void cmd_print_help(const char *name)
{
	const struct command *c = find_command(name);

	if (!c)
		return;
	printf("Usage: gpurun %s\n\n%s\n", c->synopsis, c->help ? c->help : "");
}

int cmd_common_option(int opt, const char *arg)
{
	enum log_level l = log_get_max_level();
	char **target = NULL;

	switch (opt) {
	case 'h':
		return 1;
	case 'v':
		if (l < LOG_DEBUG)
			log_set_max_level(l < LOG_INFO ? LOG_INFO : LOG_DEBUG);
		return 0;
	case 'q':
		log_set_max_level(LOG_WARNING);
		return 0;
	case ARG_ROOT:
		target = &arg_root;
		break;
	case ARG_STATE_DIR:
		target = &arg_state_dir;
		break;
	case ARG_CONNECT:
		target = &arg_connect;
		break;
	case ARG_QEMU:
		target = &arg_qemu;
		break;
	case ARG_JSON:
		arg_json = true;
		return 0;
	case ARG_DRY_RUN:
		arg_dry_run = true;
		return 0;
	case ARG_NO_COLOR:
		setenv("NO_COLOR", "1", 1);
		log_setup();
		return 0;
	default:
		return -EINVAL;
	}
	free(*target);
	*target = strdup(arg);
	return *target ? 0 : -ENOMEM;
}

int cmd_make_ctx(struct ctx **ret)
{
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	int r;

	r = ctx_new(arg_root, arg_state_dir, &c);
	if (r < 0)
		return log_error_errno(r, "Invalid --root '%s': %m", strempty(arg_root));
	c->json = arg_json;
	c->dry_run = arg_dry_run;
	c->force = arg_force;
	if (arg_connect && !(c->connect_uri = strdup(arg_connect)))
		return log_error_errno(-ENOMEM, "Out of memory");
	if (arg_qemu && !(c->qemu_path = strdup(arg_qemu)))
		return log_error_errno(-ENOMEM, "Out of memory");
	*ret = TAKE_PTR(c);
	return 0;
}

int cmd_host_inspect(struct ctx *c, struct host **ret)
{
	struct host *h = NULL;
	int r;

	r = host_inspect(c, &h);
	if (r == -EIO)
		return log_error("Failed to list PCI devices under %s: %s", c->sys, ctx_pci_error),
		       r;
	if (r < 0)
		return log_error_errno(r, "Failed to inspect the host: %m");
	for (char **n = h->notes; n && *n; n++)
		log_warning("%s", *n);
	*ret = h;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		CMD_COMMON_OPTIONS,
		{ "version", no_argument, NULL, ARG_VERSION },
		{},
	};
	const struct command *cmd;
	int c, r;

	log_setup();
	log_libxml2_init();

	/* Global options before the command name; "+" stops at the first non-option. */
	while ((c = getopt_long(argc, argv, "+" CMD_COMMON_SHORT, options, NULL)) >= 0) {
		if (c == ARG_VERSION) {
			printf("gpurun %s\n", GPURUN_VERSION);
			return EXIT_OK;
		}
		r = cmd_common_option(c, optarg);
		if (r == 1) {
			help();
			return EXIT_OK;
		}
		if (r < 0)
			return EXIT_USAGE;
	}
	if (optind >= argc) {
		help();
		return EXIT_USAGE;
	}

	cmd = find_command(argv[optind]);
	if (cmd && !cmd->run) {
		help();
		return EXIT_OK;
	}
	if (!cmd) {
		/* `gpurun win11.profile`: a path is a run. */
		if (strchr(argv[optind], '/') || strstr(argv[optind], ".profile") ||
		    access(argv[optind], F_OK) == 0)
			cmd = find_command("run");
		if (!cmd) {
			log_error("Unknown command '%s'. See 'gpurun --help'.", argv[optind]);
			return EXIT_USAGE;
		}
		/* Run gets argv with "run" inserted before the profile. */
		argv[optind - 1] = (char *)"run";
		optind--;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* full getopt reinitialisation for the command */
	r = cmd->run(argc, argv);
	free(arg_root);
	free(arg_state_dir);
	free(arg_connect);
	free(arg_qemu);
	return r;
}
