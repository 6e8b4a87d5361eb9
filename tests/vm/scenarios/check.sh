# The sandbox's kernel view, then `gpurun check`: IOMMU on, interrupt remapping, the GPU's
# group viable.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"

is "GPU and audio share one IOMMU group" "$(group_members $GPU)" "$GPU $AUDIO"
is "GPU is 1002:5046" "$(cat $SYSPCI/$GPU/vendor):$(cat $SYSPCI/$GPU/device)" "0x1002:0x5046"
check "VFCT table is byte-identical to the injected one" \
	cmp /sys/firmware/acpi/tables/VFCT "$GPURUN_VM_OUT/vfct.bin"
check "kernel enabled interrupt remapping" grep -q ' IR-' /proc/interrupts
check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
# TCG emulates SVM, so kvm_amd loads and /dev/kvm exists, as on a real host.
modprobe kvm_amd 2>/dev/null

if ! have_cmd check; then
	skip "gpurun check" "this gpurun has no check command"
	done_testing
fi
"$GPURUN" check >"$W/check.txt" 2>&1
echo "# gpurun check exited with $?"
diag <"$W/check.txt"
check "gpurun check: IOMMU enabled" grep -q '^PASS  IOMMU enabled' "$W/check.txt"
check "gpurun check: interrupt remapping on" grep -q '^PASS  Interrupt remapping on' "$W/check.txt"
check "gpurun check: /dev/kvm found" grep -q '^PASS  .*/dev/kvm\|^PASS  KVM' "$W/check.txt"
check "gpurun check: GPU found in its IOMMU group" \
	grep -q "^PASS  $GPU \[1002:5046\] is in IOMMU group $(group_of $GPU)" "$W/check.txt"
check "gpurun check: VFCT named as the VBIOS source" \
	grep -q "^PASS  VBIOS source for $GPU: ACPI VFCT" "$W/check.txt"
check "gpurun check: boot VGA warned" grep -q "^WARN  $GPU is the boot VGA device" "$W/check.txt"

"$GPURUN" check "$PROFILE" >"$W/check-profile.txt" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q 'unexpected argument' "$W/check-profile.txt"; then
	skip "gpurun check PROFILE: group viable with GPU + audio" "this gpurun check takes no PROFILE"
else
	diag <"$W/check-profile.txt"
	is "check PROFILE exits 0" "$rc" 0
	check "check PROFILE: IOMMU group viable" \
		grep -q "^PASS  IOMMU group $(group_of $GPU) is viable" "$W/check-profile.txt"
fi

"$GPURUN" check --json >"$W/check.json" 2>/dev/null
check "gpurun check --json: iommu-enabled passes" \
	jq -e '.checks[] | select(.id=="iommu-enabled") | .status=="pass"' "$W/check.json"
done_testing
