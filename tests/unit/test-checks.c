/* SPDX-License-Identifier: GPL-2.0-or-later */
/* core/checks.c on hand-built host snapshots: reset advice by device (vendor-reset only for the
 * ids of its own table; no "AMD reset bug" for NVIDIA or Intel; Navi 2x/3x and APUs get their
 * real options), a dead function, the groups of the functions that go with a GPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/checks.h"
#include "testutil.h"
#include "util/strv.h"

/* The diagnostic of @id in @d (the only one: a test asks about one device). */
static const struct diag *find(const struct diag_list *d, const char *id)
{
	const struct diag *found = NULL;

	for (size_t i = 0; i < d->n; i++)
		if (streq(d->items[i].id, id)) {
			assert_null(found);
			found = &d->items[i];
		}
	assert_non_null(found);
	return found;
}

static bool has(const char *s, const char *needle)
{
	return s && strstr(s, needle);
}

/* A discrete card at 0000:01:00.0 (+ HDMI audio .1), both in group 1, one reset method. */
static struct host *card(uint16_t vendor, uint16_t device, uint16_t audio, const char *reset)
{
	struct host *h = testutil_host_new();
	struct pci_func *f;

	testutil_host_add(h, "0000:00:01.1", 0x1022, 0x14ab, 0x060400, "pcieport", 0);
	f = testutil_host_add(h, "0000:01:00.0", vendor, device, 0x030000, "gpu", 1);
	f->boot_vga = 0;
	if (reset)
		assert_int_equal(strv_extend(&f->reset_methods, reset), 0);
	testutil_host_add(h, "0000:01:00.1", vendor, audio, 0x040300, "snd_hda_intel", 1);
	return h;
}

/* The gpu-reset finding of the card's display function, in @d. */
static const struct diag *reset_of(struct host *h, struct diag_list *d)
{
	const struct pci_func *gpu = host_find_func(h, "0000:01:00.0");

	assert_non_null(gpu);
	assert_int_equal(checks_gpu(h, gpu, NULL, false, d), 0);
	return find(d, "gpu-reset");
}

static void test_vendor_reset_table(void **state)
{
	static const struct {
		uint16_t vendor, device;
		const char *family;
	} cases[] = {
		{ 0x1002, 0x67df, "Polaris 10" }, /* RX 470/480/570/580 */
		{ 0x1002, 0x67ef, "Polaris 11" },
		{ 0x1002, 0x699f, "Polaris 12" },
		{ 0x1002, 0x687f, "Vega 10" },
		{ 0x1002, 0x66af, "Vega 20" },
		{ 0x1002, 0x731f, "Navi 10" },
		{ 0x1002, 0x7340, "Navi 14" },
		{ 0x1002, 0x7360, "Navi 12" },
		{ 0x1002, 0x738c, "Arcturus" },
		/* not in vendor-reset's table: Navi 2x/3x, APUs, other vendors */
		{ 0x1002, 0x73bf, NULL }, /* Navi 21 */
		{ 0x1002, 0x73df, NULL }, /* Navi 22 */
		{ 0x1002, 0x73ff, NULL }, /* Navi 23 */
		{ 0x1002, 0x744c, NULL }, /* Navi 31 */
		{ 0x1002, 0x7480, NULL }, /* Navi 33 */
		{ 0x1002, 0x1586, NULL }, /* Strix Halo */
		{ 0x1002, 0x164e, NULL }, /* Raphael */
		{ 0x1002, 0x15bf, NULL }, /* Phoenix */
		{ 0x1002, 0x1681, NULL }, /* Rembrandt (680M): never in device-db.h */
		{ 0x10de, 0x67df, NULL }, /* the id, another vendor */
		{ 0x8086, 0x731f, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const char *f = checks_vendor_reset_family(cases[i].vendor, cases[i].device);

		if (!streq_ptr(f, cases[i].family)) {
			print_error("%04x:%04x: '%s', wanted '%s'\n", cases[i].vendor,
				    cases[i].device, strna(f), strna(cases[i].family));
			fail();
		}
	}
}

static void assert_no_amd_advice(const struct diag *x)
{
	assert_false(has(x->message, "AMD"));
	assert_false(has(x->message, "reset bug"));
	assert_false(has(x->fix, "vendor-reset"));
	assert_false(has(x->fix, "amdgpu"));
}

static void test_reset_nvidia(void **state)
{
	_cleanup_(host_freep) struct host *h = card(0x10de, 0x2684, 0x22ba, "bus");
	_cleanup_(diag_list_clear) struct diag_list d = {};
	const struct diag *x = reset_of(h, &d);

	(void)state;
	assert_int_equal(x->status, DIAG_WARN);
	assert_string_equal(x->message, "0000:01:00.0 has no FLR (reset: bus)");
	assert_true(has(x->fix, "FLReset+"));
	assert_no_amd_advice(x);
}

static void test_reset_intel(void **state)
{
	_cleanup_(host_freep) struct host *h = card(0x8086, 0x56a0, 0x4f90, "bus");
	_cleanup_(diag_list_clear) struct diag_list d = {};
	const struct diag *x = reset_of(h, &d);

	(void)state;
	assert_int_equal(x->status, DIAG_WARN);
	assert_string_equal(x->message, "0000:01:00.0 has no FLR (reset: bus)");
	assert_no_amd_advice(x);
}

static void test_reset_intel_igpu_flr(void **state)
{
	_cleanup_(host_freep) struct host *h = card(0x8086, 0xa780, 0x7ad0, "flr");
	_cleanup_(diag_list_clear) struct diag_list d = {};
	const struct diag *x = reset_of(h, &d);

	(void)state;
	assert_int_equal(x->status, DIAG_PASS);
	assert_no_amd_advice(x);
}

static void test_reset_polaris(void **state)
{
	_cleanup_(host_freep) struct host *h = card(0x1002, 0x67df, 0xaaf0, "bus");
	_cleanup_(diag_list_clear) struct diag_list d = {};
	const struct diag *x = reset_of(h, &d);

	(void)state;
	assert_int_equal(x->status, DIAG_WARN);
	assert_true(has(x->message, "the AMD reset bug of the Polaris 10 family"));
	assert_true(has(x->fix, "Install the vendor-reset module"));
	assert_true(has(x->fix, "device_specific"));
}

static void test_reset_polaris_vendor_reset_loaded(void **state)
{
	_cleanup_(host_freep) struct host *h = card(0x1002, 0x67df, 0xaaf0, "device_specific");
	_cleanup_(diag_list_clear) struct diag_list d = {};
	const struct diag *x = reset_of(h, &d);

	(void)state;
	assert_int_equal(x->status, DIAG_PASS);
	assert_true(has(x->message, "device-specific reset"));
}

static void assert_navi(uint16_t device, uint16_t audio)
{
	_cleanup_(host_freep) struct host *h = card(0x1002, device, audio, "bus");
	_cleanup_(diag_list_clear) struct diag_list d = {};
	const struct diag *x = reset_of(h, &d);

	assert_int_equal(x->status, DIAG_WARN);
	assert_true(has(x->message, "it depends on the bus reset"));
	assert_false(has(x->message, "APU"));
	assert_true(has(x->fix, "vendor-reset does not support this GPU"));
	assert_false(has(x->fix, "Install the vendor-reset"));
}

static void test_reset_navi2x(void **state)
{
	(void)state;
	assert_navi(0x73bf, 0xab28); /* Navi 21 */
	assert_navi(0x73ff, 0xab28); /* Navi 23 */
}

static void test_reset_navi3x(void **state)
{
	(void)state;
	assert_navi(0x744c, 0xab30); /* Navi 31 */
}

static void test_reset_apu(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_strix();
	_cleanup_(diag_list_clear) struct diag_list d = {};
	struct pci_func *gpu = (struct pci_func *)host_find_func(h, "0000:c4:00.0");
	const struct diag *x;

	(void)state;
	assert_int_equal(strv_extend(&gpu->reset_methods, "bus"), 0);
	assert_int_equal(checks_gpu(h, gpu, NULL, true, &d), 0);
	x = find(&d, "gpu-reset");
	assert_int_equal(x->status, DIAG_WARN);
	assert_true(has(x->message, "an APU's GPU is only reset with the whole chip"));
	assert_true(has(x->fix, "vendor-reset does not support APUs"));
	assert_false(has(x->fix, "Install the vendor-reset"));
}

/* A dead function: FAIL gpu-responding, and the slot is not taken for an APU. */
static void test_dead_function(void **state)
{
	_cleanup_(host_freep) struct host *h = card(0x1002, 0x73bf, 0xab28, "bus");
	_cleanup_(diag_list_clear) struct diag_list d = {};
	struct pci_func *gpu = (struct pci_func *)host_find_func(h, "0000:01:00.0");
	const struct diag *x;

	(void)state;
	gpu->config_dead = true;
	assert_int_equal(checks_gpu(h, gpu, NULL, false, &d), 0);
	x = find(&d, "gpu-responding");
	assert_int_equal(x->status, DIAG_FAIL);
	assert_string_equal(x->message,
			    "0000:01:00.0 [1002:73bf] is not responding (config space reads 0xff); "
			    "the device needs a reset or a host reboot");
	assert_false(host_slot_is_apu(h, gpu));
	for (size_t i = 0; i < d.n; i++)
		assert_false(has(d.items[i].message, "APU"));
}

/* The HDMI audio of an APU in the USB controller's group: checks_gpu without a list of
 * functions (plain check, check --device) examines the audio's group too. */
static void test_apu_audio_with_usb(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_strix();
	_cleanup_(diag_list_clear) struct diag_list d = {};
	struct pci_func *audio = (struct pci_func *)host_find_func(h, "0000:c4:00.1");
	const struct pci_func *gpu;
	bool fail = false;

	(void)state;
	/* move the audio from group 14 to the USB controller's 16 */
	for (size_t i = 0; i < h->n_groups; i++) {
		struct iommu_group *g = &h->groups[i];

		for (size_t k = 0; k < g->n_members; k++)
			if (&h->funcs[g->members[k]] == audio)
				g->members[k] = g->members[--g->n_members];
		if (g->id == 16) {
			g->members = realloc(g->members, sizeof(size_t) * (g->n_members + 1));
			assert_non_null(g->members);
			g->members[g->n_members++] = (size_t)(audio - h->funcs);
		}
	}
	audio->iommu_group = 16;
	gpu = host_find_func(h, "0000:c4:00.0");
	assert_int_equal(checks_gpu(h, gpu, NULL, true, &d), 0);
	for (size_t i = 0; i < d.n; i++) {
		const struct diag *x = &d.items[i];

		if (!streq(x->id, "group-viable") || x->status != DIAG_FAIL)
			continue;
		assert_false(fail);
		fail = true;
		assert_true(has(x->message, "IOMMU group 16 is not viable: it also holds "
					    "0000:c4:00.4 [1022:1587] (xhci_hcd)"));
		assert_true(has(x->fix, "Leave the HDMI audio 0000:c4:00.1 to the host"));
	}
	assert_true(fail);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vendor_reset_table),
		cmocka_unit_test(test_reset_nvidia),
		cmocka_unit_test(test_reset_intel),
		cmocka_unit_test(test_reset_intel_igpu_flr),
		cmocka_unit_test(test_reset_polaris),
		cmocka_unit_test(test_reset_polaris_vendor_reset_loaded),
		cmocka_unit_test(test_reset_navi2x),
		cmocka_unit_test(test_reset_navi3x),
		cmocka_unit_test(test_reset_apu),
		cmocka_unit_test(test_dead_function),
		cmocka_unit_test(test_apu_audio_with_usb),
	};

	return testutil_run(tests);
}
