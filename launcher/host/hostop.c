#include <dirent.h>
#include <fcntl.h>
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "core/hostinfo.h"
#include "core/libvirt-uri.h"
#include "core/nodedev.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/hostop.h"
#include "host/journal.h"
#include "host/kmodule.h"
#include "host/pcidev.h"
#include "host/prepare.h"
#include "host/remote.h"
#include "host/revert.h"
#include "host/romstage.h"
#include "host/vfio.h"
#include "util/error.h"
#include "util/strutil.h"

_printf_(2, 3) static void say(const struct host_op_env *x, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;

	if (!x->o || !x->o->say)
		return;
	va_start(ap, fmt);
	s = strdup_vprintf(fmt, ap);
	va_end(ap);
	if (s)
		x->o->say(x->o->userdata, s);
}

void host_op_entry_done(struct journal_entry *e)
{
	free(e->target);
	free(e->value);
	free(e->extra);
	*e = (struct journal_entry){};
}

/* Fill *e; the strings are copied. -ENOMEM. */
static int entry_set(struct journal_entry *e, enum journal_kind k, const char *target,
		     const char *value, const char *extra)
{
	*e = (struct journal_entry){ .kind = k };
	e->target = strdup(target);
	e->value = value ? strdup(value) : NULL;
	e->extra = extra ? strdup(extra) : NULL;
	if (!e->target || (value && !e->value) || (extra && !e->extra)) {
		host_op_entry_done(e);
		return -ENOMEM;
	}
	return 1;
}

/* A field that becomes one component of a sysfs path on revert (vtcon, platform device and
 * driver): a crafted journal must not reach outside the directory it names. */
static bool plain_name(const char *s)
{
	return s && *s && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..");
}

/* ---- module: gpurun loads a kernel module ---- */

static const char *module_check(const char *target, const char *value _unused_,
				const char *extra _unused_)
{
	return plain_name(target) ? NULL : "is not a module name";
}

static int module_inspect(const struct host_op_env *x, const struct plan_action *a,
			  const struct host_op_input *in _unused_, struct journal_entry *ret,
			  struct error *err)
{
	if (kmodule_is_loaded(x->c, a->target)) {
		say(x, "module %s: already loaded", a->target);
		return 0;
	}
	/* journalled also when --root is not /, so revert's path is the one a real run takes */
	if (entry_set(ret, JOURNAL_MODULE, a->target, NULL, NULL) < 0)
		return error_set(err, ENOMEM, NULL);
	return 1;
}

static char *module_describe(const struct host_op_env *x, const struct plan_action *a _unused_,
			     const struct journal_entry *e)
{
	return strdup_printf("load module %s%s", e->target,
			     x->c->real_root ? "" : " (skipped: --root is not /)");
}

static int module_apply(const struct host_op_env *x, const struct plan_action *a _unused_,
			const struct host_op_input *in _unused_, const struct journal_entry *e,
			struct error *err)
{
	int r;

	if (!x->c->real_root) {
		say(x, "not loading %s: --root is not /", e->target);
		return 0;
	}
	r = kmodule_load(x->c, e->target);
	if (r == -ENOENT) {
		say(x, "module %s: not on this kernel, ignoring", e->target);
		return 0;
	}
	if (r < 0)
		return error_set(err, r, "Failed to load module %s: %s", e->target, strerror(-r));
	say(x, "loaded module %s", e->target);
	return 0;
}

static int module_revert(struct ctx *c, const struct journal_entry *e, unsigned timeout_ms _unused_,
			 struct revert_report *rep)
{
	int r = kmodule_unload(c, e->target);

	/* in use (another guest started meanwhile, or modules its load pulled in through softdeps
	 * still hold it: -EAGAIN): the devices are back, which is what matters; a loaded module
	 * is harmless */
	if (r == -EPERM)
		return revert_report_note(rep, "not unloading %s: --root is not /", e->target);
	if (r == -EBUSY || r == -EAGAIN)
		return revert_report_note(rep, "module %s is in use, left loaded", e->target);
	if (r < 0)
		return revert_report_warn(rep, r, "Failed to unload module %s", e->target);
	return 0;
}

/* ---- rom: gpurun writes a ROM file where QEMU/libvirt read it ---- */

/* "existing": written by an older gpurun, which replaced files; never written now */
static const char *const rom_values[] = { "new", "existing", NULL };

static const char *rom_check(const char *target, const char *value _unused_,
			     const char *extra _unused_)
{
	if (target[0] != '/')
		return "is not an absolute path";
	return NULL;
}

static int rom_inspect(const struct host_op_env *x, const struct plan_action *a,
		       const struct host_op_input *in, struct journal_entry *ret, struct error *err)
{
	if (x->o->dry_run && !in->buf) {
		/* a sysfs ROM is not read on a dry run (reading it writes the rom attribute) */
		if (entry_set(ret, JOURNAL_ROM, a->target, "new", NULL) < 0)
			return error_set(err, ENOMEM, NULL);
		return 1;
	}
	if (in->present) {
		say(x, "ROM %s: already staged", a->target);
		return 0;
	}
	if (entry_set(ret, JOURNAL_ROM, a->target, "new", NULL) < 0)
		return error_set(err, ENOMEM, NULL);
	return 1;
}

static char *rom_describe(const struct host_op_env *x _unused_, const struct plan_action *a,
			  const struct journal_entry *e)
{
	return strdup_printf("stage ROM %s from %s", e->target, strempty(a->source));
}

static int rom_apply(const struct host_op_env *x, const struct plan_action *a,
		     const struct host_op_input *in, const struct journal_entry *e,
		     struct error *err)
{
	_cleanup_free_ char *dir = strdup(e->target), *name = strdup(e->target);
	int r;

	if (!dir || !name)
		return error_set(err, ENOMEM, NULL);
	/* never over a file gpurun did not create: one that appeared since the inputs were read
	 * is refused here too */
	r = rom_stage(x->c, in->buf, in->len, dirname(dir), basename(name), false, NULL);
	if (r == -EEXIST)
		return error_set(err, r,
				 "%s appeared with different content while preparing; gpurun "
				 "does not replace a file it did not create",
				 e->target);
	if (r < 0)
		return error_set(err, r, "Failed to stage ROM %s: %s", e->target, strerror(-r));
	say(x, "staged ROM %s (%zu bytes from %s)", e->target, in->len, strempty(a->source));
	return 0;
}

/* A run killed inside hostfs_write_atomic() leaves its temp file, TARGET.gpurun-XXXXXX, next to
 * the target: gpurun created it, so it goes with the file it was for. */
static int rom_remove_temps(const char *target, struct revert_report *rep)
{
	_cleanup_free_ char *dir = strdup(target);
	const char *base;
	char *slash;
	DIR *d;
	int fd, r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	base = slash + 1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	for (struct dirent *de; (de = readdir(d));) {
		size_t n = strlen(base);

		if (strncmp(de->d_name, base, n) != 0 || !startswith(de->d_name + n, ".gpurun-") ||
		    strlen(de->d_name + n) != strlen(".gpurun-XXXXXX"))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			r = revert_report_warn(rep, negative_errno(), "Failed to remove %s/%s", dir,
					       de->d_name);
	}
	closedir(d);
	return r;
}

static int rom_revert(struct ctx *c _unused_, const struct journal_entry *e,
		      unsigned timeout_ms _unused_, struct revert_report *rep)
{
	if (!streq(e->value, "new"))
		return 0;
	if (unlink(e->target) < 0 && errno != ENOENT)
		return revert_report_warn(rep, negative_errno(), "Failed to remove staged ROM %s",
					  e->target);
	return rom_remove_temps(e->target, rep);
}

/* ---- vtcon: a vt console unbound from its framebuffer ---- */

static const char *vtcon_check(const char *target, const char *value, const char *extra _unused_)
{
	if (!plain_name(target) || !startswith(target, "vtcon"))
		return "is not a vt console (vtconN)";
	if (!streq(value, "1") && !streq(value, "0"))
		return "has an old bind value other than 0 or 1";
	return NULL;
}

static char *vtcon_path(const struct ctx *c, const char *name)
{
	return path_join(c->sys, "class/vtconsole", name, "bind");
}

static int vtcon_inspect(const struct host_op_env *x, const struct plan_action *a,
			 const struct host_op_input *in _unused_, struct journal_entry *ret,
			 struct error *err)
{
	_cleanup_free_ char *p = vtcon_path(x->c, a->target), *old = NULL;
	int r;

	if (!p)
		return error_set(err, ENOMEM, NULL);
	r = hostfs_read_line(p, &old);
	if (r < 0)
		return error_set(err, r, "Failed to read %s: %s", p, strerror(-r));
	if (streq(old, "0")) {
		say(x, "console %s: already unbound", a->target);
		return 0;
	}
	if (entry_set(ret, JOURNAL_VTCON, a->target, old, NULL) < 0)
		return error_set(err, ENOMEM, NULL);
	return 1;
}

static char *vtcon_describe(const struct host_op_env *x, const struct plan_action *a _unused_,
			    const struct journal_entry *e)
{
	_cleanup_free_ char *p = vtcon_path(x->c, e->target);

	return p ? strdup_printf("unbind console %s (write 0 to %s)", e->target, p) : NULL;
}

static int vtcon_apply(const struct host_op_env *x, const struct plan_action *a _unused_,
		       const struct host_op_input *in _unused_, const struct journal_entry *e,
		       struct error *err)
{
	_cleanup_free_ char *p = vtcon_path(x->c, e->target);
	int r;

	if (!p)
		return error_set(err, ENOMEM, NULL);
	r = hostfs_write_attr(p, "0");
	if (r < 0)
		return error_set(err, r, "Failed to unbind console %s: %s", e->target,
				 strerror(-r));
	say(x, "unbound console %s", e->target);
	return 0;
}

static int vtcon_revert(struct ctx *c, const struct journal_entry *e, unsigned timeout_ms _unused_,
			struct revert_report *rep)
{
	_cleanup_free_ char *p = vtcon_path(c, e->target);
	int r;

	if (!p)
		return -ENOMEM;
	r = hostfs_write_attr(p, e->value);
	if (r == -ENOENT)
		/* the console went with the framebuffer of the driver that was unbound; fbcon
		 * registers a new one (maybe under another number) when that driver binds again */
		return revert_report_note(
		    rep,
		    "console %s is gone with its framebuffer: the GPU's driver "
		    "brings its own console back",
		    e->target);
	if (r < 0)
		return revert_report_warn(rep, r, "Failed to rebind console %s to '%s'", e->target,
					  e->value);
	return 0;
}

/* ---- platform: a firmware framebuffer (efi-framebuffer.0, simple-framebuffer.0) unbound from
 * its platform driver, so that the GPU's BAR it scans out of is free for vfio-pci ---- */

static const char *platform_check(const char *target, const char *value, const char *extra _unused_)
{
	return plain_name(target) && plain_name(value) ? NULL
						       : "has a device or driver name with '/'";
}

static int platform_inspect(const struct host_op_env *x, const struct plan_action *a,
			    const struct host_op_input *in _unused_, struct journal_entry *ret,
			    struct error *err)
{
	_cleanup_free_ char *p = path_join(x->c->sys, "bus/platform/devices", a->target, "driver"),
			    *drv = NULL;
	int r;

	if (!p)
		return error_set(err, ENOMEM, NULL);
	r = hostfs_readlink_base(p, &drv);
	if (r == -ENOENT) {
		say(x, "framebuffer %s: not bound", a->target);
		return 0;
	}
	if (r < 0)
		return error_set(err, r, "Failed to read %s: %s", p, strerror(-r));
	if (entry_set(ret, JOURNAL_PLATFORM, a->target, drv, NULL) < 0)
		return error_set(err, ENOMEM, NULL);
	return 1;
}

static char *platform_describe(const struct host_op_env *x _unused_,
			       const struct plan_action *a _unused_, const struct journal_entry *e)
{
	return strdup_printf("unbind %s from %s", e->target, e->value);
}

static int platform_apply(const struct host_op_env *x, const struct plan_action *a _unused_,
			  const struct host_op_input *in _unused_, const struct journal_entry *e,
			  struct error *err)
{
	_cleanup_free_ char *p = path_join(x->c->sys, "bus/platform/drivers", e->value, "unbind");
	int r;

	if (!p)
		return error_set(err, ENOMEM, NULL);
	r = hostfs_write_attr(p, e->target);
	if (r < 0)
		return error_set(err, r, "Failed to unbind %s from %s: %s", e->target, e->value,
				 strerror(-r));
	say(x, "unbound %s from %s", e->target, e->value);
	return 0;
}

static int platform_revert(struct ctx *c, const struct journal_entry *e,
			   unsigned timeout_ms _unused_, struct revert_report *rep)
{
	_cleanup_free_ char *p = path_join(c->sys, "bus/platform/drivers", e->value, "bind");
	int r;

	if (!p)
		return -ENOMEM;
	r = hostfs_write_attr(p, e->target);
	if (r == -EBUSY) {
		/* the kernel's answer when the device has a driver already (bound again by
		 * another): only then is it done; an unbound device stays the failure it is */
		_cleanup_free_ char *l = path_join(c->sys, "bus/platform/devices", e->target,
						   "driver"),
				    *drv = NULL;

		if (!l)
			return -ENOMEM;
		if (hostfs_readlink_base(l, &drv) >= 0)
			return 0;
	}
	if (r < 0)
		return revert_report_warn(rep, r, "Failed to bind %s to %s again", e->target,
					  e->value);
	return 0;
}

/* ---- bind: a PCI function moved from its driver to vfio-pci ---- */

static const char *bind_check(const char *target, const char *value, const char *extra)
{
	char canon[PCI_ADDR_MAX];

	/* the address names sysfs paths and lock files: only the canonical form */
	if (pci_addr_parse(target, canon) < 0 || !streq(canon, target))
		return "is not a PCI address like 0000:c4:00.0";
	if ((*value && !plain_name(value)) || (*extra && !plain_name(extra)))
		return "has a driver name with '/'";
	return NULL;
}

static int on_device(struct error *err, const char *bdf, int r)
{
	error_set_device(err, bdf);
	return r;
}

static int bind_inspect(const struct host_op_env *x, const struct plan_action *a,
			const struct host_op_input *in _unused_, struct journal_entry *ret,
			struct error *err)
{
	_cleanup_free_ char *driver = NULL, *override = NULL;
	int r;

	r = vfio_read_state(x->c, a->target, &driver, &override);
	if (r < 0)
		return on_device(err, a->target,
				 error_set(err, r, "PCI function %s: %s", a->target, strerror(-r)));
	if (entry_set(ret, JOURNAL_BIND, a->target, strempty(driver), strempty(override)) < 0)
		return error_set(err, ENOMEM, NULL);
	return 1;
}

static char *bind_describe(const struct host_op_env *x _unused_,
			   const struct plan_action *a _unused_, const struct journal_entry *e)
{
	return strdup_printf("bind %s: %s -> " VFIO_DRIVER " (driver_override, unbind, "
			     "drivers_probe)",
			     e->target, *e->value ? e->value : "no driver");
}

static int bind_apply(const struct host_op_env *x, const struct plan_action *a _unused_,
		      const struct host_op_input *in _unused_, const struct journal_entry *e,
		      struct error *err)
{
	_cleanup_free_ char *seen = NULL;
	unsigned t = x->o->timeout_ms;
	int r;

	r = vfio_bind(x->c, e->target, t, &seen);
	if (r == -ETIMEDOUT)
		return on_device(err, e->target,
				 error_set(err, r,
					   "%s did not bind to " VFIO_DRIVER
					   " within %u ms (driver: %s)",
					   e->target, t, seen ? seen : "none"));
	if (r < 0)
		return on_device(err, e->target,
				 error_set(err, r, "Failed to bind %s to " VFIO_DRIVER ": %s",
					   e->target, strerror(-r)));
	say(x, "bound %s: %s -> " VFIO_DRIVER, e->target, *e->value ? e->value : "no driver");
	return 0;
}

static bool pci_driver_registered(struct ctx *c, const char *drv)
{
	_cleanup_free_ char *p = path_join(c->sys, "bus/pci/drivers", drv);

	return p && hostfs_is_dir(p);
}

/* The host driver @want of @bdf is not registered (its module was unloaded since): load the
 * module for the device as udev does (by its modalias), on the real host. */
static void load_driver_of(struct ctx *c, const char *bdf, const char *want,
			   struct revert_report *rep)
{
	_cleanup_free_ char *p = pcidev_attr_path(c, bdf, "modalias"), *alias = NULL;
	int r;

	if (!c->real_root || !p || hostfs_read_line(p, &alias) < 0 || !alias || !*alias)
		return;
	r = kmodule_load(c, alias);
	if (r < 0)
		(void)revert_report_note(rep, "Failed to load the module for %s (%s): %s", bdf,
					 want, strerror(-r));
	else if (pci_driver_registered(c, want))
		(void)revert_report_note(rep, "loaded the module of driver %s for %s again", want,
					 bdf);
}

static int bind_revert(struct ctx *c, const struct journal_entry *e, unsigned timeout_ms,
		       struct revert_report *rep)
{
	const char *want = e->value && *e->value ? e->value : NULL;
	_cleanup_free_ char *final = NULL, *now = NULL;
	int r;

	if (want && !pci_driver_registered(c, want)) {
		load_driver_of(c, e->target, want, rep);
		if (!pci_driver_registered(c, want) &&
		    vfio_read_state(c, e->target, &now, NULL) >= 0 && streq_ptr(now, VFIO_DRIVER)) {
			/* taken from vfio-pci, it would have no driver at all: it stays where it
			 * is, and the journal with it, until the driver is back */
			(void)revert_report_function(rep, e->target, want, now);
			return revert_report_warn(
			    rep, -ENODEV,
			    "Cannot give %s back to %s, which is not loaded (its module was "
			    "removed?); it stays on vfio-pci: load the module (modprobe %s) and "
			    "restore again",
			    e->target, want, want);
		}
	}
	r = vfio_restore(c, e->target, want, e->extra, timeout_ms, &final);
	if (r == -ENOENT && vfio_read_state(c, e->target, NULL, NULL) == -ENOENT)
		/* removed (hot-unplugged, or its bridge was): nothing is left to give back */
		return revert_report_note(rep,
					  "%s is no longer present on this host: nothing to give "
					  "back, counted as done",
					  e->target);
	if (revert_report_function(rep, e->target, want, final) < 0)
		return -ENOMEM;
	if (r < 0 || !streq_ptr(final, want))
		return revert_report_warn(rep, r < 0 ? r : -EIO, "Failed to give %s back to %s",
					  e->target, want ? want : "no driver");
	return 0;
}

/* ---- volume: a ROM uploaded into the ROM storage pool of a remote node ---- */

static const char *volume_check(const char *target, const char *value, const char *extra)
{
	if (libvirt_uri_is_remote(target, NULL) < 0)
		return "is not a libvirt URI";
	if (!plain_name(value) || !plain_name(extra) || strpbrk(extra, "<>&'\""))
		return "has a pool or volume name gpurun does not make";
	return NULL;
}

static int volume_inspect(const struct host_op_env *x, const struct plan_action *a,
			  const struct host_op_input *in _unused_, struct journal_entry *ret,
			  struct error *err)
{
	const char *uri = x->plan ? x->plan->remote_uri : NULL;
	const char *pool = x->plan ? x->plan->remote_rom_pool : NULL;
	int r;

	if (!uri || !pool)
		return error_set(err, EINVAL, "upload-rom %s without a remote node", a->target);
	r = remote_volume_exists(uri, pool, a->target, err);
	if (r < 0)
		return r;
	if (r > 0)
		return error_set(err, EEXIST,
				 "volume %s already exists in storage pool '%s' on %s, and gpurun "
				 "does not replace what it did not create; delete it (virsh -c %s "
				 "vol-delete %s --pool %s) or rename the file",
				 a->target, pool, uri, uri, a->target, pool);
	if (entry_set(ret, JOURNAL_VOLUME, uri, pool, a->target) < 0)
		return error_set(err, ENOMEM, NULL);
	return 1;
}

static char *volume_describe(const struct host_op_env *x _unused_, const struct plan_action *a,
			     const struct journal_entry *e)
{
	return strdup_printf("upload ROM %s as volume %s of pool '%s' on %s", strempty(a->source),
			     e->extra, e->value, e->target);
}

static int volume_apply(const struct host_op_env *x, const struct plan_action *a,
			const struct host_op_input *in, const struct journal_entry *e,
			struct error *err)
{
	int r = remote_volume_upload(e->target, e->value, e->extra, in->buf, in->len, err);

	if (r < 0)
		return r;
	say(x, "uploaded ROM %s to %s (volume %s of pool '%s', %zu bytes)", strempty(a->source),
	    e->target, e->extra, e->value, in->len);
	return 0;
}

static int volume_revert(struct ctx *c _unused_, const struct journal_entry *e,
			 unsigned timeout_ms _unused_, struct revert_report *rep)
{
	_cleanup_(error_clear) struct error err = {};
	int r = remote_volume_delete(e->target, e->value, e->extra, &err);

	if (r < 0)
		return revert_report_warn(rep, r,
					  "Failed to delete volume %s of pool '%s' on %s (%s)",
					  e->extra, e->value, e->target, strna(err.message));
	return 0;
}

/* ---- nodedev-detach: a PCI function of a remote node detached to vfio-pci by libvirt ---- */

static const char *nodedev_check(const char *target, const char *value, const char *extra)
{
	if (libvirt_uri_is_remote(target, NULL) < 0)
		return "is not a libvirt URI";
	if (!nodedev_name_valid(value))
		return "has no PCI node device name (pci_DDDD_BB_DD_F)";
	if (*extra && !plain_name(extra))
		return "has a driver name with '/'";
	return NULL;
}

/* "pci_0000_03_00_0" -> "0000:03:00.0" (the name is valid: nodedev_check) */
static void nodedev_address(const char *name, char ret[PCI_ADDR_MAX])
{
	snprintf(ret, PCI_ADDR_MAX, "%.4s:%.2s:%.2s.%.1s", name + 4, name + 9, name + 12,
		 name + 15);
}

static int nodedev_inspect(const struct host_op_env *x, const struct plan_action *a,
			   const struct host_op_input *in _unused_, struct journal_entry *ret,
			   struct error *err)
{
	const char *uri = x->plan ? x->plan->remote_uri : NULL;
	_cleanup_free_ char *name = nodedev_name_from_address(a->target), *driver = NULL;
	int r;

	if (!uri)
		return error_set(err, EINVAL, "nodedev-detach %s without a remote node", a->target);
	if (!name)
		return error_set(err, ENOMEM, NULL);
	r = remote_nodedev_driver(uri, name, &driver, err);
	if (r < 0)
		return on_device(err, a->target, r);
	if (streq_ptr(driver, VFIO_DRIVER)) {
		say(x, "%s on %s: already on " VFIO_DRIVER, a->target, uri);
		return 0;
	}
	if (entry_set(ret, JOURNAL_NODEDEV, uri, name, strempty(driver)) < 0)
		return error_set(err, ENOMEM, NULL);
	return 1;
}

static char *nodedev_describe(const struct host_op_env *x _unused_, const struct plan_action *a,
			      const struct journal_entry *e)
{
	return strdup_printf("detach %s on %s: %s -> " VFIO_DRIVER " (libvirt node device %s)",
			     a->target, e->target, *e->extra ? e->extra : "no driver", e->value);
}

static int nodedev_apply(const struct host_op_env *x, const struct plan_action *a,
			 const struct host_op_input *in _unused_, const struct journal_entry *e,
			 struct error *err)
{
	int r = remote_nodedev_detach(e->target, e->value, err);

	if (r < 0)
		return on_device(err, a->target, r);
	say(x, "detached %s on %s: %s -> " VFIO_DRIVER, a->target, e->target,
	    *e->extra ? e->extra : "no driver");
	return 0;
}

static int nodedev_revert(struct ctx *c _unused_, const struct journal_entry *e,
			  unsigned timeout_ms _unused_, struct revert_report *rep)
{
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *final = NULL;
	const char *want = *e->extra ? e->extra : NULL;
	char bdf[PCI_ADDR_MAX];
	int r;

	nodedev_address(e->value, bdf);
	r = remote_nodedev_reattach(e->target, e->value, &err);
	if (r == -ENOENT)
		return revert_report_note(rep,
					  "%s is no longer present on %s: nothing to give back, "
					  "counted as done",
					  bdf, e->target);
	if (r < 0)
		return revert_report_warn(rep, r, "Failed to give %s on %s back to %s (%s)", bdf,
					  e->target, want ? want : "no driver", strna(err.message));
	/* libvirt's reattach reprobes: whatever driver claims it is the host's choice, as when
	 * the function was on no driver before */
	error_clear(&err);
	if (remote_nodedev_driver(e->target, e->value, &final, &err) < 0)
		return revert_report_warn(rep, -EIO,
					  "%s on %s: reattached, but its driver is unknown (%s)",
					  bdf, e->target, strna(err.message));
	if (revert_report_function(rep, bdf, want, final) < 0)
		return -ENOMEM;
	if (want && !streq_ptr(final, want))
		return revert_report_warn(rep, -EIO, "Failed to give %s on %s back to %s", bdf,
					  e->target, want);
	return 0;
}

/* In execution order of a plan: modules, ROMs, consoles, framebuffers, binds. */
static const struct host_op host_ops[_JOURNAL_KIND_MAX] = {
	[JOURNAL_MODULE] = {
		.kind = JOURNAL_MODULE,
		.name = "module",
		.syntax = "module NAME",
		.action = PLAN_ACTION_LOAD_MODULE,
		.n_values = 0,
		.check = module_check,
		.inspect = module_inspect,
		.describe = module_describe,
		.apply = module_apply,
		.revert = module_revert,
	},
	[JOURNAL_ROM] = {
		.kind = JOURNAL_ROM,
		.name = "rom",
		.syntax = "rom PATH new|existing",
		.action = PLAN_ACTION_STAGE_ROM,
		.n_values = 1,
		.values = rom_values,
		.check = rom_check,
		.inspect = rom_inspect,
		.describe = rom_describe,
		.apply = rom_apply,
		.revert = rom_revert,
	},
	[JOURNAL_VTCON] = {
		.kind = JOURNAL_VTCON,
		.name = "vtcon",
		.syntax = "vtcon NAME OLD",
		.action = PLAN_ACTION_UNBIND_CONSOLE,
		.n_values = 1,
		.check = vtcon_check,
		.inspect = vtcon_inspect,
		.describe = vtcon_describe,
		.apply = vtcon_apply,
		.revert = vtcon_revert,
	},
	[JOURNAL_PLATFORM] = {
		.kind = JOURNAL_PLATFORM,
		.name = "platform",
		.syntax = "platform DEVICE DRIVER",
		.action = PLAN_ACTION_UNBIND_FRAMEBUFFER,
		.n_values = 1,
		.check = platform_check,
		.inspect = platform_inspect,
		.describe = platform_describe,
		.apply = platform_apply,
		.revert = platform_revert,
	},
	[JOURNAL_BIND] = {
		.kind = JOURNAL_BIND,
		.name = "bind",
		.syntax = "bind BDF driver=DRIVER override=OVERRIDE",
		.action = PLAN_ACTION_BIND_VFIO,
		.n_values = 2,
		.value_prefix = "driver=",
		.extra_prefix = "override=",
		.check = bind_check,
		.inspect = bind_inspect,
		.describe = bind_describe,
		.apply = bind_apply,
		.revert = bind_revert,
	},
	[JOURNAL_VOLUME] = {
		.kind = JOURNAL_VOLUME,
		.name = "volume",
		.syntax = "volume URI POOL NAME",
		.action = PLAN_ACTION_UPLOAD_ROM,
		.n_values = 2,
		.check = volume_check,
		.inspect = volume_inspect,
		.describe = volume_describe,
		.apply = volume_apply,
		.revert = volume_revert,
	},
	[JOURNAL_NODEDEV] = {
		.kind = JOURNAL_NODEDEV,
		.name = "nodedev-detach",
		.syntax = "nodedev-detach URI NAME driver=DRIVER",
		.action = PLAN_ACTION_NODEDEV_DETACH,
		.n_values = 2,
		.extra_prefix = "driver=",
		.check = nodedev_check,
		.inspect = nodedev_inspect,
		.describe = nodedev_describe,
		.apply = nodedev_apply,
		.revert = nodedev_revert,
	},
};

const struct host_op *host_op_get(enum journal_kind k)
{
	if ((unsigned)k >= _JOURNAL_KIND_MAX || !host_ops[k].name)
		return NULL;
	return &host_ops[k];
}

const struct host_op *host_op_from_name(const char *name)
{
	for (size_t i = 0; name && i < ELEMENTSOF(host_ops); i++)
		if (host_ops[i].name && streq(host_ops[i].name, name))
			return &host_ops[i];
	return NULL;
}

const struct host_op *host_op_for_action(enum plan_action_kind k)
{
	for (size_t i = 0; i < ELEMENTSOF(host_ops); i++)
		if (host_ops[i].name && host_ops[i].action == k)
			return &host_ops[i];
	return NULL;
}

int host_op_run(const struct host_op_env *x, const struct plan_action *a,
		const struct host_op_input *in, struct error *err)
{
	static const struct host_op_input none = {};
	const struct host_op *op = host_op_for_action(a->kind);
	struct journal_entry e = {};
	int r;

	if (!op)
		return error_set(err, EINVAL, "Unknown plan action %d", (int)a->kind);
	if (!in)
		in = &none;
	r = op->inspect(x, a, in, &e, err);
	if (r <= 0)
		return r;
	if (x->o->dry_run) {
		_cleanup_free_ char *line = op->describe(x, a, &e);

		host_op_entry_done(&e);
		if (!line)
			return error_set(err, ENOMEM, NULL);
		say(x, "%s", line);
		return 0;
	}
	if (!x->j) {
		host_op_entry_done(&e);
		return error_set(err, EINVAL, "no journal to write to");
	}
	r = journal_append(x->j, e.kind, e.target, e.value, e.extra);
	if (r < 0) {
		host_op_entry_done(&e);
		return error_set(err, r, "Failed to write the journal: %s", strerror(-r));
	}
	r = op->apply(x, a, in, &e, err);
	host_op_entry_done(&e);
	return r;
}
