# `gpurun vbios list|extract` read the VFCT table the harness injected with -acpitable and write
# exactly the image it holds.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"

if ! have_cmd vbios; then
	skip "gpurun vbios" "this gpurun has no vbios command"
	done_testing
fi
check "the kernel exposes the VFCT table" test -r /sys/firmware/acpi/tables/VFCT
check "vbios list" "$GPURUN" vbios list
cp "$W/check.out" "$W/list.txt"
diag <"$W/list.txt"
check "list names the GPU's record" grep -q '01:00.0 1002:5046' "$W/list.txt"
check "list maps it to the PCI function" grep -q -e "-> $GPU" "$W/list.txt"

check "vbios extract -o DIR" "$GPURUN" vbios extract -o "$W/out"
diag <"$W/check.out"
check "extracted image is byte-identical to the injected one" \
	cmp "$W/out/vbios_1002_5046.bin" "$GPURUN_VM_OUT/gpu.rom"

check "vbios extract --device BDF" "$GPURUN" vbios extract --device $GPU -o "$W/dev"
check "same image by address" cmp "$W/dev/vbios_1002_5046.bin" "$GPURUN_VM_OUT/gpu.rom"
check "vbios extract --device VVVV:DDDD" "$GPURUN" vbios extract --device 1002:5046 -o "$W/id"
check "same image by id" cmp "$W/id/vbios_1002_5046.bin" "$GPURUN_VM_OUT/gpu.rom"

if have_cmd rom; then
	check "rom info accepts the extracted image" "$GPURUN" rom info "$W/out/vbios_1002_5046.bin"
	diag <"$W/check.out"
fi
"$GPURUN" vbios extract --device 10de:2684 -o "$W/none" >"$W/none.txt" 2>&1
rc=$?
diag <"$W/none.txt"
check "extract for a device that is not there fails" test $rc -ne 0
check "and writes nothing" test ! -e "$W/none/vbios_10de_2684.bin"
done_testing
