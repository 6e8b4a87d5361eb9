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
#include <stdio.h>

#include "core/diag.h"
#include "core/firmware.h"
#include "core/hostinfo.h"
#include "util/macro.h"

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
	char *romfile;	     /* full path (under ctx roots) QEMU/libvirt read, NULL = no romfile */
	char *rom_name;	     /* basename, as Proxmox's romfile= (relative to /usr/share/kvm) */
	bool rom_is_gop;     /* the ROM on this function is the GOP driver ROM */
	unsigned guest_port; /* guest placement: one pcie-root-port per host slot, 0.. */
	unsigned guest_function; /* function on that port's slot: 0.. in address order */
};

enum plan_action_kind {
	PLAN_ACTION_LOAD_MODULE,	/* target: module name */
	PLAN_ACTION_STAGE_ROM,		/* target: destination path (under rom_dir); source:
				     * "vfct:ADDR" (the VFCT image for function ADDR),
				     * "sysfs:ADDR" (that function's sysfs rom attribute), or the
				     * absolute path of the user's file */
	PLAN_ACTION_UNBIND_CONSOLE,	/* target: "vtcon1" */
	PLAN_ACTION_UNBIND_FRAMEBUFFER, /* target: the platform device of a firmware framebuffer
					 * the GPU scans out ("efi-framebuffer.0") */
	PLAN_ACTION_BIND_VFIO,		/* target: device address */
	/* a remote node (plan->remote_uri): nothing of this machine is changed */
	PLAN_ACTION_UPLOAD_ROM,	    /* target: the volume name in the node's ROM pool
				      * (plan->remote_rom_pool); source: the local file */
	PLAN_ACTION_NODEDEV_DETACH, /* target: device address (on the node); source: its driver
				      * (NULL none) */
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
	char *ovmf_vars; /* per-VM copy (profile nvram, else <vars_dir>/<vm>_VARS.fd, or
			  * _VARS.qcow2 for a qcow2 template); the runner copies
			  * ovmf_vars_template there when it does not exist yet */
	enum firmware_format ovmf_code_format; /* of ovmf_code, from its descriptor */
	enum firmware_format ovmf_vars_format; /* of the template, and so of the copy */
	bool requires_smm;	   /* the firmware needs SMM: -machine smm=on + secure pflash */
	char *firmware_descriptor; /* file name of the chosen descriptor; NULL: gpurun's table */

	bool resolved; /* the GPU was found (exactly one match); false: FAIL diag "gpu-device"
			* says why, devices[] is empty and emitters refuse the plan */
	bool secure_boot;
	bool gpu_whole_slot; /* functions = all on a discrete card: every function of the slot */
	/* tpm = yes: the runner starts `swtpm socket --tpm2 --tpmstate dir=TPM_DIR
	 * --ctrl type=unixio,path=TPM_SOCKET` before QEMU (the argv connects to the socket) */
	char *tpm_dir;	  /* persistent swtpm state: <vars_dir>/<vm>_tpm */
	char *tpm_socket; /* <state_dir>/<vm>.swtpm.sock */

	/* The host is a remote libvirt node (host->remote_uri): its actions are upload-rom and
	 * nodedev-detach only (libvirt loads vfio there; consoles, local ROM staging and modules
	 * are this machine's business, never touched), the ROMs' romfile is a path on the node,
	 * and libvirt there picks the UEFI build (ovmf_* NULL). NULL for this machine. */
	char *remote_uri;
	char *remote_rom_pool; /* the node's ROM pool */
	/* the vCPU topology every output renders (QEMU -smp, libvirt <topology>, Proxmox
	 * sockets:/cores:): sockets * cores * threads = the profile's cpus */
	unsigned sockets, cores, threads;
	/* cpu-pinning: the host's online CPUs no vCPU is pinned to ("0-1,8-15"), where QEMU's
	 * other threads go (libvirt <emulatorpin>; gpurun run does the same); NULL without
	 * pinning, when the online CPUs are unknown, or when the vCPUs take them all */
	char *emulator_cpus;
};

/* The directories and firmware files the pure planner needs, as plain strings (full paths,
 * already under the ctx roots). */
/* OVMF code/vars pairs by distribution, relative to usr_share; the first complete pair wins.
 * Only used on a host without QEMU firmware descriptors (core/firmware.h). */
struct plan_ovmf_pair {
	const char *code, *vars;
	bool secboot;
};
extern const struct plan_ovmf_pair plan_ovmf_pairs[];
extern const size_t plan_n_ovmf_pairs;

struct plan_paths {
	char *rom_dir;	   /* staged ROMs: ROOT/var/lib/gpurun/roms */
	char *pve_rom_dir; /* Proxmox romfile directory: ROOT/usr/share/kvm */
	char *state_dir;   /* ROOT/run/gpurun (or --state-dir) */
	char *vars_dir;	   /* per-VM UEFI variable files: ROOT/var/lib/gpurun/vars */
	char *usr_share;   /* ROOT/usr/share */
	char **ovmf_files; /* strv: OVMF files that exist, relative to usr_share
			    * ("OVMF/OVMF_CODE_4M.fd", "edk2/x64/OVMF_CODE.4m.fd", ...) */
	/* QEMU firmware descriptors of ROOT/etc/qemu/firmware over ROOT/usr/share/qemu/firmware,
	 * in priority order, their executable/nvram_template already prefixed with the root.
	 * Empty (n_descs 0): the table above decides, with an INFO diagnostic saying so. */
	struct firmware_set firmware;
	char **firmware_files; /* strv: the files those descriptors name that exist (full paths) */
	char *firmware_dirs; /* "ROOT/etc/qemu/firmware, ROOT/usr/share/qemu/firmware" (messages) */
};

void plan_paths_done(struct plan_paths *p);

/* Build the plan. Pure. Returns 0 (problems, including an unresolvable GPU, are diagnostics in
 * (*ret)->diags; see `resolved`) or -ENOMEM. @p must outlive the plan. */
int plan_build(const struct profile *p, const struct host *h, const struct plan_paths *paths,
	       struct plan **ret);
/* Canonical, stable text form (golden tests, `gpurun plan`). Returns 0 or -EIO. */
int plan_dump(const struct plan *p, FILE *f);

/* "gpu", "gpu-audio", "gpu-other", "extra"; "none", "vfct", "sysfs", "file" (also the prefix
 * of a stage-rom action's source, "vfct:ADDR"); "load-module", "stage-rom", "unbind-console",
 * "unbind-framebuffer", "bind-vfio", "upload-rom", "nodedev-detach". */
DECLARE_STRING_TABLE_LOOKUP(plan_role, enum plan_role);
DECLARE_STRING_TABLE_LOOKUP(plan_rom_source, enum plan_rom_source);
DECLARE_STRING_TABLE_LOOKUP(plan_action_kind, enum plan_action_kind);

struct plan *plan_free(struct plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct plan *, plan_free)
