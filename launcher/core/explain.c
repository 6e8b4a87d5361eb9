/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Log signatures: QEMU's and the kernel's messages of a failed passthrough start → cause and fix.
 * The message formats are the ones the named source files print; a pattern matches a part of a
 * line, so that QEMU's "qemu-system-x86_64: -device vfio-pci,...: " prefix, dmesg's timestamps
 * and journalctl's host names in front of a pasted line do not matter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checks.h"
#include "core/explain.h"
#include "core/plan.h"
#include "util/error.h"
#include "util/strutil.h"

#define P(...) ((const char *const[]){ __VA_ARGS__, NULL })

#define RESET_FIX                                                                                  \
	"The GPU did not come back from its reset (on AMD cards: the \"AMD reset bug\"). `gpurun " \
	"check --device BDF` gives this device's reset advice (vendor-reset and reset_method "     \
	"device_specific where it supports the GPU, otherwise shutting the guest down cleanly); "  \
	"until then a host reboot brings the GPU back"

const struct explain_signature explain_table[] = {
	{
	    .id = "kvm-missing",
	    .patterns = P("Could not access KVM kernel module", "failed to initialize [Kk][Vv][Mm]",
			  "kvm: no hardware support"),
	    .meaning = "QEMU could not use KVM: /dev/kvm is missing or not accessible",
	    .fix = "Enable SVM/VT-x in the firmware setup and load kvm_amd or kvm_intel (`gpurun "
		   "check` says which is missing); without KVM only `accel = tcg` in [vm] works, "
		   "and very slowly",
	    .source = "QEMU accel/kvm/kvm-all.c (kvm_init)",
	},
	{
	    .id = "firmware-missing",
	    .patterns =
		/* the firmware's name, not any path that holds ".fd" ("fdisk.fdimg") or a
		 * folder named OVMF: the file name has OVMF/edk2/_CODE/_VARS or ends in .fd */
	    P("Could not open '([^']*/)?[^'/]*(OVMF|ovmf|edk2|AAVMF|_CODE|_VARS)[^'/]*'",
	      "Could not open '[^']*\\.fd'", "could not load PC BIOS",
	      "Unable to find '?efi'? firmware that is compatible"),
	    .meaning = "the UEFI firmware (OVMF) file or its variable store could not be opened",
	    .fix = "Install the UEFI firmware package (Debian/Ubuntu: ovmf; Fedora, Arch: "
		   "edk2-ovmf) or set `firmware = bios` in [vm]; `gpurun plan PROFILE` names the "
		   "firmware files it picked",
	    .source = "QEMU block/file-posix.c (raw_open), hw/i386/x86-common.c "
		      "(x86_bios_rom_init); libvirt src/qemu/qemu_firmware.c",
	},
	{
	    .id = "romfile-missing",
	    .patterns = P("failed to find romfile", "[Ff]ailed to open romfile",
			  "failed to load romfile", "Could not open option rom '"),
	    .meaning = "the ROM file given to a passed-through function (romfile=) does not exist",
	    .fix = "Check `vbios =` and `gop =` in [gpu] (`gpurun plan PROFILE` shows each "
		   "function's romfile) and that the staged copy in /var/lib/gpurun/roms is still "
		   "there when QEMU starts",
	    .source = "QEMU hw/pci/pci.c (pci_add_option_rom), hw/core/loader.c (rom_add_file)",
	},
	{
	    .id = "rom-invalid",
	    .patterns = P("Invalid PCI ROM header signature", "Invalid PCI ROM data signature",
			  "romfile \"[^\"]*\" is empty"),
	    .meaning =
		"the option ROM is not a valid PCI ROM (bad 0xaa55 or PCIR signature, or empty)",
	    .fix = "`gpurun rom info FILE` shows what is wrong with it; extract a good image with "
		   "`gpurun vbios extract` and set `vbios = FILE` in [gpu]",
	    .source = "Linux drivers/pci/rom.c (pci_get_rom_size); QEMU hw/pci/pci.c",
	},
	{
	    .id = "rom-unreadable",
	    .patterns =
		P("Cannot read device rom at", "Device option ROM contents are probably invalid"),
	    .meaning =
		"the GPU's ROM BAR cannot be read (usual for the boot GPU and for iGPUs), so "
		"the guest gets no VBIOS unless it is given a ROM file",
	    .fix =
		"Give the guest a ROM file: `vbios = vfct` (the ACPI VFCT table's image; `gpurun "
		"vbios list` shows it) or `vbios = FILE` in [gpu]",
	    .source = "QEMU hw/vfio/pci.c (vfio_pci_load_rom)",
	},
	{
	    .id = "iommu-off",
	    .patterns = P("no iommu_group found", "no iommu_group for device"),
	    .meaning = "the device has no IOMMU group: the IOMMU is off (firmware setting or "
		       "kernel command line), so nothing can be passed through",
	    .fix = "Turn the IOMMU on: VT-d / AMD-Vi (IOMMU) in the firmware setup and "
		   "intel_iommu=on on Intel hosts (`gpurun host-config` writes the kernel "
		   "parameters, `gpurun check` shows what is missing), then reboot",
	    .source = "QEMU hw/vfio/container.c (vfio_device_get_name, vfio_device_groupid); "
		      "older hw/vfio/pci.c (vfio_initfn)",
	},
	{
	    .id = "group-not-viable",
	    .patterns =
		P("group [0-9]+ is not viable",
		  "Please ensure all devices within the iommu_group are bound to their vfio "
		  "bus driver"),
	    .meaning = "another device of the GPU's IOMMU group is still on a host driver, so the "
		       "kernel refuses to give the group to the guest",
	    .fix = "Pass the whole IOMMU group: list its other functions in the profile ([device "
		   "NAME] sections; `gpurun ls` shows the group), or move the card to another slot",
	    .source = "QEMU hw/vfio/container.c (vfio_get_group); Linux drivers/vfio/group.c",
	},
	{
	    .id = "intremap-missing",
	    .patterns = P("[Ff]ailed to set iommu for container: Operation not permitted",
			  "No interrupt remapping support"),
	    .meaning = "the kernel refuses to assign devices without interrupt remapping",
	    .fix =
		"Turn interrupt remapping on: x2APIC / interrupt remapping in the firmware setup, "
		"no intremap=off or nointremap on the kernel command line (`gpurun check` shows "
		"the evidence); only as a last resort: options vfio_iommu_type1 "
		"allow_unsafe_interrupts=1",
	    .source = "QEMU hw/vfio/container.c (vfio_set_iommu); Linux "
		      "drivers/vfio/vfio_iommu_type1.c (vfio_iommu_type1_attach_group)",
	},
	{
	    .id = "device-busy",
	    .patterns = P("failed to open /dev/vfio/[0-9]+: Device or resource busy",
			  "error getting device from group [0-9]+: Device or resource busy",
			  "[Uu]nbind[^:]*:.*Device or resource busy"),
	    .meaning = "another process holds the device or its VFIO group",
	    .fix = "Find who holds it (`fuser -v /dev/vfio/*`, `gpurun ls`): stop the other guest "
		   "(`gpurun restore VM` after a killed gpurun) or the host program using the GPU "
		   "(display server, compute jobs, nvidia-persistenced)",
	    .source = "QEMU hw/vfio/container.c (vfio_get_group, vfio_get_device); Linux "
		      "drivers/vfio/group.c",
	},
	{
	    .id = "vfio-not-bound",
	    .patterns = P("failed to open /dev/vfio/[0-9]+: No such file or directory"),
	    .meaning = "the device's VFIO group node does not exist: the device is not bound to "
		       "vfio-pci (or vfio-pci is not loaded)",
	    .fix = "Bind the device before QEMU starts: `gpurun run` does it; for QEMU or "
		   "libvirt started by hand `gpurun bind PROFILE` first (libvirt: or managed='yes' "
		   "hostdevs); `gpurun ls` shows each function's driver",
	    .source = "QEMU hw/vfio/container.c (vfio_get_group); Linux drivers/vfio/group.c",
	},
	{
	    .id = "vfio-permission",
	    .patterns = P("failed to open /dev/vfio/([0-9]+|vfio): Permission denied"),
	    .meaning = "QEMU's user may not open the VFIO group node (/dev/vfio/N is root's)",
	    .fix = "Start QEMU as root (`gpurun run` does) or give its user the group node and "
		   "enough locked memory; with libvirt use qemu:///system, whose managed hostdevs "
		   "get the node's ownership right, not qemu:///session",
	    .source = "QEMU hw/vfio/container.c (vfio_get_group, vfio_connect_container)",
	},
	{
	    .id = "bar-reserved",
	    .patterns = P("BAR [0-9]+: can't reserve", "BAR [0-9]+ \\[[^]]*\\]: can't reserve"),
	    .meaning =
		"a firmware framebuffer (efifb, simplefb, vesafb) still holds the GPU's memory, "
		"so vfio-pci cannot reserve the BAR",
	    .fix = "Release the firmware framebuffer: gpurun unbinds efi-framebuffer/simple-"
		   "framebuffer itself when the profile passes the boot GPU (`allow-boot-vga = "
		   "yes`); otherwise boot with initcall_blacklist=sysfb_init (video=efifb:off on "
		   "kernels before 5.15)",
	    .source = "Linux drivers/pci/pci.c (__pci_request_region)",
	},
	{
	    .id = "device-dead",
	    .patterns = P("[Uu]nknown header type 7f", "\\[ffff:ffff\\] type 7f",
			  "failed to read device config space"),
	    .meaning = "the device does not answer: its config space reads all 0xff",
	    .fix = "The device is hung, powered off or gone from the bus: reboot the host (a cold "
		   "boot when a warm one does not bring it back); when it happens after a guest "
		   "stopped, the device's reset advice applies (`gpurun check --device BDF`)",
	    .source = "pciutils lspci.c (Unknown header type); Linux drivers/pci/probe.c "
		      "(pci_setup_device); QEMU hw/vfio/pci.c (vfio_pci_realize)",
	},
	{
	    .id = "d3-stuck",
	    .patterns =
		P("Unable to change power state from D3(cold|hot) to D0, device inaccessible",
		  "Refused to change power state (from D3|, currently in D3)",
		  "[Uu]nable to power on device, stuck in D3"),
	    .meaning = "the device stays in the D3 power state and does not wake up",
	    .fix = "Keep vfio-pci from putting the idle device into D3: options vfio-pci "
		   "disable_idle_d3=1 in /etc/modprobe.d (or vfio-pci.disable_idle_d3=1 on the "
		   "kernel command line), then reboot",
	    .source = "QEMU hw/vfio/pci.c (vfio_pci_pre_reset); Linux drivers/pci/pci.c "
		      "(pci_power_up)",
	},
	{
	    .id = "reset-failed",
	    .patterns = P("not ready [0-9]+ms after [A-Za-z0-9 >-]+; giving up",
			  "timed out waiting for pending transaction; performing function level "
			  "reset anyway",
			  "Cannot reset device [^,]*, no available reset mechanism",
			  "Cannot reset device [^,]*, depends on group [0-9]+ which is not owned"),
	    .meaning =
		"the device's reset (FLR or bus reset) failed or it did not come back from it",
	    .fix = RESET_FIX,
	    .source = "Linux drivers/pci/pci.c (pci_dev_wait, pcie_flr); QEMU hw/vfio/pci.c "
		      "(vfio_pci_reset, vfio_pci_hot_reset)",
	},
	{
	    .id = "memlock-limit",
	    .patterns = P("dma_map\\(.*\\) = -12 \\(Cannot allocate memory\\)",
			  "VFIO_MAP_DMA failed: Cannot allocate memory",
			  "RLIMIT_MEMLOCK \\([0-9]+\\) exceeded"),
	    .meaning = "VFIO could not pin the guest's memory for DMA (ENOMEM)",
	    .fix = "VFIO pins all guest memory: raise the locked-memory limit of whatever starts "
		   "QEMU (LimitMEMLOCK=infinity in its systemd unit, memlock in "
		   "/etc/security/limits.d, `ulimit -l unlimited` before gpurun), or use "
		   "`hugepages = yes` in [vm]; check that `memory =` fits the host",
	    .source = "QEMU hw/vfio/container.c (vfio_legacy_dma_map); Linux "
		      "drivers/vfio/vfio_iommu_type1.c (vfio_pin_pages_remote)",
	},
	{
	    .id = "memory-short",
	    .patterns = P("unable to map backing store for guest RAM: Cannot allocate memory",
			  "Insufficient free host memory pages available to allocate guest RAM",
			  "cannot set up guest memory '[^']*': Cannot allocate memory",
			  "Unable to find any usable hugetlbfs mount"),
	    .meaning = "the host could not give the guest its RAM: not enough free memory, or "
		       "(with hugepages) not enough free hugepages or no hugetlbfs mount",
	    .fix = "Make `memory =` in [vm] fit what the host has free; with `hugepages = yes` "
		   "reserve enough pages first (vm.nr_hugepages, or hugepages= on the kernel "
		   "command line; `gpurun plan PROFILE` checks the reservation) and mount "
		   "hugetlbfs (/dev/hugepages)",
	    .source = "QEMU system/physmem.c (qemu_ram_alloc_from_fd, ram_block_add), "
		      "util/oslib-posix.c (qemu_prealloc_mem); libvirt src/qemu/qemu_command.c",
	},
	{
	    .id = "dma-fault",
	    .patterns = P("IO_PAGE_FAULT", "DMAR: \\[DMA (Read|Write)", "DMAR:.*fault addr",
			  "DMAR: DRHD: handling fault status"),
	    .meaning = "the device accessed memory the IOMMU did not map for it (IOMMU page fault)",
	    .fix = "Usually the GPU runs in a bad state or without its VBIOS: give it its ROM "
		   "(`vbios =` in [gpu]), reset it cleanly (a host reboot after a crashed guest), "
		   "and update the host firmware; faults of another device of the same group mean "
		   "that device must be passed too",
	    .source = "Linux drivers/iommu/amd/iommu.c (amd_iommu_report_page_fault), "
		      "drivers/iommu/intel/dmar.c (dmar_fault_do_one)",
	},
	{
	    .id = "code43-hint",
	    .patterns = P("[Cc]ode 43"),
	    .meaning = "the guest's Windows driver stopped the GPU (Device Manager: Code 43)",
	    .fix = "Give the GPU its ROMs: `vbios = vfct` or `vbios = FILE` and, for UEFI guests, "
		   "`gop = FILE` in [gpu] (README: \"One ROM or two\"); for NVIDIA drivers before "
		   "465 also hide the hypervisor ([qemu] args = -cpu host,kvm=off,hv_vendor_id="
		   "0123456789ab)",
	    .source =
		"Microsoft Learn: Device Manager error messages (Code 43); README \"One ROM or "
		"two\"",
	},
	/* benign: shown as harmless, never a cause */
	{
	    .id = "ecap-hidden",
	    .benign = true,
	    .patterns = P("vfio_ecap_init: hiding ecap"),
	    .meaning = "vfio-pci hides a PCIe extended capability it does not virtualize; normal",
	    .fix = "Nothing to do",
	    .source = "Linux drivers/vfio/pci/vfio_pci_config.c (vfio_ecap_init)",
	},
	{
	    .id = "vga-decodes",
	    .benign = true,
	    .patterns = P("vgaarb: (device )?changed (VGA )?decodes", "vgaarb: .*decodes="),
	    .meaning = "the VGA arbiter notes that a device changed the legacy VGA ranges it "
		       "decodes, as it does when a GPU moves to vfio-pci; normal",
	    .fix = "Nothing to do",
	    .source = "Linux drivers/pci/vgaarb.c (vga_arbiter_notify_clients)",
	},
	{
	    .id = "bar-restore",
	    .benign = true,
	    .patterns = P("vfio_bar_restore: reset recovery - restoring BARs",
			  "vfio_bar_restore: reset recovery"),
	    .meaning = "vfio-pci restored the BARs after a reset; normal after a clean stop",
	    .fix = "Nothing to do",
	    .source = "Linux drivers/vfio/pci/vfio_pci_config.c (vfio_bar_restore)",
	},
	{
	    .id = "device-enabled",
	    .benign = true,
	    .patterns = P("enabling device \\([0-9a-f]{4} -> [0-9a-f]{4}\\)"),
	    .meaning = "the kernel enabled the device's memory/IO decoding for vfio-pci; normal",
	    .fix = "Nothing to do",
	    .source = "Linux drivers/pci/pci.c (pci_enable_resources)",
	},
};
const size_t explain_table_size = ELEMENTSOF(explain_table);

const char *const explain_collect[] = {
	"QEMU's whole log: STATE-DIR/VM/qemu.log (`gpurun run` keeps it), or "
	"/var/log/libvirt/qemu/VM.log for the libvirt backend",
	"the kernel's messages of the run, as root: `journalctl -k -b` or `dmesg`",
	"`gpurun check PROFILE --json` and `gpurun plan PROFILE`",
	"`gpurun ls` (IOMMU groups, drivers, reset methods)",
	"`qemu-system-x86_64 --version` and `uname -r`",
	NULL,
};

const struct explain_signature *explain_signature_by_id(const char *id)
{
	for (size_t i = 0; i < explain_table_size; i++)
		if (streq(explain_table[i].id, id))
			return &explain_table[i];
	return NULL;
}

static size_t n_patterns(const struct explain_signature *s)
{
	size_t n = 0;

	while (s->patterns[n])
		n++;
	return n;
}

int explain_new(struct explain **ret, struct error *err)
{
	_cleanup_(explain_freep) struct explain *e = NULL;
	size_t total = 0;

	e = calloc(1, sizeof(*e));
	if (!e)
		return error_set(err, ENOMEM, "Out of memory");
	for (size_t i = 0; i < explain_table_size; i++)
		total += n_patterns(&explain_table[i]);
	e->compiled = calloc(total, sizeof(*e->compiled));
	if (!e->compiled)
		return error_set(err, ENOMEM, "Out of memory");
	for (size_t i = 0; i < explain_table_size; i++)
		for (const char *const *p = explain_table[i].patterns; *p; p++) {
			int k =
			    regcomp(&e->compiled[e->n_compiled], *p, REG_EXTENDED | REG_NEWLINE);

			if (k != 0)
				return error_set(err, k == REG_ESPACE ? ENOMEM : EINVAL,
						 "Signature '%s': pattern '%s' does not compile",
						 explain_table[i].id, *p);
			e->n_compiled++;
		}
	if (regcomp(&e->addr[0], "[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]",
		    REG_EXTENDED) != 0)
		return error_set(err, ENOMEM, "Out of memory");
	if (regcomp(&e->addr[1], "(device=|host=|\\[)([0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7])",
		    REG_EXTENDED) != 0) {
		regfree(&e->addr[0]);
		return error_set(err, ENOMEM, "Out of memory");
	}
	e->addr_ok = true;
	*ret = TAKE_PTR(e);
	return 0;
}

static void finding_clear(struct explain_finding *f)
{
	for (size_t i = 0; i < f->n_evidence; i++) {
		free(f->evidence[i].where);
		free(f->evidence[i].text);
	}
	free(f->fix);
}

struct explain *explain_free(struct explain *e)
{
	if (!e)
		return NULL;
	for (size_t i = 0; i < e->n_compiled; i++)
		regfree(&e->compiled[i]);
	free(e->compiled);
	if (e->addr_ok) {
		regfree(&e->addr[0]);
		regfree(&e->addr[1]);
	}
	for (size_t i = 0; i < e->n_findings; i++)
		finding_clear(&e->findings[i]);
	free(e->findings);
	return mfree(e);
}

/* @line cut to EXPLAIN_EVIDENCE_MAX bytes around the match at @so..@eo, with "..." where text
 * was left out; control characters become spaces. */
static char *shorten(const char *line, size_t len, size_t so, size_t eo)
{
	const size_t keep = EXPLAIN_EVIDENCE_MAX - 7;
	size_t lead = 0, tail = len, start, end;
	char *s, *o;

	while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
		lead++;
	while (tail > lead &&
	       (line[tail - 1] == ' ' || line[tail - 1] == '\t' || line[tail - 1] == '\r'))
		tail--;
	start = lead;
	end = tail;
	if (end - start > keep) {
		/* the match stays visible: some context before it, the rest after */
		start = so > lead + 40 ? so - 40 : lead;
		if (eo > start + keep)
			start = so;
		if (start + keep < tail)
			end = start + keep;
		else
			start = tail - keep;
		/* never cut a UTF-8 character in two */
		while (start < end && ((unsigned char)line[start] & 0xc0) == 0x80)
			start++;
		while (end < tail && end > start && ((unsigned char)line[end] & 0xc0) == 0x80)
			end--;
	}
	s = malloc(end - start + 7);
	if (!s)
		return NULL;
	o = s;
	if (start > lead)
		o = stpcpy(o, "...");
	for (size_t i = start; i < end; i++)
		*o++ = (unsigned char)line[i] < 0x20 || line[i] == 0x7f ? ' ' : line[i];
	if (end < tail)
		o = stpcpy(o, "...");
	*o = '\0';
	return s;
}

static struct explain_finding *finding_for(struct explain *e, const struct explain_signature *sig)
{
	struct explain_finding *n;

	for (size_t i = 0; i < e->n_findings; i++)
		if (e->findings[i].sig == sig)
			return &e->findings[i];
	n = realloc(e->findings, (e->n_findings + 1) * sizeof(*n));
	if (!n)
		return NULL;
	e->findings = n;
	n = &e->findings[e->n_findings++];
	*n = (struct explain_finding){ .sig = sig };
	return n;
}

static void find_device(const struct explain *e, const char *text, char ret[PCI_ADDR_MAX])
{
	regmatch_t m[3];
	char buf[PCI_ADDR_MAX + 8];

	if (regexec(&e->addr[0], text, 1, m, 0) == 0) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(m[0].rm_eo - m[0].rm_so),
			 text + m[0].rm_so);
		if (pci_addr_parse(buf, ret) == 0)
			return;
	}
	if (regexec(&e->addr[1], text, 3, m, 0) == 0) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(m[2].rm_eo - m[2].rm_so),
			 text + m[2].rm_so);
		if (pci_addr_parse(buf, ret) == 0)
			return;
	}
	ret[0] = '\0';
}

/* Whether an evidence line of @f already holds the message that starts at @tail (its first 60
 * bytes: enough to tell messages apart, short enough to survive shortening). */
static bool is_repeat(const struct explain_finding *f, const char *tail)
{
	char key[61];

	snprintf(key, sizeof(key), "%s", tail);
	for (size_t i = 0; i < f->n_evidence; i++)
		if (strstr(f->evidence[i].text, key))
			return true;
	return false;
}

static int match_line(struct explain *e, const char *name, bool numbered, unsigned lineno,
		      const char *line, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < explain_table_size; i++) {
		const struct explain_signature *sig = &explain_table[i];
		size_t n = n_patterns(sig);
		bool matched = false;
		regmatch_t m;

		for (size_t j = 0; j < n && !matched; j++)
			if (regexec(&e->compiled[k + j], line, 1, &m, 0) == 0)
				matched = true;
		k += n;
		if (!matched)
			continue;

		struct explain_finding *f = finding_for(e, sig);
		struct explain_evidence *ev;

		if (!f)
			return -ENOMEM;
		f->n_matches++;
		if (!f->device[0])
			find_device(e, line, f->device);
		if (f->n_evidence >= EXPLAIN_EVIDENCE_LINES)
			continue;
		ev = &f->evidence[f->n_evidence];
		ev->text = shorten(line, len, (size_t)m.rm_so, (size_t)m.rm_eo);
		if (!ev->text)
			return -ENOMEM;
		/* the same message again (a retry loop, a later timestamp) is counted, not shown */
		if (is_repeat(f, line + m.rm_so)) {
			ev->text = mfree(ev->text);
			continue;
		}
		ev->where = numbered ? strdup_printf("%s:%u", name, lineno) : strdup(name);
		if (!ev->text || !ev->where) {
			free(ev->text);
			free(ev->where);
			*ev = (struct explain_evidence){};
			return -ENOMEM;
		}
		f->n_evidence++;
	}
	return 0;
}

int explain_feed(struct explain *e, const char *name, bool numbered, const char *buf, size_t len)
{
	unsigned lineno = 0;
	size_t at = 0;

	if (e->finished)
		return -EINVAL;
	while (at < len) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t l = nl ? (size_t)(nl - (buf + at)) : len - at;
		_cleanup_free_ char *line = malloc(l + 1);
		int r;

		if (!line)
			return -ENOMEM;
		for (size_t i = 0; i < l; i++)
			line[i] = buf[at + i] ? buf[at + i] : ' ';
		line[l] = '\0';
		lineno++;
		e->n_lines++;
		r = match_line(e, name, numbered, lineno, line, l);
		if (r < 0)
			return r;
		at += l + 1;
	}
	return 0;
}

static int cmp_finding(const void *a, const void *b)
{
	const struct explain_finding *x = a, *y = b;

	return (x->sig > y->sig) - (x->sig < y->sig);
}

/* The checks engine's reset advice for @addr (core/checks.c's table), as a fix; NULL when
 * there is none to give. */
static char *reset_advice(const struct host *h, const char *addr)
{
	_cleanup_(diag_list_clear) struct diag_list d = {};
	const struct pci_func *f = h && addr[0] ? host_find_func(h, addr) : NULL;

	if (!f || checks_gpu(h, f, NULL, true, &d) < 0)
		return NULL;
	for (size_t i = 0; i < d.n; i++)
		if (streq(d.items[i].id, checks_table[CHECK_GPU_RESET].id) && d.items[i].fix)
			return strdup_printf("%s: %s (gpurun check: %s)", addr, d.items[i].fix,
					     d.items[i].message);
	return NULL;
}

static uint16_t gpu_vendor(const struct host *h, const struct plan *p)
{
	if (p)
		for (size_t i = 0; i < p->n_devices; i++)
			if (p->devices[i].role == PLAN_ROLE_GPU)
				return p->devices[i].vendor;
	if (h)
		for (size_t i = 0; i < h->n_funcs; i++)
			if (pci_func_is_display(&h->funcs[i]) && h->funcs[i].boot_vga != 1)
				return h->funcs[i].vendor;
	return 0;
}

static char *refine_fix(const struct explain_finding *f, const struct host *h, const struct plan *p)
{
	const char *id = f->sig->id;

	if (streq(id, "reset-failed") || streq(id, "d3-stuck") || streq(id, "device-dead")) {
		char *advice = reset_advice(h, f->device);

		if (advice) {
			char *s =
			    streq(id, "reset-failed")
				? advice
				: strdup_printf("%s. Reset advice for %s", f->sig->fix, advice);

			if (s != advice)
				free(advice);
			return s;
		}
	}
	if (streq(id, "code43-hint")) {
		uint16_t v = gpu_vendor(h, p);

		if (v == 0x10de)
			return strdup(
			    "NVIDIA drivers before 465 refuse to run in a VM: hide the "
			    "hypervisor ([qemu] args = -cpu host,kvm=off,hv_vendor_id="
			    "0123456789ab), and give the card a clean VBIOS (`vbios = FILE` "
			    "in [gpu])");
		if (v == 0x1002)
			return strdup(
			    "The AMD driver needs the GPU's VBIOS, and a UEFI guest its GOP "
			    "driver: `vbios = vfct` or `vbios = FILE`, and `gop = FILE` in "
			    "[gpu] (README: \"One ROM or two\"); after a crashed guest reboot "
			    "the host (reset)");
	}
	if (streq(id, "bar-reserved") && h && f->device[0]) {
		const struct pci_func *fn = host_find_func(h, f->device);

		if (fn && fn->fb_platform)
			return strdup_printf("The firmware framebuffer %s scans out of %s. %s",
					     fn->fb_platform, f->device, f->sig->fix);
	}
	return strdup(f->sig->fix);
}

int explain_finish(struct explain *e, const struct host *h, const struct plan *p)
{
	if (e->n_findings > 1)
		qsort(e->findings, e->n_findings, sizeof(*e->findings), cmp_finding);
	for (size_t i = 0; i < e->n_findings; i++) {
		struct explain_finding *f = &e->findings[i];

		free(f->fix);
		f->fix = refine_fix(f, h, p);
		if (!f->fix)
			return -ENOMEM;
	}
	e->finished = true;
	return 0;
}

size_t explain_n_causes(const struct explain *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_findings; i++)
		if (!e->findings[i].sig->benign)
			n++;
	return n;
}

/* One decimal number of a kmsg prefix (before @end), followed by @stop or @stop2; -1 if not. */
static int kmsg_number(const char **s, const char *end, char stop, char stop2,
		       unsigned long long *ret)
{
	unsigned long long v = 0;
	const char *p = *s;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (p > end || (*p != stop && *p != stop2))
		return -1;
	*s = p + 1;
	*ret = v;
	return 0;
}

int explain_kmsg_parse(const char *buf, size_t len, unsigned long long min_seq,
		       unsigned long long min_usec, char **ret, size_t *ret_len,
		       unsigned long long *ret_first_seq)
{
	_cleanup_free_ char *out = NULL;
	size_t n = 0, cap = 0, at = 0;
	unsigned long long first = UINT64_MAX;

	out = malloc(1);
	if (!out)
		return -ENOMEM;
	while (at < len) {
		const char *line = buf + at, *nl = memchr(line, '\n', len - at);
		const char *end = nl ? nl : buf + len, *p = line, *semi;
		unsigned long long prio, seq, usec;
		size_t need;

		at = (size_t)(end - buf) + 1;
		if (*line == ' ')
			continue; /* a continuation line: KEY=value */
		semi = memchr(line, ';', (size_t)(end - line));
		/* USEC ends at ',' (FLAGS follow) or, without FLAGS, at the ';' */
		if (!semi || kmsg_number(&p, semi, ',', ',', &prio) < 0 ||
		    kmsg_number(&p, semi, ',', ',', &seq) < 0 ||
		    kmsg_number(&p, semi, ',', ';', &usec) < 0)
			continue;
		if (seq < min_seq || usec < min_usec)
			continue;
		if (first == UINT64_MAX)
			first = seq;
		need = n + (size_t)(end - semi) + 32;
		if (need > cap) {
			char *o;

			cap = need * 2;
			o = realloc(out, cap);
			if (!o)
				return -ENOMEM;
			out = o;
		}
		n += (size_t)sprintf(out + n, "[%5llu.%06llu] ", usec / 1000000, usec % 1000000);
		memcpy(out + n, semi + 1, (size_t)(end - semi - 1));
		n += (size_t)(end - semi - 1);
		out[n++] = '\n';
	}
	out[n] = '\0';
	*ret = TAKE_PTR(out);
	*ret_len = n;
	if (ret_first_seq)
		*ret_first_seq = first;
	return 0;
}
