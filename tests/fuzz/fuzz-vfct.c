/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: vfct_parse() on arbitrary bytes; every record it returns must lie inside the
 * table and decoding each image as an option ROM must not misbehave either. */
#include <stddef.h>
#include <stdint.h>

#include "core/rom.h"
#include "core/vfct.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfct_table *t = NULL;
	struct diag_list w = {};
	struct error err = {};

	if (vfct_parse(data, size, &t, &w, &err) == 0) {
		for (size_t i = 0; i < t->n_images; i++) {
			struct rom_info *info = NULL;

			if (t->images[i].image_offset + t->images[i].image_length > t->length)
				__builtin_trap();
			if (rom_decode(vfct_image_data(t, i), t->images[i].image_length, &info) ==
			    0)
				rom_info_free(info);
		}
	} else if (error_is_set(&err) && (!err.has_offset || (err.offset >= size && size > 0)))
		__builtin_trap(); /* a parse error names an offset inside the input */
	vfct_table_free(t);
	diag_list_clear(&w);
	error_clear(&err);
	return 0;
}
