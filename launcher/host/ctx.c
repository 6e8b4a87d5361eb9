/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include <libkmod.h>
#include <pci/pci.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "util/log.h"
#include "util/strv.h"

/* The only place where host paths are spelled out. */
#define ROOT_SYS "/sys"
#define ROOT_PROC "/proc"
#define ROOT_DEV "/dev"
#define ROOT_ETC "/etc"
#define ROOT_BOOT "/boot"
#define ROOT_USR_SHARE "/usr/share"
#define ROOT_MODULES "/lib/modules"
#define ROOT_STATE "/run/gpurun"
#define ROOT_ROMS "/var/lib/gpurun/roms"
#define ROOT_PVE_ROMS "/usr/share/kvm"

static char *rooted(const char *root, const char *p)
{
	char *s;

	if (asprintf(&s, "%s%s", root, p) < 0)
		return NULL;
	return s;
}

int ctx_new(const char *root, const char *state_dir, struct ctx **ret)
{
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	char *rp = NULL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;

	if (!root || streq(root, "/") || !*root) {
		c->root = strdup("");
		c->real_root = true;
	} else {
		rp = realpath(root, NULL);
		if (!rp)
			return negative_errno();
		if (!hostfs_is_dir(rp)) {
			free(rp);
			return -ENOTDIR;
		}
		if (streq(rp, "/")) {
			free(rp);
			c->root = strdup("");
			c->real_root = true;
		} else
			c->root = rp;
	}
	if (!c->root)
		return -ENOMEM;

	c->sys = rooted(c->root, ROOT_SYS);
	c->proc = rooted(c->root, ROOT_PROC);
	c->dev = rooted(c->root, ROOT_DEV);
	c->etc = rooted(c->root, ROOT_ETC);
	c->boot = rooted(c->root, ROOT_BOOT);
	c->usr_share = rooted(c->root, ROOT_USR_SHARE);
	c->modules = rooted(c->root, ROOT_MODULES);
	c->rom_dir = rooted(c->root, ROOT_ROMS);
	c->pve_rom_dir = rooted(c->root, ROOT_PVE_ROMS);
	c->state = state_dir ? strdup(state_dir) : rooted(c->root, ROOT_STATE);
	if (!c->sys || !c->proc || !c->dev || !c->etc || !c->boot || !c->usr_share || !c->modules ||
	    !c->rom_dir || !c->pve_rom_dir || !c->state)
		return -ENOMEM;

	*ret = TAKE_PTR(c);
	return 0;
}

struct ctx *ctx_free(struct ctx *c)
{
	if (!c)
		return NULL;
	if (c->pacc)
		pci_cleanup(c->pacc);
	if (c->kmod)
		kmod_unref(c->kmod);
	free(c->root);
	free(c->sys);
	free(c->proc);
	free(c->dev);
	free(c->etc);
	free(c->boot);
	free(c->usr_share);
	free(c->modules);
	free(c->state);
	free(c->rom_dir);
	free(c->pve_rom_dir);
	free(c->connect_uri);
	free(c->remote_uri);
	free(c->qemu_path);
	free(c);
	return NULL;
}

/* libpci's default error handler calls exit(); we must be able to revert instead. Its
 * error callback cannot return a failure, so record it and let the caller notice. */
char ctx_pci_error[256];
jmp_buf *ctx_pci_jmp;

_printf_(1, 2) _noreturn_ static void pci_error_cb(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vsnprintf(ctx_pci_error, sizeof(ctx_pci_error), msg, ap);
	va_end(ap);
	log_debug("libpci: %s", ctx_pci_error);
	/* libpci declares this handler noreturn: unwind to the guard around the libpci call. */
	if (ctx_pci_jmp)
		longjmp(*ctx_pci_jmp, 1);
	abort();
}

_printf_(1, 2) static void pci_debug_cb(char *msg, ...)
{
	va_list ap;

	if (log_get_max_level() < LOG_DEBUG)
		return;
	va_start(ap, msg);
	fputs("gpurun: debug: libpci: ", stderr);
	vfprintf(stderr, msg, ap);
	va_end(ap);
}

static int pci_init_guarded(struct pci_access *a)
{
	jmp_buf jb;

	if (ctx_pci_guard(&jb)) {
		ctx_pci_jmp = NULL;
		return -EIO;
	}
	pci_init(a);
	ctx_pci_jmp = NULL;
	return 0;
}

struct pci_access *ctx_pci(struct ctx *c)
{
	_cleanup_free_ char *sysfs = NULL, *ids = NULL;
	struct pci_access *a;

	if (c->pacc)
		return c->pacc;
	sysfs = path_join(c->sys, "bus/pci");
	if (!sysfs) {
		errno = ENOMEM;
		return NULL;
	}
	a = pci_alloc();
	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	a->error = pci_error_cb;
	a->warning = pci_debug_cb;
	a->debug = pci_debug_cb;
	/* In auto mode libpci falls back to the real /proc/bus/pci: force sysfs under the root. */
	a->method = PCI_ACCESS_SYS_BUS_PCI;
	pci_set_param(a, "sysfs.path", sysfs);
	/* Names from pci.ids only: the udev hwdb of the machine would leak into fixture runs. */
	pci_set_param(a, "hwdb.disable", "1");
	/* Names come from the root's pci.ids when a fixture ships one, else the system's. */
	ids = path_join(c->usr_share, "misc/pci.ids");
	if (ids && !c->real_root && hostfs_exists(ids))
		pci_set_name_list_path(a, TAKE_PTR(ids), 1);
	if (pci_init_guarded(a) < 0) {
		pci_cleanup(a);
		errno = EIO;
		return NULL;
	}
	c->pacc = a;
	return a;
}

char *ctx_kernel_release(struct ctx *c)
{
	_cleanup_free_ char *p = path_join(c->proc, "sys/kernel/osrelease");
	char *s = NULL;

	if (!p || hostfs_read_line(p, &s) < 0)
		return NULL;
	return s;
}

static void kmod_log_cb(void *data _unused_, int priority _unused_, const char *file _unused_,
			int line _unused_, const char *fn _unused_, const char *fmt, va_list args)
{
	if (log_get_max_level() < LOG_DEBUG)
		return;
	fputs("gpurun: debug: libkmod: ", stderr);
	vfprintf(stderr, fmt, args);
}

/* Where modprobe reads its configuration (libkmod's own default list, in its order), under
 * the root: with --root, the configuration of the machine gpurun runs on must not leak in. */
static const char *const modprobe_config_dirs[] = {
	"/etc/modprobe.d",     "/run/modprobe.d", "/usr/local/lib/modprobe.d",
	"/usr/lib/modprobe.d", "/lib/modprobe.d",
};

struct kmod_ctx *ctx_kmod(struct ctx *c)
{
	_cleanup_free_ char *rel = NULL, *dir = NULL;
	_cleanup_strv_free_ char **config = NULL;

	if (c->kmod)
		return c->kmod;
	rel = ctx_kernel_release(c);
	if (!rel) {
		errno = ENOENT;
		return NULL;
	}
	dir = path_join(c->modules, rel);
	if (!dir) {
		errno = ENOMEM;
		return NULL;
	}
	if (*c->root)
		for (size_t i = 0; i < ELEMENTSOF(modprobe_config_dirs); i++)
			if (strv_extendf(&config, "%s%s", c->root, modprobe_config_dirs[i]) < 0) {
				errno = ENOMEM;
				return NULL;
			}
	/* the real machine (root ""): NULL is libkmod's own list */
	c->kmod = kmod_new(dir, *c->root ? (const char *const *)config : NULL);
	if (!c->kmod) {
		errno = ENOMEM;
		return NULL;
	}
	kmod_set_log_fn(c->kmod, kmod_log_cb, NULL);
	return c->kmod;
}

const char *ctx_qemu_binary(const struct ctx *c)
{
	const char *e;

	if (c->qemu_path)
		return c->qemu_path;
	e = secure_getenv("GPURUN_QEMU");
	if (e && *e)
		return e;
	return "qemu-system-x86_64";
}

const char *ctx_libvirt_uri(const struct ctx *c, const char *profile_uri)
{
	if (c->connect_uri)
		return c->connect_uri;
	if (profile_uri && *profile_uri)
		return profile_uri;
	return "qemu:///system";
}

const char *ctx_live_proc(void)
{
	return ROOT_PROC;
}
