/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "host/hostfs.h"
#include "host/inspect.h"
#include "host/remote.h"
#include "host/vfio.h"
#include "util/error.h"
#include "util/log.h"

static int cmd_help(int argc, char **argv);

/* Aliases point at the same function; `gpurun FILE` means `gpurun run FILE`. The options
 * tables are the commands' own (cmd-*.c): the parser and this help share them. */
static const struct cmd_command commands[] = {
	{
	    .name = "run",
	    .run = cmd_run,
	    .synopsis = "run [OPTIONS] PROFILE\n[OPTIONS] PROFILE",
	    .summary = "Check, prepare the host, start the guest, wait, revert the host",
	    .description =
		"Check the host, prepare it (vfio modules, ROM files, every function of the GPU "
		"bound to vfio-pci; each change is written to a journal before it is made), start "
		"the guest with the profile's backend (QEMU, or a transient libvirt domain), wait "
		"for it to stop and revert every change. SIGINT, SIGTERM, SIGHUP and every other "
		"signal that would end gpurun (SIGQUIT, SIGUSR1, SIGALRM...) stop the guest; the "
		"host is reverted whatever way it ends. `gpurun PROFILE` is the same.",
	    .options = cmd_run_options,
	    .examples =
		(const struct cmd_example[]){
		    { "what would change on the host, and the QEMU command line; changes nothing",
		      "gpurun --dry-run run /etc/gpurun/win11.profile" },
		    { "run the guest, QEMU's output in /run/gpurun/win11/qemu.log",
		      "gpurun run --log /etc/gpurun/win11.profile" },
		    {},
		},
	},
	{
	    .name = "check",
	    .run = cmd_check,
	    .synopsis = "check [OPTIONS] [PROFILE]\ncheck [OPTIONS] --device BDF|VVVV:DDDD",
	    .summary = "Host readiness report: PASS/WARN/FAIL with the fix for each",
	    .description =
		"Host readiness report: one PASS, WARN or FAIL line per check, and the fix for "
		"each WARN and FAIL. It checks CPU virtualization and /dev/kvm, the IOMMU, "
		"interrupt remapping and the vfio modules, and for each GPU (or the GPU of "
		"PROFILE, or the device given) its IOMMU group, driver, boot VGA and console, "
		"reset method and VBIOS source. Exit status 1 when a check FAILs.",
	    .options = cmd_check_options,
	    .examples =
		(const struct cmd_example[]){
		    { "is this host ready for passthrough?", "gpurun check" },
		    { "one GPU, by vendor:device id, as JSON",
		      "gpurun check --device 1002:1586 --json" },
		    {},
		},
	},
	{
	    .name = "ls",
	    .run = cmd_ls,
	    .synopsis = "ls [OPTIONS] [DEVICE|GROUP...]",
	    .summary = "List IOMMU groups with their devices, drivers and reset methods",
	    .description =
		"List the IOMMU groups with their devices: each PCI function as lspci -nn shows "
		"it (address, class [code]: name [vendor:device] (rev)), marked GPU or AUDIO for "
		"the GPU and its audio function, and under it the driver, the reset methods and "
		"whether it is the boot VGA device. Names are cut to fit the terminal (COLUMNS, "
		"80 when not a terminal); ids never are. A DEVICE (0000:c4:00.0, c4:00.0, 3:0.0 or "
		"1002:1586) lists that device, a GROUP number that IOMMU group. Devices without an "
		"IOMMU group come last (the IOMMU is off).",
	    .options = cmd_ls_options,
	    .examples =
		(const struct cmd_example[]){
		    { "which IOMMU group is the GPU in, and what else is in it?", "gpurun ls" },
		    { "one device, by vendor:device id", "gpurun ls 1002:1586" },
		    { "IOMMU group 14 only", "gpurun ls 14" },
		    { "the same on a captured host tree",
		      "gpurun --root tests/fixtures/hosts/strix-halo ls" },
		    {},
		},
	},
	{
	    .name = "plan",
	    .run = cmd_plan,
	    .synopsis = "plan [OPTIONS] PROFILE",
	    .summary = "What `run` would do, step by step, changing nothing",
	    .description =
		"Print what `gpurun run PROFILE` would do, step by step: the devices the guest "
		"gets, the ROM and firmware files, the ordered host actions, and the diagnostics. "
		"Nothing is changed. Exit status 1 when a diagnostic is a FAIL.",
	    .options = cmd_plan_options,
	    .examples =
		(const struct cmd_example[]){
		    { "what would happen, step by step", "gpurun plan /etc/gpurun/win11.profile" },
		    {},
		},
	},
	{
	    .name = "emit",
	    .run = cmd_emit,
	    .help_extra = cmd_emit_help_outputs,
	    .synopsis = "emit qemu|libvirt|proxmox [OPTIONS] PROFILE",
	    .summary = "Print QEMU arguments, libvirt domain XML or Proxmox VE lines",
	    .description =
		"Print the profile as QEMU arguments (qemu, alias `gpurun args`), as libvirt "
		"domain XML (libvirt, alias `gpurun xml`) or as lines for "
		"/etc/pve/qemu-server/VMID.conf (proxmox, alias `gpurun proxmox`), for another "
		"tool to run. The host is not prepared: gpurun bind, the libvirt hook or the "
		"Proxmox hookscript do that.",
	    .options = cmd_emit_options,
	    .examples =
		(const struct cmd_example[]){
		    { "libvirt XML for `virsh define`", "gpurun emit libvirt win11.profile" },
		    { "Proxmox lines, with the ROM files copied to /usr/share/kvm",
		      "gpurun emit proxmox --stage /etc/gpurun/100.profile" },
		    {},
		},
	},
	{
	    .name = "args",
	    .run = cmd_emit,
	    .synopsis = "args PROFILE",
	    .description = "Same as `gpurun emit qemu PROFILE`: the QEMU arguments, one option "
			   "per line, shell-quoted.",
	    .options = cmd_args_options,
	    .examples = (const struct cmd_example[]){ { NULL, "gpurun args win11.profile" }, {} },
	},
	{
	    .name = "xml",
	    .run = cmd_emit,
	    .synopsis = "xml [OPTIONS] PROFILE",
	    .description = "Same as `gpurun emit libvirt PROFILE`: the libvirt domain XML.",
	    .options = cmd_xml_options,
	    .examples =
		(const struct cmd_example[]){ { NULL, "gpurun xml --managed win11.profile" }, {} },
	},
	{
	    .name = "proxmox",
	    .run = cmd_emit,
	    .synopsis = "proxmox [OPTIONS] PROFILE",
	    .description = "Same as `gpurun emit proxmox PROFILE`: lines for "
			   "/etc/pve/qemu-server/VMID.conf.",
	    .options = cmd_pve_options,
	    .examples =
		(const struct cmd_example[]){ { NULL, "gpurun proxmox --stage 100.profile" }, {} },
	},
	{
	    .name = "vbios",
	    .run = cmd_vbios,
	    .synopsis = "vbios list [OPTIONS]\nvbios extract [OPTIONS]",
	    .summary = "List or extract the VBIOS images of the ACPI VFCT table",
	    .description =
		"`vbios list` prints the ACPI VFCT table and its VBIOS images, each matched to the "
		"host device it belongs to. `vbios extract` writes the image of a GPU to "
		"vbios_VVVV_DDDD.bin, validates what it wrote and says which source it used; "
		"without a VFCT record it reads the device's sysfs ROM instead.",
	    .options = cmd_vbios_options,
	    .examples =
		(const struct cmd_example[]){
		    { "the VBIOS images the firmware publishes", "gpurun vbios list" },
		    { "extract the iGPU's VBIOS into the current directory",
		      "gpurun vbios extract --device 1002:1586 -o ." },
		    {},
		},
	},
	{
	    .name = "rom",
	    .run = cmd_rom,
	    .synopsis = "rom info [OPTIONS] FILE...\nrom combine [OPTIONS] -o OUT VBIOS GOP",
	    .summary = "Decode and validate option ROM files, or combine VBIOS and GOP",
	    .description =
		"`rom info` decodes option ROM files, one block per image (offset, ids, class, "
		"length, code type, checksum; EFI subsystem and machine), with what is wrong with "
		"them; exit status 1 if a file is invalid. `rom combine` writes one ROM holding "
		"the legacy VBIOS image first and the GOP driver's x64 EFI image last.",
	    .options = cmd_rom_options,
	    .examples =
		(const struct cmd_example[]){
		    { "is this a valid ROM with an EFI image?",
		      "gpurun rom info vbios_1002_1586.bin" },
		    { "a VBIOS and AMDGopDriver.rom in one ROM file",
		      "gpurun rom combine -o combined.rom vbios_1002_1586.bin AMDGopDriver.rom" },
		    {},
		},
	},
	{
	    .name = "bind",
	    .run = cmd_bind,
	    .synopsis = "bind [OPTIONS] PROFILE|BDF...",
	    .summary = "Bind devices to vfio-pci without starting a guest, journalled",
	    .description =
		"Prepare the devices of PROFILE for a guest without starting one: vfio modules, "
		"ROM files, every function bound to vfio-pci, with the checks, refusals, journal "
		"and locks of `gpurun run`. Given PCI addresses instead, bind those functions. "
		"`gpurun unbind` gives them back. The libvirt hook and the Proxmox hookscript "
		"call this.",
	    .options = cmd_bind_options,
	    .examples =
		(const struct cmd_example[]){
		    { "bind the GPU of a profile", "gpurun bind /etc/gpurun/win11.profile" },
		    { "bind two functions by address, printing the changes only",
		      "gpurun --dry-run bind 0000:c4:00.0 0000:c4:00.1" },
		    {},
		},
	},
	{
	    .name = "unbind",
	    .run = cmd_bind,
	    .synopsis = "unbind [OPTIONS] PROFILE|BDF...",
	    .summary = "Give devices bound by `gpurun bind` back to their drivers",
	    .description =
		"Give the devices bound by `gpurun bind` back: the journal of PROFILE (or of the "
		"addresses) is replayed, so every function returns to its driver and everything "
		"else bind did is undone. An address no journal knows goes from vfio-pci to the "
		"driver the kernel picks.",
	    .options = cmd_bind_options,
	    .examples =
		(const struct cmd_example[]){
		    { "release what `gpurun bind win11.profile` bound",
		      "gpurun unbind /etc/gpurun/win11.profile" },
		    {},
		},
	},
	{
	    .name = "restore",
	    .run = cmd_restore,
	    .synopsis = "restore [OPTIONS] [VM]",
	    .summary = "Undo what a killed gpurun left behind, from its journal",
	    .description =
		"Undo what a crashed or killed gpurun left behind by replaying the journal of VM "
		"(the profile's [vm] name), or of every VM that has one, backwards. It goes on "
		"past single errors and says which driver each function has again. Without a "
		"journal there is nothing to do (exit status 0).",
	    .options = cmd_restore_options,
	    .examples =
		(const struct cmd_example[]){
		    { "what would be undone for VM win11", "gpurun --dry-run restore win11" },
		    { "undo everything any gpurun left behind", "gpurun restore" },
		    {},
		},
	},
	{
	    .name = "host-config",
	    .run = cmd_host_config,
	    .synopsis = "host-config [OPTIONS] [PROFILE]\nhost-config [OPTIONS] --device "
			"BDF|VVVV:DDDD",
	    .summary = "Persistent host setup (kernel cmdline, modprobe.d) as a diff",
	    .description =
		"Persistent host setup for a GPU dedicated to guests at boot: IOMMU kernel "
		"parameters for the bootloader found, the vfio modules in modules-load.d, the "
		"vfio-pci ids and softdeps in modprobe.d. Without --apply it prints a diff per "
		"file and the commands that would follow, and changes nothing.",
	    .options = cmd_host_config_options,
	    .examples =
		(const struct cmd_example[]){
		    { "what would change for the GPU of a profile",
		      "gpurun host-config /etc/gpurun/win11.profile" },
		    { "write it (with a backup), then reboot",
		      "gpurun host-config --apply --device 1002:1586" },
		    {},
		},
	},
	{
	    .name = "explain",
	    .run = cmd_explain,
	    .synopsis = "explain [OPTIONS] [VM]\nexplain [OPTIONS] --log FILE...",
	    .summary = "The cause and fix of a failed start, from QEMU's and the kernel's messages",
	    .description =
		"Read what QEMU said (the log `gpurun run` keeps in STATE-DIR/VM/qemu.log, or "
		"libvirt's log of the domain) and the kernel's messages since the run of VM "
		"started, match them against gpurun's table of known failures, and print each "
		"cause with its evidence (the matching line), its fix and where the message comes "
		"from. Lines that look alarming but are normal are shown as harmless. With --log "
		"it explains a log you have instead. `gpurun run` prints the same at the end of a "
		"guest that failed. Without VM, the one VM with a recorded run.",
	    .options = cmd_explain_options,
	    .examples =
		(const struct cmd_example[]){
		    { "why did the last run of VM win11 fail?", "gpurun explain win11" },
		    { "explain a log someone pasted, and the kernel's messages",
		      "gpurun explain --log qemu.txt --log dmesg.txt" },
		    { "the same from a pipe, as JSON", "dmesg | gpurun explain --json --log -" },
		    {},
		},
	},
	{
	    .name = "help",
	    .run = cmd_help,
	    .synopsis = "help [COMMAND]",
	    .summary = "A command's options and examples (or this list)",
	    .description = "Without COMMAND, list the commands and the global options; with "
			   "it, print that command's usage, options and examples, as "
			   "`gpurun COMMAND --help` does.",
	    .examples =
		(const struct cmd_example[]){
		    { "the options of check", "gpurun help check" },
		    {},
		},
	},
};

/* --version exists before the command name only. */
static const struct cmd_option main_options[] = {
	{ "version", 0, no_argument, ARG_VERSION, NULL, "print the version and exit" },
	{},
};

static const struct cmd_command *find_command(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (streq(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* "unknown command 'chek'; did you mean 'check'?" */
static int unknown_command(const char *context, const char *name)
{
	const char *names[ELEMENTSOF(commands) + 1];
	const char *best;

	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		names[i] = commands[i].name;
	names[ELEMENTSOF(commands)] = NULL;
	best = cmd_closest(name, names);
	if (best)
		return cmd_usage_error(context, "unknown command '%s'; did you mean '%s'?", name,
				       best);
	return cmd_usage_error(context, "unknown command '%s' (see 'gpurun help')", name);
}

static void help(void)
{
	printf("Usage: gpurun [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]\n"
	       "       gpurun [GLOBAL OPTIONS] PROFILE     same as `gpurun run PROFILE`\n\n"
	       "Launch virtual machines with a physical GPU passed through (VFIO).\n\n"
	       "Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (commands[i].summary)
			printf("  %-12s %s\n", commands[i].name, commands[i].summary);
	printf("\nGlobal options (before or after the command name):\n");
	cmd_options_help(cmd_common_options, NULL, stdout);
	cmd_options_help(main_options, NULL, stdout);
	printf("\n`gpurun help COMMAND` shows the options and examples of one command.\n"
	       "Exit status: 0 success, 1 an operation failed, 2 usage or input error.\n"
	       "See gpurun(8) and gpurun.profile(5).\n");
}

void cmd_print_help(const char *name)
{
	const struct cmd_command *c = name ? find_command(name) : NULL;

	if (c)
		cmd_command_help(c, stdout);
	else
		help();
}

static int cmd_help(int argc, char **argv)
{
	struct cmd_parser parser = CMD_PARSER(argc, argv, NULL);
	const struct cmd_command *c;

	if (cmd_parse_options(&parser) < 0)
		return parser.status;
	if (optind >= argc) {
		help();
		return EXIT_OK;
	}
	if (argc - optind > 1)
		return cmd_usage_error("help", "expected one COMMAND, got '%s' too",
				       argv[optind + 1]);
	c = find_command(argv[optind]);
	if (!c)
		return unknown_command("help", argv[optind]);
	cmd_command_help(c, stdout);
	return EXIT_OK;
}

/* -v: each sysfs write as it happens, the value as a C string ("\n" clears an override) */
static void log_write(void *userdata _unused_, const char *path, const char *value)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (log_get_max_level() < LOG_INFO)
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	if (fclose(f) != 0)
		return;
	log_info("write %s = \"%s\"", path, buf);
}

/* a wait of more than a second says what it waits for */
static void log_wait(void *userdata _unused_, const struct vfio_wait_note *n)
{
	unsigned total = (n->timeout_ms + 999) / 1000;

	if (n->path)
		log_notice("waiting for %s (IOMMU group %d) (%u s of %u)...", n->path, n->group,
			   n->elapsed_s, total);
	else if (n->driver && !streq_ptr(n->driver, n->want))
		log_notice("waiting for %s to release %s (%u s of %u)...", n->driver, n->bdf,
			   n->elapsed_s, total);
	else
		log_notice("waiting for %s to take %s (%u s of %u)...",
			   n->want ? n->want : "a host driver", n->bdf, n->elapsed_s, total);
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
	if (arg_connect) {
		_cleanup_(error_clear) struct error err = {};

		r = remote_uri_classify(arg_connect, &err);
		if (r < 0)
			return log_error_errno(r, "Invalid --connect: %s", strna(err.message));
		if (r > 0 && !(c->remote_uri = strdup(arg_connect)))
			return log_error_errno(-ENOMEM, "Out of memory");
	}
	if (arg_qemu && !(c->qemu_path = strdup(arg_qemu)))
		return log_error_errno(-ENOMEM, "Out of memory");
	*ret = TAKE_PTR(c);
	return 0;
}

int cmd_host_inspect(struct ctx *c, struct host **ret)
{
	struct host *h = NULL;
	int r;

	if (c->remote_uri) {
		_cleanup_(error_clear) struct error err = {};
		_cleanup_free_ char *why = NULL;

		r = remote_inspect(c->remote_uri, &h, &err);
		if (r < 0) {
			why = error_format(&err);
			return log_error_errno(r, "Failed to inspect node %s: %s", c->remote_uri,
					       strna(why));
		}
		for (char **n = h->notes; n && *n; n++)
			log_warning("%s", *n);
		*ret = h;
		return 0;
	}
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

/* The commands whose table explains --json: with it, a script piping their output gets one JSON
 * object on every error path too (cli/report.h cmd_json_finish). */
static bool takes_json(const struct cmd_command *c)
{
	for (const struct cmd_option *o = c->options; o && o->name; o++)
		if (streq(o->name, "json"))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct cmd_parser parser = {
		.argc = argc,
		.argv = argv,
		.options = main_options,
		.in_order = true, /* global options before the command name */
	};
	const struct cmd_command *cmd;
	int opt, r;

	log_setup();
	log_libxml2_init();
	hostfs_set_write_hook(log_write, NULL);
	vfio_set_wait_hook(log_wait, NULL);

	while ((opt = cmd_parse_options(&parser)) > 0)
		if (opt == ARG_VERSION) {
			printf("gpurun %s\n", GPURUN_VERSION);
			return EXIT_OK;
		}
	if (opt < 0)
		return parser.status;
	if (optind >= argc) {
		help();
		return EXIT_USAGE;
	}

	cmd = find_command(argv[optind]);
	if (!cmd) {
		/* `gpurun win11.profile`: a path is a run. */
		if (strchr(argv[optind], '/') || strstr(argv[optind], ".profile") ||
		    access(argv[optind], F_OK) == 0)
			cmd = find_command("run");
		if (!cmd)
			return unknown_command(NULL, argv[optind]);
		/* Run gets argv with "run" inserted before the profile. */
		argv[optind - 1] = (char *)"run";
		optind--;
	}
	argc -= optind;
	argv += optind;
	r = cmd->run(argc, argv);
	if (takes_json(cmd))
		r = cmd_json_finish(cmd->name, r);
	free(arg_root);
	free(arg_state_dir);
	free(arg_connect);
	free(arg_qemu);
	return r;
}
