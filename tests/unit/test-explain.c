/* SPDX-License-Identifier: GPL-2.0-or-later */
/* core/explain.c: the signature table's contract (ids, patterns that compile, every row with
 * its meaning, fix and source), matching lines into findings, and /dev/kmsg records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/explain.h"
#include "host/runlog.h"
#include "testutil.h"
#include "util/error.h"

static const char *const contract_ids[] = {
	"group-not-viable", "intremap-missing", "romfile-missing", "rom-unreadable", "rom-invalid",
	"kvm-missing",	    "firmware-missing", "bar-reserved",	   "device-dead",    "reset-failed",
	"d3-stuck",	    "memlock-limit",	"dma-fault",	   "device-busy",    "code43-hint",
};

static void test_table_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(contract_ids); i++) {
		const struct explain_signature *s = explain_signature_by_id(contract_ids[i]);

		assert_non_null(s);
		assert_false(s->benign);
	}
	for (size_t i = 0; i < explain_table_size; i++) {
		const struct explain_signature *s = &explain_table[i];

		assert_non_null(s->patterns[0]);
		assert_true(s->meaning && *s->meaning);
		assert_true(s->fix && *s->fix);
		/* every row names where its messages come from */
		assert_true(strstr(s->source, ".c") || strstr(s->source, "README") ||
			    strstr(s->source, "Microsoft"));
		for (size_t j = i + 1; j < explain_table_size; j++)
			assert_string_not_equal(s->id, explain_table[j].id);
		/* benign rows come last: a cause is always listed before them */
		if (i > 0 && explain_table[i - 1].benign)
			assert_true(s->benign);
	}
	assert_non_null(explain_signature_by_id("ecap-hidden"));
	assert_true(explain_signature_by_id("ecap-hidden")->benign);
	assert_null(explain_signature_by_id("no-such-id"));
}

static void test_compiles(void **state)
{
	_cleanup_(error_clear) struct error err = {};
	_cleanup_(explain_freep) struct explain *e = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(explain_new(&e, &err), 0);
	for (size_t i = 0; i < explain_table_size; i++)
		for (const char *const *p = explain_table[i].patterns; *p; p++)
			n++;
	assert_int_equal(e->n_compiled, n);
}

static struct explain *run(const char *text)
{
	struct explain *e = NULL;

	assert_int_equal(explain_new(&e, NULL), 0);
	assert_int_equal(explain_feed(e, "log", true, text, strlen(text)), 0);
	assert_int_equal(explain_finish(e, NULL, NULL), 0);
	return e;
}

static void test_benign_before_cause(void **state)
{
	_cleanup_(explain_freep) struct explain *e = run(
	    "[ 12.5] vfio-pci 0000:0b:00.0: vfio_ecap_init: hiding ecap 0x19@0x270\n"
	    "qemu-system-x86_64: -device vfio-pci,host=0000:0b:00.0: vfio 0000:0b:00.0: group 7 "
	    "is not viable\n");

	(void)state;
	assert_int_equal(e->n_findings, 2);
	assert_int_equal(explain_n_causes(e), 1);
	/* table order: the cause first, the harmless line after */
	assert_string_equal(e->findings[0].sig->id, "group-not-viable");
	assert_string_equal(e->findings[0].device, "0000:0b:00.0");
	assert_string_equal(e->findings[0].evidence[0].where, "log:2");
	assert_string_equal(e->findings[1].sig->id, "ecap-hidden");
	assert_true(e->findings[1].sig->benign);
	/* finished: nothing more is fed */
	assert_int_equal(explain_feed(e, "x", false, "y", 1), -EINVAL);
}

static void test_nothing_known(void **state)
{
	_cleanup_(explain_freep) struct explain *e =
	    run("qemu-system-x86_64: terminating on signal 15 from pid 4242\n"
		"vfio-pci 0000:03:00.0: vfio_bar_restore: reset recovery - restoring BARs\n");

	(void)state;
	assert_int_equal(explain_n_causes(e), 0);
	assert_int_equal(e->n_findings, 1);
	assert_string_equal(e->findings[0].sig->id, "bar-restore");
	assert_non_null(explain_collect[0]);
	assert_int_equal(e->n_lines, 2);
}

static void test_evidence(void **state)
{
	char line[1200];
	_cleanup_(explain_freep) struct explain *e = NULL;

	(void)state;
	/* a long line is cut around the match, which stays visible */
	memset(line, 'x', sizeof(line));
	memcpy(line + 600, " RLIMIT_MEMLOCK (65536) exceeded ", 33);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	e = run(line);
	assert_int_equal(e->n_findings, 1);
	assert_string_equal(e->findings[0].sig->id, "memlock-limit");
	assert_true(strlen(e->findings[0].evidence[0].text) <= EXPLAIN_EVIDENCE_MAX);
	assert_non_null(strstr(e->findings[0].evidence[0].text, "RLIMIT_MEMLOCK (65536) exceeded"));
	assert_true(strncmp(e->findings[0].evidence[0].text, "...", 3) == 0);
	e = explain_free(e);

	/* cut around the match, never inside a UTF-8 character (2 and 3 bytes long here) */
	for (size_t i = 0; i < 600; i += 2)
		memcpy(line + i, "\xc3\xa9", 2);
	memcpy(line + 600, " group 1 is not viable ", 23);
	for (size_t i = 623; i + 3 < sizeof(line) - 2; i += 3)
		memcpy(line + i, "\xe2\x82\xac", 3);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	for (size_t shift = 0; shift < 3; shift++) {
		const char *t;

		e = run(line + shift * 2);
		assert_int_equal(e->n_findings, 1);
		t = e->findings[0].evidence[0].text;
		assert_true(strlen(t) <= EXPLAIN_EVIDENCE_MAX);
		assert_non_null(strstr(t, "group 1 is not viable"));
		for (const unsigned char *c = (const unsigned char *)t; *c; c++)
			if (*c >= 0x80) {
				size_t n = *c >= 0xe0 ? 3 : 2;

				assert_true((*c & 0xc0) ==
					    0xc0); /* a lead byte, never a continuation */
				for (size_t k = 1; k < n; k++)
					assert_true((c[k] & 0xc0) == 0x80);
				c += n - 1;
			}
		e = explain_free(e);
	}

	/* the same message again is counted, not repeated; AMD-Vi's short address is found */
	e = run("[1.0] AMD-Vi: Event logged [IO_PAGE_FAULT device=0e:00.0 domain=0x0021 "
		"address=0xfd3b2000 flags=0x0020]\n"
		"[2.0] AMD-Vi: Event logged [IO_PAGE_FAULT device=0e:00.0 domain=0x0021 "
		"address=0xfd3b2000 flags=0x0020]\n");
	assert_int_equal(e->findings[0].n_matches, 2);
	assert_int_equal(e->findings[0].n_evidence, 1);
	assert_string_equal(e->findings[0].device, "0000:0e:00.0");
	e = explain_free(e);

	/* QEMU's short host=BUS:DEV.FN names the device too */
	e = run("qemu-system-x86_64: -device vfio-pci,host=01:00.0,multifunction=on: vfio: error, "
		"group 1 is not viable, please ensure all devices within the iommu_group are "
		"bound to their vfio bus driver.\n");
	assert_int_equal(e->n_findings, 1);
	assert_string_equal(e->findings[0].device, "0000:01:00.0");
}

static void test_kmsg(void **state)
{
	static const char k[] = "6,100,5000000,-;first message\n"
				" SUBSYSTEM=pci\n"
				" DEVICE=+pci:0000:03:00.0\n"
				"4,101,6000001,c;second: with, commas; and semicolons\n"
				"garbage line\n"
				"3,102,7000000;no flags\n"
				"12,103,8000000,-,caller=T1;facility and caller";
	_cleanup_free_ char *out = NULL;
	unsigned long long first;
	size_t len;

	(void)state;
	assert_int_equal(explain_kmsg_parse(k, sizeof(k) - 1, 0, 0, &out, &len, &first), 0);
	assert_string_equal(out, "[    5.000000] first message\n"
				 "[    6.000001] second: with, commas; and semicolons\n"
				 "[    7.000000] no flags\n"
				 "[    8.000000] facility and caller\n");
	assert_int_equal(len, strlen(out));
	assert_int_equal(first, 100);
	out = mfree(out);
	/* from a sequence number, and from a time */
	assert_int_equal(explain_kmsg_parse(k, sizeof(k) - 1, 102, 0, &out, &len, &first), 0);
	assert_int_equal(first, 102);
	assert_null(strstr(out, "second"));
	out = mfree(out);
	assert_int_equal(explain_kmsg_parse(k, sizeof(k) - 1, 0, 6000000, &out, &len, &first), 0);
	assert_int_equal(first, 101);
	out = mfree(out);
	assert_int_equal(explain_kmsg_parse(k, sizeof(k) - 1, 1000, 0, &out, &len, &first), 0);
	assert_int_equal(len, 0);
	assert_true(first == UINT64_MAX);
}

static void test_runlog_parse(void **state)
{
	static const char ok[] = "gpurun-run 1\nvm win11\nprofile /etc/gpurun/win11.profile\n"
				 "backend qemu\nstart-usec 123456\nlog /run/gpurun/win11/qemu.log\n"
				 "log-offset 10\nkmsg-seq 77\nfuture-key whatever\n";
	_cleanup_(error_clear) struct error err = {};
	_cleanup_free_ char *text = NULL;
	struct runlog r = {}, r2 = {};

	(void)state;
	assert_int_equal(runlog_parse(ok, sizeof(ok) - 1, &r, &err), 0);
	assert_string_equal(r.vm, "win11");
	assert_string_equal(r.backend, "qemu");
	assert_int_equal(r.start_usec, 123456);
	assert_int_equal(r.log_offset, 10);
	assert_true(r.has_kmsg_seq);
	assert_int_equal(r.kmsg_seq, 77);
	/* format and parse again: the same record */
	text = runlog_format(&r);
	assert_non_null(text);
	assert_int_equal(runlog_parse(text, strlen(text), &r2, NULL), 0);
	assert_string_equal(r2.profile, r.profile);
	assert_string_equal(r2.log, r.log);
	assert_int_equal(r2.kmsg_seq, 77);
	assert_null(r2.node);
	runlog_done(&r);
	runlog_done(&r2);
	/* a run on a remote node keeps the node's URI */
	assert_int_equal(
	    runlog_parse("gpurun-run 1\nvm w\nnode qemu+ssh://gpuhost/system\n", 48, &r, NULL), 0);
	assert_string_equal(r.node, "qemu+ssh://gpuhost/system");
	free(text);
	text = runlog_format(&r);
	assert_non_null(text);
	assert_non_null(strstr(text, "\nnode qemu+ssh://gpuhost/system\n"));
	runlog_done(&r);
	assert_int_equal(runlog_parse("gpurun-journal 1\n", 17, &r, &err), -EBADMSG);
	assert_int_equal(runlog_parse("gpurun-run 1\nstart-usec x\n", 26, &r, &err), -EBADMSG);
	assert_int_equal(err.line, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_compiles),
		cmocka_unit_test(test_benign_before_cause),
		cmocka_unit_test(test_nothing_known),
		cmocka_unit_test(test_evidence),
		cmocka_unit_test(test_kmsg),
		cmocka_unit_test(test_runlog_parse),
	};

	return testutil_run(tests);
}
