/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostcfg/diff.h"
#include "util/macro.h"

struct dline {
	const char *p;
	size_t len;
	bool nl;
};

static int to_dlines(const char *buf, size_t len, struct dline **ret, size_t *ret_n)
{
	_cleanup_free_ struct dline *l = NULL;
	size_t n = 0, alloc = 0;
	const char *p = buf, *end = buf + len;

	while (buf && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (n == alloc) {
			struct dline *x;

			alloc = alloc ? alloc * 2 : 16;
			x = realloc(l, alloc * sizeof(*l));
			if (!x)
				return -ENOMEM;
			l = x;
		}
		l[n++] = (struct dline){ p, nl ? (size_t)(nl - p) : (size_t)(end - p), nl != NULL };
		p = nl ? nl + 1 : end;
	}
	*ret = TAKE_PTR(l);
	*ret_n = n;
	return 0;
}

static bool dline_eq(const struct dline *a, const struct dline *b)
{
	return a->len == b->len && a->nl == b->nl && memcmp(a->p, b->p, a->len) == 0;
}

static void put_dline(FILE *f, char tag, const struct dline *l)
{
	fputc(tag, f);
	fwrite(l->p, 1, l->len, f);
	fputc('\n', f);
	if (!l->nl)
		fputs("\\ No newline at end of file\n", f);
}

static void put_range(FILE *f, char tag, size_t start, size_t count)
{
	fprintf(f, "%c%zu", tag, count == 0 ? start : start + 1);
	if (count != 1)
		fprintf(f, ",%zu", count);
}

int diff_unified(const char *name, const char *old, size_t old_len, const char *new, size_t new_len,
		 char **ret)
{
	enum { CONTEXT = 3 };
	_cleanup_free_ struct dline *a = NULL, *b = NULL;
	_cleanup_free_ uint32_t *dp = NULL;
	_cleanup_free_ char *ops = NULL; /* ' ', '-', '+' */
	_cleanup_free_ char *out = NULL;
	size_t na, nb, nops = 0, outlen = 0;
	bool header = false;
	FILE *f;
	int r;

	r = to_dlines(old, old_len, &a, &na);
	if (r < 0)
		return r;
	r = to_dlines(new, new_len, &b, &nb);
	if (r < 0)
		return r;
	/* the files are small; a huge one is shown as replaced as a whole */
	if ((na + 1) * (nb + 1) <= 4u * 1024 * 1024) {
		dp = calloc((na + 1) * (nb + 1), sizeof(*dp));
		if (!dp)
			return -ENOMEM;
		for (size_t i = na; i-- > 0;)
			for (size_t j = nb; j-- > 0;) {
				uint32_t *c = &dp[i * (nb + 1) + j];

				if (dline_eq(&a[i], &b[j]))
					*c = dp[(i + 1) * (nb + 1) + j + 1] + 1;
				else {
					uint32_t x = dp[(i + 1) * (nb + 1) + j],
						 y = dp[i * (nb + 1) + j + 1];
					*c = x > y ? x : y;
				}
			}
	}
	ops = malloc(na + nb + 1);
	if (!ops)
		return -ENOMEM;
	for (size_t i = 0, j = 0; i < na || j < nb;) {
		if (dp && i < na && j < nb && dline_eq(&a[i], &b[j])) {
			ops[nops++] = ' ';
			i++, j++;
		} else if (i < na && (j >= nb || !dp ||
				      dp[(i + 1) * (nb + 1) + j] >= dp[i * (nb + 1) + j + 1])) {
			ops[nops++] = '-';
			i++;
		} else {
			ops[nops++] = '+';
			j++;
		}
	}

	f = open_memstream(&out, &outlen);
	if (!f)
		return -ENOMEM;
	for (size_t k = 0, ai = 0, bi = 0; k < nops;) {
		size_t start, end, last, oa, ob, ca = 0, cb = 0;

		if (ops[k] == ' ') {
			k++, ai++, bi++;
			continue;
		}
		if (!header) {
			fprintf(f, "--- %s\n+++ %s\n", old ? name : "/dev/null",
				new ? name : "/dev/null");
			header = true;
		}
		/* hunk: back up CONTEXT lines, then run until CONTEXT*2 unchanged lines in a row */
		start = k > CONTEXT ? k - CONTEXT : 0;
		last = k;
		for (end = k; end < nops; end++) {
			if (ops[end] != ' ')
				last = end;
			else if (end - last > 2 * CONTEXT)
				break;
		}
		end = last + CONTEXT + 1 < nops ? last + CONTEXT + 1 : nops;
		oa = ai - (k - start);
		ob = bi - (k - start);
		for (size_t m = start; m < end; m++) {
			ca += ops[m] != '+';
			cb += ops[m] != '-';
		}
		fputs("@@ ", f);
		put_range(f, '-', oa, ca);
		fputc(' ', f);
		put_range(f, '+', ob, cb);
		fputs(" @@\n", f);
		ai = oa;
		bi = ob;
		for (size_t m = start; m < end; m++) {
			if (ops[m] == '+')
				put_dline(f, '+', &b[bi++]);
			else if (ops[m] == '-')
				put_dline(f, '-', &a[ai++]);
			else {
				put_dline(f, ' ', &a[ai++]);
				bi++;
			}
		}
		k = end;
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(out);
	return 0;
}
