/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dlfcn.h>

#include "host/dlopen-libvirt.h"
#include "util/macro.h"

#define DLSYM_DEFINE(name) __typeof__(name) *sym_##name

DLSYM_DEFINE(virConnectOpen);
DLSYM_DEFINE(virConnectClose);
DLSYM_DEFINE(virConnectGetURI);
DLSYM_DEFINE(virConnectDomainEventRegisterAny);
DLSYM_DEFINE(virConnectDomainEventDeregisterAny);
DLSYM_DEFINE(virConnectIsAlive);
DLSYM_DEFINE(virDomainCreateXML);
DLSYM_DEFINE(virDomainDefineXML);
DLSYM_DEFINE(virDomainCreate);
DLSYM_DEFINE(virDomainLookupByName);
DLSYM_DEFINE(virDomainDestroy);
DLSYM_DEFINE(virDomainShutdown);
DLSYM_DEFINE(virDomainUndefine);
DLSYM_DEFINE(virDomainFree);
DLSYM_DEFINE(virDomainGetState);
DLSYM_DEFINE(virDomainIsActive);
DLSYM_DEFINE(virDomainGetName);
DLSYM_DEFINE(virDomainGetXMLDesc);
DLSYM_DEFINE(virEventRegisterDefaultImpl);
DLSYM_DEFINE(virEventRunDefaultImpl);
DLSYM_DEFINE(virEventAddTimeout);
DLSYM_DEFINE(virEventRemoveTimeout);
DLSYM_DEFINE(virGetLastErrorMessage);
DLSYM_DEFINE(virGetLastError);
DLSYM_DEFINE(virResetLastError);
DLSYM_DEFINE(virSetErrorFunc);
DLSYM_DEFINE(virInitialize);
DLSYM_DEFINE(virConnectListAllNodeDevices);
DLSYM_DEFINE(virNodeDeviceGetXMLDesc);
DLSYM_DEFINE(virNodeDeviceGetName);
DLSYM_DEFINE(virNodeDeviceFree);
DLSYM_DEFINE(virNodeDeviceLookupByName);
DLSYM_DEFINE(virNodeDeviceDetachFlags);
DLSYM_DEFINE(virNodeDeviceReAttach);
DLSYM_DEFINE(virStoragePoolLookupByName);
DLSYM_DEFINE(virStoragePoolGetXMLDesc);
DLSYM_DEFINE(virStoragePoolIsActive);
DLSYM_DEFINE(virStoragePoolRefresh);
DLSYM_DEFINE(virStoragePoolFree);
DLSYM_DEFINE(virStorageVolLookupByName);
DLSYM_DEFINE(virStorageVolCreateXML);
DLSYM_DEFINE(virStorageVolUpload);
DLSYM_DEFINE(virStorageVolGetPath);
DLSYM_DEFINE(virStorageVolDelete);
DLSYM_DEFINE(virStorageVolFree);
DLSYM_DEFINE(virStreamNew);
DLSYM_DEFINE(virStreamSend);
DLSYM_DEFINE(virStreamFinish);
DLSYM_DEFINE(virStreamAbort);
DLSYM_DEFINE(virStreamFree);

struct dlsym_entry {
	void **ptr;
	const char *name;
};

#define E(name)                                                                                    \
	{                                                                                          \
		(void **)&sym_##name, #name                                                        \
	}

static const struct dlsym_entry table[] = {
	E(virConnectOpen),
	E(virConnectClose),
	E(virConnectGetURI),
	E(virConnectDomainEventRegisterAny),
	E(virConnectDomainEventDeregisterAny),
	E(virConnectIsAlive),
	E(virDomainCreateXML),
	E(virDomainDefineXML),
	E(virDomainCreate),
	E(virDomainLookupByName),
	E(virDomainDestroy),
	E(virDomainShutdown),
	E(virDomainUndefine),
	E(virDomainFree),
	E(virDomainGetState),
	E(virDomainIsActive),
	E(virDomainGetName),
	E(virDomainGetXMLDesc),
	E(virEventRegisterDefaultImpl),
	E(virEventRunDefaultImpl),
	E(virEventAddTimeout),
	E(virEventRemoveTimeout),
	E(virGetLastErrorMessage),
	E(virGetLastError),
	E(virResetLastError),
	E(virSetErrorFunc),
	E(virInitialize),
	E(virConnectListAllNodeDevices),
	E(virNodeDeviceGetXMLDesc),
	E(virNodeDeviceGetName),
	E(virNodeDeviceFree),
	E(virNodeDeviceLookupByName),
	E(virNodeDeviceDetachFlags),
	E(virNodeDeviceReAttach),
	E(virStoragePoolLookupByName),
	E(virStoragePoolGetXMLDesc),
	E(virStoragePoolIsActive),
	E(virStoragePoolRefresh),
	E(virStoragePoolFree),
	E(virStorageVolLookupByName),
	E(virStorageVolCreateXML),
	E(virStorageVolUpload),
	E(virStorageVolGetPath),
	E(virStorageVolDelete),
	E(virStorageVolFree),
	E(virStreamNew),
	E(virStreamSend),
	E(virStreamFinish),
	E(virStreamAbort),
	E(virStreamFree),
};

static void *handle;

static void libvirt_error_silent(void *userdata _unused_, virErrorPtr err _unused_)
{
	/* libvirt prints every error to stderr by default; the command layer reports them
	 * once, with virGetLastErrorMessage(). */
}

int dlopen_libvirt(struct error *err)
{
	void *h;

	if (handle)
		return 0;
	h = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return error_set(err, EOPNOTSUPP, "Failed to load libvirt (is it installed?): %s",
				 strna(dlerror()));
	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		*table[i].ptr = dlsym(h, table[i].name);
		if (!*table[i].ptr) {
			int r = error_set(err, EOPNOTSUPP, "Failed to load libvirt: %s",
					  strna(dlerror()));

			for (size_t j = 0; j <= i; j++)
				*table[j].ptr = NULL;
			dlclose(h);
			return r;
		}
	}
	handle = h;
	sym_virSetErrorFunc(NULL, libvirt_error_silent);
	return 0;
}
