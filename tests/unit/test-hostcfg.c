/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <sys/stat.h>

#include "core/diag.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/inspect.h"
#include "hostcfg/backup.h"
#include "hostcfg/bootloader.h"
#include "hostcfg/cmdline-edit.h"
#include "hostcfg/diff.h"
#include "hostcfg/hostcfg.h"
#include "hostcfg/initramfs.h"
#include "hostcfg/modprobe-edit.h"
#include "testutil.h"
#include "util/error.h"
#include "util/strv.h"

static char **sv(const char *a, const char *b, const char *c)
{
	char **l = calloc(1, sizeof(char *));

	assert_non_null(l);
	if (a)
		assert_int_equal(strv_extend(&l, a), 0);
	if (b)
		assert_int_equal(strv_extend(&l, b), 0);
	if (c)
		assert_int_equal(strv_extend(&l, c), 0);
	return l;
}

static const struct diag *find_diag(const struct diag_list *d, enum diag_status s, const char *id)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].status == s && streq(d->items[i].id, id))
			return &d->items[i];
	return NULL;
}

static void test_cmdline_split(void **state)
{
	_cleanup_strv_free_ char **t = NULL;
	const char *s = "  root=ZFS=rpool/ROOT/pve-1 boot=zfs  dyndbg=\"file x.c +p\"\tquiet\n";

	(void)state;
	assert_int_equal(cmdline_split(s, strlen(s), &t), 0);
	assert_int_equal(strv_length(t), 4);
	assert_string_equal(t[0], "root=ZFS=rpool/ROOT/pve-1");
	assert_string_equal(t[2], "dyndbg=\"file x.c +p\"");
	assert_string_equal(t[3], "quiet");
}

static void test_cmdline_missing(void **state)
{
	_cleanup_strv_free_ char **want =
	    sv("amd_iommu=on", "iommu=pt", "initcall_blacklist=sysfb_init");
	_cleanup_strv_free_ char **p1 =
	    sv("quiet", "iommu=soft", "initcall_blacklist=foo,sysfb_init");
	_cleanup_strv_free_ char **p2 = sv("intel_iommu=on,igfx_off", "iommu=pt", NULL);
	_cleanup_strv_free_ char **w2 = sv("intel_iommu=on", "iommu=pt", NULL);
	_cleanup_strv_free_ char **p3 = sv("amd_iommu=off", NULL, NULL);
	char **add = NULL;
	struct diag_list d = { 0 };
	const struct diag *x;

	(void)state;
	/* iommu=soft is the user's: warn, keep it, do not add iommu=pt next to it */
	assert_int_equal(cmdline_missing(p1, NULL, want, "/etc/kernel/cmdline", &d, &add), 0);
	assert_int_equal(strv_length(add), 1);
	assert_string_equal(add[0], "amd_iommu=on");
	x = find_diag(&d, DIAG_WARN, "hostcfg-conflict");
	assert_non_null(x);
	assert_non_null(strstr(x->message, "'iommu=soft'"));
	assert_non_null(strstr(x->message, "/etc/kernel/cmdline"));
	add = strv_free(add);
	diag_list_clear(&d);

	/* comma lists count */
	assert_int_equal(cmdline_missing(p2, NULL, w2, "x", &d, &add), 0);
	assert_int_equal(strv_length(add), 0);
	assert_int_equal(d.n, 0);
	add = strv_free(add);

	assert_int_equal(cmdline_missing(p3, NULL, want, "x", &d, &add), 0);
	assert_int_equal(strv_length(add), 2);
	assert_string_equal(add[0], "iommu=pt");
	assert_non_null(find_diag(&d, DIAG_WARN, "hostcfg-conflict"));
	add = strv_free(add);
	diag_list_clear(&d);

	/* nothing present: everything, in order, once */
	assert_int_equal(cmdline_missing(NULL, NULL, want, "x", &d, &add), 0);
	assert_int_equal(strv_length(add), 3);
	assert_string_equal(add[2], "initcall_blacklist=sysfb_init");
	strv_free(add);
}

static void test_cmdline_edit(void **state)
{
	_cleanup_strv_free_ char **add = sv("amd_iommu=on", "iommu=pt", NULL);
	_cleanup_strv_free_ char **none = sv(NULL, NULL, NULL);
	const char *in = "root=ZFS=rpool/ROOT/pve-1 boot=zfs \n";
	char *out = NULL;
	_cleanup_(error_clear) struct error err = {};

	(void)state;
	assert_int_equal(cmdline_edit(in, strlen(in), add, &out, NULL), 0);
	assert_string_equal(out, "root=ZFS=rpool/ROOT/pve-1 boot=zfs amd_iommu=on iommu=pt\n");
	free(out);
	/* no trailing newline in the original: one is added */
	assert_int_equal(cmdline_edit("quiet", 5, add, &out, NULL), 0);
	assert_string_equal(out, "quiet amd_iommu=on iommu=pt\n");
	free(out);
	assert_int_equal(cmdline_edit(NULL, 0, add, &out, NULL), 0);
	assert_string_equal(out, "amd_iommu=on iommu=pt\n");
	free(out);
	assert_int_equal(cmdline_edit(in, strlen(in), none, &out, &err), 0);
	assert_string_equal(out, in);
	assert_false(error_is_set(&err));
	free(out);

	/* binary data: refused, the error names the line (the caller adds the file) */
	out = NULL;
	assert_int_equal(cmdline_edit("quiet\nx\0y\n", 10, add, &out, &err), -EINVAL);
	assert_null(out);
	assert_int_equal(err.errnum, EINVAL);
	assert_int_equal(err.line, 2);
	assert_null(err.file);
	assert_non_null(strstr(err.message, "NUL byte"));
}

static void test_grub_edit(void **state)
{
	_cleanup_strv_free_ char **add = sv("intel_iommu=on", "iommu=pt", NULL);
	_cleanup_strv_free_ char **tok = NULL;
	char *out = NULL;
	_cleanup_(error_clear) struct error err = {};
	const char *dq = "# comment GRUB_CMDLINE_LINUX_DEFAULT=\"x\"\n"
			 "GRUB_DEFAULT=0\n"
			 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
			 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"  # the last one wins\n"
			 "GRUB_CMDLINE_LINUX=\"rhgb\"\n";
	const char *multi = "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\n splash\"\n";

	(void)state;
	assert_int_equal(cmdline_grub_edit(dq, strlen(dq), add, &out, &err), 0);
	assert_string_equal(out, "# comment GRUB_CMDLINE_LINUX_DEFAULT=\"x\"\n"
				 "GRUB_DEFAULT=0\n"
				 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
				 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash intel_iommu=on "
				 "iommu=pt\"  # the last one wins\n"
				 "GRUB_CMDLINE_LINUX=\"rhgb\"\n");
	free(out);

	assert_int_equal(bootloader_file_cmdline(HOSTCFG_FILE_GRUB, dq, strlen(dq), &tok, &err), 0);
	assert_int_equal(strv_length(tok), 3); /* rhgb, quiet, splash */
	assert_true(strv_contains(tok, "rhgb"));
	assert_true(strv_contains(tok, "splash"));

	assert_int_equal(
	    cmdline_grub_edit("GRUB_CMDLINE_LINUX_DEFAULT='quiet'\n", 35, add, &out, &err), 0);
	assert_string_equal(out, "GRUB_CMDLINE_LINUX_DEFAULT='quiet intel_iommu=on iommu=pt'\n");
	free(out);
	assert_int_equal(
	    cmdline_grub_edit("export GRUB_CMDLINE_LINUX_DEFAULT=quiet\n", 40, add, &out, &err), 0);
	assert_string_equal(
	    out, "export GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\"\n");
	free(out);
	assert_int_equal(
	    cmdline_grub_edit("GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n", 30, add, &out, &err), 0);
	assert_string_equal(out, "GRUB_CMDLINE_LINUX_DEFAULT=\"intel_iommu=on iommu=pt\"\n");
	free(out);
	assert_int_equal(cmdline_grub_edit("GRUB_TIMEOUT=5", 14, add, &out, &err), 0);
	assert_string_equal(
	    out, "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"intel_iommu=on iommu=pt\"\n");
	free(out);

	assert_false(error_is_set(&err));

	assert_int_equal(cmdline_grub_edit(multi, strlen(multi), add, &out, &err), -EINVAL);
	assert_int_equal(err.errnum, EINVAL);
	assert_int_equal(err.line, 2);
	assert_null(err.file);
	assert_non_null(strstr(err.message, "GRUB_CMDLINE_LINUX_DEFAULT"));
	error_clear(&err);
	tok = strv_free(tok);
	assert_int_equal(
	    bootloader_file_cmdline(HOSTCFG_FILE_GRUB, multi, strlen(multi), &tok, &err), -EINVAL);
	assert_null(tok);
	assert_int_equal(err.line, 2);
	error_clear(&err);
	/* only the three command-line kinds hold a command line */
	assert_int_equal(bootloader_file_cmdline(HOSTCFG_FILE_MODPROBE, "x\n", 2, &tok, &err),
			 -EINVAL);
	assert_non_null(strstr(err.message, "'modprobe'"));
	error_clear(&err);
	/* /etc/kernel/cmdline: what follows `--` goes to init, not the kernel (check's pending
	 * state must not count it as configured) */
	assert_int_equal(bootloader_file_cmdline(HOSTCFG_FILE_CMDLINE,
						 "root=ZFS=rpool -- amd_iommu=on\n", 31, &tok,
						 &err),
			 0);
	assert_string_equal(tok[0], "root=ZFS=rpool");
	assert_null(tok[1]);
	tok = strv_free(tok);
}

static void test_entry_edit(void **state)
{
	_cleanup_strv_free_ char **add = sv("amd_iommu=on", "iommu=pt", NULL);
	_cleanup_strv_free_ char **tok = NULL;
	const char *e = "title Arch Linux\nlinux /vmlinuz-linux\noptions root=UUID=1 rw\n"
			"options quiet\ninitrd /initramfs-linux.img\n";
	char *out = NULL;

	(void)state;
	assert_int_equal(cmdline_entry_edit(e, strlen(e), add, &out, NULL), 0);
	assert_string_equal(out,
			    "title Arch Linux\nlinux /vmlinuz-linux\noptions root=UUID=1 rw\n"
			    "options quiet amd_iommu=on iommu=pt\ninitrd /initramfs-linux.img\n");
	free(out);
	assert_int_equal(
	    bootloader_file_cmdline(HOSTCFG_FILE_LOADER_ENTRY, e, strlen(e), &tok, NULL), 0);
	assert_int_equal(strv_length(tok), 3);
	assert_int_equal(cmdline_entry_edit("title x\n", 8, add, &out, NULL), 0);
	assert_string_equal(out, "title x\noptions amd_iommu=on iommu=pt\n");
	free(out);
}

static void test_modules_edit(void **state)
{
	_cleanup_strv_free_ char **mods = sv("vfio", "vfio_iommu_type1", "vfio_pci");
	const char *old = "# mine\nvfio\n; also mine\nvfio-pci\nkvmgt\n";
	char *out = NULL, *again = NULL;

	(void)state;
	assert_int_equal(modprobe_modules_load_edit(NULL, 0, mods, &out, NULL), 0);
	assert_string_equal(out, "# vfio modules for GPU passthrough (gpurun host-config)\n"
				 "vfio\nvfio_iommu_type1\nvfio_pci\n");
	assert_int_equal(modprobe_modules_load_edit(out, strlen(out), mods, &again, NULL), 0);
	assert_string_equal(again, out);
	free(out);
	free(again);
	/* user lines are kept, vfio-pci counts as vfio_pci */
	assert_int_equal(modprobe_modules_load_edit(old, strlen(old), mods, &out, NULL), 0);
	assert_string_equal(out, "# mine\nvfio\n; also mine\nvfio-pci\nkvmgt\nvfio_iommu_type1\n");
	free(out);
	{
		_cleanup_(error_clear) struct error err = {};

		out = NULL;
		assert_int_equal(
		    modprobe_modules_load_edit("vfio\n\nkvm\0gt\n", 13, mods, &out, &err), -EINVAL);
		assert_null(out);
		assert_int_equal(err.line, 3);
	}
}

static void test_modprobe_edit(void **state)
{
	_cleanup_strv_free_ char **ids = sv("1002:1586", "1002:1640", NULL);
	_cleanup_strv_free_ char **soft = sv("amdgpu", "snd_hda_intel", NULL);
	_cleanup_strv_free_ char **got = NULL;
	struct diag_list d = { 0 };
	char *out = NULL, *again = NULL;
	const char *user = "options vfio-pci ids=10de:2684 disable_vga=0 # my other card\n"
			   "softdep amdgpu pre: foo post: bar\n"
			   "softdep snd-hda-intel pre: vfio_pci\n";

	(void)state;
	assert_int_equal(
	    modprobe_vfio_edit(NULL, 0, ids, soft, "/etc/modprobe.d/vfio.conf", &d, &out, NULL), 0);
	assert_string_equal(out, "# vfio-pci claims the passthrough GPU before its host drivers do "
				 "(gpurun host-config)\n"
				 "options vfio-pci ids=1002:1586,1002:1640 disable_vga=1\n"
				 "softdep amdgpu pre: vfio-pci\n"
				 "softdep snd_hda_intel pre: vfio-pci\n");
	assert_int_equal(modprobe_vfio_edit(out, strlen(out), ids, soft, "x", &d, &again, NULL), 0);
	assert_string_equal(again, out);
	assert_int_equal(d.n, 0);
	free(out);
	free(again);

	assert_int_equal(modprobe_vfio_edit(user, strlen(user), ids, soft,
					    "/etc/modprobe.d/vfio.conf", &d, &out, NULL),
			 0);
	assert_string_equal(
	    out,
	    "options vfio-pci ids=10de:2684,1002:1586,1002:1640 disable_vga=0 # my other card\n"
	    "softdep amdgpu pre: vfio-pci foo post: bar\n"
	    "softdep snd-hda-intel pre: vfio_pci\n");
	assert_non_null(find_diag(&d, DIAG_WARN, "hostcfg-disable-vga"));
	assert_int_equal(modprobe_vfio_ids(out, strlen(out), &got, NULL), 0);
	assert_int_equal(strv_length(got), 3);
	assert_string_equal(got[1], "1002:1586");
	free(out);
	diag_list_clear(&d);

	/* options line without ids: ids added to it; softdep without pre: */
	assert_int_equal(
	    modprobe_vfio_edit("options vfio_pci nointxmask=1\nsoftdep amdgpu post: x\n", 53, ids,
			       soft, "x", &d, &out, NULL),
	    0);
	assert_string_equal(out,
			    "options vfio_pci nointxmask=1 ids=1002:1586,1002:1640 disable_vga=1\n"
			    "softdep amdgpu pre: vfio-pci post: x\n"
			    "softdep snd_hda_intel pre: vfio-pci\n");
	free(out);
	{
		_cleanup_(error_clear) struct error err = {};

		got = strv_free(got);
		assert_int_equal(modprobe_vfio_ids("options vfio-pci ids=1\0\n", 24, &got, &err),
				 -EINVAL);
		assert_int_equal(err.line, 1);
		error_clear(&err);
		out = NULL;
		assert_int_equal(modprobe_vfio_edit("#\n\0\n", 4, ids, soft, "x", &d, &out, &err),
				 -EINVAL);
		assert_null(out);
		assert_int_equal(err.line, 2);
	}
}

static void test_blacklist_edit(void **state)
{
	_cleanup_strv_free_ char **mods = sv("amdgpu", NULL, NULL);
	char *out = NULL;

	(void)state;
	assert_int_equal(modprobe_blacklist_edit("blacklist radeon\n", 17, mods, &out, NULL), 0);
	assert_string_equal(out, "blacklist radeon\nblacklist amdgpu\n");
	free(out);
	assert_int_equal(modprobe_blacklist_edit("blacklist amdgpu # x\n", 21, mods, &out, NULL),
			 0);
	assert_string_equal(out, "blacklist amdgpu # x\n");
	free(out);
}

static void test_diff(void **state)
{
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
	const char *b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n12\n13\n";
	char *out = NULL;

	(void)state;
	assert_int_equal(diff_unified("/etc/x", a, strlen(a), a, strlen(a), &out), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(diff_unified("/etc/x", NULL, 0, "a\nb\n", 4, &out), 0);
	assert_string_equal(out, "--- /dev/null\n+++ /etc/x\n@@ -0,0 +1,2 @@\n+a\n+b\n");
	free(out);
	assert_int_equal(diff_unified("/etc/x", a, strlen(a), b, strlen(b), &out), 0);
	assert_string_equal(out, "--- /etc/x\n+++ /etc/x\n"
				 "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
				 "@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n");
	free(out);
	assert_int_equal(diff_unified("/etc/k", "quiet", 5, "quiet x\n", 8, &out), 0);
	assert_string_equal(out, "--- /etc/k\n+++ /etc/k\n@@ -1 +1 @@\n-quiet\n\\ No newline at "
				 "end of file\n+quiet x\n");
	free(out);
}

/* ---- compute, on the Strix Halo snapshot ---- */

static struct hostcfg *strix_cfg(const struct host *h, const char *cmdline)
{
	struct hostcfg *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	cfg->boot = HOSTCFG_BOOT_PROXMOX_SDBOOT;
	cfg->kmod_index = true;
	cfg->mod_exists[0] = cfg->mod_exists[1] = cfg->mod_exists[2] = true;
	assert_int_equal(hostcfg_add_file(cfg, HOSTCFG_FILE_CMDLINE, "/r/etc/kernel/cmdline",
					  "/etc/kernel/cmdline", cmdline, strlen(cmdline), 0644),
			 0);
	assert_int_equal(hostcfg_add_file(cfg, HOSTCFG_FILE_MODULES_LOAD, "/r/ml",
					  "/etc/modules-load.d/vfio.conf", NULL, 0, 0),
			 0);
	assert_int_equal(hostcfg_add_file(cfg, HOSTCFG_FILE_MODPROBE, "/r/mp",
					  "/etc/modprobe.d/vfio.conf", NULL, 0, 0),
			 0);
	assert_int_equal(hostcfg_add_file(cfg, HOSTCFG_FILE_BLACKLIST, "/r/bl",
					  "/etc/modprobe.d/blacklist-gpu.conf", NULL, 0, 0),
			 0);
	cfg->func_modules = calloc(h->n_funcs, sizeof(char **));
	cfg->n_func_modules = h->n_funcs;
	for (size_t i = 0; i < h->n_funcs; i++)
		cfg->func_modules[i] = sv(h->funcs[i].driver, NULL, NULL);
	return cfg;
}

static void test_compute_strix(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_strix();
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_(hostcfg_freep) struct hostcfg *again = NULL;
	const struct pci_func *gpu;
	struct diag_list d = { 0 };
	const struct diag *x;

	(void)state;
	h->kernel_release = strdup("6.8.12-4-pve");
	gpu = host_find_func(h, "0000:c4:00.0");
	assert_non_null(gpu);
	cfg = strix_cfg(h, "root=ZFS=rpool/ROOT/pve-1 boot=zfs\n");
	assert_int_equal(
	    hostcfg_compute(
		cfg, h, &(struct hostcfg_request){ .gpus = &gpu, .n_gpus = 1, .blacklist = true },
		&d),
	    4);
	assert_string_equal(cfg->files[0].new, "root=ZFS=rpool/ROOT/pve-1 boot=zfs amd_iommu=on "
					       "iommu=pt initcall_blacklist=sysfb_init\n");
	assert_string_equal(cfg->files[1].new, "# vfio modules for GPU passthrough (gpurun "
					       "host-config)\nvfio\nvfio_iommu_type1\nvfio_pci\n");
	/* the APU's PSP/USB/ACP/platform audio (1022:...) never get into ids= */
	assert_non_null(
	    strstr(cfg->files[2].new, "options vfio-pci ids=1002:1586,1002:1640 disable_vga=1\n"));
	assert_null(strstr(cfg->files[2].new, "1022:"));
	assert_non_null(strstr(cfg->files[2].new, "softdep amdgpu pre: vfio-pci\n"));
	assert_non_null(strstr(cfg->files[2].new, "softdep snd_hda_intel pre: vfio-pci\n"));
	/* snd_hda_intel also drives c4:00.6 (host audio): not blacklisted */
	assert_string_equal(cfg->files[3].new,
			    "# host drivers kept off the passthrough GPU (gpurun host-config "
			    "--blacklist)\nblacklist amdgpu\n");
	x = find_diag(&d, DIAG_WARN, "hostcfg-blacklist-shared");
	assert_non_null(x);
	assert_non_null(strstr(x->message, "snd_hda_intel"));
	assert_non_null(strstr(x->message, "0000:c4:00.6"));
	assert_non_null(find_diag(&d, DIAG_WARN, "hostcfg-boot-vga"));
	diag_list_clear(&d);

	/* idempotent: feed the result back */
	again = strix_cfg(h, cfg->files[0].new);
	for (size_t i = 1; i < 4; i++) {
		free(again->files[i].old);
		again->files[i].old = strdup(cfg->files[i].new);
		again->files[i].old_len = cfg->files[i].new_len;
	}
	assert_int_equal(
	    hostcfg_compute(
		again, h, &(struct hostcfg_request){ .gpus = &gpu, .n_gpus = 1, .blacklist = true },
		&d),
	    0);
	for (size_t i = 0; i < 4; i++)
		assert_null(again->files[i].new);
	diag_list_clear(&d);
}

static void test_compute_old_kernel_intel(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_new();
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	const struct pci_func *gpu;
	struct diag_list d = { 0 };

	(void)state;
	testutil_host_add(h, "0000:01:00.0", 0x10de, 0x2684, 0x030000, "nvidia", 12)->boot_vga = 1;
	testutil_host_add(h, "0000:01:00.1", 0x10de, 0x22ba, 0x040300, "snd_hda_intel", 12);
	testutil_host_add(h, "0000:02:00.0", 0x10de, 0x2684, 0x030000, "nvidia", 13);
	h->cpu_vendor = strdup("GenuineIntel");
	h->kernel_release = strdup("5.10.0-28-amd64");
	gpu = &h->funcs[0];
	cfg = strix_cfg(h, "quiet iommu=soft\n");
	cfg->mod_exists[HOST_MOD_VFIO_VIRQFD] = true;
	assert_int_equal(
	    hostcfg_compute(cfg, h, &(struct hostcfg_request){ .gpus = &gpu, .n_gpus = 1 }, &d), 3);
	/* discrete card: the whole slot; iommu=soft kept and reported; old kernel: efifb */
	assert_string_equal(cfg->files[0].new, "quiet iommu=soft intel_iommu=on video=efifb:off\n");
	assert_non_null(find_diag(&d, DIAG_WARN, "hostcfg-conflict"));
	assert_non_null(strstr(cfg->files[1].new, "vfio_virqfd\n"));
	assert_non_null(strstr(cfg->files[2].new, "ids=10de:2684,10de:22ba "));
	/* the second card with the same ids would be taken too */
	assert_non_null(find_diag(&d, DIAG_WARN, "hostcfg-ids-shared"));
	assert_null(cfg->files[3].new); /* no --blacklist */
	diag_list_clear(&d);
}

static void test_pending(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_strix();
	struct hostcfg_state st = {
		.source = (char *)"/etc/kernel/cmdline",
		.cmdline = sv("root=ZFS=rpool/ROOT/pve-1", "amd_iommu=on", "iommu=pt"),
		.vfio_ids = sv("1002:1586", "1002:1640", NULL),
		.ids_source = (char *)"/etc/modprobe.d/vfio.conf",
	};
	struct diag_list d = { 0 };
	const struct diag *x;

	(void)state;
	h->cmdline = strdup("BOOT_IMAGE=/vmlinuz root=ZFS=rpool/ROOT/pve-1 boot=zfs");
	assert_int_equal(hostcfg_pending(h, &st, &d), 3);
	x = find_diag(&d, DIAG_WARN, "hostcfg-pending");
	assert_non_null(x);
	assert_non_null(strstr(x->message, "'amd_iommu=on iommu=pt'"));
	assert_null(find_diag(&d, DIAG_PASS, "hostcfg-active"));
	diag_list_clear(&d);

	/* after the reboot */
	free(h->cmdline);
	h->cmdline =
	    strdup("BOOT_IMAGE=/vmlinuz root=ZFS=rpool/ROOT/pve-1 boot=zfs amd_iommu=on iommu=pt");
	for (size_t i = 0; i < h->n_funcs; i++)
		if (h->funcs[i].vendor == 0x1002) {
			free(h->funcs[i].driver);
			h->funcs[i].driver = strdup("vfio-pci");
		}
	assert_int_equal(hostcfg_pending(h, &st, &d), 0);
	assert_non_null(find_diag(&d, DIAG_PASS, "hostcfg-active"));
	diag_list_clear(&d);
	strv_free(st.cmdline);
	strv_free(st.vfio_ids);

	/* nothing configured: nothing said */
	st = (struct hostcfg_state){ .cmdline = sv("quiet", NULL, NULL) };
	free(h->cmdline);
	h->cmdline = strdup("quiet");
	assert_int_equal(hostcfg_pending(h, &st, &d), 0);
	assert_int_equal(d.n, 0);
	strv_free(st.cmdline);
}

/* ---- load/apply/revert on a temporary root ---- */

static int load_compute(struct ctx *c, const struct host *h, struct hostcfg **ret)
{
	_cleanup_(error_clear) struct error err = {};
	const struct pci_func *gpu = host_find_func(h, "0000:c4:00.0");
	struct diag_list d = { 0 };
	int r;

	assert_int_equal(hostcfg_load(c, NULL, ret, &err), 0);
	assert_false(error_is_set(&err));
	r = hostcfg_compute(*ret, h, &(struct hostcfg_request){ .gpus = &gpu, .n_gpus = 1 }, &d);
	diag_list_clear(&d);
	return r;
}

static void test_detect(void **state)
{
	static const struct {
		const char *files[4]; /* rel paths; a trailing '/' makes a directory */
		enum hostcfg_boot boot;
		const char *refresh;
		const char *initramfs;
	} cases[] = {
		{ { "etc/kernel/cmdline", "etc/kernel/proxmox-boot-uuids", "etc/pve/",
		    "etc/initramfs-tools/" },
		  HOSTCFG_BOOT_PROXMOX_SDBOOT,
		  "proxmox-boot-tool",
		  "update-initramfs" },
		{ { "etc/default/grub", "etc/pve/", "etc/os-release", NULL },
		  HOSTCFG_BOOT_PROXMOX_GRUB,
		  "update-grub",
		  "update-initramfs" },
		{ { "etc/default/grub", "etc/kernel/proxmox-boot-uuids", "etc/os-release", NULL },
		  HOSTCFG_BOOT_PROXMOX_GRUB,
		  "proxmox-boot-tool",
		  "update-initramfs" },
		{ { "etc/default/grub", "etc/os-release", NULL, NULL },
		  HOSTCFG_BOOT_GRUB,
		  "update-grub",
		  "update-initramfs" },
		{ { "etc/default/grub", "boot/grub2/", "etc/dracut.conf.d/", NULL },
		  HOSTCFG_BOOT_GRUB,
		  "grub2-mkconfig",
		  "dracut" },
		{ { "boot/loader/entries/arch.conf", "etc/mkinitcpio.conf", NULL, NULL },
		  HOSTCFG_BOOT_SDBOOT,
		  NULL,
		  "mkinitcpio" },
		{ { "etc/hostname", NULL, NULL, NULL }, HOSTCFG_BOOT_UNKNOWN, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *root = testutil_mkroot();
		_cleanup_(ctx_freep) struct ctx *c = NULL;
		_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
		_cleanup_(error_clear) struct error err = {};

		for (size_t k = 0; k < 4 && cases[i].files[k]; k++) {
			const char *f = cases[i].files[k];
			size_t n = strlen(f);

			if (f[n - 1] == '/') {
				_cleanup_free_ char *p = path_join(root, f);

				assert_int_equal(hostfs_mkdir_p(p, 0755), 0);
			} else
				testutil_put(root, f,
					     streq(f, "etc/os-release") ? "ID=debian\n"
					     : strstr(f, "entries")	? "options root=/dev/sda1\n"
									: "quiet\n");
		}
		assert_int_equal(ctx_new(root, NULL, &c), 0);
		assert_int_equal(hostcfg_load(c, NULL, &cfg, &err), 0);
		assert_int_equal(cfg->boot, cases[i].boot);
		assert_non_null(cfg->boot_evidence);
		if (cases[i].refresh)
			assert_string_equal(cfg->refresh_argv[0], cases[i].refresh);
		else
			assert_null(cfg->refresh_argv);
		if (cases[i].initramfs)
			assert_string_equal(cfg->initramfs_argv[0], cases[i].initramfs);
		else
			assert_null(cfg->initramfs_argv);
		testutil_rmroot(root);
	}
}

static void test_fedora_bls(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_new();
	char *root = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_free_ char *grub2 = NULL;
	const struct pci_func *gpu;
	struct diag_list d = { 0 };

	(void)state;
	gpu = testutil_host_add(h, "0000:03:00.0", 0x1002, 0x744c, 0x030000, "amdgpu", 12);
	h->cpu_vendor = strdup("GenuineIntel");
	testutil_put(root, "etc/default/grub",
		     "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\nGRUB_ENABLE_BLSCFG=true\n");
	testutil_put(
	    root, "boot/loader/entries/abc-6.8.9-300.fc40.x86_64.conf",
	    "title Fedora Linux\nlinux /vmlinuz-6.8.9\noptions root=UUID=1 ro rhgb quiet\n");
	testutil_put(root, "etc/os-release", "ID=fedora\n");
	grub2 = path_join(root, "boot/grub2");
	assert_int_equal(hostfs_mkdir_p(grub2, 0755), 0);
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(hostcfg_load(c, NULL, &cfg, NULL), 0);
	assert_int_equal(cfg->boot, HOSTCFG_BOOT_GRUB);
	assert_string_equal(cfg->refresh_argv[0], "grub2-mkconfig");
	assert_string_equal(cfg->initramfs_argv[0], "dracut");
	/* grub, the BLS entry, modules-load, modprobe (blacklist unchanged), dracut's drop-in */
	assert_int_equal(
	    hostcfg_compute(cfg, h, &(struct hostcfg_request){ .gpus = &gpu, .n_gpus = 1 }, &d), 5);
	assert_int_equal(cfg->files[cfg->n_files - 1].kind, HOSTCFG_FILE_INITRAMFS);
	assert_string_equal(cfg->files[cfg->n_files - 1].name, "/etc/dracut.conf.d/gpurun.conf");
	assert_non_null(strstr(cfg->files[cfg->n_files - 1].new,
			       "\nforce_drivers+=\" vfio_pci vfio vfio_iommu_type1 \"\n"));
	assert_string_equal(cfg->files[0].new,
			    "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\nGRUB_ENABLE_BLSCFG=true\n"
			    "GRUB_CMDLINE_LINUX_DEFAULT=\"intel_iommu=on iommu=pt\"\n");
	assert_int_equal(cfg->files[1].kind, HOSTCFG_FILE_LOADER_ENTRY);
	assert_string_equal(cfg->files[1].new,
			    "title Fedora Linux\nlinux /vmlinuz-6.8.9\n"
			    "options root=UUID=1 ro rhgb quiet intel_iommu=on iommu=pt\n");
	diag_list_clear(&d);
	testutil_rmroot(root);
}

static void test_apply_revert(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_strix();
	char *root = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL, *cfg2 = NULL;
	_cleanup_free_ char *backup = NULL, *backup2 = NULL, *manifest = NULL, *s = NULL;
	_cleanup_strv_free_ char **files = NULL;
	_cleanup_(error_clear) struct error err = {};

	(void)state;
	h->kernel_release = strdup("6.8.12-4-pve");
	testutil_put(root, "etc/kernel/cmdline", "root=ZFS=rpool/ROOT/pve-1 boot=zfs\n");
	testutil_put(root, "etc/kernel/proxmox-boot-uuids", "1234-ABCD\n");
	testutil_put(root, "etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:2684\n");
	assert_int_equal(ctx_new(root, NULL, &c), 0);

	assert_int_equal(load_compute(c, h, &cfg), 3);
	assert_int_equal(backup_apply(c, cfg, &backup, NULL, &err), 0);
	assert_false(error_is_set(&err));
	s = testutil_read(root, "etc/kernel/cmdline");
	assert_string_equal(s, "root=ZFS=rpool/ROOT/pve-1 boot=zfs amd_iommu=on iommu=pt "
			       "initcall_blacklist=sysfb_init\n");
	free(s);
	s = testutil_read(root, "etc/modprobe.d/vfio.conf");
	assert_string_equal(s,
			    "options vfio-pci ids=10de:2684,1002:1586,1002:1640 disable_vga=1\n");
	manifest = path_join(backup, "manifest");
	free(s);
	s = NULL;
	assert_int_equal(read_full_file(manifest, 4096, &s, NULL), 0);
	{
		/* the owner of each saved file, and a hash of what was written (revert checks
		 * it) */
		_cleanup_free_ char *want = NULL;

		assert_true(asprintf(&want,
				     "mkdir /etc/modules-load.d\n"
				     "saved 0644 /etc/kernel/cmdline\n"
				     "owner %u:%u /etc/kernel/cmdline\n"
				     "wrote 87:c619973b4b734fc2 /etc/kernel/cmdline\n"
				     "absent /etc/modules-load.d/vfio.conf\n"
				     "wrote 87:77765ae6b57b7ac0 /etc/modules-load.d/vfio.conf\n"
				     "saved 0644 /etc/modprobe.d/vfio.conf\n"
				     "owner %u:%u /etc/modprobe.d/vfio.conf\n"
				     "wrote 65:29461e41bce018f9 /etc/modprobe.d/vfio.conf\n",
				     (unsigned)getuid(), (unsigned)getgid(), (unsigned)getuid(),
				     (unsigned)getgid()) > 0);
		assert_string_equal(s, want);
	}
	free(s);
	s = NULL;

	/* second run: nothing to change */
	assert_int_equal(load_compute(c, h, &cfg2), 0);

	assert_int_equal(backup_revert(c, &backup2, &files, &err), 0);
	assert_false(error_is_set(&err));
	assert_string_equal(backup2, backup);
	assert_int_equal(strv_length(files), 3);
	s = testutil_read(root, "etc/kernel/cmdline");
	assert_string_equal(s, "root=ZFS=rpool/ROOT/pve-1 boot=zfs\n");
	free(s);
	s = testutil_read(root, "etc/modprobe.d/vfio.conf");
	assert_string_equal(s, "options vfio-pci ids=10de:2684\n");
	free(s);
	s = testutil_read_optional(root, "etc/modules-load.d/vfio.conf");
	assert_null(s); /* did not exist before */
	free(s);
	s = path_join(root, "etc/modules-load.d");
	assert_false(hostfs_exists(s)); /* created by the apply, removed by the revert */
	assert_string_equal(files[1],
			    "/etc/modules-load.d/vfio.conf (removed: it did not exist before)");
	/* the used backup is marked; nothing more to revert */
	assert_int_equal(backup_revert(c, NULL, NULL, &err), -ENOENT);
	assert_int_equal(err.errnum, ENOENT);
	assert_string_equal(err.file, "/etc/gpurun/backup");
	error_clear(&err);

	/* a damaged manifest restores nothing and names its file and line */
	testutil_put(root, "etc/gpurun/backup/20990101T000000Z/manifest",
		     "saved 0644 /etc/kernel/cmdline\nsaved 0644 /etc/../../x\n");
	testutil_put(root, "etc/gpurun/backup/20990101T000000Z/etc/kernel/cmdline", "evil\n");
	assert_int_equal(backup_revert(c, NULL, NULL, &err), -EBADMSG);
	assert_int_equal(err.errnum, EBADMSG);
	assert_string_equal(err.file, "/etc/gpurun/backup/20990101T000000Z/manifest");
	assert_int_equal(err.line, 2);
	error_clear(&err);
	free(s);
	s = testutil_read(root, "etc/kernel/cmdline");
	assert_string_equal(s, "root=ZFS=rpool/ROOT/pve-1 boot=zfs\n");
	free(s);

	/* a NUL byte does not hide the lines after it: refused as a whole, at its line */
	{
		static const char bin[] = "saved 0644 /etc/kernel/cmdline\nabsent /etc/x\0\n"
					  "saved 0644 /etc/kernel/cmdline\n";
		_cleanup_free_ char *m =
		    path_join(root, "etc/gpurun/backup/20990101T000000Z/manifest");

		assert_int_equal(hostfs_write_atomic(m, bin, sizeof(bin) - 1, 0600), 0);
		assert_int_equal(backup_revert(c, NULL, NULL, &err), -EBADMSG);
		assert_string_equal(err.file, "/etc/gpurun/backup/20990101T000000Z/manifest");
		assert_int_equal(err.line, 2);
	}
	error_clear(&err);

	/* a saved copy missing: the backup is incomplete, not absent */
	testutil_put(root, "etc/gpurun/backup/20990101T000000Z/manifest",
		     "absent /etc/x\nsaved 0644 /etc/modprobe.d/vfio.conf\n");
	assert_int_equal(backup_revert(c, NULL, NULL, &err), -EBADMSG);
	assert_string_equal(err.file, "/etc/gpurun/backup/20990101T000000Z/manifest");
	assert_int_equal(err.line, 2);
	assert_non_null(
	    strstr(err.message, "/etc/gpurun/backup/20990101T000000Z/etc/modprobe.d/vfio.conf"));
	error_clear(&err);
	/* so is one without its manifest */
	{
		_cleanup_free_ char *m =
		    path_join(root, "etc/gpurun/backup/20990101T000000Z/manifest");

		assert_int_equal(unlink(m), 0);
		assert_int_equal(backup_revert(c, NULL, NULL, &err), -EBADMSG);
		assert_string_equal(err.file, "/etc/gpurun/backup/20990101T000000Z/manifest");
		assert_int_equal(err.line, 0);
	}
	s = testutil_read(root, "etc/kernel/cmdline");
	assert_string_equal(s, "root=ZFS=rpool/ROOT/pve-1 boot=zfs\n");
	testutil_rmroot(root);
}

static void test_apply_rollback(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_strix();
	char *root = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_free_ char *backup = NULL, *s = NULL, *bdir = NULL, *msg = NULL;
	_cleanup_(error_clear) struct error err = {};
	struct stat st;

	(void)state;
	testutil_put(root, "etc/kernel/cmdline", "quiet\n");
	testutil_put(root, "etc/kernel/proxmox-boot-uuids", "1234-ABCD\n");
	/* root ignores permissions, so make a write fail for real: modprobe.d is a file */
	testutil_put(root, "etc/modprobe.d", "not a directory\n");
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(load_compute(c, h, &cfg), 3);
	assert_int_equal(backup_apply(c, cfg, &backup, NULL, &err), -ENOTDIR);
	assert_int_equal(err.errnum, ENOTDIR);
	assert_string_equal(err.file, "/etc/modprobe.d/vfio.conf");
	assert_int_equal(err.line, 0);
	msg = error_format(&err);
	assert_string_equal(msg, "/etc/modprobe.d/vfio.conf: Not a directory");
	assert_null(backup);
	/* the files written before the failure are back as they were, no backup left behind */
	s = testutil_read(root, "etc/kernel/cmdline");
	assert_string_equal(s, "quiet\n");
	free(s);
	s = testutil_read_optional(root, "etc/modules-load.d/vfio.conf");
	assert_null(s);
	bdir = path_join(root, "etc/gpurun/backup");
	assert_int_equal(stat(bdir, &st), 0);
	assert_int_equal(backup_revert(c, NULL, NULL, NULL), -ENOENT);
	testutil_rmroot(root);
}

/* A file that exists but cannot be read: the error names it (as the host sees it). */
static void test_load_error(void **state)
{
	char *root = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *dir = NULL, *msg = NULL;

	(void)state;
	testutil_put(root, "etc/kernel/cmdline", "quiet\n");
	testutil_put(root, "etc/kernel/proxmox-boot-uuids", "1234-ABCD\n");
	dir = path_join(root, "etc/modprobe.d/vfio.conf");
	assert_int_equal(hostfs_mkdir_p(dir, 0755), 0);
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(hostcfg_load(c, NULL, &cfg, &err), -EISDIR);
	assert_null(cfg);
	assert_int_equal(err.errnum, EISDIR);
	assert_string_equal(err.file, "/etc/modprobe.d/vfio.conf");
	assert_int_equal(err.line, 0);
	msg = error_format(&err);
	assert_string_equal(msg, "/etc/modprobe.d/vfio.conf: Is a directory");
	testutil_rmroot(root);
}

/* A file the editors refuse: compute fails with a FAIL naming the file, the line and why. */
static void test_compute_unparsable(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_strix();
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	const struct pci_func *gpu = host_find_func(h, "0000:c4:00.0");
	static const char grub[] =
	    "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\n splash\"\n";
	struct diag_list d = { 0 };
	const struct diag *x;

	(void)state;
	cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	cfg->boot = HOSTCFG_BOOT_GRUB;
	assert_int_equal(hostcfg_add_file(cfg, HOSTCFG_FILE_GRUB, "/r/etc/default/grub",
					  "/etc/default/grub", grub, strlen(grub), 0644),
			 0);
	assert_int_equal(
	    hostcfg_compute(cfg, h, &(struct hostcfg_request){ .gpus = &gpu, .n_gpus = 1 }, &d),
	    -EINVAL);
	x = find_diag(&d, DIAG_FAIL, "hostcfg-unparsable");
	assert_non_null(x);
	assert_true(startswith(x->message, "/etc/default/grub:2: cannot edit this file safely: "));
	assert_non_null(strstr(x->message, "continues on the next line"));
	assert_null(cfg->files[0].new);
	diag_list_clear(&d);

	/* binary data in a modprobe.d file gpurun only reads: same, at its line */
	cfg = hostcfg_free(cfg);
	cfg = strix_cfg(h, "quiet\n");
	assert_int_equal(hostcfg_add_file(cfg, HOSTCFG_FILE_MODPROBE_OTHER, "/r/o",
					  "/etc/modprobe.d/other.conf", "# x\n\n\0\n", 7, 0644),
			 0);
	assert_int_equal(
	    hostcfg_compute(cfg, h, &(struct hostcfg_request){ .gpus = &gpu, .n_gpus = 1 }, &d),
	    -EINVAL);
	x = find_diag(&d, DIAG_FAIL, "hostcfg-unparsable");
	assert_non_null(x);
	assert_true(startswith(x->message, "/etc/modprobe.d/other.conf:3: cannot edit this file "
					   "safely: "));
	diag_list_clear(&d);
}

/* The backup cannot be made: nothing written, and no file named (that is for a failed write). */
static void test_apply_backup_fails(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_strix();
	char *root = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *backup = NULL, *s = NULL;

	(void)state;
	testutil_put(root, "etc/kernel/cmdline", "quiet\n");
	testutil_put(root, "etc/kernel/proxmox-boot-uuids", "1234-ABCD\n");
	testutil_put(root, "etc/gpurun", "not a directory\n");
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(load_compute(c, h, &cfg), 3);
	assert_int_equal(backup_apply(c, cfg, &backup, NULL, &err), -ENOTDIR);
	assert_int_equal(err.errnum, ENOTDIR);
	assert_null(err.file);
	assert_null(backup);
	s = testutil_read(root, "etc/kernel/cmdline");
	assert_string_equal(s, "quiet\n");
	testutil_rmroot(root);
}

/* A file revert cannot put back is named; the others are restored, the backup stays for
 * another try. */
static void test_revert_partial(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_strix();
	char *root = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *backup = NULL, *s = NULL, *mpd = NULL;
	char *rm[] = { (char *)"rm", (char *)"-rf", NULL, NULL };

	(void)state;
	testutil_put(root, "etc/kernel/cmdline", "quiet\n");
	testutil_put(root, "etc/kernel/proxmox-boot-uuids", "1234-ABCD\n");
	testutil_put(root, "etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:2684\n");
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(load_compute(c, h, &cfg), 3);
	assert_int_equal(backup_apply(c, cfg, &backup, NULL, &err), 0);

	/* modprobe.d replaced by a file: vfio.conf cannot be written back */
	mpd = path_join(root, "etc/modprobe.d");
	rm[2] = mpd;
	assert_int_equal(hostcfg_run(rm), 0);
	testutil_put(root, "etc/modprobe.d", "not a directory\n");
	assert_int_equal(backup_revert(c, NULL, NULL, &err), -ENOTDIR);
	assert_int_equal(err.errnum, ENOTDIR);
	assert_string_equal(err.file, "/etc/modprobe.d/vfio.conf");
	error_clear(&err);
	s = testutil_read(root, "etc/kernel/cmdline");
	assert_string_equal(s, "quiet\n");
	free(s);
	s = NULL;

	/* fixed: the same backup is used again */
	assert_int_equal(hostcfg_run(rm), 0);
	assert_int_equal(hostfs_mkdir_p(mpd, 0755), 0);
	assert_int_equal(backup_revert(c, NULL, NULL, &err), 0);
	s = testutil_read(root, "etc/modprobe.d/vfio.conf");
	assert_string_equal(s, "options vfio-pci ids=10de:2684\n");
	testutil_rmroot(root);
}

/* Transactional backups (issue 13 item 6): a killed apply's partial backup hides nothing, a
 * symlinked file stays a symlink and keeps its owner, a file the user changed since the apply is
 * not thrown away, a killed write's temp file goes. */
static void test_backup_transactional(void **state)
{
	_cleanup_(host_freep) struct host *h = testutil_host_strix();
	char *root = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *backup = NULL, *s = NULL, *kc = NULL, *real = NULL, *tmp = NULL;
	_cleanup_free_ char *partial = NULL, *mp = NULL;
	_cleanup_strv_free_ char **files = NULL;
	struct stat st;
	char link[256];
	ssize_t n;

	(void)state;
	h->kernel_release = strdup("6.8.12-4-pve");
	testutil_put(root, "etc/kernel/cmdline.d/real", "quiet\n");
	testutil_symlink(root, "/etc/kernel/cmdline.d/real", "etc/kernel/cmdline");
	testutil_put(root, "etc/kernel/proxmox-boot-uuids", "1234-ABCD\n");
	testutil_put(root, "etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:2684\n");
	kc = testutil_path(root, "etc/kernel/cmdline");
	real = testutil_path(root, "etc/kernel/cmdline.d/real");
	mp = testutil_path(root, "etc/modprobe.d/vfio.conf");
	assert_int_equal(chmod(real, 0640), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(mp, 65534, 65534), 0);
	assert_int_equal(ctx_new(root, NULL, &c), 0);

	/* an apply killed before its manifest: a partial backup that must hide nothing */
	testutil_put(root, "etc/gpurun/backup/.partial-20990101T000000Z/etc/kernel/cmdline", "x\n");

	assert_int_equal(load_compute(c, h, &cfg), 3);
	assert_int_equal(backup_apply(c, cfg, &backup, NULL, &err), 0);
	partial = testutil_path(root, "etc/gpurun/backup/.partial-20990101T000000Z");
	assert_false(hostfs_exists(partial));
	/* written through the symlink: still a link, the target changed, mode and owner kept */
	assert_int_equal(lstat(kc, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(kc, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = 0;
	assert_string_equal(link, "/etc/kernel/cmdline.d/real");
	s = testutil_read(root, "etc/kernel/cmdline.d/real");
	assert_string_equal(s, "quiet amd_iommu=on iommu=pt initcall_blacklist=sysfb_init\n");
	free(s);
	s = NULL;
	assert_int_equal(stat(real, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(stat(mp, &st), 0);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
	}

	/* the user edits a file after the apply: revert refuses, touching nothing */
	testutil_put(root, "etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:2684 # mine\n");
	assert_int_equal(backup_revert(c, NULL, NULL, &err), -ESTALE);
	assert_string_equal(err.file, "/etc/modprobe.d/vfio.conf");
	assert_non_null(strstr(err.message, "changed since gpurun host-config --apply wrote it"));
	assert_non_null(strstr(err.message, "/etc/gpurun/backup/"));
	error_clear(&err);
	s = testutil_read(root, "etc/kernel/cmdline.d/real");
	assert_string_equal(s, "quiet amd_iommu=on iommu=pt initcall_blacklist=sysfb_init\n");
	free(s);
	s = NULL;

	/* the edit undone, and a killed write's temp file next to it: revert, through the link */
	testutil_put(root, "etc/modprobe.d/vfio.conf", cfg->files[2].new);
	if (geteuid() == 0)
		assert_int_equal(chown(mp, 65534, 65534), 0);
	testutil_put(root, "etc/kernel/cmdline.d/real.gpurun-AbC123", "half");
	tmp = testutil_path(root, "etc/kernel/cmdline.d/real.gpurun-AbC123");
	assert_int_equal(backup_revert(c, NULL, &files, &err), 0);
	assert_false(hostfs_exists(tmp));
	assert_int_equal(lstat(kc, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	s = testutil_read(root, "etc/kernel/cmdline.d/real");
	assert_string_equal(s, "quiet\n");
	free(s);
	s = NULL;
	assert_int_equal(stat(real, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(stat(mp, &st), 0);
	if (geteuid() == 0)
		assert_int_equal(st.st_uid, 65534);
	s = testutil_read(root, "etc/modprobe.d/vfio.conf");
	assert_string_equal(s, "options vfio-pci ids=10de:2684\n");
	testutil_rmroot(root);
}

/* The bootloader rows: one per enum value, in detection order, each editing only its files. */
static void test_bootloader_rows(void **state)
{
	_cleanup_(error_clear) struct error err = {};
	_cleanup_strv_free_ char **add = sv("iommu=pt", NULL, NULL);
	_cleanup_free_ char *out = NULL;

	(void)state;
	for (int i = 0; i < _HOSTCFG_BOOT_MAX; i++) {
		assert_non_null(bootloader_get(i));
		assert_int_equal(bootloader_get(i)->boot, i);
		assert_non_null(bootloader_get(i)->detect);
	}
	assert_null(bootloader_get(_HOSTCFG_BOOT_MAX));
	assert_null(bootloader_get((enum hostcfg_boot) - 1));
	assert_null(bootloader_get(HOSTCFG_BOOT_UNKNOWN)->load);
	assert_null(bootloader_get(HOSTCFG_BOOT_SDBOOT)->refresh_argv);

	assert_int_equal(bootloader_edit(HOSTCFG_BOOT_GRUB, HOSTCFG_FILE_GRUB, "GRUB_TIMEOUT=5\n",
					 15, add, &out, &err),
			 0);
	assert_string_equal(out, "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"iommu=pt\"\n");
	out = mfree(out);
	assert_int_equal(bootloader_edit(HOSTCFG_BOOT_PROXMOX_SDBOOT, HOSTCFG_FILE_CMDLINE,
					 "quiet\n", 6, add, &out, &err),
			 0);
	assert_string_equal(out, "quiet iommu=pt\n");
	out = mfree(out);
	/* a file its row does not load, and the row that loads none */
	assert_int_equal(
	    bootloader_edit(HOSTCFG_BOOT_PROXMOX_SDBOOT, HOSTCFG_FILE_GRUB, "", 0, add, &out, &err),
	    -EINVAL);
	assert_null(out);
	assert_non_null(strstr(err.message, "'grub'"));
	error_clear(&err);
	assert_int_equal(
	    bootloader_edit(HOSTCFG_BOOT_UNKNOWN, HOSTCFG_FILE_CMDLINE, "", 0, add, &out, &err),
	    -EINVAL);
	assert_null(out);
	assert_int_equal(err.errnum, EINVAL);
}

/* The initramfs rows: a tool's own file first (in row order), else the distribution's default
 * (rows in table order, then each row's IDs in order: not the order os-release lists them). */
static void test_initramfs_rows(void **state)
{
	static const struct {
		const char *file;
		const char *ids[4]; /* os-release ID, then ID_LIKE */
		const char *tool;
		const char *evidence;
	} cases[] = {
		{ "etc/dracut.conf", { "arch" }, "dracut", "/etc/dracut.conf exists" },
		{ "etc/initramfs-tools/modules",
		  { "fedora" },
		  "update-initramfs",
		  "/etc/initramfs-tools exists" },
		{ NULL, { "arch" }, "mkinitcpio", "os-release says arch" },
		{ NULL,
		  { "rocky", "rhel", "centos", "fedora" },
		  "dracut",
		  "os-release says fedora" },
		{ NULL,
		  { "pop", "ubuntu", "debian" },
		  "update-initramfs",
		  "os-release says debian" },
		{ NULL, { "gentoo" }, NULL, NULL },
	};

	(void)state;
	assert_string_equal(initramfs_table[0].name, "initramfs-tools");
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *root = testutil_mkroot();
		_cleanup_(ctx_freep) struct ctx *c = NULL;
		_cleanup_(hostcfg_freep) struct hostcfg *cfg = calloc(1, sizeof(*cfg));
		_cleanup_strv_free_ char **ids = sv(NULL, NULL, NULL);

		assert_non_null(cfg);
		for (size_t k = 0; k < 4 && cases[i].ids[k]; k++)
			assert_int_equal(strv_extend(&ids, cases[i].ids[k]), 0);
		if (cases[i].file)
			testutil_put(root, cases[i].file, "\n");
		assert_int_equal(ctx_new(root, NULL, &c), 0);
		assert_int_equal(initramfs_detect(c, ids, cfg), 0);
		if (cases[i].tool) {
			assert_string_equal(cfg->initramfs_argv[0], cases[i].tool);
			assert_string_equal(cfg->initramfs_evidence, cases[i].evidence);
		} else {
			assert_null(cfg->initramfs_argv);
			assert_null(cfg->initramfs_evidence);
		}
		testutil_rmroot(root);
	}
}

/* Item 5: each generator is told about the vfio modules, vfio_pci first. */
static void test_initramfs_edit(void **state)
{
	_cleanup_(error_clear) struct error err = {};
	_cleanup_strv_free_ char **mods = sv("vfio_pci", "vfio", "vfio_iommu_type1");
	_cleanup_free_ char *a = NULL, *b = NULL, *d = NULL, *none = NULL;

	(void)state;
	/* initramfs-tools: the user's lines stay, a module already listed (as vfio-pci) too */
	assert_int_equal(
	    initramfs_edit(&initramfs_table[0], "# list\nvfio-pci\nkvmgt\n", 21, mods, &a, &err),
	    0);
	assert_string_equal(a, "# list\nvfio-pci\nkvmgt\nvfio\nvfio_iommu_type1\n");
	/* mkinitcpio: MODULES prepended to (a conf.d array would replace the user's) */
	assert_int_equal(initramfs_edit(&initramfs_table[1], NULL, 0, mods, &b, &err), 0);
	assert_non_null(
	    strstr(b, "\nMODULES=(vfio_pci vfio vfio_iommu_type1 \"${MODULES[@]}\")\n"));
	assert_string_equal(initramfs_table[1].conf, "mkinitcpio.conf.d/gpurun.conf");
	/* dracut */
	assert_int_equal(initramfs_edit(&initramfs_table[2], NULL, 0, mods, &d, &err), 0);
	assert_non_null(strstr(d, "\nforce_drivers+=\" vfio_pci vfio vfio_iommu_type1 \"\n"));
	assert_int_equal(initramfs_edit(NULL, NULL, 0, mods, &none, &err), -EINVAL);
}

static void test_string_tables(void **state)
{
	(void)state;
	assert_string_equal(hostcfg_boot_to_string(HOSTCFG_BOOT_GRUB), "GRUB");
	assert_string_equal(hostcfg_boot_to_string(HOSTCFG_BOOT_PROXMOX_SDBOOT),
			    "Proxmox VE, systemd-boot via proxmox-boot-tool");
	assert_null(hostcfg_boot_to_string(_HOSTCFG_BOOT_MAX));
	assert_null(hostcfg_boot_to_string((enum hostcfg_boot) - 1));
	assert_int_equal(hostcfg_boot_from_string("Proxmox VE, GRUB"), HOSTCFG_BOOT_PROXMOX_GRUB);
	assert_int_equal(hostcfg_boot_from_string("grub"), -EINVAL);
	assert_int_equal(hostcfg_boot_from_string(NULL), -EINVAL);
	for (int i = 0; i < _HOSTCFG_BOOT_MAX; i++)
		assert_int_equal(hostcfg_boot_from_string(hostcfg_boot_to_string(i)), i);
	for (int i = 0; i < _HOSTCFG_FILE_KIND_MAX; i++)
		assert_int_equal(hostcfg_file_kind_from_string(hostcfg_file_kind_to_string(i)), i);
	assert_string_equal(hostcfg_file_kind_to_string(HOSTCFG_FILE_LOADER_ENTRY), "loader-entry");
	assert_null(hostcfg_file_kind_to_string(_HOSTCFG_FILE_KIND_MAX));
}

static void test_read_state(void **state)
{
	char *root = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(hostcfg_state_freep) struct hostcfg_state *st = NULL;

	(void)state;
	testutil_put(root, "etc/default/grub",
		     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet amd_iommu=on iommu=pt\"\n");
	testutil_put(root, "etc/modprobe.d/gpu.conf", "options vfio_pci ids=1002:744c,1002:ab30\n");
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(hostcfg_read_state(c, &st), 0);
	assert_string_equal(st->source, "/etc/default/grub");
	assert_int_equal(strv_length(st->cmdline), 3);
	assert_true(strv_contains(st->cmdline, "iommu=pt"));
	assert_int_equal(strv_length(st->vfio_ids), 2);
	assert_string_equal(st->ids_source, "/etc/modprobe.d/gpu.conf");
	testutil_rmroot(root);
}

static void test_run(void **state)
{
	char *ok[] = { (char *)"true", NULL };
	char *fail[] = { (char *)"sh", (char *)"-c", (char *)"exit 3", NULL };
	char *missing[] = { (char *)"gpurun-no-such-tool-here", NULL };

	(void)state;
	assert_int_equal(hostcfg_run(ok), 0);
	assert_int_equal(hostcfg_run(fail), 3);
	assert_int_equal(hostcfg_run(missing), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_split),
		cmocka_unit_test(test_cmdline_missing),
		cmocka_unit_test(test_cmdline_edit),
		cmocka_unit_test(test_grub_edit),
		cmocka_unit_test(test_entry_edit),
		cmocka_unit_test(test_modules_edit),
		cmocka_unit_test(test_modprobe_edit),
		cmocka_unit_test(test_blacklist_edit),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_compute_strix),
		cmocka_unit_test(test_compute_old_kernel_intel),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_fedora_bls),
		cmocka_unit_test(test_apply_revert),
		cmocka_unit_test(test_apply_rollback),
		cmocka_unit_test(test_load_error),
		cmocka_unit_test(test_compute_unparsable),
		cmocka_unit_test(test_apply_backup_fails),
		cmocka_unit_test(test_revert_partial),
		cmocka_unit_test(test_backup_transactional),
		cmocka_unit_test(test_bootloader_rows),
		cmocka_unit_test(test_initramfs_rows),
		cmocka_unit_test(test_initramfs_edit),
		cmocka_unit_test(test_string_tables),
		cmocka_unit_test(test_read_state),
		cmocka_unit_test(test_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
