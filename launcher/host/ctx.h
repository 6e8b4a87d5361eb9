/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The context: every host path gpurun uses is derived from the roots held here, and the
 * library handles are created once. `--root DIR` moves all of them into DIR so that a fixture
 * tree under tests/fixtures/hosts/ is read instead of the real machine. ctx.c is the only file
 * that spells literal host paths such as "/sys". */
#pragma once

#include <setjmp.h>
#include <stdbool.h>

#include "util/macro.h"

struct pci_access;
struct kmod_ctx;

struct ctx {
	char *root;	   /* "" for the real machine, else an absolute path without trailing / */
	bool real_root;	   /* root is "/" — the only case where boot tools/loaders may be run */
	char *sys;	   /* ROOT/sys */
	char *proc;	   /* ROOT/proc */
	char *dev;	   /* ROOT/dev */
	char *etc;	   /* ROOT/etc */
	char *boot;	   /* ROOT/boot */
	char *usr_share;   /* ROOT/usr/share (OVMF, kvm ROMs, pci.ids) */
	char *modules;	   /* ROOT/lib/modules */
	char *state;	   /* --state-dir, default ROOT/run/gpurun */
	char *rom_dir;	   /* ROOT/var/lib/gpurun/roms */
	char *pve_rom_dir; /* ROOT/usr/share/kvm */

	/* flags shared by all commands */
	bool dry_run;
	bool json;
	bool force;
	char *connect_uri; /* --connect, overrides the profile's URI */
	/* The libvirt URI of a remote node (host/remote.h) when the connection the command uses
	 * is remote (--connect, or the profile's libvirt-uri with backend = libvirt), else NULL.
	 * Set by the command layer. Then the host is that node: it is inspected and prepared
	 * through libvirt, and nothing of this machine but the state dir is read or changed. */
	char *remote_uri;
	char *qemu_path; /* --qemu, overrides the default binary */

	/* lazily created library handles; use the getters */
	struct pci_access *pacc;
	struct kmod_ctx *kmod;
};

/* @root: NULL or "/" for the real machine, else a directory that must exist (-ENOENT/-ENOTDIR).
 * @state_dir: NULL for the default. Returns 0 or a negative errno. */
int ctx_new(const char *root, const char *state_dir, struct ctx **ret);
struct ctx *ctx_free(struct ctx *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ctx *, ctx_free)

/* The /proc of the processes on this machine ("/proc", whatever --root says): where the
 * liveness of gpurun's own processes (its QEMU) is looked up. */
const char *ctx_live_proc(void);

/* libpci handle forced to the sysfs method under ROOT/sys/bus/pci with a non-exiting error
 * handler. NULL on failure (errno set). */
struct pci_access *ctx_pci(struct ctx *c);
/* libkmod context on ROOT/lib/modules/<release>, release read from ROOT/proc (osrelease).
 * NULL on failure. */
struct kmod_ctx *ctx_kmod(struct ctx *c);
/* libpci's error handler must not return: every libpci call that can fail (pci_init,
 * pci_scan_bus, pci_fill_info, pci_read_*) runs under a guard:
 *     jmp_buf jb;
 *     if (ctx_pci_guard(&jb)) { ctx_pci_jmp = NULL; ...error: ctx_pci_error has the text... }
 *     ...libpci calls...
 *     ctx_pci_jmp = NULL;
 */
extern jmp_buf *ctx_pci_jmp;
extern char ctx_pci_error[256];
#define ctx_pci_guard(jb) (ctx_pci_jmp = (jb), setjmp(*(jb)))

/* Kernel release from ROOT/proc/sys/kernel/osrelease; malloc'd string or NULL. */
char *ctx_kernel_release(struct ctx *c);

/* Default QEMU binary (--qemu, else GPURUN_QEMU via secure_getenv, else qemu-system-x86_64). */
const char *ctx_qemu_binary(const struct ctx *c);
/* Default libvirt URI: --connect, else @profile_uri, else qemu:///system. */
const char *ctx_libvirt_uri(const struct ctx *c, const char *profile_uri);
