/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "host/inspect.h"
#include "host/iommu.h"
#include "testutil.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),     cmocka_unit_test(test_id_parse),
		cmocka_unit_test(test_apu_slot),       cmocka_unit_test(test_discrete_slot),
		cmocka_unit_test(test_group_blockers), cmocka_unit_test(test_match_device),
	};
	return testutil_run(tests);
}
