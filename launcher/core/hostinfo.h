/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host snapshot as data: a read-only picture of everything gpurun decides from, filled by
 * host_inspect() (host/inspect.h) and consumed by the pure core. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "util/macro.h"

#define PCI_ADDR_MAX 16 /* "0000:c4:00.0" + NUL */
/* The huge page size of `hugepages = yes` in every output (QEMU hugetlbsize=2M, libvirt
 * <page size="2048" unit="KiB"/>, Proxmox hugepages: 2), and of the host check. */
#define HOST_HUGEPAGE_KB 2048

struct pci_func {
	char address[PCI_ADDR_MAX]; /* canonical lower-case "dddd:bb:dd.f" */
	unsigned domain, bus, dev, func;
	uint16_t vendor, device, subvendor, subdevice;
	uint8_t revision;
	uint32_t class;	   /* 24-bit: base << 16 | sub << 8 | prog-if */
	char *vendor_name; /* from pci.ids via libpci; NULL if unknown */
	char *device_name;
	char *class_name;      /* "VGA compatible controller" */
	char *driver;	       /* bound driver or NULL */
	char *driver_override; /* NULL when unset */
	int iommu_group;       /* -1 when the function has none */
	int boot_vga;	       /* -1 no attribute, 0, 1 */
	char **reset_methods;  /* strv, empty if the attribute is missing or empty */
	bool reset_attr;       /* the `reset` attribute exists (some reset is possible) */
	bool has_rom;	       /* sysfs `rom` attribute exists */
	bool mdev;     /* has mdev_supported_types: a mediated-device parent (GVT-g, vGPU), which a
		    * Proxmox PCI mapping must mark `mdev 1` (Mapping/PCI.pm assert_valid) */
	bool pcie_flr; /* the PCIe capability advertises Function Level Reset */
	bool reset_method_missing; /* kernel < 5.15: no reset_method attribute */
	uint8_t header_type;	   /* 0 endpoint, 1 PCI bridge, 2 CardBus bridge */
	bool is_bridge;		   /* header type 1/2 or class 0x06xx */
	bool config_dead;  /* config space reads all 0xff (the ids above are then sysfs's) */
	bool console;	   /* a framebuffer bound to this function carries the vt console */
	int fb;		   /* fbN bound to this device, -1 none */
	char *fb_platform; /* the firmware framebuffer's platform device scanning out of this
			    * function ("efi-framebuffer.0", "simple-framebuffer.0"), or NULL */
};

struct iommu_group {
	int id;
	char *type;	 /* "DMA", "DMA-FQ", "identity", ... or NULL */
	size_t *members; /* indices into host->funcs */
	size_t n_members;
};

/* Indices into mod_loaded/mod_available. */
enum host_module {
	HOST_MOD_VFIO,
	HOST_MOD_VFIO_IOMMU_TYPE1,
	HOST_MOD_VFIO_PCI,
	HOST_MOD_VFIO_VIRQFD, /* merged into vfio in Linux 6.2: absent there, never required */
	_HOST_MOD_MAX,
};
/* The one list of the vfio modules, in load order: "vfio", "vfio_iommu_type1", "vfio_pci",
 * "vfio_virqfd". */
extern const char *const host_module_names[_HOST_MOD_MAX];
/* Whether a guest start needs @m (false for vfio_virqfd: loaded when present, never missing). */
bool host_module_required(enum host_module m);

struct host {
	struct pci_func *funcs; /* sorted by address */
	size_t n_funcs;
	struct iommu_group *groups; /* sorted by id */
	size_t n_groups;

	char *kernel_release; /* proc/sys/kernel/osrelease */
	char *cmdline;	      /* proc/cmdline */
	char *cpu_vendor;     /* "AuthenticAMD", "GenuineIntel" or NULL */
	bool cpu_virt;	      /* svm or vmx flag in proc/cpuinfo */
	bool dev_kvm;
	bool dev_vfio;		 /* dev/vfio/vfio exists */
	bool iommu_sysfs;	 /* class/iommu has entries (an IOMMU driver is active) */
	int intremap;		 /* 1 evidence on, 0 evidence off, -1 unknown */
	char *intremap_evidence; /* what the decision was based on */

	/* modules: loaded = sys/module/NAME exists; available = libkmod finds it (or builtin) */
	bool mod_loaded[_HOST_MOD_MAX];
	bool mod_available[_HOST_MOD_MAX];

	bool has_vfct;
	size_t vfct_size;

	/* sys/kernel/mm/hugepages/hugepages-2048kB (HOST_HUGEPAGE_KB): the huge pages of the size
	 * `hugepages = yes` backs guest memory with. hugepages_known false: not readable (no
	 * hugetlbfs support, or a remote host), the counts are then 0. */
	/* sys/devices/system/cpu/online: the CPUs cpu-pinning may name (sorted, no duplicates);
	 * n_cpus_online 0: not readable (a capture without it, a remote node) */
	unsigned *cpus_online;
	size_t n_cpus_online;
	/* proc/self/status Cpus_allowed_list: the CPUs gpurun, and the QEMU it starts, may run on
	 * (taskset, a cgroup cpuset); sched_setaffinity() fails for a vCPU pinned outside them.
	 * Sorted, no duplicates; n_cpus_allowed 0: not known (a capture, a remote node). */
	unsigned *cpus_allowed;
	size_t n_cpus_allowed;
	/* proc/meminfo MemTotal in KiB, 0 when not known: VFIO pins every page of the guest
	 * memory, so a guest larger than the host's memory cannot start */
	uint64_t mem_total_kib;
	/* sys/class/net: net_known when it could be listed; bridges the interfaces with a
	 * bridge/ directory (network = bridge:NAME attaches to one) */
	bool net_known;
	char **bridges;
	/* etc/qemu/bridge.conf, the ACL of QEMU's bridge helper (what `-nic bridge` runs): its
	 * text, or NULL with bridge_conf_error the -errno of reading it */
	char *bridge_conf;
	int bridge_conf_error;
	bool hugepages_known;
	uint64_t hugepages_total; /* nr_hugepages */
	uint64_t hugepages_free;  /* free_hugepages */

	char **vtconsoles; /* "vtcon1: frame buffer device (bound)" style, informational */
	char **notes;	   /* things skipped while scanning */

	/* A remote libvirt node (core/libvirt-uri.h), read through libvirt's node-device API
	 * (host/remote.h): the URI, else NULL for this machine. On a remote node only the PCI
	 * functions (ids, class, names, driver, IOMMU group) and the groups are known; what
	 * libvirt does not expose (kernel command line, modules, /dev/kvm, interrupt remapping,
	 * VFCT, boot VGA, consoles, reset methods, sysfs rom) is unknown, and the checks say so
	 * instead of passing or failing on the zero values. */
	char *remote_uri;
	char *remote_rom_pool; /* the storage pool ROM files are uploaded to ("gpurun") */
	char *remote_rom_dir;  /* its target directory on the node; NULL: no such pool (yet) */
};

struct host *host_free(struct host *h);
/* Free the members of one function (not @f itself). */
void host_func_clear(struct pci_func *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct host *, host_free)

struct error;

/* Parse a PCI address the way people write it: "0000:c4:00.0", "c4:00.0" or "3:0.0" (hex
 * fields; the domain, when left out, is 0) into canonical form "dddd:bb:dd.f". -EINVAL if bad,
 * with @err (may be NULL) saying why: "'c4:00.8': function must be 0-7", "device must be
 * 00-1f", "bus must be 00-ff", "domain must be 0000-ffff", or that it is no address at all. */
int pci_addr_parse_err(const char *s, char ret[PCI_ADDR_MAX], struct error *err);
/* pci_addr_parse_err() without the explanation. */
int pci_addr_parse(const char *s, char ret[PCI_ADDR_MAX]);
/* Parse "1002:1586". -EINVAL if bad. */
int pci_id_parse(const char *s, uint16_t *ret_vendor, uint16_t *ret_device);

/* A device as a person names it on the command line or in a profile: a PCI address (any form
 * pci_addr_parse_err() takes) or a "vendor:device" id. */
struct pci_device_spec {
	bool is_id;
	char address[PCI_ADDR_MAX]; /* canonical, when !is_id */
	uint16_t vendor, device;    /* when is_id */
};
/* The one parser of device names. A string with a '.' (or two ':') is an address and a bad one
 * is explained as pci_addr_parse_err() does; "VVVV:DDDD" is an id; anything else is -EINVAL
 * with "'S' is neither a vendor:device id (1002:1586) nor a PCI address (0000:c4:00.0)". */
int pci_device_spec_parse(const char *s, struct pci_device_spec *ret, struct error *err);

/* Resolve a device name against the host: every function it names (an address names one, an
 * id every function with it), as a malloc'd NULL-terminated array of pointers into h->funcs;
 * returns the count (>= 1). Errors, each with @err saying so for a person:
 *   -EINVAL  @spec is not a device name (pci_device_spec_parse());
 *   -ENODEV  nothing on this host has it: "no device 0000:07:00.0 on this host (did you mean
 *            0000:03:00.0?)", the suggestion when an address or id on the host is one or two
 *            characters off. */
int host_resolve_devices(const struct host *h, const char *spec, const struct pci_func ***ret,
			 struct error *err);
/* The same for exactly one function; also -ENOTUNIQ when an id matches several functions:
 * "1002:1586 matches 2 functions: 0000:c4:00.0, 0000:c5:00.0; name one by address". */
int host_resolve_device(const struct host *h, const char *spec, const struct pci_func **ret,
			struct error *err);

/* The highest CPU number a CPU list may name. */
#define CPULIST_CPU_MAX 8191U
/* Parse a Linux CPU list, the format of sys/devices/system/cpu/online and of cpu-pinning:
 * "N" or "N-M" ranges joined by ','. *ret (malloc'd) gets the CPUs in the order written,
 * at most @max_n of them. -EINVAL: not a CPU list; -ERANGE: a range backwards or above
 * CPULIST_CPU_MAX; -E2BIG: more than @max_n CPUs; -ENOMEM. Pure. */
int cpulist_parse(const char *s, size_t max_n, unsigned **ret, size_t *ret_n);
/* @cpus (@n, ascending) as a CPU list, ranges joined ("0-1,8-15"). malloc'd; NULL on ENOMEM. */
char *cpulist_format(const unsigned *cpus, size_t n);
/* Whether CPU @cpu is online on @h (true when the host's list is unknown). */
bool host_cpu_online(const struct host *h, unsigned cpu);
/* Whether gpurun may run on CPU @cpu (true when that is not known). */
bool host_cpu_allowed(const struct host *h, unsigned cpu);

const struct pci_func *host_find_func(const struct host *h, const char *address);
const struct iommu_group *host_find_group(const struct host *h, int id);

/* Whether the slot of @gpu is an APU-style slot: it also holds functions of another vendor or of
 * classes no graphics card carries (security processor, audio co-processor...). */
bool host_slot_is_apu(const struct host *h, const struct pci_func *gpu);
/* The functions that go to a guest with @gpu when a profile says `functions = all`: on a
 * discrete card every function of the slot; on an APU only the display function(s) and the GPU
 * vendor's HD-audio function(s) (never the PSP, USB controllers, audio co-processors or the
 * platform HD-audio controller that share the slot). Returns a strv of
 * addresses in address order. */
int host_gpu_slot_functions(const struct host *h, const struct pci_func *gpu, char ***ret);
/* Functions matching "VVVV:DDDD" or an address; returns the count, fills a malloc'd array of
 * pointers into h->funcs. -EINVAL if @spec is neither. */
int host_match_device(const struct host *h, const char *spec, const struct pci_func ***ret);

static inline bool pci_func_is_display(const struct pci_func *f)
{
	return (f->class >> 16) == 0x03; /* any display class: 0300 VGA, 0380 other, 0302 3D */
}
static inline bool pci_func_is_hda(const struct pci_func *f)
{
	return (f->class >> 8) == 0x0403;
}

/* Members of group @id that block passing @passed (a strv of addresses) to a guest: every
 * member that is neither in @passed nor a bridge. Returns the count (>= 0) and, if @ret_idx is
 * non-NULL, a malloc'd array of indices into h->funcs. -ENOENT if the group does not exist. */
int iommu_group_blockers(const struct host *h, int id, char *const *passed, size_t **ret_idx);

/* "identity" groups (iommu=pt) are the passthrough default domain type. */
bool iommu_group_is_passthrough(const struct iommu_group *g);
