#!/bin/sh
# gpurun ls on fixture hosts: text, --json, odd sysfs entries, bad --root.
. tests/cli/lib.sh

expect_rc 0 "ls on strix-halo" "$GPURUN" --root "$FIX/strix-halo" ls
cp "$T/out" "$T/ls-strix"
contains "group 14 listed" "$T/ls-strix" '^IOMMU group 14 \(identity\):'
contains "GPU line as documented" "$T/ls-strix" \
	'^  GPU   0000:c4:00\.0 \[1002:1586\] VGA compatible controller: Advanced Micro Devices, Inc\. \[AMD/ATI\] Strix Halo.* \(driver amdgpu, reset: bus\) \[boot VGA\]'
contains "HDMI audio marked" "$T/ls-strix" '^  AUDIO 0000:c4:00\.1 \[1002:1640\] Audio device: .*\(driver snd_hda_intel'
contains "PSP listed, not marked" "$T/ls-strix" '^        0000:c4:00\.2 \[1022:17e0\]'
lacks "platform HD audio not marked as the GPU's" "$T/ls-strix" 'AUDIO 0000:c4:00\.6'
lacks "nothing from the real machine" "$T/ls-strix" 'Virtio|virtio-pci'

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
contains "bridges in the GPU's group" "$T/out" '0000:02:00\.0 \[1002:1479\]'

# odd sysfs: dangling iommu_group link, missing attributes, a device that vanished mid-scan
copy_fixture strix-halo
gpu=$(readlink -f "$T/root/sys/bus/pci/devices/0000:c4:00.1")
rm -f "$gpu/iommu_group" && ln -s ../../../../kernel/iommu_groups/999 "$gpu/iommu_group"
rm -f "$(readlink -f "$T/root/sys/bus/pci/devices/0000:c4:00.0")/driver_override"
nvme=$(readlink -f "$T/root/sys/bus/pci/devices/0000:c1:00.0")
rm -f "$nvme/config" "$nvme/vendor" "$nvme/device" "$nvme/class"
expect_rc 0 "odd sysfs entries are skipped, not fatal" "$GPURUN" --root "$T/root" ls
contains "GPU still listed" "$T/out" '0000:c4:00\.0'

expect_rc 2 "bad --root" "$GPURUN" --root /nonexistent/dir ls
contains "one-line error naming the root" "$T/err" "Invalid --root '/nonexistent/dir'"
expect_rc 2 "ls rejects arguments" "$GPURUN" --root "$FIX/strix-halo" ls extra
expect_rc 2 "unknown option" "$GPURUN" ls --bogus
done_testing
