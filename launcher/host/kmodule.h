/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel module state and loading through libkmod. State is read from ROOT/sys/module/NAME so
 * fixture trees can fake it; loading and unloading only ever happen on the real root. */
#pragma once

#include <stdbool.h>

#include "util/macro.h"

struct ctx;

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
