/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The checks engine: every diagnostic about the host that check, plan, run's preflight, emit and
 * host-config report comes from here. Pure: a host snapshot (core/hostinfo.h), optionally a
 * profile's plan and the preview inputs a host/ helper read (files, journal, locks) go in;
 * diagnostics (core/diag.h) come out.
 *
 * One fact, one id, one severity: each id is a row of checks_table (documented in gpurun(8),
 * section CHECK IDS; a test compares the two). A finding that only follows from another one that
 * failed (no IOMMU groups because the IOMMU is off) is INFO, names that cause by its printed name
 * ("follows from: the IOMMU is off") and carries its id in diag.cause. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/diag.h"
#include "core/emit.h"
#include "core/hostinfo.h"
#include "util/macro.h"

struct plan;
struct profile;

enum check_id {
	CHECK_CPU_VIRT,
	CHECK_KVM,
	CHECK_IOMMU_ENABLED,
	CHECK_IOMMU_PASSTHROUGH,
	CHECK_INTERRUPT_REMAPPING,
	CHECK_VFIO_MODULES,
	CHECK_VFCT,
	CHECK_GPU,	      /* no display controller on the host */
	CHECK_GPU_RESPONDING, /* config space reads 0xff */
	CHECK_GPU_CLASS,      /* the device asked about is not a display controller */
	CHECK_GPU_GROUP,      /* the GPU has an IOMMU group */
	CHECK_IOMMU_GROUP,    /* another passed function has none */
	CHECK_GROUP_VIABLE,
	CHECK_GPU_DRIVER,
	CHECK_BOOT_VGA,
	CHECK_GPU_RESET,
	CHECK_GPU_VBIOS,
	CHECK_APU_SLOT,
	CHECK_ROM_FILE, /* vbios = FILE, gop = FILE: present, readable, a valid option ROM */
	CHECK_NVRAM,
	CHECK_DISK,
	CHECK_CDROM,
	CHECK_JOURNAL,	   /* the VM's journal is already there */
	CHECK_DEVICE_LOCK, /* a device lock held by another run */
	CHECK_DEVICE_IN_USE,
	CHECK_HUGEPAGES,    /* hugepages = yes: enough free 2 MiB huge pages for the guest memory */
	CHECK_OUTPUT_LIMIT, /* an output has no place for every disk, cdrom or device */
	CHECK_CPU_PINNING,  /* cpu-pinning names a CPU the host does not have online */
	CHECK_MEMORY,	    /* the guest memory, all pinned for VFIO, is more than the host has */
	CHECK_TEMPLATE,	    /* backend = libvirt: the domain template is missing or not usable */
	CHECK_NETWORK,	    /* network = bridge:NAME names no bridge of the host */
	CHECK_PROGRAM,	    /* run would start a program (QEMU, swtpm) this machine does not have */
	_CHECK_ID_MAX,
};

struct check_info {
	const char *id;	   /* stable, in --json and gpurun(8) */
	const char *cause; /* its printed name when it is the root cause of other findings */
	enum diag_status severity; /* when the fact is a problem */
};
extern const struct check_info checks_table[_CHECK_ID_MAX];
DECLARE_STRING_TABLE_LOOKUP(check_id, enum check_id);

/* Reset advice by device (the table and its source are in checks.c). */
enum check_reset_kind {
	CHECK_RESET_VENDOR_RESET, /* in gnif/vendor-reset's device table */
	CHECK_RESET_AMD_OTHER,	  /* AMD, not in that table: Navi 2x/3x, APUs, older */
	CHECK_RESET_OTHER,	  /* NVIDIA, Intel, ...: no "AMD reset bug" advice */
};
/* The vendor-reset family of @vendor:@device ("Polaris 10", "Navi 14", ...) or NULL. */
const char *checks_vendor_reset_family(uint16_t vendor, uint16_t device);

/* The host-wide facts: CPU virtualization, KVM, IOMMU, interrupt remapping, vfio modules, VFCT.
 * @kvm_required: false when the profile says accel = tcg (a missing /dev/kvm is then INFO).
 * Returns 0 or -ENOMEM. */
int checks_host(const struct host *h, bool kvm_required, struct diag_list *d);
/* Parts of checks_host() on their own, worded and graded the same (host-config reports them):
 * whether the IOMMU is on (iommu-enabled), whether the vfio modules exist (vfio-modules).
 * Return 0 or -ENOMEM. */
int checks_iommu(const struct host *h, struct diag_list *d);
int checks_vfio_modules(const struct host *h, struct diag_list *d);

/* The facts of one GPU (or of whatever function was asked about with check --device): is it
 * responding, what it is, its IOMMU group and the groups of every function in @passed (NULL:
 * the functions that go with it by default, host_gpu_slot_functions()), driver, boot VGA (a FAIL
 * unless @allow_boot_vga), reset and VBIOS source. Returns 0 or -ENOMEM. */
int checks_gpu(const struct host *h, const struct pci_func *gpu, char *const *passed,
	       bool allow_boot_vga, struct diag_list *d);

/* Only the group part of checks_gpu(): the IOMMU group of every function in @passed (strv),
 * group-viable PASS or FAIL (iommu-group for a function in none), worded as check words it
 * (host-config reports it for the functions it gives to vfio-pci). 0 or -ENOMEM. */
int checks_groups(const struct host *h, const struct pci_func *gpu, char *const *passed,
		  struct diag_list *d);

/* What a host/ helper read for the preview of a run (host/state.h fills it). */
enum check_file_kind {
	CHECK_FILE_VBIOS,
	CHECK_FILE_GOP,
	CHECK_FILE_NVRAM,
	CHECK_FILE_DISK,
	CHECK_FILE_CDROM,
	_CHECK_FILE_KIND_MAX,
};
struct check_file {
	enum check_file_kind kind;
	char *path;    /* as the profile names it */
	int error;     /* 0, or the -errno of opening/reading it */
	uint8_t *data; /* VBIOS and GOP only: the contents (at most ROM_MAX_SIZE) */
	size_t size;
	/* disks and nvram: 1 the file starts with the qcow2 magic ("QFI\xfb"), 0 it holds
	 * something else, -1 empty or not read (QEMU reads it as the output's format= says) */
	int qcow2;
};
struct check_lock {
	char *address; /* the PCI function */
	char *holder;  /* "VM PID" from the lock file */
	bool held;     /* someone holds the flock, or the VM it names still has a journal */
};
struct check_state {
	struct check_file *files;
	size_t n_files;
	/* what a run would find in the state dir (host/journal.h journal_probe) */
	enum check_journal {
		CHECK_JOURNAL_NONE,	/* no journal */
		CHECK_JOURNAL_TAKEOVER, /* one naming no change, nobody alive: a run takes it over */
		CHECK_JOURNAL_LIVE,	/* journal_text: "VM 'X' is ..." (who keeps it alive) */
		CHECK_JOURNAL_LEFT,	/* journal_entries changes left by a run that is gone */
		CHECK_JOURNAL_BAD, /* journal_text: why a run would refuse the state dir/journal */
	} journal;
	char *journal_text;
	size_t journal_entries;
	struct check_lock *locks;
	size_t n_locks;
	char **vfio_open; /* addresses whose /dev/vfio/GROUP a process has open */
	/* backend = libvirt: the domain template run fills (template_name NULL otherwise) */
	char *template_name; /* as the profile names it ("linux" by default) */
	char *template_dir;  /* where a name without '/' is looked up */
	int template_error;  /* 0, or the -errno of reading it */
	char *template_xml;
	size_t template_len;
	/* the programs run starts on this machine (state_read_programs(); not read for emit or
	 * bind, which start none): QEMU for backend = qemu, swtpm for tpm = yes */
	char *qemu_binary; /* as run executes it (--qemu, $GPURUN_QEMU, qemu-system-x86_64) */
	int qemu_error;	   /* 0 found, -ENOENT not in PATH, -EACCES not executable */
	bool swtpm_read;
	int swtpm_error;
};
void check_state_done(struct check_state *s);

/* The host facts of a profile's plan: checks_host() (KVM required unless accel = tcg), and
 * checks_gpu() for the plan's GPU with every function the plan passes (extras too).
 * plan_build() appends them to plan->diags. Returns 0 or -ENOMEM. */
int checks_plan(const struct host *h, const struct plan *p, struct diag_list *d);

/* The limits of output @k (emit qemu|libvirt|proxmox, and the runners that use the first two):
 * every disk, cdrom and passed device gets a place in it, else a FAIL "output-limit" naming the
 * limit. Proxmox: virtio0..virtio15, sata0..sata5. QEMU: q35's pcie.0 has 30 free slots for
 * gpurun's root ports, the virtio disks, the NIC and the USB controller. libvirt: each of those
 * on a pcie-root-port of its own, bus numbers 1..255. checks_plan() adds them for the output
 * of the profile's backend (qemu or libvirt); for that output this adds nothing again.
 * Returns 0 or -ENOMEM. */
int checks_output(const struct plan *p, enum emit_kind k, struct diag_list *d);

/* The preview facts of a run that need more than the snapshot: the profile's files (missing,
 * unreadable, a ROM that is not a valid option ROM, a GOP without an x64 EFI image), the VM's
 * journal, device locks held, devices in use by a guest. The command layer appends them to
 * plan->diags (cmd_plan_load), so plan, check PROFILE, run and emit see the same findings.
 * Returns 0 or -ENOMEM. */
int checks_preview(const struct host *h, const struct plan *p, const struct check_state *state,
		   struct diag_list *d);
