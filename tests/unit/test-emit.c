/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/checks.h"
#include "core/emit.h"
#include "core/plan.h"
#include "core/profile.h"
#include "host/paths.h"
#include "host/romstage.h"
#include "testutil.h"
#include "util/error.h"
#include "util/strutil.h"
#include "util/strv.h"

struct fixture {
	struct host *host;
	struct profile *profile;
	struct plan *plan;
};

static void setup_plan(struct fixture *fx, const char *profile_text)
{
	struct plan_paths paths = testutil_plan_paths(true);
	_cleanup_(error_clear) struct error err = {};

	fx->host = testutil_host_strix();
	fx->host->has_vfct = true;
	if (profile_parse(profile_text, strlen(profile_text), "t.profile", &fx->profile, &err) <
	    0) {
		print_error("%s\n", err.message);
		fail();
	}
	assert_int_equal(plan_build(fx->profile, fx->host, &paths, &fx->plan), 0);
	plan_paths_done(&paths);
}

static void teardown_plan(struct fixture *fx)
{
	plan_free(fx->plan);
	profile_free(fx->profile);
	host_free(fx->host);
}

static const char strix[] =
    "[vm]\nname = win11\nmemory = 8G\ncpus = 4\nfirmware = uefi-secboot\ntpm = yes\n"
    "disk = /vm/a,b.qcow2\ncdrom = '/iso/x y.iso'\ntemplate = windows11\n"
    "[gpu]\ndevice = 1002:1586\nvbios = vfct\ngop = /usr/share/kvm/AMDGopDriver.rom\n"
    "allow-boot-vga = yes\n[qemu]\nargs = -S -monitor stdio\n";

/* the same, with paths a Proxmox drive line can hold (no ',') */
static const char strix_pve[] =
    "[vm]\nname = win11\nmemory = 8G\ncpus = 4\nfirmware = uefi-secboot\ntpm = yes\n"
    "disk = '/vm/a b.qcow2'\ncdrom = '/iso/x y.iso'\ntemplate = windows11\n"
    "[gpu]\ndevice = 1002:1586\nvbios = vfct\ngop = /usr/share/kvm/AMDGopDriver.rom\n"
    "allow-boot-vga = yes\n[qemu]\nargs = -S -monitor stdio\n";

static char **argv_of(const struct plan *p)
{
	char **argv = NULL;

	assert_int_equal(emit_qemu_argv(p, "qemu-system-x86_64", &argv), 0);
	return argv;
}

/* the value after option @opt whose value starts with @prefix */
static const char *opt_value(char **argv, const char *opt, const char *prefix)
{
	for (size_t i = 0; argv[i] && argv[i + 1]; i++)
		if (streq(argv[i], opt) && startswith(argv[i + 1], prefix))
			return argv[i + 1];
	return NULL;
}

static void test_qemu(void **state)
{
	(void)state;
	struct fixture fx = {};
	char **argv;
	size_t n;

	setup_plan(&fx, strix);
	argv = argv_of(fx.plan);
	n = strv_length(argv);
	assert_string_equal(argv[0], "qemu-system-x86_64");
	/* template = windows11: the guest features of xml-templates/windows11.xml */
	assert_string_equal(opt_value(argv, "-machine", "q35"), "q35,smm=on,vmport=off,hpet=off");
	assert_string_equal(opt_value(argv, "-accel", ""), "kvm");
	assert_string_equal(opt_value(argv, "-m", ""), "8192M");
	/* the plan's topology: one socket of 4 cores, as libvirt's <topology> and Proxmox */
	assert_string_equal(opt_value(argv, "-smp", ""), "4,sockets=1,cores=4,threads=1");
	assert_string_equal(opt_value(argv, "-cpu", "host"),
			    "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,"
			    "hv-synic,hv-stimer,hv-reset,hv-vendor-id=gpurun,hv-frequencies,"
			    "hv-tlbflush,hv-ipi,hv-time,kvm=off");
	assert_string_equal(opt_value(argv, "-rtc", ""), "base=localtime,driftfix=slew");
	assert_non_null(opt_value(argv, "-global", "kvm-pit.lost_tick_policy=delay"));
	assert_non_null(opt_value(argv, "-global", "ICH9-LPC.disable_s3=1"));
	assert_non_null(opt_value(argv, "-global", "ICH9-LPC.disable_s4=1"));
	assert_string_equal(opt_value(argv, "-device", "qemu-xhci"), "qemu-xhci,id=usb");
	assert_string_equal(opt_value(argv, "-device", "usb-tablet"), "usb-tablet,bus=usb.0");
	assert_non_null(opt_value(argv, "-global", "driver=cfi.pflash01,property=secure,value=on"));
	assert_string_equal(opt_value(argv, "-drive", "if=pflash,format=raw,unit=0"),
			    "if=pflash,format=raw,unit=0,readonly=on,file=/R/usr/share/OVMF/"
			    "OVMF_CODE_4M.secboot.fd");
	/* the comma in the disk path is doubled */
	assert_string_equal(opt_value(argv, "-drive", "file=/vm"),
			    "file=/vm/a,,b.qcow2,format=qcow2,if=virtio");
	assert_string_equal(opt_value(argv, "-drive", "file=/iso"),
			    "file=/iso/x y.iso,format=raw,if=ide,media=cdrom,readonly=on");
	assert_string_equal(opt_value(argv, "-chardev", "socket"),
			    "socket,id=gpurun-tpm-chr,path=/R/run/gpurun/win11.swtpm.sock");
	assert_string_equal(opt_value(argv, "-device", "pcie-root-port"),
			    "pcie-root-port,id=gpurun-rp0,bus=pcie.0,chassis=1");
	assert_string_equal(
	    opt_value(argv, "-device", "vfio-pci,host=0000:c4:00.0"),
	    "vfio-pci,host=0000:c4:00.0,id=gpurun-hostdev0,bus=gpurun-rp0,addr=00.0,"
	    "multifunction=on,romfile=/R/var/lib/gpurun/roms/vbios_1002_1586.bin");
	assert_string_equal(
	    opt_value(argv, "-device", "vfio-pci,host=0000:c4:00.1"),
	    "vfio-pci,host=0000:c4:00.1,id=gpurun-hostdev1,bus=gpurun-rp0,addr=00.1,"
	    "romfile=/R/var/lib/gpurun/roms/AMDGopDriver.rom");
	/* extra args last, as given */
	assert_string_equal(argv[n - 3], "-S");
	assert_string_equal(argv[n - 1], "stdio");
	strv_free(argv);
	teardown_plan(&fx);
}

static const struct emit_options no_options = {};

/* The template read as `gpurun emit libvirt` reads it, then filled. */
static int emit_xml(const struct plan *p, const char *dir, bool managed, char **ret_xml)
{
	_cleanup_free_ char *t = NULL;
	size_t len = 0;
	int r;

	r = paths_load_template(NULL, dir, p->profile->template, &t, &len, NULL);
	if (r < 0)
		return r;
	return emit_libvirt_xml_from_buffer(p, t, len, managed, ret_xml);
}

static void test_qemu_refuses(void **state)
{
	(void)state;
	struct fixture fx = {};
	char **argv = NULL;

	setup_plan(&fx, strix);
	/* a plan built by other code with a newline in a path */
	free(fx.plan->devices[0].romfile);
	fx.plan->devices[0].romfile = strdup("/x\n-device evil");
	assert_int_equal(emit_qemu_argv(fx.plan, "qemu", &argv), -EINVAL);
	assert_null(argv);
	{
		char *xml = NULL;

		assert_int_equal(emit_xml(fx.plan, "xml-templates", false, &xml), -EINVAL);
		assert_null(xml);
	}
	free(fx.plan->devices[0].rom_name);
	fx.plan->devices[0].rom_name = strdup("a,b.rom");
	assert_int_equal(emit_proxmox(fx.plan, &no_options, stdout), -EINVAL);

	fx.plan->resolved = false;
	assert_int_equal(emit_qemu_argv(fx.plan, "qemu", &argv), -ENODEV);
	assert_int_equal(emit_proxmox(fx.plan, &no_options, stdout), -ENODEV);
	teardown_plan(&fx);
}

static void test_shell_quote(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain,a=b/c.d:1", "plain,a=b/c.d:1" },
		{ "a b", "'a b'" },
		{ "it's", "'it'\\''s'" },
		{ "", "''" },
		{ "$(rm -rf /)", "'$(rm -rf /)'" },
		{ "a\nb", "'a\nb'" },
		{ "<&>", "'<&>'" },
	};
	char *argv[] = { (char *)"qemu", (char *)"-name", (char *)"a b", (char *)"-S", NULL };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *q = emit_shell_quote(cases[i].in);

		assert_string_equal(q, cases[i].out);
		free(q);
	}
	f = open_memstream(&buf, &len);
	assert_int_equal(emit_qemu_print(argv, f), 0);
	fclose(f);
	assert_string_equal(buf, "qemu \\\n    -name 'a b' \\\n    -S\n");
	free(buf);
}

static char *libvirt(const struct plan *p, bool managed)
{
	char *xml = NULL;

	assert_int_equal(emit_xml(p, "xml-templates", managed, &xml), 0);
	return xml;
}

/* Emit @p as proxmox with @o into a string. */
static char *proxmox(const struct plan *p, const struct emit_options *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(emit_proxmox(p, o, f), 0);
	fclose(f);
	return buf;
}

static void test_mac(void **state)
{
	(void)state;
	struct fixture fx = {};
	char mac[EMIT_MAC_MAX], other[EMIT_MAC_MAX], *xml, *pve, *want;
	_cleanup_strv_free_ char **argv = NULL;
	unsigned first;

	/* pinned: a changed derivation would give every existing guest a new NIC */
	emit_mac_address("win11", mac);
	assert_string_equal(mac, "aa:3d:a6:93:12:af");
	emit_mac_address("win11", other);
	assert_string_equal(mac, other);
	assert_int_equal(strlen(mac), 17);
	emit_mac_address("win12", other);
	assert_string_not_equal(mac, other);
	/* locally administered, unicast, for any name */
	for (const char *const *n = (const char *const[]){ "", "a", "win11", "x y", "Ω", NULL }; *n;
	     n++) {
		emit_mac_address(*n, other);
		assert_int_equal(sscanf(other, "%2x:", &first), 1);
		assert_int_equal(first & 0x03, 0x02);
	}

	/* the same MAC in all three outputs */
	setup_plan(&fx, "[vm]\nname = win11\nfirmware = bios\nnetwork = bridge:vmbr0\n"
			"[gpu]\ndevice = c4:00.0\nallow-boot-vga = yes\n");
	argv = argv_of(fx.plan);
	want = strdup_printf("bridge,br=vmbr0,model=virtio-net-pci,mac=%s", mac);
	assert_non_null(opt_value(argv, "-nic", want));
	free(want);
	xml = libvirt(fx.plan, false);
	want = strdup_printf("<mac address=\"%s\"/>", mac);
	assert_non_null(strstr(xml, want));
	free(want);
	free(xml);
	pve = proxmox(fx.plan, &no_options);
	want = strdup_printf("\nnet0: virtio=%s,bridge=vmbr0\n", mac);
	assert_non_null(strstr(pve, want));
	free(want);
	free(pve);
	teardown_plan(&fx);
}

/* One table, three renderings: a Windows guest under TCG loses the Hyper-V rows (a KVM interface)
 * in every output but keeps kvm=off; a Linux guest has none of the Windows rows. */
static void test_guest_features(void **state)
{
	(void)state;
	static const char bare[] =
	    "<domain type='kvm'><devices><input type='tablet' bus='usb'/></devices></domain>";
	struct fixture fx = {};
	char **argv, *xml, *pve;

	setup_plan(&fx, "[vm]\nname=w\ncpus=6\nfirmware=bios\naccel=tcg\ntemplate=windows11\n"
			"network=none\n[gpu]\ndevice=c4:00.0\n");
	argv = argv_of(fx.plan);
	assert_string_equal(opt_value(argv, "-cpu", ""), "max,kvm=off");
	assert_string_equal(opt_value(argv, "-smp", ""), "6,sockets=1,cores=6,threads=1");
	assert_non_null(opt_value(argv, "-device", "usb-tablet"));
	strv_free(argv);
	xml = libvirt(fx.plan, false);
	assert_null(strstr(xml, "<hyperv"));
	assert_null(strstr(xml, "hypervclock"));
	assert_non_null(strstr(xml, "<kvm>\n      <hidden state=\"on\"/>"));
	assert_non_null(strstr(xml, "<cpu mode=\"maximum\""));
	assert_non_null(
	    strstr(xml, "<topology sockets=\"1\" dies=\"1\" cores=\"6\" threads=\"1\"/>"));
	assert_non_null(strstr(xml, "<clock offset=\"localtime\">"));
	assert_non_null(strstr(xml, "<input type=\"tablet\" bus=\"usb\"/>"));
	free(xml);
	pve = proxmox(fx.plan, &no_options);
	assert_non_null(strstr(pve, "\nkvm: 0\ncpu: max,hidden=1\nsockets: 1\ncores: 6\n"));
	assert_null(strstr(pve, "hv-"));
	assert_non_null(strstr(pve, "\ntablet: 1\n"));
	free(pve);
	teardown_plan(&fx);

	/* Linux on a template that has none of it: the rows are added, the Windows ones not */
	setup_plan(&fx, "[vm]\nname=l\ncpus=3\nfirmware=bios\nnetwork=none\n[gpu]\n"
			"device=c4:00.0\n");
	argv = argv_of(fx.plan);
	assert_string_equal(opt_value(argv, "-machine", ""), "q35,hpet=off");
	assert_string_equal(opt_value(argv, "-cpu", ""), "host");
	assert_string_equal(opt_value(argv, "-rtc", ""), "driftfix=slew");
	assert_null(opt_value(argv, "-device", "usb-tablet"));
	assert_null(opt_value(argv, "-global", "ICH9-LPC"));
	strv_free(argv);
	assert_int_equal(emit_libvirt_xml_from_buffer(fx.plan, bare, strlen(bare), false, &xml), 0);
	assert_null(strstr(xml, "tablet"));
	assert_non_null(strstr(xml, "<cpu mode=\"host-passthrough\">\n    <topology sockets=\"1\" "
				    "cores=\"3\" threads=\"1\"/>"));
	assert_non_null(strstr(xml, "<clock offset=\"utc\">"));
	assert_non_null(strstr(xml, "<timer name=\"rtc\" tickpolicy=\"catchup\"/>"));
	assert_non_null(strstr(xml, "<timer name=\"pit\" tickpolicy=\"delay\"/>"));
	assert_non_null(strstr(xml, "<timer name=\"hpet\" present=\"no\"/>"));
	assert_non_null(strstr(xml, "<controller type=\"usb\" model=\"qemu-xhci\"/>"));
	assert_null(strstr(xml, "<pm>"));
	free(xml);
	pve = proxmox(fx.plan, &no_options);
	assert_non_null(strstr(pve, "\nmachine: q35\n"));
	assert_non_null(strstr(pve, "\ncpu: host\nsockets: 1\ncores: 3\ntdf: 1\ntablet: 0\n"));
	assert_null(strstr(pve, "args:"));
	free(pve);
	teardown_plan(&fx);
}

static void test_libvirt(void **state)
{
	(void)state;
	struct fixture fx = {};
	char *xml;

	setup_plan(&fx, strix);
	xml = libvirt(fx.plan, false);
	assert_non_null(strstr(xml, " type=\"kvm\">"));
	assert_non_null(strstr(xml, "<name>win11</name>"));
	assert_non_null(strstr(xml, "<memory unit=\"MiB\">8192</memory>"));
	assert_non_null(strstr(xml, "<vcpu placement=\"static\">4</vcpu>"));
	assert_non_null(
	    strstr(xml, "<topology sockets=\"1\" dies=\"1\" cores=\"4\" threads=\"1\"/>"));
	assert_non_null(strstr(xml,
			       "<loader readonly=\"yes\" secure=\"yes\" type=\"pflash\">/R/usr/"
			       "share/OVMF/OVMF_CODE_4M.secboot.fd</loader>"));
	assert_non_null(strstr(xml, "<nvram template=\"/R/usr/share/OVMF/OVMF_VARS_4M.ms.fd\">/R/"
				    "var/lib/gpurun/vars/win11_VARS.fd</nvram>"));
	assert_null(strstr(xml, "firmware=\"efi\""));
	assert_non_null(strstr(xml, "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"no\">"));
	assert_non_null(strstr(xml, "<address domain=\"0x0000\" bus=\"0xc4\" slot=\"0x00\" "
				    "function=\"0x1\"/>"));
	assert_non_null(strstr(xml, "<rom file=\"/R/var/lib/gpurun/roms/AMDGopDriver.rom\"/>"));
	assert_non_null(strstr(xml, "multifunction=\"on\""));
	assert_non_null(strstr(xml, "<source file=\"/vm/a,b.qcow2\"/>"));
	assert_non_null(strstr(xml, "<backend type=\"emulator\" version=\"2.0\"/>"));
	assert_non_null(strstr(xml, "xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\""));
	assert_non_null(strstr(xml,
			       "<qemu:commandline>\n    <qemu:arg value=\"-S\"/>\n    "
			       "<qemu:arg value=\"-monitor\"/>\n    <qemu:arg value=\"stdio\"/>"));
	free(xml);
	xml = libvirt(fx.plan, true);
	assert_non_null(strstr(xml, "managed=\"yes\""));
	assert_null(strstr(xml, "managed=\"no\""));
	free(xml);
	teardown_plan(&fx);
}

static void test_libvirt_escaping(void **state)
{
	(void)state;
	struct fixture fx = {};
	char *xml = NULL;

	setup_plan(&fx, "[vm]\nname=a\nfirmware=bios\naccel=tcg\ndisk=\"/vm/<a>&'b\\\" c.img\"\n"
			"[gpu]\ndevice=c4:00.0\n");
	xml = libvirt(fx.plan, false);
	assert_non_null(strstr(xml, "<source file=\"/vm/&lt;a&gt;&amp;'b&quot; c.img\"/>"));
	assert_non_null(strstr(xml, "<domain type=\"qemu\">"));
	assert_null(strstr(xml, "<loader"));
	assert_null(strstr(xml, "firmware="));
	free(xml);

	/* templates that are not a domain, or not XML */
	assert_int_equal(emit_libvirt_xml_from_buffer(fx.plan, "<network/>", 10, false, &xml),
			 -EBADMSG);
	assert_int_equal(emit_libvirt_xml_from_buffer(fx.plan, "<domain", 7, false, &xml),
			 -EBADMSG);
	free(fx.profile->template);
	fx.profile->template = strdup("no-such-template");
	assert_int_equal(emit_xml(fx.plan, "xml-templates", false, &xml), -ENOENT);
	teardown_plan(&fx);
}

static void test_proxmox(void **state)
{
	(void)state;
	struct fixture fx = {};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	setup_plan(&fx, strix_pve);
	f = open_memstream(&buf, &len);
	assert_int_equal(emit_proxmox(fx.plan, &no_options, f), 0);
	fclose(f);
	assert_string_equal(
	    buf,
	    "# gpurun: Proxmox VE configuration for VM 'win11'\n"
	    "# Merge into /etc/pve/qemu-server/<vmid>.conf\n"
	    "name: win11\n"
	    "machine: q35,enable-s3=0,enable-s4=0\n"
	    "bios: ovmf\n"
	    "ostype: win11\n"
	    "cpu: host,hv-vendor-id=gpurun,flags=+hv-tlbflush,hidden=1\n"
	    "sockets: 1\n"
	    "cores: 4\n"
	    "tablet: 1\n"
	    "memory: 8192\n"
	    "balloon: 0\n"
	    "# 0000:c4:00.1 needs its own romfile (AMDGopDriver.rom, the GOP driver), and hostpci "
	    "gives romfile= to the first function of an entry only: one hostpciN per function of "
	    "0000:c4:00 (each on its own root port, unlike the QEMU and libvirt outputs; emit "
	    "proxmox --args keeps one multi-function device)\n"
	    "hostpci0: 0000:c4:00.0,pcie=1,romfile=vbios_1002_1586.bin\n"
	    "hostpci1: 0000:c4:00.1,pcie=1,romfile=AMDGopDriver.rom\n"
	    "args: -global host-x86_64-cpu.hv-frequencies=on -machine vmport=off -global "
	    "kvm-pit.lost_tick_policy=delay -S -monitor stdio\n"
	    "# UEFI: qemu-server uses its own OVMF build (pve-edk2-firmware), not the one gpurun "
	    "picked for the QEMU and libvirt outputs\n"
	    "# EFI vars disk: qm set <vmid> --efidisk0 <storage>:1,efitype=4m,pre-enrolled-keys=1\n"
	    "# TPM: qm set <vmid> --tpmstate0 <storage>:1,version=v2.0\n"
	    "# disks by path (as root; or qm disk import <vmid> PATH <storage> and name the volume "
	    "instead)\n"
	    "virtio0: /vm/a b.qcow2,format=qcow2\n"
	    "sata0: /iso/x y.iso,media=cdrom\n"
	    "# network = user has no Proxmox equivalent: add net0 on a bridge (net0: "
	    "virtio=aa:3d:a6:93:12:af,bridge=vmbr0)\n"
	    "# ROM files the hostpci romfile= entries name, in /usr/share/kvm/ (--stage copies "
	    "them):\n"
	    "#   vbios_1002_1586.bin <- VBIOS of 0000:c4:00.0 from the ACPI VFCT table (gpurun "
	    "vbios extract)\n"
	    "#   AMDGopDriver.rom: already there (GOP driver, on the HDMI audio function)\n");
	free(buf);
	teardown_plan(&fx);

	/* a drive line cannot hold a ',' in its path: refused, not cut */
	setup_plan(&fx, strix);
	f = fopen("/dev/null", "we");
	assert_int_equal(emit_proxmox(fx.plan, &no_options, f), -EINVAL);
	fclose(f);
	teardown_plan(&fx);
}

/* Run @e through the table into a string. */
static int emit_to_string(const struct emitter *e, const struct plan *p,
			  const struct emit_options *o, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	assert_non_null(f);
	r = e->emit(p, o, f);
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

static void test_emitter_table(void **state)
{
	(void)state;
	struct fixture fx = {};
	_cleanup_free_ char *names = NULL, *t = NULL, *got = NULL, *want = NULL;
	_cleanup_strv_free_ char **argv = NULL;
	struct emit_options o = { .qemu_binary = "qemu-system-x86_64" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_ptr_equal(emitter_find("xml"), &emitters[EMIT_LIBVIRT]);
	assert_ptr_equal(emitter_find("libvirt"), &emitters[EMIT_LIBVIRT]);
	assert_ptr_equal(emitter_find("args"), &emitters[EMIT_QEMU]);
	assert_ptr_equal(emitter_find("qemu"), &emitters[EMIT_QEMU]);
	assert_ptr_equal(emitter_find("proxmox"), &emitters[EMIT_PROXMOX]);
	assert_null(emitter_find("xen"));
	assert_null(emitter_find(""));

	/* names and suggestions come from the table */
	names = emitter_names();
	assert_string_equal(names, "qemu, libvirt or proxmox");
	assert_string_equal(emitter_suggest("libvrit"), "libvirt");
	assert_string_equal(emitter_suggest("promox"), "proxmox");
	assert_string_equal(emitter_suggest("xm"), "xml");
	assert_null(emitter_suggest("xen"));

	/* what each row needs and offers */
	assert_true(emitters[EMIT_LIBVIRT].needs_template);
	assert_false(emitters[EMIT_QEMU].needs_template || emitters[EMIT_PROXMOX].needs_template);
	assert_true(emitters[EMIT_LIBVIRT].takes_managed);
	assert_false(emitters[EMIT_QEMU].takes_managed || emitters[EMIT_PROXMOX].takes_managed);
	assert_true(emitters[EMIT_PROXMOX].names_rom_files);
	assert_false(emitters[EMIT_QEMU].names_rom_files || emitters[EMIT_LIBVIRT].names_rom_files);

	/* every row writes what its emitter's own API produces */
	setup_plan(&fx, strix_pve);
	assert_int_equal(emit_qemu_argv(fx.plan, o.qemu_binary, &argv), 0);
	f = open_memstream(&buf, &len);
	assert_int_equal(emit_qemu_header(fx.plan, f), 0);
	assert_int_equal(emit_qemu_print(argv, f), 0);
	fclose(f);
	assert_int_equal(emit_to_string(emitter_find("args"), fx.plan, &o, &got), 0);
	assert_string_equal(got, buf);
	free(buf);
	got = mfree(got);

	/* libvirt: no template loaded is a caller's mistake */
	assert_int_equal(emit_to_string(&emitters[EMIT_LIBVIRT], fx.plan, &o, &got), -EINVAL);
	assert_int_equal(
	    paths_load_template(NULL, "xml-templates", fx.profile->template, &t, &len, NULL), 0);
	o.template_xml = t;
	o.template_len = len;
	o.managed = true;
	assert_int_equal(emit_libvirt_xml_from_buffer(fx.plan, t, len, true, &want), 0);
	assert_int_equal(emit_to_string(&emitters[EMIT_LIBVIRT], fx.plan, &o, &got), 0);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "managed=\"yes\""));
	got = mfree(got);

	assert_int_equal(emit_to_string(&emitters[EMIT_PROXMOX], fx.plan, &o, &got), 0);
	assert_true(startswith(got, "# gpurun: Proxmox VE configuration for VM 'win11'\n"));
	got = mfree(got);

	fx.plan->resolved = false;
	for (size_t i = 0; i < ELEMENTSOF(emitters); i++)
		assert_int_equal(emit_to_string(&emitters[i], fx.plan, &o, &got), -ENODEV);
	teardown_plan(&fx);
}

static void test_load_template(void **state)
{
	(void)state;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;

	/* NULL is the linux template; a name is DIR/NAME.xml; a path is taken as given */
	assert_int_equal(paths_load_template(NULL, "xml-templates", NULL, &buf, &len, &err), 0);
	assert_true(len > 0 && strlen(buf) == len);
	assert_non_null(strstr(buf, "<domain"));
	assert_int_equal(paths_load_template(NULL, "/nonexistent", "xml-templates/linux.xml", &buf2,
					     &len2, &err),
			 0);
	assert_int_equal(len2, len);
	assert_memory_equal(buf, buf2, len);
	assert_false(error_is_set(&err));

	assert_int_equal(paths_load_template(NULL, "xml-templates", "nope", &buf2, &len2, &err),
			 -ENOENT);
	assert_int_equal(err.errnum, ENOENT);
	assert_string_equal(err.file, "xml-templates/nope.xml");
	assert_int_equal(
	    paths_load_template(NULL, "xml-templates", "/no/such.xml", &buf2, &len2, NULL),
	    -ENOENT);
}

static void test_templates_dir(void **state)
{
	(void)state;
	char *d;

	setenv("GPURUN_DATADIR", "/opt/gpurun", 1);
	d = paths_templates_dir();
	assert_string_equal(d, "/opt/gpurun/xml-templates");
	free(d);
	unsetenv("GPURUN_DATADIR");
	/* build/tests/test-emit has no ../xml-templates: the installed location */
	d = paths_templates_dir();
	assert_string_equal(d, GPURUN_DATADIR "/xml-templates");
	free(d);
}

static size_t count_id(const struct diag_list *d, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += streq(d->items[i].id, id) && d->items[i].status == DIAG_FAIL;
	return n;
}

static void test_proxmox_limits(void **state)
{
	(void)state;
	struct fixture fx = {};
	FILE *f = fopen("/dev/null", "we");
	struct plan_device *t;

	setup_plan(&fx, strix_pve);
	/* 17 entries: more than hostpci0..15 */
	t = realloc(fx.plan->devices, 17 * sizeof(*t));
	assert_non_null(t);
	fx.plan->devices = t;
	for (size_t i = fx.plan->n_devices; i < 17; i++) {
		t[i] = (struct plan_device){ .role = PLAN_ROLE_EXTRA, .guest_port = (unsigned)i };
		snprintf(t[i].address, sizeof(t[i].address), "0000:%02zx:00.0", i + 0x10);
	}
	fx.plan->n_devices = 17;
	assert_int_equal(emit_proxmox(fx.plan, &no_options, f), -E2BIG);
	teardown_plan(&fx);

	/* 17 disks: more than virtio0..15; the check names the limit, for Proxmox only */
	{
		_cleanup_free_ char *text = NULL, *disks = strdup("");
		struct diag_list d = {};

		for (int i = 0; i < 17; i++) {
			char *n = strdup_printf("%sdisk = /vm/d%d.img\n", disks, i);

			free(disks);
			disks = n;
		}
		text =
		    strdup_printf("[vm]\nname=m\nfirmware=bios\n%s[gpu]\ndevice=c4:00.0\n", disks);
		setup_plan(&fx, text);
		assert_int_equal(emit_proxmox(fx.plan, &no_options, f), -E2BIG);
		assert_int_equal(checks_output(fx.plan, EMIT_PROXMOX, &d), 0);
		assert_int_equal(d.n, 1);
		assert_string_equal(d.items[0].id, "output-limit");
		assert_int_equal(d.items[0].status, DIAG_FAIL);
		assert_string_equal(d.items[0].message, "Proxmox VE config: 17 disks, but Proxmox "
							"has virtio0..virtio15 (16 virtio disks)");
		diag_list_clear(&d);
		assert_int_equal(checks_output(fx.plan, EMIT_LIBVIRT, &d), 0);
		assert_int_equal(d.n, 0);
		/* the backend's output (qemu) was checked by plan_build: 17 + 3 fit on pcie.0 */
		assert_int_equal(count_id(&fx.plan->diags, "output-limit"), 0);
		assert_int_equal(checks_output(fx.plan, EMIT_QEMU, &d), 0);
		assert_int_equal(d.n, 0);
		teardown_plan(&fx);
	}
	/* 29 disks: more than q35's pcie.0 holds next to the NIC, the USB controller and the GPU's
	 * root port; a FAIL of the plan itself (backend = qemu) */
	{
		_cleanup_free_ char *text = NULL, *disks = strdup("");

		for (int i = 0; i < 28; i++) {
			char *n = strdup_printf("%sdisk = /vm/d%d.img\n", disks, i);

			free(disks);
			disks = n;
		}
		text =
		    strdup_printf("[vm]\nname=m\nfirmware=bios\n%s[gpu]\ndevice=c4:00.0\n", disks);
		setup_plan(&fx, text);
		assert_int_equal(count_id(&fx.plan->diags, "output-limit"), 1);
		for (size_t i = 0; i < fx.plan->diags.n; i++)
			if (streq(fx.plan->diags.items[i].id, "output-limit"))
				assert_string_equal(fx.plan->diags.items[i].message,
						    "QEMU command line: 31 devices on pcie.0 (1 "
						    "root port, 28 virtio "
						    "disks, 1 NIC, 1 USB controller), but q35's "
						    "pcie.0 has 30 free slots");
		teardown_plan(&fx);
	}
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu),
		cmocka_unit_test(test_qemu_refuses),
		cmocka_unit_test(test_shell_quote),
		cmocka_unit_test(test_guest_features),
		cmocka_unit_test(test_libvirt),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_libvirt_escaping),
		cmocka_unit_test(test_proxmox),
		cmocka_unit_test(test_emitter_table),
		cmocka_unit_test(test_load_template),
		cmocka_unit_test(test_templates_dir),
		cmocka_unit_test(test_proxmox_limits),
	};

	return testutil_run(tests);
}
