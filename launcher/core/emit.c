/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The emitter table (`gpurun emit NAME`, aliases `gpurun args|xml|proxmox`) and what the
 * emitters share. Each output lives in its own emit-*.c and is reached only through its entry
 * function here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/emit.h"
#include "util/strutil.h"
#include "util/strv.h"

const struct emitter emitters[_EMIT_KIND_MAX] = {
	[EMIT_QEMU] = {
		.name = "qemu",
		.alias = "args",
		.description = "QEMU command line",
		.emit = emit_qemu,
	},
	[EMIT_LIBVIRT] = {
		.name = "libvirt",
		.alias = "xml",
		.description = "libvirt domain XML",
		.needs_template = true,
		.takes_managed = true,
		.emit = emit_libvirt,
	},
	[EMIT_PROXMOX] = {
		.name = "proxmox",
		.alias = "proxmox",
		.description = "Proxmox VE config lines",
		.names_rom_files = true,
		.takes_args = true,
		.takes_mapping = true,
		.emit = emit_proxmox,
	},
};

const struct emitter *emitter_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(emitters); i++)
		if (streq(emitters[i].name, name) || streq(emitters[i].alias, name))
			return &emitters[i];
	return NULL;
}

const char *emitter_suggest(const char *name)
{
	const char *cands[2 * _EMIT_KIND_MAX];

	for (size_t i = 0; i < ELEMENTSOF(emitters); i++) {
		cands[2 * i] = emitters[i].name;
		cands[2 * i + 1] = emitters[i].alias;
	}
	return str_closest(name, cands, ELEMENTSOF(cands));
}

char *emitter_names(void)
{
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *head = NULL;
	size_t n = ELEMENTSOF(emitters);

	for (size_t i = 0; i + 1 < n; i++)
		if (strv_extend(&l, emitters[i].name) < 0)
			return NULL;
	if (!l)
		return strdup(emitters[n - 1].name);
	head = strv_join(l, ", ");
	if (!head)
		return NULL;
	return strdup_printf("%s or %s", head, emitters[n - 1].name);
}

bool emit_has_control(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_-./:=,+@%", *s)))
			return false;
	return true;
}

char *emit_shell_quote(const char *s)
{
	size_t n = 2;
	char *r, *o;

	if (shell_safe(s))
		return strdup(s);
	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	r = malloc(n + 1);
	if (!r)
		return NULL;
	o = r;
	*o++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else
			*o++ = *c;
	}
	*o++ = '\'';
	*o = '\0';
	return r;
}

char *emit_shellwords_quote(const char *s)
{
	size_t n = 2;
	char *r, *o;

	if (*s && !strpbrk(s, " \t\n\v\f\r\"'\\"))
		return strdup(s);
	for (const char *c = s; *c; c++)
		n += strchr("\"\\", *c) ? 2 : 1;
	r = malloc(n + 1);
	if (!r)
		return NULL;
	o = r;
	*o++ = '"';
	for (const char *c = s; *c; c++) {
		if (*c == '"' || *c == '\\')
			*o++ = '\\';
		*o++ = *c;
	}
	*o++ = '"';
	*o = '\0';
	return r;
}

void emit_mac_address(const char *vm_name, char ret[static EMIT_MAC_MAX])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t m[6];

	for (const char *c = vm_name; c && *c; c++) {
		h ^= (unsigned char)*c;
		h *= 0x100000001b3ULL;
	}
	for (size_t i = 0; i < 6; i++)
		m[i] = (uint8_t)(h >> (8 * (7 - i)));
	/* bit 1 of the first octet: locally administered; bit 0 clear: unicast */
	m[0] = (uint8_t)((m[0] & 0xfc) | 0x02);
	snprintf(ret, EMIT_MAC_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
}
