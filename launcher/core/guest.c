/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest feature table (core/guest.h). The Windows rows are those of
 * xml-templates/windows11.xml. Proxmox columns follow qemu-server (PVE/QemuServer/CPUConfig.pm
 * get_hyperv_enlightenments, Cfg2Cmd/Timer.pm, Machine.pm): ostype win11 already gives
 * hv-relaxed, hv-vapic, hv-spinlocks=0x1fff, hv-vpindex, hv-runtime, hv-synic, hv-stimer,
 * hv-reset, hv-ipi, hv-time, base=localtime, driftfix=slew (tdf with acpi) and hpet=off, and sets
 * kvm-pit.lost_tick_policy=discard; the cpu: line has keys for kvm=off (hidden), hv-vendor-id and
 * +hv-tlbflush (flags); machine: has enable-s3/enable-s4. What has no key goes into args:
 * (a later -global or -machine on the command line overrides qemu-server's). */
#include "core/guest.h"
#include "core/profile.h"
#include "util/macro.h"

#define NONE                                                                                       \
	{                                                                                          \
		GUEST_PVE_NONE, NULL                                                               \
	}
#define HV(flag, elem, attrs)                                                                      \
	{                                                                                          \
		.name = flag, .when = GUEST_WINDOWS_KVM, .qemu_kind = GUEST_QEMU_CPU,              \
		.qemu = flag, .xml = "features/hyperv/" elem, .xml_on = attrs, .pve_linux = NONE,  \
		.pve_windows = NONE                                                                \
	}

const struct guest_feature guest_features[] = {
	/* Hyper-V enlightenments: ostype win11 gives these in Proxmox */
	HV("hv-relaxed", "relaxed", "state=on"),
	HV("hv-vapic", "vapic", "state=on"),
	{ .name = "hv-spinlocks",
	  .when = GUEST_WINDOWS_KVM,
	  .qemu_kind = GUEST_QEMU_CPU,
	  .qemu = "hv-spinlocks=0x1fff",
	  .xml = "features/hyperv/spinlocks",
	  .xml_on = "state=on retries=8191",
	  .pve_linux = NONE,
	  .pve_windows = NONE },
	HV("hv-vpindex", "vpindex", "state=on"),
	HV("hv-runtime", "runtime", "state=on"),
	HV("hv-synic", "synic", "state=on"),
	HV("hv-stimer", "stimer", "state=on"),
	HV("hv-reset", "reset", "state=on"),
	/* qemu-server would set "proxmox" for a GPU passthrough: the same id in every output */
	{ .name = "hv-vendor-id",
	  .when = GUEST_WINDOWS_KVM,
	  .qemu_kind = GUEST_QEMU_CPU,
	  .qemu = "hv-vendor-id=gpurun",
	  .xml = "features/hyperv/vendor_id",
	  .xml_on = "state=on value=gpurun",
	  .pve_linux = NONE,
	  .pve_windows = { GUEST_PVE_CPU, "hv-vendor-id=gpurun" } },
	/* no qm key and no flags= entry: a -global on the CPU type sets the same property */
	{ .name = "hv-frequencies",
	  .when = GUEST_WINDOWS_KVM,
	  .qemu_kind = GUEST_QEMU_CPU,
	  .qemu = "hv-frequencies",
	  .xml = "features/hyperv/frequencies",
	  .xml_on = "state=on",
	  .pve_linux = NONE,
	  .pve_windows = { GUEST_PVE_ARGS, "-global host-x86_64-cpu.hv-frequencies=on" } },
	{ .name = "hv-tlbflush",
	  .when = GUEST_WINDOWS_KVM,
	  .qemu_kind = GUEST_QEMU_CPU,
	  .qemu = "hv-tlbflush",
	  .xml = "features/hyperv/tlbflush",
	  .xml_on = "state=on",
	  .pve_linux = NONE,
	  .pve_windows = { GUEST_PVE_CPU, "flags=+hv-tlbflush" } },
	HV("hv-ipi", "ipi", "state=on"),
	{ .name = "hv-time",
	  .when = GUEST_WINDOWS_KVM,
	  .qemu_kind = GUEST_QEMU_CPU,
	  .qemu = "hv-time",
	  .xml = "clock/timer[name=hypervclock]",
	  .xml_on = "present=yes",
	  .pve_linux = NONE,
	  .pve_windows = NONE },
	/* the KVM signature hidden from the guest (GPU drivers that refuse a VM) */
	{ .name = "kvm-hidden",
	  .when = GUEST_WINDOWS,
	  .qemu_kind = GUEST_QEMU_CPU,
	  .qemu = "kvm=off",
	  .xml = "features/kvm/hidden",
	  .xml_on = "state=on",
	  .pve_linux = NONE,
	  .pve_windows = { GUEST_PVE_CPU, "hidden=1" } },
	{ .name = "vmport-off",
	  .when = GUEST_WINDOWS,
	  .qemu_kind = GUEST_QEMU_MACHINE,
	  .qemu = "vmport=off",
	  .xml = "features/vmport",
	  .xml_on = "state=off",
	  .pve_linux = NONE,
	  .pve_windows = { GUEST_PVE_ARGS, "-machine vmport=off" } },
	/* timers */
	{ .name = "rtc-localtime",
	  .when = GUEST_WINDOWS,
	  .qemu_kind = GUEST_QEMU_RTC,
	  .qemu = "base=localtime",
	  .xml = "clock",
	  .xml_on = "offset=localtime",
	  .xml_off = "offset=utc",
	  .pve_linux = NONE,
	  .pve_windows = NONE },
	/* ostype win11 sets tdf itself (with acpi, the default) */
	{ .name = "rtc-driftfix",
	  .when = GUEST_ALL,
	  .qemu_kind = GUEST_QEMU_RTC,
	  .qemu = "driftfix=slew",
	  .xml = "clock/timer[name=rtc]",
	  .xml_on = "tickpolicy=catchup",
	  .pve_linux = { GUEST_PVE_LINE, "tdf: 1" },
	  .pve_windows = NONE },
	/* delay is QEMU's default for the in-kernel PIT; qemu-server sets discard for Windows */
	{ .name = "pit-delay",
	  .when = GUEST_ALL,
	  .qemu_kind = GUEST_QEMU_GLOBAL,
	  .qemu = "kvm-pit.lost_tick_policy=delay",
	  .xml = "clock/timer[name=pit]",
	  .xml_on = "tickpolicy=delay",
	  .pve_linux = NONE,
	  .pve_windows = { GUEST_PVE_ARGS, "-global kvm-pit.lost_tick_policy=delay" } },
	/* ostype win11 turns HPET off; for l26 qemu-server does from machine version 10.1 on */
	{ .name = "hpet-off",
	  .when = GUEST_ALL,
	  .qemu_kind = GUEST_QEMU_MACHINE,
	  .qemu = "hpet=off",
	  .xml = "clock/timer[name=hpet]",
	  .xml_on = "present=no",
	  .pve_linux = NONE,
	  .pve_windows = NONE },
	/* power states */
	{ .name = "s3-off",
	  .when = GUEST_WINDOWS,
	  .qemu_kind = GUEST_QEMU_GLOBAL,
	  .qemu = "ICH9-LPC.disable_s3=1",
	  .xml = "pm/suspend-to-mem",
	  .xml_on = "enabled=no",
	  .pve_linux = NONE,
	  .pve_windows = { GUEST_PVE_MACHINE, "enable-s3=0" } },
	{ .name = "s4-off",
	  .when = GUEST_WINDOWS,
	  .qemu_kind = GUEST_QEMU_GLOBAL,
	  .qemu = "ICH9-LPC.disable_s4=1",
	  .xml = "pm/suspend-to-disk",
	  .xml_on = "enabled=no",
	  .pve_linux = NONE,
	  .pve_windows = { GUEST_PVE_MACHINE, "enable-s4=0" } },
	/* input: qemu-server's q35 machine brings its own USB controllers (the tablet sits on
	 * its EHCI) */
	{ .name = "usb-xhci",
	  .when = GUEST_ALL,
	  .qemu_kind = GUEST_QEMU_DEVICE,
	  .qemu = "qemu-xhci,id=usb",
	  .xml = "devices/controller[type=usb]",
	  .xml_on = "model=qemu-xhci",
	  .pve_linux = NONE,
	  .pve_windows = NONE },
	{ .name = "usb-tablet",
	  .when = GUEST_WINDOWS,
	  .qemu_kind = GUEST_QEMU_DEVICE,
	  .qemu = "usb-tablet,bus=usb.0",
	  .xml = "devices/input[type=tablet,bus=usb]",
	  .pve_linux = { GUEST_PVE_LINE, "tablet: 0" },
	  .pve_windows = { GUEST_PVE_LINE, "tablet: 1" } },
};
const size_t guest_n_features = ELEMENTSOF(guest_features);

bool guest_feature_on(const struct guest_feature *f, const struct profile *p)
{
	switch (f->when) {
	case GUEST_ALL:
		return true;
	case GUEST_WINDOWS:
		return profile_guest_is_windows(p);
	case GUEST_WINDOWS_KVM:
		return profile_guest_is_windows(p) && !p->accel_tcg;
	}
	return false;
}

const struct guest_pve *guest_feature_pve(const struct guest_feature *f, const struct profile *p)
{
	static const struct guest_pve none = { GUEST_PVE_NONE, NULL };

	if (!profile_guest_is_windows(p))
		return &f->pve_linux;
	/* a Windows row off is a KVM one under TCG: qemu-server adds no enlightenment without
	 * KVM (kvm: 0) */
	return guest_feature_on(f, p) ? &f->pve_windows : &none;
}
