/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ACPI VFCT table ("VBIOS Fetch Table"): the firmware's copy of each AMD GPU's VBIOS, readable
 * at ROOT/sys/firmware/acpi/tables/VFCT whatever driver holds the GPU. Layout in REFERENCE.md.
 * vfct_parse() is pure and treats every length and offset as hostile; vfct_read()
 * (host/romstage.h) does the I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "util/macro.h"

struct error;

#define VFCT_HEADER_SIZE 76 /* ACPI header + UUID + offsets + reserved */
#define VFCT_RECORD_SIZE 28 /* VFCT_IMAGE_HEADER */
#define VFCT_MAX_SIZE (64u * 1024 * 1024)

struct vfct_image {
	size_t offset;	     /* of the record header, from the table start */
	size_t image_offset; /* of the image bytes (offset + 28) */
	uint32_t image_length;
	uint32_t bus, device, function;
	uint16_t vendor, device_id, subsystem_vendor, subsystem_device;
	uint32_t revision;
};

struct vfct_table {
	uint8_t *data; /* private copy of the table (the first `length` bytes of the input) */
	size_t length; /* header Length */
	uint8_t revision;
	bool checksum_ok;
	char oem_id[7], oem_table_id[9], creator_id[5]; /* NUL-terminated copies */
	uint32_t vbios_image_offset;
	struct vfct_image *images; /* only records that fit entirely, in table order */
	size_t n_images;
};

struct vfct_table *vfct_table_free(struct vfct_table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vfct_table *, vfct_table_free)

/* Parse a VFCT table. On success *ret holds the records that fit; problems that do not stop the
 * parse (bad checksum, trailing bytes past Length, a record that does not fit — parsing stops
 * there like the kernel does —, zero-length images, no records) are appended to @warnings (may
 * be NULL) as DIAG_WARN whose message starts "offset 0xNNNN: ".
 * Errors: -EBADMSG for a table that cannot be used (too short, wrong signature, Length larger
 * than the data or smaller than the header, image offset outside the table), -ENOMEM.
 * On -EBADMSG @err (may be NULL) holds the byte offset of the problem (has_offset; no file: the
 * caller that read the table adds it) and a one-line explanation without the offset. */
int vfct_parse(const void *buf, size_t len, struct vfct_table **ret, struct diag_list *warnings,
	       struct error *err);

/* Pointer to the image bytes of record @i (inside t->data). */
const uint8_t *vfct_image_data(const struct vfct_table *t, size_t i);

/* The record for PCI function @bus:@dev.@fn with ids @vendor:@device, else the first record with
 * those ids (the bus number changes with the firmware's enumeration), else NULL. */
const struct vfct_image *vfct_find(const struct vfct_table *t, unsigned bus, unsigned dev,
				   unsigned fn, uint16_t vendor, uint16_t device);
