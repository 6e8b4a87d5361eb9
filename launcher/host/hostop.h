/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one table of host operations. Every change gpurun makes to a host (load a module, stage a
 * ROM file, unbind a vt console, unbind a platform framebuffer, move a PCI function to vfio-pci)
 * is one const row here, and that row is all the rest of gpurun knows about it:
 *
 *   - the plan action it carries out (core/plan.h), if any;
 *   - its journal entry: the name (first field), the syntax, the fields and which values a
 *     journal may hold (journal.c parses and formats entries only through the row);
 *   - inspect: read the host's state for one plan action and decide the journal entry (or that
 *     nothing needs doing);
 *   - describe: the dry-run line for that entry;
 *   - apply: make the change, once the entry is in the journal;
 *   - revert: undo an entry (revert.c and `gpurun restore`).
 *
 * prepare.c runs a plan's actions through host_op_run(); revert.c replays a journal through
 * the rows' revert. A new host operation is one new row (and, when a plan asks for it, one new
 * plan action kind). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/plan.h"
#include "host/journal.h"

struct ctx;
struct error;
struct prepare_options;
struct revert_report;

/* What one step works with. */
struct host_op_env {
	struct ctx *c;
	const struct plan *plan; /* NULL for prepare_addresses() */
	struct journal *j;	 /* NULL only with o->dry_run */
	const struct prepare_options *o;
};

/* An input read (and validated) before the first host change: the ROM a stage-rom action
 * writes. NULL/0 for actions without one. */
struct host_op_input {
	void *buf;
	size_t len;
	bool present; /* the destination exists with exactly this content: nothing to stage */
};

struct host_op {
	enum journal_kind kind;
	const char *name;   /* journal entry name: "module", "rom", "vtcon", "platform", "bind" */
	const char *syntax; /* the entry's shape, named in parse errors */
	enum plan_action_kind action; /* the plan action this row carries out */
	unsigned n_values;	   /* fields after the target: 0, 1 (value) or 2 (value, extra) */
	const char *value_prefix;  /* "driver=" for bind, else NULL */
	const char *extra_prefix;  /* "override=" for bind, else NULL */
	const char *const *values; /* the words the value may be (NULL-terminated), or NULL */

	/* Whether a parsed entry holds only what this row's inspect produces (a journal is read
	 * back as root: its names become sysfs paths). NULL when fine, else why not. */
	const char *(*check)(const char *target, const char *value, const char *extra);
	/* Read the host for action @a: 1 with *ret filled (kind, target, value, extra: malloc'd)
	 * when a change is needed, 0 when none is (said through o->say), or a negative errno
	 * with @err. Writes nothing. */
	int (*inspect)(const struct host_op_env *x, const struct plan_action *a,
		       const struct host_op_input *in, struct journal_entry *ret,
		       struct error *err);
	/* The dry-run line for entry @e of action @a (malloc'd, NULL on ENOMEM). */
	char *(*describe)(const struct host_op_env *x, const struct plan_action *a,
			  const struct journal_entry *e);
	/* Make the change @e describes (its journal entry is already on disk). 0 or a negative
	 * errno with @err; says what it did through o->say. */
	int (*apply)(const struct host_op_env *x, const struct plan_action *a,
		     const struct host_op_input *in, const struct journal_entry *e,
		     struct error *err);
	/* Undo @e; idempotent. A failure is a warning in @rep (n_failed counted); the return
	 * value is 0 or -ENOMEM. */
	int (*revert)(struct ctx *c, const struct journal_entry *e, unsigned timeout_ms,
		      struct revert_report *rep);
};

/* The row of journal kind @k, of entry name @name, of plan action @k; NULL when none. */
const struct host_op *host_op_get(enum journal_kind k);
const struct host_op *host_op_from_name(const char *name);
const struct host_op *host_op_for_action(enum plan_action_kind k);

/* One plan action through its row: inspect; then with o->dry_run say describe's line, else
 * append the entry to x->j (fsync'd) and apply. 0 or a negative errno with @err. */
int host_op_run(const struct host_op_env *x, const struct plan_action *a,
		const struct host_op_input *in, struct error *err);

/* Free the strings of an entry inspect filled. */
void host_op_entry_done(struct journal_entry *e);
