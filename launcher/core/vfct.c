/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ACPI VFCT table parser. */
#include <inttypes.h>
#include <stdio.h>

#include "core/vfct.h"
#include "util/error.h"

struct vfct_table *vfct_table_free(struct vfct_table *t)
{
	if (!t)
		return NULL;
	free(t->data);
	free(t->images);
	free(t);
	return NULL;
}

/* A table that cannot be used: the byte offset of the problem and what is wrong there. */
#define fail(err, offset, ...) error_set_offset(err, EBADMSG, NULL, offset, __VA_ARGS__)

static void copy_id(char *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[n] = 0;
	/* ACPI pads ids with spaces */
	while (n > 0 && dst[n - 1] == ' ')
		dst[--n] = 0;
}

int vfct_parse(const void *buf, size_t len, struct vfct_table **ret, struct diag_list *warnings,
	       struct error *err)
{
	_cleanup_(vfct_table_freep) struct vfct_table *t = NULL;
	const uint8_t *p = buf;
	unsigned sum = 0;
	size_t length, off;
	int r;

	if (len < 36)
		return fail(err, 0, "%zu bytes is shorter than an ACPI table header (36 bytes)",
			    len);
	if (memcmp(p, "VFCT", 4) != 0)
		return fail(err, 0, "signature is not \"VFCT\" (found %02x %02x %02x %02x)", p[0],
			    p[1], p[2], p[3]);
	length = le32(p + 4);
	if (length > len)
		return fail(
		    err, 4,
		    "header Length %zu is larger than the data (%zu bytes): truncated table",
		    length, len);
	if (length < VFCT_HEADER_SIZE)
		return fail(err, 4, "header Length %zu is smaller than the VFCT header (%d bytes)",
			    length, VFCT_HEADER_SIZE);

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->data = malloc(length);
	if (!t->data)
		return -ENOMEM;
	memcpy(t->data, p, length);
	t->length = length;
	t->revision = p[8];
	copy_id(t->oem_id, p + 10, 6);
	copy_id(t->oem_table_id, p + 16, 8);
	copy_id(t->creator_id, p + 28, 4);
	t->vbios_image_offset = le32(p + 0x34);

	for (size_t i = 0; i < length; i++)
		sum += p[i];
	t->checksum_ok = (sum & 0xff) == 0;
	if (!t->checksum_ok && warnings) {
		r = diag_add(warnings, DIAG_WARN, "vfct-checksum", NULL,
			     "offset 0x9: table checksum is wrong (bytes sum to 0x%02x, not 0); "
			     "the firmware or a copy corrupted the table",
			     sum & 0xff);
		if (r < 0)
			return r;
	}
	if (length < len && warnings) {
		r = diag_add(warnings, DIAG_WARN, "vfct-trailing", NULL,
			     "offset 0x%zx: %zu bytes after the table Length ignored", length,
			     len - length);
		if (r < 0)
			return r;
	}

	if (t->vbios_image_offset < VFCT_HEADER_SIZE || t->vbios_image_offset > length)
		return fail(err, 0x34,
			    "VBIOSImageOffset 0x%" PRIx32
			    " is outside the image area (0x%x..0x%zx)",
			    t->vbios_image_offset, VFCT_HEADER_SIZE, length);

	/* Like the kernel: walk records while they fit, stop at the first that does not. Every
	 * step advances by at least the 28-byte record header, so this terminates. */
	off = t->vbios_image_offset;
	while (off < length) {
		const uint8_t *h = p + off;
		struct vfct_image *img, *n;
		size_t left = length - off;
		uint32_t ilen;

		if (left < VFCT_RECORD_SIZE) {
			if (warnings) {
				r = diag_add(
				    warnings, DIAG_WARN, "vfct-truncated", NULL,
				    "offset 0x%zx: truncated image record header (%zu of %d "
				    "bytes), ignoring it",
				    off, left, VFCT_RECORD_SIZE);
				if (r < 0)
					return r;
			}
			break;
		}
		ilen = (uint32_t)le32(h + 24);
		if (ilen > left - VFCT_RECORD_SIZE) {
			if (warnings) {
				r = diag_add(warnings, DIAG_WARN, "vfct-truncated", NULL,
					     "offset 0x%zx: image record claims %" PRIu32
					     " bytes but only %zu remain in the table, ignoring it "
					     "and any record after it",
					     off, ilen, left - VFCT_RECORD_SIZE);
				if (r < 0)
					return r;
			}
			break;
		}
		if (ilen == 0) {
			if (warnings) {
				r = diag_add(
				    warnings, DIAG_WARN, "vfct-empty-image", NULL,
				    "offset 0x%zx: zero-length image for %04x:%04x, ignoring "
				    "it",
				    off, le16(h + 12), le16(h + 14));
				if (r < 0)
					return r;
			}
			off += VFCT_RECORD_SIZE;
			continue;
		}

		n = realloc(t->images, sizeof(*t->images) * (t->n_images + 1));
		if (!n)
			return -ENOMEM;
		t->images = n;
		img = &t->images[t->n_images++];
		*img = (struct vfct_image){
			.offset = off,
			.image_offset = off + VFCT_RECORD_SIZE,
			.image_length = ilen,
			.bus = (uint32_t)le32(h),
			.device = (uint32_t)le32(h + 4),
			.function = (uint32_t)le32(h + 8),
			.vendor = le16(h + 12),
			.device_id = le16(h + 14),
			.subsystem_vendor = le16(h + 16),
			.subsystem_device = le16(h + 18),
			.revision = (uint32_t)le32(h + 20),
		};
		off += VFCT_RECORD_SIZE + (size_t)ilen;
	}
	if (t->n_images == 0 && warnings) {
		r = diag_add(warnings, DIAG_WARN, "vfct-no-image", NULL,
			     "offset 0x%" PRIx32 ": the table holds no usable VBIOS image",
			     t->vbios_image_offset);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(t);
	return 0;
}

const uint8_t *vfct_image_data(const struct vfct_table *t, size_t i)
{
	return t->data + t->images[i].image_offset;
}

const struct vfct_image *vfct_find(const struct vfct_table *t, unsigned bus, unsigned dev,
				   unsigned fn, uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < t->n_images; i++) {
		const struct vfct_image *m = &t->images[i];

		if (m->bus == bus && m->device == dev && m->function == fn && m->vendor == vendor &&
		    m->device_id == device)
			return m;
	}
	for (size_t i = 0; i < t->n_images; i++)
		if (t->images[i].vendor == vendor && t->images[i].device_id == device)
			return &t->images[i];
	return NULL;
}
