/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpurun rom info [--json] FILE...   decode every image of option ROM files
 * gpurun rom combine -o OUT VBIOS GOP  legacy VBIOS image + x64 EFI GOP image in one ROM */
#include <inttypes.h>
#include <stdio.h>

#include "cli/cmd.h"
#include "cli/report.h"
#include "core/rom.h"
#include "host/hostfs.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"

enum {
	ARG_FORCE = _ARG_COMMON_MAX,
};

/* Log-and-return helper: the log call's value is dropped, the exit status returned. */
static int op_failed(int r)
{
	(void)r;
	return EXIT_FAILURE_OP;
}

/* @s: the name of value @v from a string table ("unknown" when it names nothing). */
static void print_hex_name(const char *s, unsigned v)
{
	if (streq(s, "unknown"))
		printf("\"0x%04x\"", v);
	else
		json_string(stdout, s);
}

static void rom_info_json(const char *file, const struct rom_info *info)
{
	printf("{");
	json_key(stdout, "file");
	json_string(stdout, file);
	printf(",\"size\":%zu,\"images\":[", info->size);
	for (size_t i = 0; i < info->n_images; i++) {
		const struct rom_image *im = &info->images[i];

		printf("%s{\"offset\":%zu,\"vendor\":\"%04x\",\"device\":\"%04x\","
		       "\"class\":\"%06" PRIx32 "\",\"length\":%zu,\"code_type\":",
		       i ? "," : "", im->offset, im->vendor, im->device, im->class, im->length);
		json_string(stdout, rom_code_type_to_string(im->code_type));
		printf(",\"last\":%s", im->last ? "true" : "false");
		if (im->available != im->length)
			printf(",\"truncated\":true,\"available\":%zu", im->available);
		if (im->code_type == ROM_CODE_X86)
			printf(",\"checksum_ok\":%s,\"atom\":%s",
			       im->checksum_ok ? "true" : "false", im->atom ? "true" : "false");
		if (im->code_type == ROM_CODE_EFI) {
			printf(",\"efi_subsystem\":");
			print_hex_name(rom_efi_subsystem_to_string(im->efi_subsystem),
				       im->efi_subsystem);
			printf(",\"efi_machine\":");
			print_hex_name(rom_efi_machine_to_string(im->efi_machine), im->efi_machine);
			printf(",\"efi_compressed\":%s", im->efi_compression ? "true" : "false");
		}
		printf("}");
	}
	printf("],\"valid\":%s,\"findings\":[", info->valid ? "true" : "false");
	for (size_t i = 0; i < info->diags.n; i++) {
		const struct diag *d = &info->diags.items[i];

		printf("%s{\"status\":\"%s\",\"id\":", i ? "," : "",
		       diag_status_json_to_string(d->status));
		json_string(stdout, d->id);
		printf(",\"message\":");
		json_string(stdout, d->message);
		printf("}");
	}
	/* the same keys as the line of a file that cannot be read (rom_info_json_error) */
	printf("],\"ok\":%s", info->valid ? "true" : "false");
	if (!info->valid) {
		printf(",\"error\":");
		json_string(stdout, info->error);
		printf(",\"error_offset\":%zu", info->error_offset);
	}
	printf("}\n");
}

static void rom_image_text(size_t idx, const struct rom_image *im)
{
	printf("  image %zu at 0x%zx: %s, %04x:%04x class %06" PRIx32 ", %zu bytes", idx,
	       im->offset, rom_code_type_to_string(im->code_type), im->vendor, im->device,
	       im->class, im->length);
	if (im->available != im->length)
		printf(" (only %zu present)", im->available);
	if (im->code_type == ROM_CODE_X86)
		printf(", checksum %s%s", im->checksum_ok ? "ok" : "BAD",
		       im->atom ? ", ATOM BIOS" : "");
	if (im->code_type == ROM_CODE_EFI)
		printf(", %s %s, %s", rom_efi_machine_to_string(im->efi_machine),
		       rom_efi_subsystem_to_string(im->efi_subsystem),
		       im->efi_compression ? "compressed" : "uncompressed");
	printf("%s\n", im->last ? ", last" : "");
}

static void rom_info_text(const char *file, const struct rom_info *info)
{
	printf("%s: %zu byte%s, %zu image%s, %s\n", file, info->size, info->size == 1 ? "" : "s",
	       info->n_images, info->n_images == 1 ? "" : "s", info->valid ? "valid" : "INVALID");
	for (size_t i = 0; i < info->n_images; i++)
		rom_image_text(i, &info->images[i]);
	for (size_t i = 0; i < info->diags.n; i++) {
		const struct diag *d = &info->diags.items[i];

		if (d->status == DIAG_WARN || d->status == DIAG_INFO)
			printf("  %s: %s\n", d->status == DIAG_WARN ? "warning" : "note",
			       d->message);
	}
	if (info->n_images > 0 && !rom_has_x64_efi(info))
		printf(
		    "  no x64 EFI image: a UEFI guest shows no picture from this ROM until the OS "
		    "driver loads\n");
}

static int read_rom_file(const char *file, char **ret, size_t *ret_len)
{
	int r = read_full_file(file, ROM_MAX_SIZE, ret, ret_len);

	if (r == -EFBIG)
		return log_error_errno(r, "%s: larger than %u bytes, not an option ROM", file,
				       ROM_MAX_SIZE);
	if (r < 0)
		return log_error_errno(r, "Failed to read %s: %m", file);
	return 0;
}

/* --json: a file that could not be read or decoded still gets its line (JSON lines: one
 * object per FILE), with the error logged on stderr as well. */
static void rom_info_json_error(const char *file)
{
	printf("{");
	json_key(stdout, "file");
	json_string(stdout, file);
	printf(",\"ok\":false,\"error\":");
	json_string(stdout, log_last_error());
	printf("}\n");
}

static int rom_info_files(char **files, int n)
{
	int ret = EXIT_OK;

	for (int i = 0; i < n; i++) {
		_cleanup_(rom_info_freep) struct rom_info *info = NULL;
		_cleanup_free_ char *buf = NULL;
		size_t len;
		int r;

		r = read_rom_file(files[i], &buf, &len);
		if (r >= 0) {
			r = rom_decode(buf, len, &info);
			if (r < 0)
				log_error_errno(r, "Failed to decode %s: %m", files[i]);
		}
		if (arg_json)
			cmd_json_printed = true;
		if (r < 0) {
			if (arg_json)
				rom_info_json_error(files[i]);
			ret = EXIT_FAILURE_OP;
			continue;
		}
		if (arg_json)
			rom_info_json(files[i], info);
		else
			rom_info_text(files[i], info);
		if (!info->valid) {
			log_error("%s: %s", files[i], info->error);
			ret = EXIT_FAILURE_OP;
		}
	}
	return ret;
}

static int rom_combine_files(const char *out, const char *vbios, const char *gop, bool force)
{
	_cleanup_free_ char *vbuf = NULL, *gbuf = NULL;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ uint8_t *cbuf = NULL;
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;
	size_t vlen, glen, clen;
	int r;

	if (read_rom_file(vbios, &vbuf, &vlen) < 0 || read_rom_file(gop, &gbuf, &glen) < 0)
		return EXIT_FAILURE_OP;
	r = rom_combine(vbuf, vlen, gbuf, glen, &cbuf, &clen, &err);
	if (r == -EBADMSG) {
		_cleanup_free_ char *msg = error_format(&err);

		log_error("Cannot combine %s and %s: %s", vbios, gop, strna(msg));
		return EXIT_FAILURE_OP;
	}
	if (r < 0)
		return op_failed(log_error_errno(r, "Failed to combine %s and %s: %m", vbios, gop));
	r = hostfs_same_content(out, cbuf, clen);
	if (r == 0 && !force) {
		log_error("%s exists with different content; use --force to replace it.", out);
		return EXIT_FAILURE_OP;
	}
	if (r != 1) {
		r = hostfs_write_atomic(out, cbuf, clen, 0644);
		if (r < 0)
			return op_failed(log_error_errno(r, "Failed to write %s: %m", out));
	}
	r = rom_decode(cbuf, clen, &info);
	if (r < 0)
		return op_failed(log_error_errno(r, "Failed to decode %s: %m", out));
	if (!info->valid || info->n_images != 2) {
		log_error("%s: the combined ROM does not decode as two valid images", out);
		return EXIT_FAILURE_OP;
	}
	if (cmd_report_on) {
		_cleanup_free_ char *what = strdup_printf(
		    "combined from %s and %s: legacy image %04x:%04x (%zu bytes) + EFI %s image "
		    "%04x:%04x (%zu bytes)",
		    vbios, gop, info->images[0].vendor, info->images[0].device,
		    info->images[0].length, rom_efi_machine_to_string(info->images[1].efi_machine),
		    info->images[1].vendor, info->images[1].device, info->images[1].length);

		cmd_report_file(out, clen, what);
		return EXIT_OK;
	}
	printf("Wrote %s (%zu bytes): legacy image %04x:%04x (%zu bytes) + EFI %s image "
	       "%04x:%04x (%zu bytes).\n",
	       out, clen, info->images[0].vendor, info->images[0].device, info->images[0].length,
	       rom_efi_machine_to_string(info->images[1].efi_machine), info->images[1].vendor,
	       info->images[1].device, info->images[1].length);
	return EXIT_OK;
}

const struct cmd_option cmd_rom_options[] = {
	{ "output", 'o', required_argument, 'o', "OUT", "(combine) the file to write" },
	{ "force", 0, no_argument, ARG_FORCE, NULL, "(combine) replace an OUT that differs" },
	CMD_OPTION_GLOBAL("json", "(info) JSON lines: one object per FILE, in order, each with "
				  "\"ok\" (false, \"error\" and \"error_offset\" for an invalid "
				  "ROM; false and \"error\" for one that cannot be read); "
				  "(combine) what was written, as one JSON object"),
	{},
};

int cmd_rom(int argc, char **argv)
{
	static const char *const verbs[] = { "info", "combine", NULL };
	struct cmd_parser parser = CMD_PARSER(argc, argv, cmd_rom_options);
	const char *out = NULL, *verb, *best;
	int opt;

	while ((opt = cmd_parse_options(&parser)) > 0)
		switch (opt) {
		case 'o':
			if (!*parser.arg)
				return cmd_usage_error(
				    "rom", "option '-o' needs a non-empty OUT (got '')");
			out = parser.arg;
			break;
		case ARG_FORCE:
			arg_force = true;
			break;
		}
	if (opt < 0)
		return parser.status;
	if (optind >= argc)
		return cmd_usage_error("rom", "needs a subcommand: info or combine");
	verb = argv[optind++];
	if (streq(verb, "info")) {
		if (out)
			return cmd_usage_error("rom", "info does not take -o");
		if (optind >= argc)
			return cmd_usage_error("rom", "info needs at least one FILE");
		return rom_info_files(argv + optind, argc - optind);
	}
	if (streq(verb, "combine")) {
		if (!out)
			return cmd_usage_error("rom", "combine needs -o OUT");
		if (argc - optind != 2)
			return cmd_usage_error("rom", "combine takes exactly two files: VBIOS GOP");
		int r;

		if (arg_json)
			cmd_report_start();
		r = rom_combine_files(out, argv[optind], argv[optind + 1], arg_force);
		cmd_report_print("rom combine", r, (const char *)NULL);
		return r;
	}
	best = cmd_closest(verb, verbs);
	if (best)
		return cmd_usage_error("rom", "unknown subcommand '%s'; did you mean '%s'?", verb,
				       best);
	return cmd_usage_error("rom", "unknown subcommand '%s' (expected info or combine)", verb);
}
