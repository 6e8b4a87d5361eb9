# Guest side TAP helpers for tests/vm/scenarios/*.sh (POSIX sh). Scenarios run as root inside
# the sandbox with $GPURUN, $GPURUN_TOP, $GPURUN_BUILD and $GPURUN_VM_OUT set by guest-run.
# Everything they write goes under /tmp or /run (tmpfs).
t_n=0
t_failed=0
GPU=0000:01:00.0
AUDIO=0000:01:00.1
SYSPCI=/sys/bus/pci/devices
W=$(mktemp -d /tmp/scenario.XXXXXX)

ok() {
	t_n=$((t_n + 1))
	echo "ok $t_n - $*"
}

not_ok() {
	t_n=$((t_n + 1))
	t_failed=$((t_failed + 1))
	echo "not ok $t_n - $*"
}

skip() {
	t_n=$((t_n + 1))
	echo "ok $t_n - $1 # SKIP $2"
}

# diag TEXT... (or stdin): TAP diagnostic lines.
diag() {
	if [ $# -eq 0 ]; then
		sed 's/^/#   /'
	else
		printf '%s\n' "$@" | sed 's/^/#   /'
	fi
}

# check DESC CMD...: ok when CMD exits 0; on failure its output is shown as diagnostics.
check() {
	_d=$1
	shift
	_t0=$(uptime_s)
	"$@" >"$W/check.out" 2>&1
	_rc=$?
	_t1=$(uptime_s)
	[ $((_t1 - _t0)) -lt 3 ] || echo "# took $((_t1 - _t0)) s: $*"
	if [ $_rc -eq 0 ]; then
		ok "$_d"
	else
		not_ok "$_d"
		diag "command: $*" "exit: $_rc"
		diag "$(tail -n 20 "$W/check.out")"
	fi
	return $_rc
}

# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "got:  '$2'" "want: '$3'"
	fi
}

done_testing() {
	note "done"
	echo "1..$t_n"
	[ "$t_failed" -eq 0 ]
	exit $?
}

# True when the gpurun binary under test has subcommand $1.
have_cmd() {
	"$GPURUN" --help 2>/dev/null | grep -q "^  $1\( \|\$\)"
}

# Driver bound to PCI function $1, or "none".
driver_of() {
	if [ -e "$SYSPCI/$1/driver" ]; then
		basename "$(readlink "$SYSPCI/$1/driver")"
	else
		echo none
	fi
}

# driver_is BDF DRIVER
driver_is() {
	[ "$(driver_of "$1")" = "$2" ]
}

group_of() {
	basename "$(readlink "$SYSPCI/$1/iommu_group")"
}

group_members() {
	ls "/sys/kernel/iommu_groups/$(group_of "$1")/devices" | sort | tr '\n' ' ' | sed 's/ $//'
}

# uptime_s: whole seconds since boot, without starting a process (exec is slow in the guest).
uptime_s() {
	read -r _up _idle </proc/uptime
	echo "${_up%.*}"
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds or SECONDS have passed.
wait_for() {
	_end=$(($(uptime_s) + $1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(uptime_s)" -lt $_end ] || return 1
		sleep 0.1
	done
}

# True when a framebuffer of aty128fb exists and the framebuffer console is bound (the host's
# text console is on the GPU).
console_on_gpu() {
	grep -q 'ATY Rage128' /proc/fb 2>/dev/null || return 1
	for _v in /sys/class/vtconsole/vtcon*; do
		case "$(cat "$_v/name")" in
		*"frame buffer"*) [ "$(cat "$_v/bind")" = 1 ] && return 0 ;;
		esac
	done
	return 1
}

# qmp SOCKET COMMAND_JSON...: one QMP session (capabilities negotiated first); prints the
# replies. The session stays open until every command has its reply (at most 30 s).
qmp() {
	_sock=$1
	shift
	_want=$(($# + 1))
	: >"$W/qmp.out"
	{
		echo '{"execute":"qmp_capabilities"}'
		for _c in "$@"; do echo "$_c"; done
		_i=300
		while [ "$(grep -c '^{"\(return\|error\)"' "$W/qmp.out")" -lt $_want ] && [ $_i -gt 0 ]; do
			sleep 0.1
			_i=$((_i - 1))
		done
	} | socat - "UNIX-CONNECT:$_sock" >"$W/qmp.out" 2>&1
	cat "$W/qmp.out"
}

# qmp_pci_snapshot SOCKET: saves what the guest behind QMP SOCKET has on its PCI buses;
# guest_has_pci VENDOR DEVICE (hex) is then true when it has that vfio-pci device.
# query-pci lists devices behind a PCIe root port only once the guest firmware has numbered
# the buses, which a guest stopped with -S has not: then the device tree (HMP `info qtree`,
# through QMP) is the evidence, where QEMU shows the ids it read from the host device's config
# space.
qmp_pci_snapshot() {
	qmp "$1" '{"execute":"query-pci"}' \
		'{"execute":"human-monitor-command","arguments":{"command-line":"info qtree"}}' \
		>"$W/qmp-pci.json"
	grep '^{"return": "' "$W/qmp-pci.json" | jq -r .return | tr -d '\r' >"$W/qtree.txt"
	grep -q '^{"return": \[' "$W/qmp-pci.json"
}

# guest_has_pci VENDOR DEVICE: reads the last qmp_pci_snapshot.
guest_has_pci() {
	grep '^{"return": \[' "$W/qmp-pci.json" |
		jq -e --argjson v "$(printf %d "0x$1")" --argjson d "$(printf %d "0x$2")" \
			'[.. | .id? | objects | select(.vendor == $v and .device == $d)] | length >= 1' \
			>/dev/null && { echo "query-pci lists $1:$2"; return 0; }
	awk -v id="pci id $1:$2" '
		/ dev: / { vfio = ($0 ~ / dev: vfio-pci,/) }
		vfio && index($0, id) { found = 1 }
		END { exit !found }' "$W/qtree.txt" && { echo "info qtree: vfio-pci $1:$2"; return 0; }
	cat "$W/qmp-pci.json"
	return 1
}

# Loads the drivers a host would have on its GPU and audio, waits until they are bound.
bind_host_drivers() {
	modprobe aty128fb && modprobe snd_hda_intel &&
		wait_for 10 driver_is $GPU aty128fb && wait_for 10 driver_is $AUDIO snd_hda_intel
}

host_drivers_back() {
	[ "$(driver_of $GPU)" = aty128fb ] && [ "$(driver_of $AUDIO)" = snd_hda_intel ]
}

# note TEXT: a TAP comment stamped with the guest's uptime (seconds), for timing.
note() {
	echo "# [$(cut -d' ' -f1 /proc/uptime)] $*"
}

# True when process $1 has exited (gone, or a zombie not yet reaped). A killed multi-threaded
# process (QEMU) shows its leader as a zombie while its other threads are still exiting and hold
# its files (the VFIO device): it has exited when the leader is its last task.
proc_gone() {
	[ ! -e "/proc/$1/stat" ] && return 0
	[ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ] &&
		[ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -le 1 ]
}

PROFILE=$GPURUN_TOP/tests/vm/sandbox.profile
QMP=/run/gpurun-sandbox.qmp

# child_of PID: the first child process of PID (the QEMU that gpurun started).
child_of() {
	for _t in /proc/"$1"/task/*/children; do
		for _c in $(cat "$_t" 2>/dev/null); do
			echo "$_c"
			return 0
		done
	done
	return 1
}

# start_run [ARGS...]: starts `gpurun run PROFILE ARGS` in the background; sets $RUN_PID and
# waits until the nested guest's QMP socket exists (ok/not ok reported by the caller).
start_run() {
	rm -f "$QMP"
	"$GPURUN" run "$PROFILE" "$@" >"$W/run.out" 2>&1 &
	RUN_PID=$!
	wait_for 120 qmp_or_exit && test -S "$QMP"
}

qmp_or_exit() {
	test -S "$QMP" || proc_gone "$RUN_PID"
}

# stop_run: waits for gpurun (at most 60 s); sets $RUN_RC (124 when it did not stop).
stop_run() {
	if wait_for 60 proc_gone "$RUN_PID"; then
		wait "$RUN_PID"
		RUN_RC=$?
	else
		kill -9 "$RUN_PID" 2>/dev/null
		RUN_RC=124
	fi
}

both_on_vfio() {
	[ "$(driver_of $GPU)" = vfio-pci ] && [ "$(driver_of $AUDIO)" = vfio-pci ]
}

# The state dir holds no journal: nothing is left to restore.
# A journal file is what revert leaves when it did not finish; sockets or logs of a killed QEMU
# may stay in the VM's state dir and say nothing about the host.
no_journal() {
	[ -z "$(find /run/gpurun -name journal 2>/dev/null)" ]
}

has_journal() {
	! no_journal
}

# after_revert WHAT: the host is as before the run; cleans up with `gpurun restore` when not,
# so the next step starts from a clean host.
after_revert() {
	check "$1: GPU back on aty128fb" wait_for 10 driver_is $GPU aty128fb
	check "$1: audio back on snd_hda_intel" wait_for 10 driver_is $AUDIO snd_hda_intel
	check "$1: fbcon back on the GPU" wait_for 5 console_on_gpu
	if ! check "$1: no journal left in /run/gpurun" no_journal; then
		# Clean up so that the next step starts from a clean host: what failed is reported.
		diag "modules left: $(grep '^vfio' /proc/modules | cut -d' ' -f1,3,4 | tr '\n' ' ')"
		for _m in vfio_pci vfio_pci_core vfio_iommu_type1 vfio; do
			rmmod $_m 2>/dev/null
		done
		"$GPURUN" restore >"$W/cleanup.out" 2>&1
		note "cleaned up with rmmod vfio_pci vfio_pci_core vfio_iommu_type1 vfio; gpurun restore: exit $?"
		diag <"$W/cleanup.out"
	fi
}
