# `gpurun run` whose QEMU fails on the real kernel, and the explanation `run` prints itself at
# the end: the staged ROM file is gone when QEMU starts (a --qemu wrapper removes it, as a
# cleaner or a second gpurun would), QEMU says "failed to find romfile", run reverts the host and
# names romfile-missing; `gpurun explain sandbox` says it again from the kept qemu.log and the
# real /dev/kmsg.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"

check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
if ! have_cmd explain; then
	skip "gpurun explain" "this gpurun has no explain command"
	done_testing
fi
cat >"$W/qemu" <<EOS
#!/bin/sh
rm -f /var/lib/gpurun/roms/vbios_1002_5046.bin
exec qemu-system-x86_64 "\$@"
EOS
chmod +x "$W/qemu"
note "gpurun run with the ROM removed under it"
"$GPURUN" --qemu "$W/qemu" run "$PROFILE" >"$W/run.out" 2>&1
rc=$?
is "gpurun run fails (QEMU did not start the guest)" "$rc" 1
check "QEMU said it" grep -q 'failed to find romfile' "$W/run.out"
check "run explains it" grep -q '^gpurun explain: QEMU exited with status 1' "$W/run.out"
check "run: the cause is romfile-missing" grep -q '^Cause 1: romfile-missing' "$W/run.out"
check "run: the evidence is QEMU's line" grep -q 'evidence: qemu.log:[0-9]*: .*failed to find romfile' "$W/run.out"
check "run: the kernel's messages were read" grep -q 'kernel messages since the run started ([0-9]* line' "$W/run.out"
diag <"$W/run.out"
is "GPU back on aty128fb" "$(driver_of $GPU)" aty128fb
is "audio back on snd_hda_intel" "$(driver_of $AUDIO)" snd_hda_intel
"$GPURUN" explain sandbox >"$W/explain.out" 2>&1
is "gpurun explain sandbox exits 0" "$?" 0
check "explain sandbox: romfile-missing again" grep -q '^Cause 1: romfile-missing' "$W/explain.out"
done_testing
