/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plan: what the VM gets and what the host must do, decided by pure code from a profile and
 * a host snapshot. plan_build() reads no file and writes nothing; problems are diagnostics.
 * Emitters (emit-*.c) turn a plan into text; prepare (vfio.c/journal.c) executes its actions.
 *
 * Field contract (other modules rely on these names): devices[], actions[], diags, profile,
 * vm_name, ovmf_code, ovmf_vars_template, ovmf_vars. More fields may be added. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "inspect.h"
#include "macro.h"

struct profile;

enum plan_role {
	PLAN_ROLE_GPU,	     /* a display function of the GPU's slot */
	PLAN_ROLE_GPU_AUDIO, /* its HD-audio function */
	PLAN_ROLE_GPU_OTHER, /* another function of a discrete card's slot (USB-C, ...) */
	PLAN_ROLE_EXTRA,     /* a [device NAME] section */
	_PLAN_ROLE_MAX,
};

enum plan_rom_source {
	PLAN_ROM_NONE,
	PLAN_ROM_VFCT,	/* extracted from the ACPI VFCT record for this function */
	PLAN_ROM_SYSFS, /* read from the function's sysfs rom attribute */
	PLAN_ROM_FILE,	/* a file named in the profile (vbios = /path, or gop = /path) */
	_PLAN_ROM_SOURCE_MAX,
};

struct plan_device {
	char address[PCI_ADDR_MAX];
	uint16_t vendor, device;
	uint32_t class;
	enum plan_role role;
	char *name;	    /* the [device NAME] name, else NULL */
	char *host_driver;  /* driver bound when planned (what revert restores), or NULL */
	int iommu_group;    /* -1 if none */
	bool multifunction; /* guest side: function 0 of a multi-function slot */
	bool primary_vga;   /* x-vga=on / Proxmox x-vga=1 */
	enum plan_rom_source rom_source;
	char *rom_source_path; /* PLAN_ROM_FILE: the user's file */
	char *romfile;	 /* full path (under ctx roots) QEMU/libvirt read, NULL = no romfile */
	char *rom_name;	 /* basename, as Proxmox's romfile= (relative to /usr/share/kvm) */
	bool rom_is_gop; /* the ROM on this function is the GOP driver ROM */
};

enum plan_action_kind {
	PLAN_ACTION_LOAD_MODULE,    /* target: module name */
	PLAN_ACTION_STAGE_ROM,	    /* target: destination path; source: description or path */
	PLAN_ACTION_UNBIND_CONSOLE, /* target: "vtcon1" / "efi-framebuffer.0" */
	PLAN_ACTION_BIND_VFIO,	    /* target: device address */
	_PLAN_ACTION_KIND_MAX,
};

struct plan_action {
	enum plan_action_kind kind;
	char *target;
	char *source; /* may be NULL */
};

struct plan {
	const struct profile *profile; /* borrowed: must outlive the plan */
	char *vm_name;
	struct plan_device *devices; /* GPU functions first, in address order, then extras */
	size_t n_devices;
	struct plan_action *actions; /* in execution order */
	size_t n_actions;
	struct diag_list diags; /* FAIL entries make `run` refuse (unless overridden) */
	char *ovmf_code;	/* NULL for BIOS */
	char *ovmf_vars_template;
	char *ovmf_vars; /* per-VM copy under the state dir */
};

struct plan *plan_free(struct plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct plan *, plan_free)
