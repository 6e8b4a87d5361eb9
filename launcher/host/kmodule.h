/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel module state and loading through libkmod. State is read from ROOT/sys/module/NAME so
 * fixture trees can fake it; loading and unloading only ever happen on the real root. */
#pragma once

#include <stdbool.h>

#include "util/macro.h"

struct ctx;

/* The one libkmod lookup: the modules @name_or_alias (a module name or a modalias such as
 * "pci:v00001002d00001586...") resolves to in ROOT's module index (modules.dep, modules.alias,
 * modules.builtin for the running release). *ret gets a strv of module names (possibly empty:
 * nothing matches). -ENOENT when there is no usable index under the root (no modules.dep.bin), or
 * libkmod's error. */
int kmodule_lookup(struct ctx *c, const char *name_or_alias, char ***ret);
/* @name is loaded (ROOT/sys/module/NAME) or in the module index (module or built in). */
bool kmodule_available(struct ctx *c, const char *name);

/* ROOT/sys/module/NAME exists (loaded or built in). */
bool kmodule_is_loaded(struct ctx *c, const char *name);

/* Load @name and its dependencies (modprobe semantics, blacklist ignored since the user asked
 * for VFIO). Returns 0 when loaded, -ENOENT when this kernel has no such module (e.g. vfio_virqfd
 * on kernels >= 6.2, not an error for callers that treat it as optional), -EPERM when @c is not
 * the real root (never touch the running kernel for a fixture tree), or libkmod's error. */
int kmodule_load(struct ctx *c, const char *name);

/* Unload @name (only modules gpurun loaded: the journal says which). -EPERM when @c is not the
 * real root; -EBUSY while in use; 0 when not loaded. */
int kmodule_unload(struct ctx *c, const char *name);
