/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun emit qemu|libvirt|proxmox PROFILE (aliases: gpurun args|xml|proxmox PROFILE). */
#include <stdio.h>

#include "cli/cmd.h"
#include "core/emit.h"
#include "core/plan.h"
#include "core/profile.h"
#include "core/rom.h"
#include "core/vfct.h"
#include "host/hostfs.h"
#include "host/paths.h"
#include "host/romstage.h"
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
		_cleanup_free_ char *err = NULL;
		unsigned dom, bus, dev, fn;

		if (!*vfct) {
			r = vfct_read(c, vfct, NULL, NULL, &err);
			if (r < 0)
				return log_error_errno(r,
						       "Failed to read the ACPI VFCT table%s%s: %m",
						       err ? ": " : "", strempty(err));
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
		_cleanup_free_ char *why = NULL;

		if (rom_validate_for_guest(data, len, d->rom_is_gop, &why) < 0)
			return log_error_errno(-EINVAL, "ROM for %s (%s): %s", d->address,
					       strna(d->rom_name), strna(why));
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

enum { ARG_MANAGED = _ARG_COMMON_MAX, ARG_STAGE, ARG_FORCE };

/* emit has them all; the aliases only those of their output */
#define HELP_MANAGED                                                                               \
	"(libvirt) managed='yes' on each <hostdev>, for XML used without gpurun: libvirt then "    \
	"detaches the devices from their drivers and reattaches them itself"
#define HELP_STAGE                                                                                 \
	"(proxmox) also copy the ROM files the lines name into /usr/share/kvm (under --root): "    \
	"the VBIOS from the VFCT table or the sysfs ROM, and the profile's ROM files"
#define HELP_FORCE "(with --stage) replace a different file of the same name in /usr/share/kvm"
#define HELP_DRY_RUN "(with --stage) name the ROM files instead of copying them"

const struct cmd_option cmd_emit_options[] = {
	{ "managed", 0, no_argument, ARG_MANAGED, NULL, HELP_MANAGED },
	{ "stage", 0, no_argument, ARG_STAGE, NULL, HELP_STAGE },
	{ "force", 0, no_argument, ARG_FORCE, NULL, HELP_FORCE },
	CMD_OPTION_GLOBAL("dry-run", HELP_DRY_RUN),
	{},
};
const struct cmd_option cmd_args_options[] = {
	{},
};
const struct cmd_option cmd_xml_options[] = {
	{ "managed", 0, no_argument, ARG_MANAGED, NULL, HELP_MANAGED },
	{},
};
const struct cmd_option cmd_pve_options[] = {
	{ "stage", 0, no_argument, ARG_STAGE, NULL, HELP_STAGE },
	{ "force", 0, no_argument, ARG_FORCE, NULL, HELP_FORCE },
	CMD_OPTION_GLOBAL("dry-run", HELP_DRY_RUN),
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
	_cleanup_free_ char *templates = NULL, *out = NULL;
	_cleanup_fclose_ FILE *mem = NULL;
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
		}
	if (opt < 0)
		return parser.status;
	if (streq(cmd, "emit")) {
		const char *outputs[_EMIT_KIND_MAX + 1] = {}, *best;

		if (optind >= argc)
			return cmd_usage_error("emit",
					       "expected qemu, libvirt or proxmox, and PROFILE");
		e = emitter_find(argv[optind]);
		for (size_t i = 0; i < _EMIT_KIND_MAX; i++)
			outputs[i] = emitters[i].name;
		best = e ? NULL : cmd_closest(argv[optind], outputs);
		if (best)
			return cmd_usage_error("emit", "unknown output '%s'; did you mean '%s'?",
					       argv[optind], best);
		if (!e)
			return cmd_usage_error(
			    "emit", "unknown output '%s' (qemu, libvirt or proxmox)", argv[optind]);
		optind++;
	} else
		e = emitter_find(cmd);
	if (!e)
		return EXIT_USAGE;
	if (optind + 1 != argc)
		return cmd_usage_error(cmd, "expected exactly one PROFILE argument");
	if (o.managed && e != &emitters[EMIT_LIBVIRT])
		return cmd_usage_error(cmd, "--managed only applies to libvirt XML");
	if (stage && e != &emitters[EMIT_PROXMOX])
		return cmd_usage_error(cmd, "--stage only applies to Proxmox output");

	r = cmd_plan_load(argv[optind], &c);
	if (r != EXIT_OK)
		return r;
	cmd_print_diags(&c.plan->diags, DIAG_WARN);
	if (!c.plan->resolved) {
		log_error(
		    "Cannot emit %s for '%s': [gpu] device does not name one GPU on this host.",
		    e->description, argv[optind]);
		cmd_planned_done(&c);
		return EXIT_FAILURE_OP;
	}

	o.qemu_binary = ctx_qemu_binary(c.ctx);
	templates = paths_templates_dir();
	o.templates_dir = templates;
	if (!templates) {
		cmd_planned_done(&c);
		return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_OP;
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
	if (r == -EINVAL)
		log_error(
		    "Refusing to emit %s for '%s': a value contains a control character, or a "
		    "ROM file name a ',' or ';'.",
		    e->description, argv[optind]);
	else if (r == -ENOENT && e == &emitters[EMIT_LIBVIRT])
		log_error("libvirt template '%s' not found (looked in %s).",
			  c.profile->template ? c.profile->template : "linux", templates);
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
