#!/bin/sh
# gpurun ls on fixture hosts: text, --json, odd sysfs entries, bad --root.
. tests/cli/lib.sh
jqt() { jq -e "$@" >/dev/null; }

expect_rc 0 "ls on strix-halo" env COLUMNS=200 "$GPURUN" --root "$FIX/strix-halo" ls
cp "$T/out" "$T/ls-strix"
contains "group 14 listed" "$T/ls-strix" '^IOMMU group 14 \(identity\):'
contains "GPU line in lspci's order" "$T/ls-strix" \
	'^  GPU   c4:00\.0 VGA compatible controller \[0300\]: Advanced Micro Devices, Inc\. \[AMD/ATI\] Strix Halo.* \[1002:1586\] \(rev c1\)$'
contains "then gpurun's extras" "$T/ls-strix" '^          driver amdgpu, reset: bus \[boot VGA\] \[console\]$'
check "extras under their device" sh -c "grep -A1 '^  GPU   c4:00\.0' '$T/ls-strix' | tail -1 | grep -q 'driver amdgpu'"
contains "HDMI audio marked" "$T/ls-strix" '^  AUDIO c4:00\.1 Audio device \[0403\]: .*\[1002:1640\]$'
contains "its driver" "$T/ls-strix" '^          driver snd_hda_intel, reset: none$'
contains "PSP listed, not marked" "$T/ls-strix" '^        c4:00\.2 Encryption controller \[1080\]: .* \[1022:17e0\]$'
lacks "platform HD audio not marked as the GPU's" "$T/ls-strix" 'AUDIO c4:00\.6'
lacks "nothing from the real machine" "$T/ls-strix" 'Virtio|virtio-pci'
lacks "domain 0000 left out, as lspci does" "$T/ls-strix" '0000:'

# --- the width: COLUMNS, else 80 when not a terminal; the name is cut, never the ids
expect_rc 0 "ls at 80 columns" env -u COLUMNS "$GPURUN" --root "$FIX/strix-halo" ls
check "every line fits 80 columns" sh -c "! grep -q '^.\{81\}' '$T/out'"
contains "the name cut, the ids and revision kept" "$T/out" '^  GPU   c4:00\.0 VGA compatible controller \[0300\]: .*\.\.\. \[1002:1586\] \(rev c1\)$'
contains "a vendor name without a short form gives way to the device's" "$T/out" '^        c2:00\.0 Ethernet controller \[0200\]: RTL8125 2\.5G\.\.\. \[10ec:8125\] \(rev 05\)$'
expect_rc 0 "ls at 100 columns" env COLUMNS=100 "$GPURUN" --root "$FIX/strix-halo" ls
check "every line fits 100 columns" sh -c "! grep -q '^.\{101\}' '$T/out'"
contains "the vendor's short form when that fits" "$T/out" '^        00:00\.0 Host bridge \[0600\]: AMD Strix/Strix Halo Root Complex \[1022:1507\]$'

# --- one device (any way it is named) or one IOMMU group
expect_rc 0 "ls DEVICE (short address)" env COLUMNS=200 "$GPURUN" --root "$FIX/strix-halo" ls c4:0.1
contains "its group header" "$T/out" '^IOMMU group 14 \(identity\):$'
contains "the device" "$T/out" '^  AUDIO c4:00\.1 '
check "only it" test "$(grep -c '^  .* \[....\]: ' "$T/out")" -eq 1
expect_rc 0 "ls VENDOR:DEVICE" "$GPURUN" --root "$FIX/strix-halo" ls 1002:1586
contains "the GPU" "$T/out" '^  GPU   c4:00\.0 '
lacks "not its audio" "$T/out" 'c4:00\.1'
expect_rc 0 "ls an id of several functions lists each" "$GPURUN" --root "$FIX/strix-halo" ls 1022:1509
check "three functions" test "$(grep -c '\[1022:1509\]' "$T/out")" -eq 3
expect_rc 0 "ls GROUP" "$GPURUN" --root "$FIX/strix-halo" ls 14
contains "the group" "$T/out" '^IOMMU group 14 \(identity\):$'
check "its two members" test "$(grep -c '^  [A-Z ]\{5\} c4:00\.[01] ' "$T/out")" -eq 2
check "one group only" test "$(grep -c '^IOMMU group' "$T/out")" -eq 1
expect_rc 0 "ls --json GROUP keeps the shape" "$GPURUN" --root "$FIX/strix-halo" ls --json 14
if command -v jq >/dev/null; then
	check "json: one group, two devices, ungrouped empty" jqt '(.groups|length)==1 and .groups[0].id==14 and (.groups[0].devices|length)==2 and .ungrouped==[] and .groups[0].devices[0].revision=="c1"' "$T/out"
fi
expect_rc 2 "ls of no such group" "$GPURUN" --root "$FIX/strix-halo" ls 99
contains "says so" "$T/err" "No IOMMU group 99 on this host"
check "names \`gpurun ls\` once" test "$(grep -o 'gpurun ls' "$T/err" | wc -l)" -eq 1
expect_rc 2 "ls of a group number too large for any host" "$GPURUN" --root "$FIX/strix-halo" ls 4294967310
contains "says there is no such group" "$T/err" "No IOMMU group 4294967310 on this host"
expect_rc 2 "ls of a group on iommu-off" "$GPURUN" --root "$FIX/iommu-off" ls 3
contains "says the IOMMU is off" "$T/err" "No IOMMU group 3 on this host \(the IOMMU is off; see \`gpurun ls\`\)"
expect_rc 2 "ls of no such device" "$GPURUN" --root "$FIX/strix-halo" ls c5:00.0
contains "did you mean" "$T/err" "no device 0000:c5:00\.0 on this host \(did you mean 0000:c4:00\.0\?\)"
expect_rc 2 "ls of a bad address" "$GPURUN" --root "$FIX/strix-halo" ls c4:00.8
contains "function must be 0-7" "$T/err" "Invalid device 'c4:00\.8': function must be 0-7$"

expect_rc 0 "ls --json" "$GPURUN" --root "$FIX/strix-halo" ls --json
if command -v jq >/dev/null; then
	check "json parses" jq -e . "$T/out" >/dev/null
	check "json group 14 holds c4:00.0 first" \
		jq -e '.groups[] | select(.id==14) | .devices[0] | .address=="0000:c4:00.0" and .vendor=="1002" and .device=="1586" and .class=="0300" and .driver=="amdgpu" and .boot_vga==true and .reset==["bus"]' "$T/out"
	check "json group type" jq -e '.groups[] | select(.id==14) | .type=="identity"' "$T/out"
else
	ok "# SKIP jq missing"
fi

expect_rc 0 "ls on iommu-off" "$GPURUN" --root "$FIX/iommu-off" ls
contains "says no groups" "$T/out" '^No IOMMU groups'
contains "lists ungrouped devices" "$T/out" '^Devices without an IOMMU group:'

expect_rc 0 "ls on desktop-dgpu" "$GPURUN" --root "$FIX/desktop-dgpu" ls
contains "bridges in the GPU's group" "$T/out" '^        02:00\.0 PCI bridge \[0604\]: .*\[1002:1479\]'

# odd sysfs: dangling iommu_group link, missing attributes, a device that vanished mid-scan
copy_fixture strix-halo
gpu=$(readlink -f "$T/root/sys/bus/pci/devices/0000:c4:00.1")
rm -f "$gpu/iommu_group" && ln -s ../../../../kernel/iommu_groups/999 "$gpu/iommu_group"
rm -f "$(readlink -f "$T/root/sys/bus/pci/devices/0000:c4:00.0")/driver_override"
nvme=$(readlink -f "$T/root/sys/bus/pci/devices/0000:c1:00.0")
rm -f "$nvme/config" "$nvme/vendor" "$nvme/device" "$nvme/class"
expect_rc 0 "odd sysfs entries are skipped, not fatal" "$GPURUN" --root "$T/root" ls
contains "GPU still listed" "$T/out" '^  GPU   c4:00\.0 '

expect_rc 2 "bad --root" "$GPURUN" --root /nonexistent/dir ls
contains "one-line error naming the root" "$T/err" "Invalid --root '/nonexistent/dir'"
expect_rc 2 "ls rejects what is no device or group" "$GPURUN" --root "$FIX/strix-halo" ls extra
contains "explains it" "$T/err" "Invalid device 'extra': neither a vendor:device id"
expect_rc 2 "unknown option" "$GPURUN" ls --bogus
done_testing
