# `gpurun run` of tests/vm/sandbox.profile on a host whose GPU and audio are held by aty128fb
# and snd_hda_intel (fbcon on the GPU): both functions go to vfio-pci, a nested TCG QEMU gets
# them (checked over QMP query-pci), and when the guest quits the host gets its drivers and
# console back.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"

check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
check "fbcon is on the GPU" wait_for 5 console_on_gpu
if ! have_cmd run; then
	skip "gpurun run" "this gpurun has no run command"
	done_testing
fi

# cpu-pinning: the nested QEMU's vCPU thread goes to the sandbox's last CPU (CPU 1 of -smp 2, or
# CPU 0 alone), its other threads to the CPU left
PIN=$(cut -d, -f1 /sys/devices/system/cpu/online | sed 's/.*-//')
sed "s/^cpus = 1$/cpus = 1\ncpu-pinning = $PIN/" "$PROFILE" >"$W/pinned.profile"
PROFILE=$W/pinned.profile
note "gpurun run $PROFILE (cpu-pinning = $PIN)"
if start_run; then
	ok "gpurun run started the guest (QMP socket up)"
else
	not_ok "gpurun run started the guest (QMP socket up)"
	diag <"$W/run.out"
	kill -9 "$RUN_PID" 2>/dev/null
	done_testing
fi
note "guest up"
is "GPU on vfio-pci while the guest runs" "$(driver_of $GPU)" vfio-pci
is "audio on vfio-pci while the guest runs" "$(driver_of $AUDIO)" vfio-pci
check "/dev/vfio/$(group_of $GPU) exists" test -c "/dev/vfio/$(group_of $GPU)"
check "fbcon released the GPU" sh -c "! grep -q 'ATY Rage128' /proc/fb"
check "GPU ROM staged from VFCT" cmp /var/lib/gpurun/roms/vbios_1002_5046.bin "$GPURUN_VM_OUT/gpu.rom"
qpid=$(child_of "$RUN_PID")
if [ -n "$qpid" ]; then
	tr '\0' ' ' <"/proc/$qpid/cmdline" >"$W/qemu.cmdline"
	check "QEMU got the GPU with the staged VBIOS as romfile" \
		grep -q "vfio-pci,host=$GPU,[^ ]*romfile=/var/lib/gpurun/roms/vbios_1002_5046.bin" "$W/qemu.cmdline"
else
	not_ok "gpurun's child QEMU found"
fi
# gpurun pins once QEMU's own QMP socket answers; the profile's socket can be up before that
check "gpurun run says it pinned the vCPU thread" wait_for 60 grep -q 'Pinned the vCPU threads' "$W/run.out"
vtid=$(qmp "$QMP" '{"execute":"query-cpus-fast"}' | grep '^{"return": \[' | jq -r '.return[0]["thread-id"]')
allowed() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$1" 2>/dev/null; }
is "the nested QEMU's vCPU thread $vtid runs on CPU $PIN only" \
	"$(allowed "/proc/$qpid/task/$vtid/status")" "$PIN"
if [ "$PIN" != 0 ]; then
	is "QEMU's main thread runs on the CPU left" "$(allowed "/proc/$qpid/status")" 0
else
	skip "QEMU's main thread on the CPU left" "the sandbox has one CPU"
fi
check "QMP answers query-pci and info qtree" qmp_pci_snapshot "$QMP"
check "QMP: the guest has vfio-pci 1002:5046 (the GPU)" guest_has_pci 1002 5046
check "QMP: the guest has vfio-pci 8086:293e (the audio)" guest_has_pci 8086 293e
note "quitting the guest over QMP"
qmp "$QMP" '{"execute":"quit"}' >/dev/null
stop_run
note "gpurun exited"
is "gpurun run exits 0 after the guest quits" "$RUN_RC" 0
diag <"$W/run.out"
is "GPU back on aty128fb" "$(driver_of $GPU)" aty128fb
is "audio back on snd_hda_intel" "$(driver_of $AUDIO)" snd_hda_intel
check "fbcon is back on the GPU" wait_for 5 console_on_gpu
is "driver_override cleared on the GPU" "$(cat $SYSPCI/$GPU/driver_override)" "(null)"
is "driver_override cleared on the audio" "$(cat $SYSPCI/$AUDIO/driver_override)" "(null)"
done_testing
