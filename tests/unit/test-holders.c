/* SPDX-License-Identifier: GPL-2.0-or-later */
/* host/holders.c: the device nodes of a PCI function and the processes holding them, from a
 * temporary root (sysfs drm/ and sound/ entries, /dev nodes, /proc/PID/fd links). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "host/ctx.h"
#include "host/holders.h"
#include "testutil.h"
#include "util/strv.h"

#define BDF "0000:03:00.0"
#define AUD "0000:03:00.1"

static void proc(const char *root, const char *pid, const char *comm, const char *uid)
{
	char rel[64], status[128];

	snprintf(rel, sizeof(rel), "proc/%s/comm", pid);
	testutil_put(root, rel, comm);
	snprintf(rel, sizeof(rel), "proc/%s/status", pid);
	snprintf(status, sizeof(status), "Name:\t%s\nUid:\t%s\t%s\t%s\t%s\n", comm, uid, uid, uid,
		 uid);
	testutil_put(root, rel, status);
}

static char *make_root(void)
{
	char *root = testutil_mkroot();
	char *rd = testutil_path(root, "dev/dri/renderD128");

	testutil_mkdir(root, "sys/devices/pci0000:00/" BDF "/drm/card1");
	testutil_mkdir(root, "sys/devices/pci0000:00/" BDF "/drm/renderD128");
	testutil_mkdir(root, "sys/devices/pci0000:00/" AUD "/sound/card2");
	testutil_mkdir(root, "sys/bus/pci/devices");
	testutil_symlink(root, "../../../devices/pci0000:00/" BDF, "sys/bus/pci/devices/" BDF);
	testutil_symlink(root, "../../../devices/pci0000:00/" AUD, "sys/bus/pci/devices/" AUD);
	for (const char *const *n =
		 (const char *const[]){ "dri/card0", "dri/card1", "dri/renderD128", "snd/controlC2",
					"snd/pcmC2D3p", "snd/pcmC12D0p", "snd/controlC1", "snd/seq",
					NULL };
	     *n; n++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "dev/%s", *n);
		testutil_put(root, rel, "");
	}
	testutil_put(root, "etc/passwd",
		     "root:x:0:0::/root:/bin/sh\nsddm:x:117:117::/:/bin/false\n");
	proc(root, "100", "sddm-helper", "117");
	testutil_mkdir(root, "proc/100/fd");
	testutil_symlink(root, "/dev/dri/card1", "proc/100/fd/5");
	proc(root, "200", "kwin_wayland", "1000");
	testutil_mkdir(root, "proc/200/fd");
	testutil_symlink(root, rd, "proc/200/fd/9"); /* a link with the root in front */
	testutil_symlink(root, "/dev/dri/card1", "proc/200/fd/10");
	testutil_symlink(root, "/dev/dri/card1", "proc/200/fd/11"); /* the same node twice */
	proc(root, "300", "pipewire", "1000");
	testutil_mkdir(root, "proc/300/fd");
	testutil_symlink(root, "/dev/snd/pcmC2D3p", "proc/300/fd/4");
	testutil_symlink(root, "/dev/snd/pcmC12D0p", "proc/300/fd/5"); /* card 12, not 2 */
	proc(root, "400", "vim", "0");
	testutil_mkdir(root, "proc/400/fd");
	testutil_symlink(root, "/dev/dri/card0", "proc/400/fd/3");
	free(rd);
	return root;
}

static void test_nodes(void **state)
{
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *j = NULL;
	char *root = make_root();

	(void)state;
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(holders_nodes(c, BDF, &l), 0);
	j = strv_join(l, " ");
	assert_string_equal(j, "/dev/dri/card1 /dev/dri/renderD128");
	l = strv_free(l);
	free(j);
	assert_int_equal(holders_nodes(c, AUD, &l), 0);
	j = strv_join(l, " ");
	assert_string_equal(j, "/dev/snd/controlC2 /dev/snd/pcmC2D3p");
	testutil_rmroot(root);
}

static void test_scan(void **state)
{
	_cleanup_(holder_list_clear) struct holder_list l = {};
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_free_ char *text = NULL;
	char *root = make_root();

	(void)state;
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(holders_scan(c, BDF, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.items[0].pid, 100);
	assert_string_equal(l.items[0].user, "sddm");
	assert_string_equal(l.items[0].command, "sddm-helper");
	assert_string_equal(l.items[0].node, "/dev/dri/card1");
	assert_true(l.items[0].display);
	assert_int_equal(l.items[1].pid, 200);
	assert_string_equal(l.items[1].user, "1000"); /* not in passwd */
	assert_string_equal(l.items[1].node, "/dev/dri/card1");
	assert_string_equal(l.items[2].node, "/dev/dri/renderD128");
	assert_string_equal(holders_display_manager(&l), "sddm");
	text = holders_format(&l);
	assert_string_equal(
	    text, "  NODE                   USER           PID COMMAND\n"
		  "  /dev/dri/card1         sddm           100 sddm-helper (display manager)\n"
		  "  /dev/dri/card1         1000           200 kwin_wayland (display server)\n"
		  "  /dev/dri/renderD128    1000           200 kwin_wayland (display server)\n");
	holder_list_clear(&l);
	assert_int_equal(holders_scan(c, AUD, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].pid, 300);
	assert_false(l.items[0].display);
	assert_null(holders_display_manager(&l));
	testutil_rmroot(root);
}

/* /proc/PID/comm is whatever the process set with PR_SET_NAME, unescaped: any user holding a
 * render node could otherwise write escape sequences to root's terminal through the table */
static void test_scan_hostile_comm(void **state)
{
	_cleanup_(holder_list_clear) struct holder_list l = {};
	_cleanup_(ctx_freep) struct ctx *c = NULL;
	_cleanup_free_ char *text = NULL;
	char *root = make_root();

	(void)state;
	proc(root, "500", "a\033]0;x\007\033[2Jb\x7f", "1000");
	testutil_mkdir(root, "proc/500/fd");
	testutil_symlink(root, "/dev/dri/renderD128", "proc/500/fd/3");
	assert_int_equal(ctx_new(root, NULL, &c), 0);
	assert_int_equal(holders_scan(c, BDF, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.items[3].pid, 500);
	assert_string_equal(l.items[3].command, "a?]0;x??[2Jb?");
	text = holders_format(&l);
	assert_null(strchr(text, '\033'));
	assert_null(strchr(text, '\x7f'));
	testutil_rmroot(root);
}

static void test_is_display(void **state)
{
	(void)state;
	assert_true(holders_is_display("gdm-wayland-ses"));
	assert_true(holders_is_display("gdm"));
	assert_true(holders_is_display("Xorg"));
	assert_true(holders_is_display("gnome-shell"));
	assert_false(holders_is_display("gdmx"));
	assert_false(holders_is_display("firefox"));
	assert_false(holders_is_display(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_scan_hostile_comm),
		cmocka_unit_test(test_is_display),
	};
	return testutil_run(tests);
}
