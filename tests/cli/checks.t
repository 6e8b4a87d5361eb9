#!/bin/sh
# One checks engine: `check PROFILE`, `plan` and `run --dry-run` report the same findings (WARN
# and FAIL: id, status, message) for every fixture host x example profile, and -q keeps only
# those in check's text and JSON alike.
. tests/cli/lib.sh
export NO_COLOR=1
hosts="strix-halo desktop-dgpu iommu-off shared-group boot-vga-only"
profiles="win11-strix-halo linux-dgpu win11-usb sandbox"

if ! command -v jq >/dev/null; then
	ok "# SKIP jq not installed: findings not compared"
	done_testing
	exit 0
fi
for h in $hosts; do
	for p in $profiles; do
		prof="profiles/$p.profile"
		[ "$p" = sandbox ] && prof=tests/vm/sandbox.profile # the sandbox's own (tests/vm)
		"$GPURUN" --root "$FIX/$h" plan "$prof" >"$T/plan" 2>/dev/null
		grep -E '^(WARN|FAIL) ' "$T/plan" | sort >"$T/f-plan"
		"$GPURUN" --root "$FIX/$h" --state-dir "$T/state" run --dry-run "$prof" >/dev/null 2>"$T/run"
		grep -E '^(WARN|FAIL) ' "$T/run" | sort >"$T/f-run"
		"$GPURUN" --root "$FIX/$h" check --json "$prof" >"$T/check" 2>/dev/null
		jq -r '.checks[] | select(.status=="warn" or .status=="fail") |
			"\(.status|ascii_upcase) \(.id): \(.message)"' "$T/check" |
			grep -v '^WARN hostcfg' | sort >"$T/f-check"
		if diff "$T/f-plan" "$T/f-run" >"$T/d1" && diff "$T/f-plan" "$T/f-check" >"$T/d2"; then
			ok "$h/$p: plan, run --dry-run and check PROFILE agree ($(wc -l <"$T/f-plan") findings)"
		else
			not_ok "$h/$p: findings differ"
			sed 's/^/# /' "$T/d1" "$T/d2"
		fi
	done
done

# -q: WARN and FAIL only, the same in text and JSON
expect_rc 0 "check -q" "$GPURUN" --root "$FIX/strix-halo" -q check
lacks "-q: no PASS" "$T/out" '^PASS'
lacks "-q: no INFO" "$T/out" '^INFO'
contains "-q: the WARNs" "$T/out" '^WARN  0000:c4:00\.0 is the boot VGA device'
grep -cE '^(WARN|FAIL)' "$T/out" >"$T/nt"
expect_rc 0 "check -q --json" "$GPURUN" --root "$FIX/strix-halo" -q check --json
check "-q --json: the same findings as the text" test "$(jq '.checks | length' "$T/out")" -eq "$(cat "$T/nt")"

# item 5: --device on the HDMI audio function reports it as what it is
expect_rc 0 "check --device on the HDMI audio" "$GPURUN" --root "$FIX/strix-halo" check --device 0000:c4:00.1
contains "not a display controller" "$T/out" '^WARN  0000:c4:00\.1 \[1002:1640\] is not a display controller'
lacks "no VBIOS for audio" "$T/out" 'VBIOS source for 0000:c4:00\.1'
lacks "no reset advice for audio" "$T/out" '0000:c4:00\.1.*FLR'

# item 3: vendor-reset only for its own ids (boot-vga-only's RX 6600 73ff is Navi 23: not there)
expect_rc 0 "check boot-vga-only" "$GPURUN" --root "$FIX/boot-vga-only" check
lacks "no vendor-reset advice for Navi 23" "$T/out" 'Install the vendor-reset module'

# a journal left behind and a missing ROM file are FAIL in plan (nothing changed on the host)
mkdir -p "$T/st/linux-dgpu"
# the preview takes the decision a run takes (journal_probe): a header only is a crash before
# any change, which a run takes over; entries left by a run that is gone are a FAIL
printf 'gpurun-journal 1 linux-dgpu 999999999\n' >"$T/st/linux-dgpu/journal"
expect_rc 0 "plan with an empty journal left" "$GPURUN" --root "$FIX/desktop-dgpu" --state-dir "$T/st" plan profiles/linux-dgpu.profile
contains "journal INFO: taken over" "$T/out" "^INFO journal: VM 'linux-dgpu' has a journal naming no change .*the run takes it over$"
printf 'gpurun-journal 1 linux-dgpu 999999999\nmodule vfio\n' >"$T/st/linux-dgpu/journal"
expect_rc 1 "plan with a journal left" "$GPURUN" --root "$FIX/desktop-dgpu" --state-dir "$T/st" plan profiles/linux-dgpu.profile
contains "journal FAIL" "$T/out" "^FAIL journal: A previous run of VM 'linux-dgpu' left its journal behind \(1 change\); run .gpurun restore linux-dgpu. first$"
chmod 0777 "$T/st/linux-dgpu"
expect_rc 1 "plan with a state dir others can write" "$GPURUN" --root "$FIX/desktop-dgpu" --state-dir "$T/st" plan profiles/linux-dgpu.profile
contains "state dir FAIL names it" "$T/out" "^FAIL journal: .*$T/st/linux-dgpu.*writable by group or others"
chmod 0755 "$T/st/linux-dgpu"
sed 's|^vbios = none.*|vbios = /usr/share/vgabios/gpu.rom|' profiles/linux-dgpu.profile >"$T/rom.profile"
expect_rc 1 "plan with a missing romfile" "$GPURUN" --root "$FIX/desktop-dgpu" plan "$T/rom.profile"
contains "romfile FAIL" "$T/out" '^FAIL rom-file: vbios = /usr/share/vgabios/gpu\.rom: the file does not exist$'
expect_rc 1 "emit proxmox refuses it" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox "$T/rom.profile"
lacks "never 'already there'" "$T/out" 'already'
check "emit prints nothing" test ! -s "$T/out"
# host-config reports the IOMMU and vfio module facts as check does: same ids, severities, words
same_facts() { # NAME ROOT DEVICE
	"$GPURUN" --root "$2" check --json >"$T/c.json" 2>/dev/null
	"$GPURUN" --root "$2" host-config --json --device "$3" >"$T/h.json" 2>/dev/null
	sel='[.checks[] | select(.id=="iommu-enabled" or .id=="vfio-modules")]'
	jq -S "$sel" "$T/c.json" >"$T/c.f"
	jq -S "$sel" "$T/h.json" >"$T/h.f"
	if [ "$(jq length "$T/h.f")" -ge 4 ] && diff "$T/c.f" "$T/h.f" >"$T/d"; then
		ok "$1: host-config and check agree on the IOMMU and vfio modules"
	else
		not_ok "$1: host-config and check differ"; sed 's/^/# /' "$T/d" "$T/h.f"
	fi
}
same_facts strix-halo "$FIX/strix-halo" 0000:c4:00.0
same_facts iommu-off "$FIX/iommu-off" 0000:03:00.0
copy_fixture desktop-dgpu
rm -rf "$T/root/sys/module/vfio"* "$T/root/lib/modules/"*/kernel/drivers/vfio
rm -f "$T/root/lib/modules/"*/modules.*
same_facts "vfio modules missing" "$T/root" 0000:03:00.0
expect_rc 0 "host-config with the vfio modules missing" "$GPURUN" --root "$T/root" host-config --device 0000:03:00.0
contains "host-config: the vfio-modules FAIL" "$T/out" '^FAIL  Module vfio not found for kernel 6\.11\.4-301\.fc41\.x86_64$'
lacks "host-config: no wording of its own" "$T/out" 'not listed in modules-load.d'
expect_rc 0 "host-config with the IOMMU off" "$GPURUN" --root "$FIX/iommu-off" host-config --device 0000:03:00.0
contains "host-config: the iommu-enabled FAIL" "$T/out" '^FAIL  The IOMMU is off: no IOMMU groups in /sys/kernel/iommu_groups'
# firmware: the file that is missing is named, not its sibling or the package in general
copy_fixture strix-halo
rm "$T/root/usr/share/OVMF/OVMF_VARS_4M.fd"
expect_rc 1 "plan without the OVMF vars template" "$GPURUN" --root "$T/root" plan profiles/linux-dgpu.profile
contains "names the missing file" "$T/out" "^FAIL firmware: $T/root/usr/share/OVMF/OVMF_VARS_4M\.fd is missing: the firmware descriptor 60-edk2-x86_64\.json names it as the nvram template$"
lacks "not the code file" "$T/out" "OVMF_CODE_4M\.fd is missing"
# a device a guest already uses (a process holds its VFIO group open) is a FAIL before any change
copy_fixture strix-halo
mkdir -p "$T/root/proc/4242/fd"
ln -s /dev/vfio/14 "$T/root/proc/4242/fd/7"
expect_rc 1 "plan with the GPU's VFIO group open" "$GPURUN" --root "$T/root" plan profiles/win11-strix-halo.profile
contains "names the device and group" "$T/out" "^FAIL device-in-use: 0000:c4:00\.0 is in use by a guest \(its VFIO group 14 is open\)$"
rm -r "$T/root/proc/4242"
expect_rc 0 "... and passes once it is closed" "$GPURUN" --root "$T/root" plan profiles/win11-strix-halo.profile
done_testing
