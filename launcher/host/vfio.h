/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Moving PCI functions between their host driver and vfio-pci through sysfs (all paths under
 * ctx->sys / ctx->dev):
 *   bind:   driver_override = "vfio-pci"; BDF > driver/unbind (if bound); BDF > drivers_probe;
 *           wait until the driver link is vfio-pci; per group wait for ROOT/dev/vfio/N.
 *   revert: driver_override = old value ("\n" clears it); BDF > driver/unbind (if bound to
 *           something else); BDF > drivers_probe; wait until the old driver holds it.
 * Waits poll with short, growing intervals (1 ms doubling to 50 ms) up to a bounded timeout; no
 * fixed sleeps; a wait past a second is told to the wait hook. Nothing here logs; the journal entry is written by the caller before vfio_bind. */
#pragma once

#include <stdbool.h>

#include "util/macro.h"

struct ctx;

#define VFIO_DRIVER "vfio-pci"
#define VFIO_DEFAULT_TIMEOUT_MS 10000u

/* A wait that takes more than a second: what it waits for, told once per whole second. */
struct vfio_wait_note {
	const char *bdf;    /* the function whose driver is awaited; NULL for a group wait */
	const char *driver; /* its driver at the last look (NULL: none) */
	const char *want;   /* the driver awaited; NULL: none (after an unbind) or, when
			     * releasing, any host driver */
	int group;	    /* a group wait: the IOMMU group whose ROOT/dev/vfio/N is awaited */
	const char *path;   /* that node; NULL for a driver wait */
	unsigned elapsed_s, timeout_ms;
};
/* Called during every wait of this module after each whole second (the command layer logs
 * "waiting for amdgpu to release 0000:03:00.0 (2 s of 10)..."); NULL removes it. */
typedef void (*vfio_wait_hook_t)(void *userdata, const struct vfio_wait_note *n);
void vfio_set_wait_hook(vfio_wait_hook_t hook, void *userdata);

/* Current driver (NULL when unbound) and driver_override (NULL when "(null)" or empty) of
 * @bdf. -ENOENT when the function does not exist. */
int vfio_read_state(struct ctx *c, const char *bdf, char **ret_driver, char **ret_override);
/* IOMMU group number of @bdf, -ENOENT without one. */
int vfio_group_of(struct ctx *c, const char *bdf, int *ret_group);
/* Display class (base class 0x03): 1 yes, 0 no, negative errno. */
int vfio_is_display(struct ctx *c, const char *bdf);

/* Move @bdf to vfio-pci. Returns 0, the kernel's error of the failing write (e.g. -EBUSY,
 * -ENODEV), or -ETIMEDOUT when the driver link did not become vfio-pci in @timeout_ms
 * (*ret_driver, may be NULL, then gets the driver seen last, NULL when unbound). */
int vfio_bind(struct ctx *c, const char *bdf, unsigned timeout_ms, char **ret_driver);
/* Wait until ROOT/dev/vfio/@group exists. -ETIMEDOUT otherwise. */
int vfio_wait_group(struct ctx *c, int group, unsigned timeout_ms);

/* Give @bdf back: restore driver_override to @old_override (NULL/"" clears it), unbind it from
 * any driver other than @old_driver and reprobe; wait until @old_driver (NULL/"": no driver)
 * holds it. Idempotent. *ret_final (may be NULL) always gets the driver found at the end
 * (NULL: none) when the function exists. Returns 0 or the first error (-ETIMEDOUT when another
 * or no driver holds it at the end). */
int vfio_restore(struct ctx *c, const char *bdf, const char *old_driver, const char *old_override,
		 unsigned timeout_ms, char **ret_final);

/* Wait until the driver of @bdf is @want (NULL: unbound). 0 or -ETIMEDOUT. */
int vfio_wait_driver(struct ctx *c, const char *bdf, const char *want, unsigned timeout_ms);

/* Release @bdf without a journal (`gpurun unbind BDF` for a function gpurun did not record):
 * clear driver_override, unbind it from vfio-pci, reprobe and wait until some other driver
 * takes it. *ret_final (may be NULL) gets the driver at the end. -ETIMEDOUT when none did. */
int vfio_release(struct ctx *c, const char *bdf, unsigned timeout_ms, char **ret_final);
