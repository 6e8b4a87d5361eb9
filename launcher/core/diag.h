/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Diagnostics as data: inspect, check and plan produce them, the command layer prints them. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "util/macro.h"

enum diag_status {
	DIAG_PASS,
	DIAG_INFO,
	DIAG_WARN,
	DIAG_FAIL,
	_DIAG_STATUS_MAX,
};

struct diag {
	enum diag_status status;
	char *id;      /* stable machine id: "iommu-enabled", "group-viable", ... */
	char *message; /* one line, human readable */
	char *fix;     /* concrete remedy for WARN/FAIL, or NULL */
	char *cause;   /* id of the failed finding this one follows from (core/checks.h), or NULL */
};

struct diag_list {
	struct diag *items;
	size_t n;
};

/* "PASS", "INFO", "WARN", "FAIL" for people; "pass", "info", "warn", "fail" in JSON; "?" for a
 * value out of range. */
DECLARE_STRING_TABLE_LOOKUP(diag_status, enum diag_status);
DECLARE_STRING_TABLE_LOOKUP(diag_status_json, enum diag_status);

/* Append a diagnostic; @fix may be NULL. Returns 0 or -ENOMEM. */
int diag_add(struct diag_list *l, enum diag_status s, const char *id, const char *fix,
	     const char *fmt, ...) _printf_(5, 6);
/* Set the cause (an id) of the last diagnostic added. Returns 0, -ENOENT (empty list), -ENOMEM. */
int diag_set_cause(struct diag_list *l, const char *cause);
/* Append a copy of every entry of @from. Returns 0 or -ENOMEM. */
int diag_list_append(struct diag_list *l, const struct diag_list *from);
void diag_list_clear(struct diag_list *l);
/* Write the list as a JSON array of {"id","status","message","fix"} objects, with "cause" (the
 * id of the finding it follows from) when there is one. */
void diag_list_json(const struct diag_list *l, FILE *f);
size_t diag_count(const struct diag_list *l, enum diag_status s);
