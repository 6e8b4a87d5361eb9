/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: firmware_parse() on arbitrary bytes (QEMU firmware descriptors); what it
 * returns must be consistent, a syntax error must name an offset inside the input, and the
 * selection must accept whatever parsed. The same bytes also go through firmware_set_load() as
 * two directories' copies of one name, the override rule included. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/firmware.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct firmware_descriptor *d = NULL;
	struct error err = {};
	struct firmware_set set = {};
	const struct firmware_file files[] = {
		{ .name = "50-x.json", .buf = data, .len = size, .dir_priority = 1 },
		{ .name = "50-x.json", .buf = data, .len = size / 2, .dir_priority = 0 },
	};

	if (firmware_parse("fuzz.json", data, size, &d, &err) == 0) {
		const struct firmware_want want[] = {
			{ .arch = "x86_64", .machine = "q35", .secure_boot = false },
			{ .arch = "x86_64", .machine = "q35", .secure_boot = true },
		};

		if (!d->name || !d->executable || d->device >= _FIRMWARE_DEVICE_MAX ||
		    d->mode >= _FIRMWARE_MODE_MAX || d->executable_format >= _FIRMWARE_FORMAT_MAX)
			__builtin_trap();
		if (d->device == FIRMWARE_DEVICE_FLASH && d->mode == FIRMWARE_MODE_SPLIT &&
		    !d->nvram_template)
			__builtin_trap();
		for (size_t i = 0; i < 2; i++)
			if (firmware_select(&d, 1, &want[i], NULL, NULL) == 0 &&
			    (!d->uefi || d->device != FIRMWARE_DEVICE_FLASH || !d->nvram_template))
				__builtin_trap();
	} else if (error_is_set(&err) && err.has_offset && size > 0 && err.offset >= size)
		__builtin_trap(); /* a syntax error names an offset inside the input */
	firmware_descriptor_free(d);
	error_clear(&err);
	if (firmware_set_load(files, 2, &set) == 0) {
		/* /etc's copy (half the bytes, or empty) always wins over /usr/share's */
		if (set.n_descs > 1)
			__builtin_trap();
		firmware_set_done(&set);
	}
	return 0;
}
