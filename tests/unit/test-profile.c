/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/profile.h"
#include "host/profile-load.h"
#include "testutil.h"
#include "util/error.h"
#include "util/strv.h"

static const char base[] = "[vm]\nname = t\n[gpu]\ndevice = 1002:1586\n";

static struct profile *parse_ok(const char *text)
{
	_cleanup_(error_clear) struct error err = {};
	struct profile *p = NULL;
	int r = profile_parse(text, strlen(text), "t.profile", &p, &err);

	if (r < 0)
		print_error("unexpected error: %s\n", err.message ? err.message : "(none)");
	assert_int_equal(r, 0);
	assert_false(error_is_set(&err));
	return p;
}

/* Parse @text, expect -EINVAL and an error that reads @want ("t.profile:LINE: message" or
 * "t.profile: message"): file and line in the error object, the message after them. */
static void parse_fail(const char *text, const char *want)
{
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *got = NULL;
	struct profile *p = NULL;
	unsigned line = 0;
	int r = profile_parse(text, strlen(text), "t.profile", &p, &err);

	assert_int_equal(r, -EINVAL);
	assert_null(p);
	assert_int_equal(err.errnum, EINVAL);
	assert_non_null(err.message);
	assert_string_equal(err.file, "t.profile");
	if (sscanf(want, "t.profile:%u:", &line) != 1)
		line = 0;
	assert_int_equal(err.line, line);
	got = error_format(&err);
	assert_non_null(got);
	if (!streq(got, want))
		print_error("got:  %s\nwant: %s\n", got, want);
	assert_string_equal(got, want);
}

/* base + extra lines appended to [gpu], or with its own sections */
static void fail_with(const char *extra, const char *want)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "%s%s", base, extra);
	parse_fail(buf, want);
}

static void test_full(void **state)
{
	(void)state;
	static const char text[] = "# comment\n"
				   "[vm]\n"
				   "name = win11   # inline comment\n"
				   "memory = 16G\n"
				   "cpus = 8\n"
				   "cpu-pinning = 0-3,8-11\n"
				   "hugepages = yes\n"
				   "firmware = uefi-secboot\n"
				   "tpm = yes\n"
				   "disk = /var/lib/gpurun/win11.qcow2\n"
				   "disk = \"/srv/a b#c.img\"\n"
				   "cdrom = '/srv/iso/x \"y\".iso'\n"
				   "network = bridge:br0\n"
				   "nvram = /var/lib/v.fd\n"
				   "accel = tcg\n"
				   "backend = libvirt\n"
				   "libvirt-uri = qemu:///system\n"
				   "template = windows11\n"
				   "\r\n"
				   "[gpu]\r\n"
				   "device = 1002:1586\n"
				   "functions = c4:00.0, 0000:c4:00.1\n"
				   "vbios = /roms/v.rom\n"
				   "gop = /usr/share/kvm/AMDGopDriver.rom\n"
				   "allow-boot-vga = yes\n"
				   "x-vga = on\n"
				   "[qemu]\n"
				   "args = -S -name 'a b' \"c\\\"d\" e\\ f # comment\n"
				   "args = -display none\n"
				   "[device usb]\n"
				   "address = 05:00.0\n"
				   "[ device nvme ]\n"
				   "address = 0000:06:00.0\n";
	struct profile *p = parse_ok(text);

	assert_string_equal(p->name, "win11");
	assert_int_equal(p->memory_mib, 16384);
	assert_int_equal(p->cpus, 8);
	assert_int_equal(p->n_pin_cpus, 8);
	assert_int_equal(p->pin_cpus[4], 8);
	assert_true(p->hugepages);
	assert_int_equal(p->firmware, PROFILE_FIRMWARE_UEFI_SECBOOT);
	assert_true(p->tpm);
	assert_int_equal(strv_length(p->disks), 2);
	assert_string_equal(p->disks[1], "/srv/a b#c.img");
	assert_string_equal(profile_disk_format(p->disks[0]), "qcow2");
	assert_string_equal(profile_disk_format(p->disks[1]), "raw");
	assert_string_equal(p->cdroms[0], "/srv/iso/x \"y\".iso");
	assert_int_equal(p->network, PROFILE_NETWORK_BRIDGE);
	assert_string_equal(p->network_bridge, "br0");
	assert_string_equal(p->nvram, "/var/lib/v.fd");
	assert_true(p->accel_tcg);
	assert_int_equal(p->backend, PROFILE_BACKEND_LIBVIRT);
	assert_string_equal(p->libvirt_uri, "qemu:///system");
	assert_string_equal(p->template, "windows11");
	assert_string_equal(p->gpu_device, "1002:1586");
	assert_false(p->gpu_functions_all);
	assert_int_equal(strv_length(p->gpu_functions), 2);
	assert_string_equal(p->gpu_functions[0], "0000:c4:00.0");
	assert_int_equal(p->vbios, PROFILE_VBIOS_FILE);
	assert_string_equal(p->vbios_path, "/roms/v.rom");
	assert_string_equal(p->gop, "/usr/share/kvm/AMDGopDriver.rom");
	assert_true(p->allow_boot_vga);
	assert_true(p->x_vga);
	assert_int_equal(strv_length(p->qemu_args), 7);
	assert_string_equal(p->qemu_args[0], "-S");
	assert_string_equal(p->qemu_args[2], "a b");
	assert_string_equal(p->qemu_args[3], "c\"d");
	assert_string_equal(p->qemu_args[4], "e f");
	assert_string_equal(p->qemu_args[5], "-display");
	assert_int_equal(p->n_devices, 2);
	assert_string_equal(p->devices[0].name, "usb");
	assert_string_equal(p->devices[0].address, "0000:05:00.0");
	assert_string_equal(p->devices[1].name, "nvme");
	profile_free(p);
}

static void test_defaults(void **state)
{
	(void)state;
	struct profile *p = parse_ok(base);

	assert_int_equal(p->memory_mib, 4096);
	assert_int_equal(p->cpus, 4);
	assert_int_equal(p->firmware, PROFILE_FIRMWARE_UEFI);
	assert_int_equal(p->backend, PROFILE_BACKEND_QEMU);
	assert_int_equal(p->network, PROFILE_NETWORK_USER);
	assert_int_equal(p->vbios, PROFILE_VBIOS_NONE);
	assert_true(p->gpu_functions_all);
	assert_false(p->tpm);
	assert_false(p->accel_tcg);
	assert_null(p->template);
	assert_int_equal(strv_length(p->disks), 0);
	assert_int_equal(strv_length(p->qemu_args), 0);
	profile_free(p);
}

static void test_memory(void **state)
{
	(void)state;
	static const struct {
		const char *v;
		uint64_t mib;
	} ok[] = { { "256M", 256 },   { "256", 256 },	{ "2G", 2048 }, { "2GiB", 2048 },
		   { "1t", 1048576 }, { "65536K", 64 }, { "16M", 16 },	{ "4gb", 4096 } };
	char buf[256];

	for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
		struct profile *p;

		snprintf(buf, sizeof(buf), "[vm]\nname=x\nmemory = %s\n[gpu]\ndevice=03:00.0\n",
			 ok[i].v);
		p = parse_ok(buf);
		assert_int_equal(p->memory_mib, ok[i].mib);
		profile_free(p);
	}
	parse_fail("[vm]\nmemory = 16X\n",
		   "t.profile:2: 'memory': invalid size '16X', expected a number with K, M, G or "
		   "T suffix");
	parse_fail("[vm]\nmemory = 8M\n",
		   "t.profile:2: 'memory': 8M is out of range, allowed 16M to 16T");
	parse_fail("[vm]\nmemory = 17T\n",
		   "t.profile:2: 'memory': 17T is out of range, allowed 16M to 16T");
	parse_fail("[vm]\nmemory = 99999999999999999999999G\n",
		   "t.profile:2: 'memory': 99999999999999999999999G is out of range, allowed 16M "
		   "to 16T");
	parse_fail("[vm]\nmemory = 99999999999999G\n",
		   "t.profile:2: 'memory': 99999999999999G is out of range, allowed 16M to 16T");
	parse_fail("[vm]\nmemory = 100000K\n",
		   "t.profile:2: 'memory': 100000K is not a whole number of MiB");
	parse_fail("[vm]\nmemory = -1G\n",
		   "t.profile:2: 'memory': invalid size '-1G', expected a number with K, M, G or "
		   "T suffix");
}

static void test_errors(void **state)
{
	(void)state;
	parse_fail("[vm]\nmemroy = 4G\n",
		   "t.profile:2: unknown key 'memroy' in [vm], did you mean 'memory'?");
	parse_fail("[vm]\nname = a\n[gpu]\nvbois = vfct\n",
		   "t.profile:4: unknown key 'vbois' in [gpu], did you mean 'vbios'?");
	parse_fail("[vm]\ndevice = 1002:1586\n",
		   "t.profile:2: unknown key 'device' in [vm]; it belongs in [gpu]");
	parse_fail("[vm]\nfoo = 1\n", "t.profile:2: unknown key 'foo' in [vm]");
	parse_fail("[gpus]\n", "t.profile:1: unknown section [gpus], did you mean [gpu]?");
	parse_fail("[network]\n", "t.profile:1: unknown section [network] (known: [vm], [gpu], "
				  "[qemu], [device NAME])");
	parse_fail("[vm\n", "t.profile:1: missing ']' in section header");
	parse_fail("[vm] x\n", "t.profile:1: unexpected text after section header: 'x'");
	parse_fail("[device]\n", "t.profile:1: section [device] needs a name: [device NAME]");
	parse_fail("[device a/b]\n", "t.profile:1: invalid device name 'a/b' in [device NAME]");
	parse_fail("\n\nname = x\n", "t.profile:3: key 'name' outside a section (start with [vm])");
	parse_fail("[vm]\njust text\n",
		   "t.profile:2: expected 'key = value' or '[section]', got 'just text'");
	parse_fail("[vm]\n= x\n", "t.profile:2: missing key before '='");
	parse_fail("[vm]\nna me = x\n", "t.profile:2: invalid key name 'na me'");
	parse_fail("[vm]\nname =\n", "t.profile:2: 'name': empty value");
	parse_fail("[vm]\nname = # only a comment\n", "t.profile:2: 'name': empty value");
	parse_fail("[vm]\nname = \"abc\n", "t.profile:2: 'name': unterminated \" quote");
	parse_fail("[vm]\nname = 'a' b\n",
		   "t.profile:2: 'name': unexpected text after the quoted value: 'b'");
	parse_fail("[vm]\nname = a\nname = b\n",
		   "t.profile:3: duplicate key 'name' (first at line 2)");
	parse_fail(
	    "[vm]\nname = -rf\n",
	    "t.profile:2: 'name': invalid name '-rf': use letters, digits, '-', '_' and '.', "
	    "starting with a letter or digit, at most 64 characters");
	parse_fail(
	    "[vm]\nname = a,b\n",
	    "t.profile:2: 'name': invalid name 'a,b': use letters, digits, '-', '_' and '.', "
	    "starting with a letter or digit, at most 64 characters");
	parse_fail("[vm]\nname = a\x01z\n", "t.profile:2: control character 0x01 at column 9");
	parse_fail("[vm]\nname = a\rz\n", "t.profile:2: control character 0x0d at column 9");
	parse_fail("[vm]\ncpus = 0\n", "t.profile:2: 'cpus': 0 is out of range, allowed 1 to 255");
	/* libvirt refuses more than 255 vCPUs without an emulated IOMMU in extended interrupt
	 * mode, QEMU under TCG too, and q35 stops at 288: every output refuses the same way */
	parse_fail("[vm]\ncpus = 256\n",
		   "t.profile:2: 'cpus': 256 is out of range, allowed 1 to 255 (more vCPUs need an "
		   "emulated IOMMU with extended interrupt mode, which gpurun does not set up)");
	{
		struct profile *p = parse_ok("[vm]\nname=x\ncpus = 255\n[gpu]\ndevice=03:00.0\n");

		assert_int_equal(p->cpus, 255);
		profile_free(p);
	}
	parse_fail(
	    "[vm]\ncpus = 1024\n",
	    "t.profile:2: 'cpus': 1024 is out of range, allowed 1 to 255 (more vCPUs need an "
	    "emulated IOMMU with extended interrupt mode, which gpurun does not set up)");
	parse_fail("[vm]\ncpus = 4x\n", "t.profile:2: 'cpus': invalid number '4x'");
	parse_fail("[vm]\ncpu-pinning = 3-1\n",
		   "t.profile:2: 'cpu-pinning': invalid CPU range in '3-1' (CPUs 0 to 8191, "
		   "low-high)");
	parse_fail("[vm]\ncpu-pinning = 1,,2\n",
		   "t.profile:2: 'cpu-pinning': invalid CPU list '1,,2', expected e.g. 0-7,16-23");
	parse_fail("[vm]\ncpu-pinning = 0-2000\n",
		   "t.profile:2: 'cpu-pinning': more than 1024 CPUs in '0-2000'");
	parse_fail("[vm]\nname = a\ncpus = 2\ncpu-pinning = 0-3\n[gpu]\ndevice = 03:00.0\n",
		   "t.profile:4: 'cpu-pinning': lists 4 host CPUs but cpus = 2");
	parse_fail("[vm]\nhugepages = maybe\n",
		   "t.profile:2: 'hugepages': invalid value 'maybe', expected yes or no");
	parse_fail(
	    "[vm]\nfirmware = efi\n",
	    "t.profile:2: 'firmware': invalid value 'efi', allowed: uefi, uefi-secboot, bios");
	parse_fail("[vm]\nbackend = xen\n",
		   "t.profile:2: 'backend': invalid value 'xen', allowed: qemu, libvirt");
	parse_fail("[vm]\naccel = hvf\n",
		   "t.profile:2: 'accel': invalid value 'hvf', allowed: kvm, tcg");
	parse_fail("[vm]\ndisk = win.qcow2\n",
		   "t.profile:2: 'disk': 'win.qcow2' is not an absolute path");
	parse_fail("[vm]\ncdrom = -drive\n",
		   "t.profile:2: 'cdrom': '-drive' is not an absolute path");
	parse_fail("[vm]\nnvram = x\n", "t.profile:2: 'nvram': 'x' is not an absolute path");
	/* SeaBIOS keeps no variables: the file would be dropped without a word; either order */
	parse_fail("[vm]\nname = a\nfirmware = bios\nnvram = /vm/a.fd\n[gpu]\ndevice = 03:00.0\n",
		   "t.profile:4: 'nvram': a UEFI variable store, but firmware = bios (SeaBIOS "
		   "keeps no variables); remove the line or set firmware = uefi");
	parse_fail("[vm]\nnvram = /vm/a.fd\nname = a\n[gpu]\ndevice = 03:00.0\n[vm]\nfirmware = "
		   "bios\n",
		   "t.profile:2: 'nvram': a UEFI variable store, but firmware = bios (SeaBIOS "
		   "keeps no variables); remove the line or set firmware = uefi");
	parse_fail("[vm]\nnetwork = nat\n",
		   "t.profile:2: 'network': invalid value 'nat', allowed: none, user, bridge:NAME");
	parse_fail("[vm]\nnetwork = bridge:-x\n",
		   "t.profile:2: 'network': invalid bridge name '-x'");
	parse_fail("[vm]\nlibvirt-uri = 'qemu:// x'\n",
		   "t.profile:2: 'libvirt-uri': 'qemu:// x' contains whitespace");
	parse_fail("[vm]\ntemplate = 'a b'\n",
		   "t.profile:2: 'template': 'a b' is neither a template name nor a path");
	parse_fail(
	    "[gpu]\ndevice = amd\n",
	    "t.profile:2: 'device': 'amd' is neither a vendor:device id (1002:1586) nor a PCI "
	    "address (0000:c4:00.0)");
	parse_fail("[gpu]\ndevice = c4:00.8\n",
		   "t.profile:2: 'device': 'c4:00.8': function must be 0-7");
	parse_fail("[gpu]\ndevice = c4:20.0\n",
		   "t.profile:2: 'device': 'c4:20.0': device must be 00-1f");
	parse_fail("[gpu]\nfunctions = c4:0.0 c4:0.9\n",
		   "t.profile:2: 'functions': 'c4:0.9': function must be 0-7");
	parse_fail("[device a]\naddress = 100:00.0\n",
		   "t.profile:2: 'address': '100:00.0': bus must be 00-ff");
	parse_fail(
	    "[gpu]\nfunctions = c4:00.0 zz\n",
	    "t.profile:2: 'functions': 'zz' is not a PCI address (expected all or a list like "
	    "0000:c4:00.0, 0000:c4:00.1)");
	parse_fail("[gpu]\nfunctions = c4:00.0 0000:c4:00.0\n",
		   "t.profile:2: 'functions': 0000:c4:00.0 is listed twice");
	parse_fail("[gpu]\nfunctions = ,\n", "t.profile:2: 'functions': empty list");
	parse_fail("[gpu]\nvbios = rom\n",
		   "t.profile:2: 'vbios': invalid value 'rom', allowed: vfct, sysfs, none, "
		   "/path/file.rom");
	parse_fail("[gpu]\ngop = AMDGop.rom\n",
		   "t.profile:2: 'gop': 'AMDGop.rom' is not an absolute path");
	parse_fail("[qemu]\nargs = 'abc\n", "t.profile:2: 'args': unterminated ' quote");
	parse_fail("[qemu]\nargs = \"abc\n", "t.profile:2: 'args': unterminated \" quote");
	parse_fail("[qemu]\nargs = abc\\\n", "t.profile:2: 'args': trailing backslash");
	parse_fail("[qemu]\nargs = # nothing\n", "t.profile:2: 'args': empty value");
	parse_fail("[device a]\naddress = 1002:1586\n",
		   "t.profile:2: 'address': '1002:1586' is not a PCI address (0000:05:00.0)");
	parse_fail("[device a]\naddress = 05:00.0\naddress = 05:00.0\n",
		   "t.profile:3: duplicate key 'address' in [device a]");
	parse_fail("[device a]\naddress = 05:00.0\n[device a]\n",
		   "t.profile:3: duplicate section [device a] (first at line 1)");
	fail_with("[device usb]\n", "t.profile:5: [device usb] has no 'address'");
	parse_fail("[gpu]\ndevice = 03:00.0\n", "t.profile: missing required key 'name' in [vm]");
	parse_fail("[vm]\nname = a\n", "t.profile: missing required key 'device' in [gpu]");
	parse_fail("", "t.profile: missing required key 'name' in [vm]");
}

static void test_not_nul_terminated(void **state)
{
	(void)state;
	/* the buffer ends right after a value: no terminator may be read */
	char *buf = malloc(sizeof(base) - 2);
	struct profile *p = NULL;

	memcpy(buf, base, sizeof(base) - 2); /* drop "\n" and NUL */
	assert_int_equal(profile_parse(buf, sizeof(base) - 2, "t", &p, NULL), 0);
	assert_string_equal(p->gpu_device, "1002:1586");
	profile_free(p);
	free(buf);
}

static void test_load(void **state)
{
	(void)state;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *msg = NULL;
	struct profile *p = NULL;

	assert_int_equal(profile_load("profiles/win11-strix-halo.profile", &p, &err), 0);
	assert_false(error_is_set(&err));
	assert_string_equal(p->name, "win11");
	assert_int_equal(p->vbios, PROFILE_VBIOS_VFCT);
	profile_free(p);
	p = NULL;
	assert_int_equal(profile_load("/nonexistent/x.profile", &p, &err), -ENOENT);
	assert_null(p);
	assert_int_equal(err.errnum, ENOENT);
	assert_string_equal(err.file, "/nonexistent/x.profile");
	assert_int_equal(err.line, 0);
	msg = error_format(&err);
	assert_string_equal(msg, "/nonexistent/x.profile: No such file or directory");
	error_clear(&err);
	for (const char *const *f =
		 (const char *const[]){ "profiles/linux-dgpu.profile", "profiles/win11-usb.profile",
					"tests/vm/sandbox.profile", NULL };
	     *f; f++) {
		assert_int_equal(profile_load(*f, &p, &err), 0);
		assert_false(error_is_set(&err));
		profile_free(p);
		p = NULL;
	}
}

/* A parse error from a file names that file and the line. */
static void test_load_parse_error(void **state)
{
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *msg = NULL;
	char dir[] = "/tmp/gpurun-profile.XXXXXX", path[64];
	struct profile *p = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad.profile", dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs("[vm]\nname = x\n\nmemroy = 4G\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(profile_load(path, &p, &err), -EINVAL);
	assert_null(p);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 4);
	msg = error_format(&err);
	assert_non_null(strstr(msg, "bad.profile:4: unknown key 'memroy' in [vm], did you mean "
				    "'memory'?"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_parse_error),
	};

	return testutil_run(tests);
}
