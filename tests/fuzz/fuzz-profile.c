/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the profile parser: any bytes must give either a profile or one error
 * line "NAME:..." and never crash, leak or read past @size. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = NULL;
	char *err = NULL;
	int r;

	r = profile_parse(data, size, "fuzz.profile", &p, &err);
	if (r == 0) {
		if (!p || err || !p->name || !p->gpu_device)
			abort();
		profile_free(p);
	} else {
		if (p || (r == -EINVAL &&
			  (!err || strncmp(err, "fuzz.profile:", 13) != 0 || strchr(err, '\n'))))
			abort();
		free(err);
	}
	return 0;
}
