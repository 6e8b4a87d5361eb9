/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who holds a PCI function open, the way `fuser -v` shows it: the processes with one of the
 * function's device nodes open — its DRM nodes (ROOT/dev/dri/NAME for each
 * ROOT/sys/bus/pci/devices/BDF/drm/{card*,renderD*}) and its sound card's nodes
 * (ROOT/dev/snd/{controlCN,pcmCND*,hwCND*,midiCN*} for each BDF/sound/cardN) — found by reading
 * ROOT/proc/PID/fd/ *. A descriptor link names a path as the machine sees it ("/dev/dri/card1");
 * one that names the path with the root in front is taken as well, so a fixture tree can hold
 * either. Users are looked up in ROOT/etc/passwd (the uid as a number when not found). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/macro.h"

struct ctx;

struct holder {
	pid_t pid;
	char *user;    /* "gdm", or the uid as a number */
	char *command; /* ROOT/proc/PID/comm, each control byte as '?' */
	char *node;    /* the device node held, as the machine names it: "/dev/dri/card1" */
	bool display;  /* the command is a display manager or a display server (holders_display) */
};

struct holder_list {
	struct holder *items; /* by pid, then node */
	size_t n;
};

void holder_list_clear(struct holder_list *l);

/* The device nodes of @bdf, as the machine names them ("/dev/dri/card1"), a strv; empty when
 * the function has none. */
int holders_nodes(struct ctx *c, const char *bdf, char ***ret);
/* Every process holding one of @bdf's device nodes open. Processes that vanish or cannot be
 * read while scanning are skipped (fuser does the same). 0 or a negative errno. */
int holders_scan(struct ctx *c, const char *bdf, struct holder_list *ret);

/* Whether @command (a comm name) is a display manager or display server: gdm, sddm, lightdm,
 * Xorg, Xwayland, gnome-shell, kwin_wayland, ... Pure. */
bool holders_is_display(const char *command);
/* The systemd unit of the display manager among @l ("gdm", "sddm", "lightdm"...), NULL when none
 * is. Pure. */
const char *holders_display_manager(const struct holder_list *l);
/* The holders as `fuser -v` lays them out, one line each, with a header:
 *     "  NODE                 USER       PID COMMAND"
 *     "  /dev/dri/card1       gdm       1234 gnome-shell (display server)"
 * malloc'd, each line ending in '\n'; NULL on ENOMEM. Pure. */
char *holders_format(const struct holder_list *l);
