/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/checks.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/inspect.h"
#include "host/kmodule.h"
#include "host/pcidev.h"
#include "host/spawn.h"
#include "hostcfg/bootloader.h"
#include "hostcfg/cmdline-edit.h"
#include "hostcfg/hostcfg.h"
#include "hostcfg/initramfs.h"
#include "hostcfg/modprobe-edit.h"
#include "util/fileio.h"
#include "util/lines.h"
#include "util/strutil.h"
#include "util/strv.h"

static const char *const hostcfg_file_kind_table[_HOSTCFG_FILE_KIND_MAX] = {
	[HOSTCFG_FILE_CMDLINE] = "cmdline",
	[HOSTCFG_FILE_GRUB] = "grub",
	[HOSTCFG_FILE_LOADER_ENTRY] = "loader-entry",
	[HOSTCFG_FILE_MODULES_LOAD] = "modules-load",
	[HOSTCFG_FILE_MODPROBE] = "modprobe",
	[HOSTCFG_FILE_BLACKLIST] = "blacklist",
	[HOSTCFG_FILE_INITRAMFS] = "initramfs",
	[HOSTCFG_FILE_MODPROBE_OTHER] = "modprobe-other",
	[HOSTCFG_FILE_GRUB_DROPIN] = "grub-dropin",
	[HOSTCFG_FILE_TOOL_STATE] = "tool-state",
};

DEFINE_STRING_TABLE_LOOKUP(hostcfg_file_kind, enum hostcfg_file_kind, _HOSTCFG_FILE_KIND_MAX)

/* @r about @file (host name), no message of its own: error_format() says "FILE: strerror". */
static int fail_file(struct error *err, int r, const char *file)
{
	return error_set_line(err, r, file, 0, NULL);
}

/* ---- loading ---- */

int hostcfg_add_file(struct hostcfg *cfg, enum hostcfg_file_kind kind, const char *path,
		     const char *name, const char *content, size_t len, mode_t mode)
{
	struct hostcfg_file *x, *f;

	x = realloc(cfg->files, (cfg->n_files + 1) * sizeof(*x));
	if (!x)
		return -ENOMEM;
	cfg->files = x;
	f = &cfg->files[cfg->n_files];
	*f = (struct hostcfg_file){ .kind = kind, .mode = mode ? mode : 0644 };
	f->path = strdup(path);
	f->name = strdup(name);
	if (content) {
		f->old = malloc(len + 1);
		if (f->old) {
			memcpy(f->old, content, len);
			f->old[len] = 0;
		}
		f->old_len = len;
	}
	if (!f->path || !f->name || (content && !f->old)) {
		free(f->path);
		free(f->name);
		free(f->old);
		return -ENOMEM;
	}
	cfg->n_files++;
	return 0;
}

struct hostcfg *hostcfg_free(struct hostcfg *cfg)
{
	if (!cfg)
		return NULL;
	free(cfg->boot_evidence);
	free(cfg->tool.path);
	strv_free(cfg->tool.add);
	strv_free(cfg->refresh_argv);
	strv_free(cfg->initramfs_argv);
	free(cfg->initramfs_evidence);
	for (size_t i = 0; i < cfg->n_files; i++) {
		free(cfg->files[i].path);
		free(cfg->files[i].name);
		free(cfg->files[i].old);
		free(cfg->files[i].new);
	}
	free(cfg->files);
	for (size_t i = 0; i < cfg->n_func_modules; i++)
		strv_free(cfg->func_modules[i]);
	free(cfg->func_modules);
	free(cfg);
	return NULL;
}

const char *hostcfg_host_name(const struct ctx *c, const char *path)
{
	size_t n = strlen(c->root);

	return strncmp(path, c->root, n) == 0 && path[n] == '/' ? path + n : path;
}

int hostcfg_resolve(const char *root, const char *path, char **ret)
{
	_cleanup_free_ char *cur = strdup(path);

	if (!cur)
		return -ENOMEM;
	for (int hops = 0; hops < 32; hops++) {
		char link[PATH_MAX];
		struct stat st;
		ssize_t n;
		char *next;

		if (lstat(cur, &st) < 0 || !S_ISLNK(st.st_mode)) {
			*ret = TAKE_PTR(cur);
			return 0;
		}
		n = readlink(cur, link, sizeof(link) - 1);
		if (n < 0)
			return negative_errno();
		link[n] = 0;
		if (link[0] == '/')
			next = strdup_printf("%s%s", streq(root, "/") ? "" : root, link);
		else {
			char *slash = strrchr(cur, '/');

			next = slash ? strdup_printf("%.*s/%s", (int)(slash - cur), cur, link)
				     : strdup(link);
		}
		if (!next)
			return -ENOMEM;
		free(cur);
		cur = next;
	}
	return -ELOOP;
}

int hostcfg_load_file(struct ctx *c, struct hostcfg *cfg, enum hostcfg_file_kind kind,
		      const char *path, struct error *err)
{
	_cleanup_free_ char *buf = NULL, *target = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	/* a symlink is read (and later written) through, its absolute target under the root */
	r = hostcfg_resolve(c->root, path, &target);
	if (r < 0)
		return fail_file(err, r, hostcfg_host_name(c, path));
	if (stat(target, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return fail_file(err, negative_errno(), hostcfg_host_name(c, path));
		return hostcfg_add_file(cfg, kind, path, hostcfg_host_name(c, path), NULL, 0, 0644);
	}
	if (S_ISDIR(st.st_mode))
		return fail_file(err, -EISDIR, hostcfg_host_name(c, path));
	r = read_full_file(target, HOSTCFG_FILE_MAX, &buf, &len);
	if (r < 0)
		return fail_file(err, r, hostcfg_host_name(c, path));
	return hostcfg_add_file(cfg, kind, path, hostcfg_host_name(c, path), buf, len,
				st.st_mode & 07777);
}

int hostcfg_list_dir(const char *dir, const char *suffix, char ***ret)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	struct dirent **list = NULL;
	int n, r = 0;

	if (!l)
		return -ENOMEM;
	n = scandir(dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *e = list[i]->d_name;
		size_t el = strlen(e), sl = strlen(suffix);

		if (r >= 0 && e[0] != '.' && el > sl && streq(e + el - sl, suffix))
			r = strv_consume(&l, path_join(dir, e));
		free(list[i]);
	}
	free(list);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(l);
	return 0;
}

static int os_ids(struct ctx *c, char ***ret)
{
	_cleanup_free_ char *p = path_join(c->etc, "os-release"), *buf = NULL;
	_cleanup_strv_free_ char **lines = NULL, **ids = strv_new_empty();
	int r;

	if (!p || !ids)
		return -ENOMEM;
	if (read_full_file(p, 64 * 1024, &buf, NULL) >= 0 &&
	    lines_split(buf, strlen(buf), &lines, NULL) >= 0)
		for (size_t i = 0; lines[i]; i++) {
			const char *v;
			_cleanup_strv_free_ char **w = NULL;

			if (startswith(lines[i], "ID="))
				v = lines[i] + 3;
			else if (startswith(lines[i], "ID_LIKE="))
				v = lines[i] + 8;
			else
				continue;
			r = strv_split(v, " \"'", &w);
			if (r < 0)
				return r;
			for (char **k = w; *k; k++)
				if ((r = strv_extend(&ids, *k)) < 0)
					return r;
		}
	*ret = TAKE_PTR(ids);
	return 0;
}

bool hostcfg_exists_under(const char *root, const char *rel)
{
	_cleanup_free_ char *p = path_join(root, rel);

	return p && hostfs_exists(p);
}

/* Where modprobe reads its configuration, in libkmod's order (as host/ctx.c's list). */
static const char *const modprobe_dirs[] = {
	"/etc/modprobe.d",     "/run/modprobe.d", "/usr/local/lib/modprobe.d",
	"/usr/lib/modprobe.d", "/lib/modprobe.d",
};

static int load_modprobe(struct ctx *c, struct hostcfg *cfg, struct error *err)
{
	_cleanup_free_ char *ml = path_join(c->etc, "modules-load.d/vfio.conf");
	_cleanup_free_ char *mp = path_join(c->etc, "modprobe.d/vfio.conf");
	_cleanup_free_ char *bl = path_join(c->etc, "modprobe.d/blacklist-gpu.conf");
	_cleanup_strv_free_ char **seen = strv_new_empty();
	int r;

	if (!ml || !mp || !bl || !seen)
		return -ENOMEM;
	r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_MODULES_LOAD, ml, err);
	if (r >= 0)
		r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_MODPROBE, mp, err);
	if (r >= 0)
		r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_BLACKLIST, bl, err);
	/* every file modprobe reads: a name in an earlier directory hides the same name in a
	 * later one (ours are in the first) */
	if (r >= 0 && (r = strv_extend(&seen, "vfio.conf")) >= 0)
		r = strv_extend(&seen, "blacklist-gpu.conf");
	for (size_t d = 0; r >= 0 && d < ELEMENTSOF(modprobe_dirs); d++) {
		_cleanup_strv_free_ char **files = NULL;
		_cleanup_free_ char *dir = NULL;

		if (asprintf(&dir, "%s%s", c->root, modprobe_dirs[d]) < 0)
			return -ENOMEM;
		r = hostcfg_list_dir(dir, ".conf", &files);
		for (char **i = files; r >= 0 && *i; i++) {
			const char *base = strrchr(*i, '/') + 1;

			if (strv_contains(seen, base))
				continue;
			r = strv_extend(&seen, base);
			if (r >= 0)
				r = hostcfg_load_file(c, cfg, HOSTCFG_FILE_MODPROBE_OTHER, *i, err);
		}
	}
	return r;
}

/* Which modules claim @f: its bound driver's module, else (unbound or held by vfio-pci) the
 * modules whose aliases match its modalias. */
static int func_modules(struct ctx *c, bool kmod_index, const struct pci_func *f, char ***ret)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	int r = 0;

	if (!l)
		return -ENOMEM;
	if (f->driver && !modprobe_modname_eq(f->driver, "vfio_pci")) {
		_cleanup_free_ char *p = path_join(c->sys, "bus/pci/drivers", f->driver, "module");
		_cleanup_free_ char *m = NULL;

		if (!p)
			return -ENOMEM;
		/* the driver name is not always the module's: xhci_hcd is xhci_pci */
		if (hostfs_readlink_base(p, &m) < 0) {
			m = strdup(f->driver);
			if (!m)
				return -ENOMEM;
			for (char *s = m; *s; s++)
				if (*s == '-')
					*s = '_';
		}
		r = strv_consume(&l, TAKE_PTR(m));
		if (r < 0)
			return r;
	} else if (kmod_index) {
		_cleanup_free_ char *p = pcidev_attr_path(c, f->address, "modalias");
		_cleanup_free_ char *alias = NULL;
		_cleanup_strv_free_ char **found = NULL;

		if (!p)
			return -ENOMEM;
		if (hostfs_read_line(p, &alias) >= 0 && kmodule_lookup(c, alias, &found) >= 0)
			for (char **n = found; *n; n++)
				if (!startswith(*n, "vfio") && !modprobe_modname_in(l, *n)) {
					r = strv_extend(&l, *n);
					if (r < 0)
						return r;
				}
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* @h may be NULL: then only which vfio modules exist is looked up. */
static int load_modules(struct ctx *c, const struct host *h, struct hostcfg *cfg)
{
	_cleanup_free_ char *dep = NULL, *release = NULL;
	int r;

	release = h && h->kernel_release ? strdup(h->kernel_release) : ctx_kernel_release(c);
	if (release)
		dep = path_join(c->modules, release, "modules.dep.bin");
	cfg->kmod_index = dep && hostfs_exists(dep);
	for (int i = 0; i < _HOST_MOD_MAX; i++)
		cfg->mod_exists[i] = cfg->kmod_index ? kmodule_available(c, host_module_names[i])
						     : host_module_required(i);

	if (!h)
		return 0;
	cfg->func_modules = calloc(h->n_funcs + 1, sizeof(char **));
	if (!cfg->func_modules)
		return -ENOMEM;
	cfg->n_func_modules = h->n_funcs;
	for (size_t i = 0; i < h->n_funcs; i++) {
		r = func_modules(c, cfg->kmod_index, &h->funcs[i], &cfg->func_modules[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_internal(struct ctx *c, const struct host *h, struct hostcfg **ret,
			 struct error *err)
{
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = calloc(1, sizeof(*cfg));
	_cleanup_strv_free_ char **ids = NULL;
	int r;

	if (!cfg)
		return -ENOMEM;
	r = os_ids(c, &ids);
	if (r < 0)
		return r;
	r = bootloader_load(c, ids, cfg, err);
	if (r < 0)
		return r;
	r = initramfs_detect(c, ids, cfg);
	if (r < 0)
		return r;
	r = load_modprobe(c, cfg, err);
	if (r < 0)
		return r;
	r = initramfs_load(c, cfg, err);
	if (r < 0)
		return r;
	r = load_modules(c, h, cfg);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(cfg);
	return 0;
}

int hostcfg_load(struct ctx *c, const struct host *h, struct hostcfg **ret, struct error *err)
{
	return error_set_errno(err, load_internal(c, h, ret, err));
}

/* ---- compute ---- */

static int kernel_version(const char *release, unsigned *major, unsigned *minor)
{
	if (!release || sscanf(release, "%u.%u", major, minor) != 2)
		return -EINVAL;
	return 0;
}

static ssize_t func_index(const struct host *h, const struct pci_func *f)
{
	return f >= h->funcs && f < h->funcs + h->n_funcs ? f - h->funcs : -1;
}

static int selected_functions(const struct host *h, const struct hostcfg_request *req, char ***ret)
{
	_cleanup_strv_free_ char **sel = strv_new_empty();
	int r;

	if (!sel)
		return -ENOMEM;
	for (char *const *a = req->functions; a && *a; a++)
		if (!strv_contains(sel, *a) && (r = strv_extend(&sel, *a)) < 0)
			return r;
	for (size_t g = 0; g < req->n_gpus && !req->functions; g++) {
		_cleanup_strv_free_ char **slot = NULL;

		if (pci_func_is_display(req->gpus[g])) {
			r = host_gpu_slot_functions(h, req->gpus[g], &slot);
			if (r < 0)
				return r;
		} else {
			slot = strv_new_empty();
			if (!slot || strv_extend(&slot, req->gpus[g]->address) < 0)
				return -ENOMEM;
		}
		for (char **a = slot; *a; a++)
			if (!strv_contains(sel, *a) && (r = strv_extend(&sel, *a)) < 0)
				return r;
	}
	*ret = TAKE_PTR(sel);
	return 0;
}

static int kernel_params(const struct host *h, const struct hostcfg_request *req,
			 struct diag_list *d, char ***ret)
{
	_cleanup_strv_free_ char **p = strv_new_empty();
	bool boot_vga = false;
	unsigned major, minor;
	int r;

	if (!p)
		return -ENOMEM;
	if (h->cpu_vendor && streq(h->cpu_vendor, "AuthenticAMD"))
		r = strv_extend(&p, "amd_iommu=on");
	else if (h->cpu_vendor && streq(h->cpu_vendor, "GenuineIntel"))
		r = strv_extend(&p, "intel_iommu=on");
	else
		r = diag_add(
		    d, DIAG_WARN, "hostcfg-cpu-vendor",
		    "Add amd_iommu=on or intel_iommu=on to the kernel command line by hand",
		    "CPU vendor '%s' unknown: no IOMMU enable parameter added",
		    strna(h->cpu_vendor));
	if (r < 0)
		return r;
	r = strv_extend(&p, "iommu=pt");
	if (r < 0)
		return r;
	for (size_t g = 0; g < req->n_gpus; g++)
		boot_vga |= req->gpus[g]->boot_vga == 1 || req->gpus[g]->console;
	if (!boot_vga) {
		*ret = TAKE_PTR(p);
		return 0;
	}

	/* Since 5.15 the firmware framebuffer (efifb or simpledrm) is registered by sysfb_init
	 * and keeps the GPU's BAR reserved; before, efifb alone did. */
	if (kernel_version(h->kernel_release, &major, &minor) < 0) {
		r = strv_extend(&p, "video=efifb:off");
		if (r >= 0)
			r = strv_extend(&p, "initcall_blacklist=sysfb_init");
	} else if (major > 5 || (major == 5 && minor >= 15))
		r = strv_extend(&p, "initcall_blacklist=sysfb_init");
	else
		r = strv_extend(&p, "video=efifb:off");
	if (r < 0)
		return r;
	r = diag_add(d, DIAG_WARN, "hostcfg-boot-vga",
		     "Reach the host over SSH or a serial console; or leave the GPU to the host "
		     "and let `gpurun run` bind it only while the guest runs",
		     "The GPU is the boot VGA device: the firmware framebuffer is kept off it (%s, "
		     "kernel %s), so after the reboot the host has no console on it",
		     p[strv_length(p) - 1], strna(h->kernel_release));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

static int set_new(struct hostcfg_file *f, char *content)
{
	size_t len = strlen(content);

	/* an absent file with nothing to put in it stays absent */
	if ((!f->old && len == 0) ||
	    (f->old && f->old_len == len && memcmp(f->old, content, len) == 0)) {
		free(content);
		return 0;
	}
	free(f->new);
	f->new = content;
	f->new_len = len;
	return 1;
}

/* The kernel parameters a bootloader file gives the next boot, with the line of each (what
 * follows a `--` is init's, not the kernel's). */
static int file_params(const struct hostcfg_file *f, char ***ret, unsigned **ret_lines,
		       struct error *err)
{
	switch (f->kind) {
	case HOSTCFG_FILE_CMDLINE:
		return cmdline_kernel_params(f->old, f->old_len, ret, ret_lines, err);
	case HOSTCFG_FILE_GRUB:
		return cmdline_grub_params(f->old, f->old_len, ret, ret_lines, err);
	case HOSTCFG_FILE_LOADER_ENTRY:
		return cmdline_entry_params(f->old, f->old_len, ret, ret_lines, err);
	default:
		return -EINVAL;
	}
}

/* A kernel command line that passes vfio-pci its own ids= (vfio-pci.ids=, vfio_pci.ids=): the
 * module gets one ids= list, so that one and modprobe.d's override each other. One WARN per
 * such parameter, naming @name and the line (from @lines, may be NULL). */
static int cmdline_ids_elsewhere(char *const *present, const unsigned *lines, const char *name,
				 char *const *ids, struct diag_list *d)
{
	_cleanup_free_ char *j = strv_join(ids, ","), *fix = NULL;
	int r;

	if (!j)
		return -ENOMEM;
	if (asprintf(&fix,
		     "Keep the ids in one place: remove it from the kernel command line and add "
		     "its ids to /etc/modprobe.d/vfio.conf, or add %s to it",
		     j) < 0)
		return -ENOMEM;
	for (size_t k = 0; present && present[k]; k++) {
		char at[32] = "";

		if (!startswith(present[k], "vfio-pci.ids=") &&
		    !startswith(present[k], "vfio_pci.ids="))
			continue;
		if (lines && lines[k])
			snprintf(at, sizeof(at), ":%u", lines[k]);
		r = diag_add(d, DIAG_WARN, "hostcfg-ids-elsewhere", fix,
			     "%s%s has '%s': vfio-pci gets one ids= list, so it and the ids= of "
			     "/etc/modprobe.d/vfio.conf override each other",
			     name, at, present[k]);
		if (r < 0)
			return r;
	}
	return 0;
}

int hostcfg_compute(struct hostcfg *cfg, const struct host *h, const struct hostcfg_request *req,
		    struct diag_list *d)
{
	_cleanup_strv_free_ char **sel = NULL, **ids = strv_new_empty(), **mods = strv_new_empty();
	_cleanup_strv_free_ char **softdeps = strv_new_empty(), **blacklist = strv_new_empty();
	_cleanup_strv_free_ char **p_all = NULL;
	int r, changed = 0, malformed = 0;
	bool bridge = false;

	if (!ids || !mods || !softdeps || !blacklist)
		return -ENOMEM;
	r = selected_functions(h, req, &sel);
	if (r < 0)
		return r;
	/* vfio-pci ids for a group that cannot be passed through: say it, as check and plan do
	 * (run refuses such a group; the files are still shown and written on --apply, as the
	 * profile may pass the group's other devices as [device] sections) */
	if (req->n_gpus > 0 && (r = checks_groups(h, req->gpus[0], sel, d)) < 0)
		return r;
	/* a bridge (a vendor:device id that names the root complex's host bridges, say) stays
	 * with the host: ids= would hand every bridge with that id to vfio-pci at boot */
	for (char **a = sel; *a; a++) {
		const struct pci_func *f = host_find_func(h, *a);

		if (!f || !f->is_bridge)
			continue;
		r = diag_add(
		    d, DIAG_FAIL, "hostcfg-bridge",
		    "Give the GPU's own address or vendor:device id (gpurun ls shows them)",
		    "%s [%04x:%04x] is a PCI bridge (class %06x), not a device to pass "
		    "through: vfio-pci ids= would take it from the host at boot",
		    f->address, f->vendor, f->device, f->class);
		if (r < 0)
			return r;
		bridge = true;
	}
	if (bridge)
		return -EINVAL;

	/* ids and the modules that would claim the functions first */
	for (char **a = sel; *a; a++) {
		const struct pci_func *f = host_find_func(h, *a);
		ssize_t idx = f ? func_index(h, f) : -1;
		char id[10];

		if (!f)
			continue;
		snprintf(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
		if (!strv_contains(ids, id) && (r = strv_extend(&ids, id)) < 0)
			return r;
		if (idx < 0 || (size_t)idx >= cfg->n_func_modules || !cfg->func_modules[idx])
			continue;
		if (!cfg->func_modules[idx][0]) {
			r = diag_add(d, DIAG_INFO, "hostcfg-no-driver", NULL,
				     "%s: no host driver claims it (%s): no softdep for it",
				     f->address,
				     f->driver ? "bound to vfio-pci, no module alias matches"
					       : "unbound, no module alias matches");
			if (r < 0)
				return r;
		}
		for (char **m = cfg->func_modules[idx]; *m; m++)
			if (!modprobe_modname_in(softdeps, *m) &&
			    (r = strv_extend(&softdeps, *m)) < 0)
				return r;
	}
	/* vfio-pci ids= takes every device with those ids, not only ours */
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct pci_func *f = &h->funcs[i];
		char id[10];

		snprintf(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
		if (strv_contains(ids, id) && !strv_contains(sel, f->address)) {
			r = diag_add(d, DIAG_WARN, "hostcfg-ids-shared",
				     "Bind that device per address at run time instead (gpurun "
				     "run) and leave ids= out",
				     "vfio-pci ids=%s also claims %s, which is not part of the "
				     "passthrough GPU",
				     id, f->address);
			if (r < 0)
				return r;
		}
	}
	for (char **m = softdeps; *m; m++) {
		const char *user = NULL;

		for (size_t i = 0; i < h->n_funcs && !user; i++) {
			const struct pci_func *f = &h->funcs[i];
			bool uses = f->driver && modprobe_modname_eq(f->driver, *m);

			if (i < cfg->n_func_modules && cfg->func_modules[i] && f->driver)
				uses |= modprobe_modname_in(cfg->func_modules[i], *m);
			if (uses && !strv_contains(sel, f->address))
				user = f->address;
		}
		if (!req->blacklist)
			continue;
		if (user) {
			r = diag_add(d, DIAG_WARN, "hostcfg-blacklist-shared",
				     "The softdep in modprobe.d/vfio.conf already makes vfio-pci "
				     "claim the GPU first",
				     "Not blacklisting %s: it also drives %s on this host "
				     "(blacklisting it would take that device's driver away)",
				     *m, user);
			if (r < 0)
				return r;
			continue;
		}
		r = strv_extend(&blacklist, *m);
		if (r < 0)
			return r;
	}

	/* modules that exist on this kernel */
	for (int i = 0; i < _HOST_MOD_MAX; i++) {
		/* a missing one is the vfio-modules finding (core/checks.c), which the command
		 * reports; it is just not listed here */
		if (!cfg->mod_exists[i])
			continue;
		r = strv_extend(&mods, host_module_names[i]);
		if (r < 0)
			return r;
	}
	if (!cfg->kmod_index) {
		r = diag_add(d, DIAG_INFO, "hostcfg-kmod-index", NULL,
			     "No module index for kernel %s: listing the standard vfio modules "
			     "(vfio, vfio_iommu_type1, vfio_pci)",
			     strna(h->kernel_release));
		if (r < 0)
			return r;
	}

	r = kernel_params(h, req, d, &p_all);
	if (r < 0)
		return r;
	cfg->tool.add = strv_free(cfg->tool.add);
	cfg->tool.add = strv_new_empty();
	if (!cfg->tool.add)
		return -ENOMEM;

	for (size_t i = 0; i < cfg->n_files; i++) {
		struct hostcfg_file *f = &cfg->files[i];
		_cleanup_strv_free_ char **present = NULL, **add = NULL;
		_cleanup_free_ char *content = NULL;
		_cleanup_free_ unsigned *plines = NULL;
		_cleanup_(error_clear) struct error e = {};

		switch (f->kind) {
		case HOSTCFG_FILE_CMDLINE:
		case HOSTCFG_FILE_GRUB:
		case HOSTCFG_FILE_LOADER_ENTRY:
			r = file_params(f, &present, &plines, &e);
			if (r >= 0)
				r = cmdline_ids_elsewhere(present, plines, f->name, ids, d);
			if (r >= 0)
				r = cmdline_missing(present, plines, p_all, f->name, d, &add);
			if (r >= 0)
				r = bootloader_edit(cfg->boot, f->kind, f->old, f->old_len, add,
						    &content, &e);
			break;
		case HOSTCFG_FILE_TOOL_STATE:
			/* the tool adds to every entry what any of them lacks */
			r = bootloader_file_cmdline(f->kind, f->old, f->old_len, &present, &e);
			if (r >= 0)
				r = cmdline_ids_elsewhere(present, NULL, f->name, ids, d);
			if (r >= 0)
				r = cmdline_missing(present, NULL, p_all, f->name, d, &add);
			for (char **a = add; r >= 0 && a && *a; a++)
				if (!strv_contains(cfg->tool.add, *a))
					r = strv_extend(&cfg->tool.add, *a);
			break;
		case HOSTCFG_FILE_MODULES_LOAD:
			r = modprobe_modules_load_edit(f->old, f->old_len, mods, &content, &e);
			break;
		case HOSTCFG_FILE_INITRAMFS: {
			_cleanup_strv_free_ char **early = strv_new_empty();

			/* vfio_pci first: it pulls in vfio and vfio_iommu_type1 itself */
			r = early ? 0 : -ENOMEM;
			if (r >= 0 && modprobe_modname_in(mods, "vfio_pci"))
				r = strv_extend(&early, "vfio_pci");
			for (char **m = mods; r >= 0 && *m; m++)
				if (!modprobe_modname_eq(*m, "vfio_pci"))
					r = strv_extend(&early, *m);
			if (r >= 0)
				r = initramfs_edit(cfg->initramfs, f->old, f->old_len, early,
						   &content, &e);
			break;
		}
		case HOSTCFG_FILE_MODPROBE:
			r = modprobe_vfio_edit(f->old, f->old_len, ids, softdeps, f->name, d,
					       &content, &e);
			break;
		case HOSTCFG_FILE_BLACKLIST:
			r = req->blacklist ? modprobe_blacklist_edit(f->old, f->old_len, blacklist,
								     &content, &e)
					   : 0;
			break;
		case HOSTCFG_FILE_MODPROBE_OTHER: {
			_cleanup_strv_free_ char **other = NULL;

			/* not ours to rewrite: a malformed line is reported with its fix */
			r = modprobe_vfio_lint(f->old, f->old_len, f->name, d, &e);
			if (r > 0)
				malformed += r;
			if (r >= 0)
				r = modprobe_vfio_ids(f->old, f->old_len, &other, &e);
			if (r >= 0 && strv_length(other) > 0)
				r = diag_add(
				    d, DIAG_WARN, "hostcfg-ids-elsewhere",
				    "Keep one `options vfio-pci ids=` line: merge it into "
				    "/etc/modprobe.d/vfio.conf and remove the other",
				    "%s also sets vfio-pci ids=: the two files override each other",
				    f->name);
			break;
		}
		case HOSTCFG_FILE_GRUB_DROPIN:
			if (f->old && strstr(f->old, "GRUB_CMDLINE_LINUX_DEFAULT"))
				r = diag_add(
				    d, DIAG_WARN, "hostcfg-grub-dropin",
				    "Move the parameters into /etc/default/grub or add them to the "
				    "drop-in",
				    "%s sets GRUB_CMDLINE_LINUX_DEFAULT after /etc/default/grub: "
				    "it may override the parameters gpurun adds",
				    f->name);
			break;
		default:
			r = 0;
		}
		if (r == -EINVAL) {
			_cleanup_free_ char *where = NULL;
			int q;

			/* "NAME:LINE: cannot edit this file safely: REASON" */
			error_set_file(&e, f->name, false);
			error_prefix(&e, "cannot edit this file safely");
			where = error_format(&e);
			if (!where)
				return -ENOMEM;
			q = diag_add(
			    d, DIAG_FAIL, "hostcfg-unparsable",
			    "Edit the file by hand, or simplify that line, then run gpurun "
			    "host-config again",
			    "%s", where);
			return q < 0 ? q : -EINVAL;
		}
		if (r < 0)
			return r;
		if (content) {
			r = set_new(f, TAKE_PTR(content));
			changed += r;
		}
	}
	if (malformed > 0)
		return -EINVAL;
	if (cfg->tool.tool != HOSTCFG_TOOL_NONE && strv_length(cfg->tool.add) > 0)
		changed++;
	if (cfg->boot == HOSTCFG_BOOT_UNKNOWN) {
		_cleanup_free_ char *j = strv_join(p_all, " ");

		r = diag_add(d, DIAG_WARN, "hostcfg-bootloader",
			     "Add the parameters to your bootloader's kernel command line by hand",
			     "Bootloader not recognised (%s): kernel parameters not written: %s",
			     strna(cfg->boot_evidence), strna(j));
		if (r < 0)
			return r;
	}
	return changed;
}

int hostcfg_run(char *const *argv)
{
	struct spawn_status st;
	int r;

	r = spawn_run(argv, NULL, &st, NULL);
	if (r < 0)
		return r;
	return st.signaled ? 128 + st.code : st.code;
}

/* ---- pending ---- */

struct hostcfg_state *hostcfg_state_free(struct hostcfg_state *st)
{
	if (!st)
		return NULL;
	free(st->source);
	strv_free(st->cmdline);
	strv_free(st->vfio_ids);
	free(st->ids_source);
	free(st);
	return NULL;
}

int hostcfg_read_state(struct ctx *c, struct hostcfg_state **ret)
{
	_cleanup_(hostcfg_freep) struct hostcfg *cfg = NULL;
	_cleanup_(hostcfg_state_freep) struct hostcfg_state *st = calloc(1, sizeof(*st));
	const struct hostcfg_file *src = NULL;
	int r;

	if (!st)
		return -ENOMEM;
	r = load_internal(c, NULL, &cfg, NULL);
	if (r < 0)
		return r;
	/* the file the next boot takes its command line from */
	for (int pass = 0; pass < 3 && !src; pass++)
		for (size_t i = 0; i < cfg->n_files && !src; i++) {
			const struct hostcfg_file *f = &cfg->files[i];

			if (!f->old)
				continue;
			if ((pass == 0 && f->kind == HOSTCFG_FILE_GRUB) ||
			    (pass == 0 && f->kind == HOSTCFG_FILE_CMDLINE &&
			     cfg->boot == HOSTCFG_BOOT_PROXMOX_SDBOOT) ||
			    (pass == 1 && (f->kind == HOSTCFG_FILE_LOADER_ENTRY ||
					   f->kind == HOSTCFG_FILE_TOOL_STATE)) ||
			    (pass == 2 && f->kind == HOSTCFG_FILE_CMDLINE))
				src = f;
		}
	if (src) {
		r = bootloader_file_cmdline(src->kind, src->old, src->old_len, &st->cmdline, NULL);
		if (r < 0 && r != -EINVAL)
			return r;
		st->source = strdup(src->name);
		if (!st->source)
			return -ENOMEM;
	}
	st->vfio_ids = strv_new_empty();
	if (!st->vfio_ids)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_files; i++) {
		const struct hostcfg_file *f = &cfg->files[i];
		_cleanup_strv_free_ char **ids = NULL;

		if ((f->kind != HOSTCFG_FILE_MODPROBE && f->kind != HOSTCFG_FILE_MODPROBE_OTHER) ||
		    !f->old)
			continue;
		r = modprobe_vfio_ids(f->old, f->old_len, &ids, NULL);
		if (r == -EINVAL)
			continue;
		if (r < 0)
			return r;
		if (ids[0] && !st->ids_source && !(st->ids_source = strdup(f->name)))
			return -ENOMEM;
		for (char **k = ids; *k; k++)
			if (!strv_contains_case(st->vfio_ids, *k) &&
			    (r = strv_extend(&st->vfio_ids, *k)) < 0)
				return r;
	}
	*ret = TAKE_PTR(st);
	return 0;
}

static bool is_iommu_param(const char *t)
{
	return startswith(t, "iommu=") || startswith(t, "amd_iommu=") ||
	       startswith(t, "intel_iommu=");
}

int hostcfg_pending(const struct host *h, const struct hostcfg_state *st, struct diag_list *out)
{
	_cleanup_strv_free_ char **running = NULL, **missing = strv_new_empty();
	bool relevant = strv_length(st->vfio_ids) > 0;
	int pending = 0, r;

	if (!missing)
		return -ENOMEM;
	r = cmdline_split(strempty(h->cmdline), strlen(strempty(h->cmdline)), &running);
	if (r < 0)
		return r;
	for (char **t = st->cmdline; t && *t; t++) {
		relevant |= is_iommu_param(*t);
		/* shell variables of /etc/default/grub ($vt_handoff) are not known here */
		if (strchr(*t, '$') || strv_contains(running, *t))
			continue;
		if ((r = strv_extend(&missing, *t)) < 0)
			return r;
	}
	if (missing[0]) {
		_cleanup_free_ char *j = strv_join(missing, " ");

		r = diag_add(out, DIAG_WARN, "hostcfg-pending",
			     "Reboot to activate it (after refreshing the boot configuration if "
			     "the file was edited by hand: gpurun host-config --apply does both)",
			     "Configured but not active yet: %s sets '%s', the running kernel was "
			     "booted without it",
			     strna(st->source), strna(j));
		if (r < 0)
			return r;
		pending++;
	}
	for (char **id = st->vfio_ids; id && *id; id++) {
		uint16_t v, dv;

		if (pci_id_parse(*id, &v, &dv) < 0)
			continue;
		for (size_t i = 0; i < h->n_funcs; i++) {
			const struct pci_func *f = &h->funcs[i];

			if (f->vendor != v || f->device != dv || !f->driver ||
			    modprobe_modname_eq(f->driver, "vfio_pci"))
				continue;
			r = diag_add(
			    out, DIAG_WARN, "hostcfg-pending",
			    "Reboot; if it stays, rebuild the initramfs (update-initramfs -u -k "
			    "all, dracut -f or mkinitcpio -P) so that vfio-pci loads first",
			    "Configured but not active yet: %s gives %s to vfio-pci, but %s is "
			    "bound to %s",
			    strna(st->ids_source), *id, f->address, f->driver);
			if (r < 0)
				return r;
			pending++;
		}
	}
	if (!pending && relevant) {
		r = diag_add(out, DIAG_PASS, "hostcfg-active", NULL,
			     "Persistent host configuration is active (%s%s%s)", strna(st->source),
			     st->ids_source ? ", " : "", st->ids_source ? st->ids_source : "");
		if (r < 0)
			return r;
	}
	return pending;
}
