/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mkvfct: write a complete ACPI VFCT table for tests (what `qemu -acpitable file=` expects).
 *
 *   mkvfct OUT BUS DEV FN VENDOR DEVICE ROMFILE [BUS DEV FN VENDOR DEVICE ROMFILE]...
 *
 * BUS, VENDOR and DEVICE are hex, DEV and FN hex too (they are < 0x20 and < 8). One image
 * record per sextuple, back to back after the 76-byte header; subsystem ids and revision are 0.
 * OEMID "GPURUN", OEM table id "MKVFCT", creator "GPRN"; the checksum makes all bytes sum to 0. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VFCT_HDR 76
#define REC_HDR 28

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

static int read_all(const char *path, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > 16 * 1024 * 1024) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);
		if (n <= 0) {
			free(buf);
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		got += n;
	}
	close(fd);
	*ret = buf;
	*ret_len = got;
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *table;
	size_t len = VFCT_HDR;
	unsigned sum = 0;
	int fd;

	if (argc < 8 || (argc - 2) % 6 != 0) {
		fprintf(stderr, "usage: mkvfct OUT BUS DEV FN VENDOR DEVICE ROMFILE [...]\n");
		return 2;
	}
	table = calloc(1, VFCT_HDR);
	if (!table)
		return 1;
	for (int i = 2; i < argc; i += 6) {
		unsigned long bus, dev, fn, vendor, device;
		uint8_t *img = NULL, *n;
		size_t img_len = 0;
		int r;

		if (parse_hex(argv[i], 0xff, &bus) < 0 || parse_hex(argv[i + 1], 0x1f, &dev) < 0 ||
		    parse_hex(argv[i + 2], 7, &fn) < 0 ||
		    parse_hex(argv[i + 3], 0xffff, &vendor) < 0 ||
		    parse_hex(argv[i + 4], 0xffff, &device) < 0) {
			fprintf(stderr, "mkvfct: bad record '%s %s %s %s %s'\n", argv[i],
				argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4]);
			return 2;
		}
		r = read_all(argv[i + 5], &img, &img_len);
		if (r < 0) {
			fprintf(stderr, "mkvfct: %s: %s\n", argv[i + 5], strerror(-r));
			return 1;
		}
		n = realloc(table, len + REC_HDR + img_len);
		if (!n)
			return 1;
		table = n;
		memset(table + len, 0, REC_HDR);
		put32(table + len + 0, bus);
		put32(table + len + 4, dev);
		put32(table + len + 8, fn);
		put16(table + len + 12, vendor);
		put16(table + len + 14, device);
		put32(table + len + 24, img_len);
		memcpy(table + len + REC_HDR, img, img_len);
		free(img);
		len += REC_HDR + img_len;
	}

	memcpy(table, "VFCT", 4);
	put32(table + 4, len);
	table[8] = 1; /* revision */
	table[9] = 0; /* checksum, below */
	memcpy(table + 10, "GPURUN", 6);
	memcpy(table + 16, "MKVFCT  ", 8);
	put32(table + 24, 1);
	memcpy(table + 28, "GPRN", 4);
	put32(table + 32, 1);
	put32(table + 0x34, VFCT_HDR); /* VBIOSImageOffset */
	for (size_t i = 0; i < len; i++)
		sum += table[i];
	table[9] = (uint8_t)(0x100 - (sum & 0xff));

	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "mkvfct: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (write(fd, table, len) != (ssize_t)len || close(fd) < 0) {
		fprintf(stderr, "mkvfct: %s: write failed: %s\n", argv[1], strerror(errno));
		return 1;
	}
	free(table);
	return 0;
}
