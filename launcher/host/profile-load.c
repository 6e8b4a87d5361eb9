/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a profile file; core/profile.c parses the bytes. */
#include <string.h>

#include "host/profile-load.h"
#include "util/error.h"
#include "util/fileio.h"

int profile_load(const char *path, struct profile **ret, struct error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = read_full_file(path, PROFILE_MAX_SIZE, &buf, &len);
	if (r < 0)
		return error_set_line(err, r, path, 0, "%s",
				      r == -EFBIG ? "file too large (over 1 MiB)"
						  : read_full_file_strerror(r));
	return profile_parse(buf, len, path, ret, err);
}
