/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI option ROM decoding, checks against a device, combining. Pure. */
#include <inttypes.h>
#include <stdio.h>

#include "core/rom.h"
#include "util/error.h"

#define ROM_SIG0 0x55
#define ROM_SIG1 0xaa
#define ROM_HDR_MIN 0x1a /* up to and including the PCIR pointer at 0x18 */
#define PCIR_MIN 0x18
#define ROM_MAX_IMAGES 64
#define ATOM_CHECKSUM_OFFSET 0x21
#define ATOM_HEADER_POINTER 0x48

struct rom_info *rom_info_free(struct rom_info *i)
{
	if (!i)
		return NULL;
	diag_list_clear(&i->diags);
	free(i->images);
	free(i);
	return NULL;
}

static const char *const rom_code_type_table[_ROM_CODE_TYPE_MAX] = {
	[ROM_CODE_X86] = "x86",
	[ROM_CODE_OPEN_FIRMWARE] = "open-firmware",
	[ROM_CODE_PARISC] = "pa-risc",
	[ROM_CODE_EFI] = "efi",
};
DEFINE_STRING_TABLE_LOOKUP_FALLBACK(rom_code_type, unsigned, _ROM_CODE_TYPE_MAX, "unknown")

static const char *const rom_efi_subsystem_table[_ROM_EFI_SUBSYSTEM_MAX] = {
	[ROM_EFI_SUBSYSTEM_APPLICATION] = "application",
	[ROM_EFI_SUBSYSTEM_BOOT_SERVICES_DRIVER] = "boot-services-driver",
	[ROM_EFI_SUBSYSTEM_RUNTIME_DRIVER] = "runtime-driver",
};
DEFINE_STRING_TABLE_LOOKUP_FALLBACK(rom_efi_subsystem, unsigned, _ROM_EFI_SUBSYSTEM_MAX, "unknown")

/* PE machine numbers are sparse (0x014c, 0x8664, 0xaa64): a switch, not an indexed table. */
const char *rom_efi_machine_to_string(unsigned machine)
{
	switch (machine) {
	case ROM_EFI_MACHINE_X64:
		return "x64";
	case ROM_EFI_MACHINE_IA32:
		return "ia32";
	case ROM_EFI_MACHINE_AARCH64:
		return "aarch64";
	default:
		return "unknown";
	}
}

/* Record a finding about the place @offset of the file: a diagnostic whose message starts
 * "offset 0xN: ", the first DIAG_FAIL also making the ROM invalid. Returns 0 or -ENOMEM. */
static int note_finding(struct rom_info *info, enum diag_status s, size_t offset, int r)
{
	if (r < 0)
		return r;
	if (s == DIAG_FAIL && info->valid) {
		info->valid = false;
		info->error_offset = offset;
	}
	return 0;
}
#define finding(info, s, id, offset, fmt, ...)                                                     \
	note_finding(info, s, offset,                                                              \
		     diag_add(&(info)->diags, s, id, NULL, "offset 0x%zx: " fmt, (size_t)(offset), \
			      ##__VA_ARGS__))

static bool all_padding(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0x00 && p[i] != 0xff)
			return false;
	return true;
}

static bool find_atom(const uint8_t *img, size_t avail)
{
	size_t scan = avail < 1024 ? avail : 1024;

	/* The ATOM ROM header, pointed to by the u16 at 0x48, carries "ATOM" at +4 (what amdgpu
	 * checks); AMD images also carry an "ATOMBIOS" string near the start. */
	if (avail >= ATOM_HEADER_POINTER + 2) {
		size_t hdr = le16(img + ATOM_HEADER_POINTER);

		if (hdr + 8 <= avail && memcmp(img + hdr + 4, "ATOM", 4) == 0)
			return true;
	}
	return scan >= 8 && memmem(img, scan, "ATOMBIOS", 8) != NULL;
}

/* Decode the image at @off; returns 1 to continue with the next image, 0 to stop, <0 error. */
static int decode_image(struct rom_info *info, const uint8_t *p, size_t len, size_t off,
			size_t *ret_next)
{
	const uint8_t *img = p + off, *pcir;
	size_t avail = len - off, pcir_off, sumlen;
	struct rom_image *im, *n;
	unsigned sum = 0;
	int r;

	if (avail < ROM_HDR_MIN)
		return finding(info, DIAG_FAIL, "rom-truncated", off,
			       "only %zu bytes left, too short for an option ROM header", avail);
	if (img[0] != ROM_SIG0 || img[1] != ROM_SIG1)
		return finding(info, DIAG_FAIL, "rom-signature", off,
			       "no option ROM signature 55 aa (found %02x %02x)", img[0], img[1]);
	pcir_off = le16(img + 0x18);
	if (pcir_off == 0)
		return finding(
		    info, DIAG_FAIL, "rom-pcir", off + 0x18,
		    "no PCI data structure (pointer at 0x18 is 0): an ISA ROM, not a PCI "
		    "option ROM");
	if (pcir_off < ROM_HDR_MIN || pcir_off + PCIR_MIN > avail)
		return finding(info, DIAG_FAIL, "rom-pcir", off + 0x18,
			       "PCI data structure pointer 0x%zx is outside the image (%zu bytes)",
			       pcir_off, avail);
	pcir = img + pcir_off;
	if (memcmp(pcir, "PCIR", 4) != 0)
		return finding(info, DIAG_FAIL, "rom-pcir", off + pcir_off,
			       "no \"PCIR\" signature at the PCI data structure (found %02x %02x "
			       "%02x %02x)",
			       pcir[0], pcir[1], pcir[2], pcir[3]);

	n = realloc(info->images, sizeof(*info->images) * (info->n_images + 1));
	if (!n)
		return -ENOMEM;
	info->images = n;
	im = &info->images[info->n_images++];
	*im = (struct rom_image){
		.offset = off,
		.pcir_offset = pcir_off,
		.vendor = le16(pcir + 4),
		.device = le16(pcir + 6),
		.pcir_revision = pcir[0x0c],
		.class = (uint32_t)pcir[0x0f] << 16 | (uint32_t)pcir[0x0e] << 8 | pcir[0x0d],
		.length = (size_t)le16(pcir + 0x10) * 512,
		.code_revision = le16(pcir + 0x12),
		.code_type = pcir[0x14],
		.last = pcir[0x15] & 0x80,
	};
	im->available = im->length < avail ? im->length : avail;

	if (im->length == 0 || pcir_off + PCIR_MIN > im->length) {
		/* not an image one can use or copy: keep it out of the list */
		info->n_images--;
		if (im->length == 0)
			return finding(info, DIAG_FAIL, "rom-length", off + pcir_off + 0x10,
				       "image length is 0");
		return finding(info, DIAG_FAIL, "rom-length", off + pcir_off + 0x10,
			       "image length %zu ends before its PCI data structure (at 0x%zx)",
			       im->length, pcir_off);
	}
	if (im->length > avail) {
		r = finding(info, DIAG_WARN, "rom-truncated", off,
			    "image declares %zu bytes but only %zu are present: truncated ROM",
			    im->length, avail);
		if (r < 0)
			return r;
	}

	im->init_size = (size_t)img[2] * 512;
	sumlen = im->length;
	if (im->code_type == ROM_CODE_X86 && im->init_size > 0 && im->init_size <= im->length)
		sumlen = im->init_size; /* what the BIOS checks */
	if (sumlen > im->available)
		sumlen = im->available;
	for (size_t i = 0; i < sumlen; i++)
		sum += img[i];
	im->checksum_ok = (sum & 0xff) == 0;

	if (im->code_type == ROM_CODE_X86) {
		im->atom = find_atom(img, im->available);
		if (!im->checksum_ok) {
			r = finding(info, DIAG_WARN, "rom-checksum", off,
				    "legacy image checksum mismatch (bytes sum to 0x%02x, not 0)",
				    sum & 0xff);
			if (r < 0)
				return r;
		}
		if (im->init_size != im->length) {
			r = finding(info, DIAG_INFO, "rom-init-size", off + 2,
				    "initialization size %zu differs from the image length %zu",
				    im->init_size, im->length);
			if (r < 0)
				return r;
		}
	} else if (im->code_type == ROM_CODE_EFI) {
		im->efi_signature_ok = le32(img + 4) == 0x0ef1;
		im->efi_subsystem = le16(img + 8);
		im->efi_machine = le16(img + 0x0a);
		im->efi_compression = le16(img + 0x0c);
		im->efi_pe_offset = le16(img + 0x16);
		im->efi_pe_ok = im->efi_pe_offset >= ROM_HDR_MIN &&
				(size_t)im->efi_pe_offset + 2 <= im->available &&
				img[im->efi_pe_offset] == 'M' && img[im->efi_pe_offset + 1] == 'Z';
		if (!im->efi_signature_ok) {
			r = finding(info, DIAG_FAIL, "rom-efi-signature", off + 4,
				    "EFI image without the 0x0EF1 signature (found 0x%08lx)",
				    le32(img + 4));
			if (r < 0)
				return r;
		} else if (!im->efi_pe_ok) {
			r = finding(info, DIAG_WARN, "rom-efi-pe", off + 0x16,
				    "EFI image offset 0x%x does not point to a PE image (\"MZ\")",
				    im->efi_pe_offset);
			if (r < 0)
				return r;
		}
		if (im->efi_signature_ok && im->efi_compression > 1) {
			r = finding(info, DIAG_WARN, "rom-efi-compression", off + 0x0c,
				    "unknown EFI compression type %u", im->efi_compression);
			if (r < 0)
				return r;
		}
	} else {
		r = finding(info, DIAG_INFO, "rom-code-type", off + pcir_off + 0x14,
			    "image of code type %u (%s), not used by x86 guests", im->code_type,
			    rom_code_type_to_string(im->code_type));
		if (r < 0)
			return r;
	}

	if (im->length > avail)
		return 0;
	*ret_next = off + im->length;
	return im->last ? 0 : 1;
}

int rom_decode(const void *buf, size_t len, struct rom_info **ret)
{
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;
	const uint8_t *p = buf;
	size_t off = 0;
	int r;

	info = calloc(1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	info->size = len;
	info->valid = true;

	if (len == 0) {
		r = finding(info, DIAG_FAIL, "rom-empty", 0, "empty file");
		if (r < 0)
			return r;
	}
	while (off < len) {
		size_t next = off;

		if (info->n_images >= ROM_MAX_IMAGES) {
			r = finding(info, DIAG_FAIL, "rom-images", off,
				    "more than %d images, giving up", ROM_MAX_IMAGES);
			if (r < 0)
				return r;
			break;
		}
		if (info->n_images > 0 && len - off >= 2 &&
		    (p[off] != ROM_SIG0 || p[off + 1] != ROM_SIG1) &&
		    all_padding(p + off, len - off)) {
			/* a ROM BAR dump padded after an image that lacks the last flag */
			r = finding(info, DIAG_WARN, "rom-no-last",
				    info->images[info->n_images - 1].offset,
				    "the last image does not have the last-image flag set");
			if (r < 0)
				return r;
			off = len;
			break;
		}
		if (info->n_images > 0 && len - off >= 2 &&
		    (p[off] != ROM_SIG0 || p[off + 1] != ROM_SIG1)) {
			r = finding(
			    info, DIAG_WARN, "rom-no-last", off,
			    "no further image here although the image at 0x%zx is not marked "
			    "last; %zu bytes ignored",
			    info->images[info->n_images - 1].offset, len - off);
			if (r < 0)
				return r;
			off = len;
			break;
		}
		r = decode_image(info, p, len, off, &next);
		if (r < 0)
			return r;
		if (r == 0) {
			off = next;
			break;
		}
		off = next;
		if (off >= len) {
			r = finding(info, DIAG_WARN, "rom-no-last",
				    info->images[info->n_images - 1].offset,
				    "the last image does not have the last-image flag set");
			if (r < 0)
				return r;
		}
	}
	if (info->valid && off < len && off > 0 && info->n_images > 0 &&
	    info->images[info->n_images - 1].last) {
		r = finding(info, DIAG_INFO, "rom-trailing", off,
			    "%zu bytes after the last image%s", len - off,
			    all_padding(p + off, len - off) ? " (padding)" : ", ignored");
		if (r < 0)
			return r;
	}
	if (info->valid) {
		r = diag_add(&info->diags, DIAG_PASS, "rom-valid", NULL, "%zu image%s, %zu bytes",
			     info->n_images, info->n_images == 1 ? "" : "s", len);
		if (r < 0)
			return r;
	} else {
		for (size_t i = 0; i < info->diags.n; i++)
			if (info->diags.items[i].status == DIAG_FAIL) {
				info->error = info->diags.items[i].message;
				break;
			}
	}
	*ret = TAKE_PTR(info);
	return 0;
}

bool rom_has_x64_efi(const struct rom_info *info)
{
	for (size_t i = 0; i < info->n_images; i++) {
		const struct rom_image *im = &info->images[i];

		if (im->code_type == ROM_CODE_EFI && im->efi_signature_ok &&
		    im->efi_machine == ROM_EFI_MACHINE_X64 && im->available == im->length)
			return true;
	}
	return false;
}

int rom_check_for_device(const struct rom_info *info, uint16_t vendor, uint16_t device, bool is_gop,
			 struct diag_list *diags)
{
	bool display_legacy = false;
	int r;

	for (size_t i = 0; i < info->n_images; i++) {
		const struct rom_image *im = &info->images[i];

		if (im->code_type == ROM_CODE_X86 && (im->class >> 16) == 0x03)
			display_legacy = true;
		if (im->vendor == vendor && im->device == device)
			continue;
		if (is_gop)
			r = diag_add(
			    diags, DIAG_INFO, "rom-id-mismatch", NULL,
			    "offset 0x%zx: GOP image is for %04x:%04x, not %04x:%04x (common "
			    "for AMD GOP ROMs, not an error)",
			    im->offset, im->vendor, im->device, vendor, device);
		else
			r = diag_add(
			    diags, DIAG_WARN, "rom-id-mismatch",
			    "Use the VBIOS extracted from this machine (`gpurun vbios "
			    "extract`).",
			    "offset 0x%zx: %s image is for %04x:%04x, not the target device "
			    "%04x:%04x",
			    im->offset, rom_code_type_to_string(im->code_type), im->vendor,
			    im->device, vendor, device);
		if (r < 0)
			return r;
	}
	if (!is_gop && !display_legacy) {
		r = diag_add(diags, DIAG_WARN, "rom-no-legacy-display", NULL,
			     "no legacy x86 image of a display class (base class 03) in the VBIOS");
		if (r < 0)
			return r;
	}
	if (rom_has_x64_efi(info))
		return 0;
	if (is_gop)
		return diag_add(diags, DIAG_FAIL, "rom-no-efi",
				"Use the AMD GOP driver ROM (AMDGopDriver.rom) built for x64.",
				"the GOP ROM contains no x64 EFI image");
	return diag_add(diags, DIAG_WARN, "rom-no-efi",
			"Add a GOP ROM (profile `gop_rom`) or use `gpurun rom combine`.",
			"no x64 EFI image: the guest firmware will show no picture until the OS "
			"driver loads");
}

static void set_last(uint8_t *img, size_t pcir_off, bool last)
{
	if (last)
		img[pcir_off + 0x15] |= 0x80;
	else
		img[pcir_off + 0x15] &= 0x7f;
}

int rom_combine(const void *vbios, size_t vbios_len, const void *gop, size_t gop_len, uint8_t **ret,
		size_t *ret_len, struct error *err)
{
	_cleanup_(rom_info_freep) struct rom_info *vi = NULL, *gi = NULL;
	const struct rom_image *legacy = NULL, *efi = NULL;
	_cleanup_free_ uint8_t *out = NULL;
	size_t sumlen, fix, total;
	unsigned sum = 0;
	int r;

	r = rom_decode(vbios, vbios_len, &vi);
	if (r < 0)
		return r;
	r = rom_decode(gop, gop_len, &gi);
	if (r < 0)
		return r;
	for (size_t i = 0; i < vi->n_images && !legacy; i++)
		if (vi->images[i].code_type == ROM_CODE_X86 &&
		    vi->images[i].available == vi->images[i].length)
			legacy = &vi->images[i];
	for (size_t i = 0; i < gi->n_images && !efi; i++)
		if (gi->images[i].code_type == ROM_CODE_EFI && gi->images[i].efi_signature_ok &&
		    gi->images[i].efi_machine == ROM_EFI_MACHINE_X64 &&
		    gi->images[i].available == gi->images[i].length)
			efi = &gi->images[i];
	if (!legacy)
		return error_set(err, EBADMSG, "the VBIOS has no complete legacy x86 image");
	if (!efi)
		return error_set(err, EBADMSG, "the GOP ROM has no complete x64 EFI image");

	total = legacy->length + efi->length;
	out = malloc(total);
	if (!out)
		return -ENOMEM;
	memcpy(out, (const uint8_t *)vbios + legacy->offset, legacy->length);
	memcpy(out + legacy->length, (const uint8_t *)gop + efi->offset, efi->length);
	set_last(out, legacy->pcir_offset, false);
	set_last(out + legacy->length, efi->pcir_offset, true);

	/* Clearing the last flag changed the legacy image's sum: rebalance it in the byte its
	 * producer keeps for that (ATOM BIOSes: 0x21), else in the last byte of the image. */
	sumlen = legacy->init_size > 0 && legacy->init_size <= legacy->length ? legacy->init_size
									      : legacy->length;
	fix = legacy->atom ? ATOM_CHECKSUM_OFFSET : sumlen - 1;
	if (fix == legacy->pcir_offset + 0x15 || fix < ROM_HDR_MIN)
		return error_set(err, EBADMSG, "no place for the legacy image checksum");
	out[fix] = 0;
	for (size_t i = 0; i < sumlen; i++)
		sum += out[i];
	out[fix] = (uint8_t)(0x100 - (sum & 0xff));

	*ret = TAKE_PTR(out);
	*ret_len = total;
	return 0;
}

char *vbios_name(uint16_t vendor, uint16_t device)
{
	char *s;

	if (asprintf(&s, "vbios_%04x_%04x.bin", vendor, device) < 0)
		return NULL;
	return s;
}

int rom_validate_for_guest(const void *buf, size_t len, bool is_gop, struct error *err)
{
	_cleanup_(rom_info_freep) struct rom_info *info = NULL;
	int r;

	r = rom_decode(buf, len, &info);
	if (r < 0)
		return error_set(err, r, "%s", strerror(-r));
	if (info->n_images == 0)
		return error_set(err, EINVAL, "not a PCI option ROM (see `gpurun rom info`)");
	if (is_gop && !rom_has_x64_efi(info))
		return error_set(err, EINVAL,
				 "GOP ROM without an x64 EFI image: OVMF cannot load it");
	return 0;
}
