/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PURE: reading and editing modprobe.d(5) and modules-load.d(5) content — the vfio module
 * list, `options vfio-pci ids=...`, `softdep MOD pre: vfio-pci`, `blacklist MOD`. Buffers in,
 * buffers out: nothing here reads or writes a file, and nothing logs.
 *
 * A buffer is @len bytes; NULL (with @len 0) stands for a file that does not exist (an editor
 * then starts the new file with a comment saying who wrote it). Results are malloc'd and
 * owned by the caller: strings NUL-terminated, lists strv (util/strv.h). Errors are negative
 * errno values; @err (may be NULL) is filled on failure: -EINVAL for a buffer that is not a
 * text file (a NUL byte), with the reason and the 1-based line but no file name (the caller
 * knows it: error_set_file()); -ENOMEM with the errno alone.
 *
 * modprobe.d lines are read as modprobe reads them: a line that ends with a backslash goes on
 * on the next one (kept as it is when not rewritten; a message names the line it starts on),
 * and no line gpurun writes or appends ends with one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "util/error.h"

/* Module names: the kernel treats '-' and '_' alike ("vfio-pci" is "vfio_pci"). */
bool modprobe_modname_eq(const char *a, const char *b);
/* Whether strv @l holds @m in that sense. */
bool modprobe_modname_in(char *const *l, const char *m);

/* modules-load.d: append each of @mods not yet listed. */
int modprobe_modules_load_edit(const char *buf, size_t len, char *const *mods, char **ret,
			       struct error *err);
/* modprobe.d/vfio.conf: `options vfio-pci ids=<union> disable_vga=1` (existing ids and other
 * options kept; a user's disable_vga=0 is kept and reported in @d as a WARN
 * "hostcfg-disable-vga" naming @name) and `softdep MOD pre: vfio-pci` for each of @softdeps
 * (inserted into an existing softdep line of MOD). */
int modprobe_vfio_edit(const char *buf, size_t len, char *const *ids, char *const *softdeps,
		       const char *name, struct diag_list *d, char **ret, struct error *err);
/* Malformed `options vfio-pci` lines — a word that is no vfio-pci parameter, a directive run
 * into the line (`... disable_vga=1 softdep radeon pre: vfio-pci`), an id that is not
 * VENDOR:DEVICE (`ids=(1002:164e,1002:1640)`), a boolean that is not one — are never merged
 * into. modprobe_vfio_edit() rewrites them in the file it edits (ids in brackets or quotes read
 * without them, a run-in directive moved to its own line, the rest dropped: the kernel ignores
 * it anyway), each a WARN "hostcfg-modprobe-malformed" naming @name:LINE; several ids= lines
 * (the kernel keeps the last) become one, a WARN "hostcfg-modprobe-conflict".
 * modprobe_vfio_lint() is for the files gpurun does not write: each malformed line is a FAIL
 * "hostcfg-modprobe-malformed" naming @name:LINE whose fix is the correct line; the file is
 * not changed. Returns the number of malformed lines, or a negative errno. */
int modprobe_vfio_lint(const char *buf, size_t len, const char *name, struct diag_list *d,
		       struct error *err);
/* blacklist-gpu.conf: `blacklist MOD` for each of @mods not yet there. */
int modprobe_blacklist_edit(const char *buf, size_t len, char *const *mods, char **ret,
			    struct error *err);
/* The vfio-pci ids= values in a modprobe.d file (all `options vfio-pci|vfio_pci` lines), each
 * once (ignoring case). */
int modprobe_vfio_ids(const char *buf, size_t len, char ***ret, struct error *err);
