/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mkrom: write a deterministic PCI option ROM image for tests.
 *
 *   mkrom legacy VENDOR DEVICE SIZE OUT [--class CCCCCC]
 *       one legacy x86 image (code type 0), PCIR at 0x40, last-image bit set, checksum byte at
 *       the end so that all bytes sum to 0 mod 256; "ATOMBIOSBK-AMD" at 0x60 when VENDOR is 1002.
 *   mkrom efi VENDOR DEVICE SIZE OUT [--class CCCCCC]
 *       one EFI image (code type 3, signature 0x0EF1, x64 boot-services driver, uncompressed,
 *       PE image at 0x60), last-image bit set: a GOP-like ROM.
 *
 * VENDOR, DEVICE and CLASS are hex; SIZE is decimal (or 0x hex), a multiple of 512. The images
 * are testutil_rom_legacy()/testutil_rom_efi() (tests/unit/testutil.c), the builders the unit
 * tests use: the same arguments give the same file. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static int usage(void)
{
	fprintf(stderr, "usage: mkrom legacy|efi VENDOR DEVICE SIZE OUT [--class CCCCCC]\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long vendor, device, class = 0x030000, size;
	_cleanup_free_ uint8_t *buf = NULL;
	char *end;
	bool efi;

	if (argc != 6 && argc != 8)
		return usage();
	if (strcmp(argv[1], "legacy") == 0)
		efi = false;
	else if (strcmp(argv[1], "efi") == 0)
		efi = true;
	else
		return usage();
	if (testutil_parse_hex(argv[2], 0xffff, &vendor) < 0 ||
	    testutil_parse_hex(argv[3], 0xffff, &device) < 0)
		return usage();
	errno = 0;
	size = strtoul(argv[4], &end, 0);
	if (errno || end == argv[4] || *end || size < 1024 || size % 512 || size > 0xffffUL * 512)
		return usage();
	if (!efi && size > 255 * 512) {
		fprintf(stderr, "mkrom: a legacy image holds at most 255 blocks of 512 bytes\n");
		return 2;
	}
	if (argc == 8) {
		if (strcmp(argv[6], "--class") != 0 ||
		    testutil_parse_hex(argv[7], 0xffffff, &class) < 0)
			return usage();
	}

	buf = malloc(size);
	if (!buf)
		return 1;
	if (efi)
		testutil_rom_efi(buf, size, vendor, device, class, 0x8664, 0, true);
	else
		testutil_rom_legacy(buf, size, vendor, device, class, true, vendor == 0x1002);
	testutil_write_file(argv[5], buf, size);
	return 0;
}
