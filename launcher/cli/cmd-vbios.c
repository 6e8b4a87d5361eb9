/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun vbios list      the VBIOS images of the ACPI VFCT table, matched to host devices
 * gpurun vbios extract   write vbios_VVVV_DDDD.bin from the VFCT (or the sysfs ROM BAR) */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "core/rom.h"
#include "core/vfct.h"
#include "host/hostfs.h"
#include "host/inspect.h"
#include "host/paths.h"
#include "host/romstage.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"

enum {
	ARG_FORCE = _ARG_COMMON_MAX,
	ARG_DEVICE,
};

/* Log-and-return helper: the log call's value is dropped, the exit status returned. */
static int op_failed(int r)
{
	(void)r;
	return EXIT_FAILURE_OP;
}

static int log_oom(void)
{
	return log_error_errno(-ENOMEM, "Out of memory.");
}

/* The host function a VFCT record belongs to: same bus/device/function and ids (what the kernel
 * matches), else the only function with the same ids. *ret_exact says which. */
static const struct pci_func *record_host_func(const struct host *h, const struct vfct_image *m,
					       bool *ret_exact)
{
	const struct pci_func *ids = NULL;
	size_t n_ids = 0;

	if (!h)
		return NULL;
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct pci_func *f = &h->funcs[i];

		if (f->vendor != m->vendor || f->device != m->device_id)
			continue;
		if (f->domain == 0 && f->bus == m->bus && f->dev == m->device &&
		    f->func == m->function) {
			*ret_exact = true;
			return f;
		}
		ids = f;
		n_ids++;
	}
	*ret_exact = false;
	return n_ids == 1 ? ids : NULL;
}

static void log_diags(const struct diag_list *d, enum diag_status min)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->items[i].status < min)
			continue;
		if (d->items[i].status == DIAG_INFO)
			log_info("%s", d->items[i].message);
		else
			log_warning("%s", d->items[i].message);
	}
}

/* Read the VFCT. Returns 0 with *ret NULL when the firmware has none, 1 with *ret set, or a
 * negative errno after logging (a broken table, with its offset). */
static int load_vfct(struct ctx *c, struct vfct_table **ret)
{
	_cleanup_free_ char *path = vfct_path(c);
	_cleanup_(error_clear) struct error err = {};
	struct diag_list warnings = {};
	int r;

	if (!path)
		return log_oom();
	r = vfct_read(c, ret, &warnings, &err);
	for (size_t i = 0; i < warnings.n; i++)
		log_warning("%s: %s", path, warnings.items[i].message);
	diag_list_clear(&warnings);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r == -EBADMSG) {
		/* "FILE: offset 0xN: ...", the way ROM and VFCT findings name a place */
		log_error("%s: offset 0x%zx: %s", err.file ? err.file : path, err.offset,
			  strna(err.message));
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to read %s: %m", path);
	return 1;
}

static int vbios_list(struct ctx *c)
{
	_cleanup_(vfct_table_freep) struct vfct_table *t = NULL;
	_cleanup_(host_freep) struct host *h = NULL;
	_cleanup_free_ char *path = vfct_path(c);
	int r;

	if (!path)
		return op_failed(log_oom());
	r = load_vfct(c, &t);
	if (r < 0)
		return EXIT_FAILURE_OP;
	if (r == 0) {
		if (arg_json) {
			printf("{\"table\":null,\"images\":[]}\n");
			cmd_json_printed = true;
			return EXIT_OK;
		}
		printf("No VFCT table (%s): the firmware publishes no VBIOS copy. Discrete GPUs "
		       "usually have none; `gpurun vbios extract --device BDF` reads the ROM BAR "
		       "instead.\n",
		       path);
		return EXIT_OK;
	}
	r = host_inspect(c, &h);
	if (r < 0)
		log_warning_errno(r, "Failed to inspect the host, records are not matched to "
				     "devices: %m");

	if (arg_json) {
		printf("{");
		json_key(stdout, "table");
		json_string(stdout, path);
		printf(",\"length\":%zu,\"checksum_ok\":%s,", t->length,
		       t->checksum_ok ? "true" : "false");
		json_key(stdout, "oem_id");
		json_string(stdout, t->oem_id);
		printf(",\"images\":[");
	} else
		printf("%s: %zu byte%s, OEM '%s' '%s', checksum %s, %zu image%s\n", path, t->length,
		       t->length == 1 ? "" : "s", t->oem_id, t->oem_table_id,
		       t->checksum_ok ? "ok" : "BAD", t->n_images, t->n_images == 1 ? "" : "s");

	for (size_t i = 0; i < t->n_images; i++) {
		const struct vfct_image *m = &t->images[i];
		_cleanup_(rom_info_freep) struct rom_info *info = NULL;
		_cleanup_free_ char *name = vbios_name(m->vendor, m->device_id);
		const struct pci_func *f;
		bool exact = false;

		f = record_host_func(h, m, &exact);
		r = rom_decode(vfct_image_data(t, i), m->image_length, &info);
		if (r < 0 || !name)
			return op_failed(log_oom());
		if (arg_json) {
			printf("%s{\"offset\":%zu,\"bus\":\"%02" PRIx32 "\",\"slot\":\"%02" PRIx32
			       "\",\"function\":%" PRIu32
			       ",\"vendor\":\"%04x\",\"device\":\"%04x\","
			       "\"subsystem_vendor\":\"%04x\",\"subsystem_device\":\"%04x\","
			       "\"revision\":%" PRIu32 ",\"length\":%" PRIu32 ",\"host_device\":",
			       i ? "," : "", m->offset, m->bus, m->device, m->function, m->vendor,
			       m->device_id, m->subsystem_vendor, m->subsystem_device, m->revision,
			       m->image_length);
			json_string(stdout, f ? f->address : NULL);
			printf(",\"match\":");
			json_string(stdout, f ? (exact ? "exact" : "ids") : NULL);
			printf(",\"driver\":");
			json_string(stdout, f ? f->driver : NULL);
			printf(",\"name\":");
			json_string(stdout, name);
			printf(",\"rom_valid\":%s,\"efi\":%s}", info->valid ? "true" : "false",
			       rom_has_x64_efi(info) ? "true" : "false");
			continue;
		}
		printf("  %02" PRIx32 ":%02" PRIx32 ".%" PRIu32 " %04x:%04x subsystem %04x:%04x, "
		       "%" PRIu32 " bytes at 0x%zx -> ",
		       m->bus, m->device, m->function, m->vendor, m->device_id, m->subsystem_vendor,
		       m->subsystem_device, m->image_length, m->image_offset);
		if (f)
			printf("%s (driver %s)%s\n", f->address, f->driver ? f->driver : "none",
			       exact ? "" : " [same ids, other address]");
		else
			printf("no such device on this host\n");
		printf("    %s: %s%s, %s\n", name, info->valid ? "valid ROM" : "INVALID ROM",
		       info->n_images > 0 && info->images[0].atom ? " (ATOM BIOS)" : "",
		       rom_has_x64_efi(info) ? "with an x64 EFI image" : "legacy image only");
		if (!info->valid)
			printf("    %s\n", info->error);
	}
	if (arg_json) {
		printf("]}\n");
		cmd_json_printed = true;
	}
	return EXIT_OK;
}

struct target {
	const struct pci_func *func; /* NULL when only ids are known */
	uint16_t vendor, device;
};

static int extract_one(struct ctx *c, const struct target *tg, const struct vfct_table *t,
		       const char *dir)
{
	_cleanup_(rom_info_freep) struct rom_info *info = NULL, *back = NULL;
	_cleanup_free_ char *name = NULL, *path = NULL, *source = NULL, *written = NULL;
	_cleanup_free_ void *sysbuf = NULL;
	struct diag_list checks = {};
	const struct vfct_image *m = NULL;
	const uint8_t *buf;
	size_t len, wlen;
	bool same;
	int r;

	if (t)
		m = tg->func ? vfct_find(t, tg->func->bus, tg->func->dev, tg->func->func,
					 tg->vendor, tg->device)
			     : vfct_find(t, UINT_MAX, UINT_MAX, UINT_MAX, tg->vendor, tg->device);
	if (m) {
		buf = t->data + m->image_offset;
		len = m->image_length;
		if (asprintf(&source, "the ACPI VFCT table (record at offset 0x%zx)", m->offset) <
		    0)
			return log_oom();
	} else {
		if (!tg->func) {
			log_error("No VFCT record for %04x:%04x and no such device on this host to "
				  "read the ROM from.",
				  tg->vendor, tg->device);
			return -ENOENT;
		}
		r = rom_read_sysfs(c, tg->func->address, &sysbuf, &len);
		if (r == -ENOENT) {
			log_error("%s has no VFCT record and no sysfs ROM: nothing to extract.",
				  tg->func->address);
			return r;
		}
		if (r < 0)
			return log_error_errno(r, "Failed to read the ROM of %s through sysfs: %m",
					       tg->func->address);
		buf = sysbuf;
		if (asprintf(&source, "the sysfs ROM of %s (no VFCT record)", tg->func->address) <
		    0)
			return log_oom();
	}

	r = rom_decode(buf, len, &info);
	if (r < 0)
		return log_oom();
	if (!info->valid) {
		log_error("The VBIOS from %s is not a valid option ROM: %s; nothing written.",
			  source, info->error);
		return -EBADMSG;
	}
	for (size_t i = 0; i < info->n_images; i++)
		if (info->images[i].available < info->images[i].length) {
			log_error(
			    "The VBIOS from %s is truncated (image at offset 0x%zx declares %zu "
			    "bytes, %zu present); nothing written.",
			    source, info->images[i].offset, info->images[i].length,
			    info->images[i].available);
			return -EBADMSG;
		}
	log_diags(&info->diags, DIAG_WARN);
	r = rom_check_for_device(info, tg->vendor, tg->device, false, &checks);
	if (r < 0)
		return log_oom();
	log_diags(&checks, DIAG_WARN);
	diag_list_clear(&checks);

	name = vbios_name(tg->vendor, tg->device);
	if (!name)
		return log_oom();
	path = path_join(dir, name);
	if (!path)
		return log_oom();
	same = hostfs_same_content(path, buf, len) == 1;
	r = rom_stage(c, buf, len, dir, name, arg_force, NULL);
	if (r == -EEXIST) {
		log_error("%s exists with different content; use --force to replace it.", path);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to write %s: %m", path);

	/* Validate what is on disk now, not what we meant to write. */
	r = read_full_file(path, ROM_MAX_SIZE, &written, &wlen);
	if (r < 0)
		return log_error_errno(r, "Failed to read back %s: %m", path);
	r = rom_decode(written, wlen, &back);
	if (r < 0)
		return log_oom();
	if (wlen != len || memcmp(written, buf, len) != 0 || !back->valid) {
		log_error("%s does not read back as the valid ROM that was written.", path);
		return -EIO;
	}
	if (cmd_report_on) {
		_cleanup_free_ char *what = strdup_printf(
		    "%s from %s: %zu image%s, first %s %04x:%04x", same ? "up to date" : "written",
		    source, back->n_images, back->n_images == 1 ? "" : "s",
		    rom_code_type_to_string(back->images[0].code_type), back->images[0].vendor,
		    back->images[0].device);

		cmd_report_file(path, len, what);
		return 0;
	}
	printf("%s %s (%zu bytes) from %s: %zu image%s, first %s %04x:%04x class %06" PRIx32
	       "%s%s.\n",
	       same ? "Up to date:" : "Wrote", path, len, source, back->n_images,
	       back->n_images == 1 ? "" : "s", rom_code_type_to_string(back->images[0].code_type),
	       back->images[0].vendor, back->images[0].device, back->images[0].class,
	       back->images[0].code_type != ROM_CODE_X86 ? ""
	       : back->images[0].checksum_ok		 ? ", checksum ok"
							 : ", checksum BAD",
	       back->images[0].atom ? ", ATOM BIOS" : "");
	return 0;
}

static int vbios_extract(struct ctx *c, const char *device, const char *dir)
{
	_cleanup_(vfct_table_freep) struct vfct_table *t = NULL;
	_cleanup_(host_freep) struct host *h = NULL;
	_cleanup_free_ struct target *targets = NULL;
	size_t n_targets = 0;
	int r, ret = EXIT_OK;

	r = load_vfct(c, &t);
	if (r < 0)
		log_warning("Ignoring the broken VFCT table, trying the sysfs ROM.");
	r = host_inspect(c, &h);
	if (r < 0) {
		log_warning_errno(r, "Failed to inspect the host: %m");
		h = NULL;
	}

	if (device) {
		_cleanup_(error_clear) struct error err = {};
		const struct pci_func *f = NULL;
		struct pci_device_spec ds;

		r = pci_device_spec_parse(device, &ds, &err);
		if (r >= 0 && h)
			r = host_resolve_device(h, device, &f, &err);
		/* an id the host does not show may still have a VFCT record */
		if (r == -ENODEV && ds.is_id)
			r = 0;
		if (r < 0) {
			cmd_device_error("--device", device, &err, r);
			return r == -ENODEV ? EXIT_FAILURE_OP : EXIT_USAGE;
		}
		if (!f && !ds.is_id) { /* the host could not be read */
			log_error("No PCI device %s on this host.", ds.address);
			return EXIT_FAILURE_OP;
		}
		targets = calloc(1, sizeof(*targets));
		if (!targets)
			return op_failed(log_oom());
		targets[0] = f ? (struct target){ f, f->vendor, f->device }
			       : (struct target){ NULL, ds.vendor, ds.device };
		n_targets = 1;
	} else if (t && t->n_images > 0) {
		targets = calloc(t->n_images, sizeof(*targets));
		if (!targets)
			return op_failed(log_oom());
		for (size_t i = 0; i < t->n_images; i++) {
			bool exact;

			targets[n_targets++] = (struct target){
				record_host_func(h, &t->images[i], &exact),
				t->images[i].vendor,
				t->images[i].device_id,
			};
		}
	} else {
		const struct pci_func *gpu = NULL;
		size_t n = 0;

		for (size_t i = 0; h && i < h->n_funcs; i++)
			if (pci_func_is_display(&h->funcs[i]) && h->funcs[i].has_rom) {
				gpu = &h->funcs[i];
				n++;
			}
		if (n != 1) {
			log_error("No usable VFCT table and %s GPU with a ROM; choose one with "
				  "--device BDF.",
				  n == 0 ? "no" : "more than one");
			return n == 0 ? EXIT_FAILURE_OP : EXIT_USAGE;
		}
		targets = calloc(1, sizeof(*targets));
		if (!targets)
			return op_failed(log_oom());
		targets[n_targets++] = (struct target){ gpu, gpu->vendor, gpu->device };
	}

	for (size_t i = 0; i < n_targets; i++)
		if (extract_one(c, &targets[i], t, dir) < 0)
			ret = EXIT_FAILURE_OP;
	return ret;
}

const struct cmd_option cmd_vbios_options[] = {
	{ "device", 0, required_argument, ARG_DEVICE, "BDF|VVVV:DDDD",
	  "(extract) the GPU, by PCI address or vendor:device id; default: every image of the VFCT "
	  "table, or without one the only GPU with a ROM" },
	{ "output", 'o', required_argument, 'o', "DIR",
	  "(extract) the directory to write to (default /var/lib/gpurun/roms)" },
	{ "force", 0, no_argument, ARG_FORCE, NULL,
	  "(extract) replace a different file of the same name" },
	CMD_OPTION_GLOBAL("json", "(list) the table and its images as one JSON object; (extract) "
				  "the files written, their sizes and sources"),
	{},
};

int cmd_vbios(int argc, char **argv)
{
	static const char *const verbs[] = { "list", "extract", NULL };
	struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_vbios_options);
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	const char *out = NULL, *device = NULL, *verb, *best;
	int opt, r;

	while ((opt = cmd_parse_options(&parser)) > 0)
		switch (opt) {
		case 'o':
			if (!*parser.arg)
				return cmd_usage_error(
				    "vbios", "option '-o' needs a non-empty DIR (got '')");
			out = parser.arg;
			break;
		case ARG_FORCE:
			arg_force = true;
			break;
		case ARG_DEVICE:
			device = parser.arg;
			break;
		}
	if (opt < 0)
		return parser.status;
	if (optind >= argc)
		return cmd_usage_error("vbios", "needs a subcommand: list or extract");
	verb = argv[optind++];
	if (!streq(verb, "list") && !streq(verb, "extract")) {
		best = cmd_closest(verb, verbs);
		if (best)
			return cmd_usage_error(
			    "vbios", "unknown subcommand '%s'; did you mean '%s'?", verb, best);
		return cmd_usage_error("vbios",
				       "unknown subcommand '%s' (expected list or extract)", verb);
	}
	if (optind < argc)
		return cmd_usage_error("vbios", "%s takes no arguments (got '%s')", verb,
				       argv[optind]);
	if (streq(verb, "list") && (out || device || arg_force))
		return cmd_usage_error("vbios", "list takes no -o, --device or --force");
	if (cmd_make_ctx(&c) < 0)
		return EXIT_USAGE;
	if (c->remote_uri) {
		/* the VFCT table is firmware's: not readable through libvirt */
		log_error("vbios reads this machine's ACPI VFCT table, but --connect %s is another "
			  "host: run `gpurun vbios %s` on that host and copy the file here.",
			  c->remote_uri, verb);
		return EXIT_USAGE;
	}
	if (streq(verb, "list"))
		return vbios_list(c);
	if (arg_json)
		cmd_report_start();
	r = vbios_extract(c, device, out ? out : c->rom_dir);
	cmd_report_print("vbios extract", r, "device", device, (const char *)NULL);
	return r;
}
