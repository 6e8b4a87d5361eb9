/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util/strutil.c: formatting into a new string, edit distance and the closest word; the
 * enum <-> string table macros of util/macro.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/strutil.h"

static void test_printf(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL;

	(void)state;
	a = strdup_printf("0x%04x/%s/%zu", 0x1a, "x", (size_t)7);
	assert_string_equal(a, "0x001a/x/7");
	b = strdup_printf("%s", "");
	assert_string_equal(b, "");
}

static void test_edit_distance(void **state)
{
	char longword[80];

	(void)state;
	assert_int_equal(str_edit_distance("memory", "memory"), 0);
	assert_int_equal(str_edit_distance("memroy", "memory"), 1); /* a swap is one edit */
	assert_int_equal(str_edit_distance("mmeroy", "memory"), 2);
	assert_int_equal(str_edit_distance("cpu", "cpus"), 1);
	assert_int_equal(str_edit_distance("", "abc"), 3);
	assert_int_equal(str_edit_distance("kitten", "sitting"), 3);
	memset(longword, 'a', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	assert_true(str_edit_distance(longword, "a") == SIZE_MAX);
}

static void test_closest(void **state)
{
	static const char *const words[] = { "qemu", NULL, "libvirt", "proxmox", "xml", "args" };

	(void)state;
	assert_string_equal(str_closest("libvrit", words, ELEMENTSOF(words)), "libvirt");
	assert_string_equal(str_closest("qmeu", words, ELEMENTSOF(words)), "qemu"); /* one swap */
	/* the one entry a word of 3+ characters starts */
	assert_string_equal(str_closest("prox", words, ELEMENTSOF(words)), "proxmox");
	assert_null(str_closest("pr", words, ELEMENTSOF(words)));
	assert_string_equal(str_closest("xm", words, ELEMENTSOF(words)), "xml");
	assert_string_equal(str_closest("promox", words, ELEMENTSOF(words)), "proxmox");
	/* short words allow one edit only */
	assert_null(str_closest("xen", words, ELEMENTSOF(words)));
	assert_null(str_closest("anything", words, 0));
}

enum color {
	COLOR_RED,
	COLOR_GREEN,
	COLOR_UNNAMED,
	COLOR_BLUE,
	_COLOR_MAX,
};
static const char *const color_table[_COLOR_MAX] = {
	[COLOR_RED] = "red",
	[COLOR_GREEN] = "green",
	[COLOR_BLUE] = "blue",
};
static const char *const shade_table[_COLOR_MAX] = {
	[COLOR_RED] = "crimson",
	[COLOR_GREEN] = "olive",
};
DECLARE_STRING_TABLE_LOOKUP(color, enum color);
DECLARE_STRING_TABLE_LOOKUP(shade, unsigned);
DEFINE_STRING_TABLE_LOOKUP(color, enum color, _COLOR_MAX)
DEFINE_STRING_TABLE_LOOKUP_FALLBACK(shade, unsigned, _COLOR_MAX, "unknown")

static void test_string_table(void **state)
{
	(void)state;
	assert_string_equal(color_to_string(COLOR_RED), "red");
	assert_string_equal(color_to_string(COLOR_BLUE), "blue");
	assert_null(color_to_string(COLOR_UNNAMED));
	assert_null(color_to_string(_COLOR_MAX));
	assert_null(color_to_string((enum color) - 1));
	assert_int_equal(color_from_string("green"), COLOR_GREEN);
	assert_int_equal(color_from_string("blue"), COLOR_BLUE);
	assert_int_equal(color_from_string("Blue"), -EINVAL);
	assert_int_equal(color_from_string(""), -EINVAL);
	assert_int_equal(color_from_string(NULL), -EINVAL);
	/* with a fallback: out of range and unnamed values read as the fallback */
	assert_string_equal(shade_to_string(COLOR_GREEN), "olive");
	assert_string_equal(shade_to_string(COLOR_BLUE), "unknown");
	assert_string_equal(shade_to_string(0x8664), "unknown");
	assert_int_equal(shade_from_string("crimson"), COLOR_RED);
	assert_int_equal(shade_from_string("unknown"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_closest),
		cmocka_unit_test(test_string_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
