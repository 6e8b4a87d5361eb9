#!/bin/sh
# gpurun host-config on copies of the fixture hosts: the diff, --apply, idempotency, --revert,
# user parameters and files, failures that must leave nothing half-written.
. tests/cli/lib.sh
HC="$GPURUN_TOP/tests/fixtures/hostcfg"

if [ ! -d "$FIX/strix-halo/etc" ]; then
	echo "1..0 # SKIP fixture hosts (tests/fixtures/hosts/strix-halo) not present"
	exit 0
fi
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $1"; }
# fresh NAME [OVERLAY]: $T/root = copy of fixture host NAME (+ an etc overlay), $T/pristine = same
fresh() {
	copy_fixture "$1"
	if [ -n "${2:-}" ]; then cp -a "$HC/$2/." "$T/root/"; fi
	rm -rf "$T/pristine"; cp -a "$T/root" "$T/pristine"
}
same_etc() { diff -r -x gpurun "$T/pristine/etc" "$T/root/etc" >"$T/etcdiff" 2>&1; }
unchanged() { if same_etc; then ok "$1"; else not_ok "$1"; sed 's/^/# /' "$T/etcdiff"; fi; }
hc() { "$GPURUN" --root "$T/root" host-config "$@"; }
# the fake boot tools installed under a fixture root (tests/tools/fake-grubby, fake-kernelstub)
# are run; no other fixture has them
export GPURUN_TEST_ROOT_TOOLS=1
TOOLS="$GPURUN_TOP/tests/tools"
jqt() { jq -e "$1" "$2" >/dev/null; }

# --- Strix Halo, Proxmox systemd-boot (ZFS) -------------------------------------------------
fresh strix-halo
expect_rc 0 "strix: show the plan" hc --device 1002:1586
cp "$T/out" "$T/plan"
contains "bootloader and why" "$T/plan" '^Bootloader: Proxmox VE, systemd-boot via proxmox-boot-tool \(/etc/kernel/cmdline and /etc/kernel/proxmox-boot-uuids exist'
contains "cmdline diff header" "$T/plan" '^\+\+\+ /etc/kernel/cmdline$'
contains "AMD IOMMU params appended, user params kept" "$T/plan" '^\+root=ZFS=rpool/ROOT/pve-1 .*amd_iommu=on iommu=pt'
contains "boot VGA: sysfb kept off the GPU" "$T/plan" '^\+.* initcall_blacklist=sysfb_init'
contains "ids: GPU + HDMI audio" "$T/plan" '^\+options vfio-pci ids=1002:1586,1002:1640 disable_vga=1$'
lacks "ids: never the APU's other functions" "$T/plan" '^\+options vfio-pci .*1022:'
contains "softdep amdgpu" "$T/plan" '^\+softdep amdgpu pre: vfio-pci$'
contains "softdep snd_hda_intel" "$T/plan" '^\+softdep snd_hda_intel pre: vfio-pci$'
contains "modules-load" "$T/plan" '^\+vfio_iommu_type1$'
contains "refresh command" "$T/plan" '^  proxmox-boot-tool refresh$'
contains "initramfs command" "$T/plan" '^  update-initramfs -u -k all$'
contains "initramfs-tools told about the vfio modules" "$T/plan" '^\+\+\+ /etc/initramfs-tools/modules$'
contains "... vfio_pci among them" "$T/plan" '^\+vfio_pci$'
contains "says nothing was changed" "$T/plan" '^Nothing was changed'
unchanged "the plan wrote nothing"
expect_rc 0 "strix: --json" hc --device 1002:1586 --json
if command -v jq >/dev/null; then
	check "json: the four files (the initramfs generator's too)" jqt '[.files[].path] == ["/etc/kernel/cmdline","/etc/modules-load.d/vfio.conf","/etc/modprobe.d/vfio.conf","/etc/initramfs-tools/modules"]' "$T/out"
	check "json: commands as argv" jqt '.commands[0] == ["proxmox-boot-tool","refresh"]' "$T/out"
	check "json: new content" jqt '.files[2].content | contains("ids=1002:1586,1002:1640")' "$T/out"
else
	skip "json checks: jq not installed"
fi
expect_rc 2 "--json does not apply" hc --device 1002:1586 --json --apply
unchanged "still nothing written"
# an id that names the root complex's three host bridges: refused, each group said once
expect_rc 2 "host bridges by vendor:device: refused" hc --device 1022:1509 --apply
contains "a bridge is not passed through" "$T/out" '0000:00:02.0 \[1022:1509\] is a PCI bridge'
contains "... the FAIL line" "$T/out" '^FAIL  0000:00:01.0 \[1022:1509\] is a PCI bridge'
check "each IOMMU group said once" sh -c '[ "$(grep -c "IOMMU group 1 is viable" "$1")" -eq 1 ]' sh "$T/out"
unchanged "a bridge: nothing written"

expect_rc 0 "strix: --apply" hc --device 1002:1586 --apply
cp "$T/out" "$T/apply"
contains "boot tools skipped under --root" "$T/apply" '^skipped: --root is not /: proxmox-boot-tool refresh$'
contains "initramfs skipped under --root" "$T/apply" '^skipped: --root is not /: update-initramfs -u -k all$'
contains "reboot needed" "$T/apply" '^Reboot needed'
contains "cmdline written" "$T/root/etc/kernel/cmdline" 'amd_iommu=on iommu=pt'
check "cmdline is still one line" test "$(wc -l <"$T/root/etc/kernel/cmdline")" -eq 1
contains "modprobe.d written" "$T/root/etc/modprobe.d/vfio.conf" '^options vfio-pci ids=1002:1586,1002:1640 disable_vga=1$'
contains "modules-load.d written" "$T/root/etc/modules-load.d/vfio.conf" '^vfio_pci$'
check "backup manifest" sh -c "cat '$T'/root/etc/gpurun/backup/*/manifest | grep -q '^saved 0644 /etc/kernel/cmdline$'"

expect_rc 0 "strix: second run" hc --device 1002:1586 --apply
contains "nothing to change" "$T/out" '^Nothing to change'
lacks "no second backup, no commands" "$T/out" '^(Written|skipped:)'
contains "configured but not rebooted" "$T/out" '^WARN  Configured but not active yet: /etc/modprobe.d/vfio.conf gives 1002:1586 to vfio-pci, but 0000:c4:00\.0 is bound to amdgpu'
check "one backup only" test "$(ls "$T/root/etc/gpurun/backup" | wc -l)" -eq 1

expect_rc 0 "strix: --revert" hc --revert
contains "names what it restored" "$T/out" '^  /etc/modprobe.d/vfio.conf \(removed: it did not exist before\)$'
unchanged "revert gives back the original /etc"
expect_rc 1 "nothing left to revert" hc --revert
contains "says so" "$T/err" 'No gpurun host-config backup to revert'

# --blacklist: snd_hda_intel also drives the platform audio c4:00.6
fresh strix-halo
expect_rc 0 "strix: --blacklist" hc --device 0000:c4:00.0 --blacklist
contains "amdgpu blacklisted" "$T/out" '^\+blacklist amdgpu$'
lacks "host audio driver not blacklisted" "$T/out" '^\+blacklist snd_hda_intel'
contains "warned, naming the other device" "$T/out" '^WARN  Not blacklisting snd_hda_intel: it also drives 0000:c4:00\.6'

# the user's own parameters: kept; a conflicting one reported, not overridden or duplicated
fresh strix-halo pve-user-params
expect_rc 0 "user params" hc --device 1002:1586 --apply
contains "conflict warned" "$T/out" "^WARN  /etc/kernel/cmdline has 'iommu=soft', which conflicts with 'iommu=pt'"
contains "user params kept, iommu=pt not added" "$T/root/etc/kernel/cmdline" '^root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=soft mitigations=off amd_iommu=on initcall_blacklist=sysfb_init$'

# existing vfio.conf files: merged
fresh strix-halo existing-vfio
expect_rc 0 "existing vfio.conf" hc --device 1002:1586 --apply
contains "user comment kept" "$T/root/etc/modprobe.d/vfio.conf" '^# my own settings$'
contains "ids merged" "$T/root/etc/modprobe.d/vfio.conf" '^options vfio-pci ids=1002:1586,1002:1640 disable_vga=1$'
check "softdep not duplicated" test "$(grep -c '^softdep amdgpu' "$T/root/etc/modprobe.d/vfio.conf")" -eq 1
contains "user module kept" "$T/root/etc/modules-load.d/vfio.conf" '^kvmgt$'
check "vfio not duplicated" test "$(grep -c '^vfio$' "$T/root/etc/modules-load.d/vfio.conf")" -eq 1
expect_rc 0 "existing vfio.conf: revert" hc --revert
unchanged "revert gives back the user's files"

# --- failures: nothing half-written ------------------------------------------------------
# Tests run as root in CI, where a 0555 directory does not stop writes. Two techniques that
# do: a path component that must be a directory is a file (ENOTDIR at the third write, after
# two files were written: they must be rolled back), and a directory where a file is expected.
fresh strix-halo
rm -rf "$T/root/etc/modprobe.d"; echo "not a directory" >"$T/root/etc/modprobe.d"
rm -rf "$T/pristine/etc/modprobe.d"; cp "$T/root/etc/modprobe.d" "$T/pristine/etc/modprobe.d"
expect_rc 1 "write failure" hc --device 1002:1586 --apply
contains "clear error naming the file" "$T/err" 'Failed to write /etc/modprobe.d/vfio.conf: Not a directory; the files already written were restored, nothing changed'
unchanged "earlier writes rolled back"
check "no backup left behind" test -z "$(ls "$T/root/etc/gpurun/backup" 2>/dev/null)"

fresh strix-halo
mkdir -p "$T/root/etc/modprobe.d/vfio.conf" "$T/pristine/etc/modprobe.d/vfio.conf"
expect_rc 1 "directory where a file is expected" hc --device 1002:1586 --apply
contains "clear error" "$T/err" 'Failed to read /etc/modprobe.d/vfio.conf: Is a directory; nothing changed'
unchanged "nothing written"

# a damaged backup: refused before anything is restored, naming the manifest and its line
fresh strix-halo
expect_rc 0 "apply before a damaged backup" hc --device 1002:1586 --apply
cp -a "$T/root/etc" "$T/applied"
b=$(ls "$T/root/etc/gpurun/backup")
printf 'saved 0644 /etc/kernel/cmdline\nsaved 0644 /etc/../shadow\n' >"$T/root/etc/gpurun/backup/$b/manifest"
expect_rc 2 "damaged manifest" hc --revert
contains "names the manifest and the line" "$T/err" "Damaged backup: /etc/gpurun/backup/$b/manifest:2: .*; nothing restored"
check "nothing restored" diff -r -x gpurun "$T/applied" "$T/root/etc"

# a really read-only /etc: a read-only bind mount in a private mount namespace, where allowed
fresh strix-halo
if command -v unshare >/dev/null &&
	unshare -m sh -c "mount --bind '$T/root/etc' '$T/root/etc' && mount -o remount,bind,ro '$T/root/etc'" 2>/dev/null; then
	expect_rc 1 "read-only /etc" unshare -m sh -c "mount --bind '$T/root/etc' '$T/root/etc' && mount -o remount,bind,ro '$T/root/etc' && exec '$GPURUN' --root '$T/root' host-config --device 1002:1586 --apply"
	contains "clear error" "$T/err" 'Read-only file system; nothing changed'
	unchanged "nothing written on a read-only /etc"
else
	skip "read-only /etc: no permission for a read-only bind mount (unshare -m) here"
fi

# --- GRUB hosts ----------------------------------------------------------------------------
if [ -f "$FIX/iommu-off/etc/default/grub" ]; then
	fresh iommu-off
	expect_rc 0 "iommu-off (Debian GRUB)" hc --device 0000:03:00.0 --apply
	contains "GRUB detected" "$T/out" '^Bootloader: GRUB \(/etc/default/grub exists'
	contains "update-grub" "$T/out" '^skipped: --root is not /: update-grub$'
	contains "param inside GRUB_CMDLINE_LINUX_DEFAULT" "$T/root/etc/default/grub" '^GRUB_CMDLINE_LINUX_DEFAULT=".*amd_iommu=on iommu=pt"'
	expect_rc 0 "iommu-off: second run" hc --device 0000:03:00.0
	contains "nothing to change" "$T/out" '^Nothing to change'

	fresh iommu-off grub-user-params
	expect_rc 0 "GRUB with user params" hc --device 0000:03:00.0 --apply
	contains "iommu=pt from GRUB_CMDLINE_LINUX counts" "$T/root/etc/default/grub" '^GRUB_CMDLINE_LINUX_DEFAULT="quiet splash amd_iommu=on"$'
	contains "GRUB_CMDLINE_LINUX untouched" "$T/root/etc/default/grub" '^GRUB_CMDLINE_LINUX="net.ifnames=0 iommu=pt"$'
	contains "drop-in override reported" "$T/out" '^WARN  /etc/default/grub.d/50-cloud.cfg sets GRUB_CMDLINE_LINUX_DEFAULT'
else
	skip "fixture iommu-off not present"
fi

if [ -f "$FIX/desktop-dgpu/etc/default/grub" ]; then
	fresh desktop-dgpu
	expect_rc 0 "desktop-dgpu (Fedora GRUB, Intel)" hc --device 0000:03:00.0
	contains "intel_iommu" "$T/out" '^\+GRUB_CMDLINE_LINUX_DEFAULT=.*intel_iommu=on iommu=pt'
	contains "grub2-mkconfig" "$T/out" '^  grub2-mkconfig -o .*/boot/grub2/grub.cfg$'
	contains "dracut" "$T/out" '^  dracut -f --regenerate-all$'
	contains "dracut told about the vfio modules" "$T/out" '^\+force_drivers\+=" vfio_pci vfio vfio_iommu_type1 "$'
	lacks "not the boot VGA: no framebuffer params" "$T/out" 'initcall_blacklist|video=efifb'
else
	skip "fixture desktop-dgpu not present"
fi

# --- Arch, systemd-boot loader entries ----------------------------------------------------
if [ -d "$FIX/boot-vga-only/boot/loader/entries" ]; then
	fresh boot-vga-only
	expect_rc 0 "boot-vga-only (systemd-boot entries)" hc --device 0000:03:00.0 --apply
	contains "systemd-boot detected" "$T/out" '^Bootloader: systemd-boot / kernel-install \(.*loader entries'
	contains "no loader refresh" "$T/out" 'systemd-boot reads the entries directly'
	contains "mkinitcpio" "$T/out" '^skipped: --root is not /: mkinitcpio -P$'
	check "options line edited" sh -c "grep -h '^options' '$T'/root/boot/loader/entries/*.conf | grep -q 'iommu=pt'"
	contains "mkinitcpio drop-in: vfio modules first" "$T/root/etc/mkinitcpio.conf.d/gpurun.conf" '^MODULES=\(vfio_pci vfio vfio_iommu_type1 "\$\{MODULES\[@\]\}"\)$'
	expect_rc 0 "boot-vga-only: revert" hc --revert
	check "entries back as they were" diff -r "$T/pristine/boot" "$T/root/boot"
	unchanged "mkinitcpio drop-in removed by revert"
else
	skip "fixture boot-vga-only not present"
fi

# a profile selects the GPU: its [gpu] device, and `functions =` when it lists them
fresh strix-halo
printf '[vm]\nname = win11\n[gpu]\ndevice = 1002:1586\n' >"$T/all.profile"
printf '[vm]\nname = win11\n[gpu]\ndevice = 0000:c4:00.0\nfunctions = 0000:c4:00.0\n' >"$T/one.profile"
expect_rc 0 "by PROFILE" hc "$T/all.profile"
contains "profile: GPU + audio" "$T/out" '^\+options vfio-pci ids=1002:1586,1002:1640 disable_vga=1$'
expect_rc 0 "by PROFILE with functions =" hc "$T/one.profile"
contains "profile: only the listed function" "$T/out" '^\+options vfio-pci ids=1002:1586 disable_vga=1$'
printf '[vm]\nnmae = x\n' >"$T/bad.profile"
expect_rc 2 "bad profile" hc "$T/bad.profile"
contains "names file and line" "$T/err" 'bad.profile:2: unknown key'

# --- coverage: one row per distribution (issue 13) -----------------------------------------
# NAME FIXTURE OVERLAY|- PREP DEVICE: the plan against a golden file
# (tests/fixtures/hostcfg/golden/NAME.plan, GPURUN_UPDATE_GOLDEN=1 rewrites), then --apply and
# --revert give back the whole tree byte for byte: contents, modes, owners, symlinks.
tree() { (cd "$1" && find . -path ./etc/gpurun -prune -o -printf '%y %m %u:%g %p %l\n' | sort &&
	find . -path ./etc/gpurun -prune -o -type f -exec md5sum {} + | sort -k2); }
prep_none() { :; }
# Proxmox VE booting with GRUB: no /etc/kernel/cmdline, /etc/pve says Proxmox
prep_pve_grub() { rm -f "$T/root/etc/kernel/cmdline" "$T/root/etc/kernel/proxmox-boot-uuids"; }
# Arch with its loader entries on an ESP mounted at /efi (bootctl looks there too)
prep_arch_efi() { mkdir -p "$T/root/efi"; mv "$T/root/boot/loader" "$T/root/efi/"; }
# nothing recognised (Limine, rEFInd, UKI only)
prep_unknown() { rm -f "$T/root/etc/default/grub"; }
# Fedora with grubby installed: grubby edits the BLS entries, gpurun /etc/default/grub
prep_grubby() { mkdir -p "$T/root/usr/sbin" && cp "$TOOLS/fake-grubby" "$T/root/usr/sbin/grubby"; }
# Pop!_OS: kernelstub keeps the options (no /etc/default/grub there)
prep_kernelstub() {
	rm -f "$T/root/etc/default/grub"
	mkdir -p "$T/root/usr/bin" && cp "$TOOLS/fake-kernelstub" "$T/root/usr/bin/kernelstub"
}
# a symlinked /etc/kernel/cmdline (absolute target, under the root): still a link afterwards
prep_pve_link() {
	mkdir -p "$T/root/etc/kernel/cmdline.d"
	mv "$T/root/etc/kernel/cmdline" "$T/root/etc/kernel/cmdline.d/zfs"
	ln -s /etc/kernel/cmdline.d/zfs "$T/root/etc/kernel/cmdline"
}
while read -r name fixture overlay prep device; do
	[ -d "$FIX/$fixture" ] || { skip "$name: fixture $fixture not present"; continue; }
	if [ "$overlay" = - ]; then fresh "$fixture"; else fresh "$fixture" "$overlay"; fi
	"prep_$prep"
	rm -rf "$T/pristine"; cp -a "$T/root" "$T/pristine"
	expect_rc 0 "$name: the plan" hc --device "$device"
	sed "s|$T/root|ROOT|g" "$T/out" >"$T/$name.plan"
	golden "$name: the plan is the golden one" "$T/$name.plan" "$HC/golden/$name.plan"
	if [ "$name" = unknown ]; then
		# nothing recognised: the diffs are instructions, --apply writes nothing
		expect_rc 1 "$name: --apply writes nothing" hc --device "$device" --apply
		contains "$name: ... and says so" "$T/err" 'Bootloader not recognised: nothing written\. Make the changes above by hand'
	else
		expect_rc 0 "$name: --apply" hc --device "$device" --apply
		expect_rc 0 "$name: --revert" hc --revert
	fi
	tree "$T/pristine" >"$T/tree.before"
	tree "$T/root" >"$T/tree.after"
	if cmp -s "$T/tree.before" "$T/tree.after"; then ok "$name: the tree is as before, byte for byte"
	else not_ok "$name: the tree is as before, byte for byte"; diff "$T/tree.before" "$T/tree.after" | sed 's/^/# /'; fi
done <<ROWS
proxmox-sdboot strix-halo - none 1002:1586
proxmox-sdboot-symlink strix-halo - pve_link 1002:1586
proxmox-grub strix-halo pve-grub pve_grub 1002:1586
debian-grub iommu-off - none 0000:03:00.0
fedora-bls desktop-dgpu fedora-bls none 0000:03:00.0
fedora-grubby desktop-dgpu fedora-bls grubby 0000:03:00.0
pop-kernelstub iommu-off pop-kernelstub kernelstub 0000:03:00.0
arch-sdboot boot-vga-only - none 0000:03:00.0
arch-sdboot-efi boot-vga-only - arch_efi 0000:03:00.0
unknown iommu-off - unknown 0000:03:00.0
ROWS
# the tool-driven rows: the tool really runs (argv recorded), --revert runs its undo
if [ -d "$FIX/desktop-dgpu" ]; then
	fresh desktop-dgpu fedora-bls
	prep_grubby
	rm -rf "$T/pristine"; cp -a "$T/root" "$T/pristine"
	: >"$T/tool.log"
	expect_rc 0 "grubby: --apply" env FAKE_TOOL_LOG="$T/tool.log" "$GPURUN" --root "$T/root" host-config --device 0000:03:00.0 --apply
	contains "grubby: says it ran" "$T/out" '^ran: /usr/sbin/grubby --update-kernel=ALL --args="intel_iommu=on iommu=pt"$'
	contains "grubby: argv as one --args word" "$T/tool.log" 'usr/sbin/grubby \[--update-kernel=ALL\] \[--args=intel_iommu=on iommu=pt\]$'
	check "grubby: the entry has the parameters" sh -c "grep -q '^options .* \\\$tuned_params intel_iommu=on iommu=pt$' '$T'/root/boot/loader/entries/*.conf"
	contains "grubby: /etc/default/grub too (for grub2-mkconfig and new kernels)" "$T/root/etc/default/grub" '^GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"$'
	check "grubby: the undo is in the manifest" sh -c "grep -qx 'undo grubby /usr/sbin/grubby intel_iommu=on iommu=pt' '$T'/root/etc/gpurun/backup/*/manifest"
	expect_rc 0 "grubby: second run" hc --device 0000:03:00.0
	contains "grubby: nothing to change" "$T/out" '^Nothing to change'
	expect_rc 0 "grubby: --revert" env FAKE_TOOL_LOG="$T/tool.log" "$GPURUN" --root "$T/root" host-config --revert
	contains "grubby: --revert ran the undo" "$T/tool.log" '\[--remove-args=intel_iommu=on iommu=pt\]$'
	contains "grubby: --revert names it" "$T/out" '^  the boot entries \(/usr/sbin/grubby ran\)$'
	check "grubby: entries back" diff -r "$T/pristine/boot" "$T/root/boot"
	unchanged "grubby: /etc back"
	# the tool fails: nothing stays changed, the backup goes
	fresh desktop-dgpu fedora-bls
	prep_grubby
	rm -rf "$T/pristine"; cp -a "$T/root" "$T/pristine"
	expect_rc 1 "grubby fails" env FAKE_GRUBBY_FAIL=args "$GPURUN" --root "$T/root" host-config --device 0000:03:00.0 --apply
	contains "grubby fails: says so" "$T/err" "Failed to write /usr/sbin/grubby: '--update-kernel=ALL --args=intel_iommu=on iommu=pt' failed with exit status 1"
	unchanged "grubby fails: /etc as it was"
	check "grubby fails: no backup left" test -z "$(ls "$T/root/etc/gpurun/backup" 2>/dev/null)"
	# without the test seam a tool under --root is not run (it would change this machine)
	fresh desktop-dgpu fedora-bls
	prep_grubby
	expect_rc 0 "grubby under --root, no seam" env -u GPURUN_TEST_ROOT_TOOLS "$GPURUN" --root "$T/root" host-config --device 0000:03:00.0 --apply
	contains "... skipped" "$T/out" '^skipped: --root is not /: /usr/sbin/grubby --update-kernel=ALL'
	check "... entries untouched" diff -r "$HC/fedora-bls/boot/loader" "$T/root/boot/loader"
fi
if [ -d "$FIX/iommu-off" ] && command -v python3 >/dev/null; then
	fresh iommu-off pop-kernelstub
	prep_kernelstub
	rm -rf "$T/pristine"; cp -a "$T/root" "$T/pristine"
	expect_rc 0 "kernelstub: --apply" hc --device 0000:03:00.0 --apply
	contains "kernelstub: says it ran" "$T/out" '^ran: /usr/bin/kernelstub -a "amd_iommu=on iommu=pt"$'
	check "kernelstub: the options" jqt '.user.kernel_options == ["quiet","loglevel=0","systemd.show_status=false","splash","amd_iommu=on","iommu=pt"]' "$T/root/etc/kernelstub/configuration"
	expect_rc 0 "kernelstub: second run" hc --device 0000:03:00.0
	contains "kernelstub: nothing to change (read from the JSON)" "$T/out" '^Nothing to change'
	expect_rc 0 "kernelstub: --revert" hc --revert
	unchanged "kernelstub: the configuration back byte for byte"
else
	skip "kernelstub: fixture iommu-off or python3 (the fake kernelstub) not present"
fi
fresh strix-halo
prep_pve_link
expect_rc 0 "symlinked cmdline: --apply" hc --device 1002:1586 --apply
check "symlinked cmdline: still a symlink" test -L "$T/root/etc/kernel/cmdline"
contains "symlinked cmdline: the target holds the parameters" "$T/root/etc/kernel/cmdline.d/zfs" 'amd_iommu=on iommu=pt'
# the user edits a file after the apply: --revert refuses and names it
echo "# mine" >>"$T/root/etc/modprobe.d/vfio.conf"
expect_rc 1 "edited since apply: --revert refuses" hc --revert
contains "... naming the file and the backup" "$T/err" 'Not reverted: /etc/modprobe.d/vfio.conf: changed since gpurun host-config --apply wrote it; nothing restored .*/etc/gpurun/backup/'
contains "... nothing restored" "$T/root/etc/kernel/cmdline.d/zfs" 'amd_iommu=on'

# disk full from the third file on: the rollback's writes fail too; the backup is kept and the
# message says which files are not restored and where the backup is
LIBFAULT=${GPURUN_BUILD:-build}/tools/libfault.so
if [ -f "$LIBFAULT" ]; then
	LIBFAULT=$(cd "$(dirname "$LIBFAULT")" && pwd)/libfault.so
	# the ASan build: libasan works behind the preloaded libfault.so when told not to check
	if ldd "$GPURUN" 2>/dev/null | grep -q libasan; then
		export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	fi
	fresh strix-halo
	FAULT_ROOT="$T/root" FAULT_LOG="$T/flog" LD_PRELOAD="$LIBFAULT" \
		"$GPURUN" --root "$T/root" host-config --device 1002:1586 --apply >/dev/null 2>&1
	at=$(awk '$2 == "mkstemp" && $3 ~ /^etc\/modprobe.d\/vfio.conf.gpurun-/ { print $1; exit }' "$T/flog")
	fresh strix-halo
	expect_rc 1 "disk full during apply and rollback" env FAULT_ROOT="$T/root" FAULT_AT="$at+" \
		FAULT_MODE=errno:ENOSPC LD_PRELOAD="$LIBFAULT" "$GPURUN" --root "$T/root" host-config --device 1002:1586 --apply
	contains "says what is not restored, and where the backup is" "$T/err" 'Failed to write /etc/modprobe.d/vfio.conf: No space left on device; NOT restored: /etc/kernel/cmdline \(No space left on device\), /etc/modules-load.d/vfio.conf \(No space left on device\)\. The backup is kept in .*/etc/gpurun/backup/[0-9]'
	expect_rc 0 "disk freed: --revert finishes" hc --revert
	unchanged "... and gives back the original /etc"
else
	skip "libfault.so not built"
fi

# --- issue 13: shell quoting, blocks, `--`, malformed vfio-pci lines, group viability -------
# golden_diff NAME HOST DEVICE: the plan's diffs on HOST + overlay NAME equal NAME/expected.diff
# (GPURUN_UPDATE_GOLDEN=1 rewrites it)
golden_diff() {
	fresh "$2" "$1"
	expect_rc 0 "$1: plan" hc --device "$3"
	sed -n '/^--- /,/^Then:$/p' "$T/out" | sed '$d' >"$T/diff"
	golden "$1: golden diff" "$T/diff" "$HC/$1/expected.diff"
}
golden_diff grub-escaped shared-group 1002:73df
contains "escaped space: one word, rewritten in double quotes" "$T/out" '^\+GRUB_CMDLINE_LINUX_DEFAULT="quiet splash amd_iommu=on iommu=pt'
contains "group not viable: said as check says it" "$T/out" '^FAIL  IOMMU group 15 is not viable: it also holds 0000:0c:00.0'
expect_rc 0 "grub-escaped: apply" hc --device 1002:73df --apply
contains "grub-escaped: applied" "$T/root/etc/default/grub" '^GRUB_CMDLINE_LINUX_DEFAULT="quiet splash amd_iommu=on iommu=pt initcall_blacklist=sysfb_init"$'
expect_rc 0 "grub-escaped: second run" hc --device 1002:73df
contains "grub-escaped: nothing left to change" "$T/out" '^Nothing to change'
expect_rc 0 "grub-escaped: revert" hc --revert
unchanged "grub-escaped: revert restores every file"
golden_diff pve-dashdash strix-halo 1002:1586
golden_diff guide-vfio strix-halo 1002:1586
contains "own vfio.conf: malformed line reported with its line" "$T/out" '^WARN  /etc/modprobe.d/vfio.conf:2: malformed vfio-pci options line, rewritten'
contains "group viable: PASS" "$T/out" '^PASS  IOMMU group 14 is viable'
fresh strix-halo guide-foreign
expect_rc 2 "foreign malformed vfio-pci line: refused" hc --device 1002:1586 --apply
contains "names file and line" "$T/out" '^FAIL  /etc/modprobe.d/gpu-passthrough.conf:2: malformed vfio-pci options line, left as it is'
contains "gives the correct line" "$T/out" "fix: Replace that line with 'options vfio-pci ids=1002:1586,1002:1640 disable_vga=1' and 'softdep amdgpu pre: vfio-pci'"
unchanged "foreign malformed line: nothing written"
fresh shared-group grub-if-block
expect_rc 2 "assignment inside an if block: refused" hc --device 1002:73df --apply
contains "names the line" "$T/out" '^FAIL  /etc/default/grub:4: cannot edit this file safely: GRUB_CMDLINE_LINUX_DEFAULT is set inside a compound command'
unchanged "if block: nothing written"

# the kernel command line passes vfio-pci ids of its own: the module gets one ids= list, so the
# two override each other (the user's other GPU, or ours, would not go to vfio-pci): said
fresh strix-halo
printf 'root=ZFS=rpool/ROOT/pve-1 boot=zfs vfio-pci.ids=10de:1b80,10de:10f0\n' >"$T/root/etc/kernel/cmdline"
expect_rc 0 "vfio-pci.ids on the kernel command line" hc --device 1002:1586
contains "... reported with file and line" "$T/out" "^WARN  /etc/kernel/cmdline:1 has 'vfio-pci.ids=10de:1b80,10de:10f0': vfio-pci gets one ids= list"
contains "... and how to keep one list" "$T/out" "add 1002:1586,1002:1640 to it"

# --- usage ---------------------------------------------------------------------------------
fresh strix-halo
expect_rc 2 "no device" hc
contains "asks which GPU" "$T/err" 'which GPU'
expect_rc 2 "bad device" hc --device 1002-1586
contains "explains the format" "$T/err" "Invalid --device '1002-1586'"
expect_rc 2 "unknown device" hc --device 10de:2684
expect_rc 2 "--revert with a device" hc --revert --device 1002:1586
expect_rc 2 "profile and --device" hc "$T/all.profile" --device 1002:1586
unchanged "usage errors wrote nothing"
done_testing
