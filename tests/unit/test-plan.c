/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/stat.h>

#include "core/plan.h"
#include "core/profile.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/paths.h"
#include "host/romstage.h"
#include "testutil.h"
#include "util/error.h"
#include "util/strv.h"

static struct profile *prof(const char *text)
{
	_cleanup_(error_clear) struct error err = {};
	struct profile *p = NULL;

	if (profile_parse(text, strlen(text), "t.profile", &p, &err) < 0) {
		print_error("profile: %s\n", err.message);
		fail();
	}
	return p;
}

static void host_modules(struct host *h, bool loaded, bool available)
{
	for (int i = 0; i < _HOST_MOD_MAX; i++) {
		h->mod_loaded[i] = loaded;
		h->mod_available[i] = available;
	}
}

static struct plan *build(const struct profile *pr, const struct host *h, bool ovmf)
{
	struct plan_paths paths = testutil_plan_paths(ovmf);
	struct plan *p = NULL;

	assert_int_equal(plan_build(pr, h, &paths, &p), 0);
	plan_paths_done(&paths);
	assert_non_null(p);
	return p;
}

static const struct diag *find_diag(const struct plan *p, enum diag_status s, const char *id)
{
	for (size_t i = 0; i < p->diags.n; i++)
		if (p->diags.items[i].status == s && streq(p->diags.items[i].id, id))
			return &p->diags.items[i];
	return NULL;
}

static char *dump(const struct plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(plan_dump(p, f), 0);
	fclose(f);
	return buf;
}

static const char strix_profile[] = "[vm]\nname = win11\nfirmware = uefi-secboot\ntpm = yes\n"
				    "[gpu]\ndevice = 1002:1586\nvbios = vfct\n"
				    "gop = /usr/share/kvm/AMDGopDriver.rom\nallow-boot-vga = yes\n";

static void test_strix(void **state)
{
	(void)state;
	struct host *h = testutil_host_strix();
	struct profile *pr = prof(strix_profile);
	struct plan *p;
	char *text;

	h->has_vfct = true;
	host_modules(h, false, true);
	h->funcs[1].reset_methods = strv_free(h->funcs[1].reset_methods);
	h->funcs[1].reset_methods = calloc(2, sizeof(char *));
	h->funcs[1].reset_methods[0] = strdup("bus");
	p = build(pr, h, true);

	assert_true(p->resolved);
	assert_int_equal(p->n_devices, 2);
	assert_string_equal(p->devices[0].address, "0000:c4:00.0");
	assert_int_equal(p->devices[0].role, PLAN_ROLE_GPU);
	assert_true(p->devices[0].multifunction);
	assert_int_equal(p->devices[0].rom_source, PLAN_ROM_VFCT);
	assert_string_equal(p->devices[0].romfile, "/R/var/lib/gpurun/roms/vbios_1002_1586.bin");
	assert_string_equal(p->devices[0].rom_name, "vbios_1002_1586.bin");
	assert_string_equal(p->devices[0].host_driver, "amdgpu");
	assert_int_equal(p->devices[0].iommu_group, 14);
	assert_string_equal(p->devices[1].address, "0000:c4:00.1");
	assert_int_equal(p->devices[1].role, PLAN_ROLE_GPU_AUDIO);
	assert_true(p->devices[1].rom_is_gop);
	assert_int_equal(p->devices[1].guest_port, 0);
	assert_int_equal(p->devices[1].guest_function, 1);
	assert_string_equal(p->devices[1].romfile, "/R/var/lib/gpurun/roms/AMDGopDriver.rom");
	assert_false(p->gpu_whole_slot);

	/* modules, ROMs, binds: audio before the GPU */
	assert_int_equal(p->n_actions, 7);
	assert_int_equal(p->actions[0].kind, PLAN_ACTION_LOAD_MODULE);
	assert_string_equal(p->actions[0].target, "vfio");
	assert_string_equal(p->actions[2].target, "vfio_pci");
	assert_int_equal(p->actions[3].kind, PLAN_ACTION_STAGE_ROM);
	assert_string_equal(p->actions[3].source, "vfct:0000:c4:00.0");
	assert_string_equal(p->actions[4].source, "/usr/share/kvm/AMDGopDriver.rom");
	assert_int_equal(p->actions[5].kind, PLAN_ACTION_BIND_VFIO);
	assert_string_equal(p->actions[5].target, "0000:c4:00.1");
	assert_string_equal(p->actions[5].source, "snd_hda_intel");
	assert_string_equal(p->actions[6].target, "0000:c4:00.0");

	assert_string_equal(p->ovmf_code, "/R/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
	assert_string_equal(p->ovmf_vars_template, "/R/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
	assert_string_equal(p->ovmf_vars, "/R/var/lib/gpurun/vars/win11_VARS.fd");
	assert_true(p->secure_boot);
	assert_string_equal(p->tpm_socket, "/R/run/gpurun/win11.swtpm.sock");

	assert_non_null(find_diag(p, DIAG_INFO, "apu-slot"));
	assert_non_null(strstr(find_diag(p, DIAG_INFO, "apu-slot")->message, "0000:c4:00.2"));
	assert_non_null(find_diag(p, DIAG_WARN, "boot-vga"));
	assert_non_null(find_diag(p, DIAG_WARN, "gpu-reset"));
	assert_int_equal(diag_count(&p->diags, DIAG_FAIL), 0);

	text = dump(p);
	assert_non_null(strstr(text, "device 0000:c4:00.0 [1002:1586] class 030000 role gpu group "
				     "14 driver amdgpu guest 0.0 multifunction\n"
				     "  rom vfct -> /R/var/lib/gpurun/roms/vbios_1002_1586.bin "
				     "(proxmox vbios_1002_1586.bin)\n"));
	assert_non_null(strstr(text, "action 6: bind-vfio 0000:c4:00.1 (from snd_hda_intel)\n"));
	free(text);
	plan_free(p);
	profile_free(pr);
	host_free(h);
}

static void test_boot_vga_refused(void **state)
{
	(void)state;
	struct host *h = testutil_host_strix();
	struct profile *pr = prof("[vm]\nname=a\n[gpu]\ndevice=c4:00.0\n");
	struct plan *p;

	host_modules(h, true, true);
	h->funcs[1].console = true;
	h->vtconsoles = calloc(3, sizeof(char *));
	h->vtconsoles[0] = strdup("vtcon0: dummy device");
	h->vtconsoles[1] = strdup("vtcon1: frame buffer device (bound)");
	p = build(pr, h, true);
	assert_non_null(find_diag(p, DIAG_FAIL, "boot-vga"));
	for (size_t i = 0; i < p->n_actions; i++)
		assert_int_not_equal(p->actions[i].kind, PLAN_ACTION_UNBIND_CONSOLE);
	/* no module actions: all loaded */
	assert_int_equal(p->actions[0].kind, PLAN_ACTION_BIND_VFIO);
	plan_free(p);
	profile_free(pr);

	pr = prof("[vm]\nname=a\n[gpu]\ndevice=c4:00.0\nallow-boot-vga=yes\n");
	p = build(pr, h, true);
	assert_null(find_diag(p, DIAG_FAIL, "boot-vga"));
	assert_int_equal(p->actions[0].kind, PLAN_ACTION_UNBIND_CONSOLE);
	assert_string_equal(p->actions[0].target, "vtcon1");
	plan_free(p);
	profile_free(pr);
	host_free(h);
}

/* The boot VGA GPU whose console runs on the firmware framebuffer (efifb): the platform device
 * is unbound too, after the console, before the binds (issue 12, item 10). */
static void test_boot_vga_firmware_framebuffer(void **state)
{
	(void)state;
	struct host *h = testutil_host_strix();
	struct profile *pr = prof("[vm]\nname=a\n[gpu]\ndevice=c4:00.0\nallow-boot-vga=yes\n");
	struct plan *p;
	char *text;

	host_modules(h, true, true);
	h->funcs[1].console = true;
	h->funcs[1].fb_platform = strdup("efi-framebuffer.0");
	h->vtconsoles = calloc(2, sizeof(char *));
	h->vtconsoles[0] = strdup("vtcon1: frame buffer device (bound)");
	p = build(pr, h, true);
	assert_int_equal(p->actions[0].kind, PLAN_ACTION_UNBIND_CONSOLE);
	assert_string_equal(p->actions[0].target, "vtcon1");
	assert_int_equal(p->actions[1].kind, PLAN_ACTION_UNBIND_FRAMEBUFFER);
	assert_string_equal(p->actions[1].target, "efi-framebuffer.0");
	assert_int_equal(p->actions[2].kind, PLAN_ACTION_BIND_VFIO);
	text = dump(p);
	assert_non_null(strstr(text, "action 2: unbind-framebuffer efi-framebuffer.0\n"));
	free(text);
	plan_free(p);
	profile_free(pr);

	/* refused without allow-boot-vga: no action at all */
	pr = prof("[vm]\nname=a\n[gpu]\ndevice=c4:00.0\n");
	p = build(pr, h, true);
	for (size_t i = 0; i < p->n_actions; i++)
		assert_int_not_equal(p->actions[i].kind, PLAN_ACTION_UNBIND_FRAMEBUFFER);
	plan_free(p);
	profile_free(pr);
	host_free(h);
}

static struct host *dgpu_host(void)
{
	struct host *h = testutil_host_new();

	testutil_host_add(h, "0000:00:01.1", 0x1022, 0x14ab, 0x060400, "pcieport", 2);
	testutil_host_add(h, "0000:03:00.0", 0x1002, 0x744c, 0x030000, "amdgpu", 2);
	testutil_host_add(h, "0000:03:00.1", 0x1002, 0xab30, 0x040300, "snd_hda_intel", 2);
	testutil_host_add(h, "0000:03:00.2", 0x1002, 0x7446, 0x0c0330, "xhci_hcd", 2);
	testutil_host_add(h, "0000:03:00.3", 0x1002, 0x7444, 0x0c8000, "i2c-designware-pci", 2);
	testutil_host_add(h, "0000:05:00.0", 0x1b21, 0x2142, 0x0c0330, "xhci_hcd", 7);
	testutil_host_add(h, "0000:0a:00.0", 0x10de, 0x2684, 0x030000, "nvidia", 9);
	h->cpu_virt = true;
	h->dev_kvm = true;
	host_modules(h, true, true);
	for (size_t i = 0; i < h->n_funcs; i++)
		strv_extend(&h->funcs[i].reset_methods, "flr");
	return h;
}

static void test_discrete_whole_slot(void **state)
{
	(void)state;
	struct host *h = dgpu_host();
	struct profile *pr = prof("[vm]\nname=l\nfirmware=bios\n[gpu]\ndevice=1002:744c\n"
				  "[device usb]\naddress=05:00.0\n");
	struct plan *p = build(pr, h, false);

	assert_true(p->resolved);
	assert_true(p->gpu_whole_slot);
	assert_int_equal(p->n_devices, 5);
	assert_int_equal(p->devices[2].role, PLAN_ROLE_GPU_OTHER);
	assert_int_equal(p->devices[3].guest_function, 3);
	assert_int_equal(p->devices[4].role, PLAN_ROLE_EXTRA);
	assert_string_equal(p->devices[4].name, "usb");
	assert_int_equal(p->devices[4].guest_port, 1);
	assert_int_equal(p->devices[4].guest_function, 0);
	assert_false(p->devices[4].multifunction);
	assert_null(p->ovmf_code);
	assert_int_equal(diag_count(&p->diags, DIAG_FAIL), 0);
	assert_null(find_diag(p, DIAG_WARN, "gpu-reset"));
	/* bind order: audio, others, GPU, extras */
	assert_string_equal(p->actions[0].target, "0000:03:00.1");
	assert_string_equal(p->actions[1].target, "0000:03:00.2");
	assert_string_equal(p->actions[2].target, "0000:03:00.3");
	assert_string_equal(p->actions[3].target, "0000:03:00.0");
	assert_string_equal(p->actions[4].target, "0000:05:00.0");
	plan_free(p);
	profile_free(pr);
	host_free(h);
}

static void test_function_list(void **state)
{
	(void)state;
	struct host *h = dgpu_host();
	struct profile *pr = prof("[vm]\nname=l\n[gpu]\ndevice=03:00.0\n"
				  "functions = 03:00.1 03:00.2 0000:03:00.7\n");
	struct plan *p = build(pr, h, true);

	assert_int_equal(p->n_devices, 2);
	assert_string_equal(p->devices[0].address, "0000:03:00.1");
	assert_int_equal(p->devices[0].guest_function, 0); /* renumbered from 0 */
	assert_int_equal(p->devices[1].guest_function, 1);
	assert_false(p->gpu_whole_slot);
	assert_non_null(find_diag(p, DIAG_FAIL, "gpu-functions"));
	assert_non_null(find_diag(p, DIAG_WARN, "gpu-functions"));
	/* .0 and .3 stay on the host but share group 2 */
	assert_non_null(find_diag(p, DIAG_FAIL, "group-viable"));
	assert_non_null(strstr(find_diag(p, DIAG_FAIL, "group-viable")->message, "0000:03:00.3"));
	assert_null(strstr(find_diag(p, DIAG_FAIL, "group-viable")->message, "0000:00:01.1"));
	plan_free(p);
	profile_free(pr);
	host_free(h);
}

static void test_shared_group(void **state)
{
	(void)state;
	struct host *h = dgpu_host();
	struct profile *pr = prof("[vm]\nname=l\n[gpu]\ndevice=0a:00.0\n");
	struct plan *p;

	testutil_host_add(h, "0000:0b:00.0", 0x8086, 0x15f3, 0x020000, "igc", 9);
	p = build(pr, h, true);
	assert_non_null(find_diag(p, DIAG_FAIL, "group-viable"));
	assert_non_null(strstr(find_diag(p, DIAG_FAIL, "group-viable")->message,
			       "0000:0b:00.0 [8086:15f3] (igc)"));
	plan_free(p);
	profile_free(pr);
	host_free(h);
}

static void test_resolution(void **state)
{
	(void)state;
	struct host *h = dgpu_host();
	struct profile *pr;
	struct plan *p;

	testutil_host_add(h, "0000:0c:00.0", 0x10de, 0x2684, 0x030000, "nvidia", 10);
	pr = prof("[vm]\nname=l\n[gpu]\ndevice=10de:2684\n");
	p = build(pr, h, true);
	assert_false(p->resolved);
	assert_int_equal(p->n_devices, 0);
	assert_non_null(find_diag(p, DIAG_FAIL, "gpu-device"));
	assert_string_equal(find_diag(p, DIAG_FAIL, "gpu-device")->message,
			    "[gpu] device '10de:2684' matches 2 functions: 0000:0a:00.0 "
			    "[10de:2684] nvidia, 0000:0c:00.0 [10de:2684] nvidia");
	assert_string_equal(find_diag(p, DIAG_FAIL, "gpu-device")->fix,
			    "Name one by address in [gpu], e.g. device = 0000:0a:00.0");
	plan_free(p);
	profile_free(pr);

	pr = prof("[vm]\nname=l\n[gpu]\ndevice=1234:5678\n[device x]\naddress=0000:99:00.0\n");
	p = build(pr, h, true);
	assert_false(p->resolved);
	assert_string_equal(find_diag(p, DIAG_FAIL, "gpu-device")->message,
			    "No PCI function matches [gpu] device '1234:5678'");
	assert_string_equal(find_diag(p, DIAG_FAIL, "device")->message,
			    "[device x] 0000:99:00.0 does not exist on this host");
	plan_free(p);
	profile_free(pr);

	pr = prof("[vm]\nname=l\n[gpu]\ndevice=00:01.1\n");
	p = build(pr, h, true);
	assert_false(p->resolved);
	assert_string_equal(find_diag(p, DIAG_FAIL, "gpu-device")->message,
			    "[gpu] device '00:01.1' is 0000:00:01.1, a PCI bridge, not a GPU");
	plan_free(p);
	profile_free(pr);

	pr = prof("[vm]\nname=l\n[gpu]\ndevice=0a:00.0\n[device x]\naddress=0000:0a:00.0\n");
	p = build(pr, h, true);
	assert_string_equal(find_diag(p, DIAG_FAIL, "device")->message,
			    "[device x] 0000:0a:00.0 is already passed as a GPU function");
	plan_free(p);
	profile_free(pr);
	host_free(h);
}

static void test_host_problems(void **state)
{
	(void)state;
	struct host *h = testutil_host_new();
	struct profile *pr = prof("[vm]\nname=a\nfirmware=uefi-secboot\n[gpu]\ndevice=03:00.0\n"
				  "vbios=vfct\ngop=/x/gop.rom\n");
	struct plan *p;

	/* IOMMU off: no groups; no modules; no VFCT; no OVMF; no audio for the GOP; SVM on but
	 * no /dev/kvm */
	h->cpu_virt = true;
	testutil_host_add(h, "0000:03:00.0", 0x1002, 0x1586, 0x030000, "amdgpu", -1);
	p = build(pr, h, false);
	assert_true(p->resolved);
	assert_non_null(find_diag(p, DIAG_FAIL, "iommu-enabled"));
	assert_non_null(find_diag(p, DIAG_FAIL, "vfio-modules"));
	/* accel = kvm without /dev/kvm: QEMU cannot start, a FAIL (not a WARN) */
	assert_non_null(find_diag(p, DIAG_FAIL, "kvm"));
	assert_non_null(find_diag(p, DIAG_FAIL, "vbios"));
	assert_non_null(find_diag(p, DIAG_FAIL, "gop"));
	assert_non_null(find_diag(p, DIAG_FAIL, "firmware"));
	assert_null(find_diag(p, DIAG_FAIL, "iommu-group")); /* implied by iommu-enabled */
	assert_non_null(find_diag(p, DIAG_WARN, "gpu-reset"));
	assert_null(p->ovmf_code);
	plan_free(p);
	profile_free(pr);

	/* already bound to vfio-pci: nothing to bind */
	free(h->funcs[0].driver);
	h->funcs[0].driver = strdup("vfio-pci");
	pr = prof("[vm]\nname=a\nfirmware=bios\naccel=tcg\n[gpu]\ndevice=03:00.0\n"
		  "vbios=/roms/my.rom\n");
	p = build(pr, h, false);
	assert_null(find_diag(p, DIAG_WARN, "kvm"));
	assert_int_equal(p->devices[0].rom_source, PLAN_ROM_FILE);
	assert_string_equal(p->devices[0].romfile, "/R/var/lib/gpurun/roms/my.rom");
	for (size_t i = 0; i < p->n_actions; i++)
		assert_int_not_equal(p->actions[i].kind, PLAN_ACTION_BIND_VFIO);
	plan_free(p);
	profile_free(pr);
	host_free(h);
}

static void test_paths_from_names(void **state)
{
	(void)state;
	struct host *h = dgpu_host();
	struct profile *pr = prof("[vm]\nname=l\nnvram=/vm/l.fd\n[gpu]\ndevice=0a:00.0\n");
	struct plan_paths paths = testutil_plan_paths(false);
	struct plan *p = NULL;

	/* Arch names */
	strv_extend(&paths.ovmf_files, "edk2/x64/OVMF_CODE.4m.fd");
	strv_extend(&paths.ovmf_files, "edk2/x64/OVMF_VARS.4m.fd");
	assert_int_equal(plan_build(pr, h, &paths, &p), 0);
	assert_string_equal(p->ovmf_code, "/R/usr/share/edk2/x64/OVMF_CODE.4m.fd");
	assert_string_equal(p->ovmf_vars, "/vm/l.fd");
	plan_free(p);
	plan_paths_done(&paths);
	profile_free(pr);
	host_free(h);
}

static void test_paths_from_ctx(void **state)
{
	(void)state;
	char *root = testutil_mkroot(), *want;
	struct ctx *c = NULL;
	struct plan_paths paths = {};

	/* Fedora names, plus a Debian code file without its vars (an incomplete pair) */
	testutil_put(root, "usr/share/edk2/ovmf/OVMF_CODE.fd", "");
	testutil_put(root, "usr/share/edk2/ovmf/OVMF_VARS.fd", "");
	testutil_put(root, "usr/share/edk2/ovmf/OVMF_CODE.secboot.fd", "");
	testutil_put(root, "usr/share/edk2/ovmf/OVMF_VARS.secboot.fd", "");
	testutil_put(root, "usr/share/OVMF/OVMF_CODE_4M.fd", "");
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(plan_paths_from_ctx(c, &paths), 0);
	assert_int_equal(strv_length(paths.ovmf_files), 5);
	assert_true(strv_contains(paths.ovmf_files, "edk2/ovmf/OVMF_VARS.secboot.fd"));
	assert_true(strv_contains(paths.ovmf_files, "OVMF/OVMF_CODE_4M.fd"));
	want = path_join(c->root, "var/lib/gpurun/vars");
	assert_string_equal(paths.vars_dir, want);
	free(want);
	assert_string_equal(paths.rom_dir, c->rom_dir);
	{
		struct host *h = dgpu_host();
		struct profile *pr = prof("[vm]\nname=l\n[gpu]\ndevice=0a:00.0\n");
		struct plan *p = NULL;

		/* the incomplete Debian pair is skipped for Fedora's */
		assert_int_equal(plan_build(pr, h, &paths, &p), 0);
		want = path_join(c->usr_share, "edk2/ovmf/OVMF_CODE.fd");
		assert_string_equal(p->ovmf_code, want);
		free(want);
		plan_free(p);
		profile_free(pr);
		host_free(h);
	}
	plan_paths_done(&paths);
	ctx_free(c);
	testutil_rmroot(root);
}

/* The names plan dumps, JSON and journals use; every value reads back. */
static void test_string_tables(void **state)
{
	(void)state;
	assert_string_equal(plan_role_to_string(PLAN_ROLE_GPU_AUDIO), "gpu-audio");
	assert_string_equal(plan_rom_source_to_string(PLAN_ROM_VFCT), "vfct");
	assert_string_equal(plan_action_kind_to_string(PLAN_ACTION_BIND_VFIO), "bind-vfio");
	assert_null(plan_role_to_string(_PLAN_ROLE_MAX));
	assert_int_equal(plan_action_kind_from_string("stage-rom"), PLAN_ACTION_STAGE_ROM);
	assert_int_equal(plan_action_kind_from_string("stage_rom"), -EINVAL);
	for (int i = 0; i < _PLAN_ROLE_MAX; i++)
		assert_int_equal(plan_role_from_string(plan_role_to_string(i)), i);
	for (int i = 0; i < _PLAN_ROM_SOURCE_MAX; i++)
		assert_int_equal(plan_rom_source_from_string(plan_rom_source_to_string(i)), i);
	for (int i = 0; i < _PLAN_ACTION_KIND_MAX; i++)
		assert_int_equal(plan_action_kind_from_string(plan_action_kind_to_string(i)), i);

	assert_string_equal(diag_status_to_string(DIAG_WARN), "WARN");
	assert_string_equal(diag_status_json_to_string(DIAG_WARN), "warn");
	assert_string_equal(diag_status_to_string(_DIAG_STATUS_MAX), "?");
	assert_string_equal(diag_status_json_to_string(_DIAG_STATUS_MAX), "?");
	assert_int_equal(diag_status_from_string("FAIL"), DIAG_FAIL);
	assert_int_equal(diag_status_json_from_string("pass"), DIAG_PASS);

	assert_string_equal(profile_firmware_to_string(PROFILE_FIRMWARE_UEFI_SECBOOT),
			    "uefi-secboot");
	assert_int_equal(profile_backend_from_string("libvirt"), PROFILE_BACKEND_LIBVIRT);
	assert_string_equal(profile_network_to_string(PROFILE_NETWORK_BRIDGE), "bridge");
	assert_int_equal(profile_vbios_from_string("sysfs"), PROFILE_VBIOS_SYSFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_tables),
		cmocka_unit_test(test_strix),
		cmocka_unit_test(test_boot_vga_refused),
		cmocka_unit_test(test_boot_vga_firmware_framebuffer),
		cmocka_unit_test(test_discrete_whole_slot),
		cmocka_unit_test(test_function_list),
		cmocka_unit_test(test_shared_group),
		cmocka_unit_test(test_resolution),
		cmocka_unit_test(test_host_problems),
		cmocka_unit_test(test_paths_from_names),
		cmocka_unit_test(test_paths_from_ctx),
	};

	return testutil_run(tests);
}
