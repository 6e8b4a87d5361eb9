/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The table of host operations (host/hostop.c): one row per journal kind and per plan action,
 * every row's entry formatted and parsed back, inspect/describe/apply/revert of the rows that
 * write sysfs attributes on a hand-made tree, and read_full_file()'s refusal of files that are
 * not regular (a FIFO must not block). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "core/plan.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/hostop.h"
#include "host/journal.h"
#include "host/kmodule.h"
#include "host/prepare.h"
#include "host/revert.h"
#include "testutil.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/strutil.h"
#include "util/strv.h"

static void test_table(void **state)
{
	(void)state;
	for (int k = 0; k < _JOURNAL_KIND_MAX; k++) {
		const struct host_op *op = host_op_get(k);

		assert_non_null(op);
		assert_int_equal(op->kind, k);
		assert_non_null(op->name);
		assert_true(startswith(op->syntax, op->name));
		assert_true(op->n_values <= 2);
		assert_ptr_equal(host_op_from_name(op->name), op);
		assert_ptr_equal(host_op_for_action(op->action), op);
		assert_string_equal(journal_kind_to_string(k), op->name);
		assert_int_equal(journal_kind_from_string(op->name), k);
		assert_non_null(op->check);
		assert_non_null(op->inspect);
		assert_non_null(op->describe);
		assert_non_null(op->apply);
		assert_non_null(op->revert);
	}
	/* every plan action is carried out by exactly one row */
	for (int a = 0; a < _PLAN_ACTION_KIND_MAX; a++) {
		const struct host_op *op = host_op_for_action(a);

		assert_non_null(op);
		assert_int_equal(op->action, a);
	}
	assert_null(host_op_get(_JOURNAL_KIND_MAX));
	assert_null(host_op_from_name("frob"));
	assert_null(host_op_from_name(NULL));
}

/* Each row's entry formatted, then parsed back to the same fields. */
static void test_roundtrip(void **state)
{
	static const struct {
		enum journal_kind k;
		const char *target, *value, *extra;
	} cases[] = {
		{ JOURNAL_MODULE, "vfio_pci", NULL, NULL },
		{ JOURNAL_ROM, "/var/lib/gpurun/roms/a b.bin", "new", NULL },
		{ JOURNAL_VTCON, "vtcon1", "1", NULL },
		{ JOURNAL_PLATFORM, "efi-framebuffer.0", "efi-framebuffer", NULL },
		{ JOURNAL_BIND, "0000:c4:00.1", "snd_hda_intel", "" },
		{ JOURNAL_BIND, "0000:c4:00.0", "", "vfio-pci" },
	};
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *line = journal_format_entry(cases[i].k, cases[i].target,
								 cases[i].value, cases[i].extra),
				    *text = NULL;
		_cleanup_(journal_freep) struct journal *j = NULL;
		_cleanup_(error_clear) struct error err = {};

		assert_non_null(line);
		assert_true(startswith(line, host_op_get(cases[i].k)->name));
		assert_non_null(text = strdup_printf("gpurun-journal 1 vm 1\n%s", line));
		assert_int_equal(journal_parse(text, strlen(text), &j, &err), 0);
		assert_int_equal(j->n_entries, 1);
		assert_int_equal(j->entries[0].kind, cases[i].k);
		assert_string_equal(j->entries[0].target, cases[i].target);
		if (cases[i].value)
			assert_string_equal(j->entries[0].value, cases[i].value);
		else
			assert_null(j->entries[0].value);
		if (cases[i].extra)
			assert_string_equal(j->entries[0].extra, cases[i].extra);
		else
			assert_null(j->entries[0].extra);
	}
}

/* What a row's check refuses: names that would leave the directory they are joined to. */
static void test_check(void **state)
{
	static const char *const bad[] = {
		"module ../x\n",
		"rom relative/path new\n",
		"vtcon vtcon1/../../x 1\n",
		"vtcon fb0 1\n",
		"platform efi-framebuffer.0 ../x\n",
		"bind 0000:c4:00.0 driver=../../x override=\n",
		"bind 0000:c4:00.0 driver= override=a/b\n",
	};
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		_cleanup_free_ char *text = strdup_printf("gpurun-journal 1 vm 1\n%s", bad[i]);
		_cleanup_(journal_freep) struct journal *j = NULL;
		_cleanup_(error_clear) struct error err = {};

		if (journal_parse(text, strlen(text), &j, &err) != -EBADMSG)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(err.line, 2);
	}
}

struct tree {
	char *dir;
	struct ctx *c;
	char **said;
};

static void record(void *userdata, const char *line)
{
	struct tree *t = userdata;

	assert_int_equal(strv_extend(&t->said, line), 0);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	t->dir = testutil_mkroot();
	testutil_put(t->dir, "sys/class/vtconsole/vtcon1/bind", "1\n");
	testutil_mkdir(t->dir, "sys/devices/platform/efi-framebuffer.0");
	testutil_mkdir(t->dir, "sys/bus/platform/devices");
	testutil_symlink(t->dir, "../../../devices/platform/efi-framebuffer.0",
			 "sys/bus/platform/devices/efi-framebuffer.0");
	testutil_put(t->dir, "sys/bus/platform/drivers/efi-framebuffer/bind", "");
	testutil_put(t->dir, "sys/bus/platform/drivers/efi-framebuffer/unbind", "");
	testutil_symlink(t->dir, "../../../bus/platform/drivers/efi-framebuffer",
			 "sys/devices/platform/efi-framebuffer.0/driver");
	assert_int_equal(ctx_new(t->dir, NULL, &t->c), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;

	ctx_free(t->c);
	strv_free(t->said);
	testutil_rmroot(t->dir);
	free(t);
	return 0;
}

static void test_run_and_revert(void **state)
{
	struct tree *t = *state;
	_cleanup_(journal_freep) struct journal *j = NULL;
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *v = NULL, *u = NULL;
	struct prepare_options dry = { .dry_run = true, .say = record, .userdata = t },
			       real = { .say = record, .userdata = t };
	struct host_op_env x = { .c = t->c, .o = &dry };
	struct plan_action con = { .kind = PLAN_ACTION_UNBIND_CONSOLE, .target = (char *)"vtcon1" },
			   fb = { .kind = PLAN_ACTION_UNBIND_FRAMEBUFFER,
				  .target = (char *)"efi-framebuffer.0" };
	struct revert_report rep = {};

	/* dry run: described, nothing written */
	assert_int_equal(host_op_run(&x, &con, NULL, &err), 0);
	assert_int_equal(host_op_run(&x, &fb, NULL, &err), 0);
	assert_int_equal(strv_length(t->said), 2);
	assert_true(startswith(t->said[0], "unbind console vtcon1 (write 0 to "));
	assert_string_equal(t->said[1], "unbind efi-framebuffer.0 from efi-framebuffer");
	v = testutil_read(t->dir, "sys/class/vtconsole/vtcon1/bind");
	assert_string_equal(v, "1\n");
	free(v);

	/* for real: journal entry first, then the change */
	assert_int_equal(journal_create(t->c, "vm", &j, NULL), 0);
	x.o = &real;
	x.j = j;
	assert_int_equal(host_op_run(&x, &con, NULL, &err), 0);
	assert_int_equal(host_op_run(&x, &fb, NULL, &err), 0);
	assert_int_equal(j->n_entries, 2);
	assert_int_equal(j->entries[0].kind, JOURNAL_VTCON);
	assert_string_equal(j->entries[0].value, "1");
	assert_int_equal(j->entries[1].kind, JOURNAL_PLATFORM);
	assert_string_equal(j->entries[1].value, "efi-framebuffer");
	v = testutil_read(t->dir, "sys/class/vtconsole/vtcon1/bind");
	assert_string_equal(v, "0");
	u = testutil_read(t->dir, "sys/bus/platform/drivers/efi-framebuffer/unbind");
	assert_string_equal(u, "efi-framebuffer.0");
	free(v);

	/* an unbound console needs nothing: no entry */
	assert_int_equal(host_op_run(&x, &con, NULL, &err), 0);
	assert_int_equal(j->n_entries, 2);

	/* revert: both rows, last first */
	assert_int_equal(revert_journal(t->c, j, 50, &rep), 0);
	assert_int_equal(rep.n_failed, 0);
	v = testutil_read(t->dir, "sys/class/vtconsole/vtcon1/bind");
	assert_string_equal(v, "1");
	free(v);
	v = testutil_read(t->dir, "sys/bus/platform/drivers/efi-framebuffer/bind");
	assert_string_equal(v, "efi-framebuffer.0");
	revert_report_done(&rep);
}

static void test_rom_revert(void **state)
{
	struct tree *t = *state;
	_cleanup_free_ char *made = testutil_path(t->dir, "made.rom"),
			    *kept = testutil_path(t->dir, "kept.rom");
	struct journal_entry n = { .kind = JOURNAL_ROM, .target = made, .value = (char *)"new" },
			     e = { .kind = JOURNAL_ROM,
				   .target = kept,
				   .value = (char *)"existing" };
	struct revert_report rep = {};

	testutil_put(t->dir, "made.rom", "x");
	testutil_put(t->dir, "kept.rom", "y");
	assert_int_equal(host_op_get(JOURNAL_ROM)->revert(t->c, &n, 10, &rep), 0);
	assert_int_equal(host_op_get(JOURNAL_ROM)->revert(t->c, &e, 10, &rep), 0);
	assert_false(hostfs_exists(made)); /* gpurun created it */
	assert_true(hostfs_exists(kept));  /* it did not */
	assert_int_equal(rep.n_failed, 0);
	revert_report_done(&rep);
}

static void test_read_full_file_regular_only(void **state)
{
	struct tree *t = *state;
	_cleanup_free_ char *fifo = testutil_path(t->dir, "fifo"), *dir = testutil_path(t->dir, ""),
			    *file = testutil_path(t->dir, "file"), *buf = NULL;
	size_t len;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* no writer: a blocking open would never return */
	assert_int_equal(read_full_file(fifo, 4096, &buf, &len), -EINVAL);
	assert_string_equal(read_full_file_strerror(-EINVAL),
			    "not a regular file (a FIFO, device or socket)");
	assert_int_equal(read_full_file(dir, 4096, &buf, &len), -EISDIR);
	assert_int_equal(read_full_file("/dev/null", 4096, &buf, &len), -EINVAL);
	testutil_put(t->dir, "file", "abc");
	assert_int_equal(read_full_file(file, 4096, &buf, &len), 0);
	assert_int_equal(len, 3);
	assert_string_equal(buf, "abc");
}

/* modprobe.d is read under --root: an alias only ROOT/etc/modprobe.d knows resolves, and the
 * configuration of the machine running the test does not count. */
static void test_kmod_config_under_root(void **state _unused_)
{
	_cleanup_free_ char *root = testutil_mkroot(),
			    *lib = realpath("tests/fixtures/hosts/strix-halo/lib", NULL);
	_cleanup_strv_free_ char **names = NULL;
	struct ctx *c = NULL;

	assert_non_null(lib);
	testutil_symlink(root, lib, "lib");
	testutil_put(root, "proc/sys/kernel/osrelease", "6.8.12-4-pve\n");
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(kmodule_lookup(c, "gpurun-test-alias", &names), 0);
	assert_null(names[0]);
	ctx_free(c);
	names = strv_free(names);

	testutil_put(root, "etc/modprobe.d/test.conf", "alias gpurun-test-alias vfio_pci\n");
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(kmodule_lookup(c, "gpurun-test-alias", &names), 0);
	assert_non_null(names[0]);
	assert_string_equal(names[0], "vfio_pci");
	ctx_free(c);
	testutil_rmroot(TAKE_PTR(root));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_check),
		cmocka_unit_test_setup_teardown(test_run_and_revert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rom_revert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_full_file_regular_only, setup, teardown),
		cmocka_unit_test(test_kmod_config_under_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
