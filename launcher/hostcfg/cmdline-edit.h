/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PURE: the kernel command line, and editing it inside the files that set it — a kernel
 * cmdline file (etc/kernel/cmdline), GRUB's shell file (etc/default/grub) and a boot loader
 * entry (`options` lines). Buffers in, buffers out: nothing here reads or writes a file, and
 * nothing logs.
 *
 * A buffer is @len bytes; NULL (with @len 0) stands for a file that does not exist. Results
 * are malloc'd and owned by the caller: strings NUL-terminated, token lists strv (util/strv.h).
 * Errors are negative errno values. A function that takes `struct error *err` (may be NULL)
 * fills it on failure: -EINVAL (the file cannot be edited safely: a NUL byte, a GRUB value
 * continued on the next line) with the reason and the 1-based line but no file name (the
 * caller knows it: error_set_file()); -ENOMEM with the errno alone. */
#pragma once

#include <stddef.h>

#include "core/diag.h"
#include "util/error.h"

/* Split a kernel command line at whitespace, keeping double-quoted parts of a token together
 * (`a="b c"` is one token); stops at a NUL byte. */
int cmdline_split(const char *s, size_t len, char ***ret);

/* Which of @want ("amd_iommu=on", "iommu=pt", ...) are missing from @present. A present
 * parameter with the same key and a conflicting value (iommu=soft against iommu=pt,
 * amd_iommu=off, intel_iommu=off) is not added: it is reported in @d as a WARN
 * "hostcfg-conflict" naming @where. Values of iommu=, amd_iommu=, intel_iommu= and
 * initcall_blacklist= are comma lists. */
int cmdline_missing(char *const *present, char *const *want, const char *where, struct diag_list *d,
		    char ***ret_add);

/* The editors: each returns the new content with @add appended at the right place, preserving
 * everything else byte for byte. */
/* A kernel cmdline file: append to the last non-empty line; a missing file gives one line. */
int cmdline_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err);
/* etc/default/grub: append inside the last GRUB_CMDLINE_LINUX_DEFAULT assignment (quotes
 * kept; an unquoted value gets double quotes), or add the assignment at the end. */
int cmdline_grub_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err);
/* A loader entry: append to the last `options` line, or add one. */
int cmdline_entry_edit(const char *buf, size_t len, char *const *add, char **ret,
		       struct error *err);

/* The tokens the file gives the kernel. GRUB: the last GRUB_CMDLINE_LINUX assignment's, then
 * the last GRUB_CMDLINE_LINUX_DEFAULT's. A loader entry: every `options` line's, in order. */
int cmdline_grub_tokens(const char *buf, size_t len, char ***ret, struct error *err);
int cmdline_entry_tokens(const char *buf, size_t len, char ***ret, struct error *err);
