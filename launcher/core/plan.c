/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The planner. Decisions worth knowing:
 * - GPU resolution failures (no match, several matches) are FAIL diagnostics with id
 *   "gpu-device", not error returns: `gpurun plan` can still show everything else, and
 *   emitters refuse a plan whose `resolved` is false.
 * - `functions = all` uses host_gpu_slot_functions(): a discrete card's whole slot, but only
 *   display + the GPU vendor's HD-audio functions on an APU slot (a slot that also holds other
 *   vendors' functions or classes no graphics card has, such as the AMD PSP 1022:17e0). The
 *   rest of an APU slot is never passed; it only matters if it shares the GPU's IOMMU group,
 *   which the group-viable check reports.
 * - In the guest each host slot gets its own pcie-root-port and functions are renumbered from
 *   0, so a guest always sees function 0 (a guest does not scan function 1 without 0). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checks.h"
#include "core/guest.h"
#include "core/hostinfo.h"
#include "core/plan.h"
#include "core/profile.h"
#include "core/rom.h"
#include "util/fileio.h"
#include "util/strutil.h"
#include "util/strv.h"

static const char *const plan_role_table[_PLAN_ROLE_MAX] = {
	[PLAN_ROLE_GPU] = "gpu",
	[PLAN_ROLE_GPU_AUDIO] = "gpu-audio",
	[PLAN_ROLE_GPU_OTHER] = "gpu-other",
	[PLAN_ROLE_EXTRA] = "extra",
};
static const char *const plan_rom_source_table[_PLAN_ROM_SOURCE_MAX] = {
	[PLAN_ROM_NONE] = "none",
	[PLAN_ROM_VFCT] = "vfct",
	[PLAN_ROM_SYSFS] = "sysfs",
	[PLAN_ROM_FILE] = "file",
};
static const char *const plan_action_kind_table[_PLAN_ACTION_KIND_MAX] = {
	[PLAN_ACTION_LOAD_MODULE] = "load-module",
	[PLAN_ACTION_STAGE_ROM] = "stage-rom",
	[PLAN_ACTION_UNBIND_CONSOLE] = "unbind-console",
	[PLAN_ACTION_UNBIND_FRAMEBUFFER] = "unbind-framebuffer",
	[PLAN_ACTION_BIND_VFIO] = "bind-vfio",
	[PLAN_ACTION_UPLOAD_ROM] = "upload-rom",
	[PLAN_ACTION_NODEDEV_DETACH] = "nodedev-detach",
};
DEFINE_STRING_TABLE_LOOKUP(plan_role, enum plan_role, _PLAN_ROLE_MAX)
DEFINE_STRING_TABLE_LOOKUP(plan_rom_source, enum plan_rom_source, _PLAN_ROM_SOURCE_MAX)
DEFINE_STRING_TABLE_LOOKUP(plan_action_kind, enum plan_action_kind, _PLAN_ACTION_KIND_MAX)

/* OVMF code/vars pairs by distribution, relative to usr_share; first complete pair wins. */
const struct plan_ovmf_pair plan_ovmf_pairs[] = {
	/* Debian, Ubuntu (package ovmf) */
	{ "OVMF/OVMF_CODE_4M.fd", "OVMF/OVMF_VARS_4M.fd", false },
	{ "OVMF/OVMF_CODE.fd", "OVMF/OVMF_VARS.fd", false },
	{ "OVMF/OVMF_CODE_4M.secboot.fd", "OVMF/OVMF_VARS_4M.ms.fd", true },
	{ "OVMF/OVMF_CODE.secboot.fd", "OVMF/OVMF_VARS.ms.fd", true },
	/* Fedora (edk2-ovmf) */
	{ "edk2/ovmf/OVMF_CODE_4M.qcow2", "edk2/ovmf/OVMF_VARS_4M.qcow2", false },
	{ "edk2/ovmf/OVMF_CODE.fd", "edk2/ovmf/OVMF_VARS.fd", false },
	{ "edk2/ovmf/OVMF_CODE.secboot.fd", "edk2/ovmf/OVMF_VARS.secboot.fd", true },
	/* Arch (edk2-ovmf) */
	{ "edk2/x64/OVMF_CODE.4m.fd", "edk2/x64/OVMF_VARS.4m.fd", false },
	{ "edk2/x64/OVMF_CODE.secboot.4m.fd", "edk2/x64/OVMF_VARS.4m.fd", true },
	{ "edk2-ovmf/x64/OVMF_CODE.fd", "edk2-ovmf/x64/OVMF_VARS.fd", false },
	{ "edk2-ovmf/x64/OVMF_CODE.secboot.fd", "edk2-ovmf/x64/OVMF_VARS.fd", true },
};
const size_t plan_n_ovmf_pairs = ELEMENTSOF(plan_ovmf_pairs);

void plan_paths_done(struct plan_paths *p)
{
	free(p->rom_dir);
	free(p->pve_rom_dir);
	free(p->state_dir);
	free(p->vars_dir);
	free(p->usr_share);
	strv_free(p->ovmf_files);
	firmware_set_done(&p->firmware);
	strv_free(p->firmware_files);
	free(p->firmware_dirs);
	*p = (struct plan_paths){};
}

struct plan *plan_free(struct plan *p)
{
	if (!p)
		return NULL;
	free(p->vm_name);
	for (size_t i = 0; i < p->n_devices; i++) {
		struct plan_device *d = &p->devices[i];

		free(d->name);
		free(d->host_driver);
		free(d->rom_source_path);
		free(d->romfile);
		free(d->rom_name);
	}
	free(p->devices);
	for (size_t i = 0; i < p->n_actions; i++) {
		free(p->actions[i].target);
		free(p->actions[i].source);
	}
	free(p->actions);
	diag_list_clear(&p->diags);
	free(p->ovmf_code);
	free(p->ovmf_vars_template);
	free(p->ovmf_vars);
	free(p->firmware_descriptor);
	free(p->tpm_dir);
	free(p->tpm_socket);
	free(p->remote_uri);
	free(p->remote_rom_pool);
	free(p->emulator_cpus);
	free(p);
	return NULL;
}

static int add_action(struct plan *p, enum plan_action_kind kind, const char *target,
		      const char *source)
{
	struct plan_action *t = realloc(p->actions, (p->n_actions + 1) * sizeof(*t));
	struct plan_action a = { .kind = kind };

	if (!t)
		return -ENOMEM;
	p->actions = t;
	a.target = strdup(target);
	a.source = source ? strdup(source) : NULL;
	if (!a.target || (source && !a.source)) {
		free(a.target);
		free(a.source);
		return -ENOMEM;
	}
	p->actions[p->n_actions++] = a;
	return 0;
}

static int add_device(struct plan *p, const struct pci_func *f, enum plan_role role,
		      const char *name)
{
	struct plan_device *t = realloc(p->devices, (p->n_devices + 1) * sizeof(*t));
	struct plan_device *d;

	if (!t)
		return -ENOMEM;
	p->devices = t;
	d = &p->devices[p->n_devices];
	*d = (struct plan_device){
		.vendor = f->vendor,
		.device = f->device,
		.class = f->class,
		.role = role,
		.iommu_group = f->iommu_group,
	};
	memcpy(d->address, f->address, sizeof(d->address));
	if ((name && !(d->name = strdup(name))) ||
	    (f->driver && !(d->host_driver = strdup(f->driver)))) {
		free(d->name);
		return -ENOMEM;
	}
	p->n_devices++;
	return 0;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* A ROM file for a remote node: uploaded into its ROM pool, the XML names the volume's path
 * there. Without the pool (or its directory) the plan cannot name that path: a FAIL. */
static int set_rom_remote(struct plan *p, const struct host *h, struct plan_device *d,
			  const char *file, const char *rom_name)
{
	d->rom_source = PLAN_ROM_FILE;
	if (!(d->rom_source_path = strdup(file)) || !(d->rom_name = strdup(rom_name)))
		return -ENOMEM;
	if (!h->remote_rom_dir)
		return diag_add(
		    &p->diags, DIAG_FAIL, "rom-pool",
		    "Create the pool once on that host: virsh -c URI pool-define-as "
		    "gpurun dir --target /var/lib/gpurun/roms; virsh -c URI pool-build "
		    "gpurun; virsh -c URI pool-start gpurun; virsh -c URI pool-autostart "
		    "gpurun",
		    "%s goes to %s through its storage pool '%s', which is not there or "
		    "not running",
		    file, h->remote_uri, strna(h->remote_rom_pool));
	d->romfile = path_join(h->remote_rom_dir, rom_name);
	if (!d->romfile)
		return -ENOMEM;
	return add_action(p, PLAN_ACTION_UPLOAD_ROM, rom_name, file);
}

static int set_rom(struct plan *p, struct plan_device *d, enum plan_rom_source src,
		   const char *file, const char *rom_name, const char *rom_dir)
{
	_cleanup_free_ char *source = NULL;

	d->rom_source = src;
	if (file && !(d->rom_source_path = strdup(file)))
		return -ENOMEM;
	d->rom_name = strdup(rom_name);
	d->romfile = path_join(rom_dir, rom_name);
	if (!d->rom_name || !d->romfile)
		return -ENOMEM;
	if (src == PLAN_ROM_FILE)
		source = strdup(file);
	else
		source = strdup_printf("%s:%s", plan_rom_source_to_string(src), d->address);
	if (!source)
		return -ENOMEM;
	return add_action(p, PLAN_ACTION_STAGE_ROM, d->romfile, source);
}

static bool same_slot(const char *a, const char *b)
{
	/* "dddd:bb:dd.f": equal up to the '.' */
	return strncmp(a, b, 10) == 0;
}

static int describe_func(const struct pci_func *f, char **ret)
{
	if (asprintf(ret, "%s [%04x:%04x]%s%s", f->address, f->vendor, f->device,
		     f->driver ? " " : "", f->driver ? f->driver : "") < 0)
		return -ENOMEM;
	return 0;
}

static int resolve_gpu(struct plan *p, const struct profile *pr, const struct host *h,
		       const struct pci_func **ret)
{
	_cleanup_free_ const struct pci_func **m = NULL;
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ char *joined = NULL, *fix = NULL;
	int n;

	n = host_match_device(h, pr->gpu_device, &m);
	if (n == -EINVAL)
		return diag_add(&p->diags, DIAG_FAIL, "gpu-device", "Fix [gpu] device",
				"[gpu] device '%s' is neither an id nor an address",
				pr->gpu_device);
	if (n < 0)
		return n;
	if (n == 0)
		return diag_add(&p->diags, DIAG_FAIL, "gpu-device",
				"Check the id/address with `gpurun ls`",
				"No PCI function matches [gpu] device '%s'", pr->gpu_device);
	if (n > 1) {
		names = calloc(1, sizeof(char *));
		if (!names)
			return -ENOMEM;
		for (int i = 0; i < n; i++) {
			char *s;

			if (describe_func(m[i], &s) < 0 || strv_consume(&names, s) < 0)
				return -ENOMEM;
		}
		joined = strv_join(names, ", ");
		if (!joined || asprintf(&fix, "Name one by address in [gpu], e.g. device = %s",
					m[0]->address) < 0)
			return -ENOMEM;
		return diag_add(&p->diags, DIAG_FAIL, "gpu-device", fix,
				"[gpu] device '%s' matches %d functions: %s", pr->gpu_device, n,
				joined);
	}
	if (m[0]->is_bridge)
		return diag_add(&p->diags, DIAG_FAIL, "gpu-device",
				"Name the GPU behind it (see `gpurun ls`)",
				"[gpu] device '%s' is %s, a PCI bridge, not a GPU", pr->gpu_device,
				m[0]->address);
	*ret = m[0];
	return 0;
}

/* The boot VGA's diagnostic is checks.c's; here only the consoles to release when allowed. */
static int plan_console(struct plan *p, const struct profile *pr, const struct host *h,
			const struct pci_func *f)
{
	int r;

	if ((f->boot_vga != 1 && !f->console) || !pr->allow_boot_vga || h->remote_uri)
		return 0;
	/* vtconsoles entries look like "vtcon1: frame buffer device (bound)" */
	for (char **v = h->vtconsoles; f->console && v && *v; v++) {
		_cleanup_free_ char *name = NULL;
		const char *colon = strchr(*v, ':');

		if (!colon || !strstr(*v, "frame buffer") || !strstr(*v, "(bound)"))
			continue;
		name = strndup(*v, (size_t)(colon - *v));
		if (!name)
			return -ENOMEM;
		r = add_action(p, PLAN_ACTION_UNBIND_CONSOLE, name, NULL);
		if (r < 0)
			return r;
	}
	/* efifb / simplefb keep the GPU's BAR reserved (QEMU: "BAR 0: can't reserve") whether or
	 * not a console runs on them: the platform device is unbound too, after the consoles
	 * (revert rebinds it first) */
	if (f->fb_platform)
		return add_action(p, PLAN_ACTION_UNBIND_FRAMEBUFFER, f->fb_platform, NULL);
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && streq(s + a - b, suffix);
}

/* The per-VM variable store: the profile's nvram, else <vars_dir>/<vm>_VARS.<fd|qcow2>. */
static int set_vars_path(struct plan *p, const struct profile *pr, const struct plan_paths *paths)
{
	_cleanup_free_ char *file = NULL;

	if (pr->nvram)
		p->ovmf_vars = strdup(pr->nvram);
	else if ((file =
		      strdup_printf("%s_VARS.%s", pr->name,
				    p->ovmf_vars_format == FIRMWARE_FORMAT_QCOW2 ? "qcow2" : "fd")))
		p->ovmf_vars = path_join(paths->vars_dir, file);
	return p->ovmf_vars ? 0 : -ENOMEM;
}

static bool descriptor_files_exist(const struct firmware_descriptor *d, void *userdata)
{
	char **files = userdata;

	return strv_contains(files, d->executable) && strv_contains(files, d->nvram_template);
}

/* QEMU's firmware descriptors decide, as for libvirt; gpurun's table of file names only on a
 * host that has none (older distributions), and then the plan says so. */
static int pick_firmware_descriptor(struct plan *p, const struct profile *pr,
				    const struct plan_paths *paths)
{
	const struct firmware_want want = {
		.arch = "x86_64",
		.machine = "q35",
		.secure_boot = p->secure_boot,
	};
	const struct firmware_descriptor *d;
	int i, r;

	for (char **s = paths->firmware.skipped; s && *s; s++) {
		r = diag_add(&p->diags, DIAG_WARN, "firmware-descriptor",
			     "Fix or remove the file (an empty file of the same name in "
			     "/etc/qemu/firmware hides a distribution's descriptor)",
			     "Ignoring firmware descriptor %s", *s);
		if (r < 0)
			return r;
	}
	i = firmware_select(paths->firmware.descs, paths->firmware.n_descs, &want,
			    descriptor_files_exist, paths->firmware_files);
	if (i < 0) {
		/* the descriptor that would have been chosen: name the file it lacks */
		int k = firmware_select(paths->firmware.descs, paths->firmware.n_descs, &want, NULL,
					NULL);

		if (k >= 0) {
			const struct firmware_descriptor *m = paths->firmware.descs[k];
			const char *missing = !strv_contains(paths->firmware_files, m->executable)
						  ? m->executable
						  : m->nvram_template;

			return diag_add(
			    &p->diags, DIAG_FAIL, "firmware",
			    "Reinstall the package that ships it (Debian/Ubuntu: ovmf; "
			    "Fedora: edk2-ovmf; Arch: edk2-ovmf), or use firmware = bios",
			    "%s is missing: the firmware descriptor %s names it as the %s", missing,
			    m->name, missing == m->executable ? "executable" : "nvram template");
		}
		return diag_add(
		    &p->diags, DIAG_FAIL, "firmware",
		    "Install OVMF (Debian/Ubuntu: apt install ovmf; Fedora: dnf install "
		    "edk2-ovmf; Arch: pacman -S edk2-ovmf), or use firmware = bios",
		    "No firmware descriptor in %s offers %sUEFI for x86_64 q35 with "
		    "its files present",
		    strempty(paths->firmware_dirs),
		    p->secure_boot ? "secure-boot (keys enrolled) " : "");
	}
	d = paths->firmware.descs[i];
	p->ovmf_code = strdup(d->executable);
	p->ovmf_vars_template = strdup(d->nvram_template);
	p->firmware_descriptor = strdup(d->name);
	if (!p->ovmf_code || !p->ovmf_vars_template || !p->firmware_descriptor)
		return -ENOMEM;
	p->ovmf_code_format = d->executable_format;
	p->ovmf_vars_format = d->nvram_template_format;
	p->requires_smm = firmware_has_feature(d, FIRMWARE_FEATURE_REQUIRES_SMM);
	if (p->secure_boot && !firmware_has_feature(d, FIRMWARE_FEATURE_ENROLLED_KEYS)) {
		r = diag_add(&p->diags, DIAG_WARN, "firmware-keys",
			     "Enroll keys in the guest's variable store (e.g. virt-fw-vars "
			     "--enroll-redhat or --enroll-cert), or install a build with keys "
			     "enrolled",
			     "%s: secure boot without enrolled keys (setup mode): the guest boots "
			     "unsigned code until keys are enrolled",
			     d->name);
		if (r < 0)
			return r;
	}
	return set_vars_path(p, pr, paths);
}

static int pick_firmware(struct plan *p, const struct profile *pr, const struct plan_paths *paths)
{
	bool secboot = pr->firmware == PROFILE_FIRMWARE_UEFI_SECBOOT;
	int r;

	if (pr->firmware == PROFILE_FIRMWARE_BIOS)
		return 0;
	p->secure_boot = secboot;
	if (paths->firmware.n_descs > 0 || (paths->firmware.skipped && *paths->firmware.skipped))
		return pick_firmware_descriptor(p, pr, paths);
	r = diag_add(&p->diags, DIAG_INFO, "firmware-descriptors",
		     "Install the distribution's OVMF package with its QEMU firmware descriptors",
		     "No QEMU firmware descriptors in %s: OVMF chosen from gpurun's table of "
		     "distribution file names",
		     paths->firmware_dirs ? paths->firmware_dirs : "qemu/firmware");
	if (r < 0)
		return r;
	for (size_t i = 0; i < plan_n_ovmf_pairs; i++) {
		if (plan_ovmf_pairs[i].secboot != secboot ||
		    !strv_contains(paths->ovmf_files, plan_ovmf_pairs[i].code) ||
		    !strv_contains(paths->ovmf_files, plan_ovmf_pairs[i].vars))
			continue;
		p->ovmf_code = path_join(paths->usr_share, plan_ovmf_pairs[i].code);
		p->ovmf_vars_template = path_join(paths->usr_share, plan_ovmf_pairs[i].vars);
		if (!p->ovmf_code || !p->ovmf_vars_template)
			return -ENOMEM;
		/* the table's only qcow2 builds are named so; its secure-boot builds all need
		 * SMM (Debian's, Fedora's and Arch's secboot images are built with SMM_REQUIRE) */
		p->ovmf_code_format = has_suffix(p->ovmf_code, ".qcow2") ? FIRMWARE_FORMAT_QCOW2
									 : FIRMWARE_FORMAT_RAW;
		p->ovmf_vars_format = has_suffix(p->ovmf_vars_template, ".qcow2")
					  ? FIRMWARE_FORMAT_QCOW2
					  : FIRMWARE_FORMAT_RAW;
		p->requires_smm = secboot;
		return set_vars_path(p, pr, paths);
	}
	return diag_add(&p->diags, DIAG_FAIL, "firmware",
			"Install OVMF (Debian/Ubuntu: apt install ovmf; Fedora: dnf install "
			"edk2-ovmf; Arch: pacman -S edk2-ovmf), or use firmware = bios",
			"No %sOVMF firmware found under %s", secboot ? "secure-boot " : "",
			paths->usr_share);
}

static int plan_roms(struct plan *p, const struct profile *pr, const struct host *h,
		     const struct plan_paths *paths, struct plan_device *vga,
		     struct plan_device *audio);

static int plan_gpu(struct plan *p, const struct profile *pr, const struct host *h,
		    const struct plan_paths *paths, const struct pci_func *gpu)
{
	_cleanup_strv_free_ char **funcs = NULL;
	struct plan_device *vga = NULL, *audio = NULL;
	int r;

	if (pr->gpu_functions_all) {
		r = host_gpu_slot_functions(h, gpu, &funcs);
		if (r < 0)
			return r;
	} else {
		funcs = strv_copy(pr->gpu_functions);
		if (!funcs)
			return -ENOMEM;
	}
	/* host functions are sorted by address, so walk them to keep address order */
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct pci_func *f = &h->funcs[i];
		enum plan_role role = pci_func_is_display(f) ? PLAN_ROLE_GPU
				      : pci_func_is_hda(f)   ? PLAN_ROLE_GPU_AUDIO
							     : PLAN_ROLE_GPU_OTHER;

		if (!strv_contains(funcs, f->address))
			continue;
		r = add_device(p, f, role, NULL);
		if (r < 0)
			return r;
	}
	for (char **a = funcs; *a; a++)
		if (!host_find_func(h, *a)) {
			r = diag_add(&p->diags, DIAG_FAIL, "gpu-functions",
				     "Check [gpu] functions with `gpurun ls`",
				     "[gpu] functions lists %s, which does not exist on this host",
				     *a);
			if (r < 0)
				return r;
		}
	if (!pr->gpu_functions_all && !strv_contains(funcs, gpu->address)) {
		r = diag_add(&p->diags, DIAG_WARN, "gpu-functions", NULL,
			     "[gpu] functions does not include the GPU itself (%s)", gpu->address);
		if (r < 0)
			return r;
	}
	p->gpu_whole_slot = pr->gpu_functions_all && !host_slot_is_apu(h, gpu);
	if (host_slot_is_apu(h, gpu)) {
		_cleanup_strv_free_ char **rest = calloc(1, sizeof(char *));
		_cleanup_free_ char *joined = NULL;

		if (!rest)
			return -ENOMEM;
		for (size_t i = 0; i < h->n_funcs; i++)
			if (same_slot(h->funcs[i].address, gpu->address) &&
			    !strv_contains(funcs, h->funcs[i].address) &&
			    strv_extend(&rest, h->funcs[i].address) < 0)
				return -ENOMEM;
		joined = strv_join(rest, ", ");
		if (!joined)
			return -ENOMEM;
		if (rest[0]) {
			r = diag_add(&p->diags, DIAG_INFO, "apu-slot", NULL,
				     "%s is an APU: only its display and HDMI/DP audio functions "
				     "go to the guest, not %s",
				     gpu->address, joined);
			if (r < 0)
				return r;
		}
	}

	for (size_t i = 0; i < p->n_devices; i++) {
		if (!vga && p->devices[i].role == PLAN_ROLE_GPU)
			vga = &p->devices[i];
		if (!audio && p->devices[i].role == PLAN_ROLE_GPU_AUDIO)
			audio = &p->devices[i];
	}
	if (vga)
		vga->primary_vga = pr->x_vga;

	r = plan_roms(p, pr, h, paths, vga, audio);
	if (r < 0)
		return r;
	return plan_console(p, pr, h, gpu);
}

static int plan_roms(struct plan *p, const struct profile *pr, const struct host *h,
		     const struct plan_paths *paths, struct plan_device *vga,
		     struct plan_device *audio)
{
	int r = 0;

	/* VBIOS on the display function */
	if (pr->vbios != PROFILE_VBIOS_NONE && !vga)
		return diag_add(&p->diags, DIAG_FAIL, "vbios", NULL,
				"vbios = %s, but no display function is passed",
				profile_vbios_to_string(pr->vbios));
	if (h->remote_uri && (pr->vbios == PROFILE_VBIOS_VFCT || pr->vbios == PROFILE_VBIOS_SYSFS))
		/* the node's firmware tables and sysfs are not readable through libvirt */
		r = diag_add(
		    &p->diags, DIAG_FAIL, "vbios",
		    "Run `gpurun vbios extract` on that host, copy the file here and name "
		    "it: vbios = /path/file.rom (gpurun uploads it)",
		    "vbios = %s reads the %s of the host the VM runs on, and %s is another "
		    "host: it cannot be read through libvirt",
		    profile_vbios_to_string(pr->vbios),
		    pr->vbios == PROFILE_VBIOS_VFCT ? "ACPI VFCT table" : "sysfs rom",
		    h->remote_uri);
	else if (h->remote_uri && pr->vbios == PROFILE_VBIOS_FILE)
		r = set_rom_remote(p, h, vga, pr->vbios_path, basename_of(pr->vbios_path));
	if (r < 0)
		return r;
	if (h->remote_uri)
		; /* done above */
	else if (pr->vbios == PROFILE_VBIOS_VFCT || pr->vbios == PROFILE_VBIOS_SYSFS) {
		_cleanup_free_ char *name = vbios_name(vga->vendor, vga->device);
		const struct pci_func *vf = host_find_func(h, vga->address);

		if (!name)
			return -ENOMEM;
		r = set_rom(p, vga,
			    pr->vbios == PROFILE_VBIOS_VFCT ? PLAN_ROM_VFCT : PLAN_ROM_SYSFS, NULL,
			    name, paths->rom_dir);
		if (r < 0)
			return r;
		if (pr->vbios == PROFILE_VBIOS_VFCT && !h->has_vfct)
			r = diag_add(&p->diags, DIAG_FAIL, "vbios", "Use vbios = /path/file.rom",
				     "vbios = vfct, but the host has no ACPI VFCT table");
		else if (pr->vbios == PROFILE_VBIOS_SYSFS && vf && !vf->has_rom)
			r = diag_add(&p->diags, DIAG_FAIL, "vbios",
				     "Use vbios = vfct (iGPU) or vbios = /path/file.rom",
				     "vbios = sysfs, but %s has no rom attribute", vga->address);
		if (r < 0)
			return r;
	} else if (pr->vbios == PROFILE_VBIOS_FILE) {
		r = set_rom(p, vga, PLAN_ROM_FILE, pr->vbios_path, basename_of(pr->vbios_path),
			    paths->rom_dir);
		if (r < 0)
			return r;
	}

	/* GOP driver ROM on the HDMI audio function: OVMF loads it from there (REFERENCE.md) */
	if (pr->gop) {
		if (!audio)
			return diag_add(&p->diags, DIAG_FAIL, "gop",
					"Pass the GPU's HDMI audio function too, or combine VBIOS "
					"and GOP into one ROM and use vbios = /path/combined.rom",
					"gop = %s needs the GPU's HDMI audio function to carry it",
					pr->gop);
		if (vga && vga->rom_name && streq(vga->rom_name, basename_of(pr->gop)))
			return diag_add(&p->diags, DIAG_FAIL, "gop", "Rename one of the files",
					"The VBIOS and GOP ROM files have the same name '%s'",
					vga->rom_name);
		r = h->remote_uri ? set_rom_remote(p, h, audio, pr->gop, basename_of(pr->gop))
				  : set_rom(p, audio, PLAN_ROM_FILE, pr->gop, basename_of(pr->gop),
					    paths->rom_dir);
		if (r < 0)
			return r;
		audio->rom_is_gop = true;
	}
	return 0;
}

static void place_devices(struct plan *p)
{
	unsigned port = 0;

	for (size_t i = 0; i < p->n_devices; i++) {
		struct plan_device *d = &p->devices[i];
		unsigned fn = 0;
		bool found = false;

		for (size_t j = 0; j < i; j++)
			if (same_slot(p->devices[j].address, d->address)) {
				d->guest_port = p->devices[j].guest_port;
				fn = p->devices[j].guest_function + 1;
				found = true;
			}
		d->guest_function = fn;
		if (!found)
			d->guest_port = port++;
	}
	for (size_t i = 0; i < p->n_devices; i++)
		for (size_t j = 0; j < p->n_devices; j++)
			if (p->devices[i].guest_function == 0 && j != i &&
			    p->devices[j].guest_port == p->devices[i].guest_port)
				p->devices[i].multifunction = true;
}

static int plan_actions_bind(struct plan *p)
{
	/* unbind order: the audio function before the GPU, extras last */
	static const enum plan_role order[] = { PLAN_ROLE_GPU_AUDIO, PLAN_ROLE_GPU_OTHER,
						PLAN_ROLE_GPU, PLAN_ROLE_EXTRA };
	int r;

	for (size_t o = 0; o < ELEMENTSOF(order); o++)
		for (size_t i = 0; i < p->n_devices; i++) {
			const struct plan_device *d = &p->devices[i];

			if (d->role != order[o] || streq_ptr(d->host_driver, "vfio-pci"))
				continue;
			r = add_action(
			    p, p->remote_uri ? PLAN_ACTION_NODEDEV_DETACH : PLAN_ACTION_BIND_VFIO,
			    d->address, d->host_driver);
			if (r < 0)
				return r;
		}
	return 0;
}

int plan_build(const struct profile *pr, const struct host *h, const struct plan_paths *paths,
	       struct plan **ret)
{
	_cleanup_(plan_freep) struct plan *p = calloc(1, sizeof(*p));
	const struct pci_func *gpu = NULL;
	int r;

	if (!p)
		return -ENOMEM;
	p->profile = pr;
	p->vm_name = strdup(pr->name);
	if (!p->vm_name)
		return -ENOMEM;
	if (h->remote_uri && (!(p->remote_uri = strdup(h->remote_uri)) ||
			      !(p->remote_rom_pool = strdup(strempty(h->remote_rom_pool)))))
		return -ENOMEM;
	/* one socket of single-threaded cores: what Proxmox's sockets: 1 / cores: N gives, and
	 * what Windows client editions (licensed for at most two sockets) use in full */
	p->sockets = 1;
	p->cores = pr->cpus;
	p->threads = 1;
	if (pr->n_pin_cpus > 0 && h->n_cpus_online > 0) {
		_cleanup_free_ unsigned *rest = calloc(h->n_cpus_online, sizeof(*rest));
		size_t n = 0;

		if (!rest)
			return -ENOMEM;
		for (size_t i = 0; i < h->n_cpus_online; i++) {
			bool pinned = false;

			for (size_t j = 0; j < pr->n_pin_cpus && !pinned; j++)
				pinned = pr->pin_cpus[j] == h->cpus_online[i];
			/* run pins them to the CPUs of its own set (sched_getaffinity) */
			if (!pinned && host_cpu_allowed(h, h->cpus_online[i]))
				rest[n++] = h->cpus_online[i];
		}
		if (n > 0 && !(p->emulator_cpus = cpulist_format(rest, n)))
			return -ENOMEM;
	}

	/* a module that is missing is checks.c's FAIL "vfio-modules"; on a remote node libvirt
	 * loads vfio-pci itself */
	for (int i = 0; i < _HOST_MOD_MAX && !h->remote_uri; i++) {
		if (h->mod_loaded[i] || !host_module_required(i) || !h->mod_available[i])
			continue;
		r = add_action(p, PLAN_ACTION_LOAD_MODULE, host_module_names[i], NULL);
		if (r < 0)
			return r;
	}

	r = resolve_gpu(p, pr, h, &gpu);
	if (r < 0)
		return r;
	if (gpu) {
		p->resolved = true;
		r = plan_gpu(p, pr, h, paths, gpu);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < pr->n_devices; i++) {
		const struct profile_device *pd = &pr->devices[i];
		const struct pci_func *f = host_find_func(h, pd->address);
		bool dup = false;

		for (size_t j = 0; j < p->n_devices; j++)
			dup = dup || streq(p->devices[j].address, pd->address);
		if (!f || dup) {
			r = diag_add(&p->diags, DIAG_FAIL, "device",
				     f ? "Remove the [device] section"
				       : "Check the address with `gpurun ls`",
				     f ? "[device %s] %s is already passed as a GPU function"
				       : "[device %s] %s does not exist on this host",
				     pd->name, pd->address);
			if (r < 0)
				return r;
			continue;
		}
		if (f->is_bridge) {
			/* vfio-pci binds endpoints only (its probe refuses a header type other
			 * than 0): bind would fail with the GPU already taken from the host */
			r = diag_add(&p->diags, DIAG_FAIL, "device",
				     "Pass the devices behind it as [device] sections instead (see "
				     "`gpurun ls`)",
				     "[device %s] %s is a PCI bridge: vfio-pci cannot take it",
				     pd->name, pd->address);
			if (r < 0)
				return r;
			continue;
		}
		r = add_device(p, f, PLAN_ROLE_EXTRA, pd->name);
		if (r < 0)
			return r;
	}
	place_devices(p);

	/* the host's facts for this plan: one engine for check, plan, run and emit */
	r = checks_plan(h, p, &p->diags);
	if (r < 0)
		return r;
	if (h->remote_uri && pr->firmware != PROFILE_FIRMWARE_BIOS) {
		/* this machine's OVMF files say nothing about the node's */
		p->secure_boot = pr->firmware == PROFILE_FIRMWARE_UEFI_SECBOOT;
		r = diag_add(&p->diags, DIAG_INFO, "firmware", NULL,
			     "libvirt on %s picks the %sUEFI build from its own firmware "
			     "descriptors",
			     h->remote_uri, p->secure_boot ? "secure-boot " : "");
	} else
		r = pick_firmware(p, pr, paths);
	if (r < 0)
		return r;
	if (pr->tpm && !h->remote_uri) {
		_cleanup_free_ char *dir = NULL, *sock = NULL;

		if (asprintf(&dir, "%s_tpm", pr->name) < 0 ||
		    asprintf(&sock, "%s.swtpm.sock", pr->name) < 0)
			return -ENOMEM;
		p->tpm_dir = path_join(paths->vars_dir, dir);
		p->tpm_socket = path_join(paths->state_dir, sock);
		if (!p->tpm_dir || !p->tpm_socket)
			return -ENOMEM;
	}

	/* actions: modules (above), ROMs (added while planning), console, then the binds */
	{
		struct plan_action *a = p->actions;
		size_t n = p->n_actions;

		/* stable order by kind, keeping the insertion order within a kind */
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && a[j - 1].kind > a[j].kind; j--) {
				struct plan_action t = a[j];

				a[j] = a[j - 1];
				a[j - 1] = t;
			}
	}
	r = plan_actions_bind(p);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

static const char *yesno(bool b)
{
	return b ? "yes" : "no";
}

int plan_dump(const struct plan *p, FILE *f)
{
	const struct profile *pr = p->profile;

	fprintf(f, "vm: %s\n", p->vm_name);
	fprintf(f, "memory: %" PRIu64 " MiB\n", pr->memory_mib);
	fprintf(f, "cpus: %u\n", pr->cpus);
	fprintf(f, "topology: %u socket%s, %u core%s, %u thread%s\n", p->sockets,
		p->sockets == 1 ? "" : "s", p->cores, p->cores == 1 ? "" : "s", p->threads,
		p->threads == 1 ? "" : "s");
	fprintf(f, "guest-features:");
	for (size_t i = 0; i < guest_n_features; i++)
		if (guest_feature_on(&guest_features[i], pr))
			fprintf(f, " %s", guest_features[i].name);
	fputc('\n', f);
	if (pr->cpu_pinning)
		fprintf(f, "cpu-pinning: %s (QEMU's other threads: %s)\n", pr->cpu_pinning,
			p->emulator_cpus ? p->emulator_cpus : "unpinned");
	fprintf(f, "hugepages: %s\n", yesno(pr->hugepages));
	fprintf(f, "accel: %s\n", pr->accel_tcg ? "tcg" : "kvm");
	fprintf(f, "backend: %s\n", profile_backend_to_string(pr->backend));
	if (p->remote_uri)
		fprintf(f, "node: %s (remote: nothing on this machine is changed)\n",
			p->remote_uri);
	fprintf(f, "firmware: %s\n", profile_firmware_to_string(pr->firmware));
	if (p->ovmf_code) {
		fprintf(f, "ovmf-code: %s\n", p->ovmf_code);
		fprintf(f, "ovmf-vars-template: %s\n", p->ovmf_vars_template);
		fprintf(f, "ovmf-vars: %s\n", p->ovmf_vars);
		fprintf(f, "ovmf-format: code %s, vars %s%s\n",
			firmware_format_to_string(p->ovmf_code_format),
			firmware_format_to_string(p->ovmf_vars_format),
			p->requires_smm ? ", requires smm" : "");
		fprintf(f, "ovmf-descriptor: %s\n",
			p->firmware_descriptor ? p->firmware_descriptor : "none (gpurun's table)");
	}
	fprintf(f, "tpm: %s\n", yesno(pr->tpm));
	if (p->tpm_dir)
		fprintf(f, "tpm-state: %s\ntpm-socket: %s\n", p->tpm_dir, p->tpm_socket);
	for (char **s = pr->disks; s && *s; s++)
		fprintf(f, "disk: %s (%s)\n", *s, profile_disk_format(*s));
	for (char **s = pr->cdroms; s && *s; s++)
		fprintf(f, "cdrom: %s\n", *s);
	fprintf(f, "network: %s%s%s\n", profile_network_to_string(pr->network),
		pr->network_bridge ? " " : "", strempty(pr->network_bridge));
	fprintf(f, "gpu: %s (%s%s)\n", pr->gpu_device, p->resolved ? "resolved" : "NOT RESOLVED",
		p->gpu_whole_slot ? ", whole slot" : "");
	for (size_t i = 0; i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];

		fprintf(f, "device %s [%04x:%04x] class %06x role %s", d->address, d->vendor,
			d->device, d->class, plan_role_to_string(d->role));
		if (d->name)
			fprintf(f, " name %s", d->name);
		fprintf(f, " group %d driver %s guest %u.%u%s%s\n", d->iommu_group,
			d->host_driver ? d->host_driver : "none", d->guest_port, d->guest_function,
			d->multifunction ? " multifunction" : "", d->primary_vga ? " x-vga" : "");
		if (d->rom_source != PLAN_ROM_NONE)
			fprintf(f, "  rom %s%s%s -> %s (proxmox %s)%s\n",
				plan_rom_source_to_string(d->rom_source),
				d->rom_source_path ? " " : "", strempty(d->rom_source_path),
				d->romfile, d->rom_name, d->rom_is_gop ? " gop" : "");
	}
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct plan_action *a = &p->actions[i];

		fprintf(f, "action %zu: %s %s", i + 1, plan_action_kind_to_string(a->kind),
			a->target);
		if (a->source)
			fprintf(f,
				a->kind == PLAN_ACTION_BIND_VFIO ||
					a->kind == PLAN_ACTION_NODEDEV_DETACH
				    ? " (from %s)"
				    : " <- %s",
				a->source);
		fputc('\n', f);
	}
	for (char **s = pr->qemu_args; s && *s; s++)
		fprintf(f, "qemu-arg: %s\n", *s);
	for (size_t i = 0; i < p->diags.n; i++) {
		const struct diag *d = &p->diags.items[i];

		if (d->status == DIAG_PASS)
			continue; /* the findings; `gpurun check PROFILE` shows the passes too */
		fprintf(f, "%s %s: %s\n", diag_status_to_string(d->status), d->id, d->message);
		if (d->fix)
			fprintf(f, "  fix: %s\n", d->fix);
	}
	return ferror(f) ? -EIO : 0;
}
