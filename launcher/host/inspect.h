/* SPDX-License-Identifier: GPL-2.0-or-later */
/* host_inspect() reads the snapshot (core/hostinfo.h) through the ctx roots and writes nothing;
 * odd sysfs entries (unreadable attribute, dangling link, device vanishing mid-scan) are skipped
 * and recorded in host->notes. */
#pragma once

#include "core/hostinfo.h"

struct ctx;

/* Returns 0 or a negative errno (-EIO: libpci failed, text in ctx_pci_error; -EREMOTE: the ctx
 * names a remote node, which host/remote.h's remote_inspect() reads). */
int host_inspect(struct ctx *c, struct host **ret);
