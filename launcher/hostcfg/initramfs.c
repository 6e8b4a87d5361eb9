/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ctx.h"
#include "hostcfg/initramfs.h"
#include "hostcfg/modprobe-edit.h"
#include "util/fileio.h"
#include "util/lines.h"
#include "util/strutil.h"
#include "util/strv.h"

/* initramfs-tools: /etc/initramfs-tools/modules lists one module per line ("name [args]",
 * '#' comments); each listed module is loaded early in the initramfs, before udev probes the
 * GPU. The user's lines stay; the missing modules are appended. */
static int edit_modules_list(const char *buf, size_t len, char *const *mods, char **ret,
			     struct error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	int r;

	r = lines_split(buf, buf ? len : 0, &lines, err);
	if (r < 0)
		return r;
	for (char *const *m = mods; *m; m++) {
		bool have = false;

		for (size_t i = 0; lines[i] && !have; i++) {
			const char *p = lines[i] + strspn(lines[i], " \t");
			size_t n = strcspn(p, " \t#");
			_cleanup_free_ char *w = strndup(p, n);

			if (!w)
				return -ENOMEM;
			have = n > 0 && modprobe_modname_eq(w, *m);
		}
		if (!have && (r = strv_extend(&lines, *m)) < 0)
			return r;
	}
	return lines_join(lines, ret);
}

/* mkinitcpio sources /etc/mkinitcpio.conf, then every /etc/mkinitcpio.conf.d/NAME.conf (bash):
 * an array set there replaces the one before, so the drop-in prepends to MODULES instead. The
 * MODULES are loaded before udev and the kms hook's drivers; with the modconf hook (default)
 * the modprobe.d vfio-pci ids and softdeps are in the image too. The file is gpurun's own. */
static int edit_mkinitcpio(const char *buf, size_t len, char *const *mods, char **ret,
			   struct error *err)
{
	_cleanup_free_ char *j = strv_join((char **)mods, " ");

	(void)buf, (void)len, (void)err;
	if (!j)
		return -ENOMEM;
	*ret = strdup_printf("# Written by gpurun host-config: the vfio modules in the initramfs, "
			     "loaded before the\n# GPU's driver (the kms hook's drivers are "
			     "loaded later, by udev).\nMODULES=(%s \"${MODULES[@]}\")\n",
			     j);
	return *ret ? 0 : -ENOMEM;
}

/* dracut reads /etc/dracut.conf.d/NAME.conf; force_drivers are put into the image and loaded
 * with modprobe early, before udev. "+=" with spaces around the list, as dracut.conf(5) asks.
 * The file is gpurun's own. */
static int edit_dracut(const char *buf, size_t len, char *const *mods, char **ret,
		       struct error *err)
{
	_cleanup_free_ char *j = strv_join((char **)mods, " ");

	(void)buf, (void)len, (void)err;
	if (!j)
		return -ENOMEM;
	*ret = strdup_printf("# Written by gpurun host-config: the vfio modules in the initramfs, "
			     "loaded before the\n# GPU's driver.\nforce_drivers+=\" %s \"\n",
			     j);
	return *ret ? 0 : -ENOMEM;
}

const struct initramfs_ops initramfs_table[] = {
	{
	    .name = "initramfs-tools",
	    .markers = (const char *const[]){ "initramfs-tools", NULL },
	    .os_ids = (const char *const[]){ "debian", "ubuntu", NULL },
	    .refresh_argv = (const char *const[]){ "update-initramfs", "-u", "-k", "all", NULL },
	    .conf = "initramfs-tools/modules",
	    .edit = edit_modules_list,
	},
	{
	    .name = "mkinitcpio",
	    .markers = (const char *const[]){ "mkinitcpio.conf", NULL },
	    .os_ids = (const char *const[]){ "arch", NULL },
	    .refresh_argv = (const char *const[]){ "mkinitcpio", "-P", NULL },
	    .conf = "mkinitcpio.conf.d/gpurun.conf",
	    .edit = edit_mkinitcpio,
	},
	{
	    .name = "dracut",
	    .markers = (const char *const[]){ "dracut.conf.d", "dracut.conf", NULL },
	    .os_ids = (const char *const[]){ "fedora", "rhel", "centos", NULL },
	    .refresh_argv = (const char *const[]){ "dracut", "-f", "--regenerate-all", NULL },
	    .conf = "dracut.conf.d/gpurun.conf",
	    .edit = edit_dracut,
	},
	{},
};

/* @row is the host's tool, for @evidence (taken). */
static int found(const struct initramfs_ops *row, char *evidence, struct hostcfg *cfg)
{
	_cleanup_strv_free_ char **argv = strv_new_empty();
	int r;

	free(cfg->initramfs_evidence);
	cfg->initramfs_evidence = evidence;
	cfg->initramfs = row;
	if (!argv)
		return -ENOMEM;
	for (const char *const *a = row->refresh_argv; *a; a++)
		if ((r = strv_extend(&argv, *a)) < 0)
			return r;
	strv_free(cfg->initramfs_argv);
	cfg->initramfs_argv = TAKE_PTR(argv);
	return 0;
}

int initramfs_detect(const struct ctx *c, char *const *os_ids, struct hostcfg *cfg)
{
	char *evidence;

	for (const struct initramfs_ops *row = initramfs_table; row->name; row++)
		for (const char *const *m = row->markers; *m; m++) {
			if (!hostcfg_exists_under(c->etc, *m))
				continue;
			if (asprintf(&evidence, "%s/%s exists", hostcfg_host_name(c, c->etc), *m) <
			    0)
				return -ENOMEM;
			return found(row, evidence, cfg);
		}
	for (const struct initramfs_ops *row = initramfs_table; row->name; row++)
		for (const char *const *id = row->os_ids; *id; id++) {
			if (!strv_contains(os_ids, *id))
				continue;
			if (asprintf(&evidence, "os-release says %s", *id) < 0)
				return -ENOMEM;
			return found(row, evidence, cfg);
		}
	return 0;
}

int initramfs_load(struct ctx *c, struct hostcfg *cfg, struct error *err)
{
	_cleanup_free_ char *p = NULL;

	if (!cfg->initramfs || !cfg->initramfs->conf)
		return 0;
	p = path_join(c->etc, cfg->initramfs->conf);
	if (!p)
		return -ENOMEM;
	return hostcfg_load_file(c, cfg, HOSTCFG_FILE_INITRAMFS, p, err);
}

int initramfs_edit(const struct initramfs_ops *row, const char *buf, size_t len, char *const *mods,
		   char **ret, struct error *err)
{
	if (!row || !row->edit)
		return error_set(err, EINVAL, "no initramfs generator edits this file");
	return row->edit(buf, len, mods, ret, err);
}
