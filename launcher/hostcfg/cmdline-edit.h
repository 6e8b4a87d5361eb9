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
 * gpurun cannot evaluate, an edit that would not give old + new) with the reason and the 1-based line but no file name (the
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
 * "hostcfg-conflict" naming @where, and ":LINE" when @lines (parallel to @present, 1-based,
 * may be NULL) gives it. Values of iommu=, amd_iommu=, intel_iommu= and initcall_blacklist=
 * are comma lists. */
int cmdline_missing(char *const *present, const unsigned *lines, char *const *want,
		    const char *where, struct diag_list *d, char ***ret_add);

/* The editors: each returns the new content with @add at the right place, preserving
 * everything else byte for byte, and checks its own result: the kernel parameters the new
 * content gives must be the old ones followed by @add (and what follows a `--`, which the
 * kernel hands to init, unchanged), else -EINVAL "... refused" with the line. */
/* A kernel cmdline file: before the first `--`, else at the end of the last non-empty line; a
 * missing file gives one line. */
int cmdline_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err);
/* etc/default/grub, read as the shell that grub-mkconfig sources it with reads it (quotes,
 * backslashes, $NAME/${NAME} of earlier assignments): appended to the last
 * GRUB_CMDLINE_LINUX_DEFAULT assignment — inside its quotes when it is one "..." or '...'
 * string, in double quotes for a plain word, else the whole value rewritten in double quotes —
 * or a new assignment at the end. -EINVAL (with the line) when either GRUB_CMDLINE_LINUX or
 * GRUB_CMDLINE_LINUX_DEFAULT is set where its value cannot be known: inside if/case/a loop/a
 * function/{ }, in a conditional or pipeline, as a command prefix, with +=, a value going on
 * past its line, a command substitution, $VAR not set earlier in the file, ${VAR...}
 * operators, ~, a line continuation inside its name, or changed by unset/read/eval...; or a
 * here-document, an unclosed quote, a file read in with `.`/source, or a CR line ending. A line
 * continuation between words joins them, as in the shell. */
int cmdline_grub_edit(const char *buf, size_t len, char *const *add, char **ret, struct error *err);
/* A loader entry: before the first `--` of the `options` lines, else at the end of the last
 * `options` line, or a new one. */
int cmdline_entry_edit(const char *buf, size_t len, char *const *add, char **ret,
		       struct error *err);

/* The kernel parameters a file gives, in order, and (@ret_lines, may be NULL: a malloc'd array
 * parallel to *ret) the 1-based line each was set on. A kernel cmdline file: its tokens before
 * `--`. GRUB: GRUB_CMDLINE_LINUX's value, then GRUB_CMDLINE_LINUX_DEFAULT's, as sourcing the
 * file leaves them (errors as cmdline_grub_edit()). A loader entry: every `options` line's,
 * before `--`. */
int cmdline_kernel_params(const char *buf, size_t len, char ***ret, unsigned **ret_lines,
			  struct error *err);
int cmdline_grub_params(const char *buf, size_t len, char ***ret, unsigned **ret_lines,
			struct error *err);
int cmdline_entry_params(const char *buf, size_t len, char ***ret, unsigned **ret_lines,
			 struct error *err);
/* The same, without the lines. */
int cmdline_grub_tokens(const char *buf, size_t len, char ***ret, struct error *err);
int cmdline_entry_tokens(const char *buf, size_t len, char ***ret, struct error *err);
