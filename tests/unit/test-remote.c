/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Remote libvirt nodes: the URI rule, the node-device XML corpus (tests/fixtures/nodedev/) into a
 * host snapshot and through the checks, the plan of a remote run, the journal rows. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/checks.h"
#include "core/libvirt-uri.h"
#include "core/nodedev.h"
#include "core/plan.h"
#include "core/profile.h"
#include "host/journal.h"
#include "testutil.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/strv.h"

static void test_uri_table(void **state)
{
	static const struct {
		const char *uri;
		int want; /* 1 remote, 0 local, -EINVAL */
	} cases[] = {
		{ "qemu:///system", 0 },
		{ "qemu:///session", 0 },
		{ "qemu+unix:///system", 0 },
		{ "qemu+unix:///system?socket=/run/libvirt/virtqemud-sock", 0 },
		{ "test:///default", 0 },
		{ "qemu://gpuhost/system", 1 },
		{ "qemu+ssh://root@gpuhost.example/system", 1 },
		{ "qemu+ssh://gpuhost:2222/system?keyfile=/root/.ssh/id", 1 },
		{ "qemu+tcp://10.0.0.2:16509/system", 1 },
		{ "qemu+tls://gpuhost.example/system", 1 },
		{ "qemu+libssh2://user@gpuhost/system", 1 },
		{ "qemu+libssh://gpuhost/system", 1 },
		/* loopback and localhost are remote: a port forward or tunnel ends elsewhere */
		{ "qemu+tcp://127.0.0.1:16509/system", 1 },
		{ "qemu://localhost/system", 1 },
		/* an authority without a host libxml2 can show is still not this machine's daemon */
		{ "qemu://%00/system", 1 },
		{ "qemu://user@/system", 1 },
		{ "qemu://:16509/system", 1 },
		/* a network transport without a host */
		{ "qemu+ssh:///system", 1 },
		{ "qemu+tcp:///system", 1 },
		{ "qemu+ext:///system?command=/bin/true", 1 },
		/* a socket of its own may be forwarded from another machine; the daemon's are local */
		{ "qemu:///system?socket=/run/libvirt/libvirt-sock", 0 },
		{ "qemu:///system?socket=/var/run/libvirt/libvirt-sock", 0 },
		{ "qemu:///session?socket=/run/user/1000/libvirt/virtqemud-sock", 0 },
		{ "qemu:///system?socket=%2Frun%2Flibvirt%2Flibvirt-sock", 0 },
		{ "qemu:///system?socket=/tmp/gpuhost.sock", 1 },
		{ "qemu+unix:///system?socket=/tmp/gpuhost.sock", 1 },
		{ "qemu+unix:///system?mode=direct&socket=/home/u/fwd.sock", 1 },
		{ "qemu+unix:///system?socket=/run/libvirt/../../tmp/fwd.sock", 1 },
		{ "qemu+unix:///system?socket=/run/libvirt/fwd/libvirt-sock", 1 },
		{ "qemu+unix:///system?socket=", 1 },
		{ "test:///default?socket=/tmp/x", 1 },
		/* not URIs gpurun accepts */
		{ "", -EINVAL },
		{ "system", -EINVAL },
		{ "/var/run/libvirt", -EINVAL },
		{ "qemu+carrierpigeon://host/system", -EINVAL },
		{ "qemu+ssh://gpu host/system", -EINVAL },
		{ "QE MU:///system", -EINVAL },
		{ "QEMU+SSH://gpuhost/system", -EINVAL },
		{ "qemu+SSH://gpuhost/system", -EINVAL },
		{ "qemu://[::1/system", -EINVAL },
	};
	(void)state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(error_clear) struct error err = {};
		int r = libvirt_uri_is_remote(cases[i].uri, &err);

		if (r != cases[i].want)
			print_error("%s: got %d, want %d\n", cases[i].uri, r, cases[i].want);
		assert_int_equal(r, cases[i].want);
		if (r < 0) {
			assert_non_null(err.message);
			assert_non_null(strstr(err.message, "URI"));
		}
		/* an upper-case scheme names the lower-case one libvirt knows */
		if (strstr(cases[i].uri, "SSH:"))
			assert_non_null(strstr(err.message, "lower case ('qemu+ssh')"));
	}
}

static void test_profile_uri(void **state)
{
	static const char bad[] = "[vm]\nname = x\nbackend = libvirt\nlibvirt-uri = system\n"
				  "[gpu]\ndevice = 03:00.0\n";
	static const char good[] =
	    "[vm]\nname = x\nbackend = libvirt\n"
	    "libvirt-uri = qemu+ssh://gpuhost/system\n[gpu]\ndevice = 03:00.0\n";
	_cleanup_(error_clear) struct error err = {};
	struct profile *p = NULL;
	(void)state;

	assert_int_equal(profile_parse(bad, strlen(bad), "t.profile", &p, &err), -EINVAL);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.message, "libvirt-uri"));
	assert_non_null(strstr(err.message, "not a libvirt URI"));
	error_clear(&err);
	assert_int_equal(profile_parse(good, strlen(good), "t.profile", &p, &err), 0);
	assert_string_equal(p->libvirt_uri, "qemu+ssh://gpuhost/system");
	profile_free(p);
}

/* The corpus: every pci_*.xml of tests/fixtures/nodedev/NAME, as a real libvirtd prints them. */
static struct host *corpus_host(const char *name, const char *uri)
{
	_cleanup_free_ char *dir = path_join(getenv("GPURUN_TOP") ? getenv("GPURUN_TOP") : ".",
					     "tests/fixtures/nodedev", name);
	_cleanup_(error_clear) struct error err = {};
	char *xmls[64];
	size_t lens[64], n = 0;
	struct host *h = NULL;
	struct dirent *de;
	DIR *d;

	assert_non_null(dir);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (startswith(de->d_name, "pci_") && n < ELEMENTSOF(xmls)) {
			_cleanup_free_ char *p = path_join(dir, de->d_name);

			assert_int_equal(read_full_file(p, 1 << 20, &xmls[n], &lens[n]), 0);
			n++;
		}
	closedir(d);
	assert_true(n > 0);
	if (nodedev_host_build(uri, (const char *const *)xmls, lens, n, &h, &err) < 0)
		print_error("%s\n", err.message);
	for (size_t i = 0; i < n; i++)
		free(xmls[i]);
	assert_non_null(h);
	return h;
}

static const struct diag *find(const struct diag_list *d, const char *id)
{
	for (size_t i = 0; i < d->n; i++)
		if (streq(d->items[i].id, id))
			return &d->items[i];
	return NULL;
}

static void test_corpus(void **state)
{
	struct host *h = corpus_host("desktop-dgpu", "qemu+ssh://gpuhost/system");
	const struct pci_func *gpu, *audio;
	const struct iommu_group *g;
	struct diag_list d = {};
	(void)state;

	assert_int_equal(h->n_funcs, 13);
	assert_int_equal(h->n_groups, 10);
	assert_string_equal(h->remote_uri, "qemu+ssh://gpuhost/system");
	for (size_t i = 1; i < h->n_funcs; i++)
		assert_true(strcmp(h->funcs[i - 1].address, h->funcs[i].address) < 0);
	gpu = host_find_func(h, "0000:03:00.0");
	audio = host_find_func(h, "0000:03:00.1");
	assert_non_null(gpu);
	assert_non_null(audio);
	assert_int_equal(gpu->vendor, 0x1002);
	assert_int_equal(gpu->device, 0x73bf);
	assert_int_equal(gpu->class, 0x030000);
	assert_string_equal(gpu->driver, "amdgpu");
	assert_string_equal(audio->driver, "snd_hda_intel");
	assert_int_equal(gpu->iommu_group, 7);
	assert_int_equal(gpu->boot_vga, -1); /* unknown, not "no" */
	assert_true(host_find_func(h, "0000:01:00.0")->is_bridge);
	assert_null(host_find_func(h, "0000:00:1f.0")->driver);
	g = host_find_group(h, 7);
	assert_non_null(g);
	assert_int_equal(g->n_members, 4);

	/* the same checks as a local host; what libvirt does not show is INFO, never PASS/FAIL */
	assert_int_equal(checks_host(h, true, &d), 0);
	assert_int_equal(checks_gpu(h, gpu, NULL, false, &d), 0);
	assert_int_equal(diag_count(&d, DIAG_FAIL), 0);
	assert_int_equal(diag_count(&d, DIAG_WARN), 0);
	assert_int_equal(find(&d, "cpu-virt")->status, DIAG_INFO);
	assert_int_equal(find(&d, "kvm")->status, DIAG_INFO);
	assert_int_equal(find(&d, "iommu-enabled")->status, DIAG_PASS);
	assert_int_equal(find(&d, "interrupt-remapping")->status, DIAG_INFO);
	assert_int_equal(find(&d, "vfio-modules")->status, DIAG_INFO);
	assert_int_equal(find(&d, "group-viable")->status, DIAG_PASS);
	assert_int_equal(find(&d, "boot-vga")->status, DIAG_INFO);
	assert_int_equal(find(&d, "gpu-reset")->status, DIAG_INFO);
	assert_int_equal(find(&d, "gpu-vbios")->status, DIAG_INFO);
	assert_int_equal(find(&d, "gpu-driver")->status, DIAG_PASS);
	diag_list_clear(&d);

	/* a node without any IOMMU group: a FAIL, as on this machine */
	for (size_t i = 0; i < h->n_funcs; i++)
		h->funcs[i].iommu_group = -1;
	for (size_t i = 0; i < h->n_groups; i++)
		free(h->groups[i].members);
	h->n_groups = 0;
	assert_int_equal(checks_host(h, true, &d), 0);
	assert_int_equal(find(&d, "iommu-enabled")->status, DIAG_FAIL);
	assert_non_null(strstr(find(&d, "iommu-enabled")->message, "gpuhost"));
	diag_list_clear(&d);
	host_free(h);
}

/* Captured from the tests/vm sandbox's libvirtd (tests/vm/scenarios/remote.sh, `virsh
 * nodedev-dumpxml` through the forwarded qemu+tcp port): sandbox/ with the host drivers bound,
 * sandbox-vfio/ while gpurun's run had both functions detached to vfio-pci. */
static void test_corpus_sandbox(void **state)
{
	static const char uri[] = "qemu+tcp://127.0.0.1:16509/system";
	char *const both[] = { (char *)"0000:01:00.0", (char *)"0000:01:00.1", NULL };
	struct host *h = corpus_host("sandbox", uri);
	const struct pci_func *gpu, *audio;
	struct diag_list d = {};
	(void)state;

	assert_int_equal(h->n_funcs, 9);
	assert_int_equal(h->n_groups, 6);
	gpu = host_find_func(h, "0000:01:00.0");
	audio = host_find_func(h, "0000:01:00.1");
	assert_non_null(gpu);
	assert_non_null(audio);
	assert_int_equal(gpu->vendor, 0x1002);
	assert_int_equal(gpu->device, 0x5046);
	assert_int_equal(gpu->class, 0x030000);
	assert_int_equal(audio->vendor, 0x8086);
	assert_int_equal(audio->device, 0x293e);
	assert_int_equal(audio->class, 0x040300);
	assert_string_equal(gpu->driver, "aty128fb");
	assert_string_equal(audio->driver, "snd_hda_intel");
	assert_int_equal(gpu->iommu_group, 5);
	assert_int_equal(audio->iommu_group, 5);
	assert_int_equal(host_find_group(h, 5)->n_members, 2);
	assert_int_equal(host_find_group(h, 4)->n_members, 3);
	assert_int_equal(gpu->boot_vga, -1);
	assert_true(host_find_func(h, "0000:00:02.0")->is_bridge);
	assert_string_equal(host_find_func(h, "0000:00:02.0")->driver, "pcieport");
	assert_null(host_find_func(h, "0000:00:1f.0")->driver);

	/* the emulated GPU's group also holds an Intel HDA function: by default not viable... */
	assert_int_equal(checks_gpu(h, gpu, NULL, false, &d), 0);
	assert_int_equal(diag_count(&d, DIAG_FAIL), 1);
	assert_int_equal(find(&d, "group-viable")->status, DIAG_FAIL);
	assert_non_null(strstr(find(&d, "group-viable")->message, "0000:01:00.1 [8086:293e]"));
	diag_list_clear(&d);
	/* ...viable when both go (the profile's functions = 01:00.0, 01:00.1) */
	assert_int_equal(checks_host(h, true, &d), 0);
	assert_int_equal(checks_gpu(h, gpu, both, false, &d), 0);
	assert_int_equal(diag_count(&d, DIAG_FAIL), 0);
	assert_int_equal(find(&d, "iommu-enabled")->status, DIAG_PASS);
	assert_non_null(strstr(find(&d, "iommu-enabled")->message, "6 IOMMU groups"));
	assert_int_equal(find(&d, "group-viable")->status, DIAG_PASS);
	assert_int_equal(find(&d, "interrupt-remapping")->status, DIAG_INFO);
	assert_int_equal(find(&d, "gpu-reset")->status, DIAG_INFO);
	diag_list_clear(&d);
	host_free(h);

	h = corpus_host("sandbox-vfio", uri);
	assert_int_equal(h->n_funcs, 9);
	assert_string_equal(host_find_func(h, "0000:01:00.0")->driver, "vfio-pci");
	assert_string_equal(host_find_func(h, "0000:01:00.1")->driver, "vfio-pci");
	assert_int_equal(host_find_group(h, 5)->n_members, 2);
	host_free(h);
}

static void test_nodedev_parse(void **state)
{
	static const char other[] = "<device><name>net_eth0</name><capability type='net'>"
				    "<interface>eth0</interface></capability></device>";
	static const char noaddr[] =
	    "<device><name>pci_x</name><capability type='pci'>"
	    "<vendor id='0x1002'/><product id='0x1'/></capability></device>";
	static const char badid[] =
	    "<device><name>pci_0000_03_00_0</name><capability type='pci'>"
	    "<domain>0</domain><bus>3</bus><slot>0</slot><function>0</function>"
	    "<vendor id='0x10002'/><product id='0x1'/></capability></device>";
	static const char old[] = "<device><name>pci_0000_c4_00_1</name><driver><name> vfio-pci "
				  "</name></driver><capability type='pci'><domain>0</domain>"
				  "<bus>196</bus><slot>0</slot><function>1</function>"
				  "<product id='0x1640'/><vendor id='0x1002'>AMD</vendor>"
				  "</capability></device>";
	static const char pool[] = "<pool type='dir'><name>gpurun</name><target><path>"
				   "/var/lib/gpurun/roms</path></target></pool>";
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *path = NULL, *name = NULL;
	struct pci_func f;
	(void)state;

	assert_int_equal(nodedev_parse_pci(other, strlen(other), &f, &err), 0);
	assert_int_equal(nodedev_parse_pci("<device", 7, &f, &err), -EINVAL);
	assert_int_equal(nodedev_parse_pci(noaddr, strlen(noaddr), &f, &err), -EINVAL);
	assert_non_null(strstr(err.message, "pci_x"));
	assert_int_equal(nodedev_parse_pci(badid, strlen(badid), &f, &err), -EINVAL);
	assert_non_null(strstr(err.message, "vendor"));
	/* libvirt before 5.2: no <class>; the driver's name is trimmed */
	assert_int_equal(nodedev_parse_pci(old, strlen(old), &f, &err), 1);
	assert_string_equal(f.address, "0000:c4:00.1");
	assert_int_equal(f.class, 0);
	assert_int_equal(f.iommu_group, -1);
	assert_string_equal(f.driver, "vfio-pci");
	assert_string_equal(f.vendor_name, "AMD");
	host_func_clear(&f);

	assert_int_equal(nodedev_pool_path(pool, strlen(pool), &path), 0);
	assert_string_equal(path, "/var/lib/gpurun/roms");
	assert_int_equal(nodedev_pool_path("<pool/>", 7, &name), -ENOENT);

	name = nodedev_name_from_address("0000:c4:00.1");
	assert_string_equal(name, "pci_0000_c4_00_1");
	assert_true(nodedev_name_valid(name));
	assert_false(nodedev_name_valid("pci_0000_c4_00_1/../x"));
	assert_false(nodedev_name_valid("pci_0000_C4_00_1"));
	assert_false(nodedev_name_valid("net_eth0"));
}

static struct plan *remote_plan(struct host *h, const char *text)
{
	_cleanup_(error_clear) struct error err = {};
	struct plan_paths paths = testutil_plan_paths(true);
	struct profile *pr = NULL;
	struct plan *p = NULL;

	if (profile_parse(text, strlen(text), "t.profile", &pr, &err) < 0)
		print_error("%s\n", err.message);
	assert_non_null(pr);
	assert_int_equal(plan_build(pr, h, &paths, &p), 0);
	plan_paths_done(&paths);
	return p;
}

/* The plan and the profile it borrows. */
static void plan_done(struct plan *p)
{
	profile_free((struct profile *)p->profile);
	plan_free(p);
}

static const struct diag *plan_diag(const struct plan *p, enum diag_status s, const char *id)
{
	for (size_t i = 0; i < p->diags.n; i++)
		if (p->diags.items[i].status == s && streq(p->diags.items[i].id, id))
			return &p->diags.items[i];
	return NULL;
}

static void test_remote_plan(void **state)
{
	static const char text[] = "[vm]\nname = r\nfirmware = uefi\ntpm = yes\nbackend = libvirt\n"
				   "libvirt-uri = qemu+ssh://gpuhost/system\n"
				   "[gpu]\ndevice = 0000:03:00.0\nfunctions = all\n"
				   "vbios = /home/me/navi21.rom\nallow-boot-vga = yes\n";
	static const char vfct[] = "[vm]\nname = r\nbackend = libvirt\n"
				   "libvirt-uri = qemu+ssh://gpuhost/system\n"
				   "[gpu]\ndevice = 0000:03:00.0\nvbios = vfct\n";
	struct host *h = corpus_host("desktop-dgpu", "qemu+ssh://gpuhost/system");
	struct plan *p;
	(void)state;

	/* pretend the node's GPU holds its console: a local plan would unbind it */
	for (size_t i = 0; i < h->n_funcs; i++)
		if (streq(h->funcs[i].address, "0000:03:00.0")) {
			h->funcs[i].boot_vga = 1;
			h->funcs[i].console = true;
			h->funcs[i].fb_platform = strdup("efi-framebuffer.0");
		}
	assert_int_equal(strv_extend(&h->vtconsoles, "vtcon1: frame buffer device (bound)"), 0);

	/* no ROM pool on the node: the ROM cannot be placed, a FAIL that says how to make one */
	p = remote_plan(h, text);
	assert_string_equal(p->remote_uri, "qemu+ssh://gpuhost/system");
	assert_non_null(plan_diag(p, DIAG_FAIL, "rom-pool"));
	assert_non_null(strstr(plan_diag(p, DIAG_FAIL, "rom-pool")->fix, "pool-define-as gpurun"));
	plan_done(p);

	h->remote_rom_pool = strdup("gpurun");
	h->remote_rom_dir = strdup("/srv/roms");
	p = remote_plan(h, text);
	assert_null(plan_diag(p, DIAG_FAIL, "rom-pool"));
	/* nothing of this machine: no modules, no local ROM staging, no console, no sysfs bind */
	assert_int_equal(p->n_actions, 3);
	assert_int_equal(p->actions[0].kind, PLAN_ACTION_UPLOAD_ROM);
	assert_string_equal(p->actions[0].target, "navi21.rom");
	assert_string_equal(p->actions[0].source, "/home/me/navi21.rom");
	/* audio before the GPU */
	assert_int_equal(p->actions[1].kind, PLAN_ACTION_NODEDEV_DETACH);
	assert_string_equal(p->actions[1].target, "0000:03:00.1");
	assert_string_equal(p->actions[1].source, "snd_hda_intel");
	assert_int_equal(p->actions[2].kind, PLAN_ACTION_NODEDEV_DETACH);
	assert_string_equal(p->actions[2].target, "0000:03:00.0");
	assert_string_equal(p->devices[0].romfile, "/srv/roms/navi21.rom");
	/* the node's libvirt picks its firmware; no swtpm or variable store here */
	assert_null(p->ovmf_code);
	assert_null(p->ovmf_vars);
	assert_null(p->tpm_dir);
	assert_non_null(plan_diag(p, DIAG_INFO, "firmware"));
	for (size_t i = 0; i < p->diags.n; i++)
		assert_false(p->diags.items[i].status == DIAG_PASS &&
			     streq(p->diags.items[i].id, "boot-vga"));
	plan_done(p);

	/* the node's VFCT table cannot be read through libvirt */
	p = remote_plan(h, vfct);
	assert_non_null(plan_diag(p, DIAG_FAIL, "vbios"));
	assert_non_null(strstr(plan_diag(p, DIAG_FAIL, "vbios")->fix, "gpurun vbios extract"));
	for (size_t i = 0; i < p->n_actions; i++)
		assert_int_equal(p->actions[i].kind, PLAN_ACTION_NODEDEV_DETACH);
	plan_done(p);
	host_free(h);
}

static void test_journal_rows(void **state)
{
	static const char good[] =
	    "gpurun-journal 1 r 42\n"
	    "volume qemu+ssh://gpuhost/system gpurun navi21.rom\n"
	    "nodedev-detach qemu+ssh://gpuhost/system pci_0000_03_00_1 driver=snd_hda_intel\n"
	    "nodedev-detach qemu+ssh://gpuhost/system pci_0000_03_00_0 driver=\n";
	static const char *const bad[] = {
		"gpurun-journal 1 r 42\nnodedev-detach qemu+ssh://gpuhost/system ../etc driver=\n",
		"gpurun-journal 1 r 42\nnodedev-detach system pci_0000_03_00_0 driver=\n",
		"gpurun-journal 1 r 42\nnodedev-detach qemu:///system pci_0000_03_00_0 drv=x\n",
		"gpurun-journal 1 r 42\nvolume qemu+ssh://gpuhost/system gpurun ../x.rom\n",
		"gpurun-journal 1 r 42\nvolume qemu+ssh://gpuhost/system gpurun\n",
	};
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *line = NULL;
	struct journal *j = NULL;
	(void)state;

	assert_int_equal(journal_parse(good, strlen(good), &j, &err), 0);
	assert_int_equal(j->n_entries, 3);
	assert_int_equal(j->entries[0].kind, JOURNAL_VOLUME);
	assert_string_equal(j->entries[0].value, "gpurun");
	assert_string_equal(j->entries[0].extra, "navi21.rom");
	assert_int_equal(j->entries[1].kind, JOURNAL_NODEDEV);
	assert_string_equal(j->entries[1].target, "qemu+ssh://gpuhost/system");
	assert_string_equal(j->entries[1].value, "pci_0000_03_00_1");
	assert_string_equal(j->entries[1].extra, "snd_hda_intel");
	assert_string_equal(j->entries[2].extra, "");
	journal_free(j);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		j = NULL;
		error_clear(&err);
		assert_int_equal(journal_parse(bad[i], strlen(bad[i]), &j, &err), -EBADMSG);
		assert_int_equal(err.line, 2);
	}
	line = journal_format_entry(JOURNAL_NODEDEV, "qemu+tcp://127.0.0.1:16509/system",
				    "pci_0000_01_00_0", "");
	assert_string_equal(line, "nodedev-detach qemu+tcp://127.0.0.1:16509/system "
				  "pci_0000_01_00_0 driver=\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_table),     cmocka_unit_test(test_profile_uri),
		cmocka_unit_test(test_corpus),	      cmocka_unit_test(test_corpus_sandbox),
		cmocka_unit_test(test_nodedev_parse), cmocka_unit_test(test_remote_plan),
		cmocka_unit_test(test_journal_rows),
	};

	return testutil_run(tests);
}
