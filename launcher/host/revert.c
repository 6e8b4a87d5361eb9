/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "host/revert.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/journal.h"
#include "host/kmodule.h"
#include "host/vfio.h"
#include "util/strutil.h"
#include "util/strv.h"

void revert_report_done(struct revert_report *r)
{
	strv_free(r->warnings);
	strv_free(r->notes);
	for (size_t i = 0; i < r->n_functions; i++) {
		free(r->functions[i].bdf);
		free(r->functions[i].want);
		free(r->functions[i].final);
	}
	free(r->functions);
	*r = (struct revert_report){};
}

static int warn(struct revert_report *r, int error, const char *fmt, const char *a, const char *b)
{
	char *s;

	r->n_failed++;
	if (asprintf(&s, fmt, a, b, strerror(-error)) < 0)
		return -ENOMEM;
	return strv_consume(&r->warnings, s);
}

static int revert_bind(struct ctx *c, const struct journal_entry *e, unsigned timeout_ms,
		       struct revert_report *rep)
{
	struct revert_function *n, f = {};
	const char *want = e->value && *e->value ? e->value : NULL;
	_cleanup_free_ char *note = NULL;
	int r;

	r = vfio_restore(c, e->target, want, e->extra, timeout_ms, &f.final);
	if (r == -ENOENT && vfio_read_state(c, e->target, NULL, NULL) == -ENOENT) {
		/* removed (hot-unplugged, or its bridge was): nothing is left to give back */
		note = strdup_printf("%s is no longer present on this host: nothing to give back, "
				     "counted as done",
				     e->target);
		if (!note)
			return -ENOMEM;
		return strv_consume(&rep->notes, TAKE_PTR(note));
	}
	f.bdf = strdup(e->target);
	f.want = want ? strdup(want) : NULL;
	f.ok = streq_ptr(f.final, want);
	n = realloc(rep->functions, sizeof(*n) * (rep->n_functions + 1));
	if (!f.bdf || (want && !f.want) || !n) {
		free(f.bdf);
		free(f.want);
		free(f.final);
		if (n)
			rep->functions = n;
		return -ENOMEM;
	}
	rep->functions = n;
	rep->functions[rep->n_functions++] = f;
	if (r < 0 || !f.ok)
		return warn(rep, r < 0 ? r : -EIO, "Failed to give %s back to %s: %s", e->target,
			    want ? want : "no driver");
	return 0;
}

static int revert_entry(struct ctx *c, const struct journal_entry *e, unsigned timeout_ms,
			struct revert_report *rep)
{
	_cleanup_free_ char *p = NULL, *note = NULL;
	int r;

	switch (e->kind) {
	case JOURNAL_BIND:
		return revert_bind(c, e, timeout_ms, rep);
	case JOURNAL_VTCON:
		p = path_join(c->sys, "class/vtconsole", e->target, "bind");
		if (!p)
			return -ENOMEM;
		r = hostfs_write_attr(p, e->value);
		if (r < 0)
			return warn(rep, r, "Failed to rebind console %s to '%s': %s", e->target,
				    e->value);
		return 0;
	case JOURNAL_PLATFORM:
		p = path_join(c->sys, "bus/platform/drivers", e->value, "bind");
		if (!p)
			return -ENOMEM;
		r = hostfs_write_attr(p, e->target);
		/* -EBUSY: already bound again */
		if (r < 0 && r != -EBUSY)
			return warn(rep, r, "Failed to bind %s to %s again: %s", e->target,
				    e->value);
		return 0;
	case JOURNAL_ROM:
		if (!streq(e->value, "new"))
			return 0;
		if (unlink(e->target) < 0 && errno != ENOENT)
			return warn(rep, negative_errno(), "Failed to remove staged ROM %s%s: %s",
				    e->target, "");
		return 0;
	case JOURNAL_MODULE:
		r = kmodule_unload(c, e->target);
		if (r == -EPERM || r == -EBUSY || r == -EAGAIN) {
			/* in use (another guest started meanwhile, or modules its load pulled in
			 * through softdeps still hold it: -EAGAIN): the devices are back, which is
			 * what matters; a loaded module is harmless */
			if (asprintf(&note,
				     r == -EPERM ? "not unloading %s: --root is not /"
						 : "module %s is in use, left loaded",
				     e->target) < 0)
				return -ENOMEM;
			return strv_consume(&rep->notes, TAKE_PTR(note));
		}
		if (r < 0)
			return warn(rep, r, "Failed to unload module %s%s: %s", e->target, "");
		return 0;
	default:
		return 0;
	}
}

int revert_journal(struct ctx *c, const struct journal *j, unsigned timeout_ms,
		   struct revert_report *ret)
{
	struct revert_report rep = {};
	int r;

	for (size_t i = j->n_entries; i > 0; i--) {
		const struct journal_entry *e = &j->entries[i - 1];
		bool seen = false;

		/* the same function journalled twice (a retried bind): the first entry holds the
		 * state before gpurun */
		if (e->kind == JOURNAL_BIND)
			for (size_t k = 0; k < i - 1; k++)
				seen = seen || (j->entries[k].kind == JOURNAL_BIND &&
						streq(j->entries[k].target, e->target));
		if (seen)
			continue;
		r = revert_entry(c, e, timeout_ms, &rep);
		if (r < 0) {
			revert_report_done(&rep);
			return r;
		}
	}
	*ret = rep;
	return 0;
}
