/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun emit qemu|libvirt|proxmox PROFILE (aliases: gpurun args|xml|proxmox PROFILE). */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "core/checks.h"
#include "core/diag.h"
#include "core/emit.h"
#include "core/plan.h"
#include "core/profile.h"
#include "core/rom.h"
#include "core/vfct.h"
#include "host/hostfs.h"
#include "host/paths.h"
#include "host/romstage.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strv.h"

/* --stage: copy each ROM a hostpci entry names into ROOT/usr/share/kvm. */
static int stage_one(struct ctx *c, const struct plan_device *d, struct vfct_table **vfct)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ void *buf = NULL;
	const void *data;
	size_t len = 0;
	int r;

	switch (d->rom_source) {
	case PLAN_ROM_VFCT: {
		const struct vfct_image *img;
		_cleanup_(error_clear) struct error err = {};
		_cleanup_free_ char *msg = NULL;
		unsigned dom, bus, dev, fn;

		if (!*vfct) {
			r = vfct_read(c, vfct, NULL, &err);
			if (r < 0) {
				msg = error_format(&err);
				return log_error_errno(r, "Failed to read the ACPI VFCT table: %s",
						       msg ? msg : strerror(-r));
			}
		}
		if (sscanf(d->address, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
			return log_error_errno(-EINVAL, "Bad address %s", d->address);
		img = vfct_find(*vfct, bus, dev, fn, d->vendor, d->device);
		if (!img)
			return log_error_errno(-ENOENT, "No VFCT image for %s [%04x:%04x]",
					       d->address, d->vendor, d->device);
		data = vfct_image_data(*vfct, (size_t)(img - (*vfct)->images));
		len = img->image_length;
		break;
	}
	case PLAN_ROM_SYSFS:
		r = rom_read_sysfs(c, d->address, &buf, &len);
		if (r < 0)
			return log_error_errno(r, "Failed to read the ROM of %s: %m", d->address);
		data = buf;
		break;
	case PLAN_ROM_FILE: {
		char *b = NULL;

		/* the profile names the file as on the host: read it under --root */
		_cleanup_free_ char *src = path_join(c->root, d->rom_source_path);

		if (!src)
			return log_error_errno(-ENOMEM, "Out of memory");
		r = read_full_file(src, 16 * 1024 * 1024, &b, &len);
		if (r < 0)
			return log_error_errno(r, "Failed to read %s: %m", src);
		buf = b;
		data = buf;
		break;
	}
	default:
		return 0;
	}
	{
		_cleanup_(error_clear) struct error why = {};
		_cleanup_free_ char *msg = NULL;

		r = rom_validate_for_guest(data, len, d->rom_is_gop, &why);
		if (r < 0) {
			msg = error_format(&why);
			return log_error_errno(r, "ROM for %s (%s): %s", d->address,
					       strna(d->rom_name), strna(msg));
		}
	}
	r = rom_stage(c, data, len, c->pve_rom_dir, d->rom_name, c->force, &path);
	if (r == -EEXIST)
		return log_error_errno(r, "%s/%s exists with different contents, not replacing it",
				       c->pve_rom_dir, d->rom_name);
	if (r < 0)
		return log_error_errno(r, "Failed to stage %s in %s: %m", d->rom_name,
				       c->pve_rom_dir);
	log_notice("Staged %s (%zu bytes)", path, len);
	return 0;
}

void cmd_emit_help_outputs(FILE *f)
{
	fprintf(f, "\nOutputs:\n");
	for (size_t i = 0; i < ELEMENTSOF(emitters); i++) {
		const struct emitter *e = &emitters[i];
		char alias[32] = "";

		if (!streq(e->alias, e->name))
			snprintf(alias, sizeof(alias), "(gpurun %s)", e->alias);
		fprintf(f, "  %-8s %-14s %s\n", e->name, alias, e->description);
		if (e->takes_managed)
			fprintf(f, "  %-23s --managed: libvirt manages the devices\n", "");
		if (e->names_rom_files)
			fprintf(f, "  %-23s --stage copies the ROM files it names\n", "");
		if (e->takes_args)
			fprintf(f, "  %-23s --args: the passthrough as args: instead of hostpci\n",
				"");
	}
}

/* --mapping without --node: this node's name as Proxmox has it (PVE::INotify::nodename: the
 * host name up to its first '.'), from ROOT/etc/hostname. Logs its errors. */
static int node_name(const struct ctx *c, char **ret)
{
	_cleanup_free_ char *path = path_join(c->etc, "hostname"), *buf = NULL;
	char *name, *node, *save = NULL;
	size_t len = 0;
	int r;

	if (!path)
		return log_error_errno(-ENOMEM, "Out of memory");
	r = read_full_file(path, 4096, &buf, &len);
	if (r < 0) {
		log_error("Cannot tell this node's name: %s: %s; give it with --node NAME.", path,
			  read_full_file_strerror(r));
		return r;
	}
	/* hostname(5): the first line that is not blank or a '#' comment, without blanks at
	 * its ends (what systemd gives the kernel, and so what Proxmox's nodename reads) */
	for (name = strtok_r(buf, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
		name += strspn(name, " \t\r");
		if (*name && *name != '#')
			break;
	}
	if (!name)
		name = buf + len; /* "" */
	name[strcspn(name, " \t\r")] = '\0';
	name[strcspn(name, ".")] = '\0';
	if (!*name) {
		log_error("Cannot tell this node's name: %s holds no host name (only blank or "
			  "'#' comment lines); give it with --node NAME.",
			  path);
		return -EINVAL;
	}
	if (!emit_proxmox_node_valid(name)) {
		log_error("Cannot tell this node's name: %s holds '%s', not a Proxmox node name; "
			  "give it with --node NAME.",
			  path, name);
		return -EINVAL;
	}
	node = strdup(name);
	if (!node)
		return log_error_errno(-ENOMEM, "Out of memory");
	*ret = node;
	return 0;
}

static int stage_roms(struct ctx *c, const struct plan *p)
{
	_cleanup_(vfct_table_freep) struct vfct_table *vfct = NULL;
	int r;

	for (size_t i = 0; i < p->n_devices; i++) {
		if (!p->devices[i].rom_name)
			continue;
		r = stage_one(c, &p->devices[i], &vfct);
		if (r < 0)
			return r;
	}
	return 0;
}

enum { ARG_MANAGED = _ARG_COMMON_MAX, ARG_STAGE, ARG_FORCE, ARG_ARGS, ARG_MAPPING, ARG_NODE };

/* emit has them all; the aliases only those of their output */
#define HELP_MANAGED                                                                               \
	"(libvirt) managed='yes' on each <hostdev>, for XML used without gpurun: libvirt then "    \
	"detaches the devices from their drivers and reattaches them itself"
#define HELP_STAGE                                                                                 \
	"(proxmox) also copy the ROM files the lines name into /usr/share/kvm (under --root): "    \
	"the VBIOS from the VFCT table or the sysfs ROM, and the profile's ROM files"
#define HELP_ARGS                                                                                  \
	"(proxmox) the passthrough as -device words of the args: line (own root ports, absolute "  \
	"romfile paths, x-vga) instead of hostpciN; qemu-server does not prepare those devices: "  \
	"a hookscript's gpurun bind must bind them before the VM starts"
#define HELP_MAPPING                                                                               \
	"(proxmox) hostpciN: mapping=NAME,... (cluster-wide PCI resource mappings, NAME, "         \
	"NAME-audio, ...) instead of host addresses, and this node's map of each (pvesh create "   \
	"/cluster/mapping/pci, /etc/pve/mapping/pci.cfg)"
#define HELP_NODE "(with --mapping) this node's name (default: /etc/hostname, up to its first '.')"
#define HELP_FORCE "(with --stage) replace a different file of the same name in /usr/share/kvm"
#define HELP_DRY_RUN "(with --stage) name the ROM files instead of copying them"
#define HELP_JSON                                                                                  \
	"when the profile cannot be emitted (a FAIL), its diagnostics as one JSON object on "      \
	"stdout instead of the FAIL lines"

const struct cmd_option cmd_emit_options[] = {
	{ "managed", 0, no_argument, ARG_MANAGED, NULL, HELP_MANAGED },
	{ "stage", 0, no_argument, ARG_STAGE, NULL, HELP_STAGE },
	{ "args", 0, no_argument, ARG_ARGS, NULL, HELP_ARGS },
	{ "mapping", 0, required_argument, ARG_MAPPING, "NAME", HELP_MAPPING },
	{ "node", 0, required_argument, ARG_NODE, "NAME", HELP_NODE },
	{ "force", 0, no_argument, ARG_FORCE, NULL, HELP_FORCE },
	CMD_OPTION_GLOBAL("dry-run", HELP_DRY_RUN),
	CMD_OPTION_GLOBAL("json", HELP_JSON),
	{},
};
const struct cmd_option cmd_args_options[] = {
	CMD_OPTION_GLOBAL("json", HELP_JSON),
	{},
};
const struct cmd_option cmd_xml_options[] = {
	{ "managed", 0, no_argument, ARG_MANAGED, NULL, HELP_MANAGED },
	CMD_OPTION_GLOBAL("json", HELP_JSON),
	{},
};
const struct cmd_option cmd_pve_options[] = {
	{ "stage", 0, no_argument, ARG_STAGE, NULL, HELP_STAGE },
	{ "args", 0, no_argument, ARG_ARGS, NULL, HELP_ARGS },
	{ "mapping", 0, required_argument, ARG_MAPPING, "NAME", HELP_MAPPING },
	{ "node", 0, required_argument, ARG_NODE, "NAME", HELP_NODE },
	{ "force", 0, no_argument, ARG_FORCE, NULL, HELP_FORCE },
	CMD_OPTION_GLOBAL("dry-run", HELP_DRY_RUN),
	CMD_OPTION_GLOBAL("json", HELP_JSON),
	{},
};

int cmd_emit(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct cmd_parser parser = CMD_PARSER(argc, argv,
					      streq(cmd, "args")      ? cmd_args_options
					      : streq(cmd, "xml")     ? cmd_xml_options
					      : streq(cmd, "proxmox") ? cmd_pve_options
								      : cmd_emit_options);
	bool stage = false;
	const struct emitter *e = NULL;
	struct cmd_planned c = {};
	struct emit_options o = {};
	_cleanup_free_ char *templates = NULL, *template_xml = NULL, *out = NULL, *names = NULL;
	_cleanup_free_ char *node = NULL;
	const char *mapping = NULL, *node_arg = NULL;
	_cleanup_fclose_ FILE *mem = NULL;
	_cleanup_(error_clear) struct error why = {};
	size_t out_len = 0;
	int opt, r;

	while ((opt = cmd_parse_options(&parser)) > 0)
		switch (opt) {
		case ARG_MANAGED:
			o.managed = true;
			break;
		case ARG_STAGE:
			stage = true;
			break;
		case ARG_FORCE:
			arg_force = true;
			break;
		case ARG_ARGS:
			o.proxmox_args = true;
			break;
		case ARG_MAPPING:
			mapping = parser.arg;
			break;
		case ARG_NODE:
			node_arg = parser.arg;
			break;
		}
	if (opt < 0)
		return parser.status;
	if (streq(cmd, "emit")) {
		const char *near;

		names = emitter_names();
		if (!names)
			return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
		if (optind >= argc)
			return cmd_usage_error("emit", "expected %s, and a PROFILE", names);
		e = emitter_find(argv[optind]);
		near = e ? NULL : emitter_suggest(argv[optind]);
		if (near)
			return cmd_usage_error("emit", "unknown output '%s'; did you mean '%s'?",
					       argv[optind], near);
		if (!e)
			return cmd_usage_error("emit", "unknown output '%s' (%s).", argv[optind],
					       names);
		optind++;
	} else
		e = emitter_find(cmd);
	if (!e)
		return EXIT_USAGE;
	if (optind + 1 != argc)
		return cmd_usage_error(cmd, "expected exactly one PROFILE argument");
	if (o.managed && !e->takes_managed)
		return cmd_usage_error(cmd, "--managed only applies to libvirt XML");
	if (stage && !e->names_rom_files)
		return cmd_usage_error(cmd, "--stage only applies to Proxmox output");
	if (o.proxmox_args && !e->takes_args)
		return cmd_usage_error(cmd, "--args only applies to Proxmox output");
	if (mapping && !e->takes_mapping)
		return cmd_usage_error(cmd, "--mapping only applies to Proxmox output");
	if (node_arg && !mapping)
		return cmd_usage_error(cmd, "--node only applies with --mapping");
	if (mapping && o.proxmox_args)
		return cmd_usage_error(cmd, "--mapping and --args exclude each other: args: names "
					    "this host's PCI addresses");
	if (mapping && !emit_proxmox_id_valid(mapping))
		return cmd_usage_error(
		    cmd,
		    "invalid mapping name '%s': a letter, then letters, digits, "
		    "'-' and '_', two characters at least (Proxmox's configuration ids)",
		    mapping);
	if (node_arg && !emit_proxmox_node_valid(node_arg))
		return cmd_usage_error(cmd,
				       "invalid node name '%s': letters, digits and '-', not at "
				       "either end (Proxmox's node names)",
				       node_arg);

	r = cmd_plan_load(argv[optind], false, &c);
	if (r != EXIT_OK)
		return r;
	/* a remote node's VM: --stage would write this machine's /usr/share/kvm, and --mapping
	 * would give this machine's name to the node's devices, without the subsystem ids Proxmox
	 * checks (libvirt's node devices do not show them) */
	if (c.plan->remote_uri && (stage || mapping)) {
		log_error("%s: %s, but the VM runs on %s, another host; run `gpurun emit proxmox "
			  "%s` on that Proxmox node itself, with a profile of a VM there.",
			  cmd,
			  stage ? "--stage copies the ROM files into this machine's /usr/share/kvm"
				: "--mapping prints this machine's map of its PCI devices",
			  c.plan->remote_uri, stage ? "--stage PROFILE" : "--mapping NAME PROFILE");
		cmd_planned_done(&c);
		return EXIT_USAGE;
	}
	/* the chosen output's limits (the backend's are in the plan already) */
	if (checks_output(c.plan, (enum emit_kind)(e - emitters), &c.plan->diags) < 0) {
		cmd_planned_done(&c);
		return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
	}
	if (!arg_json)
		cmd_print_diags(&c.plan->diags, DIAG_WARN);
	if (arg_json && (!c.plan->resolved || diag_count(&c.plan->diags, DIAG_FAIL) > 0)) {
		/* --json: the diagnostics say why, on stdout, and nothing else there */
		printf("{\"output\":");
		json_string(stdout, e->name);
		printf(",\"profile\":");
		json_string(stdout, argv[optind]);
		printf(",\"emitted\":false,\"diagnostics\":");
		diag_list_json(&c.plan->diags, stdout);
		printf("}\n");
		cmd_json_printed = true;
		log_error("Cannot emit %s for '%s': see the FAIL diagnostics.", e->description,
			  argv[optind]);
		cmd_planned_done(&c);
		return EXIT_FAILURE_OP;
	}
	if (c.plan->resolved && diag_count(&c.plan->diags, DIAG_FAIL) > 0) {
		/* run would refuse this plan: no configuration for another machine than that */
		log_error("Cannot emit %s for '%s': see the FAIL lines above.", e->description,
			  argv[optind]);
		cmd_planned_done(&c);
		return EXIT_FAILURE_OP;
	}
	if (!c.plan->resolved) {
		log_error(
		    "Cannot emit %s for '%s': [gpu] device does not name one GPU on this host.",
		    e->description, argv[optind]);
		cmd_planned_done(&c);
		return EXIT_FAILURE_OP;
	}

	o.qemu_binary = ctx_qemu_binary(c.ctx);
	if (mapping) {
		if (node_arg)
			node = strdup(node_arg);
		r = node_arg ? (node ? 0 : log_error_errno(-ENOMEM, "Out of memory"))
			     : node_name(c.ctx, &node);
		if (r < 0) {
			cmd_planned_done(&c);
			return EXIT_FAILURE_OP;
		}
		o.proxmox_mapping = mapping;
		o.proxmox_node = node;
		o.host = c.host;
	}
	if (e->needs_template) {
		_cleanup_(error_clear) struct error err = {};
		_cleanup_free_ char *msg = NULL;
		const char *name = c.profile->template ? c.profile->template : "linux";

		templates = paths_templates_dir();
		r = templates ? paths_load_template(c.ctx, templates, c.profile->template,
						    &template_xml, &o.template_len, &err)
			      : -ENOMEM;
		if (r == -ENOENT)
			log_error("libvirt template '%s' not found (looked in %s).", name,
				  templates);
		else if (r < 0) {
			msg = error_format(&err);
			log_error_errno(r, "Failed to read libvirt template '%s': %s", name,
					msg ? msg : strerror(-r));
		}
		if (r < 0) {
			cmd_planned_done(&c);
			return EXIT_FAILURE_OP;
		}
		o.template_xml = template_xml;
	}
	/* into memory first: nothing is printed when emitting fails half-way */
	mem = open_memstream(&out, &out_len);
	if (!mem) {
		cmd_planned_done(&c);
		return log_error_errno(-errno, "Out of memory: %m"), EXIT_FAILURE_OP;
	}
	r = e->emit(c.plan, &o, mem);
	if (fflush(mem) != 0 && r >= 0)
		r = -EIO;
	if (r == -EINVAL && e->emit == emit_proxmox &&
	    emit_proxmox_values_check(c.plan, &why) < 0) {
		/* which key and value */
		_cleanup_free_ char *msg = error_format(&why);

		log_error("Refusing to emit %s for '%s': %s.", e->description, argv[optind],
			  msg ? msg : "out of memory");
	} else if (r == -EINVAL)
		log_error(
		    "Refusing to emit %s for '%s': a value contains a control character, or a "
		    "ROM file name a ',' or ';'.",
		    e->description, argv[optind]);
	else if (r == -EBADMSG)
		log_error("libvirt template '%s' is not a <domain> XML document.",
			  c.profile->template ? c.profile->template : "linux");
	else if (r == -E2BIG)
		log_error("Proxmox allows at most 16 hostpci entries.");
	else if (r < 0)
		log_error_errno(r, "Failed to emit %s: %m", e->description);
	if (r >= 0 && stage) {
		if (c.ctx->dry_run) {
			for (size_t i = 0; i < c.plan->n_devices; i++)
				if (c.plan->devices[i].rom_name)
					log_notice("Would stage %s/%s", c.ctx->pve_rom_dir,
						   c.plan->devices[i].rom_name);
		} else if (stage_roms(c.ctx, c.plan) < 0) {
			cmd_planned_done(&c);
			return EXIT_FAILURE_OP;
		}
	}
	cmd_planned_done(&c);
	if (r < 0)
		return r == -EINVAL || r == -EBADMSG ? EXIT_USAGE : EXIT_FAILURE_OP;
	fwrite(out, 1, out_len, stdout);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_OP;
}
