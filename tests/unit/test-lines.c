/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util/lines.c: text as lines, for the configuration editors; strv_new_empty() and
 * strv_contains_case() of util/strv.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/lines.h"
#include "util/strv.h"

static void test_split(void **state)
{
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_(error_clear) struct error err = {};

	(void)state;
	/* a last line without '\n' is a line; an empty line stays */
	assert_int_equal(lines_split("a\n\nb", 4, &l, &err), 0);
	assert_int_equal(strv_length(l), 3);
	assert_string_equal(l[0], "a");
	assert_string_equal(l[1], "");
	assert_string_equal(l[2], "b");
	l = strv_free(l);
	/* only @len bytes count */
	assert_int_equal(lines_split("x\ny\n", 2, &l, &err), 0);
	assert_int_equal(strv_length(l), 1);
	l = strv_free(l);
	/* an absent file is no lines */
	assert_int_equal(lines_split(NULL, 0, &l, &err), 0);
	assert_non_null(l);
	assert_int_equal(strv_length(l), 0);
	l = strv_free(l);
	assert_false(error_is_set(&err));
	/* a NUL byte: not a text file, at its line, no file name */
	assert_int_equal(lines_split("a\nb\nc\0d\n", 8, &l, &err), -EINVAL);
	assert_null(l);
	assert_int_equal(err.errnum, EINVAL);
	assert_int_equal(err.line, 3);
	assert_null(err.file);
	assert_non_null(strstr(err.message, "NUL"));
	assert_int_equal(lines_split("\0", 1, &l, NULL), -EINVAL);
}

static void test_join_replace_rstrip(void **state)
{
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *s = NULL, *e = NULL;
	char buf[] = "x \t\r\n";

	(void)state;
	assert_int_equal(lines_split("a\nb", 3, &l, NULL), 0);
	assert_int_equal(lines_replace(l, 1, strdup("c")), 0);
	assert_int_equal(lines_replace(l, 0, NULL), -ENOMEM);
	assert_string_equal(l[0], "a");
	/* every line ends with '\n', the last one too */
	assert_int_equal(lines_join(l, &s), 0);
	assert_string_equal(s, "a\nc\n");
	assert_int_equal(lines_join(NULL, &e), 0);
	assert_string_equal(e, "");
	lines_rstrip(buf);
	assert_string_equal(buf, "x");
	assert_true(lines_is_blank('\r'));
	assert_false(lines_is_blank('x'));
}

static void test_strv_additions(void **state)
{
	_cleanup_strv_free_ char **l = strv_new_empty();

	(void)state;
	assert_non_null(l);
	assert_null(l[0]);
	assert_int_equal(strv_extend(&l, "1002:AB30"), 0);
	assert_true(strv_contains_case(l, "1002:ab30"));
	assert_false(strv_contains(l, "1002:ab30"));
	assert_false(strv_contains_case(l, "1002:ab31"));
	assert_false(strv_contains_case(NULL, "x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_join_replace_rstrip),
		cmocka_unit_test(test_strv_additions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
