/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI option ROMs: decoding every image of a ROM file (layout in REFERENCE.md), checking a ROM
 * against the device it is meant for, combining a legacy VBIOS with an EFI GOP driver. All pure;
 * reading a device's ROM from sysfs and staging ROM files is host/romstage.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "util/macro.h"

struct error;

#define ROM_MAX_SIZE (16u * 1024 * 1024)

enum rom_code_type {
	ROM_CODE_X86 = 0,
	ROM_CODE_OPEN_FIRMWARE = 1,
	ROM_CODE_PARISC = 2,
	ROM_CODE_EFI = 3,
	_ROM_CODE_TYPE_MAX,
};

/* The EFI image header's subsystem (PE subsystem values). */
enum rom_efi_subsystem {
	ROM_EFI_SUBSYSTEM_APPLICATION = 10,
	ROM_EFI_SUBSYSTEM_BOOT_SERVICES_DRIVER = 11,
	ROM_EFI_SUBSYSTEM_RUNTIME_DRIVER = 12,
	_ROM_EFI_SUBSYSTEM_MAX,
};

#define ROM_EFI_MACHINE_X64 0x8664
#define ROM_EFI_MACHINE_IA32 0x014c
#define ROM_EFI_MACHINE_AARCH64 0xaa64

struct rom_image {
	size_t offset;	    /* of the image in the file */
	size_t length;	    /* PCIR image length in bytes (512 x blocks) */
	size_t available;   /* bytes of this image present in the file (< length: truncated) */
	size_t pcir_offset; /* of the PCI data structure, from the image start */
	uint16_t vendor, device;
	uint32_t class; /* 24-bit: base << 16 | sub << 8 | prog-if */
	uint8_t pcir_revision;
	uint16_t code_revision;
	uint8_t code_type; /* enum rom_code_type, or another value found in the file */
	bool last;	   /* indicator bit 7 */
	/* legacy x86 images (code type 0) */
	size_t init_size; /* header byte 2 x 512 */
	bool checksum_ok; /* bytes 0..init_size (or length) sum to 0; computed for every image */
	bool atom;	  /* AMD ATOM BIOS ("ATOM" ROM header or "ATOMBIOS" string) */
	/* EFI images (code type 3) */
	bool efi_signature_ok; /* 0x00000EF1 at +4 */
	uint16_t efi_subsystem;
	uint16_t efi_machine;
	uint16_t efi_compression;
	uint16_t efi_pe_offset;
	bool efi_pe_ok; /* "MZ" at efi_pe_offset */
};

struct rom_info {
	size_t size; /* bytes in the file */
	struct rom_image *images;
	size_t n_images;
	/* Findings: DIAG_FAIL (unusable), DIAG_WARN, DIAG_INFO; messages about a place in the
	 * file start "offset 0xNNNN: ". A ROM without FAIL also gets one DIAG_PASS "rom-valid". */
	struct diag_list diags;
	bool valid;	     /* no DIAG_FAIL */
	size_t error_offset; /* offset of the first DIAG_FAIL (when !valid) */
	const char *error;   /* message of the first DIAG_FAIL (points into diags) */
};

struct rom_info *rom_info_free(struct rom_info *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rom_info *, rom_info_free)

/* Decode every image of a ROM file. Never fails on bad content — that is reported in
 * (*ret)->diags / ->valid; returns 0 or -ENOMEM. */
int rom_decode(const void *buf, size_t len, struct rom_info **ret);

/* The values a file holds (code type byte, EFI subsystem) may name nothing in the tables:
 * "x86", "open-firmware", "pa-risc", "efi" or "unknown"; "application", "boot-services-driver",
 * "runtime-driver" or "unknown". _from_string() gives the value or -EINVAL. */
DECLARE_STRING_TABLE_LOOKUP(rom_code_type, unsigned);
DECLARE_STRING_TABLE_LOOKUP(rom_efi_subsystem, unsigned);
/* "x64", "ia32", "aarch64" or "unknown". */
const char *rom_efi_machine_to_string(unsigned machine);

/* Whether any image is an x64 EFI image (what OVMF can run). */
bool rom_has_x64_efi(const struct rom_info *info);
/* Gate before a ROM is staged for a guest: it must decode as an option ROM, and a GOP ROM must
 * hold an x64 EFI image. Pure. -EINVAL otherwise (-ENOMEM), with the reason in @err (may be
 * NULL; message only, the caller names the file and the device). */
int rom_validate_for_guest(const void *buf, size_t len, bool is_gop, struct error *err);

/* Findings of the ROM against the device it is meant for, appended to @diags:
 * - an image whose PCIR vendor/device differs from @vendor:@device: DIAG_WARN for a VBIOS,
 *   DIAG_INFO for a GOP ROM (their ids are often not the GPU's; never an error, REFERENCE.md);
 * - a VBIOS without a legacy image of display class (base class 0x03): DIAG_WARN;
 * - no x64 EFI image: DIAG_FAIL for a GOP ROM, DIAG_WARN for a VBIOS ("the guest firmware will
 *   show no picture until the OS driver loads").
 * Returns 0 or -ENOMEM. */
int rom_check_for_device(const struct rom_info *info, uint16_t vendor, uint16_t device, bool is_gop,
			 struct diag_list *diags);

/* One ROM from a VBIOS file (its first legacy x86 image) and a GOP file (its first x64 EFI
 * image): legacy image first, EFI image last, the last-image flags set accordingly and the
 * legacy checksum fixed (byte 0x21 for ATOM BIOSes, else the last byte of the legacy image).
 * -EBADMSG if the VBIOS has no complete legacy image or the GOP no complete x64 EFI image
 * (@err, may be NULL, then says which), -ENOMEM. */
int rom_combine(const void *vbios, size_t vbios_len, const void *gop, size_t gop_len, uint8_t **ret,
		size_t *ret_len, struct error *err);

/* "vbios_1002_1586.bin" (malloc'd), the name the seed system and gpurun use. */
char *vbios_name(uint16_t vendor, uint16_t device);
