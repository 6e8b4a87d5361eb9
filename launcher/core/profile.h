/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VM profiles: one INI-style file per VM (gpurun.profile(5)).
 *
 *     [vm]      name memory cpus cpu-pinning hugepages firmware tpm disk* cdrom* network
 *               nvram accel backend libvirt-uri template
 *     [gpu]     device functions vbios gop allow-boot-vga x-vga
 *     [qemu]    args*                                         (* = repeatable)
 *     [device NAME]  address
 *
 * `#` starts a comment at the start of a line or after whitespace; a value may be quoted with
 * "..." (\" and \\ escapes) or '...' (literal). `[qemu] args` values are split into words like
 * a shell does (quotes group, no expansion). Control characters are refused everywhere. Paths
 * (disk, cdrom, nvram, gop, vbios) must be absolute. Every error names the file and the line
 * (error_format(): "FILE:LINE: message"; line 0, "FILE: message", for whole-file problems such
 * as a missing required key). Reading a profile file is profile_load() (host/profile-load.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"

struct error;

enum profile_firmware {
	PROFILE_FIRMWARE_UEFI,
	PROFILE_FIRMWARE_UEFI_SECBOOT,
	PROFILE_FIRMWARE_BIOS,
	_PROFILE_FIRMWARE_MAX,
};

enum profile_backend {
	PROFILE_BACKEND_QEMU,
	PROFILE_BACKEND_LIBVIRT,
	_PROFILE_BACKEND_MAX,
};

enum profile_vbios {
	PROFILE_VBIOS_NONE,  /* no romfile: the guest reads the device's own ROM BAR */
	PROFILE_VBIOS_VFCT,  /* from the ACPI VFCT table (iGPUs) */
	PROFILE_VBIOS_SYSFS, /* from the function's sysfs rom attribute */
	PROFILE_VBIOS_FILE,  /* vbios_path */
	_PROFILE_VBIOS_MAX,
};

/* cdroms are if=ide drives on q35's built-in AHCI controller: six ports */
#define PROFILE_MAX_CDROMS 6

enum profile_network {
	PROFILE_NETWORK_NONE,
	PROFILE_NETWORK_USER,	/* QEMU user-mode networking (libvirt type='user') */
	PROFILE_NETWORK_BRIDGE, /* network_bridge */
	_PROFILE_NETWORK_MAX,
};

struct profile_device {
	char *name;    /* from [device NAME] */
	char *address; /* canonical "dddd:bb:dd.f" */
	unsigned line; /* line of the section header, for messages */
};

struct profile {
	char *filename; /* as given to profile_parse() */

	/* [vm] */
	char *name;	     /* required; [A-Za-z0-9_.-], first char alphanumeric, <= 64 chars */
	uint64_t memory_mib; /* default 4096 */
	unsigned cpus;	     /* default 4 */
	char *cpu_pinning;   /* host CPU list "0-7,16-23" for vCPU i -> i-th listed CPU, or NULL */
	unsigned *pin_cpus;  /* cpu_pinning expanded; n_pin_cpus entries */
	size_t n_pin_cpus;
	bool hugepages;
	enum profile_firmware firmware; /* default uefi */
	bool tpm;
	char **disks;  /* strv, absolute paths; format from the name: *.qcow2 qcow2, else raw */
	char **cdroms; /* strv, absolute paths */
	enum profile_network network; /* default user */
	char *network_bridge;	      /* "br0" for network = bridge:br0 */
	char *nvram;		      /* per-VM UEFI variables file, NULL = default location */
	bool accel_tcg;		      /* accel = tcg (emulation; tests, nested sandboxes);
				       * default accel = kvm */
	enum profile_backend backend; /* default qemu */
	char *libvirt_uri;	      /* NULL = default */
	char *template;		      /* libvirt template: a name in xml-templates/ or a path;
					 NULL = "linux" */

	/* [gpu] */
	char *gpu_device;	/* required: "1002:1586" or an address, as given */
	bool gpu_functions_all; /* functions = all (default) */
	char **gpu_functions;	/* otherwise: canonical addresses, strv */
	enum profile_vbios vbios;
	char *vbios_path;    /* PROFILE_VBIOS_FILE */
	char *gop;	     /* UEFI GOP driver ROM path, or NULL */
	bool allow_boot_vga; /* take the GPU even if it is the boot VGA / holds the console */
	bool x_vga;	     /* primary VGA (x-vga=on / Proxmox x-vga=1) */

	/* [qemu] */
	char **qemu_args; /* strv, appended to the QEMU command line */

	/* [device NAME] */
	struct profile_device *devices;
	size_t n_devices;
};

/* Parse @len bytes of @buf (need not be NUL-terminated). @filename is used in messages only.
 * Pure: no I/O. Returns 0 and *ret, or -EINVAL (bad input), -ENOMEM; on failure @err (may be
 * NULL) holds the message with file = @filename and the 1-based line (0 for the whole file). */
int profile_parse(const void *buf, size_t len, const char *filename, struct profile **ret,
		  struct error *err);
struct profile *profile_free(struct profile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct profile *, profile_free)

/* "uefi", "uefi-secboot", "bios"; "qemu", "libvirt"; "none", "vfct", "sysfs", "file"; "none",
 * "user", "bridge" (the profile spells it "bridge:NAME"). */
DECLARE_STRING_TABLE_LOOKUP(profile_firmware, enum profile_firmware);
DECLARE_STRING_TABLE_LOOKUP(profile_backend, enum profile_backend);
DECLARE_STRING_TABLE_LOOKUP(profile_vbios, enum profile_vbios);
DECLARE_STRING_TABLE_LOOKUP(profile_network, enum profile_network);

/* The guest is Windows: the libvirt template's file name starts with "win" (windows11, win10,
 * /etc/gpurun/win-gaming.xml). Drives Hyper-V enlightenments and a local-time RTC. */
bool profile_guest_is_windows(const struct profile *p);

/* Disk format guessed from the file name: "qcow2" for *.qcow2, else "raw". */
const char *profile_disk_format(const char *path);
