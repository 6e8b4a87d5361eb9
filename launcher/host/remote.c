/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/libvirt-uri.h"
#include "core/nodedev.h"
#include "host/dlopen-libvirt.h"
#include "host/remote.h"
#include "util/error.h"
#include "util/strutil.h"
#include "util/strv.h"

int remote_uri_classify(const char *uri, struct error *err)
{
	const char *t = secure_getenv("GPURUN_TEST_REMOTE_URI");

	if (t && *t && uri && streq(t, uri))
		return 1;
	return libvirt_uri_is_remote(uri, err);
}

/* @err gets "WHAT: libvirt's last error message". */
_printf_(2, 3) static int lv_error(struct error *err, const char *fmt, ...)
{
	const char *m = sym_virGetLastErrorMessage ? sym_virGetLastErrorMessage() : NULL;
	_cleanup_free_ char *what = NULL;
	va_list ap;

	va_start(ap, fmt);
	what = strdup_vprintf(fmt, ap);
	va_end(ap);
	return error_set(err, EIO, "%s: %s", what ? what : "libvirt", m ? m : "unknown error");
}

/* One connection per URI, kept for the life of the process. */
static struct {
	char *uri;
	virConnectPtr conn;
} conns[4];

static int connect_uri(const char *uri, virConnectPtr *ret, struct error *err)
{
	size_t i;
	int r;

	r = dlopen_libvirt(err);
	if (r < 0)
		return r;
	for (i = 0; i < ELEMENTSOF(conns) && conns[i].uri; i++)
		if (streq(conns[i].uri, uri)) {
			*ret = conns[i].conn;
			return 0;
		}
	if (i == ELEMENTSOF(conns))
		return error_set(err, EMFILE, "Too many libvirt connections");
	conns[i].conn = sym_virConnectOpen(uri);
	if (!conns[i].conn)
		return lv_error(err, "Failed to connect to %s", uri);
	conns[i].uri = strdup(uri);
	if (!conns[i].uri) {
		sym_virConnectClose(conns[i].conn);
		conns[i].conn = NULL;
		return error_set(err, ENOMEM, NULL);
	}
	*ret = conns[i].conn;
	return 0;
}

/* The ROM pool's directory, when the pool exists and runs. */
static void read_pool(virConnectPtr conn, struct host *h)
{
	virStoragePoolPtr pool = sym_virStoragePoolLookupByName(conn, REMOTE_ROM_POOL);
	char *xml;

	if (!pool) {
		sym_virResetLastError();
		return;
	}
	xml = sym_virStoragePoolGetXMLDesc(pool, 0);
	if (xml && sym_virStoragePoolIsActive(pool) == 1)
		(void)nodedev_pool_path(xml, strlen(xml), &h->remote_rom_dir);
	else if (xml)
		(void)strv_extendf(&h->notes, "storage pool '%s' on %s is not active",
				   REMOTE_ROM_POOL, h->remote_uri);
	free(xml);
	sym_virStoragePoolFree(pool);
	sym_virResetLastError();
}

int remote_inspect(const char *uri, struct host **ret, struct error *err)
{
	_cleanup_(host_freep) struct host *h = NULL;
	virNodeDevicePtr *devs = NULL;
	char **xmls = NULL;
	size_t *lens = NULL;
	virConnectPtr conn;
	int n, r;

	r = connect_uri(uri, &conn, err);
	if (r < 0)
		return r;
	n = sym_virConnectListAllNodeDevices(conn, &devs,
					     VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV);
	if (n < 0)
		return lv_error(err, "Failed to list the PCI devices of %s", uri);
	xmls = calloc((size_t)n + 1, sizeof(*xmls));
	lens = calloc((size_t)n + 1, sizeof(*lens));
	r = xmls && lens ? 0 : error_set(err, ENOMEM, NULL);
	for (int i = 0; r >= 0 && i < n; i++) {
		xmls[i] = sym_virNodeDeviceGetXMLDesc(devs[i], 0);
		if (!xmls[i])
			r = lv_error(err, "Failed to read node device %s of %s",
				     strna(sym_virNodeDeviceGetName(devs[i])), uri);
		else
			lens[i] = strlen(xmls[i]);
	}
	if (r >= 0)
		r = nodedev_host_build(uri, (const char *const *)xmls, lens, (size_t)n, &h, err);
	for (int i = 0; i < n; i++) {
		if (xmls)
			free(xmls[i]);
		sym_virNodeDeviceFree(devs[i]);
	}
	free(devs);
	free(xmls);
	free(lens);
	if (r < 0)
		return r;
	h->remote_rom_pool = strdup(REMOTE_ROM_POOL);
	if (!h->remote_rom_pool)
		return error_set(err, ENOMEM, NULL);
	read_pool(conn, h);
	*ret = TAKE_PTR(h);
	return 0;
}

static int lookup(const char *uri, const char *name, virNodeDevicePtr *ret, struct error *err)
{
	virConnectPtr conn;
	int r;

	if (!nodedev_name_valid(name))
		return error_set(err, EINVAL, "'%s' is not a PCI node device name", strna(name));
	r = connect_uri(uri, &conn, err);
	if (r < 0)
		return r;
	*ret = sym_virNodeDeviceLookupByName(conn, name);
	if (!*ret) {
		virErrorPtr e = sym_virGetLastError();

		if (e && e->code == VIR_ERR_NO_NODE_DEVICE)
			return error_set(err, ENOENT, "%s has no PCI device %s", uri, name);
		return lv_error(err, "Failed to look up %s on %s", name, uri);
	}
	return 0;
}

int remote_nodedev_driver(const char *uri, const char *name, char **ret, struct error *err)
{
	struct pci_func f = { .iommu_group = -1 };
	virNodeDevicePtr dev;
	char *xml;
	int r;

	r = lookup(uri, name, &dev, err);
	if (r < 0)
		return r;
	xml = sym_virNodeDeviceGetXMLDesc(dev, 0);
	if (!xml)
		r = lv_error(err, "Failed to read node device %s of %s", name, uri);
	else
		r = nodedev_parse_pci(xml, strlen(xml), &f, err);
	free(xml);
	sym_virNodeDeviceFree(dev);
	if (r == 0)
		r = error_set(err, EINVAL, "%s on %s is not a PCI device", name, uri);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(f.driver);
	host_func_clear(&f);
	return 0;
}

int remote_nodedev_detach(const char *uri, const char *name, struct error *err)
{
	virNodeDevicePtr dev;
	int r;

	r = lookup(uri, name, &dev, err);
	if (r < 0)
		return r;
	r = sym_virNodeDeviceDetachFlags(dev, "vfio", 0) < 0
		? lv_error(err, "Failed to detach %s on %s to vfio-pci", name, uri)
		: 0;
	sym_virNodeDeviceFree(dev);
	return r;
}

int remote_nodedev_reattach(const char *uri, const char *name, struct error *err)
{
	virNodeDevicePtr dev;
	int r;

	r = lookup(uri, name, &dev, err);
	if (r < 0)
		return r;
	r = sym_virNodeDeviceReAttach(dev) < 0
		? lv_error(err, "Failed to reattach %s on %s to its driver", name, uri)
		: 0;
	sym_virNodeDeviceFree(dev);
	return r;
}

static int pool_of(const char *uri, const char *pool, virStoragePoolPtr *ret, struct error *err)
{
	virConnectPtr conn;
	int r;

	r = connect_uri(uri, &conn, err);
	if (r < 0)
		return r;
	*ret = sym_virStoragePoolLookupByName(conn, pool);
	if (!*ret)
		return lv_error(err, "Failed to find storage pool '%s' on %s", pool, uri);
	/* volumes created by hand since the pool started are not known until a refresh */
	(void)sym_virStoragePoolRefresh(*ret, 0);
	sym_virResetLastError();
	return 0;
}

/* The volume @name of @pool on @uri: 1 with *@ret, 0 when the pool has no such volume. */
static int volume_of(const char *uri, const char *pool, const char *name, virStorageVolPtr *ret,
		     struct error *err)
{
	virStoragePoolPtr p;
	virStorageVolPtr v;
	int r;

	r = pool_of(uri, pool, &p, err);
	if (r < 0)
		return r;
	v = sym_virStorageVolLookupByName(p, name);
	if (!v) {
		/* before any other call: each one resets libvirt's last error */
		virErrorPtr e = sym_virGetLastError();

		r = e && e->code == VIR_ERR_NO_STORAGE_VOL
			? 0
			: lv_error(err, "Failed to look up volume %s on %s", name, uri);
		sym_virStoragePoolFree(p);
		return r;
	}
	sym_virStoragePoolFree(p);
	*ret = v;
	return 1;
}

int remote_volume_exists(const char *uri, const char *pool, const char *name, struct error *err)
{
	virStorageVolPtr v;
	int r;

	r = volume_of(uri, pool, name, &v, err);
	if (r <= 0)
		return r;
	sym_virStorageVolFree(v);
	return 1;
}

int remote_volume_upload(const char *uri, const char *pool, const char *name, const void *buf,
			 size_t len, struct error *err)
{
	_cleanup_free_ char *xml = NULL;
	virConnectPtr conn;
	virStoragePoolPtr p;
	virStorageVolPtr v;
	virStreamPtr st;
	size_t off = 0;
	int r;

	if (strchr(name, '/') || strchr(name, '<') || strchr(name, '&'))
		return error_set(err, EINVAL, "'%s' cannot be a volume name", name);
	r = connect_uri(uri, &conn, err);
	if (r >= 0)
		r = pool_of(uri, pool, &p, err);
	if (r < 0)
		return r;
	/* raw: a ROM is bytes, never an image format libvirt should probe */
	xml = strdup_printf("<volume><name>%s</name><capacity unit='bytes'>%zu</capacity>"
			    "<target><format type='raw'/><permissions><mode>0644</mode>"
			    "</permissions></target></volume>",
			    name, len);
	if (!xml) {
		sym_virStoragePoolFree(p);
		return error_set(err, ENOMEM, NULL);
	}
	v = sym_virStorageVolCreateXML(p, xml, 0);
	sym_virStoragePoolFree(p);
	if (!v)
		return lv_error(err, "Failed to create volume %s on %s", name, uri);
	st = sym_virStreamNew(conn, 0);
	if (!st || sym_virStorageVolUpload(v, st, 0, len, 0) < 0)
		r = lv_error(err, "Failed to upload volume %s to %s", name, uri);
	while (r >= 0 && off < len) {
		int n = sym_virStreamSend(st, (const char *)buf + off,
					  len - off > 65536 ? 65536 : len - off);

		if (n <= 0)
			r = lv_error(err, "Failed to upload volume %s to %s", name, uri);
		else
			off += (size_t)n;
	}
	if (r >= 0 && sym_virStreamFinish(st) < 0)
		r = lv_error(err, "Failed to upload volume %s to %s", name, uri);
	if (r < 0) {
		if (st)
			(void)sym_virStreamAbort(st);
		/* the volume is ours (created above): it goes with the failed upload */
		(void)sym_virStorageVolDelete(v, 0);
	}
	if (st)
		sym_virStreamFree(st);
	sym_virStorageVolFree(v);
	return r;
}

int remote_volume_delete(const char *uri, const char *pool, const char *name, struct error *err)
{
	virStorageVolPtr v;
	int r;

	r = volume_of(uri, pool, name, &v, err);
	if (r <= 0)
		return r;
	r = sym_virStorageVolDelete(v, 0) < 0
		? lv_error(err, "Failed to delete volume %s on %s", name, uri)
		: 0;
	sym_virStorageVolFree(v);
	return r;
}
