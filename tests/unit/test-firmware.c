/* SPDX-License-Identifier: GPL-2.0-or-later */
/* core/firmware.c: QEMU firmware descriptors from buffers (Debian's, Fedora's qcow2 set,
 * Arch's setup-mode secure boot), the /etc-over-/usr/share rules, the choice; host/paths.c
 * reading them under a root; the plan built from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/firmware.h"
#include "core/plan.h"
#include "core/profile.h"
#include "host/ctx.h"
#include "host/paths.h"
#include "testutil.h"
#include "util/error.h"
#include "util/strutil.h"
#include "util/strv.h"

/* Debian 12's 40-edk2-x86_64-secure-enrolled.json, as shipped */
static const char deb40[] =
    "{\n    \"description\": \"UEFI firmware for x86_64, with Secure Boot and SMM, SB enabled, "
    "MS certs enrolled\",\n    \"interface-types\": [\n        \"uefi\"\n    ],\n"
    "    \"mapping\": {\n        \"device\": \"flash\",\n        \"executable\": {\n"
    "            \"filename\": \"/usr/share/OVMF/OVMF_CODE_4M.ms.fd\",\n"
    "            \"format\": \"raw\"\n        },\n        \"nvram-template\": {\n"
    "            \"filename\": \"/usr/share/OVMF/OVMF_VARS_4M.ms.fd\",\n"
    "            \"format\": \"raw\"\n        }\n    },\n    \"targets\": [\n        {\n"
    "            \"architecture\": \"x86_64\",\n            \"machines\": [\n"
    "                \"pc-q35-*\"\n            ]\n        }\n    ],\n"
    "    \"features\": [\n        \"acpi-s3\",\n        \"amd-sev\",\n"
    "        \"enrolled-keys\",\n        \"requires-smm\",\n        \"secure-boot\",\n"
    "        \"verbose-dynamic\"\n    ],\n    \"tags\": [\n\n    ]\n}\n";

/* a flash descriptor from its parts */
static char *desc(const char *exe, const char *vars, const char *fmt, const char *machines,
		  const char *features)
{
	return strdup_printf("{\"interface-types\":[\"uefi\"],\"mapping\":{\"device\":\"flash\","
			     "\"executable\":{\"filename\":\"%s\",\"format\":\"%s\"},"
			     "\"nvram-template\":{\"filename\":\"%s\",\"format\":\"%s\"}},"
			     "\"targets\":[{\"architecture\":\"x86_64\",\"machines\":[%s]}],"
			     "\"features\":[%s],\"tags\":[]}",
			     exe, fmt, vars, fmt, machines, features);
}

static struct firmware_descriptor *parse_ok(const char *name, const char *text)
{
	_cleanup_(error_clear) struct error err = {};
	struct firmware_descriptor *d = NULL;

	if (firmware_parse(name, text, strlen(text), &d, &err) < 0) {
		print_error("%s: %s\n", name, err.message);
		fail();
	}
	return d;
}

static void parse_fails(const char *text, const char *msg)
{
	_cleanup_(error_clear) struct error err = {};
	struct firmware_descriptor *d = NULL;

	assert_int_equal(firmware_parse("x.json", text, strlen(text), &d, &err), -EINVAL);
	assert_null(d);
	assert_string_equal(err.file, "x.json");
	if (!strstr(err.message, msg)) {
		print_error("message '%s' lacks '%s'\n", err.message, msg);
		fail();
	}
}

static void test_parse_debian(void **state)
{
	struct firmware_descriptor *d = parse_ok("40-edk2-x86_64-secure-enrolled.json", deb40);

	(void)state;
	assert_string_equal(d->name, "40-edk2-x86_64-secure-enrolled.json");
	assert_true(d->uefi);
	assert_int_equal(d->device, FIRMWARE_DEVICE_FLASH);
	assert_int_equal(d->mode, FIRMWARE_MODE_SPLIT);
	assert_string_equal(d->executable, "/usr/share/OVMF/OVMF_CODE_4M.ms.fd");
	assert_string_equal(d->nvram_template, "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
	assert_int_equal(d->executable_format, FIRMWARE_FORMAT_RAW);
	assert_true(firmware_has_feature(d, FIRMWARE_FEATURE_SECURE_BOOT));
	assert_true(firmware_has_feature(d, FIRMWARE_FEATURE_ENROLLED_KEYS));
	assert_true(firmware_has_feature(d, FIRMWARE_FEATURE_REQUIRES_SMM));
	assert_false(firmware_has_feature(d, FIRMWARE_FEATURE_ACPI_S4));
	assert_true(firmware_supports(d, "x86_64", "q35"));
	assert_true(firmware_supports(d, "x86_64", "pc-q35-7.2"));
	assert_false(firmware_supports(d, "x86_64", "pc"));
	assert_false(firmware_supports(d, "aarch64", "q35"));
	firmware_descriptor_free(d);
}

static void test_parse_modes(void **state)
{
	struct firmware_descriptor *d;

	(void)state;
	/* stateless: no nvram-template needed; memory: one filename */
	d = parse_ok("s.json", "{\"interface-types\":[\"uefi\"],\"mapping\":{\"device\":"
			       "\"flash\",\"mode\":\"stateless\",\"executable\":{\"filename\":"
			       "\"/a.fd\",\"format\":\"raw\"}},\"targets\":[],\"features\":[]}");
	assert_int_equal(d->mode, FIRMWARE_MODE_STATELESS);
	assert_null(d->nvram_template);
	firmware_descriptor_free(d);
	d = parse_ok("m.json", "{\"interface-types\":[\"uefi\"],\"mapping\":{\"device\":"
			       "\"memory\",\"filename\":\"/tdx.fd\"},\"targets\":[],"
			       "\"features\":[\"intel-tdx\",\"some-future-feature\"]}");
	assert_int_equal(d->device, FIRMWARE_DEVICE_MEMORY);
	assert_string_equal(d->executable, "/tdx.fd");
	assert_true(firmware_has_feature(d, FIRMWARE_FEATURE_INTEL_TDX));
	firmware_descriptor_free(d);
}

static void test_parse_errors(void **state)
{
	_cleanup_(error_clear) struct error err = {};
	struct firmware_descriptor *d = NULL;
	static const char bad[] = "{\"interface-types\": [\"uefi\",]";

	(void)state;
	assert_int_equal(firmware_parse("x.json", bad, strlen(bad), &d, &err), -EINVAL);
	assert_true(err.has_offset);
	assert_true(err.offset < strlen(bad));
	parse_fails("", "not valid JSON");
	parse_fails("[]", "not a JSON object");
	parse_fails("{} x", "data after the object");
	parse_fails("{\"interface-types\":[\"uefi\"]}", "\"mapping\" is missing");
	parse_fails("{\"interface-types\":[\"uefi\"],\"mapping\":{\"device\":\"floppy\"}}",
		    "unknown device \"floppy\"");
	parse_fails("{\"interface-types\":[\"uefi\"],\"mapping\":{\"device\":\"flash\","
		    "\"executable\":{\"filename\":\"/a\",\"format\":\"vmdk\"}}}",
		    "unknown format \"vmdk\"");
	parse_fails("{\"interface-types\":[\"uefi\"],\"mapping\":{\"device\":\"flash\","
		    "\"executable\":{\"filename\":\"/a\",\"format\":\"raw\"}}}",
		    "\"mapping.nvram-template\" is missing");
	parse_fails("{\"interface-types\":[\"uefi\"],\"mapping\":{\"device\":\"flash\","
		    "\"executable\":{\"filename\":7,\"format\":\"raw\"}}}",
		    "\"filename\" is not a string");
	parse_fails("{\"interface-types\":[\"uefi\"],\"mapping\":{\"device\":\"flash\","
		    "\"executable\":{\"filename\":\"/a\\u0000b\",\"format\":\"raw\"}}}",
		    "\"filename\" is not a string");
	parse_fails("{\"interface-types\":[\"uefi\"],\"mapping\":{\"device\":\"memory\","
		    "\"filename\":\"/a\"},\"targets\":[{\"architecture\":\"x86_64\"}],"
		    "\"features\":[]}",
		    "\"machines\" is missing");
}

static bool files_present(const struct firmware_descriptor *d, void *userdata)
{
	return strv_contains(userdata, d->executable) && strv_contains(userdata, d->nvram_template);
}

static bool has_suffix(const char *s, const char *suffix)
{
	return strlen(s) >= strlen(suffix) && streq(s + strlen(s) - strlen(suffix), suffix);
}

/* The whole Fedora 39+ order: qcow2 builds first, secure boot preferred with keys enrolled. */
static void test_select(void **state)
{
	_cleanup_free_ char *a =
	    desc("/e/CODE_4M.secboot.qcow2", "/e/VARS_4M.secboot.qcow2", "qcow2", "\"pc-q35-*\"",
		 "\"requires-smm\",\"secure-boot\",\"enrolled-keys\"");
	_cleanup_free_ char *b = desc("/e/CODE_4M.secboot.qcow2", "/e/VARS_4M.qcow2", "qcow2",
				      "\"pc-q35-*\"", "\"requires-smm\",\"secure-boot\"");
	_cleanup_free_ char *c = desc("/e/CODE_4M.qcow2", "/e/VARS_4M.qcow2", "qcow2",
				      "\"pc-i440fx-*\",\"pc-q35-*\"", "\"acpi-s3\"");
	_cleanup_free_ char *i440 = desc("/e/CODE.fd", "/e/VARS.fd", "raw", "\"pc-i440fx-*\"", "");
	struct firmware_descriptor *d[4];
	struct firmware_want want = { .arch = "x86_64", .machine = "q35" };
	char **present = NULL;

	(void)state;
	d[0] = parse_ok("10-i440fx.json", i440);
	d[1] = parse_ok("30-sb-enrolled.json", a);
	d[2] = parse_ok("40-sb.json", b);
	d[3] = parse_ok("50-nosb.json", c);
	assert_int_equal(firmware_select(d, 4, &want, NULL, NULL), 3);
	want.secure_boot = true;
	assert_int_equal(firmware_select(d, 4, &want, NULL, NULL), 1);
	/* without an enrolled build (Arch) secure boot in setup mode is taken */
	assert_int_equal(firmware_select(d + 2, 2, &want, NULL, NULL), 0);
	assert_int_equal(firmware_select(d + 3, 1, &want, NULL, NULL), -ENOENT);
	/* the usable callback: the enrolled build's vars are missing here */
	assert_int_equal(strv_extend(&present, "/e/CODE_4M.secboot.qcow2"), 0);
	assert_int_equal(strv_extend(&present, "/e/VARS_4M.qcow2"), 0);
	assert_int_equal(firmware_select(d, 4, &want, files_present, present), 2);
	want.machine = "pc";
	want.secure_boot = false;
	assert_int_equal(firmware_select(d, 4, &want, NULL, NULL), 0);
	for (size_t i = 0; i < 4; i++)
		firmware_descriptor_free(d[i]);
	strv_free(present);
}

static void test_set_overrides(void **state)
{
	_cleanup_free_ char *a = desc("/usr/a", "/usr/av", "raw", "\"pc-q35-*\"", "");
	_cleanup_free_ char *b = desc("/etc/b", "/etc/bv", "raw", "\"pc-q35-*\"", "");
	const struct firmware_file files[] = {
		{ "60-plain.json", a, strlen(a), 1 },
		{ "60-plain.json", b, strlen(b), 0 }, /* /etc replaces it */
		{ "40-secure.json", deb40, strlen(deb40), 1 },
		{ "40-secure.json", "", 0, 0 },	 /* an empty file in /etc hides it */
		{ "50-broken.json", "{", 1, 1 }, /* skipped, named */
		{ "10-etc-only.json", a, strlen(a), 0 },
		{ "70-later.json", deb40, strlen(deb40), 1 },
	};
	struct firmware_set s = {};

	(void)state;
	assert_int_equal(firmware_set_load(files, ELEMENTSOF(files), &s), 0);
	assert_int_equal(s.n_descs, 3);
	assert_string_equal(s.descs[0]->name, "10-etc-only.json");
	assert_string_equal(s.descs[1]->name, "60-plain.json");
	assert_string_equal(s.descs[1]->executable, "/etc/b");
	assert_string_equal(s.descs[2]->name, "70-later.json");
	assert_int_equal(strv_length(s.skipped), 1);
	assert_true(startswith(s.skipped[0], "50-broken.json"));
	firmware_set_done(&s);
}

/* host/paths.c under a root, then the plan from what it found */
static void test_paths_and_plan(void **state)
{
	char *root = testutil_mkroot();
	_cleanup_free_ char *nosb =
	    desc("/usr/share/edk2/ovmf/OVMF_CODE_4M.qcow2",
		 "/usr/share/edk2/ovmf/OVMF_VARS_4M.qcow2", "qcow2", "\"pc-q35-*\"", "\"acpi-s3\"");
	_cleanup_free_ char *missing =
	    desc("/usr/share/edk2/ovmf/GONE.qcow2", "/usr/share/edk2/ovmf/OVMF_VARS_4M.qcow2",
		 "qcow2", "\"pc-q35-*\"", "");
	struct ctx *c = NULL;
	struct plan_paths paths = {};
	struct plan *p = NULL;
	struct profile *pr = NULL;
	_cleanup_(error_clear) struct error err = {};
	struct host *h = testutil_host_strix();
	static const char text[] = "[vm]\nname=f\nfirmware=uefi\n[gpu]\ndevice=1002:1586\n"
				   "allow-boot-vga=yes\n";
	_cleanup_free_ char *want = NULL;

	(void)state;
	testutil_put(root, "usr/share/qemu/firmware/50-nosb.json", nosb);
	testutil_put(root, "usr/share/qemu/firmware/40-missing.json", missing);
	testutil_put(root, "usr/share/qemu/firmware/30-secure.json", deb40);
	testutil_put(root, "usr/share/qemu/firmware/README", "not a descriptor");
	testutil_put(root, "etc/qemu/firmware/30-secure.json", "");
	testutil_put(root, "usr/share/edk2/ovmf/OVMF_CODE_4M.qcow2", "");
	testutil_put(root, "usr/share/edk2/ovmf/OVMF_VARS_4M.qcow2", "");
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(plan_paths_from_ctx(c, &paths), 0);
	assert_int_equal(paths.firmware.n_descs, 2); /* 30- hidden by /etc */
	assert_string_equal(paths.firmware.descs[0]->name, "40-missing.json");
	want = strdup_printf("%s/usr/share/edk2/ovmf/OVMF_CODE_4M.qcow2", c->root);
	assert_string_equal(paths.firmware.descs[1]->executable, want);
	assert_int_equal(profile_parse(text, strlen(text), "t", &pr, &err), 0);
	assert_int_equal(plan_build(pr, h, &paths, &p), 0);
	/* 40- names a file that is not there: 50- is chosen */
	assert_string_equal(p->firmware_descriptor, "50-nosb.json");
	assert_string_equal(p->ovmf_code, want);
	assert_int_equal(p->ovmf_code_format, FIRMWARE_FORMAT_QCOW2);
	assert_int_equal(p->ovmf_vars_format, FIRMWARE_FORMAT_QCOW2);
	assert_false(p->requires_smm);
	assert_true(has_suffix(p->ovmf_vars, "/var/lib/gpurun/vars/f_VARS.qcow2"));
	for (size_t i = 0; i < p->diags.n; i++)
		assert_false(streq(p->diags.items[i].id, "firmware-descriptors"));
	plan_free(p);
	profile_free(pr);
	plan_paths_done(&paths);
	ctx_free(c);
	host_free(h);
	testutil_rmroot(root);
}

/* secure boot from descriptors: SMM from requires-smm; setup mode warns; no descriptors: the
 * table, with an INFO saying so */
static void test_plan_secure_and_fallback(void **state)
{
	_cleanup_free_ char *arch =
	    desc("/R/edk2/x64/OVMF_CODE.secboot.4m.fd", "/R/edk2/x64/OVMF_VARS.4m.fd", "raw",
		 "\"pc-q35-*\"", "\"requires-smm\",\"secure-boot\"");
	const struct firmware_file files[] = { { "50-sb.json", arch, strlen(arch), 1 } };
	struct plan_paths paths = testutil_plan_paths(true);
	struct profile *pr = NULL;
	struct host *h = testutil_host_strix();
	struct plan *p = NULL;
	static const char text[] = "[vm]\nname=w\nfirmware=uefi-secboot\n[gpu]\n"
				   "device=1002:1586\nallow-boot-vga=yes\n";
	bool info = false, keys = false;

	(void)state;
	assert_int_equal(profile_parse(text, strlen(text), "t", &pr, NULL), 0);
	/* no descriptors: the table, and an INFO */
	assert_int_equal(plan_build(pr, h, &paths, &p), 0);
	assert_string_equal(p->ovmf_code, "/R/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
	assert_null(p->firmware_descriptor);
	assert_true(p->requires_smm);
	for (size_t i = 0; i < p->diags.n; i++)
		info |= p->diags.items[i].status == DIAG_INFO &&
			streq(p->diags.items[i].id, "firmware-descriptors");
	assert_true(info);
	plan_free(p);
	/* Arch's set: setup-mode secure boot, with a warning */
	assert_int_equal(firmware_set_load(files, 1, &paths.firmware), 0);
	assert_int_equal(strv_extend(&paths.firmware_files, "/R/edk2/x64/OVMF_CODE.secboot.4m.fd"),
			 0);
	assert_int_equal(strv_extend(&paths.firmware_files, "/R/edk2/x64/OVMF_VARS.4m.fd"), 0);
	assert_int_equal(plan_build(pr, h, &paths, &p), 0);
	assert_string_equal(p->firmware_descriptor, "50-sb.json");
	assert_true(p->requires_smm);
	assert_string_equal(p->ovmf_vars, "/R/var/lib/gpurun/vars/w_VARS.fd");
	for (size_t i = 0; i < p->diags.n; i++)
		keys |= p->diags.items[i].status == DIAG_WARN &&
			streq(p->diags.items[i].id, "firmware-keys");
	assert_true(keys);
	plan_free(p);
	/* descriptors but none fits: FAIL, no fallback to the table */
	strv_free(paths.firmware_files);
	paths.firmware_files = NULL;
	assert_int_equal(plan_build(pr, h, &paths, &p), 0);
	assert_null(p->ovmf_code);
	keys = false;
	for (size_t i = 0; i < p->diags.n; i++)
		keys |= p->diags.items[i].status == DIAG_FAIL &&
			streq(p->diags.items[i].id, "firmware");
	assert_true(keys);
	plan_free(p);
	profile_free(pr);
	plan_paths_done(&paths);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_debian),
		cmocka_unit_test(test_parse_modes),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_set_overrides),
		cmocka_unit_test(test_paths_and_plan),
		cmocka_unit_test(test_plan_secure_and_fallback),
	};

	return testutil_run(tests);
}
