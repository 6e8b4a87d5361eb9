/* SPDX-License-Identifier: GPL-2.0-or-later */
/* emit proxmox --mapping: the mapping ids and maps from a plan and its host snapshot, the id and
 * node name rules, and the refusals (core/emit-proxmox.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/emit.h"
#include "core/plan.h"
#include "core/profile.h"
#include "testutil.h"
#include "util/error.h"
#include "util/strutil.h"

struct fixture {
	struct host *host;
	struct profile *profile;
	struct plan *plan;
};

static void setup(struct fixture *fx, struct host *h, const char *profile_text)
{
	struct plan_paths paths = testutil_plan_paths(true);
	_cleanup_(error_clear) struct error err = {};

	fx->host = h;
	if (profile_parse(profile_text, strlen(profile_text), "t.profile", &fx->profile, &err) <
	    0) {
		print_error("%s\n", err.message);
		fail();
	}
	assert_int_equal(plan_build(fx->profile, fx->host, &paths, &fx->plan), 0);
	assert_true(fx->plan->resolved);
	plan_paths_done(&paths);
}

static void teardown(struct fixture *fx)
{
	plan_free(fx->plan);
	profile_free(fx->profile);
	host_free(fx->host);
}

/* emit_proxmox with --mapping @name --node @node into a string; its return value in *ret_r */
static char *emit(const struct fixture *fx, const char *name, const char *node, int *ret_r)
{
	const struct emit_options o = {
		.proxmox_mapping = name,
		.proxmox_node = node,
		.host = fx->host,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*ret_r = emit_proxmox(fx->plan, &o, f);
	fclose(f);
	return buf;
}

static bool has_line(const char *buf, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* A discrete card: 03:00.0 GPU and 03:00.1 HDMI audio in IOMMU group 7, a USB controller. */
static struct host *host_dgpu(void)
{
	struct host *h = testutil_host_new();
	struct pci_func *f;

	testutil_host_add(h, "0000:00:01.0", 0x8086, 0x7a8c, 0x060400, "pcieport", 1);
	testutil_host_add(h, "0000:00:14.0", 0x8086, 0x7ae0, 0x0c0330, "xhci_hcd", 3);
	f = testutil_host_add(h, "0000:03:00.0", 0x1002, 0x73bf, 0x030000, "amdgpu", 7);
	f->subvendor = 0x1da2;
	f->subdevice = 0xe438;
	f = testutil_host_add(h, "0000:03:00.1", 0x1002, 0xab28, 0x040300, "snd_hda_intel", 7);
	f->subvendor = 0x1da2;
	f->subdevice = 0xab28;
	h->cpu_vendor = strdup("AuthenticAMD");
	h->cpu_virt = true;
	h->dev_kvm = true;
	h->intremap = 1;
	return h;
}

static void test_whole_slot(void **state)
{
	(void)state;
	struct fixture fx = {};
	_cleanup_free_ char *buf = NULL;
	int r;

	setup(&fx, host_dgpu(),
	      "[vm]\nname = d\nfirmware = bios\n[gpu]\ndevice = 0000:03:00.0\nfunctions = all\n"
	      "[device usb.1]\naddress = 0000:00:14.0\n");
	buf = emit(&fx, "rx", "pve1", &r);
	assert_int_equal(r, 0);
	assert_true(has_line(buf, "hostpci0: mapping=rx,pcie=1"));
	assert_true(has_line(buf, "hostpci1: mapping=rx-usb-1,pcie=1"));
	assert_null(strstr(buf, "hostpci2"));
	/* the slot without a function, with the ids of .0 */
	assert_true(has_line(buf, "#   pvesh create /cluster/mapping/pci --id rx --map "
				  "node=pve1,path=0000:03:00,id=1002:73bf,subsystem-id=1da2:e438,"
				  "iommugroup=7"));
	assert_true(has_line(buf, "#   pvesh create /cluster/mapping/pci --id rx-usb-1 --map "
				  "node=pve1,path=0000:00:14.0,id=8086:7ae0,subsystem-id=0000:0000,"
				  "iommugroup=3"));
	assert_true(has_line(buf, "#   rx"));
	assert_true(has_line(buf, "#   \tmap node=pve1,path=0000:03:00,id=1002:73bf,"
				  "subsystem-id=1da2:e438,iommugroup=7"));
	assert_true(has_line(buf, "#   pvesh set /cluster/mapping/pci/rx --map EXISTING_MAP... "
				  "--map node=pve1,path=0000:03:00,id=1002:73bf,"
				  "subsystem-id=1da2:e438,iommugroup=7"));
	assert_non_null(strstr(buf, "--mapping rx PROFILE"));
	teardown(&fx);
}

static void test_chosen_functions(void **state)
{
	(void)state;
	struct fixture fx = {};
	_cleanup_free_ char *buf = NULL;
	int r;

	/* an APU: the display and its HD-audio function, one mapping each (their ids differ) */
	setup(&fx, testutil_host_strix(),
	      "[vm]\nname = a\nfirmware = bios\n[gpu]\ndevice = 1002:1586\nallow-boot-vga = yes\n"
	      "x-vga = yes\n");
	buf = emit(&fx, "strix", "n1", &r);
	assert_int_equal(r, 0);
	assert_true(has_line(buf, "hostpci0: mapping=strix,pcie=1,x-vga=1"));
	assert_true(has_line(buf, "hostpci1: mapping=strix-audio,pcie=1"));
	assert_non_null(strstr(buf, "--id strix --map node=n1,path=0000:c4:00.0,id=1002:1586,"));
	assert_non_null(
	    strstr(buf, "--id strix-audio --map node=n1,path=0000:c4:00.1,id=1002:1640,"));
	assert_non_null(strstr(buf,
			       "# Proxmox checks every path of a mapping against the mapping's "
			       "one vendor:device id"));
	/* no IOMMU group: no iommugroup= (Proxmox expects none either) */
	fx.host->funcs[2].iommu_group = -1;
	free(buf);
	buf = emit(&fx, "strix", "n1", &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(buf, "path=0000:c4:00.1,id=1002:1640,subsystem-id=0000:0000\n"));
	teardown(&fx);
}

static void test_refusals(void **state)
{
	(void)state;
	struct fixture fx = {};
	struct emit_options o = { .proxmox_mapping = "rx", .proxmox_node = "n" };
	FILE *f = fopen("/dev/null", "we");
	char *buf;
	int r;

	assert_non_null(f);
	setup(&fx, host_dgpu(),
	      "[vm]\nname = d\nfirmware = bios\n[gpu]\ndevice = 0000:03:00.0\nfunctions = all\n");
	/* no host snapshot */
	assert_int_equal(emit_proxmox(fx.plan, &o, f), -ENODEV);
	assert_int_equal(emit_proxmox_mapping(fx.plan, NULL, "rx", "n", f), -ENODEV);
	/* names Proxmox refuses */
	o.host = fx.host;
	o.proxmox_mapping = "1x";
	assert_int_equal(emit_proxmox(fx.plan, &o, f), -EINVAL);
	o.proxmox_mapping = "rx";
	o.proxmox_node = "n.lan";
	assert_int_equal(emit_proxmox(fx.plan, &o, f), -EINVAL);
	assert_int_equal(emit_proxmox_mapping(fx.plan, fx.host, "rx", "-n", f), -EINVAL);
	assert_int_equal(emit_proxmox_mapping(fx.plan, fx.host, "r", "n", f), -EINVAL);
	/* args: names host addresses */
	o.proxmox_node = "n";
	o.proxmox_args = true;
	assert_int_equal(emit_proxmox(fx.plan, &o, f), -EINVAL);
	/* a planned function the snapshot does not have: nothing to map */
	snprintf(fx.host->funcs[2].address, sizeof(fx.host->funcs[2].address), "0000:09:00.0");
	buf = emit(&fx, "rx", "n", &r);
	assert_int_equal(r, -ENODEV);
	free(buf);
	fclose(f);
	teardown(&fx);
}

static void test_limit(void **state)
{
	(void)state;
	struct fixture fx = {};
	FILE *f = fopen("/dev/null", "we");
	struct plan_device *t;

	assert_non_null(f);
	setup(&fx, host_dgpu(),
	      "[vm]\nname = d\nfirmware = bios\n[gpu]\ndevice = 0000:03:00.0\nfunctions = all\n");
	/* the slot and 16 single functions, each its own mapping: more than hostpci0..15 */
	t = realloc(fx.plan->devices, 18 * sizeof(*t));
	assert_non_null(t);
	fx.plan->devices = t;
	for (size_t i = fx.plan->n_devices; i < 18; i++) {
		t[i] = (struct plan_device){ .role = PLAN_ROLE_EXTRA, .guest_port = (unsigned)i };
		snprintf(t[i].address, sizeof(t[i].address), "0000:00:14.0");
	}
	fx.plan->n_devices = 17;
	/* names that collide with the generated ones: every id still unique */
	t[3].name = strdup("f0");
	t[4].name = strdup("5");
	{
		_cleanup_free_ char *buf = NULL;
		char ids[17][32];
		size_t n = 0;
		int r;

		buf = emit(&fx, "rx", "n", &r);
		assert_int_equal(r, 0);
		for (const char *l = strstr(buf, "hostpci0: "); l && strncmp(l, "hostpci", 7) == 0;
		     l = strchr(l, '\n') + 1) {
			assert_true(n < 17);
			assert_int_equal(sscanf(l, "hostpci%*u: mapping=%31[^,]", ids[n]), 1);
			for (size_t i = 0; i < n; i++)
				assert_string_not_equal(ids[i], ids[n]);
			n++;
		}
		/* the slot, then 15 single functions */
		assert_int_equal(n, 16);
		assert_string_equal(ids[0], "rx");
		assert_string_equal(ids[1], "rx-f0");
		assert_string_equal(ids[2], "rx-2"); /* [device f0] */
		assert_string_equal(ids[3], "rx-5"); /* [device 5] */
		assert_string_equal(ids[4], "rx-4");
		assert_string_equal(ids[5], "rx-6"); /* rx-5 is taken */
	}
	assert_int_equal(emit_proxmox_mapping(fx.plan, fx.host, "rx", "n", f), 0);
	fx.plan->n_devices = 18;
	assert_int_equal(emit_proxmox_mapping(fx.plan, fx.host, "rx", "n", f), -E2BIG);
	fclose(f);
	teardown(&fx);
}

static void test_names(void **state)
{
	(void)state;
	static const char *const ids_ok[] = { "ab", "rx6800", "A_b-1", "z-" };
	static const char *const ids_bad[] = { "", "a", "1a", "-a", "a.b", "a b", "a,b", "ä1" };
	static const char *const nodes_ok[] = { "a", "1", "pve1", "node-2", "A1-b" };
	static const char *const nodes_bad[] = { "", "-a", "a-", "a.b", "a_b", "a b" };

	for (size_t i = 0; i < ELEMENTSOF(ids_ok); i++)
		assert_true(emit_proxmox_id_valid(ids_ok[i]));
	for (size_t i = 0; i < ELEMENTSOF(ids_bad); i++)
		assert_false(emit_proxmox_id_valid(ids_bad[i]));
	assert_false(emit_proxmox_id_valid(NULL));
	for (size_t i = 0; i < ELEMENTSOF(nodes_ok); i++)
		assert_true(emit_proxmox_node_valid(nodes_ok[i]));
	for (size_t i = 0; i < ELEMENTSOF(nodes_bad); i++)
		assert_false(emit_proxmox_node_valid(nodes_bad[i]));
	assert_false(emit_proxmox_node_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_slot), cmocka_unit_test(test_chosen_functions),
		cmocka_unit_test(test_refusals),   cmocka_unit_test(test_limit),
		cmocka_unit_test(test_names),
	};

	return testutil_run(tests);
}
