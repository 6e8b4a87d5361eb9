/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfct_parse() on hand-made tables: valid, and every hostile shape REFERENCE.md lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "core/vfct.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/paths.h"
#include "host/romstage.h"
#include "testutil.h"
#include "util/error.h"

/* The board the tables come from: an ASUS one with AMI firmware. */
static void tbl_init(struct testutil_vfct *t)
{
	testutil_vfct_init(t, "ALASKA", "A M I", "AMI");
	t->subsystem_vendor = 0x1043;
	t->subsystem_device = 0x8877;
	t->revision = 0xc1;
}

static bool has_warning(const struct diag_list *w, const char *id, const char *text)
{
	for (size_t i = 0; i < w->n; i++)
		if (streq(w->items[i].id, id) && (!text || strstr(w->items[i].message, text)))
			return true;
	return false;
}

static void expect_error(const struct testutil_vfct *t, size_t len, size_t want_offset,
			 const char *text)
{
	struct vfct_table *v = NULL;
	struct diag_list w = {};
	_cleanup_(error_clear) struct error err = {};

	assert_int_equal(vfct_parse(t->b, len, &v, &w, &err), -EBADMSG);
	assert_null(v);
	assert_int_equal(err.errnum, EBADMSG);
	assert_true(err.has_offset);
	assert_int_equal(err.offset, want_offset);
	assert_null(err.file); /* the caller that read the bytes names the file */
	assert_int_equal(err.line, 0);
	assert_non_null(err.message);
	if (!strstr(err.message, text))
		fail_msg("error '%s' lacks '%s'", err.message, text);
	diag_list_clear(&w);
}

static void test_valid_one(void **state)
{
	_cleanup_(vfct_table_freep) struct vfct_table *v = NULL;
	struct diag_list w = {};
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 1024, NULL, 1024);
	testutil_vfct_finish(&t);
	assert_int_equal(vfct_parse(t.b, t.len, &v, &w, NULL), 0);
	assert_int_equal(w.n, 0);
	assert_true(v->checksum_ok);
	assert_string_equal(v->oem_id, "ALASKA");
	assert_string_equal(v->oem_table_id, "A M I");
	assert_string_equal(v->creator_id, "AMI");
	assert_int_equal(v->length, t.len);
	assert_int_equal(v->n_images, 1);
	assert_int_equal(v->images[0].offset, 76);
	assert_int_equal(v->images[0].image_offset, 76 + 28);
	assert_int_equal(v->images[0].image_length, 1024);
	assert_int_equal(v->images[0].bus, 0xc4);
	assert_int_equal(v->images[0].vendor, 0x1002);
	assert_int_equal(v->images[0].device_id, 0x1586);
	assert_int_equal(v->images[0].subsystem_vendor, 0x1043);
	assert_int_equal(v->images[0].subsystem_device, 0x8877);
	assert_int_equal(v->images[0].revision, 0xc1);
	assert_memory_equal(vfct_image_data(v, 0), t.b + 76 + 28, 1024);
	/* the table keeps its own copy */
	t.b[76 + 28] ^= 0xff;
	assert_int_not_equal(vfct_image_data(v, 0)[0], t.b[76 + 28]);
}

static void test_valid_two_and_find(void **state)
{
	_cleanup_(vfct_table_freep) struct vfct_table *v = NULL;
	struct diag_list w = {};
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0x03, 0, 0, 0x1002, 0x73bf, 512, NULL, 512);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 600, NULL, 600);
	testutil_vfct_finish(&t);
	assert_int_equal(vfct_parse(t.b, t.len, &v, &w, NULL), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(v->n_images, 2);
	assert_int_equal(v->images[1].offset, 76 + 28 + 512);
	assert_ptr_equal(vfct_find(v, 0xc4, 0, 0, 0x1002, 0x1586), &v->images[1]);
	/* same ids on another bus: the ids-only fallback */
	assert_ptr_equal(vfct_find(v, 0xc5, 0, 0, 0x1002, 0x1586), &v->images[1]);
	assert_ptr_equal(vfct_find(v, 0x03, 0, 0, 0x1002, 0x73bf), &v->images[0]);
	assert_null(vfct_find(v, 0xc4, 0, 0, 0x1002, 0x1587));
}

static void test_too_short(void **state)
{
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_finish(&t);
	expect_error(&t, 0, 0, "shorter than an ACPI table header");
	expect_error(&t, 35, 0, "shorter than an ACPI table header");
}

static void test_bad_signature(void **state)
{
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 64, NULL, 64);
	testutil_vfct_finish(&t);
	memcpy(t.b, "APIC", 4);
	expect_error(&t, t.len, 0, "signature is not \"VFCT\"");
}

static void test_length_larger_than_data(void **state)
{
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 64, NULL, 64);
	testutil_vfct_finish(&t);
	expect_error(&t, t.len - 1, 4, "larger than the data");
	testutil_put32(t.b + 4, 0xffffffff);
	expect_error(&t, t.len, 4, "larger than the data");
}

static void test_length_smaller_than_header(void **state)
{
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 64, NULL, 64);
	testutil_vfct_finish(&t);
	testutil_put32(t.b + 4, 40);
	expect_error(&t, t.len, 4, "smaller than the VFCT header");
	testutil_put32(t.b + 4, 0);
	expect_error(&t, t.len, 4, "smaller than the VFCT header");
}

static void test_length_smaller_than_data(void **state)
{
	_cleanup_(vfct_table_freep) struct vfct_table *v = NULL;
	struct diag_list w = {};
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};
	size_t data_len;

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 64, NULL, 64);
	testutil_vfct_finish(&t);
	testutil_vfct_pad(&t, 100); /* 100 zero bytes after the table */
	data_len = t.len;
	assert_int_equal(vfct_parse(t.b, data_len, &v, &w, NULL), 0);
	assert_int_equal(v->n_images, 1);
	assert_true(has_warning(&w, "vfct-trailing", "offset 0xa8: 100 bytes"));
	diag_list_clear(&w);
}

static void test_image_offset_outside(void **state)
{
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 64, NULL, 64);
	testutil_vfct_finish(&t);
	testutil_put32(t.b + 0x34, t.len + 1);
	expect_error(&t, t.len, 0x34, "VBIOSImageOffset");
	testutil_put32(t.b + 0x34, 0xfffffff0);
	expect_error(&t, t.len, 0x34, "VBIOSImageOffset");
	testutil_put32(t.b + 0x34, 8); /* inside the header */
	expect_error(&t, t.len, 0x34, "VBIOSImageOffset");
}

static void test_image_length_overflow(void **state)
{
	_cleanup_(vfct_table_freep) struct vfct_table *v = NULL;
	struct diag_list w = {};
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 0xffffffff, NULL, 64);
	testutil_vfct_finish(&t);
	assert_int_equal(vfct_parse(t.b, t.len, &v, &w, NULL), 0);
	assert_int_equal(v->n_images, 0);
	assert_true(
	    has_warning(&w, "vfct-truncated", "offset 0x4c: image record claims 4294967295"));
	assert_true(has_warning(&w, "vfct-no-image", NULL));
	diag_list_clear(&w);
}

static void test_image_past_end(void **state)
{
	_cleanup_(vfct_table_freep) struct vfct_table *v = NULL;
	struct diag_list w = {};
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0x03, 0, 0, 0x1002, 0x73bf, 64, NULL, 64);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 65, NULL, 64); /* one byte short */
	testutil_vfct_finish(&t);
	assert_int_equal(vfct_parse(t.b, t.len, &v, &w, NULL), 0);
	assert_int_equal(v->n_images, 1);
	assert_int_equal(v->images[0].bus, 0x03);
	assert_true(has_warning(&w, "vfct-truncated",
				"offset 0xa8: image record claims 65 bytes "
				"but only 64 remain"));
	diag_list_clear(&w);
}

static void test_truncated_last_record(void **state)
{
	_cleanup_(vfct_table_freep) struct vfct_table *v = NULL;
	struct diag_list w = {};
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 64, NULL, 64);
	testutil_vfct_pad(&t, 20); /* 20 bytes of a 28-byte record header */
	testutil_vfct_finish(&t);
	assert_int_equal(vfct_parse(t.b, t.len, &v, &w, NULL), 0);
	assert_int_equal(v->n_images, 1);
	assert_true(has_warning(&w, "vfct-truncated",
				"offset 0xa8: truncated image record header (20 of 28 bytes)"));
	diag_list_clear(&w);
}

static void test_zero_length_image(void **state)
{
	_cleanup_(vfct_table_freep) struct vfct_table *v = NULL;
	struct diag_list w = {};
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0x03, 0, 0, 0x1002, 0x73bf, 0, NULL, 0);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 64, NULL, 64);
	testutil_vfct_finish(&t);
	assert_int_equal(vfct_parse(t.b, t.len, &v, &w, NULL), 0);
	assert_int_equal(v->n_images, 1);
	assert_int_equal(v->images[0].bus, 0xc4);
	assert_true(has_warning(&w, "vfct-empty-image", "offset 0x4c: zero-length image"));
	diag_list_clear(&w);
}

static void test_no_records(void **state)
{
	_cleanup_(vfct_table_freep) struct vfct_table *v = NULL;
	struct diag_list w = {};
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_finish(&t);
	assert_int_equal(vfct_parse(t.b, t.len, &v, &w, NULL), 0);
	assert_int_equal(v->n_images, 0);
	assert_true(has_warning(&w, "vfct-no-image", NULL));
	diag_list_clear(&w);
}

static void test_bad_checksum(void **state)
{
	_cleanup_(vfct_table_freep) struct vfct_table *v = NULL;
	struct diag_list w = {};
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 64, NULL, 64);
	testutil_vfct_finish(&t);
	t.b[9] ^= 0x01;
	assert_int_equal(vfct_parse(t.b, t.len, &v, &w, NULL), 0);
	assert_false(v->checksum_ok);
	assert_int_equal(v->n_images, 1);
	assert_true(has_warning(&w, "vfct-checksum", "offset 0x9: table checksum is wrong"));
	diag_list_clear(&w);
	/* warnings may be NULL */
	v = vfct_table_free(v);
	assert_int_equal(vfct_parse(t.b, t.len, &v, NULL, NULL), 0);
}

/* Every prefix and every single-byte corruption of a valid table parses or fails cleanly; under
 * ASan (make check-sanitize) an out-of-bounds read would abort. The buffer is exactly sized. */
static void test_every_prefix_and_byte(void **state)
{
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	tbl_init(&t);
	testutil_vfct_add(&t, 0x03, 0, 0, 0x1002, 0x73bf, 40, NULL, 40);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 40, NULL, 40);
	testutil_vfct_finish(&t);
	for (size_t n = 0; n <= t.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct vfct_table *v = NULL;
		int r;

		memcpy(copy, t.b, n);
		r = vfct_parse(copy, n, &v, NULL, NULL);
		assert_true(r == 0 || r == -EBADMSG);
		if (r == 0)
			assert_int_equal(n, t.len);
		vfct_table_free(v);
		free(copy);
	}
	for (size_t i = 0; i < t.len; i++) {
		uint8_t *copy = malloc(t.len);
		struct vfct_table *v = NULL;
		struct diag_list w = {};
		int r;

		memcpy(copy, t.b, t.len);
		copy[i] ^= 0xa5;
		r = vfct_parse(copy, t.len, &v, &w, NULL);
		assert_true(r == 0 || r == -EBADMSG);
		for (size_t k = 0; r == 0 && k < v->n_images; k++)
			assert_true(v->images[k].image_offset + v->images[k].image_length <=
				    v->length);
		vfct_table_free(v);
		diag_list_clear(&w);
		free(copy);
	}
}

static void test_read_from_root(void **state)
{
	char *root = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(vfct_table_freep) struct vfct_table *v = NULL;
	_cleanup_free_ char *dir = NULL, *path = NULL;
	_cleanup_(testutil_vfct_done) struct testutil_vfct t = {};

	(void)state;
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(vfct_read(c, &v, NULL, NULL), -ENOENT);
	dir = path_join(c->sys, "firmware/acpi/tables");
	assert_int_equal(hostfs_mkdir_p(dir, 0755), 0);
	path = vfct_path(c);
	tbl_init(&t);
	testutil_vfct_add(&t, 0xc4, 0, 0, 0x1002, 0x1586, 512, NULL, 512);
	testutil_vfct_finish(&t);
	testutil_write_file(path, t.b, t.len);
	assert_int_equal(vfct_read(c, &v, NULL, NULL), 0);
	assert_int_equal(v->n_images, 1);
	testutil_rmroot(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_one),
		cmocka_unit_test(test_valid_two_and_find),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_length_larger_than_data),
		cmocka_unit_test(test_length_smaller_than_header),
		cmocka_unit_test(test_length_smaller_than_data),
		cmocka_unit_test(test_image_offset_outside),
		cmocka_unit_test(test_image_length_overflow),
		cmocka_unit_test(test_image_past_end),
		cmocka_unit_test(test_truncated_last_record),
		cmocka_unit_test(test_zero_length_image),
		cmocka_unit_test(test_no_records),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_every_prefix_and_byte),
		cmocka_unit_test(test_read_from_root),
	};

	return testutil_run(tests);
}
