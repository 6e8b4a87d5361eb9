/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio.c on a tiny hand-made sysfs tree with nothing reacting to writes: what is written where,
 * in which order of effect, and that every wait is bounded; and what prepare.c reports when a
 * lock or a bind fails there. (The reacting "kernel" is tests/tools/fake-kernel, used by
 * tests/cli/run.t and bind.t.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/journal.h"
#include "host/pcidev.h"
#include "host/prepare.h"
#include "host/vfio.h"
#include "testutil.h"
#include "util/error.h"

#define BDF "0000:c4:00.0"

struct tree {
	char *dir;
	struct ctx *c;
};

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	t->dir = testutil_mkroot();
	testutil_mkdir(t->dir, "sys/devices/pci0000:00/" BDF);
	testutil_mkdir(t->dir, "sys/bus/pci/devices");
	testutil_mkdir(t->dir, "sys/bus/pci/drivers/amdgpu");
	testutil_mkdir(t->dir, "sys/bus/pci/drivers/vfio-pci");
	testutil_mkdir(t->dir, "sys/kernel/iommu_groups/14/devices");
	testutil_mkdir(t->dir, "dev");
	testutil_symlink(t->dir, "../../../devices/pci0000:00/" BDF, "sys/bus/pci/devices/" BDF);
	testutil_symlink(t->dir, "../../../bus/pci/drivers/amdgpu",
			 "sys/devices/pci0000:00/" BDF "/driver");
	testutil_symlink(t->dir, "../../../kernel/iommu_groups/14",
			 "sys/devices/pci0000:00/" BDF "/iommu_group");
	testutil_put(t->dir, "sys/devices/pci0000:00/" BDF "/driver_override", "(null)\n");
	testutil_put(t->dir, "sys/devices/pci0000:00/" BDF "/class", "0x030000\n");
	testutil_put(t->dir, "sys/bus/pci/drivers/amdgpu/unbind", "");
	testutil_put(t->dir, "sys/bus/pci/drivers/vfio-pci/unbind", "");
	testutil_put(t->dir, "sys/bus/pci/drivers_probe", "");
	assert_int_equal(ctx_new(t->dir, NULL, &t->c), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;

	testutil_rmroot(t->dir);
	ctx_free(t->c);
	free(t);
	return 0;
}

static long long ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_state(void **state)
{
	struct tree *t = *state;
	_cleanup_free_ char *drv = NULL, *ov = NULL, *ov2 = NULL, *drv2 = NULL;
	int g = -1;

	assert_int_equal(vfio_read_state(t->c, BDF, &drv, &ov), 0);
	assert_string_equal(drv, "amdgpu");
	assert_null(ov); /* "(null)" is no override */
	testutil_put(t->dir, "sys/devices/pci0000:00/" BDF "/driver_override", "vfio-pci\n");
	assert_int_equal(vfio_read_state(t->c, BDF, &drv2, &ov2), 0);
	assert_string_equal(ov2, "vfio-pci");
	assert_int_equal(vfio_read_state(t->c, "0000:99:00.0", NULL, NULL), -ENOENT);
	assert_int_equal(vfio_group_of(t->c, BDF, &g), 0);
	assert_int_equal(g, 14);
	assert_int_equal(vfio_is_display(t->c, BDF), 1);
}

static void test_attr_path(void **state)
{
	struct tree *t = *state;
	_cleanup_free_ char *dir = pcidev_attr_path(t->c, BDF, NULL),
			    *unb = pcidev_attr_path(t->c, BDF, "driver/unbind"), *want_dir = NULL,
			    *want_unb = NULL;

	assert_true(asprintf(&want_dir, "%s/sys/bus/pci/devices/" BDF, t->dir) > 0);
	assert_true(asprintf(&want_unb, "%s/driver/unbind", want_dir) > 0);
	assert_string_equal(dir, want_dir);
	assert_string_equal(unb, want_unb);
	/* the path vfio.c reads through: the device's own directory behind the bus symlink */
	assert_true(hostfs_is_dir(dir));
}

static void test_bind_writes_and_times_out(void **state)
{
	struct tree *t = *state;
	_cleanup_free_ char *seen = NULL, *ov = NULL, *unb = NULL, *probe = NULL;
	long long t0 = ms(), dt;

	/* nothing moves the link: every write happens, then the bounded wait gives up */
	assert_int_equal(vfio_bind(t->c, BDF, 200, &seen), -ETIMEDOUT);
	dt = ms() - t0;
	assert_true(dt >= 200 && dt < 2000);
	assert_string_equal(seen, "amdgpu");
	ov = testutil_read(t->dir, "sys/devices/pci0000:00/" BDF "/driver_override");
	assert_string_equal(ov, "vfio-pci");
	unb = testutil_read(t->dir, "sys/bus/pci/drivers/amdgpu/unbind");
	assert_string_equal(unb, BDF);
	probe = testutil_read(t->dir, "sys/bus/pci/drivers_probe");
	assert_string_equal(probe, BDF);
}

static void test_bind_already_vfio(void **state)
{
	struct tree *t = *state;
	_cleanup_free_ char *link = path_join(t->dir, "sys/devices/pci0000:00/" BDF "/driver"),
			    *unb = NULL, *probe = NULL;

	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("../../../bus/pci/drivers/vfio-pci", link), 0);
	assert_int_equal(vfio_bind(t->c, BDF, 200, NULL), 0);
	unb = testutil_read(t->dir, "sys/bus/pci/drivers/vfio-pci/unbind");
	assert_string_equal(unb, ""); /* not unbound from vfio-pci */
	probe = testutil_read(t->dir, "sys/bus/pci/drivers_probe");
	assert_string_equal(probe, "");
}

static void test_restore(void **state)
{
	struct tree *t = *state;
	_cleanup_free_ char *final = NULL, *final2 = NULL, *ov = NULL, *probe = NULL, *unb = NULL;

	/* already on the old driver: only driver_override is cleared (a lone newline) */
	testutil_put(t->dir, "sys/devices/pci0000:00/" BDF "/driver_override", "vfio-pci\n");
	assert_int_equal(vfio_restore(t->c, BDF, "amdgpu", "", 200, &final), 0);
	assert_string_equal(final, "amdgpu");
	ov = testutil_read(t->dir, "sys/devices/pci0000:00/" BDF "/driver_override");
	assert_string_equal(ov, "\n");
	probe = testutil_read(t->dir, "sys/bus/pci/drivers_probe");
	assert_string_equal(probe, "");
	/* another driver holds it and nobody reprobes: unbind + probe written, bounded failure */
	assert_int_equal(vfio_restore(t->c, BDF, "snd_hda_intel", NULL, 100, &final2), -ETIMEDOUT);
	assert_string_equal(final2, "amdgpu");
	unb = testutil_read(t->dir, "sys/bus/pci/drivers/amdgpu/unbind");
	assert_string_equal(unb, BDF);
	free(probe);
	probe = testutil_read(t->dir, "sys/bus/pci/drivers_probe");
	assert_string_equal(probe, BDF);
}

static void test_wait_group(void **state)
{
	struct tree *t = *state;

	assert_int_equal(vfio_wait_group(t->c, 14, 50), -ETIMEDOUT);
	testutil_mkdir(t->dir, "dev/vfio");
	testutil_put(t->dir, "dev/vfio/14", "");
	assert_int_equal(vfio_wait_group(t->c, 14, 50), 0);
	assert_int_equal(vfio_wait_driver(t->c, BDF, "amdgpu", 50), 0);
	assert_int_equal(vfio_wait_driver(t->c, BDF, NULL, 50), -ETIMEDOUT);
}

/* prepare_addresses() failing: the error names the function (err->device) and says why, once */
static void test_prepare_errors(void **state)
{
	struct tree *t = *state;
	_cleanup_(journal_freep) struct journal *a = NULL, *b = NULL;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *text = NULL, *ov = NULL;
	char *bdfs[] = { (char *)BDF, NULL };
	struct prepare_options o = { .timeout_ms = 50 };

	assert_int_equal(journal_create(t->c, "a", &a, NULL), 0);
	assert_int_equal(journal_create(t->c, "b", &b, NULL), 0);
	assert_int_equal(journal_lock_device(t->c, a, BDF, NULL), 0);

	/* VM a holds the lock: refused before any change, with the holder and the way out */
	assert_int_equal(prepare_addresses(t->c, bdfs, b, &o, &err), -EBUSY);
	assert_int_equal(b->n_entries, 0);
	assert_string_equal(err.device, BDF);
	assert_non_null(strstr(err.message, BDF " is in use by gpurun VM a (pid "));
	assert_non_null(strstr(err.message, "; override: stop that VM, or run `gpurun restore`"));
	text = error_format(&err);
	assert_string_equal(text, err.message);
	ov = testutil_read(t->dir, "sys/devices/pci0000:00/" BDF "/driver_override");
	assert_string_equal(ov, "(null)\n"); /* untouched */
	error_clear(&err);

	/* lock released and a's journal gone: the bind goes ahead, nothing reacts, bounded wait */
	journal_unlock_all(a);
	assert_int_equal(journal_remove(t->c, "a"), 0);
	assert_int_equal(prepare_addresses(t->c, bdfs, b, &o, &err), -ETIMEDOUT);
	assert_true(b->n_entries > 0);
	assert_int_equal(b->entries[b->n_entries - 1].kind, JOURNAL_BIND);
	assert_int_equal(err.errnum, ETIMEDOUT);
	assert_string_equal(err.device, BDF);
	assert_string_equal(err.message,
			    BDF " did not bind to vfio-pci within 50 ms (driver: amdgpu)");
	free(text);
	text = error_format(&err);
	assert_string_equal(text, err.message);
	/* no journal and no dry run: refused, and said so */
	error_clear(&err);
	assert_int_equal(prepare_addresses(t->c, bdfs, NULL, &o, &err), -EINVAL);
	assert_true(error_is_set(&err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attr_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_writes_and_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_already_vfio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
