/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <stdarg.h>

#include "host/ctx.h"
#include "host/hostop.h"
#include "host/journal.h"
#include "host/revert.h"
#include "host/runner.h"
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

int revert_report_warn(struct revert_report *r, int error, const char *fmt, ...)
{
	_cleanup_free_ char *m = NULL;
	char *s;
	va_list ap;

	r->n_failed++;
	va_start(ap, fmt);
	m = strdup_vprintf(fmt, ap);
	va_end(ap);
	if (!m || asprintf(&s, "%s: %s", m, strerror(error < 0 ? -error : error)) < 0)
		return -ENOMEM;
	return strv_consume(&r->warnings, s);
}

int revert_report_note(struct revert_report *r, const char *fmt, ...)
{
	char *s;
	va_list ap;

	va_start(ap, fmt);
	s = strdup_vprintf(fmt, ap);
	va_end(ap);
	if (!s)
		return -ENOMEM;
	return strv_consume(&r->notes, s);
}

int revert_report_function(struct revert_report *r, const char *bdf, const char *want,
			   const char *final)
{
	struct revert_function *n, f = {
		.bdf = strdup(bdf),
		.want = want ? strdup(want) : NULL,
		.final = final ? strdup(final) : NULL,
		.ok = streq_ptr(final, want),
	};

	n = realloc(r->functions, sizeof(*n) * (r->n_functions + 1));
	if (n)
		r->functions = n;
	if (!f.bdf || (want && !f.want) || (final && !f.final) || !n) {
		free(f.bdf);
		free(f.want);
		free(f.final);
		return -ENOMEM;
	}
	r->functions[r->n_functions++] = f;
	return 0;
}

static int replay(struct ctx *c, const struct journal *j, unsigned timeout_ms,
		  struct revert_report *rep)
{
	int r;

	for (size_t i = j->n_entries; i > 0; i--) {
		const struct journal_entry *e = &j->entries[i - 1];
		const struct host_op *op = host_op_get(e->kind);
		bool seen = false;

		/* the same function journalled twice (a retried bind): the first entry holds the
		 * state before gpurun */
		if (e->kind == JOURNAL_BIND)
			for (size_t k = 0; k < i - 1; k++)
				seen = seen || (j->entries[k].kind == JOURNAL_BIND &&
						streq(j->entries[k].target, e->target));
		if (seen || !op)
			continue;
		r = op->revert(c, e, timeout_ms, rep);
		if (r < 0)
			return r;
	}
	return 0;
}

int revert_journal(struct ctx *c, const struct journal *j, unsigned timeout_ms,
		   struct revert_report *ret)
{
	struct revert_report rep = {};
	sigset_t block, old;
	bool masked;
	int r;

	runner_stop_signals(&block);
	masked = sigprocmask(SIG_BLOCK, &block, &old) == 0;
	r = replay(c, j, timeout_ms, &rep);
	if (masked)
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		revert_report_done(&rep);
		return r;
	}
	*ret = rep;
	return 0;
}
