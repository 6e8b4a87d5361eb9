/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <time.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/pcidev.h"
#include "host/vfio.h"

int vfio_read_state(struct ctx *c, const char *bdf, char **ret_driver, char **ret_override)
{
	_cleanup_free_ char *dir = pcidev_attr_path(c, bdf, NULL),
			    *drv_link = pcidev_attr_path(c, bdf, "driver"),
			    *ov_path = pcidev_attr_path(c, bdf, "driver_override"), *driver = NULL,
			    *override = NULL;
	int r;

	if (!dir || !drv_link || !ov_path)
		return -ENOMEM;
	if (!hostfs_is_dir(dir))
		return -ENOENT;
	r = hostfs_readlink_base(drv_link, &driver);
	if (r < 0 && r != -ENOENT)
		return r;
	r = hostfs_read_line(ov_path, &override);
	if (r < 0 && r != -ENOENT)
		return r;
	if (override && (!*override || streq(override, "(null)")))
		override = mfree(override);
	if (ret_driver)
		*ret_driver = TAKE_PTR(driver);
	if (ret_override)
		*ret_override = TAKE_PTR(override);
	return 0;
}

int vfio_group_of(struct ctx *c, const char *bdf, int *ret_group)
{
	_cleanup_free_ char *p = pcidev_attr_path(c, bdf, "iommu_group"), *base = NULL;
	char *end;
	long g;
	int r;

	if (!p)
		return -ENOMEM;
	r = hostfs_readlink_base(p, &base);
	if (r < 0)
		return r;
	errno = 0;
	g = strtol(base, &end, 10);
	if (errno || *end || g < 0 || g > 1000000)
		return -EBADMSG;
	*ret_group = (int)g;
	return 0;
}

int vfio_is_display(struct ctx *c, const char *bdf)
{
	_cleanup_free_ char *p = pcidev_attr_path(c, bdf, "class");
	unsigned long cls;
	int r;

	if (!p)
		return -ENOMEM;
	r = hostfs_read_ulong(p, &cls);
	if (r < 0)
		return r;
	return (cls >> 16) == 0x03;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static vfio_wait_hook_t wait_hook;
static void *wait_hook_userdata;

void vfio_set_wait_hook(vfio_wait_hook_t hook, void *userdata)
{
	wait_hook = hook;
	wait_hook_userdata = userdata;
}

/* Poll @test until it returns > 0 or @timeout_ms pass: 1 ms, doubling to 50 ms. A binding
 * usually completes within the first few milliseconds, a GPU driver probe can take seconds:
 * after each whole second @note (may be NULL) fills *@n and the wait hook is told. */
static int wait_until(int (*test)(void *), void *userdata, unsigned timeout_ms,
		      void (*note)(void *, struct vfio_wait_note *))
{
	long long start = now_ms(), deadline = start + timeout_ms;
	unsigned step = 1, told = 0;
	int r;

	for (;;) {
		long long now;

		r = test(userdata);
		if (r != 0)
			return r < 0 ? r : 0;
		now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (wait_hook && note && (now - start) / 1000 > told) {
			struct vfio_wait_note n = { .group = -1, .timeout_ms = timeout_ms };

			told = (unsigned)((now - start) / 1000);
			n.elapsed_s = told;
			note(userdata, &n);
			wait_hook(wait_hook_userdata, &n);
		}
		pause_ms(step);
		if (step < 50)
			step *= 2;
	}
}

struct driver_wait {
	struct ctx *c;
	const char *bdf;
	const char *want;
	char *seen; /* the driver at the last poll */
};

static int driver_is(void *userdata)
{
	struct driver_wait *w = userdata;
	int r;

	w->seen = mfree(w->seen);
	r = vfio_read_state(w->c, w->bdf, &w->seen, NULL);
	if (r < 0)
		return r;
	return streq_ptr(w->seen, w->want);
}

static void driver_note(void *userdata, struct vfio_wait_note *n)
{
	struct driver_wait *w = userdata;

	n->bdf = w->bdf;
	n->driver = w->seen;
	n->want = w->want;
}

int vfio_wait_driver(struct ctx *c, const char *bdf, const char *want, unsigned timeout_ms)
{
	struct driver_wait w = { c, bdf, want && *want ? want : NULL, NULL };
	int r;

	r = wait_until(driver_is, &w, timeout_ms, driver_note);
	free(w.seen);
	return r;
}

static int probe(struct ctx *c, const char *bdf)
{
	_cleanup_free_ char *p = path_join(c->sys, "bus/pci/drivers_probe");

	if (!p)
		return -ENOMEM;
	return hostfs_write_attr(p, bdf);
}

static int unbind_current(struct ctx *c, const char *bdf)
{
	_cleanup_free_ char *p = pcidev_attr_path(c, bdf, "driver/unbind");
	int r;

	if (!p)
		return -ENOMEM;
	r = hostfs_write_attr(p, bdf);
	/* unbound meanwhile: nothing to do */
	return r == -ENOENT || r == -ENODEV ? 0 : r;
}

int vfio_bind(struct ctx *c, const char *bdf, unsigned timeout_ms, char **ret_driver)
{
	_cleanup_free_ char *ov = pcidev_attr_path(c, bdf, "driver_override"), *driver = NULL;
	int r;

	if (!ov)
		return -ENOMEM;
	r = vfio_read_state(c, bdf, &driver, NULL);
	if (r < 0)
		return r;
	r = hostfs_write_attr(ov, VFIO_DRIVER);
	if (r < 0)
		return r;
	if (streq_ptr(driver, VFIO_DRIVER))
		return 0;
	if (driver) {
		r = unbind_current(c, bdf);
		if (r < 0)
			return r;
	}
	r = probe(c, bdf);
	if (r < 0)
		return r;
	r = vfio_wait_driver(c, bdf, VFIO_DRIVER, timeout_ms);
	if (r == -ETIMEDOUT && ret_driver) {
		driver = mfree(driver);
		if (vfio_read_state(c, bdf, &driver, NULL) >= 0)
			*ret_driver = TAKE_PTR(driver);
	}
	return r;
}

struct group_wait {
	const char *path;
	int group;
};

static void group_note(void *userdata, struct vfio_wait_note *n)
{
	struct group_wait *w = userdata;

	n->group = w->group;
	n->path = w->path;
}

static int group_exists(void *userdata)
{
	struct group_wait *w = userdata;

	return hostfs_exists(w->path);
}

int vfio_wait_group(struct ctx *c, int group, unsigned timeout_ms)
{
	_cleanup_free_ char *p = NULL;
	struct group_wait w;

	if (asprintf(&p, "%s/vfio/%d", c->dev, group) < 0)
		return -ENOMEM;
	w.path = p;
	w.group = group;
	return wait_until(group_exists, &w, timeout_ms, group_note);
}

int vfio_restore(struct ctx *c, const char *bdf, const char *old_driver, const char *old_override,
		 unsigned timeout_ms, char **ret_final)
{
	_cleanup_free_ char *ov = pcidev_attr_path(c, bdf, "driver_override"), *driver = NULL;
	const char *want = old_driver && *old_driver ? old_driver : NULL;
	int r, first = 0;

	if (!ov)
		return -ENOMEM;
	r = vfio_read_state(c, bdf, &driver, NULL);
	if (r < 0)
		return r;
	/* a lone newline clears driver_override */
	r = hostfs_write_attr(ov, old_override && *old_override ? old_override : "\n");
	if (r < 0)
		first = r;
	if (driver && !streq_ptr(driver, want)) {
		r = unbind_current(c, bdf);
		if (r < 0 && first == 0)
			first = r;
	}
	if (want && !streq_ptr(driver, want)) {
		r = probe(c, bdf);
		if (r < 0 && first == 0)
			first = r;
	}
	r = vfio_wait_driver(c, bdf, want, timeout_ms);
	if (r < 0 && first == 0)
		first = r;
	if (ret_final) {
		driver = mfree(driver);
		if (vfio_read_state(c, bdf, &driver, NULL) >= 0)
			*ret_final = TAKE_PTR(driver);
	}
	return first;
}

struct any_driver_wait {
	struct ctx *c;
	const char *bdf;
	char *seen;
};

static int has_host_driver(void *userdata)
{
	struct any_driver_wait *w = userdata;
	int r;

	w->seen = mfree(w->seen);
	r = vfio_read_state(w->c, w->bdf, &w->seen, NULL);
	if (r < 0)
		return r;
	return w->seen && !streq(w->seen, VFIO_DRIVER);
}

static void host_driver_note(void *userdata, struct vfio_wait_note *n)
{
	struct any_driver_wait *w = userdata;

	n->bdf = w->bdf;
	n->driver = w->seen;
}

int vfio_release(struct ctx *c, const char *bdf, unsigned timeout_ms, char **ret_final)
{
	_cleanup_free_ char *ov = pcidev_attr_path(c, bdf, "driver_override"), *driver = NULL;
	struct any_driver_wait w = { c, bdf, NULL };
	int r;

	if (!ov)
		return -ENOMEM;
	r = vfio_read_state(c, bdf, &driver, NULL);
	if (r < 0)
		return r;
	r = hostfs_write_attr(ov, "\n");
	if (r < 0)
		return r;
	if (streq_ptr(driver, VFIO_DRIVER)) {
		r = unbind_current(c, bdf);
		if (r < 0)
			return r;
	}
	if (!driver || streq(driver, VFIO_DRIVER)) {
		r = probe(c, bdf);
		if (r < 0)
			return r;
	}
	r = wait_until(has_host_driver, &w, timeout_ms, host_driver_note);
	w.seen = mfree(w.seen);
	if (ret_final) {
		driver = mfree(driver);
		if (vfio_read_state(c, bdf, &driver, NULL) >= 0)
			*ret_final = TAKE_PTR(driver);
	}
	return r;
}
