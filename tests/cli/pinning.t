#!/bin/sh
# cpu-pinning with backend = qemu: gpurun run asks QEMU for a QMP socket in the state dir, pins
# each vCPU thread query-cpus-fast names to its host CPU and QEMU's other threads to the CPUs
# left, and fails the start (QEMU stopped, host reverted) when it cannot. On a copy of the
# strix-halo fixture, tests/tools/fake-kernel playing sysfs and tests/tools/qemu-recorder (with
# its QMP half, qemu-recorder-qmp) playing QEMU with real threads whose affinity it records.
. tests/cli/lib.sh

. tests/cli/strix.sh
host_is_back() { strix_is_back "$1"; }
if ! command -v python3 >/dev/null; then echo "1..0 # SKIP python3 (the recorder's QMP half) missing"; exit 0; fi
# the CPUs this test may use, as the kernel lets it
set -- $(python3 -c 'import os; print(" ".join(map(str, sorted(os.sched_getaffinity(0)))))')
A=$1 B=${2:-}
ALL=$(python3 -c 'import os
c = sorted(os.sched_getaffinity(0)); out = []; i = 0
while i < len(c):
    j = i
    while j + 1 < len(c) and c[j + 1] == c[j] + 1: j += 1
    out.append(str(c[i]) if i == j else "%d-%d" % (c[i], c[j])); i = j + 1
print(",".join(out))')
# REST: every usable CPU but B
REST=$(python3 -c "import os
c = sorted(os.sched_getaffinity(0) - {int('${B:-$A}')}); out = []; i = 0
while i < len(c):
    j = i
    while j + 1 < len(c) and c[j + 1] == c[j] + 1: j += 1
    out.append(str(c[i]) if i == j else '%d-%d' % (c[i], c[j])); i = j + 1
print(','.join(out))")

profile() { strix_profile "$1" vfct yes "$2" "cpu-pinning = $3"; } # NAME CPUS PINNING
strix_recorder
run() { "$GPURUN" --root "$T/root" --qemu "$RECORDER" "$@"; }
aff() { awk -v w="$1" '$1 == w { print $3 }' "$T/q/affinity"; }
reset_q() { rm -f "$T/q/affinity" "$T/q/got-signal" "$T/q/started"; }

# --- one vCPU on the second usable CPU: the other threads get the rest
PIN1=${B:-$A}
profile p1 1 "$PIN1"
start_kernel
expect_rc 0 "dry run with cpu-pinning" run --dry-run run "$T/p1.profile"
contains "dry run: QMP socket in the state dir" "$T/out" "^ *-qmp unix:$T/root/run/gpurun/p1/qmp\.sock,server=on,wait=off"
contains "dry run: the pin step" "$T/out" "^pin over QMP \($T/root/run/gpurun/p1/qmp\.sock\): vCPU i to host CPU $PIN1 \(in vCPU order\)"
reset_q
RECORDER_QEMU_MODE=exit:0 expect_rc 0 "run with cpu-pinning = $PIN1" run run "$T/p1.profile"
check "the recorder served QMP and recorded its threads" test -s "$T/q/affinity"
check "vCPU 0's thread runs on CPU $PIN1 only" test "$(aff vcpu0)" = "$PIN1"
if [ -n "$B" ]; then
	check "QEMU's other threads run on the other CPUs ($REST)" \
		test "$(aff other | sort -u)" = "$REST"
	contains "run says what it pinned" "$T/err" "Pinned the vCPU threads \(vCPU->host CPU\): 0->$PIN1; 2 other QEMU threads -> $REST"
else
	ok "# SKIP one usable CPU: no CPU left for the other threads"
	contains "run says the other threads stay unpinned" "$T/err" "QEMU's other threads stay unpinned"
fi
check "host back after the pinned run" host_is_back p1
check "no QMP socket left" test ! -e "$T/root/run/gpurun/p1/qmp.sock"

# --- two vCPUs, in reverse order of the host's CPUs; a guest that runs until a signal
if [ -n "$B" ]; then
	profile p2 2 "$B,$A"
	reset_q
	RECORDER_QEMU_MODE=wait "$GPURUN" --root "$T/root" --qemu "$RECORDER" run "$T/p2.profile" \
		>"$T/out" 2>"$T/err" &
	RUNPID=$!
	wait_file "$T/q/started" && sleep 0.3
	i=0
	while [ $i -lt 100 ] && ! grep -q 'Pinned the vCPU threads' "$T/err"; do sleep 0.05; i=$((i + 1)); done
	kill -TERM "$RUNPID"
	wait "$RUNPID"
	rc=$?
	check "run with cpu-pinning = $B,$A ends well on SIGTERM (exit $rc)" test "$rc" -eq 0
	check "vCPU 0 -> CPU $B" test "$(aff vcpu0)" = "$B"
	check "vCPU 1 -> CPU $A" test "$(aff vcpu1)" = "$A"
	check "every usable CPU is a vCPU's: the other threads stay on $ALL" \
		test "$(aff other | sort -u)" = "$ALL"
	contains "run says the other threads stay unpinned" "$T/err" "QEMU's other threads stay unpinned"
	check "host back after SIGTERM" host_is_back p2

	# single-threaded TCG: both vCPUs on one thread, which gets both CPUs
	reset_q
	RECORDER_QEMU_QMP=shared RECORDER_QEMU_MODE=exit:0 expect_rc 0 "run, vCPUs sharing a thread" \
		run run "$T/p2.profile"
	check "the shared thread runs on both CPUs" test "$(aff vcpu0)" = "$ALL"
else
	ok "# SKIP one usable CPU: no two-vCPU pinning"
fi

# --- failures: the start fails, QEMU is stopped, the host comes back
reset_q
RECORDER_QEMU_QMP=error RECORDER_QEMU_MODE=wait expect_rc 1 "query-cpus-fast error fails the run" \
	run run "$T/p1.profile"
contains "the QMP error is reported" "$T/err" "cpu-pinning: QMP query-cpus-fast failed: recorder: no CPUs \(GenericError\)"
contains "QEMU is stopped" "$T/err" "Stopping QEMU: its threads could not be pinned"
check "QEMU got SIGTERM" grep -qx TERM "$T/q/got-signal"
check "host back after the failed pinning" host_is_back p1

reset_q
RECORDER_QEMU_QMP=bad-tid RECORDER_QEMU_MODE=wait expect_rc 1 "an unknown thread fails the run" \
	run run "$T/p1.profile"
contains "the failed pin is reported" "$T/err" "cpu-pinning: Failed to pin vCPU 0 \(thread 1073741824\) to host CPU $PIN1: No such process"
check "host back after the failed pin" host_is_back p1

# a QEMU that dies before QMP answers
cat >"$T/dies" <<'EOS'
#!/bin/sh
echo "qemu: cannot allocate memory" >&2
exit 1
EOS
chmod +x "$T/dies"
expect_rc 1 "QEMU exiting before QMP fails the run" \
	"$GPURUN" --root "$T/root" --qemu "$T/dies" run "$T/p1.profile"
contains "...and says so" "$T/err" "cpu-pinning: QEMU exited before its QMP socket answered"
check "host back after QEMU died" host_is_back p1
fake_kernel_stop
done_testing
