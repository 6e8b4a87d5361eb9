/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the planner's inputs live on the host (host/paths.c). */
#pragma once

#include "core/plan.h"

struct ctx;

/* Fill @ret from the ctx roots, probing usr_share for the Debian/Ubuntu, Fedora and Arch
 * OVMF file names (plan.c's table). Not pure (stat()s files). */
int plan_paths_from_ctx(struct ctx *c, struct plan_paths *ret);
/* Where the xml-templates are: $GPURUN_DATADIR/xml-templates (secure_getenv), else
 * <dir of /proc/self/exe>/../xml-templates when running from the source tree, else
 * GPURUN_DATADIR "/xml-templates". Returns a malloc'd path or NULL (ENOMEM). */
char *paths_templates_dir(void);
