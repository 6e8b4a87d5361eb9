/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `gpurun explain`: what QEMU and the kernel said when a guest failed to start, turned into its
 * cause and its fix. Pure: text in, findings out.
 *
 * The knowledge is one const table of signatures (explain_table): a stable id (the contract: the
 * ids are listed in gpurun(8), section EXPLAIN IDS, and tests use them), the POSIX extended
 * regular expressions of the QEMU and kernel messages it recognises, what it means, the fix
 * (naming the gpurun option or profile key that applies it where one exists) and the source the
 * message comes from (a QEMU or kernel source file, or a documentation page). Benign rows match
 * lines that look alarming but are normal (`vfio_ecap_init: hiding ecap`), so that they are
 * shown as harmless and never taken for the cause.
 *
 *     struct explain *e;
 *     r = explain_new(&e, &err);                      compiles every pattern, once
 *     r = explain_feed(e, "qemu.log", buf, len);      one call per source, any number of lines
 *     r = explain_feed(e, "kernel", kbuf, klen);
 *     r = explain_finish(e, host, plan);              orders the findings, refines the fixes
 *     for (size_t i = 0; i < e->n_findings; i++) ... e->findings[i]
 *     e = explain_free(e);
 *
 * Findings come out in table order, which puts a cause before the messages that follow from it
 * (a ROM that cannot be read before the DMA faults of a GPU started without it). */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/hostinfo.h"
#include "util/macro.h"

struct error;
struct plan;

struct explain_signature {
	const char *id;		     /* stable: "intremap-missing" */
	bool benign;		     /* looks alarming, is normal: never a cause */
	const char *const *patterns; /* POSIX EREs, NULL-terminated; one match is enough */
	const char *meaning;	     /* what happened, one sentence */
	const char *fix;	     /* what to do (gpurun option / profile key where one exists) */
	const char *source;	     /* where the message comes from: source file or doc page */
};

/* The table, in cause-before-consequence order: causes first, benign rows last. */
extern const struct explain_signature explain_table[];
extern const size_t explain_table_size;
/* The row of @id, or NULL. */
const struct explain_signature *explain_signature_by_id(const char *id);

/* At most this many evidence lines are kept per finding, each at most EXPLAIN_EVIDENCE_MAX
 * bytes (longer lines are cut around the match, with "..."). */
#define EXPLAIN_EVIDENCE_LINES 3
#define EXPLAIN_EVIDENCE_MAX 200

struct explain_evidence {
	char *where; /* "qemu.log:12", "kernel", "FILE:LINE" */
	char *text;  /* the matching line, shortened */
};

struct explain_finding {
	const struct explain_signature *sig;
	struct explain_evidence evidence[EXPLAIN_EVIDENCE_LINES];
	size_t n_evidence;
	unsigned n_matches;	   /* lines that matched, all of them */
	char device[PCI_ADDR_MAX]; /* the PCI function the first evidence names, "" none */
	char *fix; /* explain_finish(): the row's fix refined for this host/device */
};

struct explain {
	regex_t *compiled; /* one per pattern of the table, rows in order */
	size_t n_compiled;
	struct explain_finding *findings; /* one per row that matched */
	size_t n_findings;
	size_t n_lines; /* lines fed */
	bool finished;
	regex_t addr[2]; /* PCI addresses in a line: "0000:03:00.0", "device=03:00.0"/"[03:00.0]" */
	bool addr_ok;
};

/* Compile every pattern of the table. 0, -ENOMEM, or -EINVAL with @err naming the row whose
 * pattern does not compile (a bug, caught by the unit tests). */
int explain_new(struct explain **ret, struct error *err);
struct explain *explain_free(struct explain *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct explain *, explain_free)

/* Match every line of @buf (@len bytes, need not end with a newline; NUL bytes end nothing,
 * they are read as spaces) against the table. @name names the source in the evidence: with
 * @numbered the line number is added ("qemu.log:3"), else the name alone ("kernel"). 0 or
 * -ENOMEM. -EINVAL after explain_finish(). */
int explain_feed(struct explain *e, const char *name, bool numbered, const char *buf, size_t len);

/* Order the findings (table order) and set each fix, refined from the host snapshot @h and the
 * plan @p when given (both may be NULL): the checks engine's reset advice for the device of
 * reset-failed and d3-stuck, the vendor of the GPU for code43-hint, the firmware framebuffer
 * that holds the GPU for bar-reserved. 0 or -ENOMEM. */
int explain_finish(struct explain *e, const struct host *h, const struct plan *p);

/* Findings that are causes (not benign). */
size_t explain_n_causes(const struct explain *e);

/* What to collect when no signature matched, NULL-terminated: a report without a guess. */
extern const char *const explain_collect[];

/* Kernel log records as /dev/kmsg gives them (Documentation/ABI/testing/dev-kmsg):
 *     PRIO,SEQ,USEC,FLAGS[,...];MESSAGE\n
 * followed by optional continuation lines that start with a space (" SUBSYSTEM=pci"). Returns
 * the messages of the records with SEQ >= @min_seq and USEC >= @min_usec as text, one line
 * each, "[SECONDS.MICROS] MESSAGE" like dmesg (continuation lines and malformed records are
 * skipped); *ret_first_seq (may be NULL) gets the SEQ of the first record kept, or
 * UINT64_MAX when none was. 0 or -ENOMEM. Pure. */
int explain_kmsg_parse(const char *buf, size_t len, unsigned long long min_seq,
		       unsigned long long min_usec, char **ret, size_t *ret_len,
		       unsigned long long *ret_first_seq);
