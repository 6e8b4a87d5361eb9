/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mkvfct: write a complete ACPI VFCT table for tests (what `qemu -acpitable file=` expects).
 *
 *   mkvfct OUT BUS DEV FN VENDOR DEVICE ROMFILE [BUS DEV FN VENDOR DEVICE ROMFILE]...
 *
 * BUS, VENDOR and DEVICE are hex, DEV and FN hex too (they are < 0x20 and < 8). One image
 * record per sextuple, back to back after the 76-byte header; subsystem ids and revision are 0.
 * OEMID "GPURUN", OEM table id "MKVFCT", creator "GPRN"; the checksum makes all bytes sum to 0.
 * The table is built by testutil_vfct_*() (tests/unit/testutil.c), as in the unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/fileio.h"

#define MAX_IMAGE (16 * 1024 * 1024)

int main(int argc, char **argv)
{
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	if (argc < 8 || (argc - 2) % 6 != 0) {
		fprintf(stderr, "usage: mkvfct OUT BUS DEV FN VENDOR DEVICE ROMFILE [...]\n");
		return 2;
	}
	testutil_vfct_init(&t, "GPURUN", "MKVFCT", "GPRN");
	for (int i = 2; i < argc; i += 6) {
		unsigned long bus, dev, fn, vendor, device;
		_cleanup_free_ char *img = NULL;
		size_t img_len = 0;
		int r;

		if (testutil_parse_hex(argv[i], 0xff, &bus) < 0 ||
		    testutil_parse_hex(argv[i + 1], 0x1f, &dev) < 0 ||
		    testutil_parse_hex(argv[i + 2], 7, &fn) < 0 ||
		    testutil_parse_hex(argv[i + 3], 0xffff, &vendor) < 0 ||
		    testutil_parse_hex(argv[i + 4], 0xffff, &device) < 0) {
			fprintf(stderr, "mkvfct: bad record '%s %s %s %s %s'\n", argv[i],
				argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4]);
			return 2;
		}
		r = read_full_file(argv[i + 5], MAX_IMAGE, &img, &img_len);
		if (r >= 0 && img_len == 0)
			r = -EINVAL;
		if (r < 0) {
			fprintf(stderr, "mkvfct: %s: %s\n", argv[i + 5], strerror(-r));
			return 1;
		}
		testutil_vfct_add(&t, bus, dev, fn, vendor, device, img_len, img, img_len);
	}
	testutil_vfct_finish(&t);
	testutil_write_file(argv[1], t.b, t.len);
	return 0;
}
