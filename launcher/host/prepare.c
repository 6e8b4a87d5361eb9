/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>

#include "core/plan.h"
#include "core/rom.h"
#include "core/vfct.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/journal.h"
#include "host/kmodule.h"
#include "host/prepare.h"
#include "host/romstage.h"
#include "host/vfio.h"
#include "util/error.h"
#include "util/strutil.h"
#include "util/strv.h"

_printf_(2, 3) static void say(const struct prepare_options *o, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;

	if (!o->say)
		return;
	va_start(ap, fmt);
	s = strdup_vprintf(fmt, ap);
	va_end(ap);
	if (s)
		o->say(o->userdata, s);
}

/* Name the PCI function an error is about (the message names it too): `return
 * on_device(err, bdf, error_set(err, r, "...", ...));` */
static int on_device(struct error *err, const char *bdf, int r)
{
	error_set_device(err, bdf);
	return r;
}

static int journal_failed(struct error *err, int r)
{
	return error_set(err, r, "Failed to write the journal: %s", strerror(-r));
}

static int check_signal(const struct prepare_options *o, struct error *err)
{
	sigset_t s;

	if (!o->check_signals || sigpending(&s) < 0)
		return 0;
	if (sigismember(&s, SIGINT) || sigismember(&s, SIGTERM) || sigismember(&s, SIGHUP))
		return error_set(err, -EINTR, "interrupted by a signal");
	return 0;
}

static int do_module(struct ctx *c, struct journal *j, const char *name,
		     const struct prepare_options *o, struct error *err)
{
	int r;

	if (kmodule_is_loaded(c, name)) {
		say(o, "module %s: already loaded", name);
		return 0;
	}
	if (o->dry_run) {
		say(o, "load module %s%s", name, c->real_root ? "" : " (skipped: --root is not /)");
		return 0;
	}
	if (!c->real_root) {
		/* journalled all the same, so revert's path is the one a real run takes */
		r = journal_append(j, JOURNAL_MODULE, name, NULL, NULL);
		if (r < 0)
			return journal_failed(err, r);
		say(o, "not loading %s: --root is not /", name);
		return 0;
	}
	r = journal_append(j, JOURNAL_MODULE, name, NULL, NULL);
	if (r < 0)
		return journal_failed(err, r);
	r = kmodule_load(c, name);
	if (r == -ENOENT) {
		say(o, "module %s: not on this kernel, ignoring", name);
		return 0;
	}
	if (r < 0)
		return error_set(err, r, "Failed to load module %s: %s", name, strerror(-r));
	say(o, "loaded module %s", name);
	return 0;
}

static const struct plan_device *plan_device_of(const struct plan *p, const char *addr)
{
	for (size_t i = 0; i < p->n_devices; i++)
		if (streq(p->devices[i].address, addr))
			return &p->devices[i];
	return NULL;
}

static int rom_source_read(struct ctx *c, const struct plan *p, const char *source, void **ret,
			   size_t *ret_len, struct error *err)
{
	_cleanup_(vfct_table_freep) struct vfct_table *t = NULL;
	const struct plan_device *d;
	const struct vfct_image *img;
	unsigned dom, bus, dev, fn;
	char *buf;
	size_t len;
	int r;

	if (startswith(source, "sysfs:")) {
		r = rom_read_sysfs(c, source + 6, ret, ret_len);
		if (r < 0)
			return error_set(err, r, "Failed to read the ROM of %s: %s", source + 6,
					 strerror(-r));
		return 0;
	}
	if (!startswith(source, "vfct:")) {
		r = read_full_file(source, ROM_MAX_SIZE, &buf, &len);
		if (r < 0)
			return error_set(err, r, "Failed to read %s: %s", source, strerror(-r));
		*ret = buf;
		*ret_len = len;
		return 0;
	}
	d = plan_device_of(p, source + 5);
	if (!d || sscanf(source + 5, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return error_set(err, -EINVAL, "Bad ROM source %s", source);
	r = vfct_read(c, &t, NULL, NULL);
	if (r < 0)
		return error_set(err, r, "Failed to read the VFCT table: %s", strerror(-r));
	img = vfct_find(t, bus, dev, fn, d->vendor, d->device);
	if (!img)
		return error_set(err, -ENOENT, "The VFCT table has no image for %s", source + 5);
	buf = malloc(img->image_length ? img->image_length : 1);
	if (!buf)
		return error_set(err, ENOMEM, NULL);
	memcpy(buf, vfct_image_data(t, (size_t)(img - t->images)), img->image_length);
	*ret = buf;
	*ret_len = img->image_length;
	return 0;
}

static int do_stage_rom(struct ctx *c, const struct plan *p, struct journal *j,
			const struct plan_action *a, const struct prepare_options *o,
			struct error *err)
{
	_cleanup_free_ void *buf = NULL;
	_cleanup_free_ char *dir = strdup(a->target), *name = strdup(a->target);
	size_t len = 0;
	int r, same;

	if (!dir || !name)
		return error_set(err, ENOMEM, NULL);
	if (o->dry_run) {
		say(o, "stage ROM %s from %s", a->target, strempty(a->source));
		return 0;
	}
	r = rom_source_read(c, p, strempty(a->source), &buf, &len, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_devices; i++) {
		_cleanup_(error_clear) struct error why = {};

		if (!streq_ptr(p->devices[i].romfile, a->target))
			continue;
		if (rom_validate_for_guest(buf, len, p->devices[i].rom_is_gop, &why) < 0)
			return error_set(err, -EINVAL, "ROM %s for %s: %s", strempty(a->source),
					 p->devices[i].address, strna(why.message));
	}
	same = hostfs_same_content(a->target, buf, len);
	if (same == 1) {
		say(o, "ROM %s: already staged", a->target);
		return 0;
	}
	r = journal_append(j, JOURNAL_ROM, a->target, same == -ENOENT ? "new" : "existing", NULL);
	if (r < 0)
		return journal_failed(err, r);
	r = rom_stage(c, buf, len, dirname(dir), basename(name), true, NULL);
	if (r < 0)
		return error_set(err, r, "Failed to stage ROM %s: %s", a->target, strerror(-r));
	say(o, "staged ROM %s (%zu bytes from %s)", a->target, len, a->source);
	return 0;
}

static int do_console(struct ctx *c, struct journal *j, const char *target,
		      const struct prepare_options *o, struct error *err)
{
	_cleanup_free_ char *p = NULL, *old = NULL, *drv = NULL;
	int r;

	if (startswith(target, "vtcon")) {
		p = path_join(c->sys, "class/vtconsole", target, "bind");
		if (!p)
			return error_set(err, ENOMEM, NULL);
		r = hostfs_read_line(p, &old);
		if (r < 0)
			return error_set(err, r, "Failed to read %s: %s", p, strerror(-r));
		if (streq(old, "0")) {
			say(o, "console %s: already unbound", target);
			return 0;
		}
		if (o->dry_run) {
			say(o, "unbind console %s (write 0 to %s)", target, p);
			return 0;
		}
		r = journal_append(j, JOURNAL_VTCON, target, old, NULL);
		if (r < 0)
			return journal_failed(err, r);
		r = hostfs_write_attr(p, "0");
		if (r < 0)
			return error_set(err, r, "Failed to unbind console %s: %s", target,
					 strerror(-r));
		say(o, "unbound console %s", target);
		return 0;
	}
	p = path_join(c->sys, "bus/platform/devices", target, "driver");
	if (!p)
		return error_set(err, ENOMEM, NULL);
	r = hostfs_readlink_base(p, &drv);
	if (r == -ENOENT) {
		say(o, "framebuffer %s: not bound", target);
		return 0;
	}
	if (r < 0)
		return error_set(err, r, "Failed to read %s: %s", p, strerror(-r));
	free(p);
	p = path_join(c->sys, "bus/platform/drivers", drv, "unbind");
	if (!p)
		return error_set(err, ENOMEM, NULL);
	if (o->dry_run) {
		say(o, "unbind %s from %s", target, drv);
		return 0;
	}
	r = journal_append(j, JOURNAL_PLATFORM, target, drv, NULL);
	if (r < 0)
		return journal_failed(err, r);
	r = hostfs_write_attr(p, target);
	if (r < 0)
		return error_set(err, r, "Failed to unbind %s from %s: %s", target, drv,
				 strerror(-r));
	say(o, "unbound %s from %s", target, drv);
	return 0;
}

static int do_bind(struct ctx *c, struct journal *j, const char *bdf,
		   const struct prepare_options *o, struct error *err)
{
	_cleanup_free_ char *driver = NULL, *override = NULL, *seen = NULL;
	int r;

	r = vfio_read_state(c, bdf, &driver, &override);
	if (r < 0)
		return on_device(err, bdf,
				 error_set(err, r, "PCI function %s: %s", bdf, strerror(-r)));
	if (o->dry_run) {
		say(o, "bind %s: %s -> " VFIO_DRIVER " (driver_override, unbind, drivers_probe)",
		    bdf, driver ? driver : "no driver");
		return 0;
	}
	r = journal_append(j, JOURNAL_BIND, bdf, strempty(driver), strempty(override));
	if (r < 0)
		return journal_failed(err, r);
	r = vfio_bind(c, bdf, o->timeout_ms, &seen);
	if (r == -ETIMEDOUT)
		return on_device(err, bdf,
				 error_set(err, r,
					   "%s did not bind to " VFIO_DRIVER
					   " within %u ms (driver: %s)",
					   bdf, o->timeout_ms, seen ? seen : "none"));
	if (r < 0)
		return on_device(err, bdf,
				 error_set(err, r, "Failed to bind %s to " VFIO_DRIVER ": %s", bdf,
					   strerror(-r)));
	say(o, "bound %s: %s -> " VFIO_DRIVER, bdf, driver ? driver : "no driver");
	return 0;
}

static int wait_groups(struct ctx *c, char *const *bdfs, const struct prepare_options *o,
		       struct error *err)
{
	int groups[64];
	size_t n = 0;
	int r;

	for (char *const *b = bdfs; b && *b; b++) {
		int g;
		bool dup = false;

		if (vfio_group_of(c, *b, &g) < 0)
			continue;
		for (size_t i = 0; i < n; i++)
			dup = dup || groups[i] == g;
		if (!dup && n < ELEMENTSOF(groups))
			groups[n++] = g;
	}
	for (size_t i = 0; i < n; i++) {
		if (o->dry_run) {
			say(o, "wait for %s/vfio/%d", c->dev, groups[i]);
			continue;
		}
		r = vfio_wait_group(c, groups[i], o->timeout_ms);
		if (r < 0)
			return error_set(err, r, "%s/vfio/%d did not appear within %u ms: %s",
					 c->dev, groups[i], o->timeout_ms, strerror(-r));
		say(o, "group %d ready: %s/vfio/%d", groups[i], c->dev, groups[i]);
	}
	return 0;
}

static int lock_all(struct ctx *c, char *const *bdfs, struct journal *j,
		    const struct prepare_options *o, struct error *err)
{
	int r;

	if (o->dry_run)
		return 0;
	for (char *const *b = bdfs; b && *b; b++) {
		r = journal_lock_device(c, j, *b, err);
		if (r == -EBUSY && error_is_set(err)) {
			/* journal.c names the device and its holder; the way out is ours to add */
			_cleanup_free_ char *why = strdup(strna(err->message));

			if (why) {
				r = error_set(err, r,
					      "%s; override: stop that VM, or run `gpurun "
					      "restore` for it",
					      why);
				error_set_device(err, *b);
			}
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int copy_vars(struct ctx *c, const struct plan *p, const struct prepare_options *o,
		     struct error *err)
{
	_cleanup_free_ char *buf = NULL, *dir = NULL;
	size_t len;
	int r;

	(void)c;
	if (!p->ovmf_vars || !p->ovmf_vars_template || hostfs_exists(p->ovmf_vars))
		return 0;
	if (o->dry_run) {
		say(o, "create %s from %s", p->ovmf_vars, p->ovmf_vars_template);
		return 0;
	}
	r = read_full_file(p->ovmf_vars_template, 64 * 1024 * 1024, &buf, &len);
	if (r < 0)
		return error_set(err, r, "Failed to read %s: %s", p->ovmf_vars_template,
				 strerror(-r));
	dir = strdup(p->ovmf_vars);
	if (!dir)
		return error_set(err, ENOMEM, NULL);
	r = hostfs_mkdir_p(dirname(dir), 0755);
	if (r >= 0)
		r = hostfs_write_atomic(p->ovmf_vars, buf, len, 0600);
	if (r < 0)
		return error_set(err, r, "Failed to create %s: %s", p->ovmf_vars, strerror(-r));
	say(o, "created UEFI variable store %s", p->ovmf_vars);
	return 0;
}

int prepare_plan(struct ctx *c, const struct plan *p, struct journal *j,
		 const struct prepare_options *o, struct error *err)
{
	_cleanup_strv_free_ char **bdfs = NULL;
	int r;

	if (!j && !o->dry_run)
		return error_set(err, EINVAL, "no journal to write to");
	/* every function of the VM, also those already on vfio-pci (no bind action) */
	for (size_t i = 0; i < p->n_devices; i++) {
		r = strv_extend(&bdfs, p->devices[i].address);
		if (r < 0)
			return error_set(err, r, NULL);
	}
	r = lock_all(c, bdfs, j, o, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct plan_action *a = &p->actions[i];

		r = check_signal(o, err);
		if (r < 0)
			return r;
		switch (a->kind) {
		case PLAN_ACTION_LOAD_MODULE:
			r = do_module(c, j, a->target, o, err);
			break;
		case PLAN_ACTION_STAGE_ROM:
			r = do_stage_rom(c, p, j, a, o, err);
			break;
		case PLAN_ACTION_UNBIND_CONSOLE:
			r = do_console(c, j, a->target, o, err);
			break;
		case PLAN_ACTION_BIND_VFIO:
			r = do_bind(c, j, a->target, o, err);
			break;
		default:
			r = error_set(err, -EINVAL, "Unknown plan action %d", (int)a->kind);
			break;
		}
		if (r < 0)
			return r;
	}
	r = check_signal(o, err);
	if (r < 0)
		return r;
	r = wait_groups(c, bdfs, o, err);
	if (r < 0)
		return r;
	return copy_vars(c, p, o, err);
}

int prepare_addresses(struct ctx *c, char *const *bdfs, struct journal *j,
		      const struct prepare_options *o, struct error *err)
{
	_cleanup_strv_free_ char **order = NULL;
	int r;

	if (!j && !o->dry_run)
		return error_set(err, EINVAL, "no journal to write to");
	/* HD audio and other functions before the display function: the audio driver of a
	 * GPU's HDMI codec goes first, as on revert the GPU comes back first */
	for (int pass = 0; pass < 2; pass++)
		for (char *const *b = bdfs; b && *b; b++) {
			r = vfio_is_display(c, *b);
			if (r < 0)
				return on_device(
				    err, *b,
				    error_set(err, r, "PCI function %s: %s", *b, strerror(-r)));
			if (r == pass) {
				r = strv_extend(&order, *b);
				if (r < 0)
					return error_set(err, r, NULL);
			}
		}
	r = lock_all(c, order, j, o, err);
	if (r < 0)
		return r;
	for (int i = 0; i < _HOST_MOD_MAX; i++) {
		if (!host_module_required(i))
			continue;
		r = do_module(c, j, host_module_names[i], o, err);
		if (r < 0)
			return r;
	}
	for (char **b = order; b && *b; b++) {
		r = check_signal(o, err);
		if (r < 0)
			return r;
		r = do_bind(c, j, *b, o, err);
		if (r < 0)
			return r;
	}
	return wait_groups(c, order, o, err);
}
