# Baseline without gpurun: the raw sysfs sequence from REFERENCE.md binds GPU + audio to
# vfio-pci, a nested TCG QEMU takes both (checked over QMP query-pci), then the original drivers
# come back. Proves the sandbox itself; bench/vm-bind compares gpurun against it.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"

note start
check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
is "GPU driver" "$(driver_of $GPU)" aty128fb
is "audio driver" "$(driver_of $AUDIO)" snd_hda_intel
check "fbcon is on the GPU" console_on_gpu
note "drivers bound"
check "modprobe vfio-pci" modprobe vfio-pci
note "vfio loaded"

raw_bind() {
	for d in $GPU $AUDIO; do
		echo vfio-pci >"$SYSPCI/$d/driver_override" || return 1
		if [ -e "$SYSPCI/$d/driver" ]; then
			echo "$d" >"$SYSPCI/$d/driver/unbind" || return 1
		fi
		echo "$d" >/sys/bus/pci/drivers_probe || return 1
	done
}
raw_revert() {
	for d in $AUDIO $GPU; do
		echo >"$SYSPCI/$d/driver_override" || return 1
		if [ -e "$SYSPCI/$d/driver" ]; then
			echo "$d" >"$SYSPCI/$d/driver/unbind" || return 1
		fi
		echo "$d" >/sys/bus/pci/drivers_probe || return 1
	done
}

t0=$(date +%s%N)
check "raw bind of both functions to vfio-pci" raw_bind
note bound
t1=$(date +%s%N)
echo "# raw bind: $(((t1 - t0) / 1000000)) ms"
is "GPU on vfio-pci" "$(driver_of $GPU)" vfio-pci
is "audio on vfio-pci" "$(driver_of $AUDIO)" vfio-pci
grp=$(group_of $GPU)
check "/dev/vfio/$grp exists" test -c "/dev/vfio/$grp"

note "starting nested QEMU"
qemu-system-x86_64 -accel tcg -M q35 -m 256 -nodefaults -display none -S \
	-device vfio-pci,host=$GPU,romfile="$GPURUN_VM_OUT/gpu.rom" -device vfio-pci,host=$AUDIO \
	-qmp "unix:$W/qmp.sock,server=on,wait=off" >"$W/qemu.log" 2>&1 &
qpid=$!
if wait_for 60 test -S "$W/qmp.sock"; then
	note "QMP socket up"
	ok "nested QEMU started with both functions as vfio-pci"
	check "QMP answers query-pci and info qtree" qmp_pci_snapshot "$W/qmp.sock"
	check "QMP: the guest has vfio-pci 1002:5046 (the GPU)" guest_has_pci 1002 5046
	check "QMP: the guest has vfio-pci 8086:293e (the audio)" guest_has_pci 8086 293e
	note "queried"
	qmp "$W/qmp.sock" '{"execute":"quit"}' >/dev/null
	check "nested QEMU quits" wait_for 30 proc_gone $qpid
else
	not_ok "nested QEMU started with both functions as vfio-pci"
	diag "$(cat "$W/qemu.log")"
	kill -9 $qpid 2>/dev/null
fi
wait $qpid 2>/dev/null
note "reaped"

t0=$(date +%s%N)
check "raw revert" raw_revert
t1=$(date +%s%N)
echo "# raw revert: $(((t1 - t0) / 1000000)) ms"
check "aty128fb and snd_hda_intel hold them again" wait_for 10 host_drivers_back
check "fbcon is back on the GPU" wait_for 10 console_on_gpu
done_testing
