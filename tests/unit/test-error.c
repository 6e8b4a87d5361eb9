/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The error object (util/error.c): what is recorded and how it reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "testutil.h"
#include "util/error.h"

static void test_set_returns_negative_errno(void **state)
{
	_cleanup_(error_clear) struct error e = {};

	(void)state;
	assert_int_equal(error_set(&e, EINVAL, "bad %s", "thing"), -EINVAL);
	assert_int_equal(e.errnum, EINVAL);
	assert_string_equal(e.message, "bad thing");
	assert_true(error_is_set(&e));
	/* a negative errno is taken as its magnitude; 0 becomes EIO */
	assert_int_equal(error_set(&e, -ENOENT, "gone"), -ENOENT);
	assert_int_equal(e.errnum, ENOENT);
	assert_int_equal(error_set(&e, 0, "what"), -EIO);
	/* NULL error: only the return value */
	assert_int_equal(error_set(NULL, EBUSY, "x"), -EBUSY);
}

static void test_format_locations(void **state)
{
	_cleanup_(error_clear) struct error e = {};
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *f = NULL, *g = NULL;

	(void)state;
	error_set_line(&e, EINVAL, "w.profile", 7, "unknown key 'memroy'");
	a = error_format(&e);
	assert_string_equal(a, "w.profile:7: unknown key 'memroy'");
	error_set_offset(&e, EBADMSG, "VFCT", 0x34, "image runs past the table");
	b = error_format(&e);
	assert_string_equal(b, "VFCT: byte 52 (0x34): image runs past the table");
	assert_int_equal(e.line, 0); /* a new error replaces the old one entirely */
	error_set(&e, EBUSY, "device busy");
	error_set_device(&e, "0000:c4:00.0");
	c = error_format(&e);
	assert_string_equal(c, "0000:c4:00.0: device busy");
	error_prefix(&e, "Failed to unbind %s", "amdgpu");
	d = error_format(&e);
	assert_string_equal(d, "0000:c4:00.0: Failed to unbind amdgpu: device busy");
	/* a message that names the device already is not prefixed with it again */
	error_set(&e, EBUSY, "0000:c4:00.0 is in use by gpurun VM w (pid 7)");
	error_set_device(&e, "0000:c4:00.0");
	g = error_format(&e);
	assert_string_equal(g, "0000:c4:00.0 is in use by gpurun VM w (pid 7)");
	error_set(&e, ENOENT, NULL);
	f = error_format(&e);
	assert_string_equal(f, strerror(ENOENT));
}

static void test_file_kept_unless_forced(void **state)
{
	_cleanup_(error_clear) struct error e = {};

	(void)state;
	error_set_line(&e, EINVAL, "inner.conf", 3, "bad");
	error_set_file(&e, "outer.conf", false);
	assert_string_equal(e.file, "inner.conf");
	error_set_file(&e, "outer.conf", true);
	assert_string_equal(e.file, "outer.conf");
	error_clear(&e);
	assert_false(error_is_set(&e));
	assert_null(e.message);
	assert_null(e.file);
}

/* error_set_errno(): records an errno not recorded yet, keeps the detail of the same one */
static void test_set_errno(void **state)
{
	_cleanup_(error_clear) struct error e = {};

	(void)state;
	assert_int_equal(error_set_errno(&e, 0), 0);
	assert_int_equal(error_set_errno(&e, 3), 3);
	assert_false(error_is_set(&e));
	assert_int_equal(error_set_errno(NULL, -ENOMEM), -ENOMEM);
	assert_int_equal(error_set_errno(&e, -ENOMEM), -ENOMEM);
	assert_int_equal(e.errnum, ENOMEM);
	assert_null(e.message);
	/* the same errno, set deeper down with its place: kept */
	error_set_line(&e, EINVAL, NULL, 4, "bad line");
	assert_int_equal(error_set_errno(&e, -EINVAL), -EINVAL);
	assert_int_equal(e.line, 4);
	assert_string_equal(e.message, "bad line");
	/* another errno: that detail is not this failure's */
	assert_int_equal(error_set_errno(&e, -ENOMEM), -ENOMEM);
	assert_int_equal(e.errnum, ENOMEM);
	assert_null(e.message);
	assert_int_equal(e.line, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_returns_negative_errno),
		cmocka_unit_test(test_format_locations),
		cmocka_unit_test(test_file_kept_unless_forced),
		cmocka_unit_test(test_set_errno),
	};

	return testutil_run(tests);
}
