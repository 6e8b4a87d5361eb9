/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "hostcfg/bootloader.h"
#include "hostcfg/cmdline-edit.h"
#include "util/fileio.h"
#include "util/lines.h"
#include "util/strv.h"

static const char *const hostcfg_boot_table[_HOSTCFG_BOOT_MAX] = {
	[HOSTCFG_BOOT_PROXMOX_SDBOOT] = "Proxmox VE, systemd-boot via proxmox-boot-tool",
	[HOSTCFG_BOOT_PROXMOX_GRUB] = "Proxmox VE, GRUB",
	[HOSTCFG_BOOT_GRUB] = "GRUB",
	[HOSTCFG_BOOT_SDBOOT] = "systemd-boot / kernel-install",
	[HOSTCFG_BOOT_UNKNOWN] = "unknown",
};

DEFINE_STRING_TABLE_LOOKUP(hostcfg_boot, enum hostcfg_boot, _HOSTCFG_BOOT_MAX)

static int set_argv(char ***dst, const char *a, const char *b, const char *c2, const char *d)
{
	const char *v[] = { a, b, c2, d };

	*dst = strv_new_empty();
	if (!*dst)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(v) && v[i]; i++)
		if (strv_extend(dst, v[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int wrong_kind(enum hostcfg_boot boot, enum hostcfg_file_kind kind, struct error *err)
{
	return error_set(err, EINVAL, "the bootloader '%s' has no file of kind '%s'",
			 strna(hostcfg_boot_to_string(boot)),
			 strna(hostcfg_file_kind_to_string(kind)));
}

static int load_entries(struct ctx *c, const struct bootloader_probe *p, struct hostcfg *cfg,
			struct error *err)
{
	int r = 0;

	for (char **i = p->entries; r >= 0 && *i; i++)
		r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_LOADER_ENTRY, *i, err);
	return r;
}

/* ---- Proxmox VE, systemd-boot through proxmox-boot-tool: etc/kernel/cmdline ---- */

static int pve_sdboot_detect(const struct ctx *c, const struct bootloader_probe *p,
			     char **ret_evidence)
{
	_cleanup_free_ char *buf = NULL, *t = NULL;
	bool zfs;

	if (!p->has_uuids || !p->has_kcmd)
		return 0;
	if (hostcfg_resolve(c->root, p->kcmd, &t) < 0)
		return -ENOMEM;
	zfs = read_full_file(t, HOSTCFG_FILE_MAX, &buf, NULL) >= 0 && strstr(buf, "root=ZFS=");
	if (asprintf(ret_evidence, "%s and %s exist%s", hostcfg_host_name(c, p->kcmd),
		     hostcfg_host_name(c, p->uuids), zfs ? "; root on ZFS (root=ZFS=)" : "") < 0)
		return -ENOMEM;
	return 1;
}

static int pve_sdboot_load(struct ctx *c, const struct bootloader_probe *p, struct hostcfg *cfg,
			   struct error *err)
{
	return hostcfg_load_file(c, cfg, HOSTCFG_FILE_CMDLINE, p->kcmd, err);
}

static int pve_sdboot_edit(enum hostcfg_file_kind kind, const char *buf, size_t len,
			   char *const *add, char **ret, struct error *err)
{
	if (kind != HOSTCFG_FILE_CMDLINE)
		return wrong_kind(HOSTCFG_BOOT_PROXMOX_SDBOOT, kind, err);
	return cmdline_edit(buf, len, add, ret, err);
}

static int pve_refresh_argv(const struct ctx *c, const struct bootloader_probe *p, char ***ret)
{
	(void)c, (void)p;
	return set_argv(ret, "proxmox-boot-tool", "refresh", NULL, NULL);
}

/* ---- GRUB: etc/default/grub, its drop-ins, and the loader entries when BLS is on ---- */

static bool grub_bls_enabled(const struct hostcfg_file *f)
{
	_cleanup_strv_free_ char **lines = NULL;
	bool on = false;

	if (!f->old || lines_split(f->old, f->old_len, &lines, NULL) < 0)
		return false;
	for (size_t i = 0; lines[i]; i++) {
		const char *p = lines[i] + strspn(lines[i], " \t");

		if (startswith(p, "GRUB_ENABLE_BLSCFG="))
			on = startswith(p + 19, "true") || startswith(p + 19, "\"true\"");
	}
	return on;
}

static int grub_load(struct ctx *c, const struct bootloader_probe *p, struct hostcfg *cfg,
		     struct error *err)
{
	_cleanup_strv_free_ char **drop = NULL;
	size_t grub_idx = cfg->n_files;
	int r;

	r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_GRUB, p->grub, err);
	if (r < 0)
		return r;
	r = hostcfg_list_dir(p->grubd, ".cfg", &drop);
	for (char **i = drop; r >= 0 && *i; i++)
		r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_GRUB_DROPIN, *i, err);
	/* Fedora: with BLS the entries carry their own options, grub.cfg does not */
	if (r >= 0 && grub_bls_enabled(&cfg->files[grub_idx]))
		r = load_entries(c, p, cfg, err);
	return r;
}

static int grub_edit_file(enum hostcfg_boot boot, enum hostcfg_file_kind kind, const char *buf,
			  size_t len, char *const *add, char **ret, struct error *err)
{
	if (kind == HOSTCFG_FILE_GRUB)
		return cmdline_grub_edit(buf, len, add, ret, err);
	if (kind == HOSTCFG_FILE_LOADER_ENTRY)
		return cmdline_entry_edit(buf, len, add, ret, err);
	return wrong_kind(boot, kind, err);
}

/* ---- Proxmox VE, GRUB ---- */

static int pve_grub_detect(const struct ctx *c, const struct bootloader_probe *p,
			   char **ret_evidence)
{
	if (!(p->has_uuids || p->has_pve) || !p->has_grub)
		return 0;
	if (asprintf(ret_evidence, "%s exists and %s", hostcfg_host_name(c, p->grub),
		     p->has_uuids ? "proxmox-boot-tool manages the ESPs (proxmox-boot-uuids)"
				  : "this is a Proxmox VE host (/etc/pve)") < 0)
		return -ENOMEM;
	return 1;
}

static int pve_grub_edit(enum hostcfg_file_kind kind, const char *buf, size_t len, char *const *add,
			 char **ret, struct error *err)
{
	return grub_edit_file(HOSTCFG_BOOT_PROXMOX_GRUB, kind, buf, len, add, ret, err);
}

static int pve_grub_refresh_argv(const struct ctx *c, const struct bootloader_probe *p, char ***ret)
{
	(void)c;
	return p->has_uuids ? set_argv(ret, "proxmox-boot-tool", "refresh", NULL, NULL)
			    : set_argv(ret, "update-grub", NULL, NULL, NULL);
}

/* ---- GRUB ---- */

static int grub_detect(const struct ctx *c, const struct bootloader_probe *p, char **ret_evidence)
{
	if (!p->has_grub || !(p->grub_dir || strv_length(p->entries) == 0 || !p->has_kcmd))
		return 0;
	if (asprintf(ret_evidence, "%s exists%s", hostcfg_host_name(c, p->grub),
		     p->grub_dir ? " and a GRUB directory under /boot" : "") < 0)
		return -ENOMEM;
	return 1;
}

static int grub_edit(enum hostcfg_file_kind kind, const char *buf, size_t len, char *const *add,
		     char **ret, struct error *err)
{
	return grub_edit_file(HOSTCFG_BOOT_GRUB, kind, buf, len, add, ret, err);
}

static int grub_refresh_argv(const struct ctx *c, const struct bootloader_probe *p, char ***ret)
{
	_cleanup_free_ char *out = NULL;

	if (strv_contains(p->os_ids, "debian") || strv_contains(p->os_ids, "ubuntu"))
		return set_argv(ret, "update-grub", NULL, NULL, NULL);
	if (hostcfg_exists_under(c->boot, "grub2") || strv_contains(p->os_ids, "fedora") ||
	    strv_contains(p->os_ids, "rhel")) {
		out = path_join(c->boot, "grub2/grub.cfg");
		return out ? set_argv(ret, "grub2-mkconfig", "-o", out, NULL) : -ENOMEM;
	}
	out = path_join(c->boot, "grub/grub.cfg");
	return out ? set_argv(ret, "grub-mkconfig", "-o", out, NULL) : -ENOMEM;
}

/* ---- systemd-boot / kernel-install: etc/kernel/cmdline and the loader entries ---- */

static int sdboot_detect(const struct ctx *c, const struct bootloader_probe *p, char **ret_evidence)
{
	if (!p->has_kcmd && strv_length(p->entries) == 0)
		return 0;
	if (asprintf(ret_evidence, "%s%s%s%s", p->has_kcmd ? hostcfg_host_name(c, p->kcmd) : "",
		     p->has_kcmd ? " exists" : "", p->has_kcmd && p->entries[0] ? " and " : "",
		     p->entries[0]
			 ? "loader entries with options lines under /boot, /boot/efi or /efi"
			 : "") < 0)
		return -ENOMEM;
	return 1;
}

static int sdboot_load(struct ctx *c, const struct bootloader_probe *p, struct hostcfg *cfg,
		       struct error *err)
{
	int r = 0;

	if (p->has_kcmd)
		r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_CMDLINE, p->kcmd, err);
	if (r >= 0)
		r = load_entries(c, p, cfg, err);
	return r;
}

static int sdboot_edit(enum hostcfg_file_kind kind, const char *buf, size_t len, char *const *add,
		       char **ret, struct error *err)
{
	if (kind == HOSTCFG_FILE_CMDLINE)
		return cmdline_edit(buf, len, add, ret, err);
	if (kind == HOSTCFG_FILE_LOADER_ENTRY)
		return cmdline_entry_edit(buf, len, add, ret, err);
	return wrong_kind(HOSTCFG_BOOT_SDBOOT, kind, err);
}

/* ---- not recognised: nothing is written, compute says where the parameters go ---- */

static int unknown_detect(const struct ctx *c, const struct bootloader_probe *p,
			  char **ret_evidence)
{
	if (asprintf(ret_evidence, "none of %s, %s or loader entries under %s/loader/entries exist",
		     hostcfg_host_name(c, p->grub), hostcfg_host_name(c, p->kcmd),
		     hostcfg_host_name(c, c->boot)) < 0)
		return -ENOMEM;
	return 1;
}

/* In detection order. */
static const struct bootloader_ops bootloader_table[_HOSTCFG_BOOT_MAX] = {
	[HOSTCFG_BOOT_PROXMOX_SDBOOT] = {
		.boot = HOSTCFG_BOOT_PROXMOX_SDBOOT,
		.detect = pve_sdboot_detect,
		.load = pve_sdboot_load,
		.edit = pve_sdboot_edit,
		.refresh_argv = pve_refresh_argv,
	},
	[HOSTCFG_BOOT_PROXMOX_GRUB] = {
		.boot = HOSTCFG_BOOT_PROXMOX_GRUB,
		.detect = pve_grub_detect,
		.load = grub_load,
		.edit = pve_grub_edit,
		.refresh_argv = pve_grub_refresh_argv,
	},
	[HOSTCFG_BOOT_GRUB] = {
		.boot = HOSTCFG_BOOT_GRUB,
		.detect = grub_detect,
		.load = grub_load,
		.edit = grub_edit,
		.refresh_argv = grub_refresh_argv,
	},
	[HOSTCFG_BOOT_SDBOOT] = {
		.boot = HOSTCFG_BOOT_SDBOOT,
		.detect = sdboot_detect,
		.load = sdboot_load,
		.edit = sdboot_edit,
	},
	[HOSTCFG_BOOT_UNKNOWN] = {
		.boot = HOSTCFG_BOOT_UNKNOWN,
		.detect = unknown_detect,
	},
};

const struct bootloader_ops *bootloader_get(enum hostcfg_boot boot)
{
	if ((unsigned)boot >= _HOSTCFG_BOOT_MAX)
		return NULL;
	return &bootloader_table[boot];
}

static void probe_done(struct bootloader_probe *p)
{
	free(p->kcmd);
	free(p->uuids);
	free(p->grub);
	free(p->grubd);
	strv_free(p->entries);
}

static int probe(struct ctx *c, char *const *os_ids, struct bootloader_probe *p)
{
	_cleanup_free_ char *pve = path_join(c->etc, "pve");
	_cleanup_free_ char *ent1 = path_join(c->boot, "loader/entries");
	_cleanup_free_ char *ent2 = path_join(c->boot, "efi/loader/entries");
	/* bootctl's other ESP / XBOOTLDR mount point */
	_cleanup_free_ char *ent3 = path_join(c->root, "efi/loader/entries");
	_cleanup_strv_free_ char **more = NULL;
	int r;

	p->kcmd = path_join(c->etc, "kernel/cmdline");
	p->uuids = path_join(c->etc, "kernel/proxmox-boot-uuids");
	p->grub = path_join(c->etc, "default/grub");
	p->grubd = path_join(c->etc, "default/grub.d");
	if (!p->kcmd || !p->uuids || !pve || !p->grub || !p->grubd || !ent1 || !ent2 || !ent3)
		return -ENOMEM;
	r = hostcfg_list_dir(ent1, ".conf", &p->entries);
	if (r < 0)
		return r;
	r = hostcfg_list_dir(ent2, ".conf", &more);
	if (r < 0)
		return r;
	for (char **i = more; *i; i++)
		if ((r = strv_extend(&p->entries, *i)) < 0)
			return r;
	more = strv_free(more);
	r = hostcfg_list_dir(ent3, ".conf", &more);
	if (r < 0)
		return r;
	for (char **i = more; *i; i++)
		if ((r = strv_extend(&p->entries, *i)) < 0)
			return r;
	p->os_ids = os_ids;
	{
		_cleanup_free_ char *t = NULL;

		/* a symlinked cmdline counts: its absolute target is under the root */
		r = hostcfg_resolve(c->root, p->kcmd, &t);
		if (r < 0)
			return r;
		p->has_kcmd = hostfs_exists(t);
	}
	p->has_uuids = hostfs_exists(p->uuids);
	p->has_pve = hostfs_is_dir(pve);
	p->has_grub = hostfs_exists(p->grub);
	p->grub_dir =
	    hostcfg_exists_under(c->boot, "grub") || hostcfg_exists_under(c->boot, "grub2");
	return 0;
}

static int load(struct ctx *c, char *const *os_ids, struct hostcfg *cfg, struct error *err)
{
	struct bootloader_probe p = {};
	const struct bootloader_ops *row = NULL;
	int r;

	r = probe(c, os_ids, &p);
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(bootloader_table) && !row; i++) {
		char *evidence = NULL;

		r = bootloader_table[i].detect(c, &p, &evidence);
		if (r > 0) {
			row = &bootloader_table[i];
			free(cfg->boot_evidence);
			cfg->boot_evidence = evidence;
		}
	}
	if (r >= 0 && row) {
		cfg->boot = row->boot;
		if (row->refresh_argv)
			r = row->refresh_argv(c, &p, &cfg->refresh_argv);
		if (r >= 0 && row->load)
			r = row->load(c, &p, cfg, err);
	}
	probe_done(&p);
	return r < 0 ? r : 0;
}

int bootloader_load(struct ctx *c, char *const *os_ids, struct hostcfg *cfg, struct error *err)
{
	return error_set_errno(err, load(c, os_ids, cfg, err));
}

int bootloader_edit(enum hostcfg_boot boot, enum hostcfg_file_kind kind, const char *buf,
		    size_t len, char *const *add, char **ret, struct error *err)
{
	const struct bootloader_ops *row = bootloader_get(boot);

	if (!row || !row->edit)
		return wrong_kind(boot, kind, err);
	return row->edit(kind, buf, len, add, ret, err);
}

int bootloader_file_cmdline(enum hostcfg_file_kind kind, const char *buf, size_t len, char ***ret,
			    struct error *err)
{
	if (!buf) {
		*ret = strv_new_empty();
		return *ret ? 0 : error_set_errno(err, -ENOMEM);
	}
	switch (kind) {
	case HOSTCFG_FILE_CMDLINE:
		/* what the kernel takes: the tokens before `--` (the rest is for init) */
		return cmdline_kernel_params(buf, len, ret, NULL, err);
	case HOSTCFG_FILE_GRUB:
		return cmdline_grub_tokens(buf, len, ret, err);
	case HOSTCFG_FILE_LOADER_ENTRY:
		return cmdline_entry_tokens(buf, len, ret, err);
	default:
		return error_set(err, EINVAL, "files of kind '%s' hold no kernel command line",
				 strna(hostcfg_file_kind_to_string(kind)));
	}
}
