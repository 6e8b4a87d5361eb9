/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mkrom: write a deterministic PCI option ROM image for tests.
 *
 *   mkrom legacy VENDOR DEVICE SIZE OUT [--class CCCCCC]
 *       one legacy x86 image (code type 0), PCIR at 0x40, last-image bit set, checksum byte at
 *       the end so that all bytes sum to 0 mod 256; "ATOMBIOSBK-AMD" at 0x60 when VENDOR is 1002.
 *   mkrom efi VENDOR DEVICE SIZE OUT [--class CCCCCC]
 *       one EFI image (code type 3, signature 0x0EF1, x64 boot-services driver, uncompressed,
 *       PE image at 0x60), last-image bit set: a GOP-like ROM.
 *
 * VENDOR, DEVICE and CLASS are hex; SIZE is decimal (or 0x hex), a multiple of 512. The filler
 * bytes come from a fixed generator seeded by the ids, so the same arguments give the same file. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCIR_OFF 0x40
#define EFI_PCIR_OFF 0x1c
#define EFI_PE_OFF 0x60
#define ATOM_OFF 0x60

static void put16(uint8_t *p, unsigned v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void put32(uint8_t *p, unsigned long v)
{
	put16(p, v & 0xffff);
	put16(p + 2, (v >> 16) & 0xffff);
}

static int parse_hex(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 16);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void fill(uint8_t *buf, size_t len, unsigned long seed)
{
	uint32_t x = (uint32_t)seed * 2654435761u + 12345u;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

static void put_pcir(uint8_t *p, unsigned long vendor, unsigned long device, unsigned long class,
		     size_t size, unsigned code_type)
{
	memcpy(p, "PCIR", 4);
	put16(p + 0x04, vendor);
	put16(p + 0x06, device);
	put16(p + 0x08, 0);    /* no VPD */
	put16(p + 0x0a, 0x18); /* structure length */
	p[0x0c] = 0;	       /* structure revision */
	p[0x0d] = class & 0xff;
	p[0x0e] = (class >> 8) & 0xff;
	p[0x0f] = (class >> 16) & 0xff;
	put16(p + 0x10, size / 512);
	put16(p + 0x12, 1); /* code revision */
	p[0x14] = code_type;
	p[0x15] = 0x80; /* last image */
	put16(p + 0x16, 0);
}

static int usage(void)
{
	fprintf(stderr, "usage: mkrom legacy|efi VENDOR DEVICE SIZE OUT [--class CCCCCC]\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long vendor, device, class = 0x030000, size;
	uint8_t *buf;
	char *end;
	bool efi;
	int fd;

	if (argc != 6 && argc != 8)
		return usage();
	if (strcmp(argv[1], "legacy") == 0)
		efi = false;
	else if (strcmp(argv[1], "efi") == 0)
		efi = true;
	else
		return usage();
	if (parse_hex(argv[2], 0xffff, &vendor) < 0 || parse_hex(argv[3], 0xffff, &device) < 0)
		return usage();
	errno = 0;
	size = strtoul(argv[4], &end, 0);
	if (errno || end == argv[4] || *end || size < 1024 || size % 512 || size > 0xffffUL * 512)
		return usage();
	if (!efi && size > 255 * 512) {
		fprintf(stderr, "mkrom: a legacy image holds at most 255 blocks of 512 bytes\n");
		return 2;
	}
	if (argc == 8) {
		if (strcmp(argv[6], "--class") != 0 || parse_hex(argv[7], 0xffffff, &class) < 0)
			return usage();
	}

	buf = malloc(size);
	if (!buf)
		return 1;
	fill(buf, size, vendor << 16 | device);
	memset(buf, 0, 0x80);
	buf[0] = 0x55;
	buf[1] = 0xaa;
	if (!efi) {
		unsigned sum = 0;

		buf[2] = size / 512;
		buf[3] = 0xcb; /* init entry: retf */
		put16(buf + 0x18, PCIR_OFF);
		put_pcir(buf + PCIR_OFF, vendor, device, class, size, 0);
		if (vendor == 0x1002)
			memcpy(buf + ATOM_OFF, "ATOMBIOSBK-AMD", 14);
		buf[size - 1] = 0;
		for (size_t i = 0; i < size; i++)
			sum += buf[i];
		buf[size - 1] = (uint8_t)(0x100 - (sum & 0xff));
	} else {
		uint8_t *pe = buf + EFI_PE_OFF;

		put16(buf + 0x02, size / 512);
		put32(buf + 0x04, 0x0ef1);
		put16(buf + 0x08, 11);	   /* boot-services driver */
		put16(buf + 0x0a, 0x8664); /* x64 */
		put16(buf + 0x0c, 0);	   /* uncompressed */
		put16(buf + 0x16, EFI_PE_OFF);
		put16(buf + 0x18, EFI_PCIR_OFF);
		put_pcir(buf + EFI_PCIR_OFF, vendor, device, class, size, 3);
		/* a minimal PE/COFF header: MZ, e_lfanew = 0x40, "PE\0\0", machine */
		memset(pe, 0, 0x60);
		pe[0] = 'M';
		pe[1] = 'Z';
		put32(pe + 0x3c, 0x40);
		memcpy(pe + 0x40, "PE\0\0", 4);
		put16(pe + 0x44, 0x8664);
	}

	fd = open(argv[5], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "mkrom: %s: %s\n", argv[5], strerror(errno));
		free(buf);
		return 1;
	}
	if (write(fd, buf, size) != (ssize_t)size || close(fd) < 0) {
		fprintf(stderr, "mkrom: %s: write failed: %s\n", argv[5], strerror(errno));
		free(buf);
		return 1;
	}
	free(buf);
	return 0;
}
