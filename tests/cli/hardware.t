#!/bin/sh
# Right answers for the hardware in front of us (issue 17): each case is a fixture host changed
# the way the hardware differs (a copy made here, the committed trees stay as they are), a
# profile, the diagnostics expected and the exit code.
. tests/cli/lib.sh
export NO_COLOR=1

# dev_dir BDF: the device directory of BDF in the copy at $T/root
dev_dir() { readlink -f "$T/root/sys/bus/pci/devices/$1"; }
# move_to_group BDF GROUP: BDF leaves its IOMMU group for GROUP (both the group's devices/ link
# and the device's iommu_group link, as the kernel shows them)
move_to_group() {
	_d=$(dev_dir "$1")
	_old=$(basename "$(readlink "$_d/iommu_group")")
	mv "$T/root/sys/kernel/iommu_groups/$_old/devices/$1" "$T/root/sys/kernel/iommu_groups/$2/devices/"
	ln -sfn "../../../../kernel/iommu_groups/$2" "$_d/iommu_group"
}
# byte HEX: that byte on stdout
byte() { printf "\\$(printf %03o "$((0x$1))")"; }
# set_ids BDF VENDOR DEVICE: new ids in sysfs and in config space (little-endian at 0)
set_ids() {
	_d=$(dev_dir "$1")
	printf '0x%s\n' "$2" >"$_d/vendor"
	printf '0x%s\n' "$3" >"$_d/device"
	{ byte "${2#??}"; byte "${2%??}"; byte "${3#??}"; byte "${3%??}"; } |
		dd of="$_d/config" bs=1 seek=0 count=4 conv=notrunc 2>/dev/null
}
# kill_config BDF: config space reads all ones, sysfs keeps the ids read at boot
kill_config() {
	_d=$(dev_dir "$1")
	_sz=$(wc -c <"$_d/config")
	head -c "$_sz" /dev/zero | tr '\0' '\377' >"$_d/config"
}

# --- item 1: the APU's HDMI audio sits in the USB controller's group, the GPU alone in its own
copy_fixture strix-halo
move_to_group 0000:c4:00.1 16
usb='0000:c4:00\.4 \[1022:1587\] \(xhci_hcd\)'
leave='fix: Leave the HDMI audio 0000:c4:00\.1 to the host: list only the display function in \[gpu\] functions \(functions = 0000:c4:00\.0\)'
expect_rc 1 "audio with USB: check fails" "$GPURUN" --root "$T/root" check
contains "check: the GPU's own group is viable" "$T/out" '^PASS  IOMMU group 14 is viable'
contains "check: names the USB controller" "$T/out" "^FAIL  IOMMU group 16 is not viable: it also holds $usb \(the group of 0000:c4:00\.1, which goes with 0000:c4:00\.0\)$"
contains "check: leave the HDMI audio to the host" "$T/out" "^      $leave"
expect_rc 1 "audio with USB: check --device fails" "$GPURUN" --root "$T/root" check --device 0000:c4:00.0
contains "check --device: names the USB controller" "$T/out" "^FAIL  IOMMU group 16 is not viable: it also holds $usb"
contains "check --device: leave the HDMI audio to the host" "$T/out" "^      $leave"
expect_rc 1 "audio with USB: check PROFILE fails" "$GPURUN" --root "$T/root" check profiles/win11-strix-halo.profile
contains "check PROFILE: names the USB controller" "$T/out" "^FAIL  IOMMU group 16 is not viable: it also holds $usb"
contains "check PROFILE: leave the HDMI audio to the host" "$T/out" "^      $leave"
expect_rc 1 "audio with USB: plan fails" "$GPURUN" --root "$T/root" plan profiles/win11-strix-halo.profile
contains "plan: group-viable FAIL" "$T/out" "^FAIL group-viable: IOMMU group 16 is not viable: it also holds $usb"
# the fix works: the display function alone passes
sed "s/^functions = all .*/functions = 0000:c4:00.0/" profiles/win11-strix-halo.profile >"$T/gpu-only.profile"
"$GPURUN" --root "$T/root" check "$T/gpu-only.profile" >"$T/out" 2>&1
contains "display function alone: passed alone" "$T/out" 'is in IOMMU group 14; passed with it: 0000:c4:00\.0$'
lacks "display function alone: no group FAIL" "$T/out" '^FAIL .*IOMMU group'

# --- item 2: a dead card: config space reads all ones, sysfs still shows its ids
copy_fixture desktop-dgpu
kill_config 0000:03:00.0
dead='0000:03:00\.0 \[1002:73bf\] is not responding \(config space reads 0xff\); the device needs a reset or a host reboot$'
expect_rc 1 "dead card: check fails" "$GPURUN" --root "$T/root" check
contains "check: not responding" "$T/out" "^FAIL  $dead"
expect_rc 1 "dead card: check --device fails" "$GPURUN" --root "$T/root" check --device 1002:73bf
contains "check --device: not responding" "$T/out" "^FAIL  $dead"
lacks "check --device: not called an APU" "$T/out" 'APU'
expect_rc 1 "dead card: plan fails" "$GPURUN" --root "$T/root" plan profiles/linux-dgpu.profile
contains "plan: gpu-responding FAIL" "$T/out" "^FAIL gpu-responding: $dead"
lacks "plan: not called an APU" "$T/out" 'APU'
contains "plan: the ids sysfs shows" "$T/out" '^device 0000:03:00\.0 \[1002:73bf\] class 030000 role gpu'
expect_rc 1 "dead card: run --dry-run refuses" "$GPURUN" --root "$T/root" --state-dir "$T/st" run --dry-run profiles/linux-dgpu.profile
contains "run: refusal names it" "$T/err" "Refusing: $dead"
expect_rc 0 "dead card: ls" "$GPURUN" --root "$T/root" ls
contains "ls lists it" "$T/out" '^  GPU   03:00\.0 VGA compatible controller \[0300\]: .*\[1002:73bf\]'
check "ls marks it" sh -c "grep -A1 '^  GPU   03:00\.0 ' '$T/out' | tail -1 | grep -q '^          driver amdgpu, reset: bus \[not responding: config space reads 0xff\]\$'"
check "ls marks only it" test "$(grep -c 'not responding' "$T/out")" -eq 1
if command -v jq >/dev/null; then
	expect_rc 0 "dead card: ls --json" "$GPURUN" --root "$T/root" ls --json
	check "ls --json: responding false" test "$(jq '[.groups[].devices[] | select(.responding==false) | .address] == ["0000:03:00.0"]' "$T/out")" = true
else
	ok "# SKIP jq missing: ls --json not checked"
fi

# --- item 3: reset advice by device (the table is unit-tested in tests/unit/test-checks.c)
amd_words='AMD reset bug|vendor-reset|AMD GPU'
# reset_case NAME FIXTURE BDF: check --device BDF, its gpu-reset line in $T/reset
reset_case() {
	"$GPURUN" --root "$2" check --device "$3" >"$T/out" 2>&1
	grep -A1 -E "^(PASS|WARN)  $3.*(FLR|reset)" "$T/out" >"$T/reset"
	if [ -s "$T/reset" ]; then ok "$1: reset advice given"; else not_ok "$1: no reset advice"; sed 's/^/# /' "$T/out"; fi
}
# NVIDIA: the desktop's card as an RTX 4090 (+ its audio), reset by bus only
copy_fixture desktop-dgpu
set_ids 0000:03:00.0 10de 2684
set_ids 0000:03:00.1 10de 22ba
reset_case "NVIDIA" "$T/root" 0000:03:00.0
contains "NVIDIA: no FLR, plain advice" "$T/reset" '^WARN  0000:03:00\.0 has no FLR \(reset: bus\)$'
lacks "NVIDIA: no AMD reset advice" "$T/reset" "$amd_words"
# Intel: the desktop's iGPU (FLR), and an Arc A770 in the card's place (bus reset only)
reset_case "Intel iGPU" "$FIX/desktop-dgpu" 0000:00:02.0
contains "Intel iGPU: FLR" "$T/reset" '^PASS  0000:00:02\.0 resets with FLR'
lacks "Intel iGPU: no AMD reset advice" "$T/reset" "$amd_words"
copy_fixture desktop-dgpu
set_ids 0000:03:00.0 8086 56a0
set_ids 0000:03:00.1 8086 4f90
reset_case "Intel Arc" "$T/root" 0000:03:00.0
contains "Intel Arc: no FLR, plain advice" "$T/reset" '^WARN  0000:03:00\.0 has no FLR \(reset: bus\)$'
lacks "Intel Arc: no AMD reset advice" "$T/reset" "$amd_words"
# in vendor-reset's table: the card as a Polaris 10 RX 580 (1002:67df + 1002:aaf0)
copy_fixture desktop-dgpu
set_ids 0000:03:00.0 1002 67df
set_ids 0000:03:00.1 1002 aaf0
reset_case "Polaris 10" "$T/root" 0000:03:00.0
contains "Polaris 10: the reset bug of its family" "$T/reset" 'the AMD reset bug of the Polaris 10 family'
contains "Polaris 10: vendor-reset advice" "$T/reset" 'fix: Install the vendor-reset module \(it supports this GPU\) and set reset_method to device_specific'
# Navi 2x (desktop-dgpu's RX 6800 XT, Navi 21) and Navi 3x (iommu-off's RX 7900 XTX, Navi 31)
reset_case "Navi 21" "$FIX/desktop-dgpu" 0000:03:00.0
contains "Navi 21: the bus reset" "$T/reset" '^WARN  0000:03:00\.0: AMD GPU without FLR \(reset: bus\): it depends on the bus reset$'
contains "Navi 21: its real options" "$T/reset" 'fix: vendor-reset does not support this GPU \(Navi 2x/3x and later'
lacks "Navi 21: no vendor-reset install" "$T/reset" 'Install the vendor-reset'
reset_case "Navi 31" "$FIX/iommu-off" 0000:03:00.0
contains "Navi 31: the bus reset" "$T/reset" 'it depends on the bus reset$'
lacks "Navi 31: no vendor-reset install" "$T/reset" 'Install the vendor-reset'
# an APU (strix-halo)
reset_case "APU" "$FIX/strix-halo" 0000:c4:00.0
contains "APU: only reset with the whole chip" "$T/reset" "an APU's GPU is only reset with the whole chip"
contains "APU: its real options" "$T/reset" 'fix: vendor-reset does not support APUs: shut the guest down cleanly'
lacks "APU: no vendor-reset install" "$T/reset" 'Install the vendor-reset'

done_testing
