/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Proxmox VE VM config lines (/etc/pve/qemu-server/<vmid>.conf). hostpciN values are
 * qemu-server property strings: "ADDRESS[,pcie=1][,romfile=NAME][,x-vga=1]" where NAME is a
 * file in /usr/share/kvm and may not contain ',' or ';'. Disks, the EFI vars disk and the TPM
 * state need a Proxmox storage, so they are printed as the `qm` commands that create them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/emit.h"
#include "core/profile.h"

static int print_hostpci(const struct plan *p, FILE *f)
{
	unsigned n = 0;

	for (size_t i = 0; i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];
		bool whole = false;

		/* a discrete card's whole slot in one entry ("0000:03:00" passes all functions),
		 * unless a function needs its own romfile */
		if (p->gpu_whole_slot && d->role != PLAN_ROLE_EXTRA) {
			bool roms = false, first = true;

			for (size_t j = 0; j < p->n_devices; j++) {
				if (p->devices[j].role == PLAN_ROLE_EXTRA)
					continue;
				roms = roms || p->devices[j].romfile;
				if (j < i)
					first = false;
			}
			if (!roms) {
				if (!first)
					continue;
				whole = true;
			}
		}
		if (n > 15)
			return -E2BIG;
		fprintf(f, "hostpci%u: %.*s,pcie=1", n++, whole ? 10 : (int)strlen(d->address),
			d->address);
		if (d->rom_name && !whole)
			fprintf(f, ",romfile=%s", d->rom_name);
		if (d->primary_vga)
			fprintf(f, ",x-vga=1");
		fputc('\n', f);
	}
	return 0;
}

int emit_proxmox(const struct plan *p, const struct emit_options *o _unused_, FILE *f)
{
	const struct profile *pr = p->profile;
	char mac[EMIT_MAC_MAX];
	bool notes = false;
	int r;

	if (!p->resolved)
		return -ENODEV;
	for (size_t i = 0; i < p->n_devices; i++) {
		const char *rn = p->devices[i].rom_name;

		if (rn && (strpbrk(rn, ",;") || emit_has_control(rn)))
			return -EINVAL;
	}
	for (char **a = pr->qemu_args; a && *a; a++)
		if (emit_has_control(*a))
			return -EINVAL;
	if (emit_has_control(p->vm_name))
		return -EINVAL;

	fprintf(f, "# gpurun: Proxmox VE configuration for VM '%s'\n", p->vm_name);
	fprintf(f, "# Merge into /etc/pve/qemu-server/<vmid>.conf\n");
	fprintf(f, "name: %s\n", p->vm_name);
	fprintf(f, "machine: q35\n");
	fprintf(f, "bios: %s\n", pr->firmware == PROFILE_FIRMWARE_BIOS ? "seabios" : "ovmf");
	fprintf(f, "ostype: %s\n", profile_guest_is_windows(pr) ? "win11" : "l26");
	fprintf(f, "cpu: host\n");
	fprintf(f, "sockets: 1\n");
	fprintf(f, "cores: %u\n", pr->cpus);
	if (pr->cpu_pinning)
		fprintf(f, "affinity: %s\n", pr->cpu_pinning);
	fprintf(f, "memory: %" PRIu64 "\n", pr->memory_mib);
	/* passed-through devices DMA into all guest memory: no ballooning */
	fprintf(f, "balloon: 0\n");
	if (pr->hugepages)
		fprintf(f, "numa: 1\nhugepages: any\n");
	/* a fixed MAC: qemu-server draws a random one at each start from a hand-merged config */
	emit_mac_address(p->vm_name, mac);
	if (pr->network == PROFILE_NETWORK_BRIDGE)
		fprintf(f, "net0: virtio=%s,bridge=%s\n", mac, pr->network_bridge);
	for (size_t i = 0; i < p->n_devices; i++)
		if (p->devices[i].primary_vga) {
			fprintf(f, "vga: none\n");
			break;
		}
	r = print_hostpci(p, f);
	if (r < 0)
		return r;
	if (pr->qemu_args && pr->qemu_args[0]) {
		fprintf(f, "args:");
		for (char **a = pr->qemu_args; *a; a++) {
			_cleanup_free_ char *q = emit_shell_quote(*a);

			if (!q)
				return -ENOMEM;
			fprintf(f, " %s", q);
		}
		fputc('\n', f);
	}

	if (pr->firmware != PROFILE_FIRMWARE_BIOS)
		fprintf(f, "# EFI vars disk: qm set <vmid> --efidisk0 <storage>:1,efitype=4m%s\n",
			pr->firmware == PROFILE_FIRMWARE_UEFI_SECBOOT ? ",pre-enrolled-keys=1"
								      : "");
	if (pr->tpm)
		fprintf(f, "# TPM: qm set <vmid> --tpmstate0 <storage>:1,version=v2.0\n");
	for (char **d = pr->disks; d && *d; d++)
		fprintf(f, "# disk %s: qm disk import <vmid> %s <storage>\n", *d, *d);
	for (char **d = pr->cdroms; d && *d; d++)
		fprintf(f,
			"# cdrom %s: copy it to an ISO storage and qm set <vmid> --ide2 "
			"<storage>:iso/NAME,media=cdrom\n",
			*d);
	if (pr->network == PROFILE_NETWORK_USER)
		fprintf(f,
			"# network = user has no Proxmox equivalent: add net0 on a bridge "
			"(net0: virtio=%s,bridge=vmbr0)\n",
			mac);

	for (size_t i = 0; i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];

		if (!d->rom_name)
			continue;
		if (!notes)
			fprintf(f, "# ROM files the hostpci romfile= entries name, in "
				   "/usr/share/kvm/ (--stage copies them):\n");
		notes = true;
		switch (d->rom_source) {
		case PLAN_ROM_VFCT:
			fprintf(f,
				"#   %s <- VBIOS of %s from the ACPI VFCT table (gpurun vbios "
				"extract)\n",
				d->rom_name, d->address);
			break;
		case PLAN_ROM_SYSFS:
			fprintf(f, "#   %s <- ROM of %s read from sysfs\n", d->rom_name,
				d->address);
			break;
		default:
			if (startswith(d->rom_source_path, "/usr/share/kvm/") &&
			    streq(d->rom_source_path + strlen("/usr/share/kvm/"), d->rom_name))
				fprintf(f, "#   %s: already there%s\n", d->rom_name,
					d->rom_is_gop ? " (GOP driver, on the HDMI audio function)"
						      : "");
			else
				fprintf(f, "#   %s <- copy of %s%s\n", d->rom_name,
					d->rom_source_path,
					d->rom_is_gop ? " (GOP driver, on the HDMI audio function)"
						      : "");
			break;
		}
	}
	return ferror(f) ? -EIO : 0;
}
