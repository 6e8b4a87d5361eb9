/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PURE: the unified diff `gpurun host-config` shows for each file it would change. */
#pragma once

#include <stddef.h>

/* Unified diff of @old (NULL = absent file) against @new (NULL = removed), 3 lines of context,
 * headers "--- NAME" / "+++ NAME" (/dev/null for an absent side), "\ No newline at end of
 * file" where a side ends without one. Files too large for the line table are shown as
 * replaced as a whole. *ret (malloc'd) is the empty string when the two are equal. Returns 0
 * or -ENOMEM. */
int diff_unified(const char *name, const char *old, size_t old_len, const char *new, size_t new_len,
		 char **ret);
