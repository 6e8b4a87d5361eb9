/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: rom_decode() on arbitrary bytes, the device checks on the result, and
 * rom_combine() of the input split in two; a combined ROM must decode back as two valid images. */
#include <stddef.h>
#include <stdint.h>

#include "core/rom.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rom_info *info = NULL, *back = NULL;
	struct diag_list d = {};
	uint8_t *out = NULL;
	struct error err = {};
	size_t out_len, half;

	if (rom_decode(data, size, &info) < 0)
		return 0;
	for (size_t i = 0; i < info->n_images; i++)
		if (info->images[i].offset + info->images[i].available > size)
			__builtin_trap();
	(void)rom_check_for_device(info, 0x1002, 0x1586, false, &d);
	(void)rom_check_for_device(info, 0x1002, 0x1586, true, &d);
	diag_list_clear(&d);
	rom_info_free(info);

	/* the first byte picks where the input splits into VBIOS and GOP */
	if (size < 2)
		return 0;
	half = 1 + (size - 1) * data[0] / 256;
	if (rom_combine(data + 1, half - 1, data + half, size - half, &out, &out_len, &err) == 0) {
		if (rom_decode(out, out_len, &back) == 0) {
			if (!back->valid || back->n_images != 2 || !rom_has_x64_efi(back))
				__builtin_trap();
			rom_info_free(back);
		}
		free(out);
	}
	error_clear(&err);
	return 0;
}
