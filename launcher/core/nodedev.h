/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A remote node's PCI functions from libvirt's node-device XML (virNodeDeviceGetXMLDesc of the
 * devices virConnectListAllNodeDevices lists with VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV),
 * into the same struct host (core/hostinfo.h) the local inspector fills. Pure: buffers in,
 * structs out; host/remote.c does the libvirt calls. tests/fixtures/nodedev/ holds a corpus.
 *
 * What the XML gives: the address (<domain>, <bus>, <slot>, <function>), vendor and product ids
 * and names, the class (libvirt 5.2 and later), the bound driver (<driver><name>), the IOMMU
 * group (<iommuGroup number=...>). Everything else a pci_func holds stays at its "unknown"
 * value (boot_vga -1, no reset methods, no rom, no framebuffer); host->remote_uri tells the
 * checks that those are unknown, not absent. */
#pragma once

#include <stddef.h>

#include "core/hostinfo.h"

struct error;

/* "pci_0000_03_00_0": libvirt's node device name of PCI function @addr (canonical). malloc'd, or
 * NULL on ENOMEM. */
char *nodedev_name_from_address(const char *addr);
/* Whether @name is a PCI node device name as nodedev_name_from_address() makes them. */
bool nodedev_name_valid(const char *name);

/* Parse one node device's XML. Returns 1 with *ret filled (the caller clears it with
 * host_func_clear()) for a PCI function, 0 for another kind of device (*ret untouched), or
 * -EINVAL with @err (may be NULL) saying what is wrong (not XML, a PCI capability without a
 * valid address or ids). */
int nodedev_parse_pci(const char *xml, size_t len, struct pci_func *ret, struct error *err);

/* The snapshot of node @uri from the XML of its node devices (@xmls, @n of them; devices that
 * are not PCI functions are skipped). Functions are sorted by address, groups by id with their
 * members. The host-wide facts libvirt does not show stay unknown (intremap -1, no cmdline).
 * Returns 0, -ENOMEM, or -EINVAL with @err naming the device (its <name>) whose XML is bad. */
int nodedev_host_build(const char *uri, const char *const *xmls, const size_t *lens, size_t n,
		       struct host **ret, struct error *err);

/* The <target><path> of a storage pool's XML (virStoragePoolGetXMLDesc): where the volumes of a
 * directory pool are files. 0 with *ret malloc'd, -ENOENT when the XML has none, -EINVAL when it
 * does not parse. */
int nodedev_pool_path(const char *xml, size_t len, char **ret);
