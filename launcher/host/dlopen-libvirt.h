/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt is loaded with dlopen() on first use, the way systemd loads optional libraries:
 * linking it pulls ~60 shared objects (glib, gnutls, curl, krb5, ...) into every start of
 * gpurun, which tripled the start-up time of `gpurun ls` (see bench/run). Only the libvirt
 * backend and the libvirt runner need it.
 *
 * Call dlopen_libvirt() first; it returns 0 or a negative errno (-EOPNOTSUPP when libvirt.so.0
 * is not installed or lacks a symbol; @err, if given, then says so with the dlerror() text).
 * Then use sym_virXxx(...) exactly like virXxx(...). */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "util/error.h"

#define DLSYM_DECLARE(name) extern __typeof__(name) *sym_##name

DLSYM_DECLARE(virConnectOpen);
DLSYM_DECLARE(virConnectClose);
DLSYM_DECLARE(virConnectGetURI);
DLSYM_DECLARE(virConnectDomainEventRegisterAny);
DLSYM_DECLARE(virConnectDomainEventDeregisterAny);
DLSYM_DECLARE(virConnectIsAlive);
DLSYM_DECLARE(virDomainCreateXML);
DLSYM_DECLARE(virDomainDefineXML);
DLSYM_DECLARE(virDomainCreate);
DLSYM_DECLARE(virDomainLookupByName);
DLSYM_DECLARE(virDomainDestroy);
DLSYM_DECLARE(virDomainShutdown);
DLSYM_DECLARE(virDomainUndefine);
DLSYM_DECLARE(virDomainFree);
DLSYM_DECLARE(virDomainGetState);
DLSYM_DECLARE(virDomainIsActive);
DLSYM_DECLARE(virDomainGetName);
DLSYM_DECLARE(virDomainGetXMLDesc);
DLSYM_DECLARE(virEventRegisterDefaultImpl);
DLSYM_DECLARE(virEventRunDefaultImpl);
DLSYM_DECLARE(virEventAddTimeout);
DLSYM_DECLARE(virEventRemoveTimeout);
DLSYM_DECLARE(virGetLastErrorMessage);
DLSYM_DECLARE(virGetLastError);
DLSYM_DECLARE(virResetLastError);
DLSYM_DECLARE(virSetErrorFunc);
DLSYM_DECLARE(virInitialize);
/* remote nodes (host/remote.c): node devices, the ROM storage pool, uploads */
DLSYM_DECLARE(virConnectListAllNodeDevices);
DLSYM_DECLARE(virNodeDeviceGetXMLDesc);
DLSYM_DECLARE(virNodeDeviceGetName);
DLSYM_DECLARE(virNodeDeviceFree);
DLSYM_DECLARE(virNodeDeviceLookupByName);
DLSYM_DECLARE(virNodeDeviceDetachFlags);
DLSYM_DECLARE(virNodeDeviceReAttach);
DLSYM_DECLARE(virStoragePoolLookupByName);
DLSYM_DECLARE(virStoragePoolGetXMLDesc);
DLSYM_DECLARE(virStoragePoolIsActive);
DLSYM_DECLARE(virStoragePoolRefresh);
DLSYM_DECLARE(virStoragePoolFree);
DLSYM_DECLARE(virStorageVolLookupByName);
DLSYM_DECLARE(virStorageVolCreateXML);
DLSYM_DECLARE(virStorageVolUpload);
DLSYM_DECLARE(virStorageVolGetPath);
DLSYM_DECLARE(virStorageVolDelete);
DLSYM_DECLARE(virStorageVolFree);
DLSYM_DECLARE(virStreamNew);
DLSYM_DECLARE(virStreamSend);
DLSYM_DECLARE(virStreamFinish);
DLSYM_DECLARE(virStreamAbort);
DLSYM_DECLARE(virStreamFree);

int dlopen_libvirt(struct error *err);
