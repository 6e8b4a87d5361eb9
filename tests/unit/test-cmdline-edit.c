/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command-line editors on the inputs that went wrong in the field (issue 13, items 1-3):
 * shell quoting in /etc/default/grub, assignments the value does not come from, `--`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <wordexp.h>

#include "core/diag.h"
#include "hostcfg/cmdline-edit.h"
#include "hostcfg/modprobe-edit.h"
#include "testutil.h"
#include "util/error.h"
#include "util/strv.h"

static char **sv2(const char *a, const char *b)
{
	char **l = strv_new_empty();

	assert_non_null(l);
	if (a)
		assert_int_equal(strv_extend(&l, a), 0);
	if (b)
		assert_int_equal(strv_extend(&l, b), 0);
	return l;
}

static void assert_tokens(char *const *t, const char *joined)
{
	_cleanup_free_ char *j = strv_join(t, " ");

	assert_non_null(j);
	assert_string_equal(j, joined);
}

static void grub_expect(const char *in, const char *out)
{
	_cleanup_strv_free_ char **add = sv2("amd_iommu=on", "iommu=pt");
	_cleanup_(error_clear) struct error err = {};
	char *got = NULL;

	if (cmdline_grub_edit(in, strlen(in), add, &got, &err) < 0)
		fail_msg("refused: %s (line %u) for %s", strna(err.message), err.line, in);
	assert_string_equal(got, out);
	free(got);
}

static void grub_refuse(const char *in, unsigned line, const char *msg)
{
	_cleanup_strv_free_ char **add = sv2("amd_iommu=on", "iommu=pt");
	_cleanup_strv_free_ char **tok = NULL;
	_cleanup_(error_clear) struct error err = {};
	char *got = NULL;

	if (cmdline_grub_edit(in, strlen(in), add, &got, &err) != -EINVAL)
		fail_msg("not refused: %s -> %s", in, strna(got));
	assert_null(got);
	assert_int_equal(err.line, line);
	assert_null(err.file);
	if (!strstr(err.message, msg))
		fail_msg("'%s' does not say '%s'", err.message, msg);
	error_clear(&err);
	/* the same file gives no parameters either: check and compute read it the same way */
	assert_int_equal(cmdline_grub_params(in, strlen(in), &tok, NULL, &err), -EINVAL);
	assert_int_equal(err.line, line);
}

/* Item 1: a backslash-escaped space is part of the value, not the end of the word. */
static void test_grub_backslash_space(void **state)
{
	const char *in = "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=quiet\\ splash\n";
	_cleanup_strv_free_ char **tok = NULL;

	(void)state;
	assert_int_equal(cmdline_grub_tokens(in, strlen(in), &tok, NULL), 0);
	assert_tokens(tok, "quiet splash");
	grub_expect(
	    in,
	    "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash amd_iommu=on iommu=pt\"\n");
	/* mixed quoting: the value is rewritten in double quotes, escapes where needed */
	grub_expect("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\\ 'splash'\"\"\n",
		    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash amd_iommu=on iommu=pt\"\n");
	grub_expect("GRUB_CMDLINE_LINUX_DEFAULT='a \"b\"'\\$x # c\n",
		    "GRUB_CMDLINE_LINUX_DEFAULT=\"a \\\"b\\\"\\$x amd_iommu=on iommu=pt\" # c\n");
	/* one quoted string: appended inside it, $NAME references kept */
	grub_expect("X='a  b'\nGRUB_CMDLINE_LINUX_DEFAULT=\"$X quiet \"\n",
		    "X='a  b'\nGRUB_CMDLINE_LINUX_DEFAULT=\"$X quiet amd_iommu=on iommu=pt\"\n");
	grub_expect("GRUB_CMDLINE_LINUX_DEFAULT=\n",
		    "GRUB_CMDLINE_LINUX_DEFAULT=\"amd_iommu=on iommu=pt\"\n");
	/* a Debian file: command substitutions elsewhere are not ours to evaluate */
	grub_expect("GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
		    "GRUB_DISTRIBUTOR2=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
		    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
		    "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
		    "GRUB_DISTRIBUTOR2=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
		    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet amd_iommu=on iommu=pt\"\n");
}

/* The parser against glibc's wordexp(3) (WRDE_NOCMD: it runs no shell for these): the same
 * words for each value, before and after the edit. Test-only: wordexp reads the environment
 * and globs, which an editor must not. */
static void test_grub_wordexp_oracle(void **state)
{
	static const char *const values[] = {
		"quiet\\ splash", "\"quiet splash\"",	 "'quiet splash'",     "\"a b\"'c d'e\\ f",
		"'x'\\''y'\\ z",  "\"a\\\\b\"\\ c\\\\d", "\"\\q\\$x\"",	       "",
		"\"\"",		  "a'b'\"c\"\\d",	 "root=UUID=1\\ \\ x",
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(values); i++) {
		_cleanup_strv_free_ char **add = sv2("amd_iommu=on", "iommu=pt");
		_cleanup_strv_free_ char **tok = NULL, **want = strv_new_empty();
		_cleanup_free_ char *in = NULL, *out = NULL, *word = NULL;
		wordexp_t we;
		const char *eq;
		char *nl;

		assert_true(asprintf(&in, "GRUB_CMDLINE_LINUX_DEFAULT=%s\n", values[i]) > 0);
		assert_int_equal(wordexp(values[i], &we, WRDE_NOCMD | WRDE_UNDEF), 0);
		for (size_t k = 0; k < we.we_wordc; k++) {
			_cleanup_strv_free_ char **w = NULL;

			assert_int_equal(strv_split(we.we_wordv[k], " \t", &w), 0);
			for (char **x = w; *x; x++)
				assert_int_equal(strv_extend(&want, *x), 0);
		}
		wordfree(&we);
		if (cmdline_grub_tokens(in, strlen(in), &tok, NULL) < 0)
			fail_msg("refused: %s", in);
		assert_int_equal(strv_length(tok), strv_length(want));
		for (size_t k = 0; want[k]; k++)
			assert_string_equal(tok[k], want[k]);

		/* what the editor wrote, expanded by wordexp: the old words, then ours */
		assert_int_equal(cmdline_grub_edit(in, strlen(in), add, &out, NULL), 0);
		eq = strchr(out, '=');
		assert_non_null(eq);
		word = strdup(eq + 1);
		assert_non_null(word);
		nl = strchr(word, '\n');
		assert_non_null(nl);
		*nl = 0;
		assert_int_equal(wordexp(word, &we, WRDE_NOCMD | WRDE_UNDEF), 0);
		assert_int_equal(strv_extend(&want, "amd_iommu=on"), 0);
		assert_int_equal(strv_extend(&want, "iommu=pt"), 0);
		{
			_cleanup_strv_free_ char **got = strv_new_empty();

			for (size_t k = 0; k < we.we_wordc; k++) {
				_cleanup_strv_free_ char **w = NULL;

				assert_int_equal(strv_split(we.we_wordv[k], " \t", &w), 0);
				for (char **x = w; *x; x++)
					assert_int_equal(strv_extend(&got, *x), 0);
			}
			wordfree(&we);
			assert_int_equal(strv_length(got), strv_length(want));
			for (size_t k = 0; want[k]; k++)
				assert_string_equal(got[k], want[k]);
		}
	}
}

/* Item 2: every assignment counts; where the value cannot be known, refuse with the line. */
static void test_grub_assignments(void **state)
{
	_cleanup_strv_free_ char **want = sv2("amd_iommu=on", "iommu=pt");
	const char *earlier =
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"amd_iommu=off\"\n"
	    "GRUB_TIMEOUT=5\n"
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} quiet\"\n";
	const char *overridden = "GRUB_CMDLINE_LINUX_DEFAULT=\"amd_iommu=off\"\n"
				 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n";
	const char *glinux = "GRUB_CMDLINE_LINUX=\"rhgb amd_iommu=off\"\n"
			     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n";
	char **tok = NULL, **add = NULL;
	unsigned *lines = NULL;
	struct diag_list d = { 0 };
	const struct diag *x;

	(void)state;
	/* an earlier assignment that a later one keeps: its amd_iommu=off is effective */
	assert_int_equal(cmdline_grub_params(earlier, strlen(earlier), &tok, &lines, NULL), 0);
	assert_tokens(tok, "amd_iommu=off quiet");
	assert_int_equal(lines[0], 1);
	assert_int_equal(lines[1], 3);
	assert_int_equal(cmdline_missing(tok, lines, want, "/etc/default/grub", &d, &add), 0);
	assert_int_equal(strv_length(add), 1);
	assert_string_equal(add[0], "iommu=pt");
	assert_int_equal(d.n, 1);
	x = &d.items[0];
	assert_string_equal(x->id, "hostcfg-conflict");
	assert_non_null(strstr(x->message, "/etc/default/grub has 'amd_iommu=off'"));
	assert_non_null(strstr(x->message, "not added (line 1)"));
	diag_list_clear(&d);
	tok = strv_free(tok);
	add = strv_free(add);
	free(lines);
	lines = NULL;

	/* an earlier assignment a later one replaces: not effective, no conflict */
	assert_int_equal(cmdline_grub_params(overridden, strlen(overridden), &tok, &lines, NULL),
			 0);
	assert_tokens(tok, "quiet");
	assert_int_equal(cmdline_missing(tok, lines, want, "/etc/default/grub", &d, &add), 0);
	assert_int_equal(strv_length(add), 2);
	assert_int_equal(d.n, 0);
	tok = strv_free(tok);
	add = strv_free(add);
	free(lines);
	lines = NULL;

	/* GRUB_CMDLINE_LINUX counts as well */
	assert_int_equal(cmdline_grub_params(glinux, strlen(glinux), &tok, &lines, NULL), 0);
	assert_tokens(tok, "rhgb amd_iommu=off quiet");
	assert_int_equal(cmdline_missing(tok, lines, want, "/etc/default/grub", &d, &add), 0);
	assert_non_null(strstr(d.items[0].message, "'amd_iommu=off'"));
	assert_non_null(strstr(d.items[0].message, "(line 1)"));
	diag_list_clear(&d);
	tok = strv_free(tok);
	add = strv_free(add);
	free(lines);

	/* blocks, conditionals, prefixes, and other ways to set the value: refused, with the line */
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nif [ -e /etc/foo ]; then\n"
		    "  GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nfi\n",
		    3, "inside a compound command");
	grub_refuse("case x in\n y) GRUB_CMDLINE_LINUX=\"a\" ;;\nesac\n", 2,
		    "GRUB_CMDLINE_LINUX is set inside a compound command");
	grub_refuse("f() {\nGRUB_CMDLINE_LINUX_DEFAULT=a\n}\n", 2, "compound");
	grub_refuse("{ GRUB_CMDLINE_LINUX_DEFAULT=a; }\n", 1, "compound");
	grub_refuse("for i in 1; do GRUB_CMDLINE_LINUX_DEFAULT=a; done\n", 1, "compound");
	grub_refuse("(GRUB_CMDLINE_LINUX_DEFAULT=a)\n", 1, "compound");
	grub_refuse("[ -e /x ] &&\n  GRUB_CMDLINE_LINUX_DEFAULT=a\n", 2, "conditional");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=a || true\n", 1, "conditional");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=a exec foo\n", 1, "prefix of a command");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT+=a\n", 1, "+=");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=\"$(cat /x)\"\n", 1, "command substitution");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=`cat /x`\n", 1, "command substitution");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT quiet\"\n", 1,
		    "$GRUB_CMDLINE_LINUX_DEFAULT, which is not set earlier");
	grub_refuse("X=`uname -r`\nGRUB_CMDLINE_LINUX_DEFAULT=\"$X\"\n", 2,
		    "$X, which is set on line 1 in a way gpurun does not evaluate");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=\"${X:-quiet}\"\n", 1, "operator");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nunset GRUB_CMDLINE_LINUX_DEFAULT\n", 2,
		    "changed by `unset`");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT='quiet\nsplash'\n", 1, "next line");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\n", 1, "never closed");
	grub_refuse("cat <<EOF\nGRUB_CMDLINE_LINUX_DEFAULT=a\nEOF\n", 1, "here-document");

	/* line continuations: removed before the shell reads the words */
	grub_expect("export \\\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n",
		    "export \\\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash amd_iommu=on "
		    "iommu=pt\"\n");
	grub_expect("GRUB_CMDLINE_LINUX=\"\" \\\n  GRUB_CMDLINE_LINUX_DEFAULT=quiet\n",
		    "GRUB_CMDLINE_LINUX=\"\" \\\n  GRUB_CMDLINE_LINUX_DEFAULT=\"quiet amd_iommu=on "
		    "iommu=pt\"\n");
	grub_refuse("GRUB_CMDLINE_LINUX_DEF\\\nAULT=\"quiet splash\"\n", 1,
		    "GRUB_CMDLINE_LINUX_DEFAULT is set with a line continuation");
	grub_refuse("X\\\nY=a\nGRUB_CMDLINE_LINUX_DEFAULT=\"$XY\"\n", 3, "$XY");
	grub_refuse(
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nunset \\\n  GRUB_CMDLINE_LINUX_DEFAULT\n", 2,
	    "changed by `unset`");
	/* another file sourced: it can set anything */
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n. /etc/default/grub.local\n", 2,
		    "`.` reads another file");
	grub_refuse("source /etc/x; GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n", 1, "`source`");
	/* DOS line endings: the CR is part of the line for the shell */
	grub_refuse("GRUB_DEFAULT=0\r\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\r\n", 1,
		    "carriage return");
	grub_refuse("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\r", 1, "carriage return");
	grub_expect("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\r\"\n",
		    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\r amd_iommu=on iommu=pt\"\n");

	/* what is not ours may be anywhere */
	grub_expect("if [ -x /usr/bin/x ]; then\n  GRUB_TIMEOUT=5\nfi\nexport "
		    "GRUB_CMDLINE_LINUX_DEFAULT=quiet\n",
		    "if [ -x /usr/bin/x ]; then\n  GRUB_TIMEOUT=5\nfi\nexport "
		    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet amd_iommu=on iommu=pt\"\n");
	/* the last assignment is the one edited; earlier ones stay as they are */
	grub_expect("GRUB_CMDLINE_LINUX_DEFAULT=x; GRUB_CMDLINE_LINUX_DEFAULT='y' # z\n",
		    "GRUB_CMDLINE_LINUX_DEFAULT=x; GRUB_CMDLINE_LINUX_DEFAULT='y amd_iommu=on "
		    "iommu=pt' # z\n");
}

/* Item 3: what follows `--` goes to init; the parameters go before it. */
static void test_kernel_dashdash(void **state)
{
	_cleanup_strv_free_ char **add = sv2("amd_iommu=on", "iommu=pt");
	_cleanup_strv_free_ char **tok = NULL;
	_cleanup_free_ unsigned *lines = NULL;
	const char *in = "root=ZFS=rpool/ROOT/pve-1 boot=zfs -- single\n";
	const char *two = "root=/dev/sda1 ro\nquiet --\n";
	const char *entry = "title x\noptions root=UUID=1 -- single\noptions quiet\n";
	char *out = NULL;

	(void)state;
	assert_int_equal(cmdline_kernel_params(in, strlen(in), &tok, &lines, NULL), 0);
	assert_tokens(tok, "root=ZFS=rpool/ROOT/pve-1 boot=zfs");
	assert_int_equal(cmdline_edit(in, strlen(in), add, &out, NULL), 0);
	assert_string_equal(out, "root=ZFS=rpool/ROOT/pve-1 boot=zfs amd_iommu=on iommu=pt -- "
				 "single\n");
	free(out);
	assert_int_equal(cmdline_edit("-- single", 9, add, &out, NULL), 0);
	assert_string_equal(out, "amd_iommu=on iommu=pt -- single\n");
	free(out);
	assert_int_equal(cmdline_edit(two, strlen(two), add, &out, NULL), 0);
	assert_string_equal(out, "root=/dev/sda1 ro\nquiet amd_iommu=on iommu=pt --\n");
	free(out);
	/* a quoted "--" is a value, not the separator */
	assert_int_equal(cmdline_edit("a=\"x -- y\"\n", 11, add, &out, NULL), 0);
	assert_string_equal(out, "a=\"x -- y\" amd_iommu=on iommu=pt\n");
	free(out);
	/* a parameter present only after `--` is not the kernel's */
	tok = strv_free(tok);
	assert_int_equal(cmdline_kernel_params("quiet -- iommu=pt", 17, &tok, NULL, NULL), 0);
	assert_tokens(tok, "quiet");

	assert_int_equal(cmdline_entry_edit(entry, strlen(entry), add, &out, NULL), 0);
	assert_string_equal(out, "title x\noptions root=UUID=1 amd_iommu=on iommu=pt -- single\n"
				 "options quiet\n");
	free(out);
	tok = strv_free(tok);
	assert_int_equal(cmdline_entry_tokens(entry, strlen(entry), &tok, NULL), 0);
	assert_tokens(tok, "root=UUID=1");
}

/* Item 4: the vfio-pci line from a popular guide. */
static const char guide[] = "options vfio-pci ids=(1002:164e,1002:1640) disable_vga=1 softdep "
			    "radeon pre: vfio-pci\n";

static const struct diag *find(const struct diag_list *d, enum diag_status s, const char *id)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].status == s && streq(d->items[i].id, id))
			return &d->items[i];
	return NULL;
}

static void test_modprobe_malformed(void **state)
{
	_cleanup_strv_free_ char **ids = sv2("1002:1586", "1002:1640");
	_cleanup_strv_free_ char **soft = sv2("amdgpu", NULL);
	_cleanup_strv_free_ char **got = NULL;
	struct diag_list d = { 0 };
	const struct diag *x;
	char *out = NULL;

	(void)state;
	/* our own file: rewritten, never merged into the broken token */
	assert_int_equal(modprobe_vfio_edit(guide, strlen(guide), ids, soft,
					    "/etc/modprobe.d/vfio.conf", &d, &out, NULL),
			 0);
	assert_string_equal(out,
			    "options vfio-pci ids=1002:164e,1002:1640,1002:1586 disable_vga=1\n"
			    "softdep radeon pre: vfio-pci\n"
			    "softdep amdgpu pre: vfio-pci\n");
	x = find(&d, DIAG_WARN, "hostcfg-modprobe-malformed");
	assert_non_null(x);
	assert_non_null(strstr(x->message, "/etc/modprobe.d/vfio.conf:1:"));
	assert_non_null(
	    strstr(x->message, "'(1002:164e' is not VENDOR:DEVICE (read as 1002:164e)"));
	assert_non_null(strstr(x->message, "'softdep radeon pre: vfio-pci' is a directive"));
	diag_list_clear(&d);
	/* the result is well-formed: a second run changes nothing and says nothing */
	{
		char *again = NULL;

		assert_int_equal(
		    modprobe_vfio_edit(out, strlen(out), ids, soft, "x", &d, &again, NULL), 0);
		assert_string_equal(again, out);
		assert_int_equal(d.n, 0);
		free(again);
	}
	assert_int_equal(modprobe_vfio_lint(out, strlen(out), "x", &d, NULL), 0);
	assert_int_equal(d.n, 0);
	free(out);

	/* a file gpurun does not write: a FAIL with the line and the fix, nothing changed */
	assert_int_equal(
	    modprobe_vfio_lint(guide, strlen(guide), "/etc/modprobe.d/gpu.conf", &d, NULL), 1);
	x = find(&d, DIAG_FAIL, "hostcfg-modprobe-malformed");
	assert_non_null(x);
	assert_non_null(strstr(x->message, "/etc/modprobe.d/gpu.conf:1: malformed"));
	assert_non_null(strstr(x->fix, "'options vfio-pci ids=1002:164e,1002:1640 disable_vga=1' "
				       "and 'softdep radeon pre: vfio-pci'"));
	diag_list_clear(&d);

	/* other malformed words; a well-formed line with every parameter passes */
	assert_int_equal(
	    modprobe_vfio_lint("options vfio_pci ids=xyz disable_vga=2 foo=1\n"
			       "options vfio-pci ids=1002:1586:ffffffff:ffffffff:030000:"
			       "ffff00,10de:2684 nointxmask disable_idle_d3=Y "
			       "enable_sriov=off disable_denylist=0 # ok\n",
			       188, "f", &d, NULL),
	    1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.items[0].message, "f:1:"));
	assert_non_null(strstr(d.items[0].message, "'xyz' is not VENDOR:DEVICE (dropped)"));
	assert_non_null(strstr(d.items[0].message, "'disable_vga=2' is not a boolean"));
	assert_non_null(strstr(d.items[0].message, "'foo=1' is not a vfio-pci parameter"));
	assert_non_null(strstr(d.items[0].fix, "Remove that line"));
	diag_list_clear(&d);

	/* two ids= lines: the kernel keeps the last; one line gets them all */
	assert_int_equal(modprobe_vfio_edit("options vfio-pci ids=10de:2684\n"
					    "options vfio-pci ids=1002:1586 disable_vga=1\n",
					    76, ids, NULL, "v", &d, &out, NULL),
			 0);
	assert_string_equal(out, "options vfio-pci ids=10de:2684,1002:1586,1002:1640\n"
				 "options vfio-pci disable_vga=1\n");
	assert_non_null(find(&d, DIAG_WARN, "hostcfg-modprobe-conflict"));
	assert_int_equal(modprobe_vfio_ids(out, strlen(out), &got, NULL), 0);
	assert_int_equal(strv_length(got), 3);
	diag_list_clear(&d);
	free(out);
	strv_free(got);
	got = NULL;

	/* a directive run into the line is itself a malformed options line (found by
	 * fuzz-hostcfg-edit): it is repaired in turn; a line left with no parameter goes */
	{
		const char *nested = "options vfio-pci ids=(1002:1x a options vfio-pci "
				     "ids=(1002:1586,zz) bogus\n";
		char *again = NULL;

		assert_int_equal(
		    modprobe_vfio_edit(nested, strlen(nested), ids, NULL, "n", &d, &out, NULL), 0);
		assert_string_equal(out,
				    "options vfio-pci ids=1002:1586,1002:1640 disable_vga=1\n");
		assert_non_null(strstr(d.items[0].message, "n:1: malformed vfio-pci options line, "
							   "removed"));
		diag_list_clear(&d);
		assert_int_equal(modprobe_vfio_lint(out, strlen(out), "n", &d, NULL), 0);
		assert_int_equal(
		    modprobe_vfio_edit(out, strlen(out), ids, NULL, "n", &d, &again, NULL), 0);
		assert_string_equal(again, out);
		assert_int_equal(d.n, 0);
		free(again);
		free(out);
		/* the advice for a foreign file is a line that is itself well-formed */
		assert_int_equal(modprobe_vfio_lint(nested, strlen(nested), "g", &d, NULL), 1);
		assert_non_null(strstr(d.items[0].fix, "Replace that line with 'options vfio-pci "
						       "ids=1002:1586'"));
		diag_list_clear(&d);
	}
}

/* modprobe joins a line that ends with a backslash with the next one: the ids there count, a
 * continued line is no malformed one, and an untouched one is written back as it was. */
static void test_modprobe_continuation(void **state)
{
	_cleanup_strv_free_ char **ids = sv2("1002:1586", "1002:1640");
	_cleanup_strv_free_ char **soft = sv2("amdgpu", NULL);
	_cleanup_strv_free_ char **got = NULL;
	const char *cont = "# mine\noptions vfio-pci \\\n  ids=10de:1b80 \\\n disable_vga=1\n"
			   "softdep amdgpu \\\n pre: vfio-pci\n";
	const char *bad = "# x\noptions vfio-pci \\\n  ids=(10de:1b80)\nsoftdep amdgpu pre: "
			  "vfio-pci\noptions vfio-pci \\\n ids=10de:10f0\n";
	struct diag_list d = { 0 };
	char *out = NULL;

	(void)state;
	assert_int_equal(modprobe_vfio_ids(cont, strlen(cont), &got, NULL), 0);
	assert_tokens(got, "10de:1b80");
	assert_int_equal(modprobe_vfio_lint(cont, strlen(cont), "c", &d, NULL), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(modprobe_vfio_edit(cont, strlen(cont), ids, soft, "c", &d, &out, NULL), 0);
	assert_string_equal(out, "# mine\noptions vfio-pci ids=10de:1b80,1002:1586,1002:1640 "
				 "disable_vga=1\nsoftdep amdgpu \\\n pre: vfio-pci\n");
	assert_int_equal(d.n, 0);
	free(out);
	/* nothing to add: byte for byte */
	assert_int_equal(modprobe_vfio_edit(cont, strlen(cont), got, soft, "c", &d, &out, NULL), 0);
	assert_string_equal(out, cont);
	free(out);

	/* a last line that ends with a backslash: what is appended is not joined to it */
	assert_int_equal(
	    modprobe_vfio_edit("blacklist nouveau \\", 19, ids, soft, "e", &d, &out, NULL), 0);
	assert_string_equal(out, "blacklist nouveau \\\n\noptions vfio-pci ids=1002:1586,1002:1640 "
				 "disable_vga=1\nsoftdep amdgpu pre: vfio-pci\n");
	strv_free(got);
	got = NULL;
	assert_int_equal(modprobe_vfio_ids(out, strlen(out), &got, NULL), 0);
	assert_tokens(got, "1002:1586 1002:1640");
	free(out);
	{
		_cleanup_strv_free_ char **bl = sv2("amdgpu", NULL);

		assert_int_equal(
		    modprobe_blacklist_edit("blacklist radeon \\\n", 19, bl, &out, NULL), 0);
		assert_string_equal(out, "blacklist radeon \\\n\nblacklist amdgpu\n");
		free(out);
	}

	/* a word that ends with a backslash, a blank after it: a rewritten line keeps the blank, or
	 * it would continue on the next line (found by fuzz-hostcfg-edit) */
	{
		const char *w = "softdep amdgpu pre: foo\\ \noptions vfio-pci ids=1002:1586 "
				"disable_vga=1\\ splash\noptions vfio-pci softdep x pre: y\\ # c\n"
				"blacklist radeon\n";

		assert_int_equal(modprobe_vfio_edit(w, strlen(w), ids, soft, "w", &d, &out, NULL),
				 0);
		assert_string_equal(out,
				    "softdep amdgpu pre: vfio-pci foo\\ \n"
				    "options vfio-pci ids=1002:1586,1002:1640 disable_vga=1\\ \n"
				    "# c\nsoftdep x pre: y\\ \n"
				    "blacklist radeon\n");
		diag_list_clear(&d);
		assert_int_equal(modprobe_vfio_lint(out, strlen(out), "w", &d, NULL), 0);
		free(out);
	}

	/* a malformed continued line: named by the line it starts on, in both file kinds */
	assert_int_equal(modprobe_vfio_lint(bad, strlen(bad), "b", &d, NULL), 1);
	assert_non_null(strstr(d.items[0].message, "b:2: malformed"));
	diag_list_clear(&d);
	assert_int_equal(modprobe_vfio_edit(bad, strlen(bad), ids, soft, "b", &d, &out, NULL), 0);
	assert_non_null(strstr(d.items[0].message, "b:2: malformed"));
	assert_non_null(find(&d, DIAG_WARN, "hostcfg-modprobe-conflict"));
	assert_string_equal(out,
			    "# x\noptions vfio-pci ids=10de:1b80,10de:10f0,1002:1586,1002:1640 "
			    "disable_vga=1\nsoftdep amdgpu pre: vfio-pci\noptions vfio-pci\n");
	diag_list_clear(&d);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grub_backslash_space),
		cmocka_unit_test(test_grub_wordexp_oracle),
		cmocka_unit_test(test_grub_assignments),
		cmocka_unit_test(test_kernel_dashdash),
		cmocka_unit_test(test_modprobe_malformed),
		cmocka_unit_test(test_modprobe_continuation),
	};

	return testutil_run(tests);
}
