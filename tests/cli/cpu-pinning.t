#!/bin/sh
# cpu-pinning names host CPUs: plan/check FAIL on one that is not online
# (sys/devices/system/cpu/online; desktop-dgpu has 0-23), as the run's sched_setaffinity,
# libvirt's <vcpupin> and Proxmox's affinity: would fail on it; INFO when the list is unknown.
. tests/cli/lib.sh

pin() { # NAME LIST
	sed -e "s/^cpu-pinning = .*/cpu-pinning = $2/" "$GPURUN_TOP/profiles/linux-dgpu.profile" >"$T/$1.profile"
}
g() { "$GPURUN" --root "$FIX/desktop-dgpu" "$1" "$T/$2.profile"; }

grep -q '^cpu-pinning = 2-7$' "$GPURUN_TOP/profiles/linux-dgpu.profile"
check "the example pins 2-7 (six vCPUs)" test $? -eq 0
pin ok 2-7
expect_rc 0 "plan: CPUs 2-7 online" g plan ok
lacks "no FAIL" "$T/out" "FAIL cpu-pinning"
g check ok >"$T/out" 2>&1
contains "check PROFILE: the PASS line" "$T/out" "^PASS  cpu-pinning = 2-7: every CPU is online"
# the vCPUs on their CPUs, QEMU's other threads on the rest (as gpurun run pins them)
"$GPURUN" --root "$FIX/desktop-dgpu" emit libvirt "$T/ok.profile" >"$T/xml" 2>"$T/err"
contains "libvirt: vcpupin" "$T/xml" '<vcpupin vcpu="5" cpuset="7"/>'
contains "libvirt: emulatorpin on the rest" "$T/xml" '<emulatorpin cpuset="0-1,8-23"/>'
g plan ok >"$T/out" 2>&1
contains "plan says where the other threads go" "$T/out" "^cpu-pinning: 2-7 \(QEMU's other threads: 0-1,8-23\)"
pin off 20-25
expect_rc 1 "plan: CPU 24 is not online" g plan off
contains "the FAIL names the CPU" "$T/out" "FAIL cpu-pinning: cpu-pinning = 20-25: CPU 24 is not online on this host \(online: 0-23\)"
contains "...and the fix" "$T/out" "fix: Name CPUs the host has online"
expect_rc 1 "check PROFILE: the same FAIL" g check off
expect_rc 1 "emit refuses it too" "$GPURUN" --root "$FIX/desktop-dgpu" emit qemu "$T/off.profile"
expect_rc 1 "run refuses before any change" "$GPURUN" --root "$FIX/desktop-dgpu" --dry-run run "$T/off.profile"
contains "run names it" "$T/err" "CPU 24 is not online"

# no list to read: INFO, not a refusal
copy_fixture desktop-dgpu
rm "$T/root/sys/devices/system/cpu/online"
expect_rc 0 "plan without the online list" "$GPURUN" --root "$T/root" plan "$T/off.profile"
contains "INFO: not known" "$T/out" "INFO cpu-pinning: cpu-pinning = 20-25: the host's online CPUs are not known"

# gpurun's own CPU set (proc/self/status Cpus_allowed_list: taskset, a cgroup cpuset): run pins
# each vCPU thread with sched_setaffinity(), which fails outside it, so plan FAILs first
copy_fixture desktop-dgpu
mkdir -p "$T/root/proc/self"
printf 'Name:\tgpurun\nCpus_allowed:\t000f0f\nCpus_allowed_list:\t0-3,8-11\nMems_allowed_list:\t0\n' >"$T/root/proc/self/status"
gr() { "$GPURUN" --root "$T/root" --state-dir "$T/st" "$@"; }
pin set 2-3,8-11
expect_rc 0 "plan: CPUs in gpurun's set" gr plan "$T/set.profile"
contains "the other threads stay in gpurun's set" "$T/out" "^cpu-pinning: 2-3,8-11 \(QEMU's other threads: 0-1\)"
pin out 2-7
expect_rc 1 "plan: CPU 4 is outside gpurun's set" gr plan "$T/out.profile"
contains "the FAIL names the CPU and the set" "$T/out" "FAIL cpu-pinning: cpu-pinning = 2-7: CPU 4 is not one gpurun may run on \(allowed: 0-3,8-11\)"
expect_rc 1 "run --dry-run refuses it too" gr run --dry-run "$T/out.profile"
contains "run names it" "$T/err" "CPU 4 is not one gpurun may run on"
# libvirt pins from libvirtd, whose set is its own
sed -i 's/^backend = qemu$/backend = libvirt/' "$T/out.profile"
expect_rc 0 "backend = libvirt: gpurun's set does not matter" gr plan "$T/out.profile"
done_testing
