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
#include "host/liveness.h"
#include "host/statedir.h"
#include "testutil.h"
#include "util/error.h"
#include "util/strv.h"

static struct journal *parse_ok(const char *s)
{
	_cleanup_(error_clear) struct error err = {};
	struct journal *j = NULL;

	assert_int_equal(journal_parse(s, strlen(s), &j, &err), 0);
	assert_non_null(j);
	assert_false(error_is_set(&err));
	return j;
}

/* The 1-based line the error names; the message goes to *ret_msg (may be NULL). */
static unsigned parse_bad_msg(const char *s, size_t len, char **ret_msg)
{
	_cleanup_(error_clear) struct error err = {};
	struct journal *j = NULL;

	assert_int_equal(journal_parse(s, len, &j, &err), -EBADMSG);
	assert_null(j);
	assert_int_equal(err.errnum, EBADMSG);
	assert_non_null(err.message);
	assert_null(err.file); /* pure: the caller names the file */
	if (ret_msg)
		*ret_msg = TAKE_PTR(err.message);
	return err.line;
}

static unsigned parse_bad(const char *s)
{
	return parse_bad_msg(s, strlen(s), NULL);
}

/* The message for a bad @s contains @want. */
static void parse_says(const char *s, const char *want)
{
	_cleanup_free_ char *msg = NULL;

	parse_bad_msg(s, strlen(s), &msg);
	if (!strstr(msg, want))
		fail_msg("'%s' does not say '%s'", msg, want);
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

		assert_int_equal(parse_bad_msg(nul, sizeof(nul) - 1, NULL), 2);
	}
	/* fields that become sysfs paths on revert: no way out of their directory */
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nbind ../../x driver= override=\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nbind c4:00.0 driver= override=\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nbind 0000:C4:00.0 driver= override=\n"),
			 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nvtcon ../vtcon1 1\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nplatform .. efifb\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 1\nplatform efifb.0 ../../x\n"), 2);
	assert_int_equal(parse_bad("gpurun-journal 1 vm 2147483648\n"), 1);
}

static void test_parse_messages(void **state)
{
	(void)state;
	parse_says("", "not a gpurun journal (the file is empty)");
	parse_says("gpurun-journal 1 vm 1", "the first line is incomplete");
	parse_says("journal 1 vm 1\n", "the first line must be \"gpurun-journal 1 VM PID\"");
	parse_says("gpurun-journal 2 vm 1\n", "format '2' is not supported");
	parse_says("gpurun-journal 1 vm x\n", "bad process id 'x'");
	/* the words `gpurun restore` users see for a corrupt line (tests/cli/run.t greps them) */
	parse_says("gpurun-journal 1 vm 1\nbind\n", "not a gpurun journal line");
	parse_says("gpurun-journal 1 vm 1\nfrob x\n", "unknown entry 'frob'");
	parse_says("gpurun-journal 1 vm 1\nrom /x maybe\n", "expected \"rom PATH new|existing\"");
	parse_says("gpurun-journal 1 vm 1\nbind 0000:c4:00.0 amdgpu x\n",
		   "expected \"bind BDF driver=DRIVER override=OVERRIDE\"");
	parse_says("gpurun-journal 1 vm 1\nmodule a b c d e\n", "too many fields");
	parse_says("gpurun-journal 1 vm 1\nmodule a\\y20\n", "escape");
	parse_says("gpurun-journal 1 vm 1\nbind c4:00.0 driver= override=\n",
		   "'c4:00.0' is not a PCI address");
}

static void test_kind_table(void **state)
{
	(void)state;
	assert_string_equal(journal_kind_to_string(JOURNAL_MODULE), "module");
	assert_string_equal(journal_kind_to_string(JOURNAL_BIND), "bind");
	assert_null(journal_kind_to_string(_JOURNAL_KIND_MAX));
	assert_null(journal_kind_to_string((enum journal_kind) - 1));
	assert_int_equal(journal_kind_from_string("platform"), JOURNAL_PLATFORM);
	assert_int_equal(journal_kind_from_string("vtcon"), JOURNAL_VTCON);
	assert_int_equal(journal_kind_from_string("Bind"), -EINVAL);
	assert_int_equal(journal_kind_from_string(NULL), -EINVAL);
	for (int k = 0; k < _JOURNAL_KIND_MAX; k++)
		assert_int_equal(journal_kind_from_string(journal_kind_to_string(k)), k);
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

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && streq(s + n - m, suffix);
}

static void test_files_and_locks(void **state)
{
	char *dir = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(journal_freep) struct journal *j = NULL, *k = NULL, *l = NULL, *other = NULL;
	_cleanup_strv_free_ char **vms = NULL;
	_cleanup_free_ char *state_dir = NULL, *lockc = NULL, *lockp = NULL, *jpath = NULL,
			    *text = NULL;
	_cleanup_(error_clear) struct error err = {};
	(void)state;

	state_dir = path_join(dir, "state");
	assert_int_equal(ctx_new(dir, state_dir, &c), 0);

	assert_int_equal(journal_create(c, "a/b", &j, NULL), -EINVAL);
	assert_int_equal(journal_create(c, "locks", &j, NULL), -EINVAL);
	assert_int_equal(journal_create(c, "vm1", &j, NULL), 0);
	/* the first one's lock is held (by j, through another open file): a live run */
	assert_int_equal(journal_create(c, "vm1", &k, &err), -EBUSY);
	assert_non_null(strstr(err.message, "VM 'vm1' is already run by gpurun (pid "));
	error_clear(&err);
	assert_int_equal(journal_append(j, JOURNAL_MODULE, "vfio_pci", NULL, NULL), 0);
	assert_int_equal(journal_append(j, JOURNAL_BIND, "0000:c4:00.1", "snd_hda_intel", ""), 0);
	assert_int_equal(j->n_entries, 2);

	assert_int_equal(journal_load(c, "vm1", &k, &err), 0);
	assert_false(error_is_set(&err));
	assert_string_equal(k->vm, "vm1");
	assert_int_equal(k->pid, getpid());
	assert_int_equal(k->n_entries, 2);
	assert_string_equal(k->entries[1].value, "snd_hda_intel");
	assert_int_equal(journal_append(k, JOURNAL_MODULE, "x", NULL, NULL), -EBADF);
	assert_int_equal(journal_load(c, "nope", &l, &err), -ENOENT);
	assert_int_equal(err.errnum, ENOENT);
	assert_non_null(err.file);
	assert_true(ends_with(err.file, "state/nope/journal"));
	error_clear(&err);

	/* locks: held by j; a second VM is refused with the holder's name and pid */
	assert_int_equal(journal_lock_device(c, j, "0000:c4:00.1", NULL), 0);
	assert_int_equal(journal_create(c, "vm2", &other, NULL), 0);
	assert_int_equal(journal_lock_device(c, other, "0000:c4:00.1", &err), -EBUSY);
	assert_int_equal(err.errnum, EBUSY);
	assert_string_equal(err.device, "0000:c4:00.1");
	assert_non_null(strstr(err.message, "0000:c4:00.1 is in use by gpurun VM vm1 (pid "));
	text = error_format(&err);
	assert_string_equal(text, err.message); /* the address once, not "BDF: BDF is ..." */
	error_clear(&err);
	/* restore of vm1 while vm1's run holds the lock: refused as well */
	assert_int_equal(journal_lock_entries(c, k, NULL), -EBUSY);

	/* vm1's process dies without revert (lock released, journal left): still refused */
	for (size_t i = 0; i < j->n_locks; i++)
		close(j->lock_fds[i]);
	j->n_locks = 0;
	close(j->lock_fd);
	j->lock_fd = -1;
	/* nobody holds vm1 now, but its journal names changes: a new run must restore first */
	assert_int_equal(journal_create(c, "vm1", &l, &err), -EEXIST);
	assert_null(l);
	error_clear(&err);
	assert_int_equal(journal_lock_device(c, other, "0000:c4:00.1", &err), -EBUSY);
	assert_string_equal(err.message, "0000:c4:00.1 is in use by gpurun VM vm1 (journal left)");
	assert_string_equal(err.device, "0000:c4:00.1");
	error_clear(&err);
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

	/* a corrupt journal on disk: the error names its path and the line */
#define BAD_VM2 "gpurun-journal 1 vm2 1\nbind\n"
	jpath = path_join(state_dir, "vm2/journal");
	assert_int_equal(hostfs_write_atomic(jpath, BAD_VM2, strlen(BAD_VM2), 0600), 0);
	assert_int_equal(journal_load(c, "vm2", &l, &err), -EBADMSG);
	assert_null(l);
	assert_string_equal(err.file, jpath);
	assert_int_equal(err.line, 2);
	free(text);
	text = error_format(&err);
	assert_true(startswith(text, jpath));
	assert_non_null(strstr(text, "journal:2: not a gpurun journal line"));
	error_clear(&err);
	testutil_rmroot(dir);
}

static void test_list_vms(void **state)
{
	char *dir = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_strv_free_ char **strict = NULL, **suspect = NULL, **none = NULL;
	_cleanup_free_ char *state_dir = NULL, *fifo = NULL;
	(void)state;

	state_dir = path_join(dir, "state");
	assert_int_equal(ctx_new(dir, state_dir, &c), 0);
	/* no state dir: an empty list */
	assert_int_equal(statedir_list_vms(c, "journal", true, &none), 0);
	assert_int_equal(strv_length(none), 0);

	testutil_put(dir, "state/zeta/journal", "x");
	testutil_put(dir, "state/alpha/journal", "x");
	testutil_mkdir(dir, "state/empty");
	testutil_put(dir, "state/other/run", "x");
	testutil_put(dir, "state/locks/journal", "x");
	testutil_put(dir, "state/.hidden/journal", "x");
	testutil_put(dir, "state/plainfile", "x");
	testutil_mkdir(dir, "state/fifo");
	fifo = path_join(state_dir, "fifo/journal");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	testutil_symlink(dir, "alpha", "state/linked");
	testutil_symlink(dir, "nowhere", "state/dangling");
	testutil_mkdir(dir, "state/subdir-link");
	testutil_symlink(dir, "../alpha/journal", "state/subdir-link/journal");

	/* only a regular file counts, a symlinked VM dir is followed */
	assert_int_equal(statedir_list_vms(c, "journal", false, &strict), 0);
	assert_int_equal(strv_length(strict), 3);
	assert_string_equal(strict[0], "alpha");
	assert_string_equal(strict[1], "linked");
	assert_string_equal(strict[2], "zeta");

	/* what opening would refuse is listed too: a FIFO, a symlinked file, any symlinked dir */
	assert_int_equal(statedir_list_vms(c, "journal", true, &suspect), 0);
	assert_int_equal(strv_length(suspect), 6);
	assert_string_equal(suspect[0], "alpha");
	assert_string_equal(suspect[1], "dangling");
	assert_string_equal(suspect[2], "fifo");
	assert_string_equal(suspect[3], "linked");
	assert_string_equal(suspect[4], "subdir-link");
	assert_string_equal(suspect[5], "zeta");
	testutil_rmroot(dir);
}

static void test_liveness_records(void **state)
{
	_cleanup_(liveness_record_done) struct liveness_record r = {};
	_cleanup_free_ char *who = NULL;
	unsigned long long start;
	static const char rec[] = "gpurun 12 34\nqemu 56 78\nlibvirt win11 qemu:///system\n"
				  "junk line\nqemu 9 cut";
	(void)state;

	assert_int_equal(liveness_parse(rec, strlen(rec), &r), 0);
	assert_int_equal(r.gpurun_pid, 12);
	assert_true(r.gpurun_start == 34);
	assert_int_equal(r.qemu_pid, 56); /* the line cut short does not count */
	assert_string_equal(r.libvirt_domain, "win11");
	assert_string_equal(r.libvirt_uri, "qemu:///system");
	liveness_record_done(&r);

	/* ourselves: alive with our start time, not with another one (a reused pid) */
	assert_int_equal(liveness_pid_start(getpid(), &start), 0);
	assert_true(liveness_pid_alive(getpid(), start));
	assert_false(liveness_pid_alive(getpid(), start + 1));
	assert_int_equal(liveness_pid_start(0, &start), -ESRCH);

	/* nobody alive, lock free: nobody */
	r = (struct liveness_record){ .gpurun_pid = 999999999, .qemu_pid = 999999998 };
	assert_int_equal(liveness_describe(&r, false, "L", &who), 0);
	assert_null(who);
	/* the lock held, its gpurun alive */
	assert_int_equal(liveness_pid_start(getpid(), &start), 0);
	r.gpurun_pid = getpid();
	r.gpurun_start = start;
	assert_int_equal(liveness_describe(&r, true, "L", &who), 1);
	assert_non_null(strstr(who, "already run by gpurun (pid "));
	assert_non_null(strstr(who, "preparing the host"));
	who = mfree(who);
	/* its QEMU alive after gpurun is gone, lock held or not */
	r.gpurun_pid = 999999999;
	r.qemu_pid = getpid();
	r.qemu_start = start;
	assert_int_equal(liveness_describe(&r, false, "L", &who), 1);
	assert_non_null(strstr(who, "still running in QEMU pid "));
	assert_non_null(strstr(who, "(its gpurun, pid 999999999, is gone)"));
	who = mfree(who);
	/* held by something unknown */
	r.qemu_pid = 0;
	assert_int_equal(liveness_describe(&r, true, "/s/vm/lock", &who), 1);
	assert_string_equal(who, "held by a process started by gpurun (pid 999999999): /s/vm/lock "
				 "is locked");
}

static void test_journal_states(void **state)
{
	char *dir = testutil_mkroot();
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_(journal_freep) struct journal *j = NULL, *k = NULL;
	_cleanup_free_ char *state_dir = NULL, *vmdir = NULL, *jp = NULL, *text = NULL;
	_cleanup_(error_clear) struct error err = {};
	static const char *const no_change[] = { "", "gpurun-journal 1 vm 3",
						 "gpurun-journal 1 vm 3\n",
						 "gpurun-journal 1 vm 3\nmodule vf" };
	(void)state;

	state_dir = path_join(dir, "state");
	vmdir = path_join(state_dir, "vm");
	jp = path_join(vmdir, "journal");
	assert_int_equal(ctx_new(dir, state_dir, &c), 0);
	assert_int_equal(journal_open(c, "vm", false, &j, &err), -ENOENT);
	assert_false(error_is_set(&err));

	for (size_t i = 0; i < ELEMENTSOF(no_change); i++) {
		assert_int_equal(hostfs_mkdir_p(vmdir, 0700), 0);
		assert_int_equal(hostfs_write_atomic(jp, no_change[i], strlen(no_change[i]), 0600),
				 0);
		/* restore: loads with no entries */
		assert_int_equal(journal_open(c, "vm", false, &j, &err), 0);
		assert_int_equal(j->n_entries, 0);
		assert_int_equal(j->headerless, i < 2);
		j = journal_free(j);
		/* run: takes it over */
		assert_int_equal(journal_create(c, "vm", &k, &err), 0);
		assert_true(k->taken_over);
		assert_int_equal(journal_append(k, JOURNAL_MODULE, "vfio_pci", NULL, NULL), 0);
		/* ... and holds it: restore refuses, --force overrides and says who */
		assert_int_equal(journal_open(c, "vm", false, &j, &err), -EBUSY);
		assert_non_null(strstr(err.message, "VM 'vm' is already run by gpurun (pid "));
		error_clear(&err);
		assert_int_equal(journal_open(c, "vm", true, &j, &err), 0);
		assert_non_null(j->holder);
		assert_int_equal(j->lock_fd, -1);
		assert_int_equal(j->n_entries, 1);
		j = journal_free(j);
		assert_int_equal(journal_remove(c, "vm"), 0);
		k = journal_free(k);
	}

	/* what gpurun never writes is refused, with the file and line */
	assert_int_equal(hostfs_mkdir_p(vmdir, 0700), 0);
#define HOSTILE "gpurun-journal 1 vm 3\nmodule vfio_pci\nrom /etc/shadow new\n"
	assert_int_equal(hostfs_write_atomic(jp, HOSTILE, strlen(HOSTILE), 0600), 0);
	assert_int_equal(journal_open(c, "vm", false, &j, &err), -EBADMSG);
	assert_string_equal(err.file, jp);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.message, "outside gpurun's staging directories"));
	error_clear(&err);
	/* ... also for a run: no take-over, no change */
	assert_int_equal(journal_create(c, "vm", &k, &err), -EBADMSG);
	error_clear(&err);
#define OTHER_VM "gpurun-journal 1 other 3\nmodule vfio_pci\n"
	assert_int_equal(hostfs_write_atomic(jp, OTHER_VM, strlen(OTHER_VM), 0600), 0);
	assert_int_equal(journal_load(c, "vm", &j, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "names VM 'other'"));
	error_clear(&err);
	/* a journal others may write */
	assert_int_equal(chmod(jp, 0666), 0);
	assert_int_equal(journal_load(c, "vm", &j, &err), -EPERM);
	text = error_format(&err);
	assert_true(startswith(text, jp));
	assert_non_null(strstr(text, "writable by group or others (mode 0666)"));
	error_clear(&err);
	assert_int_equal(unlink(jp), 0);
	/* a symlink in place of the journal */
	assert_int_equal(symlink("/etc/passwd", jp), 0);
	assert_int_equal(journal_load(c, "vm", &j, &err), -ELOOP);
	assert_string_equal(err.file, jp);
	error_clear(&err);
	assert_int_equal(unlink(jp), 0);
	/* a state dir others may write */
	assert_int_equal(chmod(state_dir, 01777), 0);
	assert_int_equal(journal_create(c, "vm", &k, &err), -EPERM);
	assert_string_equal(err.file, state_dir);
	error_clear(&err);
	assert_int_equal(chmod(state_dir, 0700), 0);
	testutil_rmroot(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),		cmocka_unit_test(test_parse_cut_short),
		cmocka_unit_test(test_parse_bad),	cmocka_unit_test(test_parse_messages),
		cmocka_unit_test(test_kind_table),	cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_files_and_locks), cmocka_unit_test(test_liveness_records),
		cmocka_unit_test(test_list_vms),	cmocka_unit_test(test_journal_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
