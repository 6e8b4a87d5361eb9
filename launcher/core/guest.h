/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest features: one table of the enlightenments, timers, power states and input devices a
 * guest gets, each row rendered three ways (QEMU argv, libvirt XML, Proxmox VE lines), so the
 * three outputs of one profile describe the same machine. Pure data; gpurun(8) GUEST FEATURES
 * lists the rows.
 *
 * Which rows apply is a function of the guest (profile_guest_is_windows(): the libvirt template's
 * name) and of accel (Hyper-V enlightenments are a KVM interface). A row that does not apply is
 * rendered "off": absent from the QEMU argv, its element removed from (or its off attributes
 * set in) the libvirt template, and in Proxmox whatever makes qemu-server leave it out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct profile;

enum guest_when {
	GUEST_ALL,	   /* every guest */
	GUEST_WINDOWS,	   /* Windows guests */
	GUEST_WINDOWS_KVM, /* Windows guests under KVM (accel = kvm) */
};

enum guest_qemu_kind {
	GUEST_QEMU_CPU,	    /* a -cpu flag: "hv-relaxed", "kvm=off" */
	GUEST_QEMU_MACHINE, /* a -machine property: "hpet=off" */
	GUEST_QEMU_RTC,	    /* an -rtc option: "base=localtime" */
	GUEST_QEMU_GLOBAL,  /* a -global value: "ICH9-LPC.disable_s3=1" */
	GUEST_QEMU_DEVICE,  /* a -device value: "usb-tablet,bus=usb.0" */
};

enum guest_pve_kind {
	GUEST_PVE_NONE,	   /* nothing to write: qemu-server does it for that ostype, or it is
			    * QEMU's default (the table says which) */
	GUEST_PVE_CPU,	   /* an option of the cpu: line: "hidden=1" */
	GUEST_PVE_MACHINE, /* an option of the machine: line: "enable-s3=0" */
	GUEST_PVE_LINE,	   /* a line of its own: "tablet: 1" */
	GUEST_PVE_ARGS,	   /* words of the args: line (qm has no key for it) */
};

struct guest_pve {
	enum guest_pve_kind kind;
	const char *value;
};

struct guest_feature {
	const char *name; /* "hv-relaxed", "rtc-localtime", ... (gpurun(8)) */
	enum guest_when when;
	enum guest_qemu_kind qemu_kind;
	const char *qemu; /* the flag, property, option or device */
	/* libvirt: the element's path under <domain>, "/"-separated; a segment's [k=v,...] both
	 * selects the element and is set when it is created: "clock/timer[name=rtc]" */
	const char *xml;
	const char *xml_on;  /* attributes when the row applies: "state=on retries=8191" */
	const char *xml_off; /* attributes when it does not; NULL: the element is removed */
	/* Proxmox: what the lines say for a Linux (ostype l26) and for a Windows (ostype win11)
	 * guest, whether or not the row applies to it */
	struct guest_pve pve_linux, pve_windows;
};

extern const struct guest_feature guest_features[];
extern const size_t guest_n_features;

/* Whether row @f applies to the guest of profile @p. */
bool guest_feature_on(const struct guest_feature *f, const struct profile *p);
/* What the Proxmox lines say for row @f and profile @p: pve_linux for a Linux guest; for a
 * Windows guest pve_windows, or nothing when the row is off (a KVM row under accel = tcg). */
const struct guest_pve *guest_feature_pve(const struct guest_feature *f, const struct profile *p);
