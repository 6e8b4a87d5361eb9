/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util/json.c: string literals are valid JSON (RFC 8259: UTF-8 text) whatever bytes they are
 * given — a log line, a path, a process name may hold control bytes or invalid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "testutil.h"
#include "util/json.h"
#include "util/macro.h"

static char *json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_string(f, s);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void check(const char *in, const char *want)
{
	_cleanup_free_ char *got = json_of(in);

	assert_string_equal(got, want);
}

static void test_escapes(void **state)
{
	(void)state;
	check(NULL, "null");
	check("", "\"\"");
	check("a\"b\\c\nd\te\rf", "\"a\\\"b\\\\c\\nd\\te\\rf\"");
	check("\x01\x1b[2J", "\"\\u0001\\u001b[2J\"");
	check("\x7f", "\"\\u007f\"");
}

static void test_utf8_kept(void **state)
{
	(void)state;
	check("gr\xc3\xbc\xc3\x9f", "\"gr\xc3\xbc\xc3\x9f\""); /* U+00FC U+00DF */
	check("\xe2\x82\xac", "\"\xe2\x82\xac\"");	       /* U+20AC */
	check("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");     /* U+1F600 */
	check("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\""); /* the ends */
}

static void test_utf8_invalid(void **state)
{
	(void)state;
	/* each byte that does not start a well-formed sequence becomes U+FFFD */
	check("a\xff\xfe"
	      "b",
	      "\"a\\ufffd\\ufffdb\"");
	check("\x80", "\"\\ufffd\"");			    /* a lone continuation byte */
	check("\xc3", "\"\\ufffd\"");			    /* cut at the end */
	check("\xc3(", "\"\\ufffd(\"");			    /* cut before ASCII */
	check("\xc0\xaf", "\"\\ufffd\\ufffd\"");	    /* overlong '/' */
	check("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""); /* overlong, 3 bytes */
	check("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* a UTF-16 surrogate */
	check("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
	check("\xe2\x82", "\"\\ufffd\\ufffd\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_utf8_invalid),
	};
	return testutil_run(tests);
}
