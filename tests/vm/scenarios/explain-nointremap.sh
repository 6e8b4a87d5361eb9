# vm-intel-iommu: intremap=off,caching-mode=on
# The sandbox booted without interrupt remapping (the line above: tests/vm/lib.sh reads it for
# -device intel-iommu): the real vfio_iommu_type1 refuses the group and QEMU fails with "Failed
# to set iommu for container: Operation not permitted". gpurun's own preflight would refuse
# first (interrupt-remapping FAIL, from /proc/interrupts), which is checked first; then a bind
# mount of /proc/interrupts with remapped irqchips plays a host whose detection was fooled, so
# that QEMU really starts and the end of `run` must explain it: intremap-missing, with the
# kernel's "No interrupt remapping support" as evidence.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"

check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
if ! have_cmd explain; then
	skip "gpurun explain" "this gpurun has no explain command"
	done_testing
fi
check "no IR- irqchips: the kernel runs without interrupt remapping" sh -c "! grep -q 'IR-' /proc/interrupts"
"$GPURUN" run "$PROFILE" >"$W/refuse.out" 2>&1
is "gpurun run refuses before touching the host" "$?" 1
check "refusal names interrupt remapping" grep -q 'Interrupt remapping off' "$W/refuse.out"
sed 's/PCI-MSI/IR-PCI-MSI/; s/IO-APIC/IR-IO-APIC/' /proc/interrupts >"$W/interrupts"
if mount --bind "$W/interrupts" /proc/interrupts; then
	note "gpurun run with /proc/interrupts claiming remapping"
	"$GPURUN" run "$PROFILE" >"$W/run.out" 2>&1
	rc=$?
	umount /proc/interrupts
	is "gpurun run fails (QEMU could not set up the container)" "$rc" 1
	check "QEMU said it" grep -q 'Operation not permitted' "$W/run.out"
	check "run explains it" grep -q '^gpurun explain: QEMU exited with status 1' "$W/run.out"
	check "run: the cause is intremap-missing" grep -q '^Cause 1: intremap-missing' "$W/run.out"
	check "run: the kernel's evidence" grep -q 'evidence: kernel: .*No interrupt remapping support' "$W/run.out"
	diag <"$W/run.out"
else
	not_ok "bind mount over /proc/interrupts"
fi
is "GPU back on aty128fb" "$(driver_of $GPU)" aty128fb
is "audio back on snd_hda_intel" "$(driver_of $AUDIO)" snd_hda_intel
done_testing
