/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the unit tests and the test tools: see testutil.h. No cmocka in here (the tools do
 * not link it); the cmocka glue is the inline part of testutil.h. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/hostfs.h"
#include "testutil.h"
#include "util/fileio.h"
#include "util/strv.h"

void (*testutil_fail_hook)(const char *msg);

void testutil_fail(const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (testutil_fail_hook)
		testutil_fail_hook(msg ? msg : fmt);
	else
		fprintf(stderr, "%s: %s\n", program_invocation_short_name, msg ? msg : fmt);
	free(msg);
	if (testutil_fail_hook)
		abort(); /* the hook should not have returned */
	exit(EXIT_FAILURE);
}

/* ---- temporary roots ---- */

char *testutil_mkroot(void)
{
	char *tmpl = NULL;

	if (asprintf(&tmpl, "/tmp/gpurun-%s.XXXXXX", program_invocation_short_name) < 0)
		testutil_fail("out of memory");
	if (!mkdtemp(tmpl))
		testutil_fail("mkdtemp %s: %s", tmpl, strerror(errno));
	return tmpl;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? errno : 0; /* positive: nftw itself fails with -1 */
}

void testutil_rmroot(char *root)
{
	int r;

	if (!root)
		return;
	r = nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (r != 0)
		testutil_fail("rm -rf %s: %s", root, strerror(r > 0 ? r : errno));
	free(root);
}

char *testutil_path(const char *root, const char *rel)
{
	char *p = path_join(root, rel);

	if (!p)
		testutil_fail("out of memory");
	return p;
}

void testutil_mkdir(const char *root, const char *rel)
{
	_cleanup_free_ char *p = testutil_path(root, rel);
	int r = hostfs_mkdir_p(p, 0755);

	if (r < 0)
		testutil_fail("mkdir -p %s: %s", p, strerror(-r));
}

void testutil_write_file(const char *path, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		testutil_fail("open %s: %s", path, strerror(errno));
	/* the umask must not decide the mode: tests compare it (a backup manifest records it) */
	if (fchmod(fd, 0644) < 0)
		testutil_fail("chmod %s: %s", path, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			testutil_fail("write %s: %s", path,
				      n < 0 ? strerror(errno) : "short write");
		b += n;
		len -= n;
	}
	if (close(fd) < 0)
		testutil_fail("close %s: %s", path, strerror(errno));
}

void testutil_write(const char *root, const char *rel, const void *buf, size_t len)
{
	_cleanup_free_ char *p = testutil_path(root, rel);
	char *slash = strrchr(p, '/');
	int r;

	if (slash && slash != p) {
		*slash = '\0';
		r = hostfs_mkdir_p(p, 0755);
		*slash = '/';
		if (r < 0)
			testutil_fail("mkdir -p for %s: %s", p, strerror(-r));
	}
	testutil_write_file(p, buf, len);
}

void testutil_put(const char *root, const char *rel, const char *content)
{
	testutil_write(root, rel, content, strlen(content));
}

void testutil_symlink(const char *root, const char *target, const char *rel)
{
	_cleanup_free_ char *p = testutil_path(root, rel);

	if (symlink(target, p) < 0)
		testutil_fail("ln -s %s %s: %s", target, p, strerror(errno));
}

static char *read_path(const char *root, const char *rel, bool optional)
{
	_cleanup_free_ char *p = testutil_path(root, rel);
	char *s = NULL;
	int r = read_full_file(p, 1 << 20, &s, NULL);

	if (r == -ENOENT && optional)
		return NULL;
	if (r < 0)
		testutil_fail("read %s: %s", p, strerror(-r));
	return s;
}

char *testutil_read(const char *root, const char *rel)
{
	return read_path(root, rel, false);
}

char *testutil_read_optional(const char *root, const char *rel)
{
	return read_path(root, rel, true);
}

/* ---- little-endian stores and tool arguments ---- */

void testutil_put16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

void testutil_put32(uint8_t *p, uint32_t v)
{
	testutil_put16(p, v & 0xffff);
	testutil_put16(p + 2, v >> 16);
}

int testutil_parse_hex(const char *s, unsigned long max, unsigned long *ret)
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

/* ---- option ROMs ---- */

static void rom_fill(uint8_t *b, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 12345u;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
}

static void rom_pcir(uint8_t *p, uint16_t vendor, uint16_t device, uint32_t class, size_t size,
		     uint8_t code_type, bool last)
{
	memcpy(p, "PCIR", 4);
	testutil_put16(p + 0x04, vendor);
	testutil_put16(p + 0x06, device);
	testutil_put16(p + 0x08, 0);	/* no VPD */
	testutil_put16(p + 0x0a, 0x18); /* structure length */
	p[0x0c] = 0;			/* structure revision */
	p[0x0d] = class & 0xff;
	p[0x0e] = (class >> 8) & 0xff;
	p[0x0f] = (class >> 16) & 0xff;
	testutil_put16(p + 0x10, size / 512);
	testutil_put16(p + 0x12, 1); /* code revision */
	p[0x14] = code_type;
	p[0x15] = last ? 0x80 : 0;
	testutil_put16(p + 0x16, 0);
}

static void rom_start(uint8_t *b, size_t size, uint16_t vendor, uint16_t device)
{
	if (size < 512 || size % 512 || size / 512 > 0xffff)
		testutil_fail("an option ROM image of %zu bytes: not 1 to 65535 blocks of 512",
			      size);
	rom_fill(b, size, (uint32_t)vendor << 16 | device);
	memset(b, 0, 0x80);
	b[0] = 0x55;
	b[1] = 0xaa;
}

void testutil_rom_legacy(uint8_t *b, size_t size, uint16_t vendor, uint16_t device, uint32_t class,
			 bool last, bool atom)
{
	unsigned sum = 0;

	if (size / 512 > 0xff)
		testutil_fail("a legacy image holds at most 255 blocks of 512 bytes, not %zu bytes",
			      size);
	rom_start(b, size, vendor, device);
	b[2] = size / 512;
	b[3] = 0xcb; /* init entry: retf */
	testutil_put16(b + 0x18, TESTUTIL_ROM_PCIR_OFFSET);
	rom_pcir(b + TESTUTIL_ROM_PCIR_OFFSET, vendor, device, class, size, 0, last);
	if (atom)
		memcpy(b + TESTUTIL_ROM_ATOM_OFFSET, "ATOMBIOSBK-AMD", 14);
	b[size - 1] = 0;
	for (size_t i = 0; i < size; i++)
		sum += b[i];
	b[size - 1] = (uint8_t)(0x100 - (sum & 0xff));
}

void testutil_rom_efi(uint8_t *b, size_t size, uint16_t vendor, uint16_t device, uint32_t class,
		      uint16_t machine, uint16_t compression, bool last)
{
	uint8_t *pe = b + TESTUTIL_ROM_EFI_PE_OFFSET;

	rom_start(b, size, vendor, device);
	testutil_put16(b + 0x02, size / 512);
	testutil_put32(b + 0x04, 0x0ef1);
	testutil_put16(b + 0x08, 11); /* boot-services driver */
	testutil_put16(b + 0x0a, machine);
	testutil_put16(b + 0x0c, compression);
	testutil_put16(b + 0x16, TESTUTIL_ROM_EFI_PE_OFFSET);
	testutil_put16(b + 0x18, TESTUTIL_ROM_EFI_PCIR_OFFSET);
	rom_pcir(b + TESTUTIL_ROM_EFI_PCIR_OFFSET, vendor, device, class, size, 3, last);
	/* a minimal PE/COFF header: MZ, e_lfanew = 0x40, "PE\0\0", machine */
	memset(pe, 0, 0x60);
	pe[0] = 'M';
	pe[1] = 'Z';
	testutil_put32(pe + 0x3c, 0x40);
	memcpy(pe + 0x40, "PE\0\0", 4);
	testutil_put16(pe + 0x44, machine);
}

/* ---- ACPI VFCT tables ---- */

static uint8_t *vfct_grow(struct testutil_vfct *t, size_t n)
{
	uint8_t *at;

	if (t->len + n > t->allocated) {
		size_t want = t->allocated ? t->allocated : 4096;
		uint8_t *b;

		while (want < t->len + n)
			want *= 2;
		b = realloc(t->b, want);
		if (!b)
			testutil_fail("out of memory");
		memset(b + t->allocated, 0, want - t->allocated);
		t->b = b;
		t->allocated = want;
	}
	at = t->b + t->len;
	t->len += n;
	return at;
}

static void put_padded(uint8_t *p, const char *s, size_t width)
{
	size_t n = strlen(s);

	memset(p, ' ', width);
	memcpy(p, s, n < width ? n : width);
}

void testutil_vfct_init(struct testutil_vfct *t, const char *oem_id, const char *oem_table_id,
			const char *creator_id)
{
	uint8_t *h;

	*t = (struct testutil_vfct){};
	h = vfct_grow(t, TESTUTIL_VFCT_HEADER);
	memcpy(h, "VFCT", 4);
	h[8] = 1; /* revision */
	put_padded(h + 10, oem_id, 6);
	put_padded(h + 16, oem_table_id, 8);
	testutil_put32(h + 24, 1); /* OEM revision */
	put_padded(h + 28, creator_id, 4);
	testutil_put32(h + 32, 1);			/* creator revision */
	testutil_put32(h + 0x34, TESTUTIL_VFCT_HEADER); /* VBIOSImageOffset */
}

size_t testutil_vfct_add(struct testutil_vfct *t, unsigned bus, unsigned dev, unsigned fn,
			 uint16_t vendor, uint16_t device, uint32_t claimed, const void *image,
			 size_t present)
{
	size_t off = t->len;
	uint8_t *h = vfct_grow(t, TESTUTIL_VFCT_RECORD + present);

	testutil_put32(h, bus);
	testutil_put32(h + 4, dev);
	testutil_put32(h + 8, fn);
	testutil_put16(h + 12, vendor);
	testutil_put16(h + 14, device);
	testutil_put16(h + 16, t->subsystem_vendor);
	testutil_put16(h + 18, t->subsystem_device);
	testutil_put32(h + 20, t->revision);
	testutil_put32(h + 24, claimed);
	if (image)
		memcpy(h + TESTUTIL_VFCT_RECORD, image, present);
	else
		for (size_t i = 0; i < present; i++)
			h[TESTUTIL_VFCT_RECORD + i] = (uint8_t)(i * 7 + bus);
	return off;
}

void testutil_vfct_pad(struct testutil_vfct *t, size_t n)
{
	vfct_grow(t, n); /* the bytes past len are zero */
}

void testutil_vfct_finish(struct testutil_vfct *t)
{
	unsigned sum = 0;

	testutil_put32(t->b + 4, t->len);
	t->b[9] = 0;
	for (size_t i = 0; i < t->len; i++)
		sum += t->b[i];
	t->b[9] = (uint8_t)(0x100 - (sum & 0xff));
}

void testutil_vfct_done(struct testutil_vfct *t)
{
	free(t->b);
	*t = (struct testutil_vfct){};
}

/* ---- struct host snapshots ---- */

struct host *testutil_host_new(void)
{
	struct host *h = calloc(1, sizeof(*h));

	if (!h)
		testutil_fail("out of memory");
	h->intremap = -1;
	return h;
}

struct pci_func *testutil_host_add(struct host *h, const char *addr, uint16_t vendor,
				   uint16_t device, uint32_t class, const char *driver, int group)
{
	struct pci_func *f;
	struct iommu_group *g = NULL;
	size_t idx;

	h->funcs = realloc(h->funcs, sizeof(*h->funcs) * (h->n_funcs + 1));
	if (!h->funcs)
		testutil_fail("out of memory");
	idx = h->n_funcs++;
	f = &h->funcs[idx];
	*f = (struct pci_func){ .iommu_group = group, .boot_vga = -1, .fb = -1 };
	if (pci_addr_parse(addr, f->address) < 0)
		testutil_fail("bad PCI address '%s'", addr);
	sscanf(f->address, "%x:%x:%x.%x", &f->domain, &f->bus, &f->dev, &f->func);
	f->vendor = vendor;
	f->device = device;
	f->class = class;
	f->is_bridge = (class >> 16) == 0x06;
	f->driver = driver ? strdup(driver) : NULL;
	f->reset_methods = calloc(1, sizeof(char *));
	if (group < 0)
		return f;
	for (size_t i = 0; i < h->n_groups; i++)
		if (h->groups[i].id == group)
			g = &h->groups[i];
	if (!g) {
		h->groups = realloc(h->groups, sizeof(*h->groups) * (h->n_groups + 1));
		if (!h->groups)
			testutil_fail("out of memory");
		g = &h->groups[h->n_groups++];
		*g = (struct iommu_group){ .id = group, .type = strdup("DMA") };
	}
	g->members = realloc(g->members, sizeof(size_t) * (g->n_members + 1));
	if (!g->members)
		testutil_fail("out of memory");
	g->members[g->n_members++] = idx;
	return f;
}

struct host *testutil_host_strix(void)
{
	struct host *h = testutil_host_new();

	testutil_host_add(h, "0000:00:08.1", 0x1022, 0x150c, 0x060400, "pcieport", 5);
	testutil_host_add(h, "0000:c4:00.0", 0x1002, 0x1586, 0x030000, "amdgpu", 14)->boot_vga = 1;
	testutil_host_add(h, "0000:c4:00.1", 0x1002, 0x1640, 0x040300, "snd_hda_intel", 14);
	testutil_host_add(h, "0000:c4:00.2", 0x1022, 0x17e0, 0x108000, "ccp", 15);
	testutil_host_add(h, "0000:c4:00.4", 0x1022, 0x1587, 0x0c0330, "xhci_hcd", 16);
	testutil_host_add(h, "0000:c4:00.5", 0x1022, 0x15e2, 0x048000, "snd_pci_acp6x", 17);
	testutil_host_add(h, "0000:c4:00.6", 0x1022, 0x15e3, 0x040300, "snd_hda_intel", 18);
	h->cpu_vendor = strdup("AuthenticAMD");
	h->cpu_virt = true;
	h->dev_kvm = true;
	h->intremap = 1;
	return h;
}

/* ---- planner paths ---- */

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		testutil_fail("out of memory");
	return p;
}

struct plan_paths testutil_plan_paths(bool with_ovmf)
{
	static const char *const ovmf[] = {
		"OVMF/OVMF_CODE_4M.fd",
		"OVMF/OVMF_VARS_4M.fd",
		"OVMF/OVMF_CODE_4M.secboot.fd",
		"OVMF/OVMF_VARS_4M.ms.fd",
	};
	struct plan_paths p = {
		.rom_dir = xstrdup("/R/var/lib/gpurun/roms"),
		.pve_rom_dir = xstrdup("/R/usr/share/kvm"),
		.state_dir = xstrdup("/R/run/gpurun"),
		.vars_dir = xstrdup("/R/var/lib/gpurun/vars"),
		.usr_share = xstrdup("/R/usr/share"),
		.ovmf_files = calloc(1, sizeof(char *)),
	};

	if (!p.ovmf_files)
		testutil_fail("out of memory");
	for (size_t i = 0; with_ovmf && i < ELEMENTSOF(ovmf); i++)
		if (strv_extend(&p.ovmf_files, ovmf[i]) < 0)
			testutil_fail("out of memory");
	return p;
}

/* ---- running the tests ---- */

bool testutil_case_selected(const char *filter, const char *name)
{
	const char *p = filter;

	if (!filter || !*filter)
		return true;
	while (*p) {
		size_t n = strcspn(p, ",");
		_cleanup_free_ char *pattern = strndup(p, n);

		if (!pattern)
			testutil_fail("out of memory");
		if (*pattern && fnmatch(pattern, name, 0) == 0)
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}
