/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the profile parser: any bytes must give either a profile or an error that
 * names the file and formats as one line "NAME:...", and never crash, leak or read past @size. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/profile.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err = {};
	struct profile *p = NULL;
	char *msg;
	int r;

	r = profile_parse(data, size, "fuzz.profile", &p, &err);
	if (r == 0) {
		if (!p || error_is_set(&err) || !p->name || !p->gpu_device)
			abort();
		profile_free(p);
	} else {
		if (p || !error_is_set(&err) || !err.file || !streq(err.file, "fuzz.profile"))
			abort();
		msg = error_format(&err);
		if (r == -EINVAL && (!msg || !err.message ||
				     strncmp(msg, "fuzz.profile:", 13) != 0 || strchr(msg, '\n')))
			abort();
		free(msg);
	}
	error_clear(&err);
	return 0;
}
