/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A remote libvirt node, read and prepared through libvirt only: for a remote URI
 * (core/libvirt-uri.h) gpurun reads and changes nothing on this machine except its own state
 * dir (the journal of the run, which names the URI, so that `gpurun restore` here can give the
 * node's devices back).
 *
 *   - remote_inspect(): the node's PCI functions from the node-device API (core/nodedev.h) and
 *     the ROM storage pool;
 *   - remote_nodedev_*(): a PCI function detached to vfio-pci (virNodeDeviceDetachFlags) and
 *     reattached to its host driver (virNodeDeviceReAttach), for the host operation table;
 *   - remote_volume_*(): a ROM file uploaded into a directory storage pool on the node.
 *
 * Connections are opened once per URI and process and kept (revert opens the same URI again
 * for every entry). Errors carry libvirt's own message. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/hostinfo.h"

struct ctx;
struct error;

/* The storage pool ROM files are uploaded to, on every node: a directory pool the node's
 * administrator creates once (gpurun does not create pools: the fix of the rom-pool finding
 * says how). */
#define REMOTE_ROM_POOL "gpurun"

/* libvirt_uri_is_remote(), plus the one test seam: a URI equal to $GPURUN_TEST_REMOTE_URI
 * (secure_getenv) counts as remote, so the fixture tests can drive libvirt's local test driver
 * (test:///FILE.xml, a node whose devices the file describes) as a remote node. 1 remote, 0
 * local, -EINVAL with @err. */
int remote_uri_classify(const char *uri, struct error *err);

/* The snapshot of node @uri (host->remote_uri set; see core/nodedev.h for what is known). */
int remote_inspect(const char *uri, struct host **ret, struct error *err);

/* The driver PCI node device @name ("pci_0000_03_00_0") is bound to now: *ret malloc'd, or NULL
 * for none. */
int remote_nodedev_driver(const char *uri, const char *name, char **ret, struct error *err);
int remote_nodedev_detach(const char *uri, const char *name, struct error *err);
int remote_nodedev_reattach(const char *uri, const char *name, struct error *err);

/* Whether volume @name exists in @pool: 1 yes, 0 no. */
int remote_volume_exists(const char *uri, const char *pool, const char *name, struct error *err);
/* Create volume @name in @pool (it must not exist) and upload @buf into it. */
int remote_volume_upload(const char *uri, const char *pool, const char *name, const void *buf,
			 size_t len, struct error *err);
/* Delete volume @name of @pool; 0 also when it is gone. */
int remote_volume_delete(const char *uri, const char *pool, const char *name, struct error *err);
