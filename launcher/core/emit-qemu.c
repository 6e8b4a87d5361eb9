/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QEMU command line from a plan. Every value that lands inside a QemuOpts string
 * ("-device vfio-pci,host=...,romfile=PATH") has its commas doubled: QEMU's option parser
 * reads ",," as a literal comma and a single comma as the next key. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/emit.h"
#include "core/guest.h"
#include "core/profile.h"
#include "util/strutil.h"
#include "util/strv.h"

/* Double every comma. */
static char *qopt(const char *s)
{
	size_t n = strlen(s), commas = 0;
	char *r, *o;

	for (size_t i = 0; i < n; i++)
		commas += s[i] == ',';
	r = malloc(n + commas + 1);
	if (!r)
		return NULL;
	o = r;
	for (size_t i = 0; i < n; i++) {
		*o++ = s[i];
		if (s[i] == ',')
			*o++ = ',';
	}
	*o = '\0';
	return r;
}

/* The values of the guest features of @kind that apply to @pr, joined with @sep ("" when none;
 * NULL on ENOMEM). */
static char *guest_qemu_join(const struct profile *pr, enum guest_qemu_kind kind, const char *sep)
{
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

	if (!l)
		return NULL;
	for (size_t i = 0; i < guest_n_features; i++)
		if (guest_features[i].qemu_kind == kind &&
		    guest_feature_on(&guest_features[i], pr) &&
		    strv_extend(&l, guest_features[i].qemu) < 0)
			return NULL;
	return strv_join(l, sep);
}

struct argv_builder {
	char **l;
	int error;
};

/* Append one argument made by strv_extendf(); the first failure sticks, later calls do
 * nothing. */
#define add(b, ...)                                                                                \
	do {                                                                                       \
		if (!(b)->error && strv_extendf(&(b)->l, __VA_ARGS__) < 0)                         \
			(b)->error = -ENOMEM;                                                      \
	} while (0)

/* Append "-opt" then a value made of @fmt where every %s argument must already be escaped. */
#define add2(b, opt, ...)                                                                          \
	do {                                                                                       \
		add(b, "%s", opt);                                                                 \
		add(b, __VA_ARGS__);                                                               \
	} while (0)

/* Escaped copy of @s kept alive until the builder is done. */
static const char *esc(struct argv_builder *b, char ***keep, const char *s)
{
	char *e;

	if (b->error)
		return "";
	if (emit_has_control(s)) {
		b->error = -EINVAL;
		return "";
	}
	e = qopt(s);
	if (!e || strv_consume(keep, e) < 0) {
		b->error = -ENOMEM;
		return "";
	}
	return e;
}

int emit_qemu_argv(const struct plan *p, const char *qemu_binary, char ***ret_argv)
{
	const struct profile *pr = p->profile;
	struct argv_builder b = {};
	_cleanup_strv_free_ char **keep = calloc(1, sizeof(char *));
	unsigned ports = 0;
	char mac[EMIT_MAC_MAX];
	_cleanup_free_ char *machine = NULL, *cpu = NULL, *rtc = NULL;

	if (!p->resolved)
		return -ENODEV;
	if (!keep)
		return -ENOMEM;
	b.l = calloc(1, sizeof(char *));
	if (!b.l)
		return -ENOMEM;
	for (char **a = pr->qemu_args; a && *a; a++)
		if (emit_has_control(*a))
			b.error = -EINVAL;
	if (emit_has_control(qemu_binary))
		b.error = -EINVAL;

	add(&b, "%s", qemu_binary);
	add2(&b, "-name", "guest=%s,debug-threads=on", esc(&b, &keep, p->vm_name));
	add(&b, "-no-user-config");
	add(&b, "-nodefaults");
	machine = guest_qemu_join(pr, GUEST_QEMU_MACHINE, ",");
	cpu = guest_qemu_join(pr, GUEST_QEMU_CPU, ",");
	rtc = guest_qemu_join(pr, GUEST_QEMU_RTC, ",");
	if (!machine || !cpu || !rtc)
		b.error = -ENOMEM;
	add2(&b, "-machine", "q35%s%s%s%s", p->ovmf_code && p->requires_smm ? ",smm=on" : "",
	     pr->hugepages ? ",memory-backend=gpurun-mem" : "", machine && *machine ? "," : "",
	     strempty(machine));
	add2(&b, "-accel", "%s", pr->accel_tcg ? "tcg" : "kvm");
	/* host under KVM; max under TCG (libvirt's <cpu mode="maximum">); then the guest
	 * features' flags (core/guest.c: the Hyper-V enlightenments of xml-templates/windows11.xml
	 * for a Windows guest, kvm=off) */
	add2(&b, "-cpu", "%s%s%s", pr->accel_tcg ? "max" : "host", cpu && *cpu ? "," : "",
	     strempty(cpu));
	if (rtc && *rtc)
		add2(&b, "-rtc", "%s", rtc);
	for (size_t i = 0; i < guest_n_features; i++)
		if (guest_features[i].qemu_kind == GUEST_QEMU_GLOBAL &&
		    guest_feature_on(&guest_features[i], pr))
			add2(&b, "-global", "%s", guest_features[i].qemu);
	add2(&b, "-m", "%" PRIu64 "M", pr->memory_mib);
	if (pr->hugepages)
		add2(&b, "-object",
		     "memory-backend-memfd,id=gpurun-mem,size=%" PRIu64
		     "M,hugetlb=on,hugetlbsize=%uM,prealloc=on",
		     pr->memory_mib, HOST_HUGEPAGE_KB / 1024);
	/* the plan's topology, as libvirt's <topology> and Proxmox's sockets:/cores: give it */
	add2(&b, "-smp", "%u,sockets=%u,cores=%u,threads=%u", p->sockets * p->cores * p->threads,
	     p->sockets, p->cores, p->threads);
	add2(&b, "-display", "none");
	if (p->ovmf_code) {
		/* an SMM build refuses to start unless its flash is only writable from SMM */
		if (p->requires_smm)
			add2(&b, "-global", "driver=cfi.pflash01,property=secure,value=on");
		/* the format is the file's own (raw, or qcow2 on Fedora 39+): a qcow2 image read
		 * as raw gives a guest that never starts its firmware */
		add2(&b, "-drive", "if=pflash,format=%s,unit=0,readonly=on,file=%s",
		     firmware_format_to_string(p->ovmf_code_format), esc(&b, &keep, p->ovmf_code));
		add2(&b, "-drive", "if=pflash,format=%s,unit=1,file=%s",
		     firmware_format_to_string(p->ovmf_vars_format), esc(&b, &keep, p->ovmf_vars));
	}
	for (char **d = pr->disks; d && *d; d++)
		add2(&b, "-drive", "file=%s,format=%s,if=virtio", esc(&b, &keep, *d),
		     profile_disk_format(*d));
	for (char **d = pr->cdroms; d && *d; d++)
		add2(&b, "-drive", "file=%s,format=raw,if=ide,media=cdrom,readonly=on",
		     esc(&b, &keep, *d));
	if (pr->tpm && p->tpm_socket) {
		add2(&b, "-chardev", "socket,id=gpurun-tpm-chr,path=%s",
		     esc(&b, &keep, p->tpm_socket));
		add2(&b, "-tpmdev", "emulator,id=gpurun-tpm,chardev=gpurun-tpm-chr");
		add2(&b, "-device", "tpm-crb,tpmdev=gpurun-tpm");
	}
	emit_mac_address(p->vm_name, mac);
	if (pr->network == PROFILE_NETWORK_USER)
		add2(&b, "-nic", "user,model=virtio-net-pci,mac=%s", mac);
	else if (pr->network == PROFILE_NETWORK_BRIDGE)
		add2(&b, "-nic", "bridge,br=%s,model=virtio-net-pci,mac=%s",
		     esc(&b, &keep, pr->network_bridge), mac);

	for (size_t i = 0; i < guest_n_features; i++)
		if (guest_features[i].qemu_kind == GUEST_QEMU_DEVICE &&
		    guest_feature_on(&guest_features[i], pr))
			add2(&b, "-device", "%s", guest_features[i].qemu);

	/* one root port per host slot, then the functions of that slot on it */
	for (size_t i = 0; i < p->n_devices; i++)
		if (p->devices[i].guest_port + 1 > ports)
			ports = p->devices[i].guest_port + 1;
	for (unsigned port = 0; port < ports; port++) {
		add2(&b, "-device", "pcie-root-port,id=gpurun-rp%u,bus=pcie.0,chassis=%u", port,
		     port + 1);
		for (size_t i = 0; i < p->n_devices; i++) {
			const struct plan_device *d = &p->devices[i];
			_cleanup_free_ char *rom = NULL;

			if (d->guest_port != port)
				continue;
			if (d->romfile) {
				rom = strdup_printf(",romfile=%s", esc(&b, &keep, d->romfile));
				if (!rom)
					b.error = -ENOMEM;
			}
			add2(&b, "-device",
			     "vfio-pci,host=%s,id=gpurun-hostdev%zu,bus=gpurun-rp%u,addr=00.%u%s%s%"
			     "s",
			     d->address, i, port, d->guest_function,
			     d->multifunction ? ",multifunction=on" : "", rom ? rom : "",
			     d->primary_vga ? ",x-vga=on" : "");
		}
	}
	for (char **a = pr->qemu_args; a && *a; a++)
		add(&b, "%s", *a);

	if (b.error) {
		strv_free(b.l);
		return b.error;
	}
	*ret_argv = b.l;
	return 0;
}

int emit_qemu_print(char *const *argv, FILE *f)
{
	for (size_t i = 0; argv && argv[i]; i++) {
		_cleanup_free_ char *q = emit_shell_quote(argv[i]);

		if (!q)
			return -ENOMEM;
		if (i > 0)
			fputs(argv[i][0] == '-' ? " \\\n    " : " ", f);
		fputs(q, f);
	}
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

int emit_qemu_header(const struct plan *p, FILE *f)
{
	const struct profile *pr = p->profile;
	bool roms = false;

	if (emit_has_control(p->vm_name) || emit_has_control(pr->cpu_pinning) ||
	    emit_has_control(p->ovmf_vars) || emit_has_control(p->ovmf_vars_template) ||
	    emit_has_control(p->tpm_dir) || emit_has_control(p->tpm_socket))
		return -EINVAL;
	for (size_t i = 0; i < p->n_actions; i++)
		if (emit_has_control(p->actions[i].target) ||
		    emit_has_control(p->actions[i].source))
			return -EINVAL;
	fprintf(f, "# gpurun: QEMU command line for VM '%s'\n", p->vm_name);
	fprintf(f,
		"# Before it runs (gpurun run PROFILE does all of this, and undoes it after):\n");
	fprintf(f, "#   gpurun bind PROFILE: binds");
	for (size_t i = 0; i < p->n_devices; i++)
		fprintf(f, " %s", p->devices[i].address);
	fprintf(f, " to vfio-pci");
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct plan_action *a = &p->actions[i];

		if (a->kind != PLAN_ACTION_STAGE_ROM)
			continue;
		if (!roms)
			fprintf(f, " and stages the ROM files the argv names:");
		roms = true;
		fprintf(f, "\n#     %s <- %s", a->target, a->source ? a->source : "?");
	}
	fputc('\n', f);
	if (p->ovmf_vars && p->ovmf_vars_template) {
		_cleanup_free_ char *t = emit_shell_quote(p->ovmf_vars_template),
				    *v = emit_shell_quote(p->ovmf_vars);

		if (!t || !v)
			return -ENOMEM;
		fprintf(f, "#   UEFI variables, once: cp -n %s %s\n", t, v);
	}
	if (pr->tpm && p->tpm_socket) {
		_cleanup_free_ char *d = emit_shell_quote(p->tpm_dir ? p->tpm_dir : "TPM_DIR"),
				    *dd = strdup_printf("dir=%s",
							p->tpm_dir ? p->tpm_dir : "TPM_DIR"),
				    *qd = dd ? emit_shell_quote(dd) : NULL,
				    *ss = strdup_printf("type=unixio,path=%s", p->tpm_socket),
				    *qs = ss ? emit_shell_quote(ss) : NULL;

		if (!d || !qd || !qs)
			return -ENOMEM;
		fprintf(f,
			"#   TPM: mkdir -p %s && swtpm socket --tpm2 --tpmstate %s --ctrl %s "
			"--daemon\n",
			d, qd, qs);
	}
	if (pr->n_pin_cpus > 0)
		fprintf(f,
			"# cpu-pinning = %s: gpurun run pins each vCPU thread to its host CPU (QMP "
			"query-cpus-fast,\n#   sched_setaffinity) and QEMU's other threads to the "
			"CPUs left; this argv run by hand pins nothing.\n",
			pr->cpu_pinning);
	fprintf(f, "# Afterwards gpurun unbind PROFILE gives the devices back.\n");
	return ferror(f) ? -EIO : 0;
}

int emit_qemu(const struct plan *p, const struct emit_options *o, FILE *f)
{
	_cleanup_strv_free_ char **argv = NULL;
	int r;

	r = emit_qemu_argv(p, o->qemu_binary, &argv);
	if (r < 0)
		return r;
	r = emit_qemu_header(p, f);
	if (r < 0)
		return r;
	return emit_qemu_print(argv, f);
}
