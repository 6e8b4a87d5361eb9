/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <libkmod.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/kmodule.h"

bool kmodule_is_loaded(struct ctx *c, const char *name)
{
	_cleanup_free_ char *p = path_join(c->sys, "module", name);

	return p && hostfs_exists(p);
}

static void module_list_unref(struct kmod_list **l)
{
	if (*l)
		kmod_module_unref_list(*l);
}

int kmodule_load(struct ctx *c, const char *name)
{
	_cleanup_(module_list_unref) struct kmod_list *list = NULL;
	struct kmod_ctx *k;
	struct kmod_list *it;
	int r;

	if (!c->real_root)
		return -EPERM;
	k = ctx_kmod(c);
	if (!k)
		return negative_errno();
	r = kmod_module_new_from_lookup(k, name, &list);
	if (r < 0)
		return r;
	if (!list)
		return -ENOENT;
	kmod_list_foreach(it, list)
	{
		struct kmod_module *m = kmod_module_get_module(it);

		r = kmod_module_probe_insert_module(m, 0, NULL, NULL, NULL, NULL);
		kmod_module_unref(m);
		if (r < 0)
			return r;
	}
	return 0;
}

int kmodule_unload(struct ctx *c, const char *name)
{
	struct kmod_module *m = NULL;
	struct kmod_ctx *k;
	int r;

	if (!c->real_root)
		return -EPERM;
	if (!kmodule_is_loaded(c, name))
		return 0;
	k = ctx_kmod(c);
	if (!k)
		return negative_errno();
	r = kmod_module_new_from_name(k, name, &m);
	if (r < 0)
		return r;
	r = kmod_module_remove_module(m, 0);
	kmod_module_unref(m);
	return r;
}
