/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hostinfo.h"
#include "core/libvirt-uri.h"
#include "core/profile.h"
#include "util/error.h"
#include "util/strutil.h"
#include "util/strv.h"

#define MEMORY_MIN_MIB 16ULL
#define MEMORY_MAX_MIB (16ULL * 1024 * 1024) /* 16T */
#define CPUS_MAX 1024U			     /* the longest cpu-pinning list read */
/* vCPUs: APIC ids above 255 need x2APIC with interrupt remapping, an emulated IOMMU with
 * extended interrupt mode that no output sets up: libvirt refuses such a domain, QEMU under TCG
 * refuses the -smp, and q35 stops at 288 anyway. One limit for every output. */
#define VCPUS_MAX 255U

static const char *const profile_firmware_table[_PROFILE_FIRMWARE_MAX] = {
	[PROFILE_FIRMWARE_UEFI] = "uefi",
	[PROFILE_FIRMWARE_UEFI_SECBOOT] = "uefi-secboot",
	[PROFILE_FIRMWARE_BIOS] = "bios",
};
static const char *const profile_backend_table[_PROFILE_BACKEND_MAX] = {
	[PROFILE_BACKEND_QEMU] = "qemu",
	[PROFILE_BACKEND_LIBVIRT] = "libvirt",
};
static const char *const profile_vbios_table[_PROFILE_VBIOS_MAX] = {
	[PROFILE_VBIOS_NONE] = "none",
	[PROFILE_VBIOS_VFCT] = "vfct",
	[PROFILE_VBIOS_SYSFS] = "sysfs",
	[PROFILE_VBIOS_FILE] = "file",
};
static const char *const profile_network_table[_PROFILE_NETWORK_MAX] = {
	[PROFILE_NETWORK_NONE] = "none",
	[PROFILE_NETWORK_USER] = "user",
	[PROFILE_NETWORK_BRIDGE] = "bridge",
};
DEFINE_STRING_TABLE_LOOKUP(profile_firmware, enum profile_firmware, _PROFILE_FIRMWARE_MAX)
DEFINE_STRING_TABLE_LOOKUP(profile_backend, enum profile_backend, _PROFILE_BACKEND_MAX)
DEFINE_STRING_TABLE_LOOKUP(profile_vbios, enum profile_vbios, _PROFILE_VBIOS_MAX)
DEFINE_STRING_TABLE_LOOKUP(profile_network, enum profile_network, _PROFILE_NETWORK_MAX)

bool profile_guest_is_windows(const struct profile *p)
{
	const char *base;

	if (!p->template)
		return false;
	base = strrchr(p->template, '/');
	base = base ? base + 1 : p->template;
	return strncasecmp(base, "win", 3) == 0;
}

const char *profile_disk_format(const char *path)
{
	size_t n = strlen(path);

	if (n >= 6 && strcasecmp(path + n - 6, ".qcow2") == 0)
		return "qcow2";
	return "raw";
}

struct profile *profile_free(struct profile *p)
{
	if (!p)
		return NULL;
	free(p->filename);
	free(p->name);
	free(p->cpu_pinning);
	free(p->pin_cpus);
	strv_free(p->disks);
	strv_free(p->cdroms);
	free(p->network_bridge);
	free(p->nvram);
	free(p->libvirt_uri);
	free(p->template);
	free(p->gpu_device);
	strv_free(p->gpu_functions);
	free(p->vbios_path);
	free(p->gop);
	strv_free(p->qemu_args);
	for (size_t i = 0; i < p->n_devices; i++) {
		free(p->devices[i].name);
		free(p->devices[i].address);
	}
	free(p->devices);
	free(p);
	return NULL;
}

enum section {
	SEC_NONE,
	SEC_VM,
	SEC_GPU,
	SEC_QEMU,
	SEC_DEVICE,
	_SEC_MAX,
};

static const char *const section_names[_SEC_MAX] = {
	[SEC_VM] = "vm",
	[SEC_GPU] = "gpu",
	[SEC_QEMU] = "qemu",
	[SEC_DEVICE] = "device",
};

struct parser {
	const char *filename;
	unsigned line; /* 0 while checking the whole file */
	enum section section;
	struct profile_device *device; /* current [device NAME] */
	struct error *err;	       /* the caller's, may be NULL */
	unsigned pinning_line;
	unsigned nvram_line;
};

/* Record "FILE:LINE: message" (LINE 0: "FILE: message") in the caller's error; -EINVAL. */
#define fail(ps, ...) error_set_line((ps)->err, EINVAL, (ps)->filename, (ps)->line, __VA_ARGS__)

typedef int (*setter_t)(struct parser *ps, struct profile *p, const char *key, const char *v);

struct key {
	enum section section;
	const char *name;
	bool repeatable;
	bool raw; /* value is word-split (args), not a single possibly-quoted value */
	setter_t set;
};

static int set_string(char **field, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

static bool valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

static int parse_bool(struct parser *ps, const char *key, const char *v, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return fail(ps, "'%s': invalid value '%s', expected yes or no", key, v);
}

static int parse_abs_path(struct parser *ps, const char *key, const char *v)
{
	if (v[0] != '/')
		return fail(ps, "'%s': '%s' is not an absolute path", key, v);
	return 0;
}

/* Unsigned decimal, no sign, no overflow. */
static int parse_u64(const char *s, const char **end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *c = s;

	if (!isdigit((unsigned char)*c))
		return -EINVAL;
	for (; isdigit((unsigned char)*c); c++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	*end = c;
	*ret = v;
	return 0;
}

static int set_name(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	if (!valid_name(v, 64))
		return fail(ps,
			    "'%s': invalid name '%s': use letters, digits, '-', '_' and '.', "
			    "starting with a letter or digit, at most 64 characters",
			    key, v);
	return set_string(&p->name, v);
}

static int set_memory(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	const char *end;
	uint64_t n, shift_kib;
	int r;

	r = parse_u64(v, &end, &n);
	if (r == -ERANGE)
		goto range;
	if (r < 0)
		goto bad;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift_kib = 0;
		end++;
		break;
	case '\0':
	case 'M':
		shift_kib = 10;
		if (*end)
			end++;
		break;
	case 'G':
		shift_kib = 20;
		end++;
		break;
	case 'T':
		shift_kib = 30;
		end++;
		break;
	default:
		goto bad;
	}
	if (strcasecmp(end, "") != 0 && strcasecmp(end, "B") != 0 && strcasecmp(end, "iB") != 0)
		goto bad;
	if (n > (UINT64_MAX >> 31))
		goto range;
	n <<= shift_kib; /* KiB */
	if (n % 1024)
		return fail(ps, "'%s': %s is not a whole number of MiB", key, v);
	n /= 1024;
	if (n < MEMORY_MIN_MIB || n > MEMORY_MAX_MIB)
		goto range;
	p->memory_mib = n;
	return 0;
bad:
	return fail(ps, "'%s': invalid size '%s', expected a number with K, M, G or T suffix", key,
		    v);
range:
	return fail(ps, "'%s': %s is out of range, allowed 16M to 16T", key, v);
}

static int set_cpus(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	const char *end;
	uint64_t n;

	if (parse_u64(v, &end, &n) < 0 || *end)
		return fail(ps, "'%s': invalid number '%s'", key, v);
	if (n < 1)
		return fail(ps, "'%s': %s is out of range, allowed 1 to %u", key, v, VCPUS_MAX);
	if (n > VCPUS_MAX)
		return fail(
		    ps,
		    "'%s': %s is out of range, allowed 1 to %u (more vCPUs need an emulated "
		    "IOMMU with extended interrupt mode, which gpurun does not set up)",
		    key, v, VCPUS_MAX);
	p->cpus = (unsigned)n;
	return 0;
}

static int set_cpu_pinning(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n = 0;
	int r;

	r = cpulist_parse(v, CPUS_MAX, &cpus, &n);
	if (r == -ENOMEM)
		return r;
	if (r == -ERANGE)
		return fail(ps, "'%s': invalid CPU range in '%s' (CPUs 0 to %u, low-high)", key, v,
			    CPULIST_CPU_MAX);
	if (r == -E2BIG)
		return fail(ps, "'%s': more than %u CPUs in '%s'", key, CPUS_MAX, v);
	if (r < 0)
		return fail(ps, "'%s': invalid CPU list '%s', expected e.g. 0-7,16-23", key, v);
	if (set_string(&p->cpu_pinning, v) < 0)
		return -ENOMEM;
	free(p->pin_cpus);
	p->pin_cpus = TAKE_PTR(cpus);
	p->n_pin_cpus = n;
	ps->pinning_line = ps->line;
	return 0;
}

static int set_bool_field(struct parser *ps, const char *key, const char *v, bool *field)
{
	return parse_bool(ps, key, v, field);
}

static int set_hugepages(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	return set_bool_field(ps, key, v, &p->hugepages);
}
static int set_tpm(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	return set_bool_field(ps, key, v, &p->tpm);
}
static int set_allow_boot_vga(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	return set_bool_field(ps, key, v, &p->allow_boot_vga);
}
static int set_x_vga(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	return set_bool_field(ps, key, v, &p->x_vga);
}

static int set_firmware(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	int i = profile_firmware_from_string(v);

	if (i < 0)
		return fail(ps, "'%s': invalid value '%s', allowed: uefi, uefi-secboot, bios", key,
			    v);
	p->firmware = (enum profile_firmware)i;
	return 0;
}

static int set_accel(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	if (!streq(v, "kvm") && !streq(v, "tcg"))
		return fail(ps, "'%s': invalid value '%s', allowed: kvm, tcg", key, v);
	p->accel_tcg = streq(v, "tcg");
	return 0;
}

static int set_backend(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	int i = profile_backend_from_string(v);

	if (i < 0)
		return fail(ps, "'%s': invalid value '%s', allowed: qemu, libvirt", key, v);
	p->backend = (enum profile_backend)i;
	return 0;
}

static int append_path(struct parser *ps, const char *key, const char *v, char ***l)
{
	int r = parse_abs_path(ps, key, v);

	if (r < 0)
		return r;
	return strv_extend(l, v);
}

static int set_disk(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	return append_path(ps, key, v, &p->disks);
}
static int set_cdrom(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	/* QEMU's if=ide drives on q35 are the ports of its one AHCI controller; a 7th has none,
	 * and libvirt would add a second controller the QEMU output does not have */
	if (strv_length(p->cdroms) >= PROFILE_MAX_CDROMS)
		return fail(ps, "'%s': at most %d cdroms (q35 has %d AHCI ports)", key,
			    PROFILE_MAX_CDROMS, PROFILE_MAX_CDROMS);
	return append_path(ps, key, v, &p->cdroms);
}

static int set_network(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	if (streq(v, "none"))
		p->network = PROFILE_NETWORK_NONE;
	else if (streq(v, "user"))
		p->network = PROFILE_NETWORK_USER;
	else if (startswith(v, "bridge:")) {
		if (!valid_name(v + 7, 15))
			return fail(ps, "'%s': invalid bridge name '%s'", key, v + 7);
		p->network = PROFILE_NETWORK_BRIDGE;
		return set_string(&p->network_bridge, v + 7);
	} else
		return fail(ps, "'%s': invalid value '%s', allowed: none, user, bridge:NAME", key,
			    v);
	p->network_bridge = mfree(p->network_bridge);
	return 0;
}

static int set_nvram(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	int r = parse_abs_path(ps, key, v);

	if (r < 0)
		return r;
	ps->nvram_line = ps->line;
	return set_string(&p->nvram, v);
}

static int set_libvirt_uri(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	_cleanup_(error_clear) struct error e = {};

	if (strpbrk(v, " \t"))
		return fail(ps, "'%s': '%s' contains whitespace", key, v);
	/* remote or local decides which host gpurun inspects and prepares: never guessed */
	if (libvirt_uri_is_remote(v, &e) < 0)
		return fail(ps, "'%s': %s", key, strna(e.message));
	return set_string(&p->libvirt_uri, v);
}

static int set_template(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	if (!strchr(v, '/') && !valid_name(v, 64))
		return fail(ps, "'%s': '%s' is neither a template name nor a path", key, v);
	return set_string(&p->template, v);
}

static int set_device(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	_cleanup_(error_clear) struct error why = {};
	struct pci_device_spec ds;

	/* the parser of every device name: "c4:00.8" is told that the function must be 0-7 */
	if (pci_device_spec_parse(v, &ds, &why) < 0)
		return fail(ps, "'%s': %s", key, strna(why.message));
	return set_string(&p->gpu_device, v);
}

static int set_functions(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	_cleanup_strv_free_ char **words = NULL, **addrs = NULL;
	int r;

	if (streq(v, "all")) {
		p->gpu_functions_all = true;
		p->gpu_functions = strv_free(p->gpu_functions);
		return 0;
	}
	r = strv_split(v, ", \t", &words);
	if (r < 0)
		return r;
	addrs = calloc(1, sizeof(char *));
	if (!addrs)
		return -ENOMEM;
	for (char **w = words; w && *w; w++) {
		_cleanup_(error_clear) struct error why = {};
		char addr[PCI_ADDR_MAX];

		/* an address-shaped word gets the parser's reason ("function must be 0-7") */
		if (pci_addr_parse_err(*w, addr, &why) < 0 && strchr(*w, '.'))
			return fail(ps, "'%s': %s", key, strna(why.message));
		if (error_is_set(&why))
			return fail(ps,
				    "'%s': '%s' is not a PCI address (expected all or a list "
				    "like 0000:c4:00.0, 0000:c4:00.1)",
				    key, *w);
		if (strv_contains(addrs, addr))
			return fail(ps, "'%s': %s is listed twice", key, addr);
		r = strv_extend(&addrs, addr);
		if (r < 0)
			return r;
	}
	if (!addrs[0])
		return fail(ps, "'%s': empty list", key);
	strv_free(p->gpu_functions);
	p->gpu_functions = TAKE_PTR(addrs);
	p->gpu_functions_all = false;
	return 0;
}

static int set_vbios(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	int i;

	if (v[0] == '/') {
		p->vbios = PROFILE_VBIOS_FILE;
		return set_string(&p->vbios_path, v);
	}
	/* "file" names the kind, not a value: a file is given by its path */
	i = profile_vbios_from_string(v);
	if (i < 0 || i == PROFILE_VBIOS_FILE)
		return fail(ps,
			    "'%s': invalid value '%s', allowed: vfct, sysfs, none, /path/file.rom",
			    key, v);
	p->vbios = (enum profile_vbios)i;
	p->vbios_path = mfree(p->vbios_path);
	return 0;
}

static int set_gop(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	int r = parse_abs_path(ps, key, v);

	return r < 0 ? r : set_string(&p->gop, v);
}

/* Split like a shell does, without any expansion: blanks separate words, '...' is literal,
 * "..." allows \" and \\, a backslash outside quotes escapes the next character. */
static int split_words(struct parser *ps, const char *key, const char *v, char ***l)
{
	const char *c = v;

	for (;;) {
		_cleanup_free_ char *w = NULL;
		size_t n = 0;
		bool have = false;

		while (*c == ' ' || *c == '\t')
			c++;
		if (!*c)
			return 0;
		w = malloc(strlen(c) + 1);
		if (!w)
			return -ENOMEM;
		while (*c && *c != ' ' && *c != '\t') {
			have = true;
			if (*c == '\'') {
				const char *e = strchr(c + 1, '\'');

				if (!e)
					return fail(ps, "'%s': unterminated ' quote", key);
				memcpy(w + n, c + 1, (size_t)(e - c - 1));
				n += (size_t)(e - c - 1);
				c = e + 1;
			} else if (*c == '"') {
				for (c++; *c != '"'; c++) {
					if (!*c)
						return fail(ps, "'%s': unterminated \" quote", key);
					if (*c == '\\' && (c[1] == '"' || c[1] == '\\'))
						c++;
					w[n++] = *c;
				}
				c++;
			} else if (*c == '\\') {
				if (!c[1])
					return fail(ps, "'%s': trailing backslash", key);
				w[n++] = c[1];
				c += 2;
			} else
				w[n++] = *c++;
		}
		if (have) {
			int r;

			w[n] = '\0';
			r = strv_consume(l, TAKE_PTR(w));
			if (r < 0)
				return r;
		}
	}
}

static int set_args(struct parser *ps, struct profile *p, const char *key, const char *v)
{
	size_t n = strv_length(p->qemu_args);
	int r;

	r = split_words(ps, key, v, &p->qemu_args);
	if (r < 0)
		return r;
	if (strv_length(p->qemu_args) == n)
		return fail(ps, "'%s': empty value", key);
	return 0;
}

static int set_dev_address(struct parser *ps, struct profile *p _unused_, const char *key,
			   const char *v)
{
	_cleanup_(error_clear) struct error why = {};
	char addr[PCI_ADDR_MAX];

	if (pci_addr_parse_err(v, addr, &why) < 0 && strchr(v, '.'))
		return fail(ps, "'%s': %s", key, strna(why.message));
	if (error_is_set(&why))
		return fail(ps, "'%s': '%s' is not a PCI address (0000:05:00.0)", key, v);
	return set_string(&ps->device->address, addr);
}

static const struct key keys[] = {
	{ SEC_VM, "name", false, false, set_name },
	{ SEC_VM, "memory", false, false, set_memory },
	{ SEC_VM, "cpus", false, false, set_cpus },
	{ SEC_VM, "cpu-pinning", false, false, set_cpu_pinning },
	{ SEC_VM, "hugepages", false, false, set_hugepages },
	{ SEC_VM, "firmware", false, false, set_firmware },
	{ SEC_VM, "tpm", false, false, set_tpm },
	{ SEC_VM, "disk", true, false, set_disk },
	{ SEC_VM, "cdrom", true, false, set_cdrom },
	{ SEC_VM, "network", false, false, set_network },
	{ SEC_VM, "nvram", false, false, set_nvram },
	{ SEC_VM, "accel", false, false, set_accel },
	{ SEC_VM, "backend", false, false, set_backend },
	{ SEC_VM, "libvirt-uri", false, false, set_libvirt_uri },
	{ SEC_VM, "template", false, false, set_template },
	{ SEC_GPU, "device", false, false, set_device },
	{ SEC_GPU, "functions", false, false, set_functions },
	{ SEC_GPU, "vbios", false, false, set_vbios },
	{ SEC_GPU, "gop", false, false, set_gop },
	{ SEC_GPU, "allow-boot-vga", false, false, set_allow_boot_vga },
	{ SEC_GPU, "x-vga", false, false, set_x_vga },
	{ SEC_QEMU, "args", true, true, set_args },
	{ SEC_DEVICE, "address", false, false, set_dev_address },
};

static int unknown_key(struct parser *ps, const char *key)
{
	const char *cands[ELEMENTSOF(keys)] = {};
	const char *best;
	const char *sec = section_names[ps->section];

	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (keys[i].section == ps->section)
			cands[i] = keys[i].name;
	best = str_closest(key, cands, ELEMENTSOF(keys));
	if (best)
		return fail(ps, "unknown key '%s' in [%s], did you mean '%s'?", key, sec, best);
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (streq(keys[i].name, key))
			return fail(ps, "unknown key '%s' in [%s]; it belongs in [%s]", key, sec,
				    section_names[keys[i].section]);
	return fail(ps, "unknown key '%s' in [%s]", key, sec);
}

static int parse_section(struct parser *ps, struct profile *p, const char *s)
{
	_cleanup_free_ char *head = NULL;
	const char *e = strchr(s, ']');
	const char *rest;
	char *name;
	size_t n;

	if (!e)
		return fail(ps, "missing ']' in section header");
	for (rest = e + 1; *rest == ' ' || *rest == '\t'; rest++)
		;
	if (*rest && *rest != '#' && *rest != ';')
		return fail(ps, "unexpected text after section header: '%s'", rest);
	head = strndup(s + 1, (size_t)(e - s - 1));
	if (!head)
		return -ENOMEM;
	/* trim */
	name = head;
	while (*name == ' ' || *name == '\t')
		name++;
	n = strlen(name);
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		name[--n] = '\0';

	ps->device = NULL;
	if (startswith(name, "device ") || startswith(name, "device\t")) {
		const char *dn = name + 7;
		struct profile_device *t;

		while (*dn == ' ' || *dn == '\t')
			dn++;
		if (!valid_name(dn, 64))
			return fail(ps, "invalid device name '%s' in [device NAME]", dn);
		for (size_t i = 0; i < p->n_devices; i++)
			if (streq(p->devices[i].name, dn))
				return fail(ps, "duplicate section [device %s] (first at line %u)",
					    dn, p->devices[i].line);
		t = realloc(p->devices, (p->n_devices + 1) * sizeof(*t));
		if (!t)
			return -ENOMEM;
		p->devices = t;
		t = &p->devices[p->n_devices];
		*t = (struct profile_device){ .name = strdup(dn), .line = ps->line };
		if (!t->name)
			return -ENOMEM;
		p->n_devices++;
		ps->device = t;
		ps->section = SEC_DEVICE;
		return 0;
	}
	for (int i = SEC_VM; i < SEC_DEVICE; i++)
		if (streq(name, section_names[i])) {
			ps->section = (enum section)i;
			return 0;
		}
	if (streq(name, "device"))
		return fail(ps, "section [device] needs a name: [device NAME]");
	{
		const char *best = str_closest(name, section_names, _SEC_MAX);

		if (best)
			return fail(ps, "unknown section [%s], did you mean [%s]?", name, best);
	}
	return fail(ps, "unknown section [%s] (known: [vm], [gpu], [qemu], [device NAME])", name);
}

/* Unquote a single value. @s starts at the first non-blank character after '='. */
static int parse_value(struct parser *ps, const char *key, const char *s, char **ret)
{
	_cleanup_free_ char *v = malloc(strlen(s) + 1);
	size_t n = 0;
	const char *c = s;

	if (!v)
		return -ENOMEM;
	if (*c == '"' || *c == '\'') {
		char q = *c++;

		for (; *c != q; c++) {
			if (!*c)
				return fail(ps, "'%s': unterminated %c quote", key, q);
			if (q == '"' && *c == '\\' && (c[1] == '"' || c[1] == '\\'))
				c++;
			v[n++] = *c;
		}
		for (c++; *c == ' ' || *c == '\t'; c++)
			;
		if (*c && *c != '#')
			return fail(ps, "'%s': unexpected text after the quoted value: '%s'", key,
				    c);
	} else {
		for (; *c; c++) {
			if (*c == '#' && (c == s || c[-1] == ' ' || c[-1] == '\t'))
				break;
			v[n++] = *c;
		}
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
	}
	v[n] = '\0';
	if (n == 0)
		return fail(ps, "'%s': empty value", key);
	*ret = TAKE_PTR(v);
	return 0;
}

/* For word-split values: cut the comment (a '#' outside quotes at the start of a word). */
static int strip_comment_raw(const char *s, char **ret)
{
	char q = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (q) {
			if (s[i] == q)
				q = 0;
			else if (q == '"' && s[i] == '\\' && s[i + 1])
				i++;
		} else if (s[i] == '\'' || s[i] == '"')
			q = s[i];
		else if (s[i] == '\\' && s[i + 1])
			i++;
		else if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t'))
			break;
	}
	*ret = strndup(s, i);
	return *ret ? 0 : -ENOMEM;
}

static int parse_assignment(struct parser *ps, struct profile *p, const char *s,
			    unsigned seen[ELEMENTSOF(keys)])
{
	_cleanup_free_ char *key = NULL, *value = NULL;
	const char *eq = strchr(s, '=');
	const struct key *k = NULL;
	size_t kl;
	int r;

	if (!eq)
		return fail(ps, "expected 'key = value' or '[section]', got '%s'", s);
	kl = (size_t)(eq - s);
	while (kl > 0 && (s[kl - 1] == ' ' || s[kl - 1] == '\t'))
		kl--;
	if (kl == 0)
		return fail(ps, "missing key before '='");
	key = strndup(s, kl);
	if (!key)
		return -ENOMEM;
	for (size_t i = 0; i < kl; i++)
		if (!isalnum((unsigned char)key[i]) && key[i] != '-' && key[i] != '_')
			return fail(ps, "invalid key name '%s'", key);
	if (ps->section == SEC_NONE)
		return fail(ps, "key '%s' outside a section (start with [vm])", key);

	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (keys[i].section == ps->section && streq(keys[i].name, key)) {
			k = &keys[i];
			if (!k->repeatable && ps->section != SEC_DEVICE) {
				if (seen[i])
					return fail(ps, "duplicate key '%s' (first at line %u)",
						    key, seen[i]);
				seen[i] = ps->line;
			}
			break;
		}
	if (!k)
		return unknown_key(ps, key);
	if (ps->section == SEC_DEVICE && ps->device->address)
		return fail(ps, "duplicate key '%s' in [device %s]", key, ps->device->name);

	for (eq++; *eq == ' ' || *eq == '\t'; eq++)
		;
	if (k->raw)
		r = strip_comment_raw(eq, &value);
	else
		r = parse_value(ps, key, eq, &value);
	if (r < 0)
		return r;
	return k->set(ps, p, key, value);
}

static int parse_line(struct parser *ps, struct profile *p, const char *line,
		      unsigned seen[ELEMENTSOF(keys)])
{
	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line || *line == '#' || *line == ';')
		return 0;
	if (*line == '[')
		return parse_section(ps, p, line);
	return parse_assignment(ps, p, line, seen);
}

static int parse(struct parser *ps, const void *buf, size_t len, struct profile **ret)
{
	_cleanup_(profile_freep) struct profile *p = NULL;
	unsigned seen[ELEMENTSOF(keys)] = {};
	const char *s = buf, *end = s + len;
	int r = 0;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (struct profile){
		.memory_mib = 4096,
		.cpus = 4,
		.firmware = PROFILE_FIRMWARE_UEFI,
		.network = PROFILE_NETWORK_USER,
		.backend = PROFILE_BACKEND_QEMU,
		.gpu_functions_all = true,
		.vbios = PROFILE_VBIOS_NONE,
	};
	p->filename = strdup(ps->filename);
	p->disks = calloc(1, sizeof(char *));
	p->cdroms = calloc(1, sizeof(char *));
	p->qemu_args = calloc(1, sizeof(char *));
	if (!p->filename || !p->disks || !p->cdroms || !p->qemu_args)
		return -ENOMEM;

	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) /* UTF-8 BOM */
		s += 3;
	while (s < end && r >= 0) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t ll = nl ? (size_t)(nl - s) : (size_t)(end - s);
		_cleanup_free_ char *line = NULL;

		ps->line++;
		if (ll > 0 && s[ll - 1] == '\r')
			ll--;
		for (size_t i = 0; i < ll; i++) {
			unsigned char ch = (unsigned char)s[i];

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				r = fail(ps, "control character 0x%02x at column %zu", ch, i + 1);
				break;
			}
		}
		if (r < 0)
			break;
		line = strndup(s, ll);
		if (!line)
			return -ENOMEM;
		r = parse_line(ps, p, line, seen);
		s = nl ? nl + 1 : end;
	}

	if (r >= 0) {
		ps->line = 0;
		if (!p->name)
			r = fail(ps, "missing required key 'name' in [vm]");
		else if (!p->gpu_device)
			r = fail(ps, "missing required key 'device' in [gpu]");
	}
	for (size_t i = 0; r >= 0 && i < p->n_devices; i++)
		if (!p->devices[i].address) {
			ps->line = p->devices[i].line;
			r = fail(ps, "[device %s] has no 'address'", p->devices[i].name);
		}
	if (r >= 0 && p->cpu_pinning && p->n_pin_cpus != p->cpus) {
		ps->line = ps->pinning_line;
		r = fail(ps, "'cpu-pinning': lists %zu host CPUs but cpus = %u", p->n_pin_cpus,
			 p->cpus);
	}
	/* SeaBIOS has no variable store: libvirt refuses <nvram> without a loader, QEMU would
	 * take no pflash for it, and gpurun would silently drop the file */
	if (r >= 0 && p->nvram && p->firmware == PROFILE_FIRMWARE_BIOS) {
		ps->line = ps->nvram_line;
		r = fail(ps,
			 "'nvram': a UEFI variable store, but firmware = bios (SeaBIOS keeps no "
			 "variables); remove the line or set firmware = uefi");
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

int profile_parse(const void *buf, size_t len, const char *filename, struct profile **ret,
		  struct error *err)
{
	struct parser ps = { .filename = filename ? filename : "<profile>", .err = err };
	int r;

	r = parse(&ps, buf, len, ret);
	/* fail() recorded -EINVAL with the line; the rest (-ENOMEM) is described here */
	if (r < 0 && r != -EINVAL)
		error_set_line(err, r, ps.filename, ps.line, "%s", strerror(-r));
	return r;
}
