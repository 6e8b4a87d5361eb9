/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/hostinfo.h"
#include "host/inspect.h"
#include "host/iommu.h"
#include "testutil.h"
#include "util/error.h"
#include "util/strv.h"

static void test_addr_parse(void **state)
{
	char a[PCI_ADDR_MAX];

	(void)state;
	assert_int_equal(pci_addr_parse("0000:C4:00.0", a), 0);
	assert_string_equal(a, "0000:c4:00.0");
	assert_int_equal(pci_addr_parse("c4:00.1", a), 0);
	assert_string_equal(a, "0000:c4:00.1");
	assert_int_equal(pci_addr_parse("10000:c4:00.0", a), -EINVAL);
	assert_int_equal(pci_addr_parse("c4:20.0", a), -EINVAL); /* device > 0x1f */
	assert_int_equal(pci_addr_parse("c4:00.8", a), -EINVAL);
	assert_int_equal(pci_addr_parse("c4:00.0x", a), -EINVAL);
	assert_int_equal(pci_addr_parse("c4:00", a), -EINVAL);
	assert_int_equal(pci_addr_parse("", a), -EINVAL);
	assert_int_equal(pci_addr_parse("-c4:00.0", a), -EINVAL);
	assert_int_equal(pci_addr_parse(NULL, a), -EINVAL);
}

static void test_id_parse(void **state)
{
	uint16_t v, d;

	(void)state;
	assert_int_equal(pci_id_parse("1002:1586", &v, &d), 0);
	assert_int_equal(v, 0x1002);
	assert_int_equal(d, 0x1586);
	assert_int_equal(pci_id_parse("1002:158", &v, &d), -EINVAL);
	assert_int_equal(pci_id_parse("1002-1586", &v, &d), -EINVAL);
	assert_int_equal(pci_id_parse("100g:1586", &v, &d), -EINVAL);
	assert_int_equal(pci_id_parse("1002:15860", &v, &d), -EINVAL);
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

static void test_cpulist(void **state)
{
	static const struct {
		const char *s;
		int r;
		const char *again; /* formatted back, sorted */
	} cases[] = {
		{ "0", 0, "0" },
		{ "0-3", 0, "0-3" },
		{ "0-1,8-11,4", 0, "0-1,4,8-11" },
		{ "2,3,4", 0, "2-4" },
		{ "", -EINVAL, NULL },
		{ "1,", -EINVAL, NULL },
		{ "1,,2", -EINVAL, NULL },
		{ "a", -EINVAL, NULL },
		{ "1-", -EINVAL, NULL },
		{ "-1", -EINVAL, NULL },
		{ " 1", -EINVAL, NULL },
		{ "3-1", -ERANGE, NULL },
		{ "8192", -ERANGE, NULL },
		{ "99999999999999999999999", -ERANGE, NULL },
		{ "0-99", -E2BIG, NULL }, /* max_n 64 */
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ unsigned *cpus = NULL;
		_cleanup_free_ char *f = NULL;
		size_t n = 0;
		int r = cpulist_parse(cases[i].s, 64, &cpus, &n);

		if (r != cases[i].r) {
			print_error("'%s': %d, wanted %d\n", cases[i].s, r, cases[i].r);
			fail();
		}
		if (r < 0)
			continue;
		qsort(cpus, n, sizeof(*cpus), cmp_unsigned);
		f = cpulist_format(cpus, n);
		assert_non_null(f);
		assert_string_equal(f, cases[i].again);
	}
}

static void test_apu_slot(void **state)
{
	struct host *h = testutil_host_strix();
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *j = NULL;

	(void)state;
	assert_true(host_slot_is_apu(h, host_find_func(h, "0000:c4:00.0")));
	assert_int_equal(host_gpu_slot_functions(h, host_find_func(h, "0000:c4:00.0"), &l), 0);
	j = strv_join(l, " ");
	/* never the PSP (.2), USB (.4), ACP (.5) or the platform's own HD audio (.6) */
	assert_string_equal(j, "0000:c4:00.0 0000:c4:00.1");
	host_free(h);
}

static void test_discrete_slot(void **state)
{
	struct host *h = testutil_host_new();
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *j = NULL;

	(void)state;
	testutil_host_add(h, "0000:01:00.0", 0x10de, 0x2684, 0x030000, "nvidia", 12);
	testutil_host_add(h, "0000:01:00.1", 0x10de, 0x22ba, 0x040300, "snd_hda_intel", 12);
	testutil_host_add(h, "0000:01:00.2", 0x10de, 0x1ada, 0x0c0330, "xhci_hcd", 12);
	testutil_host_add(h, "0000:01:00.3", 0x10de, 0x1adb, 0x0c8000, "nvidia-gpu", 12);
	assert_false(host_slot_is_apu(h, &h->funcs[0]));
	assert_int_equal(host_gpu_slot_functions(h, &h->funcs[0], &l), 0);
	j = strv_join(l, " ");
	assert_string_equal(j, "0000:01:00.0 0000:01:00.1 0000:01:00.2 0000:01:00.3");
	assert_int_equal(iommu_group_blockers(h, 12, l, NULL), 0);
	host_free(h);
}

static void test_group_blockers(void **state)
{
	struct host *h = testutil_host_new();
	char *passed[] = { (char *)"0000:0b:00.0", (char *)"0000:0b:00.1", NULL };
	size_t *idx = NULL;

	(void)state;
	testutil_host_add(h, "0000:00:01.1", 0x1022, 0x1483, 0x060400, "pcieport", 9);
	testutil_host_add(h, "0000:0b:00.0", 0x1002, 0x73df, 0x030000, "amdgpu", 9);
	testutil_host_add(h, "0000:0b:00.1", 0x1002, 0xab28, 0x040300, "snd_hda_intel", 9);
	testutil_host_add(h, "0000:0c:00.0", 0x8086, 0x15f3, 0x020000, "igc", 9);
	assert_int_equal(iommu_group_blockers(h, 9, passed, &idx), 1);
	assert_string_equal(h->funcs[idx[0]].address, "0000:0c:00.0");
	free(idx);
	assert_int_equal(iommu_group_blockers(h, 77, passed, NULL), -ENOENT);
	host_free(h);
}

static void test_match_device(void **state)
{
	struct host *h = testutil_host_strix();
	const struct pci_func **m = NULL;

	(void)state;
	assert_int_equal(host_match_device(h, "1002:1586", &m), 1);
	assert_string_equal(m[0]->address, "0000:c4:00.0");
	free(m);
	assert_int_equal(host_match_device(h, "c4:00.1", &m), 1);
	free(m);
	assert_int_equal(host_match_device(h, "10de:2684", &m), 0);
	free(m);
	assert_int_equal(host_match_device(h, "nonsense", &m), -EINVAL);
	host_free(h);
}

static void test_addr_parse_short_forms(void **state)
{
	char a[PCI_ADDR_MAX];

	(void)state;
	assert_int_equal(pci_addr_parse("3:0.0", a), 0);
	assert_string_equal(a, "0000:03:00.0");
	assert_int_equal(pci_addr_parse("03:00.1", a), 0);
	assert_string_equal(a, "0000:03:00.1");
	assert_int_equal(pci_addr_parse("1:3:1f.7", a), 0);
	assert_string_equal(a, "0001:03:1f.7");
	assert_int_equal(pci_addr_parse("03:00.", a), -EINVAL);
	assert_int_equal(pci_addr_parse("03.00:0", a), -EINVAL);
	assert_int_equal(pci_addr_parse("0:0:03:00.0", a), -EINVAL);
	assert_int_equal(pci_addr_parse("03::00.0", a), -EINVAL);
	assert_int_equal(pci_addr_parse("03:00.0.0", a), -EINVAL);
}

static void expect_addr_error(const char *s, const char *message)
{
	_cleanup_(error_clear) struct error err = {};
	char a[PCI_ADDR_MAX];

	assert_int_equal(pci_addr_parse_err(s, a, &err), -EINVAL);
	assert_int_equal(err.errnum, EINVAL);
	assert_string_equal(err.message, message);
}

static void test_addr_parse_explained(void **state)
{
	(void)state;
	expect_addr_error("03:00.8", "'03:00.8': function must be 0-7");
	expect_addr_error("03:20.0", "'03:20.0': device must be 00-1f");
	expect_addr_error("100:00.0", "'100:00.0': bus must be 00-ff");
	expect_addr_error("10000:03:00.0", "'10000:03:00.0': domain must be 0000-ffff");
	expect_addr_error(
	    "0000:zz:00.0",
	    "'0000:zz:00.0' is not a PCI address (like 0000:c4:00.0, c4:00.0 or 3:0.0)");
}

static void test_device_spec_parse(void **state)
{
	_cleanup_(error_clear) struct error err = {};
	struct pci_device_spec ds;

	(void)state;
	assert_int_equal(pci_device_spec_parse("1002:1586", &ds, &err), 0);
	assert_true(ds.is_id);
	assert_int_equal(ds.vendor, 0x1002);
	assert_int_equal(ds.device, 0x1586);
	assert_int_equal(pci_device_spec_parse("c4:0.1", &ds, &err), 0);
	assert_false(ds.is_id);
	assert_string_equal(ds.address, "0000:c4:00.1");
	assert_int_equal(pci_device_spec_parse("0000:c4:00.1", &ds, &err), 0);
	assert_string_equal(ds.address, "0000:c4:00.1");
	/* an address-shaped string is explained as an address */
	assert_int_equal(pci_device_spec_parse("c4:00.9", &ds, &err), -EINVAL);
	assert_string_equal(err.message, "'c4:00.9': function must be 0-7");
	assert_int_equal(pci_device_spec_parse("amd", &ds, &err), -EINVAL);
	assert_string_equal(err.message, "'amd' is neither a vendor:device id (1002:1586) nor a "
					 "PCI address (0000:c4:00.0)");
	assert_int_equal(pci_device_spec_parse("c4:00", &ds, &err), -EINVAL);
	assert_int_equal(pci_device_spec_parse("", &ds, &err), -EINVAL);
	assert_int_equal(pci_device_spec_parse(NULL, &ds, NULL), -EINVAL);
}

static void test_resolve_device(void **state)
{
	_cleanup_(error_clear) struct error err = {};
	struct host *h = testutil_host_strix();
	const struct pci_func **m = NULL;
	const struct pci_func *f = NULL;

	(void)state;
	assert_int_equal(host_resolve_device(h, "c4:0.1", &f, &err), 0);
	assert_string_equal(f->address, "0000:c4:00.1");
	assert_int_equal(host_resolve_device(h, "1002:1586", &f, &err), 0);
	assert_string_equal(f->address, "0000:c4:00.0");
	assert_int_equal(host_resolve_devices(h, "1002:1640", &m, &err), 1);
	free(m);
	m = NULL;

	assert_int_equal(host_resolve_device(h, "c5:00.0", &f, &err), -ENODEV);
	assert_string_equal(err.message,
			    "no device 0000:c5:00.0 on this host (did you mean 0000:c4:00.0?)");
	assert_int_equal(host_resolve_device(h, "1002:1587", &f, &err), -ENODEV);
	assert_string_equal(
	    err.message,
	    "no device with id 1002:1587 on this host (did you mean 1002:1586 (0000:c4:00.0)?)");
	assert_int_equal(host_resolve_device(h, "77:1f.0", &f, &err), -ENODEV);
	assert_string_equal(err.message, "no device 0000:77:1f.0 on this host");
	assert_int_equal(host_resolve_device(h, "c4:00.8", &f, &err), -EINVAL);
	assert_string_equal(err.message, "'c4:00.8': function must be 0-7");

	/* two functions with one id: the id alone is ambiguous */
	testutil_host_add(h, "0000:c5:00.0", 0x1002, 0x1586, 0x030000, "amdgpu", 30);
	assert_int_equal(host_resolve_devices(h, "1002:1586", &m, &err), 2);
	free(m);
	assert_int_equal(host_resolve_device(h, "1002:1586", &f, &err), -ENOTUNIQ);
	assert_string_equal(err.message, "1002:1586 matches 2 functions: 0000:c4:00.0, "
					 "0000:c5:00.0; name one by address");
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_id_parse),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_apu_slot),
		cmocka_unit_test(test_discrete_slot),
		cmocka_unit_test(test_group_blockers),
		cmocka_unit_test(test_match_device),
		cmocka_unit_test(test_addr_parse_short_forms),
		cmocka_unit_test(test_addr_parse_explained),
		cmocka_unit_test(test_device_spec_parse),
		cmocka_unit_test(test_resolve_device),
	};
	return testutil_run(tests);
}
