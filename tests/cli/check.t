#!/bin/sh
# gpurun check on fixture hosts.
. tests/cli/lib.sh

expect_rc 0 "check strix-halo: nothing fails" "$GPURUN" --root "$FIX/strix-halo" check
cp "$T/out" "$T/strix"
contains "cpu virt" "$T/strix" '^PASS  CPU hardware virtualization \(svm\)'
contains "iommu on" "$T/strix" '^PASS  IOMMU enabled'
contains "passthrough" "$T/strix" '^PASS  IOMMU in passthrough mode'
contains "interrupt remapping" "$T/strix" '^PASS  Interrupt remapping on'
contains "vfio_pci available" "$T/strix" '^PASS  Module vfio_pci (available|loaded)'
contains "group viable" "$T/strix" '^PASS  IOMMU group 14 is viable'
contains "passed with it: GPU + audio only" "$T/strix" 'passed with it: 0000:c4:00\.0 0000:c4:00\.1$'
contains "boot VGA warned with the fix" "$T/strix" '^WARN  0000:c4:00\.0 is the boot VGA device and holds the console'
contains "reset bug warned" "$T/strix" '^WARN  0000:c4:00\.0: AMD GPU without FLR \(reset: bus\)'
contains "APU reset advice" "$T/strix" 'fix: vendor-reset does not support APUs'
lacks "no vendor-reset install advice for an APU" "$T/strix" 'fix: Install the vendor-reset module'
contains "VFCT VBIOS source" "$T/strix" '^PASS  VBIOS source for 0000:c4:00\.0: ACPI VFCT'

expect_rc 1 "check iommu-off fails" "$GPURUN" --root "$FIX/iommu-off" check
contains "iommu FAIL" "$T/out" '^FAIL  The IOMMU is off: no IOMMU groups'
contains "AMD fix names the parameter" "$T/out" 'fix: .*amd_iommu=on'
contains "kvm missing" "$T/out" '^FAIL  /dev/kvm is missing'
# one root cause, one FAIL: what follows from it names it, and gets no fix of its own
contains "no IR follows from the IOMMU" "$T/out" '^INFO  Interrupt remapping off \(follows from: the IOMMU is off\)$'
contains "GPU without group follows" "$T/out" '^INFO  0000:03:00\.0 \[1002:744c\] has no IOMMU group \(follows from: the IOMMU is off\)$'
lacks "no interrupt-remapping fix for that cause" "$T/out" 'allow_unsafe_interrupts'
check "two root causes, two FAILs (IOMMU, KVM)" test "$(grep -c '^FAIL' "$T/out")" -eq 2

expect_rc 1 "check shared-group fails" "$GPURUN" --root "$FIX/shared-group" check --device 1002:73df
contains "names the NIC" "$T/out" '^FAIL  IOMMU group [0-9]+ is not viable: it also holds 0000:0c:00\.0 \[8086:15f3\] \(igc\)'

expect_rc 0 "check desktop-dgpu discrete card" "$GPURUN" --root "$FIX/desktop-dgpu" check --device 0000:03:00.0
contains "switch ports do not spoil the group" "$T/out" '^PASS  IOMMU group [0-9]+ is viable'
lacks "only the asked device" "$T/out" '0000:00:02\.0'
contains "intel fix wording absent when fine" "$T/out" '^PASS  CPU hardware virtualization \(vmx\)'
contains "not boot vga" "$T/out" '^PASS  0000:03:00\.0 is not the boot VGA'
contains "sysfs rom as VBIOS source" "$T/out" 'VBIOS source for 0000:03:00\.0: the device.s sysfs rom'

expect_rc 0 "check boot-vga-only" "$GPURUN" --root "$FIX/boot-vga-only" check
contains "console warned" "$T/out" 'is the boot VGA device and holds the console'

expect_rc 0 "check --json" "$GPURUN" --root "$FIX/strix-halo" check --json
if command -v jq >/dev/null; then
	check "json shape" jq -e '.checks | length > 5 and all(.[]; has("id") and has("status") and has("message") and has("fix"))' "$T/out"
	check "json iommu-enabled pass" jq -e '.checks[] | select(.id=="iommu-enabled") | .status=="pass"' "$T/out"
	check "json reset warn has fix" jq -e '.checks[] | select(.id=="gpu-reset") | .status=="warn" and (.fix|length>0)' "$T/out"
fi

expect_rc 2 "bad --device" "$GPURUN" --root "$FIX/strix-halo" check --device 1002-1586
contains "error explains the format" "$T/err" "Invalid --device '1002-1586'"
expect_rc 2 "no such device" "$GPURUN" --root "$FIX/strix-halo" check --device 10de:2684
contains "error names the spec" "$T/err" "No PCI device matches --device '10de:2684'"
expect_rc 0 "check PROFILE" "$GPURUN" --root "$FIX/strix-halo" check profiles/win11-strix-halo.profile
contains "profile GPU checked" "$T/out" 'IOMMU group 14 is viable'
lacks "only the profile's GPU" "$T/out" 'c1:00\.0'
expect_rc 2 "check bad profile path" "$GPURUN" --root "$FIX/strix-halo" check /nonexistent.profile
expect_rc 2 "profile and --device together" "$GPURUN" --root "$FIX/strix-halo" check profiles/win11-strix-halo.profile --device 1002:1586

# an id that names three host bridges of an APU's slots: none of them lists what it passes
expect_rc 0 "check --device of host bridges" "$GPURUN" --root "$FIX/strix-halo" check --device 1022:1509
lacks "no empty list of what is passed" "$T/out" 'passed with it: *$'
contains "says nothing of the slot is passed" "$T/out" '0000:00:02\.0 \[1022:1509\] is in IOMMU group 2; no function of its slot is passed by default'

# configured but not rebooted yet: host-config --apply on a copy, /proc/cmdline unchanged
copy_fixture iommu-off
"$GPURUN" --root "$T/root" host-config --device 0000:03:00.0 --apply >/dev/null 2>&1
expect_rc 1 "check after host-config --apply" "$GPURUN" --root "$T/root" check
contains "pending reboot reported" "$T/out" '^WARN  .*(reboot|not active)'
done_testing
