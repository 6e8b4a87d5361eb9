/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal: the pure parser (every malformed line), formatting round trips, and the file and
 * lock functions in a temporary state dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/journal.h"
#include "testutil.h"
#include "util/strv.h"

static struct journal *parse_ok(const char *s)
{
	struct journal *j = NULL;
	unsigned line = 0;

	assert_int_equal(journal_parse(s, strlen(s), &j, &line), 0);
	assert_non_null(j);
	return j;
}

static unsigned parse_bad(const char *s)
{
	struct journal *j = NULL;
	unsigned line = 0;

	assert_int_equal(journal_parse(s, strlen(s), &j, &line), -EBADMSG);
	assert_null(j);
	return line;
}

static void test_parse(void **state)
{
	_cleanup_(journal_freep) struct journal *j = NULL;
	(void)state;

	j = parse_ok("gpurun-journal 1 win11 4242\n"
		     "module vfio_pci\n"
		     "rom /var/lib/gpurun/roms/vbios_1002_1586.bin new\n"
		     "vtcon vtcon1 1\n"
		     "platform efi-framebuffer.0 efi-framebuffer\n"
		     "bind 0000:c4:00.1 driver=snd_hda_intel override=\n"
		     "bind 0000:c4:00.0 driver= override=vfio-pci\n");
	assert_string_equal(j->vm, "win11");
	assert_int_equal(j->pid, 4242);
	assert_int_equal(j->n_entries, 6);
	assert_int_equal(j->entries[0].kind, JOURNAL_MODULE);
	assert_string_equal(j->entries[0].target, "vfio_pci");
	assert_null(j->entries[0].value);
	assert_int_equal(j->entries[1].kind, JOURNAL_ROM);
	assert_string_equal(j->entries[1].value, "new");
	assert_int_equal(j->entries[2].kind, JOURNAL_VTCON);
	assert_string_equal(j->entries[2].value, "1");
	assert_int_equal(j->entries[3].kind, JOURNAL_PLATFORM);
	assert_string_equal(j->entries[3].value, "efi-framebuffer");
	assert_int_equal(j->entries[4].kind, JOURNAL_BIND);
	assert_string_equal(j->entries[4].target, "0000:c4:00.1");
	assert_string_equal(j->entries[4].value, "snd_hda_intel");
	assert_string_equal(j->entries[4].extra, "");
	assert_int_equal(j->entries[4].line, 6);
	assert_string_equal(j->entries[5].value, "");
	assert_string_equal(j->entries[5].extra, "vfio-pci");
}

static void test_parse_cut_short(void **state)
{
	_cleanup_(journal_freep) struct journal *j = NULL;
	(void)state;

	/* a crash during the append of the last entry: that action never started */
	j = parse_ok("gpurun-journal 1 vm 1\nmodule vfio\nbind 0000:c4:00.1 driv");
	assert_int_equal(j->n_entries, 1);
	j = journal_free(j);
	j = parse_ok("gpurun-journal 1 vm 1\n");
	assert_int_equal(j->n_entries, 0);
}

static void test_parse_bad(void **state)
{
	(void)state;
	assert_int_equal(parse_bad(""), 1);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1"), 1); /* header cut short */
	assert_int_equal(parse_bad("gpurun-journal 2 vm 1\n"), 1);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 0\n"), 1);
	assert_int_equal(parse_bad("gpurun-journal 1 vm x\n"), 1);
	assert_int_equal(parse_bad("gpurun-journal 1 vm\n"), 1);
	assert_int_equal(parse_bad("journal 1 vm 1\n"), 1);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nmodule\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nmodule a b\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nmodule vfio\nfrob x\n"), 3);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nrom /x maybe\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nvtcon vtcon1\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nbind 0000:c4:00.0 amdgpu x\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nbind 0000:c4:00.0 driver=a\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nmodule  vfio\n"), 2); /* empty field */
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nmodule vfio \n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nmodule a\\x2\n"), 2); /* bad escape */
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nmodule a\\x00\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nmodule a\\y20\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nmodule a\tb\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nmodule a\\\n"), 2);
	{
		static const char nul[] = "gpurun-journal 1 vm 1\nmodule a\0b\n";
		struct journal *j = NULL;
		unsigned line = 0;

		assert_int_equal(journal_parse(nul, sizeof(nul) - 1, &j, &line), -EBADMSG);
		assert_int_equal(line, 2);
	}
}

static void test_format_roundtrip(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *doc = NULL;
	_cleanup_(journal_freep) struct journal *j = NULL;
	(void)state;

	a = journal_format_entry(JOURNAL_ROM, "/a dir/with\\back\tslash", "new", NULL);
	assert_non_null(a);
	assert_string_equal(a, "rom /a\\x20dir/with\\x5cback\\x09slash new\n");
	b = journal_format_entry(JOURNAL_BIND, "0000:c4:00.1", "", "some driver");
	assert_string_equal(b, "bind 0000:c4:00.1 driver= override=some\\x20driver\n");
	assert_null(journal_format_entry(JOURNAL_MODULE, "", NULL, NULL));
	assert_null(journal_format_entry(_JOURNAL_KIND_MAX, "x", NULL, NULL));
	assert_true(asprintf(&doc, "gpurun-journal 1 v 7\n%s%s", a, b) > 0);
	j = parse_ok(doc);
	assert_int_equal(j->n_entries, 2);
	assert_string_equal(j->entries[0].target, "/a dir/with\\back\tslash");
	assert_string_equal(j->entries[1].extra, "some driver");
}

static void test_files_and_locks(void **state)
{
	char *dir = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(journal_freep) struct journal *j = NULL, *k = NULL, *l = NULL, *other = NULL;
	_cleanup_strv_free_ char **vms = NULL;
	_cleanup_free_ char *holder = NULL, *holder2 = NULL, *state_dir = NULL, *lockc = NULL,
			    *lockp = NULL;
	unsigned line = 0;
	(void)state;

	state_dir = path_join(dir, "state");
	assert_int_equal(ctx_new(dir, state_dir, &c), 0);

	assert_int_equal(journal_create(c, "a/b", &j), -EINVAL);
	assert_int_equal(journal_create(c, "locks", &j), -EINVAL);
	assert_int_equal(journal_create(c, "vm1", &j), 0);
	assert_int_equal(journal_create(c, "vm1", &k), -EEXIST);
	assert_int_equal(journal_append(j, JOURNAL_MODULE, "vfio_pci", NULL, NULL), 0);
	assert_int_equal(journal_append(j, JOURNAL_BIND, "0000:c4:00.1", "snd_hda_intel", ""), 0);
	assert_int_equal(j->n_entries, 2);

	assert_int_equal(journal_load(c, "vm1", &k, &line), 0);
	assert_string_equal(k->vm, "vm1");
	assert_int_equal(k->pid, getpid());
	assert_int_equal(k->n_entries, 2);
	assert_string_equal(k->entries[1].value, "snd_hda_intel");
	assert_int_equal(journal_append(k, JOURNAL_MODULE, "x", NULL, NULL), -EBADF);
	assert_int_equal(journal_load(c, "nope", &l, &line), -ENOENT);

	/* locks: held by j; a second VM is refused with the holder's name and pid */
	assert_int_equal(journal_lock_device(c, j, "0000:c4:00.1", NULL), 0);
	assert_int_equal(journal_create(c, "vm2", &other), 0);
	assert_int_equal(journal_lock_device(c, other, "0000:c4:00.1", &holder), -EBUSY);
	assert_non_null(holder);
	assert_non_null(strstr(holder, "vm1 (pid "));
	/* restore of vm1 while vm1's run holds the lock: refused as well */
	assert_int_equal(journal_lock_entries(c, k, NULL), -EBUSY);

	/* vm1's process dies without revert (lock released, journal left): still refused */
	for (size_t i = 0; i < j->n_locks; i++)
		close(j->lock_fds[i]);
	j->n_locks = 0;
	assert_int_equal(journal_lock_device(c, other, "0000:c4:00.1", &holder2), -EBUSY);
	assert_string_equal(holder2, "vm1 (journal left)");
	/* ... while the restore of vm1 may take it over */
	assert_int_equal(journal_lock_entries(c, k, NULL), 0);
	lockp = path_join(state_dir, "locks/0000:c4:00.1.lock");
	assert_int_equal(read_full_file(lockp, 100, &lockc, NULL), 0);
	assert_true(startswith(lockc, "vm1 "));
	journal_unlock_all(k);
	assert_int_equal(journal_remove(c, "vm1"), 0);
	assert_int_equal(journal_remove(c, "vm1"), 0);
	/* journal gone, lock cleared: the second VM gets the device */
	assert_int_equal(journal_lock_device(c, other, "0000:c4:00.1", NULL), 0);

	assert_int_equal(journal_list(c, &vms), 0);
	assert_int_equal(strv_length(vms), 1);
	assert_string_equal(vms[0], "vm2");
	testutil_rmroot(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),		cmocka_unit_test(test_parse_cut_short),
		cmocka_unit_test(test_parse_bad),	cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_files_and_locks),
	};

	return testutil_run(tests);
}
