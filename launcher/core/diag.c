/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "core/diag.h"
#include "util/json.h"

static const char *const diag_status_table[_DIAG_STATUS_MAX] = {
	[DIAG_PASS] = "PASS",
	[DIAG_INFO] = "INFO",
	[DIAG_WARN] = "WARN",
	[DIAG_FAIL] = "FAIL",
};
static const char *const diag_status_json_table[_DIAG_STATUS_MAX] = {
	[DIAG_PASS] = "pass",
	[DIAG_INFO] = "info",
	[DIAG_WARN] = "warn",
	[DIAG_FAIL] = "fail",
};
DEFINE_STRING_TABLE_LOOKUP_FALLBACK(diag_status, enum diag_status, _DIAG_STATUS_MAX, "?")
DEFINE_STRING_TABLE_LOOKUP_FALLBACK(diag_status_json, enum diag_status, _DIAG_STATUS_MAX, "?")

int diag_add(struct diag_list *l, enum diag_status s, const char *id, const char *fix,
	     const char *fmt, ...)
{
	struct diag *n, *d;
	va_list ap;
	int r;

	n = realloc(l->items, sizeof(*n) * (l->n + 1));
	if (!n)
		return -ENOMEM;
	l->items = n;
	d = &n[l->n];
	*d = (struct diag){ .status = s };
	va_start(ap, fmt);
	r = vasprintf(&d->message, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	d->id = strdup(id);
	d->fix = fix ? strdup(fix) : NULL;
	if (!d->id || (fix && !d->fix)) {
		free(d->message);
		free(d->id);
		free(d->fix);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

int diag_set_cause(struct diag_list *l, const char *cause)
{
	char *c;

	if (l->n == 0)
		return -ENOENT;
	c = strdup(cause);
	if (!c)
		return -ENOMEM;
	free(l->items[l->n - 1].cause);
	l->items[l->n - 1].cause = c;
	return 0;
}

int diag_list_append(struct diag_list *l, const struct diag_list *from)
{
	for (size_t i = 0; i < from->n; i++) {
		const struct diag *x = &from->items[i];
		int r;

		r = diag_add(l, x->status, x->id, x->fix, "%s", x->message);
		if (r >= 0 && x->cause)
			r = diag_set_cause(l, x->cause);
		if (r < 0)
			return r;
	}
	return 0;
}

void diag_list_clear(struct diag_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].cause);
		free(l->items[i].id);
		free(l->items[i].message);
		free(l->items[i].fix);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

size_t diag_count(const struct diag_list *l, enum diag_status s)
{
	size_t c = 0;

	for (size_t i = 0; i < l->n; i++)
		c += l->items[i].status == s;
	return c;
}

void diag_list_json(const struct diag_list *l, FILE *f)
{
	fputc('[', f);
	for (size_t i = 0; i < l->n; i++) {
		const struct diag *x = &l->items[i];

		fprintf(f, "%s{\"id\":", i ? "," : "");
		json_string(f, x->id);
		fprintf(f,
			",\"status\":\"%s\",\"message\":", diag_status_json_to_string(x->status));
		json_string(f, x->message);
		fputs(",\"fix\":", f);
		json_string(f, x->fix);
		if (x->cause) {
			fputs(",\"cause\":", f);
			json_string(f, x->cause);
		}
		fputc('}', f);
	}
	fputc(']', f);
}
