/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rom_decode() and friends on hand-made ROMs (every malformed case) and on the real option ROMs
 * Debian ships (ipxe-qemu: legacy + EFI images; seabios: legacy VGA BIOSes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "core/rom.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/paths.h"
#include "host/romstage.h"
#include "testutil.h"
#include "util/error.h"

#define IPXE_DIR "/usr/lib/ipxe/qemu"
#define SEABIOS_DIR "/usr/share/seabios"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

static const struct diag *find_diag(const struct rom_info *info, const char *id)
{
	for (size_t i = 0; i < info->diags.n; i++)
		if (streq(info->diags.items[i].id, id))
			return &info->diags.items[i];
	return NULL;
}

static const struct diag *find_in(const struct diag_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->items[i].id, id))
			return &l->items[i];
	return NULL;
}

static void assert_message(const struct diag *d, const char *text)
{
	assert_non_null(d);
	if (!strstr(d->message, text))
		fail_msg("'%s' lacks '%s'", d->message, text);
}

static struct rom_info *decode(const void *b, size_t len)
{
	struct rom_info *info = NULL;

	assert_int_equal(rom_decode(b, len, &info), 0);
	assert_non_null(info);
	return info;
}

static void test_legacy_valid(void **state)
{
	static uint8_t b[17408];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;

	(void)state;
	testutil_rom_legacy(b, sizeof(b), 0x1002, 0x1586, 0x030000, true, true);
	info = decode(b, sizeof(b));
	assert_true(info->valid);
	assert_int_equal(info->n_images, 1);
	assert_int_equal(info->images[0].offset, 0);
	assert_int_equal(info->images[0].vendor, 0x1002);
	assert_int_equal(info->images[0].device, 0x1586);
	assert_int_equal(info->images[0].class, 0x030000);
	assert_int_equal(info->images[0].length, 17408);
	assert_int_equal(info->images[0].code_type, ROM_CODE_X86);
	assert_true(info->images[0].last);
	assert_true(info->images[0].checksum_ok);
	assert_true(info->images[0].atom);
	assert_false(rom_has_x64_efi(info));
	assert_non_null(find_diag(info, "rom-valid"));
	assert_null(find_diag(info, "rom-checksum"));
}

static void test_bad_signature(void **state)
{
	uint8_t b[1024];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;

	(void)state;
	testutil_rom_legacy(b, sizeof(b), 0x1002, 0x1586, 0x030000, true, false);
	b[1] = 0xab;
	info = decode(b, sizeof(b));
	assert_false(info->valid);
	assert_int_equal(info->error_offset, 0);
	assert_non_null(strstr(info->error, "offset 0x0: no option ROM signature 55 aa"));
	assert_int_equal(info->n_images, 0);
}

static void test_empty_and_tiny(void **state)
{
	uint8_t b[0x19] = { 0x55, 0xaa };
	_cleanup_(rom_info_freep) struct rom_info *a = NULL, *t = NULL;

	(void)state;
	a = decode(b, 0);
	assert_false(a->valid);
	assert_message(find_diag(a, "rom-empty"), "empty file");
	t = decode(b, sizeof(b));
	assert_false(t->valid);
	assert_message(find_diag(t, "rom-truncated"), "too short for an option ROM header");
}

static void test_pcir_pointer_outside(void **state)
{
	uint8_t b[1024];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL, *low = NULL;

	(void)state;
	testutil_rom_legacy(b, sizeof(b), 0x1002, 0x1586, 0x030000, true, false);
	testutil_put16(b + 0x18, 0x3f0); /* PCIR would end past the file */
	info = decode(b, sizeof(b));
	assert_false(info->valid);
	assert_int_equal(info->error_offset, 0x18);
	assert_message(find_diag(info, "rom-pcir"), "outside the image");
	testutil_put16(b + 0x18, 0x04); /* inside the header */
	low = decode(b, sizeof(b));
	assert_false(low->valid);
	assert_int_equal(low->error_offset, 0x18);
}

static void test_pcir_signature(void **state)
{
	uint8_t b[1024];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;

	(void)state;
	testutil_rom_legacy(b, sizeof(b), 0x1002, 0x1586, 0x030000, true, false);
	memcpy(b + 0x40, "PCIX", 4);
	info = decode(b, sizeof(b));
	assert_false(info->valid);
	assert_int_equal(info->error_offset, 0x40);
	assert_message(find_diag(info, "rom-pcir"), "no \"PCIR\" signature");
}

static void test_zero_length(void **state)
{
	uint8_t b[1024];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;

	(void)state;
	testutil_rom_legacy(b, sizeof(b), 0x1002, 0x1586, 0x030000, false, false);
	testutil_put16(b + 0x50, 0);
	info = decode(b, sizeof(b));
	assert_false(info->valid);
	assert_int_equal(info->error_offset, 0x50);
	assert_message(find_diag(info, "rom-length"), "image length is 0");
	assert_int_equal(info->n_images, 0);
}

/* Found by fuzz-rom: a "legacy image" of length 0 made rom_combine() write before its buffer. */
static void test_combine_zero_length(void **state)
{
	static uint8_t v[1024], g[1024];
	_cleanup_free_ uint8_t *c = NULL;
	_cleanup_(error_clear) struct error err = {};
	size_t clen;

	(void)state;
	testutil_rom_legacy(v, sizeof(v), 0x1002, 0x1586, 0x030000, true, false);
	testutil_put16(v + 0x50, 0);
	testutil_rom_efi(g, sizeof(g), 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_X64, 0, true);
	assert_int_equal(rom_combine(v, sizeof(v), g, sizeof(g), &c, &clen, &err), -EBADMSG);
	assert_int_equal(err.errnum, EBADMSG);
	assert_string_equal(err.message, "the VBIOS has no complete legacy x86 image");
	assert_null(c);
}

static void test_pcir_past_length(void **state)
{
	static uint8_t b[2048];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;

	(void)state;
	testutil_rom_legacy(b, sizeof(b), 0x1002, 0x1586, 0x030000, true, false);
	/* PCIR at 0x7e0 is inside the file but past the 512 bytes the image declares */
	memmove(b + 0x7e0, b + 0x40, 0x18);
	testutil_put16(b + 0x18, 0x7e0);
	testutil_put16(b + 0x7e0 + 0x10, 1);
	info = decode(b, sizeof(b));
	assert_false(info->valid);
	assert_int_equal(info->n_images, 0);
	assert_message(find_diag(info, "rom-length"), "ends before its PCI data structure");
}

static void test_truncated(void **state)
{
	static uint8_t b[4096];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;

	(void)state;
	/* what `mkrom legacy 1002 1586 4096` writes. (Without the ATOM string its first 1500 bytes
	 * happen to sum to 0, and rom_decode() checks a truncated image's sum over the bytes present:
	 * checksum_ok would be true.) */
	testutil_rom_legacy(b, sizeof(b), 0x1002, 0x1586, 0x030000, true, true);
	info = decode(b, 1500);
	assert_int_equal(info->n_images, 1);
	assert_int_equal(info->images[0].length, 4096);
	assert_int_equal(info->images[0].available, 1500);
	assert_message(find_diag(info, "rom-truncated"),
		       "offset 0x0: image declares 4096 bytes but only 1500 are present");
	assert_false(info->images[0].checksum_ok);
}

static void test_checksum_mismatch(void **state)
{
	uint8_t b[2048];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;

	(void)state;
	testutil_rom_legacy(b, sizeof(b), 0x1002, 0x1586, 0x030000, true, false);
	b[0x300] += 3;
	info = decode(b, sizeof(b));
	assert_true(info->valid); /* a warning: firmware may still run it */
	assert_false(info->images[0].checksum_ok);
	assert_message(find_diag(info, "rom-checksum"),
		       "offset 0x0: legacy image checksum mismatch "
		       "(bytes sum to 0x03, not 0)");
}

static void test_efi_fields(void **state)
{
	static uint8_t b[8192];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL, *ia32 = NULL;

	(void)state;
	testutil_rom_efi(b, sizeof(b), 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_X64, 0, true);
	info = decode(b, sizeof(b));
	assert_true(info->valid);
	assert_int_equal(info->images[0].code_type, ROM_CODE_EFI);
	assert_true(info->images[0].efi_signature_ok);
	assert_int_equal(info->images[0].efi_subsystem, 11);
	assert_int_equal(info->images[0].efi_machine, 0x8664);
	assert_int_equal(info->images[0].efi_compression, 0);
	assert_true(info->images[0].efi_pe_ok);
	assert_true(rom_has_x64_efi(info));
	assert_string_equal(rom_efi_machine_to_string(0x8664), "x64");
	assert_string_equal(rom_efi_machine_to_string(0x1234), "unknown");
	assert_string_equal(rom_efi_subsystem_to_string(11), "boot-services-driver");
	assert_string_equal(rom_efi_subsystem_to_string(12), "runtime-driver");
	assert_string_equal(rom_efi_subsystem_to_string(9), "unknown");
	assert_string_equal(rom_efi_subsystem_to_string(0xffff), "unknown");
	assert_int_equal(rom_efi_subsystem_from_string("application"), 10);
	assert_string_equal(rom_code_type_to_string(ROM_CODE_EFI), "efi");
	assert_string_equal(rom_code_type_to_string(ROM_CODE_PARISC), "pa-risc");
	assert_string_equal(rom_code_type_to_string(0x42), "unknown");
	assert_int_equal(rom_code_type_from_string("x86"), ROM_CODE_X86);
	assert_int_equal(rom_code_type_from_string("unknown"), -EINVAL);

	testutil_rom_efi(b, sizeof(b), 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_IA32, 1, true);
	ia32 = decode(b, sizeof(b));
	assert_true(ia32->valid);
	assert_int_equal(ia32->images[0].efi_compression, 1);
	assert_false(rom_has_x64_efi(ia32));
}

static void test_efi_bad(void **state)
{
	static uint8_t b[4096];
	_cleanup_(rom_info_freep) struct rom_info *nosig = NULL, *nope = NULL, *comp = NULL;

	(void)state;
	testutil_rom_efi(b, sizeof(b), 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_X64, 0, true);
	testutil_put16(b + 4, 0x0ef2);
	nosig = decode(b, sizeof(b));
	assert_false(nosig->valid);
	assert_int_equal(nosig->error_offset, 4);
	assert_false(rom_has_x64_efi(nosig));

	testutil_rom_efi(b, sizeof(b), 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_X64, 0, true);
	testutil_put16(b + 0x16, 0xfff0); /* PE offset past the image */
	nope = decode(b, sizeof(b));
	assert_true(nope->valid);
	assert_message(find_diag(nope, "rom-efi-pe"), "offset 0x16:");

	testutil_rom_efi(b, sizeof(b), 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_X64, 7, true);
	comp = decode(b, sizeof(b));
	assert_message(find_diag(comp, "rom-efi-compression"), "unknown EFI compression type 7");
}

static void test_two_images(void **state)
{
	static uint8_t b[2048 + 4096];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;

	(void)state;
	testutil_rom_legacy(b, 2048, 0x8086, 0x100e, 0x020000, false, false);
	testutil_rom_efi(b + 2048, 4096, 0x8086, 0x100e, 0x030000, ROM_EFI_MACHINE_X64, 0, true);
	info = decode(b, sizeof(b));
	assert_true(info->valid);
	assert_int_equal(info->n_images, 2);
	assert_false(info->images[0].last);
	assert_true(info->images[1].last);
	assert_int_equal(info->images[1].offset, 2048);
	assert_int_equal(info->images[1].code_type, ROM_CODE_EFI);
	assert_true(rom_has_x64_efi(info));
	assert_null(find_diag(info, "rom-no-last"));
}

static void test_no_last_flag(void **state)
{
	static uint8_t b[2048 + 512];
	_cleanup_(rom_info_freep) struct rom_info *eof = NULL, *pad = NULL, *junk = NULL;

	(void)state;
	testutil_rom_legacy(b, 2048, 0x1002, 0x1586, 0x030000, false, false);
	eof = decode(b, 2048);
	assert_true(eof->valid);
	assert_message(find_diag(eof, "rom-no-last"), "does not have the last-image flag");

	memset(b + 2048, 0xff, 512); /* a ROM BAR dump padded with 0xff */
	pad = decode(b, sizeof(b));
	assert_true(pad->valid);
	assert_int_equal(pad->n_images, 1);
	assert_non_null(find_diag(pad, "rom-no-last"));

	memset(b + 2048, 0x42, 512);
	junk = decode(b, sizeof(b));
	assert_true(junk->valid);
	assert_int_equal(junk->n_images, 1);
	assert_message(find_diag(junk, "rom-no-last"), "offset 0x800: no further image here");
}

static void test_trailing_after_last(void **state)
{
	static uint8_t b[2048 + 100];
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;

	(void)state;
	testutil_rom_legacy(b, 2048, 0x1002, 0x1586, 0x030000, true, false);
	memset(b + 2048, 0, 100);
	info = decode(b, sizeof(b));
	assert_true(info->valid);
	assert_message(find_diag(info, "rom-trailing"), "offset 0x800: 100 bytes after the last "
							"image (padding)");
}

static void test_check_for_device(void **state)
{
	static uint8_t v[4096], g[4096];
	_cleanup_(rom_info_freep) struct rom_info *vi = NULL, *gi = NULL, *vg = NULL;
	struct diag_list d = {};

	(void)state;
	testutil_rom_legacy(v, sizeof(v), 0x1002, 0x1586, 0x038000, true, true);
	vi = decode(v, sizeof(v));
	/* matching VBIOS of class 0x0380: no mismatch, but no EFI */
	assert_int_equal(rom_check_for_device(vi, 0x1002, 0x1586, false, &d), 0);
	assert_null(find_in(&d, "rom-id-mismatch"));
	assert_null(find_in(&d, "rom-no-legacy-display"));
	assert_int_equal(find_in(&d, "rom-no-efi")->status, DIAG_WARN);
	assert_message(find_in(&d, "rom-no-efi"),
		       "the guest firmware will show no picture until the OS driver loads");
	diag_list_clear(&d);
	/* a VBIOS for another GPU */
	assert_int_equal(rom_check_for_device(vi, 0x1002, 0x15bf, false, &d), 0);
	assert_int_equal(find_in(&d, "rom-id-mismatch")->status, DIAG_WARN);
	assert_message(find_in(&d, "rom-id-mismatch"),
		       "1002:1586, not the target device 1002:15bf");
	diag_list_clear(&d);

	/* GOP ROMs with foreign ids are common: never more than information */
	testutil_rom_efi(g, sizeof(g), 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_X64, 0, true);
	gi = decode(g, sizeof(g));
	assert_int_equal(rom_check_for_device(gi, 0x1002, 0x1586, true, &d), 0);
	assert_int_equal(find_in(&d, "rom-id-mismatch")->status, DIAG_INFO);
	assert_int_equal(diag_count(&d, DIAG_FAIL), 0);
	assert_int_equal(diag_count(&d, DIAG_WARN), 0);
	diag_list_clear(&d);

	/* a "GOP" ROM without an x64 EFI image is an error */
	vg = decode(v, sizeof(v));
	assert_int_equal(rom_check_for_device(vg, 0x1002, 0x1586, true, &d), 0);
	assert_int_equal(find_in(&d, "rom-no-efi")->status, DIAG_FAIL);
	diag_list_clear(&d);
}

static void check_combined(const uint8_t *c, size_t clen, size_t vlen, size_t glen)
{
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;

	assert_int_equal(clen, vlen + glen);
	info = decode(c, clen);
	assert_true(info->valid);
	assert_int_equal(info->n_images, 2);
	assert_int_equal(info->images[0].code_type, ROM_CODE_X86);
	assert_false(info->images[0].last);
	assert_true(info->images[0].checksum_ok);
	assert_int_equal(info->images[1].code_type, ROM_CODE_EFI);
	assert_int_equal(info->images[1].offset, vlen);
	assert_true(info->images[1].last);
	assert_true(rom_has_x64_efi(info));
	assert_null(find_diag(info, "rom-checksum"));
	assert_null(find_diag(info, "rom-no-last"));
}

static void test_combine(void **state)
{
	static uint8_t v[4096], g[8192 + 512];
	_cleanup_free_ uint8_t *c = NULL, *c2 = NULL;
	_cleanup_(error_clear) struct error err = {};
	size_t clen;

	(void)state;
	/* ATOM VBIOS: the checksum is rebalanced at 0x21, the last byte stays */
	testutil_rom_legacy(v, sizeof(v), 0x1002, 0x1586, 0x030000, true, true);
	/* GOP file: an ia32 image first (skipped), then the x64 one, last flag not set */
	testutil_rom_efi(g, 512, 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_IA32, 0, false);
	testutil_rom_efi(g + 512, 8192, 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_X64, 0, false);
	assert_int_equal(rom_combine(v, sizeof(v), g, sizeof(g), &c, &clen, NULL), 0);
	check_combined(c, clen, sizeof(v), 8192);
	assert_int_equal(c[sizeof(v) - 1], v[sizeof(v) - 1]);
	assert_int_not_equal(c[0x21], v[0x21]);
	assert_memory_equal(c + sizeof(v) + 0x80, g + 512 + 0x80, 8192 - 0x80);

	/* non-ATOM VBIOS: the last byte of the legacy image carries the fix */
	testutil_rom_legacy(v, sizeof(v), 0x1234, 0x1111, 0x030000, true, false);
	assert_int_equal(rom_combine(v, sizeof(v), g, sizeof(g), &c2, &clen, NULL), 0);
	check_combined(c2, clen, sizeof(v), 8192);
	assert_int_equal(c2[0x21], v[0x21]);

	/* the wrong way round: no legacy image in the "VBIOS", no x64 EFI in the "GOP" */
	assert_int_equal(rom_combine(g, sizeof(g), v, sizeof(v), &c, &clen, &err), -EBADMSG);
	assert_int_equal(err.errnum, EBADMSG);
	assert_string_equal(err.message, "the VBIOS has no complete legacy x86 image");
	error_clear(&err);
	assert_int_equal(rom_combine(v, sizeof(v), v, sizeof(v), &c, &clen, &err), -EBADMSG);
	assert_string_equal(err.message, "the GOP ROM has no complete x64 EFI image");
	error_clear(&err);
	/* a truncated VBIOS is refused */
	assert_int_equal(rom_combine(v, 1024, g, sizeof(g), &c, &clen, &err), -EBADMSG);
	assert_string_equal(err.message, "the VBIOS has no complete legacy x86 image");
}

/* The gate before a ROM is staged for a guest: the reason is in the error object. */
static void test_validate_for_guest(void **state)
{
	static uint8_t v[4096], g[8192], junk[4096];
	_cleanup_(error_clear) struct error err = {};

	(void)state;
	testutil_rom_legacy(v, sizeof(v), 0x1002, 0x1586, 0x030000, true, true);
	testutil_rom_efi(g, sizeof(g), 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_X64, 0, true);
	assert_int_equal(rom_validate_for_guest(v, sizeof(v), false, &err), 0);
	assert_int_equal(rom_validate_for_guest(g, sizeof(g), true, &err), 0);
	assert_int_equal(rom_validate_for_guest(g, sizeof(g), false, NULL), 0);
	assert_false(error_is_set(&err));

	assert_int_equal(rom_validate_for_guest(junk, sizeof(junk), false, &err), -EINVAL);
	assert_int_equal(err.errnum, EINVAL);
	assert_string_equal(err.message, "not a PCI option ROM (see `gpurun rom info`)");
	assert_null(err.file);
	assert_int_equal(rom_validate_for_guest(v, sizeof(v), true, &err), -EINVAL);
	assert_string_equal(err.message, "GOP ROM without an x64 EFI image: OVMF cannot load it");
	assert_int_equal(rom_validate_for_guest(junk, 0, true, NULL), -EINVAL);
}

static void test_vbios_name(void **state)
{
	_cleanup_free_ char *n = vbios_name(0x1002, 0x1586);

	(void)state;
	assert_string_equal(n, "vbios_1002_1586.bin");
}

static void test_stage(void **state)
{
	char *root = testutil_mkroot();
	_cleanup_free_ char *dir = NULL, *path = NULL, *got = NULL;
	const char a[] = "first rom", b[] = "other rom";
	struct stat st;
	size_t len;

	(void)state;
	dir = path_join(root, "var/lib/gpurun/roms");
	assert_int_equal(rom_stage(NULL, a, sizeof(a), dir, "vbios_1002_1586.bin", false, &path),
			 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* identical: no-op success */
	assert_int_equal(rom_stage(NULL, a, sizeof(a), dir, "vbios_1002_1586.bin", false, NULL), 0);
	/* different: refused unless forced */
	assert_int_equal(rom_stage(NULL, b, sizeof(b), dir, "vbios_1002_1586.bin", false, NULL),
			 -EEXIST);
	assert_int_equal(read_full_file(path, 1024, &got, &len), 0);
	assert_string_equal(got, a);
	got = mfree(got);
	assert_int_equal(rom_stage(NULL, b, sizeof(b), dir, "vbios_1002_1586.bin", true, NULL), 0);
	assert_int_equal(read_full_file(path, 1024, &got, &len), 0);
	assert_string_equal(got, b);
	/* names must be plain file names Proxmox can use */
	assert_int_equal(rom_stage(NULL, a, sizeof(a), dir, "../x.bin", false, NULL), -EINVAL);
	assert_int_equal(rom_stage(NULL, a, sizeof(a), dir, "a,b.bin", false, NULL), -EINVAL);
	assert_int_equal(rom_stage(NULL, a, sizeof(a), dir, "", false, NULL), -EINVAL);
	testutil_rmroot(root);
}

static void test_read_sysfs_fixture(void **state)
{
	char *root = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_free_ char *dir = NULL, *path = NULL;
	_cleanup_free_ void *buf = NULL;
	static uint8_t v[2048];
	size_t len;

	(void)state;
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(rom_read_sysfs(c, "0000:c4:00.0", &buf, &len), -ENOENT);
	dir = path_join(c->sys, "bus/pci/devices/0000:c4:00.0");
	assert_int_equal(hostfs_mkdir_p(dir, 0755), 0);
	path = path_join(dir, "rom");
	testutil_rom_legacy(v, sizeof(v), 0x1002, 0x1586, 0x030000, true, true);
	assert_int_equal(hostfs_write_atomic(path, v, sizeof(v), 0644), 0);
	/* not on sysfs: read only, the file is not clobbered by "1"/"0" writes */
	assert_int_equal(rom_read_sysfs(c, "0000:c4:00.0", &buf, &len), 0);
	assert_int_equal(len, sizeof(v));
	assert_memory_equal(buf, v, sizeof(v));
	assert_int_equal(hostfs_same_content(path, v, sizeof(v)), 1);
	testutil_rmroot(root);
}

/* Real option ROMs: each file in @dir whose name starts with @prefix. Returns how many. */
static int for_each_real(const char *dir, const char *prefix,
			 void (*fn)(const char *path, const struct rom_info *info))
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		_cleanup_(rom_info_freep) struct rom_info *info = NULL;
		_cleanup_free_ char *path = NULL, *buf = NULL;
		size_t len;

		if (!startswith(de->d_name, prefix))
			continue;
		path = path_join(dir, de->d_name);
		assert_int_equal(read_full_file(path, ROM_MAX_SIZE, &buf, &len), 0);
		assert_int_equal(rom_decode(buf, len, &info), 0);
		fn(path, info);
		n++;
	}
	return n;
}

static void check_ipxe(const char *path, const struct rom_info *info)
{
	if (!info->valid || info->n_images != 2)
		fail_msg("%s: valid=%d images=%zu", path, info->valid, info->n_images);
	assert_int_equal(info->images[0].code_type, ROM_CODE_X86);
	assert_true(info->images[0].checksum_ok);
	assert_false(info->images[0].last);
	assert_int_equal(info->images[1].code_type, ROM_CODE_EFI);
	assert_true(info->images[1].efi_signature_ok);
	assert_int_equal(info->images[1].efi_machine, ROM_EFI_MACHINE_X64);
	assert_int_equal(info->images[1].efi_subsystem, 11);
	assert_true(info->images[1].last);
	assert_int_equal(info->images[1].offset, info->images[0].length);
	/* no id check: the ne2k_pci ROM really carries 0000:0000 and fff3:0000 */
	assert_true(rom_has_x64_efi(info));
	assert_null(find_diag(info, "rom-checksum"));
	assert_null(find_diag(info, "rom-truncated"));
}

static void check_vgabios(const char *path, const struct rom_info *info)
{
	/* the ISA VGA and ramfb BIOSes have no PCI data structure: not PCI option ROMs */
	if (strstr(path, "isavga") || strstr(path, "ramfb")) {
		assert_false(info->valid);
		assert_int_equal(info->error_offset, 0x18);
		assert_message(find_diag(info, "rom-pcir"), "no PCI data structure");
		return;
	}
	if (!info->valid || info->n_images != 1)
		fail_msg("%s: valid=%d images=%zu", path, info->valid, info->n_images);
	assert_int_equal(info->images[0].code_type, ROM_CODE_X86);
	assert_true(info->images[0].checksum_ok);
	assert_true(info->images[0].last);
	assert_false(info->images[0].atom);
	assert_false(rom_has_x64_efi(info));
}

static void test_real_ipxe(void **state)
{
	(void)state;
	if (for_each_real(IPXE_DIR, "efi-", check_ipxe) == 0)
		skip(); /* ipxe-qemu not installed: no /usr/lib/ipxe/qemu/efi-*.rom */
}

static void test_real_vgabios(void **state)
{
	(void)state;
	if (for_each_real(SEABIOS_DIR, "vgabios-", check_vgabios) == 0)
		skip(); /* seabios not installed: no /usr/share/seabios/vgabios-*.bin */
}

static void test_real_combine(void **state)
{
	_cleanup_free_ char *v = NULL, *g = NULL;
	_cleanup_free_ uint8_t *c = NULL;
	size_t vlen, glen, clen;

	(void)state;
	if (read_full_file(SEABIOS_DIR "/vgabios-stdvga.bin", ROM_MAX_SIZE, &v, &vlen) < 0 ||
	    read_full_file(IPXE_DIR "/efi-e1000.rom", ROM_MAX_SIZE, &g, &glen) < 0)
		skip(); /* needs seabios and ipxe-qemu */
	assert_int_equal(rom_combine(v, vlen, g, glen, &c, &clen, NULL), 0);
	/* the e1000 ROM's legacy image is skipped: only its EFI image is taken */
	check_combined(c, clen, vlen, glen - 75264);
}

/* Every prefix of a two-image ROM decodes without reading out of bounds (ASan in
 * check-sanitize); the buffers are exactly sized. */
static void test_every_prefix(void **state)
{
	static uint8_t b[1024 + 1024];

	(void)state;
	testutil_rom_legacy(b, 1024, 0x1002, 0x1586, 0x030000, false, true);
	testutil_rom_efi(b + 1024, 1024, 0x1002, 0xffff, 0x030000, ROM_EFI_MACHINE_X64, 0, true);
	for (size_t n = 0; n <= sizeof(b); n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct rom_info *info = NULL;

		memcpy(copy, b, n);
		assert_int_equal(rom_decode(copy, n, &info), 0);
		if (n < 0x1a)
			assert_false(info->valid);
		if (n == sizeof(b)) {
			assert_true(info->valid);
			assert_int_equal(info->n_images, 2);
		}
		rom_info_free(info);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legacy_valid),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_empty_and_tiny),
		cmocka_unit_test(test_pcir_pointer_outside),
		cmocka_unit_test(test_pcir_signature),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_combine_zero_length),
		cmocka_unit_test(test_pcir_past_length),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_checksum_mismatch),
		cmocka_unit_test(test_efi_fields),
		cmocka_unit_test(test_efi_bad),
		cmocka_unit_test(test_two_images),
		cmocka_unit_test(test_no_last_flag),
		cmocka_unit_test(test_trailing_after_last),
		cmocka_unit_test(test_check_for_device),
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_validate_for_guest),
		cmocka_unit_test(test_vbios_name),
		cmocka_unit_test(test_stage),
		cmocka_unit_test(test_read_sysfs_fixture),
		cmocka_unit_test(test_real_ipxe),
		cmocka_unit_test(test_real_vgabios),
		cmocka_unit_test(test_real_combine),
		cmocka_unit_test(test_every_prefix),
	};

	return testutil_run(tests);
}
