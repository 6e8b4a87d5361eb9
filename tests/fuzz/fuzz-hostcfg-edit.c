/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the pure host-config editors (hostcfg/cmdline-edit.h, modprobe-edit.h) on
 * arbitrary files. Invariant: an editor either refuses (-EINVAL, with a reason) or returns
 * content whose kernel parameters re-parse to the old ones followed by the added ones. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "hostcfg/cmdline-edit.h"
#include "hostcfg/modprobe-edit.h"
#include "util/error.h"
#include "util/strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*edit_fn)(const char *, size_t, char *const *, char **, struct error *);
typedef int (*params_fn)(const char *, size_t, char ***, unsigned **, struct error *);

static void check(edit_fn edit, params_fn params, const char *buf, size_t len, char *const *add)
{
	struct error err = {};
	char *out = NULL, **old = NULL, **new = NULL;
	int r = edit(buf, len, add, &out, &err);

	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			__builtin_trap();
		if (r == -EINVAL && !err.message)
			__builtin_trap(); /* a refusal says why */
		if (out)
			__builtin_trap();
		error_clear(&err);
		return;
	}
	if (params(buf, len, &old, NULL, NULL) < 0 ||
	    params(out, strlen(out), &new, NULL, NULL) < 0)
		__builtin_trap(); /* what the editor accepted and wrote must parse */
	if (strv_length(new) != strv_length(old) + strv_length(add))
		__builtin_trap();
	for (size_t i = 0; new[i]; i++)
		if (strcmp(new[i], i < strv_length(old) ? old[i] : add[i - strv_length(old)]))
			__builtin_trap();
	strv_free(old);
	strv_free(new);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *add[] = { (char *)"amd_iommu=on", (char *)"iommu=pt", NULL };
	char *ids[] = { (char *)"1002:1586", (char *)"1002:1640", NULL };
	char *soft[] = { (char *)"amdgpu", NULL };
	const char *buf = (const char *)data;
	struct diag_list d = {};
	char *out = NULL;

	check(cmdline_grub_edit, cmdline_grub_params, buf, size, add);
	check(cmdline_edit, cmdline_kernel_params, buf, size, add);
	check(cmdline_entry_edit, cmdline_entry_params, buf, size, add);

	/* modprobe.d: the rewritten file is well-formed and holds every id */
	if (modprobe_vfio_edit(buf, size, ids, soft, "f", &d, &out, NULL) == 0) {
		char **got = NULL;

		diag_list_clear(&d);
		if (modprobe_vfio_lint(out, strlen(out), "f", &d, NULL) != 0)
			__builtin_trap();
		if (modprobe_vfio_ids(out, strlen(out), &got, NULL) < 0 ||
		    !strv_contains_case(got, ids[0]) || !strv_contains_case(got, ids[1]))
			__builtin_trap();
		strv_free(got);
		free(out);
	}
	diag_list_clear(&d);
	(void)modprobe_vfio_lint(buf, size, "f", &d, NULL);
	diag_list_clear(&d);
	return 0;
}
