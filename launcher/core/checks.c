/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The checks engine (core/checks.h). Decisions worth knowing:
 * - A root cause gives one FAIL. With the IOMMU off there are no groups, interrupt remapping is
 *   off and no function has a group: those follow from it and say so (INFO, diag.cause), instead
 *   of five FAILs and an interrupt-remapping fix that does not apply to that cause.
 * - The groups of every function that goes with the GPU are checked, not only the GPU's: on an
 *   APU the HDMI audio function can sit in another group than the display function (with the
 *   USB controller), and the kernel refuses to open a group while another member keeps its host
 *   driver.
 * - Reset advice comes from a table: vendor-reset only claims the ids of its own device table;
 *   other AMD GPUs (Navi 2x/3x, APUs) get the options that exist for them, and NVIDIA or Intel
 *   cards get no "AMD reset bug" text. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checks.h"
#include "core/guest.h"
#include "core/plan.h"
#include "core/profile.h"
#include "core/rom.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/strutil.h"
#include "util/strv.h"

const struct check_info checks_table[_CHECK_ID_MAX] = {
	[CHECK_CPU_VIRT] = { "cpu-virt", "CPU virtualization is off", DIAG_FAIL },
	[CHECK_KVM] = { "kvm", "/dev/kvm is missing", DIAG_FAIL },
	[CHECK_IOMMU_ENABLED] = { "iommu-enabled", "the IOMMU is off", DIAG_FAIL },
	[CHECK_IOMMU_PASSTHROUGH] = { "iommu-passthrough", NULL, DIAG_WARN },
	[CHECK_INTERRUPT_REMAPPING] = { "interrupt-remapping", "interrupt remapping is off",
					DIAG_FAIL },
	[CHECK_VFIO_MODULES] = { "vfio-modules", "a vfio module is missing", DIAG_FAIL },
	[CHECK_VFCT] = { "vfct", NULL, DIAG_INFO },
	[CHECK_GPU] = { "gpu", NULL, DIAG_WARN },
	[CHECK_GPU_RESPONDING] = { "gpu-responding", "the device is not responding", DIAG_FAIL },
	[CHECK_GPU_CLASS] = { "gpu-class", NULL, DIAG_WARN },
	[CHECK_GPU_GROUP] = { "gpu-group", NULL, DIAG_FAIL },
	[CHECK_IOMMU_GROUP] = { "iommu-group", NULL, DIAG_FAIL },
	[CHECK_GROUP_VIABLE] = { "group-viable", NULL, DIAG_FAIL },
	[CHECK_GPU_DRIVER] = { "gpu-driver", NULL, DIAG_INFO },
	[CHECK_BOOT_VGA] = { "boot-vga", NULL, DIAG_FAIL },
	[CHECK_GPU_RESET] = { "gpu-reset", NULL, DIAG_WARN },
	[CHECK_GPU_VBIOS] = { "gpu-vbios", NULL, DIAG_WARN },
	[CHECK_APU_SLOT] = { "apu-slot", NULL, DIAG_INFO },
	[CHECK_ROM_FILE] = { "rom-file", NULL, DIAG_FAIL },
	[CHECK_NVRAM] = { "nvram", NULL, DIAG_FAIL },
	[CHECK_DISK] = { "disk", NULL, DIAG_FAIL },
	[CHECK_CDROM] = { "cdrom", NULL, DIAG_FAIL },
	[CHECK_JOURNAL] = { "journal", NULL, DIAG_FAIL },
	[CHECK_DEVICE_LOCK] = { "device-lock", NULL, DIAG_FAIL },
	[CHECK_DEVICE_IN_USE] = { "device-in-use", NULL, DIAG_FAIL },
	[CHECK_HUGEPAGES] = { "hugepages", NULL, DIAG_FAIL },
	[CHECK_OUTPUT_LIMIT] = { "output-limit", NULL, DIAG_FAIL },
	[CHECK_CPU_PINNING] = { "cpu-pinning", NULL, DIAG_FAIL },
	[CHECK_MEMORY] = { "memory", NULL, DIAG_FAIL },
	[CHECK_TEMPLATE] = { "template", NULL, DIAG_FAIL },
	[CHECK_NETWORK] = { "network", NULL, DIAG_FAIL },
	[CHECK_PROGRAM] = { "program", NULL, DIAG_FAIL },
};

static const char *const check_id_table[_CHECK_ID_MAX] = {
	[CHECK_CPU_VIRT] = "cpu-virt",
	[CHECK_KVM] = "kvm",
	[CHECK_IOMMU_ENABLED] = "iommu-enabled",
	[CHECK_IOMMU_PASSTHROUGH] = "iommu-passthrough",
	[CHECK_INTERRUPT_REMAPPING] = "interrupt-remapping",
	[CHECK_VFIO_MODULES] = "vfio-modules",
	[CHECK_VFCT] = "vfct",
	[CHECK_GPU] = "gpu",
	[CHECK_GPU_RESPONDING] = "gpu-responding",
	[CHECK_GPU_CLASS] = "gpu-class",
	[CHECK_GPU_GROUP] = "gpu-group",
	[CHECK_IOMMU_GROUP] = "iommu-group",
	[CHECK_GROUP_VIABLE] = "group-viable",
	[CHECK_GPU_DRIVER] = "gpu-driver",
	[CHECK_BOOT_VGA] = "boot-vga",
	[CHECK_GPU_RESET] = "gpu-reset",
	[CHECK_GPU_VBIOS] = "gpu-vbios",
	[CHECK_APU_SLOT] = "apu-slot",
	[CHECK_ROM_FILE] = "rom-file",
	[CHECK_NVRAM] = "nvram",
	[CHECK_DISK] = "disk",
	[CHECK_CDROM] = "cdrom",
	[CHECK_JOURNAL] = "journal",
	[CHECK_DEVICE_LOCK] = "device-lock",
	[CHECK_DEVICE_IN_USE] = "device-in-use",
	[CHECK_HUGEPAGES] = "hugepages",
	[CHECK_OUTPUT_LIMIT] = "output-limit",
	[CHECK_CPU_PINNING] = "cpu-pinning",
	[CHECK_MEMORY] = "memory",
	[CHECK_TEMPLATE] = "template",
	[CHECK_NETWORK] = "network",
	[CHECK_PROGRAM] = "program",
};
DEFINE_STRING_TABLE_LOOKUP(check_id, enum check_id, _CHECK_ID_MAX)

/* The devices vendor-reset (https://github.com/gnif/vendor-reset) resets, copied from its
 * src/device-db.h at commit ca6a270487f32e07b439ffeb397c21905b69a519 (compared again with 084881c:
 * the same 67 ids), with the family names it
 * gives them. Nothing else gets vendor-reset advice: it does not touch other ids. */
static const struct {
	uint16_t device;
	const char *family;
} vendor_reset_devices[] = {
	{ 0x67c0, "Polaris 10" }, { 0x67c1, "Polaris 10" }, { 0x67c2, "Polaris 10" },
	{ 0x67c4, "Polaris 10" }, { 0x67c7, "Polaris 10" }, { 0x67d0, "Polaris 10" },
	{ 0x67df, "Polaris 10" }, { 0x67c8, "Polaris 10" }, { 0x67c9, "Polaris 10" },
	{ 0x67ca, "Polaris 10" }, { 0x67cc, "Polaris 10" }, { 0x67cf, "Polaris 10" },
	{ 0x6fdf, "Polaris 10" }, { 0x67e0, "Polaris 11" }, { 0x67e3, "Polaris 11" },
	{ 0x67e8, "Polaris 11" }, { 0x67eb, "Polaris 11" }, { 0x67ef, "Polaris 11" },
	{ 0x67ff, "Polaris 11" }, { 0x67e1, "Polaris 11" }, { 0x67e7, "Polaris 11" },
	{ 0x67e9, "Polaris 11" }, { 0x6980, "Polaris 12" }, { 0x6981, "Polaris 12" },
	{ 0x6985, "Polaris 12" }, { 0x6986, "Polaris 12" }, { 0x6987, "Polaris 12" },
	{ 0x6995, "Polaris 12" }, { 0x6997, "Polaris 12" }, { 0x699f, "Polaris 12" },
	{ 0x6860, "Vega 10" },	  { 0x6861, "Vega 10" },    { 0x6862, "Vega 10" },
	{ 0x6863, "Vega 10" },	  { 0x6864, "Vega 10" },    { 0x6867, "Vega 10" },
	{ 0x6868, "Vega 10" },	  { 0x6869, "Vega 10" },    { 0x686a, "Vega 10" },
	{ 0x686b, "Vega 10" },	  { 0x686c, "Vega 10" },    { 0x686d, "Vega 10" },
	{ 0x686e, "Vega 10" },	  { 0x686f, "Vega 10" },    { 0x687f, "Vega 10" },
	{ 0x66a0, "Vega 20" },	  { 0x66a1, "Vega 20" },    { 0x66a2, "Vega 20" },
	{ 0x66a3, "Vega 20" },	  { 0x66a4, "Vega 20" },    { 0x66a7, "Vega 20" },
	{ 0x66af, "Vega 20" },	  { 0x7310, "Navi 10" },    { 0x7312, "Navi 10" },
	{ 0x7318, "Navi 10" },	  { 0x7319, "Navi 10" },    { 0x731a, "Navi 10" },
	{ 0x731b, "Navi 10" },	  { 0x731e, "Navi 10" },    { 0x731f, "Navi 10" },
	{ 0x7340, "Navi 14" },	  { 0x7341, "Navi 14" },    { 0x7347, "Navi 14" },
	{ 0x734f, "Navi 14" },	  { 0x7360, "Navi 12" },    { 0x7362, "Navi 12" },
	{ 0x738c, "Arcturus" },
};

const char *checks_vendor_reset_family(uint16_t vendor, uint16_t device)
{
	if (vendor != 0x1002)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(vendor_reset_devices); i++)
		if (vendor_reset_devices[i].device == device)
			return vendor_reset_devices[i].family;
	return NULL;
}

/* Add a finding of @id; @status PASS/INFO or the table's severity. */
_printf_(5, 6) static int add(struct diag_list *d, enum check_id id, enum diag_status status,
			      const char *fix, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return diag_add(d, status, checks_table[id].id, fix, "%s", msg);
}

/* A finding that follows from @cause having failed: INFO, "(follows from: CAUSE NAME)". */
_printf_(4, 5) static int add_caused(struct diag_list *d, enum check_id id, enum check_id cause,
				     const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	r = diag_add(d, DIAG_INFO, checks_table[id].id, NULL, "%s (follows from: %s)", msg,
		     checks_table[cause].cause);
	if (r < 0)
		return r;
	return diag_set_cause(d, checks_table[cause].id);
}

static bool cmdline_has(const struct host *h, const char *param)
{
	_cleanup_strv_free_ char **l = NULL;

	if (!h->cmdline || strv_split(h->cmdline, " \t\n", &l) < 0)
		return false;
	return strv_contains(l, param);
}

static bool is_amd_cpu(const struct host *h)
{
	return h->cpu_vendor && streq(h->cpu_vendor, "AuthenticAMD");
}

static bool iommu_off(const struct host *h)
{
	return h->n_groups == 0;
}

int checks_iommu(const struct host *h, struct diag_list *d)
{
	int r;

	if (!iommu_off(h))
		r = add(d, CHECK_IOMMU_ENABLED, DIAG_PASS, NULL, "IOMMU enabled: %zu IOMMU groups",
			h->n_groups);
	else
		r = add(
		    d, CHECK_IOMMU_ENABLED, DIAG_FAIL,
		    is_amd_cpu(h)
			? "Enable IOMMU / AMD-Vi in the firmware setup and add amd_iommu=on "
			  "iommu=pt to the kernel command line (gpurun host-config)"
			: "Enable VT-d in the firmware setup and add intel_iommu=on iommu=pt to "
			  "the kernel command line (gpurun host-config)",
		    "The IOMMU is off: no IOMMU groups in /sys/kernel/iommu_groups%s",
		    h->iommu_sysfs ? " (an IOMMU driver is registered but no groups)" : "");
	return r < 0 ? r : 0;
}

int checks_vfio_modules(const struct host *h, struct diag_list *d)
{
	int r;

	for (int i = 0; i < _HOST_MOD_MAX; i++) {
		if (!host_module_required(i))
			continue;
		if (h->mod_loaded[i])
			r = add(d, CHECK_VFIO_MODULES, DIAG_PASS, NULL, "Module %s loaded",
				host_module_names[i]);
		else if (h->mod_available[i])
			r = add(d, CHECK_VFIO_MODULES, DIAG_PASS, NULL,
				"Module %s available (gpurun loads it when a guest starts)",
				host_module_names[i]);
		else
			r = add(
			    d, CHECK_VFIO_MODULES, DIAG_FAIL,
			    "Install the kernel's modules package, or build with CONFIG_VFIO_PCI",
			    "Module %s not found for kernel %s", host_module_names[i],
			    strna(h->kernel_release));
		if (r < 0)
			return r;
	}
	return 0;
}

/* A remote node (h->remote_uri): libvirt's node-device API shows the PCI functions and their
 * IOMMU groups, nothing of the kernel's state. What it does not show is INFO "unknown", never a
 * PASS or FAIL read off the zero values of the snapshot. */
static int checks_host_remote(const struct host *h, struct diag_list *d)
{
	const char *u = h->remote_uri;
	int r;

	r = add(d, CHECK_CPU_VIRT, DIAG_INFO, NULL,
		"CPU hardware virtualization on %s: not visible through libvirt's node-device API",
		u);
	if (r >= 0)
		r = add(d, CHECK_KVM, DIAG_INFO, NULL,
			"/dev/kvm on %s: not visible through libvirt (a domain start says)", u);
	if (r >= 0 && !iommu_off(h))
		r = add(d, CHECK_IOMMU_ENABLED, DIAG_PASS, NULL,
			"IOMMU enabled on %s: %zu IOMMU groups", u, h->n_groups);
	else if (r >= 0)
		r = add(d, CHECK_IOMMU_ENABLED, DIAG_FAIL,
			"Enable the IOMMU in that host's firmware setup and kernel command line "
			"(run `gpurun host-config` there)",
			"The IOMMU is off on %s: no PCI device there has an IOMMU group", u);
	if (r >= 0 && !iommu_off(h))
		r = add(d, CHECK_IOMMU_PASSTHROUGH, DIAG_INFO, NULL,
			"IOMMU mode on %s: unknown (its kernel command line is not visible through "
			"libvirt)",
			u);
	if (r >= 0 && iommu_off(h))
		r = add_caused(d, CHECK_INTERRUPT_REMAPPING, CHECK_IOMMU_ENABLED,
			       "Interrupt remapping on %s unknown", u);
	else if (r >= 0)
		r = add(d, CHECK_INTERRUPT_REMAPPING, DIAG_INFO, NULL,
			"Interrupt remapping on %s: unknown (not visible through libvirt; run "
			"`gpurun check` there)",
			u);
	if (r >= 0)
		r = add(
		    d, CHECK_VFIO_MODULES, DIAG_INFO, NULL,
		    "vfio modules on %s: libvirt there loads vfio-pci when it detaches a device",
		    u);
	return r < 0 ? r : 0;
}

int checks_host(const struct host *h, bool kvm_required, struct diag_list *d)
{
	const char *flag = is_amd_cpu(h) ? "svm" : "vmx";
	int r = 0;

	if (h->remote_uri)
		return checks_host_remote(h, d);

	if (h->cpu_virt)
		r = add(d, CHECK_CPU_VIRT, DIAG_PASS, NULL, "CPU hardware virtualization (%s)",
			flag);
	else
		r = add(d, CHECK_CPU_VIRT, DIAG_FAIL,
			is_amd_cpu(h) ? "Enable SVM Mode in the firmware (BIOS/UEFI) setup"
				      : "Enable Intel VT-x in the firmware (BIOS/UEFI) setup",
			"CPU hardware virtualization: no %s flag in /proc/cpuinfo", flag);
	if (r < 0)
		return r;

	if (h->dev_kvm)
		r = add(d, CHECK_KVM, DIAG_PASS, NULL, "/dev/kvm exists");
	else if (!h->cpu_virt)
		r = add_caused(d, CHECK_KVM, CHECK_CPU_VIRT, "/dev/kvm is missing");
	else if (!kvm_required)
		r = add(d, CHECK_KVM, DIAG_INFO, NULL,
			"/dev/kvm is missing; accel = tcg: the guest runs without KVM (slow)");
	else
		r = add(d, CHECK_KVM, DIAG_FAIL,
			is_amd_cpu(h)
			    ? "modprobe kvm_amd (and enable SVM in the firmware), or set "
			      "accel = tcg in the profile (slow)"
			    : "modprobe kvm_intel (and enable VT-x in the firmware), or set "
			      "accel = tcg in the profile (slow)",
			"/dev/kvm is missing: QEMU cannot start a guest with accel = kvm");
	if (r < 0)
		return r;

	r = checks_iommu(h, d);
	if (r < 0)
		return r;

	if (!iommu_off(h)) {
		bool identity = false;

		for (size_t i = 0; i < h->n_groups; i++)
			identity |= iommu_group_is_passthrough(&h->groups[i]);
		if (cmdline_has(h, "iommu=pt") || identity)
			r = add(d, CHECK_IOMMU_PASSTHROUGH, DIAG_PASS, NULL,
				"IOMMU in passthrough mode for host devices (%s)",
				cmdline_has(h, "iommu=pt") ? "iommu=pt" : "identity domains");
		else
			r = add(d, CHECK_IOMMU_PASSTHROUGH, DIAG_WARN,
				"Add iommu=pt to the kernel command line (gpurun host-config)",
				"IOMMU translates all host DMA (no iommu=pt): slower host I/O");
		if (r < 0)
			return r;
	}

	if (h->intremap == 1)
		r = add(d, CHECK_INTERRUPT_REMAPPING, DIAG_PASS, NULL,
			"Interrupt remapping on (%s)", strna(h->intremap_evidence));
	else if (iommu_off(h))
		/* remapping is a function of the IOMMU: its own fix would be the wrong one */
		r = add_caused(d, CHECK_INTERRUPT_REMAPPING, CHECK_IOMMU_ENABLED,
			       "Interrupt remapping off");
	else if (h->intremap == 0)
		r = add(d, CHECK_INTERRUPT_REMAPPING, DIAG_FAIL,
			"Enable interrupt remapping / x2APIC in the firmware setup; only as a last "
			"resort: options vfio_iommu_type1 allow_unsafe_interrupts=1",
			"Interrupt remapping off (%s): vfio refuses to assign devices",
			strna(h->intremap_evidence));
	else
		r = add(d, CHECK_INTERRUPT_REMAPPING, DIAG_WARN,
			"Check `dmesg | grep -i remapping` for 'Enabled IRQ remapping'",
			"Interrupt remapping: no evidence either way");
	if (r < 0)
		return r;

	r = checks_vfio_modules(h, d);
	if (r < 0)
		return r;

	if (h->has_vfct)
		r = add(d, CHECK_VFCT, DIAG_INFO, NULL, "ACPI VFCT table present (%zu bytes)",
			h->vfct_size);
	return r < 0 ? r : 0;
}

static int describe_func(const struct pci_func *f, char **ret)
{
	char *s = strdup_printf("%s [%04x:%04x] (%s)", f->address, f->vendor, f->device,
				f->driver ? f->driver : "no driver");

	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static bool same_slot(const char *a, const char *b)
{
	return strncmp(a, b, 10) == 0; /* "dddd:bb:dd.f": equal up to the '.' */
}

/* The groups of every function in @passed: a function without a group, a group that also
 * holds functions not passed (bridges aside). @gpu names the card in the messages. */
static int check_groups(const struct host *h, const struct pci_func *gpu, char *const *passed,
			struct diag_list *d)
{
	_cleanup_free_ int *seen = calloc(strv_length(passed) + 1, sizeof(int));
	size_t n_seen = 0;
	int r;

	if (!seen)
		return -ENOMEM;
	for (char *const *a = passed; *a; a++) {
		const struct pci_func *f = host_find_func(h, *a);
		_cleanup_free_ size_t *idx = NULL;
		_cleanup_strv_free_ char **names = NULL;
		_cleanup_free_ char *joined = NULL, *fix = NULL, *whose = NULL;
		bool dup = false, apu_audio;
		int n;

		if (!f)
			continue;
		if (f->iommu_group < 0) {
			if (f == gpu)
				continue; /* gpu-group says it */
			r = iommu_off(h) ? add_caused(d, CHECK_IOMMU_GROUP, CHECK_IOMMU_ENABLED,
						      "%s is in no IOMMU group", f->address)
					 : add(d, CHECK_IOMMU_GROUP, DIAG_FAIL,
					       "Check the firmware's IOMMU settings for this slot",
					       "%s is in no IOMMU group", f->address);
			if (r < 0)
				return r;
			continue;
		}
		for (size_t j = 0; j < n_seen; j++)
			dup = dup || seen[j] == f->iommu_group;
		if (dup)
			continue;
		seen[n_seen++] = f->iommu_group;
		n = iommu_group_blockers(h, f->iommu_group, passed, &idx);
		if (n == -ENOENT)
			continue;
		if (n < 0)
			return n;
		if (n == 0) {
			r = add(d, CHECK_GROUP_VIABLE, DIAG_PASS, NULL,
				"IOMMU group %d is viable (only the GPU's functions and bridges)",
				f->iommu_group);
			if (r < 0)
				return r;
			continue;
		}
		names = calloc(1, sizeof(char *));
		if (!names)
			return -ENOMEM;
		for (int k = 0; k < n; k++) {
			char *s;

			if (describe_func(&h->funcs[idx[k]], &s) < 0 || strv_consume(&names, s) < 0)
				return -ENOMEM;
		}
		joined = strv_join(names, ", ");
		if (!joined)
			return -ENOMEM;
		if (f != gpu && gpu &&
		    !(whose = strdup_printf(" (the group of %s, which goes with %s)", f->address,
					    gpu->address)))
			return -ENOMEM;
		/* an APU's HDMI audio sharing a group with the platform's own devices: the GPU
		 * works without it, the host needs them */
		apu_audio = gpu && f != gpu && pci_func_is_hda(f) && host_slot_is_apu(h, gpu);
		if (apu_audio)
			fix = strdup_printf(
			    "Leave the HDMI audio %s to the host: list only the display function "
			    "in "
			    "[gpu] functions (functions = %s); the guest then has no HDMI audio",
			    f->address, gpu->address);
		else
			fix = strdup(
			    "Pass these devices too ([device NAME] sections), move the card "
			    "to another slot, or update the firmware for better ACS "
			    "isolation; binding only part of a group cannot work (the kernel "
			    "refuses to open a group while a member keeps its host driver)");
		if (!fix)
			return -ENOMEM;
		r = add(d, CHECK_GROUP_VIABLE, DIAG_FAIL, fix,
			"IOMMU group %d is not viable: it also holds %s%s", f->iommu_group, joined,
			strempty(whose));
		if (r < 0)
			return r;
	}
	return 0;
}

int checks_groups(const struct host *h, const struct pci_func *gpu, char *const *passed,
		  struct diag_list *d)
{
	return check_groups(h, gpu, passed, d);
}

static int check_reset(const struct host *h, const struct pci_func *gpu, struct diag_list *d)
{
	_cleanup_free_ char *resets = strv_join(gpu->reset_methods, " ");
	const char *family = checks_vendor_reset_family(gpu->vendor, gpu->device);
	const char *a = gpu->address;

	if (!resets)
		return -ENOMEM;
	if (strv_contains(gpu->reset_methods, "flr") ||
	    (gpu->pcie_flr && gpu->reset_method_missing))
		return add(d, CHECK_GPU_RESET, DIAG_PASS, NULL, "%s resets with FLR (reset: %s)", a,
			   resets[0] ? resets : "flr");
	if (strv_contains(gpu->reset_methods, "device_specific"))
		return add(d, CHECK_GPU_RESET, DIAG_PASS, NULL,
			   "%s has a device-specific reset (vendor-reset) (reset: %s)", a, resets);
	if (family)
		return add(
		    d, CHECK_GPU_RESET, DIAG_WARN,
		    "Install the vendor-reset module (it supports this GPU) and set "
		    "reset_method to device_specific; after a guest crash the GPU may need a "
		    "host reboot without it",
		    "%s: AMD GPU without FLR (reset: %s): the AMD reset bug of the %s family may "
		    "leave it unusable after the guest stops",
		    a, resets[0] ? resets : "none", family);
	if (gpu->vendor == 0x1002 && host_slot_is_apu(h, gpu))
		return add(
		    d, CHECK_GPU_RESET, DIAG_WARN,
		    "vendor-reset does not support APUs: shut the guest down cleanly (no "
		    "forced stop) so its driver leaves the GPU idle, and let the host driver "
		    "take it back on revert; if the display stays dark, reboot the host",
		    "%s: AMD GPU without FLR (reset: %s): an APU's GPU is only reset with the "
		    "whole chip, a second guest start may find it unusable",
		    a, resets[0] ? resets : "none");
	if (gpu->vendor == 0x1002)
		return add(
		    d, CHECK_GPU_RESET, DIAG_WARN,
		    "vendor-reset does not support this GPU (Navi 2x/3x and later reset "
		    "with a bus reset): shut the guest down cleanly, and let amdgpu take the "
		    "card back on revert; if it does not come back, suspend and resume the "
		    "host or reboot",
		    "%s: AMD GPU without FLR (reset: %s): it depends on the bus reset", a,
		    resets[0] ? resets : "none");
	return add(d, CHECK_GPU_RESET, DIAG_WARN,
		   "Check the card's reset support (lspci -vv: FLReset+); a bus reset usually "
		   "works, but a function that shares its bus cannot be reset alone",
		   "%s has no FLR (reset: %s)", a, resets[0] ? resets : "none");
}

static const char *class_word(const struct pci_func *f)
{
	if (f->class_name)
		return f->class_name;
	if (pci_func_is_hda(f))
		return "Audio device";
	return "PCI function";
}

/* The display function of @f's slot, for a function that goes with a GPU. */
static const struct pci_func *slot_display(const struct host *h, const struct pci_func *f)
{
	for (size_t i = 0; i < h->n_funcs; i++)
		if (same_slot(h->funcs[i].address, f->address) && pci_func_is_display(&h->funcs[i]))
			return &h->funcs[i];
	return NULL;
}

int checks_gpu(const struct host *h, const struct pci_func *gpu, char *const *passed,
	       bool allow_boot_vga, struct diag_list *d)
{
	_cleanup_strv_free_ char **slot = NULL;
	const char *a = gpu->address;
	bool display = pci_func_is_display(gpu);
	int r;

	if (passed)
		slot = strv_copy(passed);
	else
		r = host_gpu_slot_functions(h, gpu, &slot);
	if (!slot)
		return -ENOMEM;

	for (char **s = slot; *s; s++) {
		const struct pci_func *f = host_find_func(h, *s);

		if (!f || !f->config_dead)
			continue;
		r = add(d, CHECK_GPU_RESPONDING, DIAG_FAIL,
			"Reboot the host (a warm reboot may not be enough: power it off); check "
			"`dmesg` for the device",
			"%s [%04x:%04x] is not responding (config space reads 0xff); the device "
			"needs a reset or a host reboot",
			f->address, f->vendor, f->device);
		if (r < 0)
			return r;
	}

	if (!display) {
		const struct pci_func *disp = slot_display(h, gpu);
		_cleanup_free_ char *fix = disp ? strdup_printf("Name the display function %s; "
								"this function goes with it",
								disp->address)
						: strdup("Name a display controller (see `gpurun "
							 "ls`)");

		if (!fix)
			return -ENOMEM;
		r = add(d, CHECK_GPU_CLASS, DIAG_WARN, fix,
			"%s [%04x:%04x] is not a display controller (%s, class %06x)", a,
			gpu->vendor, gpu->device, class_word(gpu), gpu->class);
		if (r < 0)
			return r;
	}

	if (gpu->iommu_group < 0)
		r = iommu_off(h)
			? add_caused(d, CHECK_GPU_GROUP, CHECK_IOMMU_ENABLED,
				     "%s [%04x:%04x] has no IOMMU group", a, gpu->vendor,
				     gpu->device)
			: add(d, CHECK_GPU_GROUP, DIAG_FAIL,
			      "Check the firmware's IOMMU settings for this slot",
			      "%s [%04x:%04x] has no IOMMU group", a, gpu->vendor, gpu->device);
	else {
		_cleanup_free_ char *members = strv_join(slot, " ");

		/* an APU's slot passes its display and GPU-audio functions only: a host bridge
		 * named by id there has no list at all, and "passed with it: " says nothing */
		if (members && !*members)
			r = add(d, CHECK_GPU_GROUP, DIAG_PASS, NULL,
				"%s [%04x:%04x] is in IOMMU group %d; no function of its slot is "
				"passed by default (neither display nor the GPU's audio)",
				a, gpu->vendor, gpu->device, gpu->iommu_group);
		else
			r = add(d, CHECK_GPU_GROUP, DIAG_PASS, NULL,
				"%s [%04x:%04x] is in IOMMU group %d; passed with it: %s", a,
				gpu->vendor, gpu->device, gpu->iommu_group, strna(members));
	}
	if (r < 0)
		return r;
	r = check_groups(h, gpu, slot, d);
	if (r < 0)
		return r;

	r = add(d, CHECK_GPU_DRIVER, gpu->driver ? DIAG_PASS : DIAG_INFO, NULL, "%s driver: %s%s%s",
		a, gpu->driver ? gpu->driver : "none",
		gpu->driver_override ? ", driver_override " : "", strempty(gpu->driver_override));
	if (r < 0)
		return r;
	if (!display)
		return 0; /* boot VGA, reset and VBIOS are a display function's facts */

	if (h->remote_uri) {
		/* boot VGA, consoles, reset methods and the sysfs rom are sysfs facts */
		r = add(d, CHECK_BOOT_VGA, DIAG_INFO, NULL,
			"Whether %s is the boot VGA device of %s or holds its console: unknown "
			"(not visible through libvirt)",
			a, h->remote_uri);
		if (r >= 0)
			r = add(d, CHECK_GPU_RESET, DIAG_INFO, NULL,
				"Reset methods of %s on %s: unknown (not visible through libvirt)",
				a, h->remote_uri);
		if (r >= 0)
			r = add(
			    d, CHECK_GPU_VBIOS, DIAG_INFO, NULL,
			    "VBIOS source for %s on %s: unknown; vbios = FILE is uploaded there, "
			    "`gpurun vbios extract` on that host makes one",
			    a, h->remote_uri);
		return r < 0 ? r : 0;
	}
	if (gpu->boot_vga == 1 || gpu->console) {
		const char *what = gpu->boot_vga == 1 && gpu->console
				       ? "the boot VGA device and holds the console"
				   : gpu->boot_vga == 1 ? "the boot VGA device"
							: "the console framebuffer";

		if (allow_boot_vga)
			r = add(
			    d, CHECK_BOOT_VGA, DIAG_WARN, NULL,
			    "%s is %s; allow-boot-vga = yes: the host console is released while "
			    "the guest runs",
			    a, what);
		else
			r = add(
			    d, CHECK_BOOT_VGA, passed ? DIAG_FAIL : DIAG_WARN,
			    "Use `gpurun run --allow-boot-vga` or allow-boot-vga = yes in [gpu] "
			    "(the console is handed back on exit), or make another GPU primary in "
			    "the firmware setup",
			    "%s is %s: the host loses its display while the guest runs", a, what);
	} else
		r = add(d, CHECK_BOOT_VGA, DIAG_PASS, NULL,
			"%s is not the boot VGA device and holds no console", a);
	if (r < 0)
		return r;

	r = check_reset(h, gpu, d);
	if (r < 0)
		return r;

	if (h->has_vfct && gpu->vendor == 0x1002)
		r = add(d, CHECK_GPU_VBIOS, DIAG_PASS, NULL,
			"VBIOS source for %s: ACPI VFCT table (gpurun vbios extract)", a);
	else if (gpu->has_rom)
		r = add(d, CHECK_GPU_VBIOS, DIAG_PASS, NULL,
			"VBIOS source for %s: the device's sysfs rom", a);
	else
		r = add(d, CHECK_GPU_VBIOS, DIAG_WARN,
			"Dump the VBIOS on a host where the card is not primary, or set vbios = "
			"/path/file.rom in the profile",
			"No VBIOS source for %s (no VFCT table, no sysfs rom)", a);
	return r < 0 ? r : 0;
}

/* hugepages = yes: QEMU preallocates the whole guest memory from the 2 MiB pool at start (and
 * fails when it is short); libvirt and Proxmox are told the same page size and preallocation. */
static int check_hugepages(const struct host *h, const struct profile *pr, struct diag_list *d)
{
	uint64_t page_mib = HOST_HUGEPAGE_KB / 1024, need = pr->memory_mib / page_mib;

	if (!pr->hugepages)
		return 0;
	if (pr->memory_mib % page_mib)
		return add(d, CHECK_HUGEPAGES, checks_table[CHECK_HUGEPAGES].severity,
			   "Make memory a multiple of 2 MiB, or set hugepages = no",
			   "hugepages = yes: memory = %" PRIu64 " MiB is not a whole number of "
			   "%" PRIu64 " MiB huge pages",
			   pr->memory_mib, page_mib);
	if (!h->hugepages_known)
		return add(d, CHECK_HUGEPAGES, DIAG_INFO, NULL,
			   "hugepages = yes: the host's %u kB huge page counts are not readable: "
			   "cannot tell whether %" PRIu64 " of them are free",
			   HOST_HUGEPAGE_KB, need);
	if (h->hugepages_free < need)
		return add(
		    d, CHECK_HUGEPAGES, checks_table[CHECK_HUGEPAGES].severity,
		    "Reserve more before the run: sysctl vm.nr_hugepages=N (N = the pages "
		    "reserved now plus the ones missing; hugepages=N on the kernel command line "
		    "reserves them at boot), or set hugepages = no",
		    "hugepages = yes: the guest's %" PRIu64 " MiB need %" PRIu64
		    " free %u kB huge pages, the host has %" PRIu64 " free (%" PRIu64 " reserved)",
		    pr->memory_mib, need, HOST_HUGEPAGE_KB, h->hugepages_free, h->hugepages_total);
	return add(d, CHECK_HUGEPAGES, DIAG_PASS, NULL,
		   "hugepages = yes: %" PRIu64 " free %u kB huge pages, %" PRIu64 " needed",
		   h->hugepages_free, HOST_HUGEPAGE_KB, need);
}

/* A [device] that is the host's boot VGA device or carries its console: run releases the
 * consoles of the [gpu] only (allow-boot-vga), so taking this one from its driver would pull the
 * display, and the console on it, from under the host. */
static int check_extra_console(const struct host *h, const struct plan_device *x,
			       struct diag_list *d)
{
	const struct pci_func *f = host_find_func(h, x->address);

	if (!f || (f->boot_vga != 1 && !f->console))
		return 0;
	return add(d, CHECK_BOOT_VGA, DIAG_FAIL,
		   "Name it as the [gpu] with allow-boot-vga = yes (the console is released and "
		   "handed back), or leave it to the host",
		   "[device %s] %s is %s: gpurun releases the console only for the [gpu]",
		   strna(x->name), x->address,
		   f->boot_vga == 1 && f->console ? "the boot VGA device and holds the console"
		   : f->boot_vga == 1		  ? "the boot VGA device"
						  : "the console framebuffer");
}

/* cpu-pinning names host CPUs: each must be online (the run's sched_setaffinity, libvirt's
 * <vcpupin> and Proxmox's affinity: all fail on one that is not). */
static int check_cpu_pinning(const struct host *h, const struct profile *pr, struct diag_list *d)
{
	if (pr->n_pin_cpus == 0)
		return 0;
	if (h->n_cpus_online == 0)
		return add(d, CHECK_CPU_PINNING, DIAG_INFO, NULL,
			   "cpu-pinning = %s: the host's online CPUs are not known "
			   "(sys/devices/system/cpu/online)",
			   pr->cpu_pinning);
	for (size_t i = 0; i < pr->n_pin_cpus; i++)
		if (!host_cpu_online(h, pr->pin_cpus[i]))
			return add(
			    d, CHECK_CPU_PINNING, checks_table[CHECK_CPU_PINNING].severity,
			    "Name CPUs the host has online (lscpu; sys/devices/system/cpu/online), "
			    "or remove cpu-pinning",
			    "cpu-pinning = %s: CPU %u is not online on this host (online: "
			    "%u-%u%s)",
			    pr->cpu_pinning, pr->pin_cpus[i], h->cpus_online[0],
			    h->cpus_online[h->n_cpus_online - 1],
			    h->cpus_online[h->n_cpus_online - 1] - h->cpus_online[0] + 1 ==
				    h->n_cpus_online
				? ""
				: ", with gaps");
	/* run pins the vCPU threads of the QEMU it starts with sched_setaffinity(), which fails
	 * for a CPU outside gpurun's own set (taskset, a cgroup cpuset); libvirt pins from
	 * libvirtd, whose set this process does not know */
	for (size_t i = 0; i < pr->n_pin_cpus && pr->backend == PROFILE_BACKEND_QEMU; i++) {
		_cleanup_free_ char *allowed = NULL;

		if (host_cpu_allowed(h, pr->pin_cpus[i]))
			continue;
		allowed = cpulist_format(h->cpus_allowed, h->n_cpus_allowed);
		if (!allowed)
			return -ENOMEM;
		return add(d, CHECK_CPU_PINNING, checks_table[CHECK_CPU_PINNING].severity,
			   "Run gpurun where it may use those CPUs (taskset, the cgroup's cpuset), "
			   "or name CPUs of its set",
			   "cpu-pinning = %s: CPU %u is not one gpurun may run on (allowed: %s): "
			   "its vCPU thread cannot be pinned there",
			   pr->cpu_pinning, pr->pin_cpus[i], allowed);
	}
	return add(d, CHECK_CPU_PINNING, DIAG_PASS, NULL, "cpu-pinning = %s: every CPU is online",
		   pr->cpu_pinning);
}

/* qemu-bridge-helper's ACL: "allow NAME|all", "deny NAME|all" lines (# comments), every rule
 * applied in turn; allowed when some allow matched and no deny did. 1 allowed, 0 refused, -1 not
 * known (an include line, whose file this does not follow). */
static int bridge_acl_allows(const char *conf, const char *bridge)
{
	bool allowed = false, denied = false;

	for (const char *l = conf; l && *l;) {
		size_t len = strcspn(l, "\n");
		_cleanup_free_ char *line = strndup(l, len);
		char cmd[16], arg[64];
		int n;

		l += len + (l[len] == '\n');
		if (!line)
			return -1;
		line[strcspn(line, "#")] = '\0';
		n = sscanf(line, "%15s %63s", cmd, arg);
		if (n < 1)
			continue;
		if (n < 2 || streq(cmd, "include"))
			return -1;
		if (streq(cmd, "allow"))
			allowed = allowed || streq(arg, "all") || streq(arg, bridge);
		else if (streq(cmd, "deny"))
			denied = denied || streq(arg, "all") || streq(arg, bridge);
		else
			return -1;
	}
	return allowed && !denied;
}

/* network = bridge:NAME: QEMU's bridge helper and libvirt both attach the guest's tap to that
 * bridge, and fail to start the guest when there is none. */
static int check_network(const struct host *h, const struct profile *pr, struct diag_list *d)
{
	if (pr->network != PROFILE_NETWORK_BRIDGE || !h->net_known || h->remote_uri)
		return 0;
	if (!strv_contains(h->bridges, pr->network_bridge))
		return add(
		    d, CHECK_NETWORK, checks_table[CHECK_NETWORK].severity,
		    "Create the bridge (ip link add NAME type bridge; or the distribution's "
		    "network configuration), name one the host has, or use network = user",
		    "network = bridge:%s: the host has no bridge '%s' (sys/class/net/%s/bridge)",
		    pr->network_bridge, pr->network_bridge, pr->network_bridge);
	if (pr->backend == PROFILE_BACKEND_QEMU) {
		/* -nic bridge runs qemu-bridge-helper, which refuses a bridge its ACL does not
		 * allow, and fails without the file (libvirt makes the tap itself) */
		int acl = bridge_acl_allows(h->bridge_conf, pr->network_bridge);

		if (h->bridge_conf_error < 0 || acl == 0)
			return add(
			    d, CHECK_NETWORK, checks_table[CHECK_NETWORK].severity,
			    "Allow it for QEMU's bridge helper: a line 'allow NAME' in "
			    "/etc/qemu/bridge.conf (mode 0644), or use backend = libvirt",
			    "network = bridge:%s: QEMU's bridge helper refuses it: %s",
			    pr->network_bridge,
			    h->bridge_conf_error == -ENOENT ? "/etc/qemu/bridge.conf does not exist"
			    : h->bridge_conf_error < 0	    ? "/etc/qemu/bridge.conf cannot be read"
						       : "/etc/qemu/bridge.conf does not allow it");
	}
	return add(d, CHECK_NETWORK, DIAG_PASS, NULL, "network = bridge:%s: the host has it",
		   pr->network_bridge);
}

/* VFIO maps, and so pins, every page of the guest memory when QEMU starts: a guest larger than
 * the host's memory cannot start, whatever the overcommit settings. */
static int check_memory(const struct host *h, const struct profile *pr, struct diag_list *d)
{
	uint64_t total_mib = h->mem_total_kib / 1024;

	if (h->mem_total_kib == 0 || h->remote_uri)
		return 0;
	if (pr->memory_mib > total_mib)
		return add(d, CHECK_MEMORY, checks_table[CHECK_MEMORY].severity,
			   "Give the guest less memory than the host has (and leave the host some)",
			   "memory = %" PRIu64 " MiB is more than the host's %" PRIu64
			   " MiB: a guest with a passed-through device has all of its memory "
			   "pinned",
			   pr->memory_mib, total_mib);
	return add(d, CHECK_MEMORY, DIAG_PASS, NULL,
		   "memory = %" PRIu64 " MiB fits in the host's %" PRIu64 " MiB", pr->memory_mib,
		   total_mib);
}

static enum emit_kind backend_output(const struct profile *pr);
static int output_limits(const struct plan *p, enum emit_kind k, struct diag_list *d);

int checks_plan(const struct host *h, const struct plan *p, struct diag_list *d)
{
	const struct profile *pr = p->profile;
	_cleanup_strv_free_ char **passed = calloc(1, sizeof(char *));
	const struct pci_func *gpu = NULL;
	int r;

	if (!passed)
		return -ENOMEM;
	r = checks_host(h, !pr->accel_tcg, d);
	if (r < 0)
		return r;
	r = check_hugepages(h, pr, d);
	if (r >= 0)
		r = check_cpu_pinning(h, pr, d);
	if (r >= 0)
		r = check_memory(h, pr, d);
	if (r >= 0)
		r = check_network(h, pr, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_devices; i++) {
		if (strv_extend(&passed, p->devices[i].address) < 0)
			return -ENOMEM;
		if (!gpu && p->devices[i].role == PLAN_ROLE_GPU)
			gpu = host_find_func(h, p->devices[i].address);
		if (p->devices[i].role == PLAN_ROLE_EXTRA) {
			r = check_extra_console(h, &p->devices[i], d);
			if (r < 0)
				return r;
		}
	}
	if (!gpu && p->n_devices > 0 && p->devices[0].role != PLAN_ROLE_EXTRA)
		gpu = host_find_func(h, p->devices[0].address);
	r = output_limits(p, backend_output(pr), d);
	if (r < 0)
		return r;
	if (!gpu)
		return 0;
	return checks_gpu(h, gpu, passed, pr->allow_boot_vga, d);
}

/* q35's pcie.0: slot 0 is the host bridge, 0x1f the ICH9 functions (LPC, AHCI, SMBus) */
#define Q35_FREE_SLOTS 30
#define PCI_MAX_BUS 255

static enum emit_kind backend_output(const struct profile *pr)
{
	return pr->backend == PROFILE_BACKEND_LIBVIRT ? EMIT_LIBVIRT : EMIT_QEMU;
}

static int output_limits(const struct plan *p, enum emit_kind k, struct diag_list *d)
{
	const struct profile *pr = p->profile;
	size_t disks = strv_length(pr->disks), cdroms = strv_length(pr->cdroms);
	unsigned ports = 0;
	size_t nic = pr->network != PROFILE_NETWORK_NONE, usb = 0, pci;
	int r = 0;

	for (size_t i = 0; i < p->n_devices; i++)
		if (p->devices[i].guest_port + 1 > ports)
			ports = p->devices[i].guest_port + 1;
	for (size_t i = 0; i < guest_n_features; i++)
		if (guest_features[i].qemu_kind == GUEST_QEMU_DEVICE &&
		    startswith(guest_features[i].qemu, "qemu-xhci") &&
		    guest_feature_on(&guest_features[i], pr))
			usb = 1;
	pci = ports + disks + nic + usb;

	switch (k) {
	case EMIT_QEMU:
		if (pci > Q35_FREE_SLOTS)
			r = add(
			    d, CHECK_OUTPUT_LIMIT, DIAG_FAIL,
			    "Use fewer disks, or backend = libvirt / emit libvirt (every device "
			    "on a root port of its own)",
			    "QEMU command line: %zu devices on pcie.0 (%u root port%s, %zu virtio "
			    "disk%s, %zu NIC, %zu USB controller), but q35's pcie.0 has %d free "
			    "slots",
			    pci, ports, ports == 1 ? "" : "s", disks, disks == 1 ? "" : "s", nic,
			    usb, Q35_FREE_SLOTS);
		break;
	case EMIT_LIBVIRT:
		if (pci > PCI_MAX_BUS)
			r = add(
			    d, CHECK_OUTPUT_LIMIT, DIAG_FAIL, "Use fewer disks",
			    "libvirt domain XML: %zu pcie-root-ports (one per virtio disk, NIC, "
			    "USB controller and GPU slot), but PCI has %d bus numbers",
			    pci, PCI_MAX_BUS);
		break;
	case EMIT_PROXMOX:
		if (disks > EMIT_PROXMOX_MAX_DISKS)
			r = add(
			    d, CHECK_OUTPUT_LIMIT, DIAG_FAIL,
			    "Use at most 16 disks for Proxmox VE (emit qemu and libvirt carry "
			    "more)",
			    "Proxmox VE config: %zu disks, but Proxmox has virtio0..virtio15 (%d "
			    "virtio disks)",
			    disks, EMIT_PROXMOX_MAX_DISKS);
		if (r >= 0 && cdroms > EMIT_PROXMOX_MAX_CDROMS)
			r = add(d, CHECK_OUTPUT_LIMIT, DIAG_FAIL, "Use at most 6 cdroms",
				"Proxmox VE config: %zu cdroms, but Proxmox has sata0..sata5 (%d)",
				cdroms, EMIT_PROXMOX_MAX_CDROMS);
		break;
	default:
		break;
	}
	return r < 0 ? r : 0;
}

static const char *file_word(enum check_file_kind k)
{
	static const char *const words[_CHECK_FILE_KIND_MAX] = {
		[CHECK_FILE_VBIOS] = "vbios", [CHECK_FILE_GOP] = "gop",
		[CHECK_FILE_NVRAM] = "nvram", [CHECK_FILE_DISK] = "disk",
		[CHECK_FILE_CDROM] = "cdrom",
	};
	return words[k];
}

static enum check_id file_check(enum check_file_kind k)
{
	switch (k) {
	case CHECK_FILE_VBIOS:
	case CHECK_FILE_GOP:
		return CHECK_ROM_FILE;
	case CHECK_FILE_NVRAM:
		return CHECK_NVRAM;
	case CHECK_FILE_DISK:
		return CHECK_DISK;
	default:
		return CHECK_CDROM;
	}
}

static int check_file(const struct plan *p, const struct check_file *f, struct diag_list *d)
{
	enum check_id id = file_check(f->kind);
	const char *w = file_word(f->kind);
	bool rom = f->kind == CHECK_FILE_VBIOS || f->kind == CHECK_FILE_GOP;
	_cleanup_(error_clear) struct error err = {};

	if (f->error == -ENOENT && f->kind == CHECK_FILE_NVRAM)
		return add(d, id, DIAG_INFO, NULL,
			   "nvram = %s does not exist yet: it is created from the OVMF variables "
			   "template at the first start",
			   f->path);
	if (f->error == -ENOENT)
		return add(d, id, DIAG_FAIL,
			   f->kind == CHECK_FILE_VBIOS
			       ? "Fix the path, or use vbios = vfct (iGPU), "
				 "sysfs or none"
			   : rom ? "Fix the path. gop names the AMD GOP driver (AMDGopDriver.rom): "
				   "an x64 EFI driver that OVMF loads from the HDMI audio "
				   "function's ROM so the guest has a picture before its own GPU "
				   "driver loads. It is not in the VFCT table: it comes with the "
				   "machine's UEFI firmware (extract it from the vendor's firmware "
				   "update, e.g. with UEFITool). Without it, leave gop out: the "
				   "screen stays black until the guest loads amdgpu (README, \"One "
				   "ROM or two\")"
				 : "Fix the path, or create the file",
			   "%s = %s: the file does not exist", w, f->path);
	if (f->error < 0)
		return add(d, id, DIAG_FAIL, "Check the file's permissions",
			   "%s = %s: cannot read the file: %s", w, f->path,
			   read_full_file_strerror(f->error));
	if (!rom && f->qcow2 >= 0) {
		/* the format every output names: a disk's from its name, the nvram the OVMF
		 * variables template's */
		bool want = f->kind == CHECK_FILE_NVRAM
				? p->ovmf_vars_format == FIRMWARE_FORMAT_QCOW2
				: streq(profile_disk_format(f->path), "qcow2");

		if (want && !f->qcow2)
			return add(
			    d, id, DIAG_FAIL,
			    f->kind == CHECK_FILE_NVRAM
				? "Convert it (qemu-img convert -O qcow2 FILE NEW), or leave "
				  "nvram out: gpurun then copies the template"
				: "Convert it (qemu-img convert -O qcow2 FILE NEW), or name a "
				  "raw image without .qcow2 (qemu-img create makes a raw one "
				  "unless given -f qcow2)",
			    "%s = %s: not a qcow2 image, but read as one (%s): QEMU refuses "
			    "to open it",
			    w, f->path,
			    f->kind == CHECK_FILE_NVRAM ? "the OVMF variables are qcow2 here"
							: "its name ends in .qcow2");
		if (!want && f->qcow2)
			return add(d, id, f->kind == CHECK_FILE_NVRAM ? DIAG_FAIL : DIAG_WARN,
				   f->kind == CHECK_FILE_NVRAM
				       ? "Convert it (qemu-img convert -O raw FILE NEW), or leave "
					 "nvram out: gpurun then copies the template"
				       : "Name it *.qcow2, or convert it (qemu-img convert -O raw)",
				   "%s = %s: a qcow2 image, but read as raw (%s): the guest sees "
				   "qcow2's metadata, not its contents",
				   w, f->path,
				   f->kind == CHECK_FILE_NVRAM ? "the OVMF variables are raw here"
							       : "its name does not end in .qcow2");
	}
	if (!rom)
		return add(d, id, DIAG_PASS, NULL, "%s = %s: readable", w, f->path);
	if (rom_validate_for_guest(f->data, f->size, f->kind == CHECK_FILE_GOP, &err) < 0) {
		const struct plan_device *dev = NULL;

		for (size_t i = 0; i < p->n_devices; i++)
			if (streq_ptr(p->devices[i].rom_source_path, f->path) &&
			    p->devices[i].rom_is_gop == (f->kind == CHECK_FILE_GOP))
				dev = &p->devices[i];
		return add(
		    d, id, DIAG_FAIL,
		    f->kind == CHECK_FILE_GOP
			? "Use a GOP driver ROM with an x64 EFI image (gpurun rom info FILE)"
			: "Use a valid option ROM (gpurun rom info FILE shows what is wrong)",
		    "%s = %s: ROM for %s (%s): %s", w, f->path, dev ? dev->address : "the GPU",
		    dev && dev->rom_name ? dev->rom_name : f->path, strna(err.message));
	}
	return add(d, id, DIAG_PASS, NULL, "%s = %s: a valid option ROM", w, f->path);
}

/* backend = libvirt: run fills the template (emit_libvirt_xml_from_buffer) before it changes
 * anything, and stops when that fails; the same call here tells it first. */
static int check_template(const struct plan *p, const struct check_state *s, struct diag_list *d)
{
	_cleanup_free_ char *xml = NULL;
	int r;

	if (!s->template_name)
		return 0;
	if (s->template_error == -ENOENT && strchr(s->template_name, '/'))
		return add(d, CHECK_TEMPLATE, DIAG_FAIL, "Fix the path, or use template = linux",
			   "template = %s: the file does not exist", s->template_name);
	if (s->template_error == -ENOENT)
		return add(d, CHECK_TEMPLATE, DIAG_FAIL,
			   "Name a template of that directory without .xml (linux, windows11), or "
			   "a file by its path",
			   "template = %s: not found (looked in %s)", s->template_name,
			   strempty(s->template_dir));
	if (s->template_error < 0)
		return add(d, CHECK_TEMPLATE, DIAG_FAIL, "Check the file's permissions",
			   "template = %s: cannot read it: %s", s->template_name,
			   read_full_file_strerror(s->template_error));
	r = emit_libvirt_xml_from_buffer(p, s->template_xml, s->template_len, false, &xml);
	if (r == -ENOMEM)
		return r;
	if (r == -EBADMSG)
		return add(d, CHECK_TEMPLATE, DIAG_FAIL,
			   "Fix the file (xmllint FILE shows where), or use template = linux",
			   "template = %s: not a <domain> XML document", s->template_name);
	if (r < 0)
		return 0; /* not the template's fault: the findings above say what is missing */
	return add(d, CHECK_TEMPLATE, DIAG_PASS, NULL, "template = %s: a <domain> document",
		   s->template_name);
}

/* run starts QEMU (backend = qemu) and swtpm (tpm = yes) after it has bound the GPU: a program
 * that is not there is said first. Only a FAIL: where it is found, nothing is printed (the path
 * is this machine's, not the host's the checks describe). */
static int check_programs(const struct check_state *s, struct diag_list *d)
{
	int r = 0;

	if (s->qemu_binary && s->qemu_error < 0)
		r = add(
		    d, CHECK_PROGRAM, DIAG_FAIL,
		    strchr(s->qemu_binary, '/')
			? "Give the path of an executable QEMU with --qemu"
			: "Install QEMU (Debian/Ubuntu: apt install qemu-system-x86; Fedora: dnf "
			  "install qemu-kvm; Arch: pacman -S qemu-full), or give its path with "
			  "--qemu",
		    "QEMU %s: %s", s->qemu_binary,
		    s->qemu_error == -EACCES	  ? "not executable"
		    : strchr(s->qemu_binary, '/') ? "no such file"
						  : "not found in PATH");
	if (r >= 0 && s->swtpm_read && s->swtpm_error < 0)
		r = add(d, CHECK_PROGRAM, DIAG_FAIL,
			"Install swtpm (Debian/Ubuntu: apt install swtpm swtpm-tools; Fedora: dnf "
			"install swtpm swtpm-tools), or set tpm = no",
			"tpm = yes needs swtpm: %s",
			s->swtpm_error == -EACCES ? "not executable" : "not found in PATH");
	return r;
}

int checks_preview(const struct host *h, const struct plan *p, const struct check_state *state,
		   struct diag_list *d)
{
	int r = 0;

	r = check_programs(state, d);
	if (r < 0)
		return r;

	for (size_t i = 0; i < state->n_files; i++) {
		r = check_file(p, &state->files[i], d);
		if (r < 0)
			return r;
	}
	r = check_template(p, state, d);
	if (r < 0)
		return r;
	switch (state->journal) {
	case CHECK_JOURNAL_NONE:
		r = 0;
		break;
	case CHECK_JOURNAL_TAKEOVER:
		r = add(d, CHECK_JOURNAL, DIAG_INFO, NULL,
			"VM '%s' has a journal naming no change (a run killed before its first "
			"one): the run takes it over",
			p->vm_name);
		break;
	case CHECK_JOURNAL_LIVE:
		r = add(d, CHECK_JOURNAL, DIAG_FAIL,
			"Stop that run first (`gpurun restore --force` only if you are sure), or "
			"pick another VM name",
			"%s", strna(state->journal_text));
		break;
	case CHECK_JOURNAL_LEFT:
		r = add(d, CHECK_JOURNAL, DIAG_FAIL,
			"`gpurun restore` puts back what that run changed",
			"A previous run of VM '%s' left its journal behind (%zu change%s); run "
			"`gpurun restore %s` first",
			p->vm_name, state->journal_entries, state->journal_entries == 1 ? "" : "s",
			p->vm_name);
		break;
	case CHECK_JOURNAL_BAD:
		r = add(d, CHECK_JOURNAL, DIAG_FAIL,
			"gpurun(8) STATE DIRECTORY says what gpurun trusts; fix or remove it", "%s",
			strna(state->journal_text));
		break;
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < state->n_locks; i++) {
		const struct check_lock *l = &state->locks[i];

		if (!l->held)
			continue;
		r = add(d, CHECK_DEVICE_LOCK, DIAG_FAIL,
			"Stop the other guest (or `gpurun unbind` / `gpurun restore` it) first",
			"%s is in use by gpurun VM %s", l->address, strna(l->holder));
		if (r < 0)
			return r;
	}
	for (char **a = state->vfio_open; a && *a; a++) {
		const struct pci_func *f = host_find_func(h, *a);

		r = add(d, CHECK_DEVICE_IN_USE, DIAG_FAIL, "Stop the guest that uses it first",
			"%s is in use by a guest (its VFIO group %d is open)", *a,
			f ? f->iommu_group : -1);
		if (r < 0)
			return r;
	}
	return 0;
}

void check_state_done(struct check_state *s)
{
	for (size_t i = 0; i < s->n_files; i++) {
		free(s->files[i].path);
		free(s->files[i].data);
	}
	free(s->files);
	for (size_t i = 0; i < s->n_locks; i++) {
		free(s->locks[i].address);
		free(s->locks[i].holder);
	}
	free(s->locks);
	free(s->journal_text);
	strv_free(s->vfio_open);
	free(s->template_name);
	free(s->template_dir);
	free(s->template_xml);
	free(s->qemu_binary);
	*s = (struct check_state){};
}

int checks_output(const struct plan *p, enum emit_kind k, struct diag_list *d)
{
	if (k == backend_output(p->profile))
		return 0; /* checks_plan() did */
	return output_limits(p, k, d);
}
