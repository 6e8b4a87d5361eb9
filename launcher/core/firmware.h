/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QEMU firmware descriptors (QEMU's docs/interop/firmware.json, the interop format libvirt uses
 * to pick OVMF): parse one descriptor from a buffer, order a host's descriptor set the way QEMU's
 * docs and libvirt do, and choose the firmware for a guest. Pure: the host layer
 * (host/paths.c) reads the directories and the files and hands buffers in.
 *
 * Order and overrides: descriptors are files NAME.json in /usr/share/qemu/firmware (the
 * distribution's) and /etc/qemu/firmware (the administrator's). A name in /etc replaces the
 * same name in /usr/share; an empty file in /etc hides it. The surviving descriptors are taken
 * in file-name order (strcmp), so numeric prefixes ("40-...", "60-...") set the priority, and
 * the first one that fits wins. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

struct error;

enum firmware_device {
	FIRMWARE_DEVICE_FLASH,	/* pflash: executable (+ nvram template in split mode) */
	FIRMWARE_DEVICE_MEMORY, /* -bios style, loaded into memory */
	FIRMWARE_DEVICE_KERNEL, /* -kernel style */
	_FIRMWARE_DEVICE_MAX,
};

enum firmware_mode {
	FIRMWARE_MODE_SPLIT,	 /* executable read-only + a per-VM copy of the nvram template */
	FIRMWARE_MODE_COMBINED,	 /* one writable image holding code and variables */
	FIRMWARE_MODE_STATELESS, /* no variable store at all */
	_FIRMWARE_MODE_MAX,
};

enum firmware_format {
	FIRMWARE_FORMAT_RAW,
	FIRMWARE_FORMAT_QCOW2,
	_FIRMWARE_FORMAT_MAX,
};

/* The features gpurun decides on; others in a descriptor are accepted and ignored. */
enum firmware_feature {
	FIRMWARE_FEATURE_SECURE_BOOT,
	FIRMWARE_FEATURE_ENROLLED_KEYS,
	FIRMWARE_FEATURE_REQUIRES_SMM,
	FIRMWARE_FEATURE_ACPI_S3,
	FIRMWARE_FEATURE_ACPI_S4,
	FIRMWARE_FEATURE_AMD_SEV,
	FIRMWARE_FEATURE_AMD_SEV_ES,
	FIRMWARE_FEATURE_AMD_SEV_SNP,
	FIRMWARE_FEATURE_INTEL_TDX,
	FIRMWARE_FEATURE_VERBOSE_DYNAMIC,
	FIRMWARE_FEATURE_VERBOSE_STATIC,
	_FIRMWARE_FEATURE_MAX,
};

struct firmware_target {
	char *architecture; /* "x86_64", "aarch64", ... */
	char **machines;    /* strv of globs: "pc-q35-*" */
};

struct firmware_descriptor {
	char *name;	   /* the file name it was read from ("60-edk2-x86_64.json") */
	char *description; /* may be NULL */
	bool uefi;	   /* "interface-types" holds "uefi" */
	enum firmware_device device;
	enum firmware_mode mode; /* flash only; "split" when absent */
	/* flash: mapping.executable / mapping.nvram-template (template NULL unless split);
	 * memory: mapping.filename; kernel: mapping.filename. Absolute paths as written in the
	 * descriptor (host paths, not under any root). */
	char *executable;
	enum firmware_format executable_format;
	char *nvram_template;
	enum firmware_format nvram_template_format;
	struct firmware_target *targets;
	size_t n_targets;
	unsigned features; /* bit (1u << FIRMWARE_FEATURE_x) */
};

/* Parse one descriptor named @name (a file name, for messages) from @buf/@len (need not be
 * NUL-terminated). Returns 0 with *ret, or -EINVAL (not JSON, a member of the wrong type, a
 * required member missing, an unknown device/mode/format) / -ENOMEM with @err naming @name
 * and, for a JSON syntax error, the byte offset. */
int firmware_parse(const char *name, const void *buf, size_t len, struct firmware_descriptor **ret,
		   struct error *err);
struct firmware_descriptor *firmware_descriptor_free(struct firmware_descriptor *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct firmware_descriptor *, firmware_descriptor_free)

bool firmware_has_feature(const struct firmware_descriptor *d, enum firmware_feature f);
/* Does some target of @d name @arch with a machine glob matching @machine? The alias "q35"
 * stands for QEMU's versioned q35 types, so a glob such as "pc-q35-*" matches it. */
bool firmware_supports(const struct firmware_descriptor *d, const char *arch, const char *machine);

/* One descriptor file as the host layer found it. @dir_priority: 0 for /etc/qemu/firmware,
 * 1 for /usr/share/qemu/firmware (lower wins for the same name). */
struct firmware_file {
	const char *name;
	const void *buf;
	size_t len; /* 0: an empty file, which hides the same name in a lower-priority dir */
	unsigned dir_priority;
};

/* A host's effective descriptor set, in priority order. */
struct firmware_set {
	struct firmware_descriptor **descs;
	size_t n_descs;
	char **skipped; /* strv: "NAME: why" for each descriptor that did not parse */
};

/* Apply the override and hiding rules to @files (any order) and parse what survives, sorted by
 * file name. A descriptor that fails to parse is left out and named in ->skipped. Returns 0 or
 * -ENOMEM. */
int firmware_set_load(const struct firmware_file *files, size_t n, struct firmware_set *ret);
void firmware_set_done(struct firmware_set *s);

/* What the guest wants. */
struct firmware_want {
	const char *arch;    /* "x86_64" */
	const char *machine; /* "q35" */
	bool secure_boot;    /* true: secure-boot (enrolled keys preferred); false: none */
};

/* A UEFI descriptor usable as split pflash for @want: flash device, split mode with an nvram
 * template, a matching target, and secure-boot exactly as wanted. */
bool firmware_fits(const struct firmware_descriptor *d, const struct firmware_want *want);
/* The first descriptor of @descs (in order) that fits @want and for which @usable (may be NULL:
 * all are) returns true, e.g. "its files exist"; for secure boot, the first such with
 * enrolled-keys, else the first without. Returns its index, or -ENOENT. */
int firmware_select(struct firmware_descriptor *const *descs, size_t n,
		    const struct firmware_want *want,
		    bool (*usable)(const struct firmware_descriptor *d, void *userdata),
		    void *userdata);

DECLARE_STRING_TABLE_LOOKUP(firmware_device, enum firmware_device);
DECLARE_STRING_TABLE_LOOKUP(firmware_mode, enum firmware_mode);
DECLARE_STRING_TABLE_LOOKUP(firmware_format, enum firmware_format);
DECLARE_STRING_TABLE_LOOKUP(firmware_feature, enum firmware_feature);
