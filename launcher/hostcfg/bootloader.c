/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "hostcfg/bootloader.h"
#include "hostcfg/cmdline-edit.h"
#include "util/fileio.h"
#include "util/lines.h"
#include "util/strutil.h"
#include "util/strv.h"

static const char *const hostcfg_boot_table[_HOSTCFG_BOOT_MAX] = {
	[HOSTCFG_BOOT_PROXMOX_SDBOOT] = "Proxmox VE, systemd-boot via proxmox-boot-tool",
	[HOSTCFG_BOOT_PROXMOX_GRUB] = "Proxmox VE, GRUB",
	[HOSTCFG_BOOT_KERNELSTUB] = "Pop!_OS, systemd-boot via kernelstub",
	[HOSTCFG_BOOT_FEDORA_BLS] = "GRUB with BLS entries via grubby",
	[HOSTCFG_BOOT_GRUB] = "GRUB",
	[HOSTCFG_BOOT_SDBOOT] = "systemd-boot / kernel-install",
	[HOSTCFG_BOOT_UNKNOWN] = "unknown",
};

DEFINE_STRING_TABLE_LOOKUP(hostcfg_boot, enum hostcfg_boot, _HOSTCFG_BOOT_MAX)

static const char *const hostcfg_tool_table[_HOSTCFG_TOOL_MAX] = {
	[HOSTCFG_TOOL_NONE] = "none",
	[HOSTCFG_TOOL_GRUBBY] = "grubby",
	[HOSTCFG_TOOL_KERNELSTUB] = "kernelstub",
};

DEFINE_STRING_TABLE_LOOKUP(hostcfg_tool, enum hostcfg_tool, _HOSTCFG_TOOL_MAX)

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

/* ---- Fedora / RHEL: grubby edits the BLS entries, etc/default/grub for what comes later ----
 * `grubby --update-kernel=ALL --args=` appends to the options line of every entry (after
 * removing a parameter of the same key); Fedora's grub2-mkconfig regenerates those options from
 * GRUB_CMDLINE_LINUX(_DEFAULT) when GRUB_ENABLE_BLSCFG is on, so /etc/default/grub must say the
 * same or the next grub2-mkconfig drops them. */

static int fedora_detect(const struct ctx *c, const struct bootloader_probe *p, char **ret_evidence)
{
	if (!p->grubby || !p->entries_boot ||
	    !(strv_contains(p->os_ids, "fedora") || strv_contains(p->os_ids, "rhel")))
		return 0;
	if (asprintf(ret_evidence, "%s is installed, BLS entries under %s/loader/entries",
		     hostcfg_host_name(c, p->grubby), hostcfg_host_name(c, c->boot)) < 0)
		return -ENOMEM;
	return 1;
}

static int fedora_load(struct ctx *c, const struct bootloader_probe *p, struct hostcfg *cfg,
		       struct error *err)
{
	_cleanup_strv_free_ char **drop = NULL, **entries = NULL;
	_cleanup_free_ char *dir = path_join(c->boot, "loader/entries");
	int r = 0;

	if (!dir)
		return -ENOMEM;
	cfg->tool.tool = HOSTCFG_TOOL_GRUBBY;
	cfg->tool.path = strdup(p->grubby);
	if (!cfg->tool.path)
		return -ENOMEM;
	if (p->has_grub)
		r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_GRUB, p->grub, err);
	if (r >= 0)
		r = hostcfg_list_dir(p->grubd, ".cfg", &drop);
	for (char **i = drop; r >= 0 && *i; i++)
		r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_GRUB_DROPIN, *i, err);
	/* grubby's BLS directory: /boot/loader/entries, also on EFI systems */
	if (r >= 0)
		r = hostcfg_list_dir(dir, ".conf", &entries);
	for (char **i = entries; r >= 0 && *i; i++)
		r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_TOOL_STATE, *i, err);
	return r;
}

static int fedora_edit(enum hostcfg_file_kind kind, const char *buf, size_t len, char *const *add,
		       char **ret, struct error *err)
{
	if (kind == HOSTCFG_FILE_GRUB)
		return cmdline_grub_edit(buf, len, add, ret, err);
	return wrong_kind(HOSTCFG_BOOT_FEDORA_BLS, kind, err);
}

/* ---- Pop!_OS: kernelstub keeps the options in its configuration and writes the ESP entry ----
 * `kernelstub -a "P..."` adds to "user": {"kernel_options": [...]} what is not there yet, and
 * `-d "P..."` takes them out again. */

static int kernelstub_detect(const struct ctx *c, const struct bootloader_probe *p,
			     char **ret_evidence)
{
	if (!p->has_kstub_cfg)
		return 0;
	if (asprintf(ret_evidence, "%s exists", hostcfg_host_name(c, p->kstub_cfg)) < 0)
		return -ENOMEM;
	return 1;
}

static int kernelstub_load(struct ctx *c, const struct bootloader_probe *p, struct hostcfg *cfg,
			   struct error *err)
{
	cfg->tool.tool = HOSTCFG_TOOL_KERNELSTUB;
	cfg->tool.path = strdup(p->kstub);
	if (!cfg->tool.path)
		return -ENOMEM;
	return hostcfg_load_file(c, cfg, HOSTCFG_FILE_TOOL_STATE, p->kstub_cfg, err);
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
	[HOSTCFG_BOOT_KERNELSTUB] = {
		.boot = HOSTCFG_BOOT_KERNELSTUB,
		.detect = kernelstub_detect,
		.load = kernelstub_load,
	},
	[HOSTCFG_BOOT_FEDORA_BLS] = {
		.boot = HOSTCFG_BOOT_FEDORA_BLS,
		.detect = fedora_detect,
		.load = fedora_load,
		.edit = fedora_edit,
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
	free(p->grubby);
	free(p->kstub);
	free(p->kstub_cfg);
	strv_free(p->entries);
}

static const char *const grubby_paths[] = { "usr/sbin/grubby", "usr/bin/grubby" };

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
	p->entries_boot = p->entries[0] != NULL;
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
	for (size_t i = 0; i < ELEMENTSOF(grubby_paths) && !p->grubby; i++) {
		_cleanup_free_ char *g = path_join(c->root[0] ? c->root : "/", grubby_paths[i]);

		if (!g)
			return -ENOMEM;
		if (hostfs_exists(g))
			p->grubby = TAKE_PTR(g);
	}
	p->kstub = path_join(c->root[0] ? c->root : "/", "usr/bin/kernelstub");
	p->kstub_cfg = path_join(c->etc, "kernelstub/configuration");
	if (!p->kstub || !p->kstub_cfg)
		return -ENOMEM;
	p->has_kstub_cfg = hostfs_exists(p->kstub_cfg);
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

/* "user": {"kernel_options": [...]} (a string of words in configurations before rev 3). */
static int kernelstub_options(const char *buf, size_t len, char ***ret, struct error *err)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	struct json_tokener *tok = json_tokener_new();
	json_object *root = NULL, *user, *opts;
	int r = 0;

	if (!l || !tok) {
		if (tok)
			json_tokener_free(tok);
		return error_set_errno(err, -ENOMEM);
	}
	root = json_tokener_parse_ex(tok, buf, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success)
		r = error_set(err, EINVAL, "not valid JSON: %s",
			      json_tokener_error_desc(json_tokener_get_error(tok)));
	else if (!json_object_object_get_ex(root, "user", &user) ||
		 !json_object_object_get_ex(user, "kernel_options", &opts))
		r = error_set(err, EINVAL, "no \"user\": {\"kernel_options\": ...}");
	else if (json_object_is_type(opts, json_type_string)) {
		const char *str = json_object_get_string(opts);

		r = cmdline_split(str, strlen(str), &l);
		if (r < 0)
			r = error_set_errno(err, r);
	} else if (json_object_is_type(opts, json_type_array)) {
		for (size_t i = 0; r >= 0 && i < json_object_array_length(opts); i++) {
			json_object *o = json_object_array_get_idx(opts, i);

			if (!json_object_is_type(o, json_type_string))
				r = error_set(err, EINVAL, "kernel_options: not a list of strings");
			else
				r = error_set_errno(err,
						    strv_extend(&l, json_object_get_string(o)));
		}
	} else
		r = error_set(err, EINVAL, "kernel_options: not a list of strings");
	json_object_put(root);
	json_tokener_free(tok);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(l);
	return 0;
}

int bootloader_tool_argv(enum hostcfg_tool tool, const char *path, char *const *params, bool remove,
			 char ***ret)
{
	_cleanup_free_ char *j = strv_join(params, " "), *a = NULL;

	if (!j)
		return -ENOMEM;
	switch (tool) {
	case HOSTCFG_TOOL_GRUBBY:
		a = strdup_printf("%s%s", remove ? "--remove-args=" : "--args=", j);
		return a ? set_argv(ret, path, "--update-kernel=ALL", a, NULL) : -ENOMEM;
	case HOSTCFG_TOOL_KERNELSTUB:
		return set_argv(ret, path, remove ? "-d" : "-a", j, NULL);
	default:
		return -EINVAL;
	}
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
	case HOSTCFG_FILE_TOOL_STATE:
		/* kernelstub's configuration is JSON, a BLS entry is not */
		if (buf[strspn(buf, " \t\n")] == '{')
			return kernelstub_options(buf, len, ret, err);
		return cmdline_entry_tokens(buf, len, ret, err);
	default:
		return error_set(err, EINVAL, "files of kind '%s' hold no kernel command line",
				 strna(hostcfg_file_kind_to_string(kind)));
	}
}
