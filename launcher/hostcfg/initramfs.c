/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "host/ctx.h"
#include "hostcfg/initramfs.h"
#include "util/strv.h"

const struct initramfs_ops initramfs_table[] = {
	{
	    .name = "initramfs-tools",
	    .markers = (const char *const[]){ "initramfs-tools", NULL },
	    .os_ids = (const char *const[]){ "debian", "ubuntu", NULL },
	    .refresh_argv = (const char *const[]){ "update-initramfs", "-u", "-k", "all", NULL },
	},
	{
	    .name = "mkinitcpio",
	    .markers = (const char *const[]){ "mkinitcpio.conf", NULL },
	    .os_ids = (const char *const[]){ "arch", NULL },
	    .refresh_argv = (const char *const[]){ "mkinitcpio", "-P", NULL },
	},
	{
	    .name = "dracut",
	    .markers = (const char *const[]){ "dracut.conf.d", "dracut.conf", NULL },
	    .os_ids = (const char *const[]){ "fedora", "rhel", "centos", NULL },
	    .refresh_argv = (const char *const[]){ "dracut", "-f", "--regenerate-all", NULL },
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
