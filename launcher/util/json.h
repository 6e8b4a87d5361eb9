/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Minimal JSON output helpers for --json (writing only; gpurun never parses JSON). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* Write @s as a JSON string literal with escapes; NULL writes null. */
void json_string(FILE *f, const char *s);
/* Write `"key":` */
void json_key(FILE *f, const char *key);
