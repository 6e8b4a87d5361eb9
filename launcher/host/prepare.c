/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>

#include "core/plan.h"
#include "core/rom.h"
#include "core/vfct.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/hostop.h"
#include "host/journal.h"
#include "host/paths.h"
#include "host/prepare.h"
#include "host/romstage.h"
#include "host/runner.h"
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

static int check_signal(const struct prepare_options *o, struct error *err)
{
	sigset_t s, stops;

	if (!o->check_signals || sigpending(&s) < 0)
		return 0;
	runner_stop_signals(&stops);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&stops, sig) == 1 && sigismember(&s, sig) == 1)
			return error_set(err, -EINTR, "interrupted by a signal");
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
		/* the file plan checked (state.c) */
		_cleanup_free_ char *full = paths_profile_file(c, source);

		if (!full)
			return error_set(err, ENOMEM, NULL);
		r = read_full_file(full, ROM_MAX_SIZE, &buf, &len);
		if (r < 0)
			return error_set(err, r, "Failed to read %s: %s", full,
					 read_full_file_strerror(r));
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

/* Everything a run reads, read before the first host change (a source that cannot be read,
 * blocks, or is not what it claims fails the run while nothing is changed yet). */
struct inputs {
	struct host_op_input *roms; /* per action of the plan (only stage-rom ones used) */
	size_t n;
	char *vars; /* the UEFI variable template, when the per-VM copy is missing */
	size_t vars_len;
	bool make_vars;
};

static void inputs_done(struct inputs *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->roms[i].buf);
	free(in->roms);
	free(in->vars);
	*in = (struct inputs){};
}

/* The ROM of stage-rom action @a: read from its source, checked against each function that
 * uses it, and compared with what is already at the destination. gpurun never replaces a file
 * it did not create: an identical one is used as it is, a different one refuses the run. */
static int read_rom(struct ctx *c, const struct plan *p, const struct plan_action *a,
		    const struct prepare_options *o, struct host_op_input *ret, struct error *err)
{
	_cleanup_free_ void *buf = NULL;
	size_t len = 0;
	int r, same;

	/* reading a sysfs ROM writes its rom attribute (enable, read, disable): not on a dry run */
	if (o->dry_run && startswith(strempty(a->source), "sysfs:"))
		return 0;
	r = rom_source_read(c, p, strempty(a->source), &buf, &len, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_devices; i++) {
		_cleanup_(error_clear) struct error why = {};

		if (a->kind == PLAN_ACTION_UPLOAD_ROM
			? !streq_ptr(p->devices[i].rom_name, a->target) || !p->devices[i].romfile
			: !streq_ptr(p->devices[i].romfile, a->target))
			continue;
		if (rom_validate_for_guest(buf, len, p->devices[i].rom_is_gop, &why) < 0)
			return error_set(err, -EINVAL, "ROM %s for %s: %s", strempty(a->source),
					 p->devices[i].address, strna(why.message));
	}
	if (a->kind == PLAN_ACTION_UPLOAD_ROM) {
		/* the destination is a volume on the node: the upload's inspect looks at it */
		ret->buf = TAKE_PTR(buf);
		ret->len = len;
		return 0;
	}
	same = hostfs_same_content(a->target, buf, len);
	if (same == 0)
		return error_set(err, EEXIST,
				 "%s already exists with other content, and gpurun does not "
				 "replace a file it did not create; move it away, or name it in "
				 "the profile (vbios = %s) to use it as it is",
				 a->target, a->target);
	if (same < 0 && same != -ENOENT)
		return error_set(err, same, "Failed to read %s: %s", a->target, strerror(-same));
	ret->present = same == 1;
	ret->buf = TAKE_PTR(buf);
	ret->len = len;
	return 0;
}

static int read_inputs(struct ctx *c, const struct plan *p, const struct prepare_options *o,
		       struct inputs *in, struct error *err)
{
	int r;

	in->roms = calloc(p->n_actions ? p->n_actions : 1, sizeof(*in->roms));
	if (!in->roms)
		return error_set(err, ENOMEM, NULL);
	in->n = p->n_actions;
	for (size_t i = 0; i < p->n_actions; i++) {
		if (p->actions[i].kind != PLAN_ACTION_STAGE_ROM &&
		    p->actions[i].kind != PLAN_ACTION_UPLOAD_ROM)
			continue;
		r = read_rom(c, p, &p->actions[i], o, &in->roms[i], err);
		if (r < 0)
			return r;
	}
	if (!p->ovmf_vars || !p->ovmf_vars_template || hostfs_exists(p->ovmf_vars))
		return 0;
	in->make_vars = true;
	r = read_full_file(p->ovmf_vars_template, 64 * 1024 * 1024, &in->vars, &in->vars_len);
	if (r < 0)
		return error_set(err, r, "Failed to read %s: %s", p->ovmf_vars_template,
				 read_full_file_strerror(r));
	return 0;
}

static int copy_vars(const struct plan *p, const struct inputs *in, const struct prepare_options *o,
		     struct error *err)
{
	_cleanup_free_ char *dir = NULL;
	int r;

	if (!in->make_vars || hostfs_exists(p->ovmf_vars))
		return 0;
	if (o->dry_run) {
		say(o, "create %s from %s", p->ovmf_vars, p->ovmf_vars_template);
		return 0;
	}
	dir = strdup(p->ovmf_vars);
	if (!dir)
		return error_set(err, ENOMEM, NULL);
	r = hostfs_mkdir_p(dirname(dir), 0755);
	if (r >= 0)
		r = hostfs_write_atomic(p->ovmf_vars, in->vars, in->vars_len, 0600);
	if (r < 0)
		return error_set(err, r, "Failed to create %s: %s", p->ovmf_vars, strerror(-r));
	say(o, "created UEFI variable store %s", p->ovmf_vars);
	return 0;
}

int prepare_plan(struct ctx *c, const struct plan *p, struct journal *j,
		 const struct prepare_options *o, struct error *err)
{
	_cleanup_strv_free_ char **bdfs = NULL;
	struct host_op_env x = { .c = c, .plan = p, .j = j, .o = o };
	struct inputs in = {};
	int r;

	if (!j && !o->dry_run)
		return error_set(err, EINVAL, "no journal to write to");
	/* every function of the VM, also those already on vfio-pci (no bind action) */
	for (size_t i = 0; i < p->n_devices; i++) {
		r = strv_extend(&bdfs, p->devices[i].address);
		if (r < 0)
			return error_set(err, r, NULL);
	}
	r = read_inputs(c, p, o, &in, err);
	/* the locks name this machine's PCI functions; a remote node's are guarded by libvirt
	 * there (it refuses to reattach a device a running domain uses) */
	if (r >= 0 && !p->remote_uri)
		r = lock_all(c, bdfs, j, o, err);
	for (size_t i = 0; r >= 0 && i < p->n_actions; i++) {
		r = check_signal(o, err);
		if (r >= 0)
			r = host_op_run(&x, &p->actions[i], &in.roms[i], err);
	}
	if (r >= 0)
		r = check_signal(o, err);
	/* a remote node's groups are libvirt's business there (its detach waits for them) */
	if (r >= 0 && !p->remote_uri)
		r = wait_groups(c, bdfs, o, err);
	if (r >= 0)
		r = copy_vars(p, &in, o, err);
	inputs_done(&in);
	return r;
}

int prepare_addresses(struct ctx *c, char *const *bdfs, struct journal *j,
		      const struct prepare_options *o, struct error *err)
{
	_cleanup_strv_free_ char **order = NULL;
	struct host_op_env x = { .c = c, .j = j, .o = o };
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
		struct plan_action a = { .kind = PLAN_ACTION_LOAD_MODULE,
					 .target = (char *)host_module_names[i] };

		if (!host_module_required(i))
			continue;
		r = host_op_run(&x, &a, NULL, err);
		if (r < 0)
			return r;
	}
	for (char **b = order; b && *b; b++) {
		struct plan_action a = { .kind = PLAN_ACTION_BIND_VFIO, .target = *b };

		r = check_signal(o, err);
		if (r < 0)
			return r;
		r = host_op_run(&x, &a, NULL, err);
		if (r < 0)
			return r;
	}
	return wait_groups(c, order, o, err);
}
