/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the unit tests (tests/unit/test-*.c) and the test tools (tests/tools/mkrom.c,
 * mkvfct.c) share, from tests/unit/testutil.c:
 *   - temporary roots: a fresh directory under /tmp, files, directories and links in it, rm -rf;
 *   - option ROM images (legacy x86, EFI) and ACPI VFCT tables built in memory;
 *   - `struct host` snapshots and planner paths built by hand, so that pure code (plan, checks,
 *     emitters) can be tested without a fixture tree;
 *   - testutil_run(): the main of every unit test, with a case filter (GPURUN_TEST_CASE).
 *
 * The helpers do not return errors: a failed step (mkdtemp, a write) is a broken test set-up,
 * not a result. It goes to testutil_fail(), which fails the running cmocka test (after
 * testutil_run() installed that) or, in a tool, prints "TOOL: message" and exits 1.
 * Include this after <cmocka.h> in a unit test; the tools include it without cmocka. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/plan.h"
#include "host/inspect.h"
#include "util/macro.h"

/* ---- failure ---- */

/* Report a failed set-up step and do not return. */
_noreturn_ _printf_(1, 2) void testutil_fail(const char *fmt, ...);
/* Where testutil_fail() sends its message first (NULL: print it and exit 1). The hook must not
 * return (cmocka's _fail() jumps back to the test runner); if it does, testutil_fail aborts. */
extern void (*testutil_fail_hook)(const char *msg);

/* ---- temporary roots ---- */

/* A new empty directory /tmp/gpurun-PROGRAM.XXXXXX (PROGRAM = this binary's name). Free with
 * testutil_rmroot(). */
char *testutil_mkroot(void);
/* rm -rf @root (links are removed, never followed), then free(@root). NULL is a no-op. */
void testutil_rmroot(char *root);
/* @root/@rel, malloc'd. */
char *testutil_path(const char *root, const char *rel);
/* mkdir -p @root/@rel (mode 0755). */
void testutil_mkdir(const char *root, const char *rel);
/* Write @len bytes to @path (created or truncated, mode 0644 whatever the umask; an existing
 * file keeps its inode). Its directory must exist. */
void testutil_write_file(const char *path, const void *buf, size_t len);
/* testutil_write_file() of @root/@rel, creating missing parent directories first. */
void testutil_write(const char *root, const char *rel, const void *buf, size_t len);
/* testutil_write() of a string. */
void testutil_put(const char *root, const char *rel, const char *content);
/* A symbolic link @root/@rel pointing to @target (taken as it is: relative or absolute). */
void testutil_symlink(const char *root, const char *target, const char *rel);
/* The contents of @root/@rel, NUL-terminated, malloc'd; a failure when it cannot be read. */
char *testutil_read(const char *root, const char *rel);
/* The same, but NULL when @root/@rel does not exist. */
char *testutil_read_optional(const char *root, const char *rel);

/* ---- little-endian stores and tool arguments ---- */

void testutil_put16(uint8_t *p, uint16_t v);
void testutil_put32(uint8_t *p, uint32_t v);
/* Parse hex @s (no 0x needed) that must be <= @max. -EINVAL when it is not such a number. */
int testutil_parse_hex(const char *s, unsigned long max, unsigned long *ret);

/* ---- option ROMs ---- */

#define TESTUTIL_ROM_PCIR_OFFSET 0x40	  /* legacy image: the PCI data structure */
#define TESTUTIL_ROM_ATOM_OFFSET 0x60	  /* legacy image: "ATOMBIOSBK-AMD" */
#define TESTUTIL_ROM_EFI_PCIR_OFFSET 0x1c /* EFI image: the PCI data structure */
#define TESTUTIL_ROM_EFI_PE_OFFSET 0x60	  /* EFI image: the PE/COFF header */

/* Fill @b (@size bytes: 1 to 255 blocks of 512) with one legacy x86 option ROM image:
 * 0x55AA, size byte, an init entry (retf), PCIR at 0x40 with @vendor:@device, @class, code type
 * 0, the last-image flag when @last, "ATOMBIOSBK-AMD" at 0x60 when @atom, and the checksum in
 * the last byte (all bytes sum to 0 mod 256). Filler bytes come from a fixed generator seeded by
 * the ids: the same arguments give the same bytes. */
void testutil_rom_legacy(uint8_t *b, size_t size, uint16_t vendor, uint16_t device, uint32_t class,
			 bool last, bool atom);
/* Fill @b with one EFI option ROM image (code type 3, signature 0x0EF1, a boot-services driver
 * for @machine, @compression 0 = uncompressed), PCIR at 0x1c, a minimal PE/COFF header (MZ,
 * e_lfanew 0x40, "PE\0\0", @machine) at 0x60, the last-image flag when @last: a GOP-like ROM.
 * @size: 1 to 65535 blocks of 512. */
void testutil_rom_efi(uint8_t *b, size_t size, uint16_t vendor, uint16_t device, uint32_t class,
		      uint16_t machine, uint16_t compression, bool last);

/* ---- ACPI VFCT tables ---- */

#define TESTUTIL_VFCT_HEADER 76 /* the table header up to the first image record */
#define TESTUTIL_VFCT_RECORD 28 /* an image record's header */

/* A table being built. b and len may be read and changed directly (a test corrupting a field);
 * the bytes between len and the allocation's end are zero. */
struct testutil_vfct {
	uint8_t *b;
	size_t len, allocated;
	/* written into the records added after they are set (0 unless set) */
	uint16_t subsystem_vendor, subsystem_device;
	uint32_t revision;
};

/* Start a table in @t (overwritten: testutil_vfct_done() a table it held first): signature
 * "VFCT", revision 1, the OEM ID, OEM table ID and creator ID (space-padded to 6, 8 and 4
 * characters), OEM and creator revision 1, VBIOSImageOffset 76. */
void testutil_vfct_init(struct testutil_vfct *t, const char *oem_id, const char *oem_table_id,
			const char *creator_id);
/* Append an image record for @bus:@dev.@fn @vendor:@device whose header claims @claimed image
 * bytes, followed by @present bytes of @image (NULL: a filler pattern). Claimed and present may
 * differ on purpose. Returns the record's offset in the table. */
size_t testutil_vfct_add(struct testutil_vfct *t, unsigned bus, unsigned dev, unsigned fn,
			 uint16_t vendor, uint16_t device, uint32_t claimed, const void *image,
			 size_t present);
/* Append @n zero bytes (a truncated record, trailing data). */
void testutil_vfct_pad(struct testutil_vfct *t, size_t n);
/* Set the Length field to len and fix the checksum (all bytes sum to 0). */
void testutil_vfct_finish(struct testutil_vfct *t);
/* Free the buffer; the struct may be initialised again. */
void testutil_vfct_done(struct testutil_vfct *t);

/* ---- struct host snapshots ---- */

struct host *testutil_host_new(void);
/* Add a function (address "0000:bb:dd.f"); @group < 0 for none. Groups are created on demand.
 * Returns the new function (pointer valid until the next add). */
struct pci_func *testutil_host_add(struct host *h, const char *addr, uint16_t vendor,
				   uint16_t device, uint32_t class, const char *driver, int group);
/* The Strix Halo APU slot from the strix-halo fixture, as a snapshot: c4:00.0 GPU + .1 audio in
 * group 14, the PSP/USB/ACP/HDA functions of the slot each in their own group. */
struct host *testutil_host_strix(void);

/* ---- planner paths ---- */

/* struct plan_paths as host/paths.c would fill it for the root "/R": rom_dir
 * /R/var/lib/gpurun/roms, pve_rom_dir /R/usr/share/kvm, state_dir /R/run/gpurun, vars_dir
 * /R/var/lib/gpurun/vars, usr_share /R/usr/share, and with @with_ovmf Debian's four OVMF files
 * (OVMF/OVMF_CODE_4M.fd, OVMF_VARS_4M.fd, OVMF_CODE_4M.secboot.fd, OVMF_VARS_4M.ms.fd).
 * Free with plan_paths_done(). */
struct plan_paths testutil_plan_paths(bool with_ovmf);

/* ---- running the tests ---- */

/* The environment variable holding the case filter: comma-separated glob patterns (fnmatch(3):
 * `*`, `?`, `[...]`) matched against the case names; `make check-unit C=PATTERN` sets it. */
#define TESTUTIL_CASE_ENV "GPURUN_TEST_CASE"
/* Exit code of a test binary none of whose cases the filter selects (run-tests counts it as
 * "not this binary", and fails when no binary has a matching case). */
#define TESTUTIL_EXIT_NO_CASE 77

/* Whether case @name is selected by @filter (NULL or empty: every case). */
bool testutil_case_selected(const char *filter, const char *name);

#ifdef CMOCKA_H_
static inline void testutil_cmocka_fail(const char *msg)
{
	print_error("%s\n", msg);
	_fail(__FILE__, __LINE__);
}

/* Run @tests, or those selected by $GPURUN_TEST_CASE; set-up failures in testutil fail the
 * running case. Returns what a main returns: 0 when all passed, TESTUTIL_EXIT_NO_CASE when the
 * filter selects none of them. */
static inline int testutil_run_tests(const struct CMUnitTest *tests, size_t n)
{
	const char *filter = getenv(TESTUTIL_CASE_ENV);
	_cleanup_free_ struct CMUnitTest *chosen = calloc(n ? n : 1, sizeof(*chosen));
	size_t k = 0;

	if (!chosen)
		abort();
	testutil_fail_hook = testutil_cmocka_fail;
	for (size_t i = 0; i < n; i++)
		if (testutil_case_selected(filter, tests[i].name))
			chosen[k++] = tests[i];
	if (k == 0) {
		fprintf(stderr, "%s: no case matches %s='%s'; the cases are:\n",
			program_invocation_short_name, TESTUTIL_CASE_ENV, filter);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "  %s\n", tests[i].name);
		return TESTUTIL_EXIT_NO_CASE;
	}
	return _cmocka_run_group_tests(program_invocation_short_name, chosen, k, NULL, NULL);
}
#define testutil_run(tests) testutil_run_tests((tests), ELEMENTSOF(tests))
#endif
