/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <libkmod.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/kmodule.h"
#include "util/strv.h"

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

int kmodule_lookup(struct ctx *c, const char *name_or_alias, char ***ret)
{
	_cleanup_(module_list_unref) struct kmod_list *list = NULL;
	_cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
	_cleanup_free_ char *rel = ctx_kernel_release(c), *dep = NULL;
	struct kmod_list *it;
	struct kmod_ctx *k;
	int r;

	if (!names)
		return -ENOMEM;
	/* without an index libkmod finds nothing, which would read as "no such module" */
	dep = rel ? path_join(c->modules, rel, "modules.dep.bin") : NULL;
	if (!dep || !hostfs_exists(dep))
		return -ENOENT;
	k = ctx_kmod(c);
	if (!k)
		return -ENOENT;
	r = kmod_module_new_from_lookup(k, name_or_alias, &list);
	if (r < 0)
		return r;
	kmod_list_foreach(it, list)
	{
		struct kmod_module *m = kmod_module_get_module(it);
		const char *n = kmod_module_get_name(m);

		r = n && !strv_contains(names, n) ? strv_extend(&names, n) : 0;
		kmod_module_unref(m);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(names);
	return 0;
}

bool kmodule_available(struct ctx *c, const char *name)
{
	_cleanup_strv_free_ char **names = NULL;

	if (kmodule_is_loaded(c, name))
		return true;
	return kmodule_lookup(c, name, &names) >= 0 && names[0];
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
