#!/bin/sh
# The fault matrix (issue 12): every host write of `run`, `bind`, `unbind`, `restore` and
# `host-config --apply`, on copies of the fixture hosts with tests/tools/fake-kernel playing
# sysfs, is made to fail. run, bind, unbind and restore act on strix-halo's APU (GPU + HDMI
# audio, ROM from VFCT, boot VGA with the console); run also on three other hosts: run-dgpu
# (desktop-dgpu's discrete GPU, switch ports in its group, + an NVMe [device] in a group of
# its own, ROM from sysfs), run-efifb (strix-halo whose console runs on efi-framebuffer.0,
# which run unbinds and rebinds) and run-boot-vga (boot-vga-only's single GPU, the boot VGA
# with the console, ROM from sysfs). tests/fault/libfault.so (LD_PRELOAD'ed into gpurun only) counts the
# writes under the fixture copy and, at write I, kills gpurun before or after it, or fails it
# with EBUSY or EIO:
#   kill-before / kill-after I: then `gpurun restore` (host-config: `host-config --revert`)
#     must bring the host back to what it was before gpurun touched it;
#   errno:EBUSY / errno:EIO at I: the command must leave the host as it found it, without
#     restore (when it exits 0 instead, as a fault-free run of it leaves it). unbind and
#     restore are reverts themselves: failing, they must keep their journal, and `gpurun
#     restore` must then finish the job.
# "The host" is the whole fixture tree, byte for byte (driver links, driver_override, vtconsole
# bind, platform driver links, ROM staging dir, /etc), but for what gpurun's bookkeeping leaves
# by design (directories in its state and ROM dirs; lock files: a lock is an flock() that goes
# with its holder, not the file or its content; a VM's run record and QEMU log, kept for
# `gpurun explain`; /etc/gpurun) and the fake kernel's vfio-pci
# driver directory; sysfs attributes compare line by line (sysfs shows "1\n" after a write of
# "1", the fixture's plain file does not). No journal may be left, and no host-config backup
# directory, whole or partial, that `--revert` has not renamed reverted-*.
# (FAULT_OPS=...,fsync in the environment adds fsync() to the writes walked.)
# Cells that fail today are listed in tests/cli/faults.known and print
# "not ok ... # TODO known: KIND" (not counted as failures); any other failing cell fails.
#   FAULTS_ONLY="run bind"   only these scenarios (run bind unbind restore hc hc-existing
#                            hc-revert hc-fedora run-dgpu run-efifb run-boot-vga)
#   FAULTS_MODES="errno:EIO" only these modes (kill-before kill-after errno:EBUSY errno:EIO)
#   FAULTS_JOBS=N            cells run in N parallel workers (default: the CPU count, at most 4)
#   FAULTS_KNOWN_UPDATE=FILE write the failing cells to FILE, in faults.known's format
. tests/cli/lib.sh

B=${GPURUN_BUILD:-build}
FAKE="$B/tools/fake-kernel"
LIBFAULT="$B/tools/libfault.so"
KNOWN="$GPURUN_TOP/tests/cli/faults.known"
KNOWN_ALL=$(cat "$KNOWN" 2>/dev/null)
HC="$GPURUN_TOP/tests/fixtures/hostcfg"
for f in "$FAKE" "$LIBFAULT"; do
	if [ ! -f "$f" ]; then echo "1..0 # SKIP $f not built"; exit 0; fi
done
if ! command -v timeout >/dev/null; then echo "1..0 # SKIP timeout(1) not installed"; exit 0; fi
LIBFAULT=$(cd "$(dirname "$LIBFAULT")" && pwd)/libfault.so
# The ASan build (build-san): libasan wants to come first among the loaded libraries; told not
# to check, it works behind the preloaded libfault.so (itself built without sanitizers).
ASAN=
if ldd "$GPURUN" 2>/dev/null | grep -q libasan; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	ASAN=1
fi
AUD=0000:c4:00.1
start=$(date +%s)
# P: this worker's files; W: its fixture copies, on a tmpfs when there is one (a few hundred
# copies and snapshots of a 2 MB tree, ten times faster there than on a disk); R: the copy.
P=$T
W=$T
if [ -d /dev/shm ] && [ -w /dev/shm ]; then W=$(mktemp -d /dev/shm/gpurun-faults.XXXXXX) || W=$T; fi
R="$W/root"
FK=
WORKERS=
stop_kernel() { if [ -n "$FK" ]; then kill "$FK" 2>/dev/null; wait "$FK" 2>/dev/null; FK=; fi; }
# interrupted: the workers, and the fake kernels they started (their pids in w*/fk.pid)
cleanup() {
	stop_kernel
	for w in $WORKERS; do kill "$w" 2>/dev/null; done
	for f in "$T"/w*/fk.pid; do [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	rm -rf "$T" "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# --- helpers --------------------------------------------------------------------------------
# fixture NAME: the fixture host's tree, tests/fixtures/hosts/NAME or one built below in $T/fix
fixture() { if [ -d "$T/fix/$1" ]; then echo "$T/fix/$1"; else echo "$FIX/$1"; fi; }
# fresh FIXTURE [OVERLAY|- [kernel|grubby]]: a new copy in $R (+ a tests/fixtures/hostcfg
# overlay), with a fake kernel, or tests/tools/fake-grubby as ROOT/usr/sbin/grubby, when asked
fresh() {
	stop_kernel
	rm -rf "${R:?}"
	cp -a "$(fixture "$1")" "$R"
	if [ -n "${2:-}" ] && [ "$2" != - ]; then cp -a "$HC/$2/." "$R/"; fi
	if [ "${3:-}" = grubby ]; then
		mkdir -p "$R/usr/sbin" && cp "$GPURUN_TOP/tests/tools/fake-grubby" "$R/usr/sbin/grubby"
	fi
	if [ "${3:-}" = kernel ]; then
		# it says "ready" once its watches are set
		[ -p "$P/fk.fifo" ] || mkfifo "$P/fk.fifo"
		"$FAKE" "$R" >"$P/fk.fifo" 2>"$P/fk.err" &
		FK=$!
		echo "$FK" >"$P/fk.pid"
		read -r _ <"$P/fk.fifo"
	fi
}
# The fake kernel acts on a request when the file is closed (also by the death of a killed
# gpurun): wait until it has taken every pending bind/unbind/probe request, and turned every
# blank driver_override into "(null)" as sysfs shows it.
pending() {
	for f in "$R"/sys/bus/pci/drivers_probe "$R"/sys/bus/pci/drivers/*/bind \
		"$R"/sys/bus/pci/drivers/*/unbind "$R"/sys/bus/platform/drivers/*/bind \
		"$R"/sys/bus/platform/drivers/*/unbind; do
		[ -s "$f" ] && return 0
	done
	for f in "$R"/sys/bus/pci/devices/*/driver_override; do
		v=
		{ read -r v <"$f" || :; } 2>/dev/null
		[ -z "$v" ] && return 0
	done
	return 1
}
settle() {
	[ -n "$FK" ] && pending || return 0
	_w=0
	while pending && [ $_w -lt 300 ]; do sleep 0.01; _w=$((_w + 1)); done
	sleep 0.005 # the fake kernel empties the file before it acts
}
# snap: the tree as sorted lines "D path", "L path -> target", "F path mode", "H path md5" and,
# for the sysfs attributes gpurun and the fake kernel write, "C path content" per line; without
# the bookkeeping named at the top. A journal's first line carries a pid: hashed without it.
ATTRS='-name driver_override -o -name bind -o -name unbind -o -name drivers_probe -o -name new_id -o -name remove_id'
BOOKKEEPING='^D \./(run|var|var/lib|var/lib/gpurun|dev/vfio|sys/bus/pci/drivers/vfio-pci)(/|$)|^D \./(run/gpurun|var/lib/gpurun)/|^[FH] \./run/gpurun/locks/|^[FH] \./run/gpurun/[^/]*/lock |^[FH] \./run/gpurun/[^/]*/(run|run\.tmp|qemu\.log) |^[FHC] \./sys/bus/pci/drivers/vfio-pci/(bind|unbind|new_id|remove_id) |^[DLFH] \./etc/gpurun(/| |$)'
snap() {
	(cd "$R" && {
		find . \( -type d -printf 'D %p\n' \) -o \( -type l -printf 'L %p -> %l\n' \) \
			-o \( -type f -printf 'F %p %m\n' \)
		# shellcheck disable=SC2086,SC2016
		find . -type f \( \( -path './sys/*' \( $ATTRS \) -exec grep -H '' {} + \) \
			-o \( -name journal -exec sh -c 'for j; do
				printf "J %s " "$j"; sed "1s/ [0-9]*\$//" "$j" | md5sum; done' sh {} + \) \
			-o -exec md5sum {} + \)
	} | BK="$BOOKKEEPING" awk '
		function out(l) { if (l !~ ENVIRON["BK"]) print l }
		/^[DLF] / { out($0); next }
		/^J / { out("H " $2 " " $3); next }
		substr($0, 33, 3) == "  ." { out("H " substr($0, 35) " " substr($0, 1, 32)); next }
		match($0, /\/(driver_override|bind|unbind|drivers_probe|new_id|remove_id):/) {
			out("C " substr($0, 1, RSTART + RLENGTH - 2) " " substr($0, RSTART + RLENGTH))
		}' | sort)
}
# describe OLD NEW: what differs between two snapshots, in short phrases on one line
describe() {
	diff "$1" "$2" | awk '
	function short(p) { sub(/^\.\//, "", p); return p }
	function owner(p, a, n) { n = split(p, a, "/"); return a[n - 1] }
	function base(p, a, n) { n = split(p, a, "/"); return a[n] }
	function add(s) { out = out sep s; sep = "; " }
	/^[<>] / {
		side = substr($0, 1, 1); t = $2; p = $3
		if (t == "L" && p ~ /\/sys\/bus\/[a-z]*\/drivers\//) next  # driver back-links
		if (t == "L" && p ~ /\/driver$/) { d = $5; sub(/.*\//, "", d); drv[owner(p), side] = d; devs[owner(p)] = 1; next }
		if (t == "C") {
			v = $0; sub(/^[<>] C [^ ]* ?/, "", v); sub(/ $/, "", v)
			w = owner(p) " " base(p)
			if (w ~ /^vtcon/) w = "console " w
			c[w, side] = v; cs[w] = 1; next
		}
		if (t == "H") { h[p, side] = 1; hs[p] = 1; next }
		if (t == "F") { f[p, side] = $4; fs[p] = 1; next }
		if (t == "D") { dd[p, side] = 1; ds[p] = 1; next }
		if (t == "L") { ls_[p] = 1; next }
	}
	END {
		for (b in devs)
			add(b " on " (((b, ">") in drv) ? drv[b, ">"] : "no driver") " (was " (((b, "<") in drv) ? drv[b, "<"] : "no driver") ")")
		for (w in cs)
			add(w " \"" c[w, ">"] "\" (was \"" c[w, "<"] "\")")
		for (p in fs)
			if ((p, "<") in f && (p, ">") in f) add(short(p) " mode " f[p, ">"] " (was " f[p, "<"] ")")
			else if ((p, ">") in f) add(short(p) " left")
			else add(short(p) " gone")
		for (p in hs)
			if ((p, "<") in h && (p, ">") in h) add(short(p) " changed")
		for (p in ds)
			add("dir " short(p) (((p, ">") in dd) ? " left" : " gone"))
		for (p in ls_)
			add("link " short(p) " differs")
		print out
	}'
}
# The identity of a write, stable across changes elsewhere in the sequence: "op path#k", the
# k-th time this op touches this path; temp names and backup dir names normalised.
norm() { sed -E 's/\.gpurun-[A-Za-z0-9]{6}/.gpurun-XXXXXX/g; s/[0-9]{8}T[0-9]{6}Z(-[0-9]+)?/TS/g'; }
keys() { # FAULT_LOG > "I op path#k" per write
	grep -v '^#' "$1" | norm |
		awk '{ p = $3; for (i = 4; i <= NF; i++) p = p " " $i; k[$2 " " p]++; print $1 " " $2 " " p "#" k[$2 " " p] }'
}

# profile FILE DEVICE VBIOS [LINE...]: VM t1 (1 GiB, 2 vCPUs, SeaBIOS, no network) passing
# DEVICE, with more lines after its [gpu] section
profile() {
	_f=$1 _d=$2 _v=$3
	shift 3
	{
		printf '[vm]\nname = t1\nmemory = 1G\ncpus = 2\nfirmware = bios\nnetwork = none\n'
		printf '[gpu]\ndevice = %s\nvbios = %s\n' "$_d" "$_v"
		for _l; do echo "$_l"; done
	} >"$_f"
}
profile "$T/t1.profile" 1002:1586 vfct "allow-boot-vga = yes"
# the discrete GPU of desktop-dgpu (not the boot VGA; switch ports in its group; vfio loaded)
# with a second IOMMU group, the NVMe, and its ROM from sysfs
profile "$T/dgpu.profile" 0000:03:00.0 sysfs "[device nvme]" "address = 0000:05:00.0"
# the only GPU of boot-vga-only: the boot VGA with the console (vtcon1 on amdgpudrmfb)
profile "$T/bvga.profile" 0000:03:00.0 sysfs "allow-boot-vga = yes"
# strix-halo-efifb: the strix-halo host whose fb0 is efi-framebuffer.0's (bound to the
# efi-framebuffer platform driver), not amdgpu's: run unbinds the firmware framebuffer too
# (issue 12 item 10; built as tests/cli/hostop.t builds it)
mkdir -p "$T/fix"
cp -a "$FIX/strix-halo" "$T/fix/strix-halo-efifb"
efifb_fixture "$T/fix/strix-halo-efifb"
# a QEMU that SIGKILLs the gpurun that started it: a run killed while its guest runs
# shellcheck disable=SC2016
printf '#!/bin/sh\nkill -KILL $PPID\n' >"$T/killer"
chmod +x "$T/killer"
# the guest: a QEMU that lives 50 ms and exits 0 (tests/cli/run.t checks what QEMU is given):
# long enough for run to find it in /proc (its pid is recorded with the VM's lock), so that
# the writes of run do not depend on timing
# shellcheck disable=SC2016
printf '#!/bin/sh\n[ -z "$QEMU_PIDFILE" ] || echo $$ >"$QEMU_PIDFILE"\nexec sleep 0.05\n' >"$T/qemu"
chmod +x "$T/qemu"
QEMU=$T/qemu
g() { "$GPURUN" --root "$R" "$@"; }
# faulted COMMAND...: COMMAND under libfault with the FAULT_* settings of the caller
faulted() {
	QEMU_PIDFILE="$P/qemu.pid" FAULT_ROOT="$R" FAULT_LOG="$P/flog" LD_PRELOAD="$LIBFAULT" \
		timeout -s KILL 60 "$@"
}
# after a killed run: its guest ends on its own (restore rightly refuses while it lives)
guest_gone() {
	q=
	[ -s "$P/qemu.pid" ] && read -r q <"$P/qemu.pid"
	_w=0
	while [ -n "$q" ] && kill -0 "$q" 2>/dev/null && [ $_w -lt 200 ]; do sleep 0.01; _w=$((_w + 1)); done
	rm -f "$P/qemu.pid"
	# a guest started just before the kill may not have written its pid file yet: wait while
	# any process still has a file of the state dir open (the VM lock a guest inherits)
	_w=0
	while state_open && [ $_w -lt 500 ]; do sleep 0.01; _w=$((_w + 1)); done
}
state_open() { [ -n "$(find /proc/[0-9]*/fd -lname "$R/run/gpurun/*" -print -quit 2>/dev/null)" ]; }
has_journal() { [ -n "$(find "$R/run/gpurun" -name journal 2>/dev/null)" ]; }

# --- scenarios ------------------------------------------------------------------------------
# scen_S prints fresh's arguments; setup_S prepares the copy; cmd_S WRAPPER is the command under
# test; recover_S undoes a killed one. The host "as found" is the copy before setup_S: before
# the bind that unbind releases, before the killed run that restore reverts.
scen_run() { echo strix-halo - kernel; }
setup_run() { :; }
cmd_run() { "$@" "$GPURUN" --root "$R" --qemu "$QEMU" run --timeout 1 "$T/t1.profile"; }
recover_run() { g restore --timeout 1; }

scen_bind() { echo strix-halo - kernel; }
setup_bind() { :; }
cmd_bind() { "$@" "$GPURUN" --root "$R" bind --timeout 1 "$T/t1.profile"; }
recover_bind() { g restore --timeout 1; }

scen_unbind() { echo strix-halo - kernel; }
setup_unbind() { g bind --timeout 5 "$T/t1.profile" >"$P/setup.out" 2>&1; }
cmd_unbind() { "$@" "$GPURUN" --root "$R" unbind --timeout 1 "$T/t1.profile"; }
recover_unbind() { g restore --timeout 1; }

scen_restore() { echo strix-halo - kernel; }
setup_restore() {
	g --qemu "$T/killer" run --timeout 5 "$T/t1.profile" >"$P/setup.out" 2>&1
	settle
	has_journal
}
cmd_restore() { "$@" "$GPURUN" --root "$R" restore --timeout 1; }
recover_restore() { g restore --timeout 1; }

scen_hc() { echo strix-halo; }
setup_hc() { :; }
cmd_hc() { "$@" "$GPURUN" --root "$R" host-config --device 1002:1586 --apply; }
recover_hc() { g host-config --revert; }

scen_hc_existing() { echo strix-halo existing-vfio; }
setup_hc_existing() { :; }
cmd_hc_existing() { cmd_hc "$@"; }
recover_hc_existing() { recover_hc; }

# --revert is a revert itself: killed, another --revert finishes; failing, it keeps its backup
# (not renamed reverted-*) and another --revert finishes
scen_hc_revert() { echo strix-halo existing-vfio; }
setup_hc_revert() { g host-config --device 1002:1586 --apply >"$P/setup.out" 2>&1; }
cmd_hc_revert() { "$@" "$GPURUN" --root "$R" host-config --revert; }
recover_hc_revert() { recover_hc; }

# Fedora with grubby: the boot entries are changed by grubby (a program of its own, whose writes
# libfault does not count), run after the backup is published and before the first file is
# written: kill-after at the backup's rename is "killed before grubby ran", kill-before at the
# first file write "killed after grubby ran"; --revert must take its parameters out again.
# The fake tools under the copy run only with GPURUN_TEST_ROOT_TOOLS (hostcfg/backup.c).
export GPURUN_TEST_ROOT_TOOLS=1
scen_hc_fedora() { echo desktop-dgpu fedora-bls grubby; }
setup_hc_fedora() { :; }
cmd_hc_fedora() { "$@" "$GPURUN" --root "$R" host-config --device 0000:03:00.0 --apply; }
recover_hc_fedora() { recover_hc; }

# run on other hosts: what differs from strix-halo's APU is what a bug would hide in
scen_run_dgpu() { echo desktop-dgpu - kernel; }
setup_run_dgpu() { :; }
cmd_run_dgpu() { "$@" "$GPURUN" --root "$R" --qemu "$QEMU" run --timeout 1 "$T/dgpu.profile"; }
recover_run_dgpu() { recover_run; }

scen_run_efifb() { echo strix-halo-efifb - kernel; }
setup_run_efifb() { :; }
cmd_run_efifb() { cmd_run "$@"; }
recover_run_efifb() { recover_run; }

scen_run_boot_vga() { echo boot-vga-only - kernel; }
setup_run_boot_vga() { :; }
cmd_run_boot_vga() { "$@" "$GPURUN" --root "$R" --qemu "$QEMU" run --timeout 1 "$T/bvga.profile"; }
recover_run_boot_vga() { recover_run; }
# covers_S: writes ("op path#k") the dry pass of S must make, or the scenario lost its point
covers_run_dgpu() { echo 'write sys/bus/pci/drivers/nvme/unbind#1'; }
covers_run_efifb() {
	echo 'write sys/bus/platform/drivers/efi-framebuffer/unbind#1'
	echo 'write sys/bus/platform/drivers/efi-framebuffer/bind#1'
}
covers_run_boot_vga() { echo 'write sys/devices/virtual/vtconsole/vtcon1/bind#2'; }

# said RC: " (exit RC: its last message)" after a recovery command that failed
said() { [ "$1" -eq 0 ] || echo " (exit $1: $(tail -1 "$P/rec.err" | sed "s|$R|ROOT|g"))"; }
fn_of() { echo "$1" | tr - _; }
# kind_of S: the command scenario S runs (run, bind, unbind, restore, hc, hc-revert), which
# decides what its cells check
kind_of() { case $1 in run-*) echo run ;; hc-existing | hc-fedora) echo hc ;; *) echo "$1" ;; esac; }
recover_name() { case $1 in hc*) echo "host-config --revert" ;; *) echo restore ;; esac; }
# hc: a backup directory is named after its time stamp until `--revert` renames it reverted-*;
# none may be left, whole or partial, once the host is back.
pending_backup() {
	for b in "$R"/etc/gpurun/backup/[0-9]*; do [ -e "$b" ] && return 0; done
	return 1
}

# --- one cell -------------------------------------------------------------------------------
# cell S MODE I KEY: write I of scenario S, whose KEY ("op path#k") the dry pass recorded.
# Prints "ok - NAME" or "not ok - NAME" (+ "# TODO known: KIND") and "#   what differs";
# the numbers are added when the workers' results are merged.
cell() {
	s=$1 mode=$2 i=$3 key=$4 fn=$(fn_of "$1") kind=$(kind_of "$1")
	why='' rrc=0
	if [ "$REUSE" = "$s" ]; then
		# the previous cell left the host as found: only gpurun's bookkeeping to drop, what
		# the fixture does not have (the fake kernel keeps running; its vfio-pci driver
		# directory is not the host's)
		# shellcheck disable=SC2046
		fix=$(fixture "$(set -- $(scen_"$fn") && echo "$1")")
		# shellcheck disable=SC2046
		(cd "$R" && rm -rf $(find run var dev etc/gpurun 2>/dev/null | while read -r f; do
			[ -e "$fix/$f" ] || [ -L "$fix/$f" ] || echo "$f"; done))
	else
		# shellcheck disable=SC2046
		fresh $(scen_"$fn")
	fi
	REUSE=
	setup_"$fn" || why="setup failed: $(tail -1 "$P/setup.out")"
	rm -f "$P/flog" "$P/err" "$P/rec.err" "$P/qemu.pid"
	if [ -z "$why" ]; then
		FAULT_AT=$i FAULT_MODE=$mode cmd_"$fn" faulted >"$P/out" 2>"$P/err"
		rc=$?
		settle
		# the fault happened, at the write the dry pass had there
		got=$(awk -v i="$i" '
			/^# fault/ { acted = 1 }
			!/^#/ && ++n == i { sub(/^[0-9]+ /, ""); w = $0 }
			END { print acted ? w : "never reached (" n + 0 " writes)" }' "$P/flog" 2>/dev/null | norm)
		want=${key%#*}
		if [ "$got" != "$want" ] && [ -z "${RETRY:-}" ]; then
			# the fault did not land on the write the dry pass had there: the experiment
			# did not happen (seen once in 1520 cells on a machine running two test suites at
			# once). Once more on a fresh copy; a gpurun that really changed its writes
			# fails the second time too.
			echo "# $s $mode $i: write $i was \"$got\" here, \"$want\" in the dry pass: once more"
			RETRY=1
			cell "$@"
			RETRY=
			return
		fi
		[ "$got" = "$want" ] || why="write $i is \"$got\" here, \"$want\" in the dry pass"
	fi
	if [ -z "$why" ]; then
		case $mode in
		kill-*)
			if [ "$rc" -ne 137 ]; then why="exit $rc, not killed"; else
				guest_gone
				recover_"$fn" >"$P/rec.out" 2>"$P/rec.err"
				rrc=$?
				settle
				snap >"$P/after"
				cmp -s "$T/pristine.$s" "$P/after" ||
					why="after $(recover_name "$s")$(said $rrc): $(describe "$T/pristine.$s" "$P/after")"
			fi ;;
		errno:*)
			snap >"$P/after"
			if [ "$rc" -eq 0 ]; then
				cmp -s "$T/clean.$s" "$P/after" ||
					why="exit 0, host not as after a fault-free $s: $(describe "$T/clean.$s" "$P/after")"
			elif [ "$kind" = unbind ] || [ "$kind" = restore ]; then
				if ! has_journal; then
					why="exit $rc, no journal left: $(describe "$T/pristine.$s" "$P/after")"
				else
					g restore --timeout 1 >"$P/rec.out" 2>"$P/rec.err"
					settle
					snap >"$P/after"
					cmp -s "$T/pristine.$s" "$P/after" ||
						why="exit $rc, journal kept; after restore: $(describe "$T/pristine.$s" "$P/after")"
				fi
			elif [ "$kind" = hc-revert ]; then
				if ! pending_backup; then
					why="exit $rc, no backup left to finish with: $(describe "$T/pristine.$s" "$P/after")"
				else
					recover_hc >"$P/rec.out" 2>"$P/rec.err"
					rrc=$?
					snap >"$P/after"
					cmp -s "$T/pristine.$s" "$P/after" ||
						why="exit $rc, backup kept; after another --revert$(said $rrc): $(describe "$T/pristine.$s" "$P/after")"
				fi
			elif [ "$kind" = run ] && [ "${key%%/journal#*}" != "$key" ] &&
				[ "${key#unlink run/gpurun/}" != "$key" ]; then
				# the last step of a run, once the host is back: its own journal cannot
				# be removed. Like a failed unbind, it must say so, keep the journal,
				# and `gpurun restore` must finish the job (and find nothing to undo).
				if ! grep -q "Host restored, but the journal of VM 't1' could not be removed" "$P/err"; then
					why="exit $rc, not said: $(tail -1 "$P/err")"
				else
					g restore --timeout 1 >"$P/rec.out" 2>"$P/rec.err"
					settle
					snap >"$P/after"
					cmp -s "$T/pristine.$s" "$P/after" ||
						why="exit $rc, journal kept; after restore: $(describe "$T/pristine.$s" "$P/after")"
				fi
			elif ! cmp -s "$T/pristine.$s" "$P/after"; then
				why="exit $rc: $(describe "$T/pristine.$s" "$P/after")"
				# for the report: does a later `gpurun restore` put it right?
				if has_journal; then
					g restore --timeout 1 >"$P/rec.out" 2>"$P/rec.err"
					settle
					snap >"$P/after"
					if cmp -s "$T/pristine.$s" "$P/after"; then why="$why (a later restore puts it back)"
					else why="$why (a later restore leaves: $(describe "$T/pristine.$s" "$P/after"))"; fi
				fi
			fi ;;
		esac
		pending_backup && why="${why:+$why; }a backup directory is left in etc/gpurun/backup (not reverted-*)$(said $rrc)"
	fi
	# the ASan build: an error report on a fault path fails the cell whatever the host looks like
	if [ -n "$ASAN" ] && grep -h -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$P/err" "$P/rec.err" 2>/dev/null >"$P/san"; then
		why="sanitizer: $(cat "$P/san")${why:+; $why}"
	fi
	[ -z "$why" ] && cmp -s "$T/pristine.$s" "$P/after" && REUSE=$s
	name="$s $mode $i $key"
	known=
	case $KNOWN_ALL in *"$s	$mode	$key	"*)
		known=$(awk -F'\t' -v s="$s" -v m="$mode" -v k="$key" \
			'$1 == s && $2 == m && $3 == k { print $4; exit }' "$KNOWN") ;;
	esac
	if [ -z "$why" ]; then
		if [ -n "$known" ]; then
			echo "ok - $name # TODO known: $known (passes now: take it out of faults.known)"
		else echo "ok - $name"; fi
		return
	fi
	if [ -n "$known" ]; then echo "not ok - $name # TODO known: $known"; else echo "not ok - $name"; fi
	echo "#   $why"
	printf '%s\t%s\t%s\t%s\n' "$s" "$mode" "$key" "${known:-$why}" >>"$P/known"
}

# --- self-test of the harness ---------------------------------------------------------------
fresh strix-halo
mkdir -p "$T/out-of-root"
export FAULT_PROG=mkdir
FAULT_ROOT="$R" FAULT_LOG="$T/flog" LD_PRELOAD="$LIBFAULT" mkdir -p "$R/a/b/c" "$T/out-of-root/x"
check "FAULT_LOG: mkdir -p of three new directories under the root: three writes" \
	test "$(grep -vc '^#' "$T/flog")" -eq 3
contains "FAULT_LOG: numbered, paths relative to the root" "$T/flog" '^3 mkdir a/b/c$'
rm -f "$T/flog"
FAULT_ROOT="$R" FAULT_LOG="$T/flog" LD_PRELOAD="$LIBFAULT" mkdir -p "$R/a/b/c"
check "an existing directory is no write" test ! -s "$T/flog"
export FAULT_PROG=dd
FAULT_ROOT="$R" FAULT_LOG="$T/flog" LD_PRELOAD="$LIBFAULT" dd if=/dev/zero of="$R/a/f" bs=4 count=2 2>/dev/null
check "dd: open (create), two writes" \
	test "$(grep -v '^#' "$T/flog" | cut -d' ' -f2 | tr '\n' ' ')" = "open write write "
rm -f "$T/flog" "$R/a/f"
FAULT_ROOT="$R" FAULT_LOG="$T/flog" FAULT_AT=1 FAULT_MODE=errno:EIO LD_PRELOAD="$LIBFAULT" \
	dd if=/dev/zero of="$R/a/f" bs=4 count=2 2>"$T/err"
rc=$?
check "FAULT_AT=1 errno:EIO: the first write (the create) fails" test $rc -ne 0 -a ! -e "$R/a/f"
contains "... with EIO" "$T/err" 'Input/output error'
contains "... and the log says so" "$T/flog" '^# fault: errno 5 '
FAULT_ROOT="$R" FAULT_AT=2 FAULT_MODE=errno:EIO LD_PRELOAD="$LIBFAULT" \
	dd if=/dev/zero of="$R/a/f" bs=4 count=2 2>/dev/null
check "FAULT_AT=2 errno:EIO: created, nothing written" test -e "$R/a/f" -a ! -s "$R/a/f"
rm -f "$R/a/f"
FAULT_ROOT="$R" FAULT_AT=3 FAULT_MODE=kill-before LD_PRELOAD="$LIBFAULT" \
	dd if=/dev/zero of="$R/a/f" bs=4 count=2 2>/dev/null
rc=$?
check "kill-before 3: SIGKILL, 4 bytes written" test $rc -eq 137 -a "$(wc -c <"$R/a/f")" -eq 4
rm -f "$R/a/f"
FAULT_ROOT="$R" FAULT_AT=3 FAULT_MODE=kill-after LD_PRELOAD="$LIBFAULT" \
	dd if=/dev/zero of="$R/a/f" bs=4 count=2 2>/dev/null
rc=$?
check "kill-after 3: SIGKILL, 8 bytes written" test $rc -eq 137 -a "$(wc -c <"$R/a/f")" -eq 8
FAULT_ROOT="$R" FAULT_AT=1 FAULT_MODE=errno:EIO LD_PRELOAD="$LIBFAULT" \
	dd if=/dev/zero of="$T/out-of-root/f" bs=4 count=2 2>/dev/null
check "writes outside FAULT_ROOT are not counted" test "$(wc -c <"$T/out-of-root/f")" -eq 8
FAULT_PROG=gpurun FAULT_ROOT="$R" FAULT_AT=1 FAULT_MODE=errno:EIO LD_PRELOAD="$LIBFAULT" \
	dd if=/dev/zero of="$R/a/h" bs=4 count=1 2>/dev/null
check "a program FAULT_PROG does not name is left alone" test "$(wc -c <"$R/a/h")" -eq 4
rm -f "$T/flog"
FAULT_ROOT="$R" FAULT_LOG="$T/flog" LD_PRELOAD="$LIBFAULT" \
	timeout 10 env dd if=/dev/zero of="$R/a/i" bs=4 count=1 2>/dev/null
check "wrappers (timeout, env) pass it on to FAULT_PROG" test "$(grep -vc '^#' "$T/flog")" -eq 2
export FAULT_PROG=sh
FAULT_ROOT="$R" LD_PRELOAD="$LIBFAULT" sh -c 'echo "[$LD_PRELOAD]"' >"$T/out"
contains "the programs FAULT_PROG starts run without it" "$T/out" '^\[\]$'
printf 'old' >"$R/sys/bus/pci/devices/$AUD/driver_override"
FAULT_ROOT="$R" FAULT_AT=1 FAULT_MODE=errno:EBUSY LD_PRELOAD="$LIBFAULT" \
	sh -c "printf x >'$R/sys/bus/pci/devices/$AUD/driver_override'" 2>/dev/null
rc=$?
check "under sys/, a failed write leaves the attribute as it was (no truncating open)" \
	test $rc -ne 0 -a "$(cat "$R/sys/bus/pci/devices/$AUD/driver_override")" = old
FAULT_ROOT="$R" FAULT_AT=9 FAULT_MODE=errno:EBUSY LD_PRELOAD="$LIBFAULT" \
	sh -c "printf x >'$R/sys/bus/pci/devices/$AUD/driver_override'"
check "... and a write replaces the content" \
	test "$(cat "$R/sys/bus/pci/devices/$AUD/driver_override")" = x
FAULT_ROOT="$R" FAULT_AT=1 FAULT_MODE=bogus LD_PRELOAD="$LIBFAULT" sh -c true 2>"$T/err"
contains "a bad FAULT_MODE is refused" "$T/err" 'libfault: FAULT_MODE'
unset FAULT_PROG

# with FAULT_AT, a request to the fake kernel returns once taken: a writer waits for a stopped one
# synchronous FIXTURE WHAT FILE GONE DESC: dd writes WHAT to FILE (under the copy) while the fake
# kernel is stopped; it must wait, and once the kernel goes on, GONE (a driver link) is gone
synchronous() {
	fresh "$1" - kernel
	printf %s "$2" >"$T/req"
	kill -STOP "$FK"
	FAULT_PROG=dd FAULT_ROOT="$R" FAULT_AT=99 FAULT_MODE=errno:EIO LD_PRELOAD="$LIBFAULT" \
		dd if="$T/req" of="$R/$3" 2>/dev/null &
	dd=$!
	sleep 0.3
	if kill -0 $dd 2>/dev/null; then blocked=yes; else blocked=no; fi
	kill -CONT "$FK"
	wait $dd
	check "$5" test $blocked = yes -a ! -e "$R/$4"
}
synchronous strix-halo $AUD "sys/bus/pci/devices/$AUD/driver/unbind" \
	"sys/bus/pci/devices/$AUD/driver" \
	"a request to the fake kernel is synchronous: the writer waits until it is taken"
# ... a platform driver's too (the firmware framebuffer of run-efifb)
synchronous strix-halo-efifb efi-framebuffer.0 sys/bus/platform/drivers/efi-framebuffer/unbind \
	sys/devices/platform/efi-framebuffer.0/driver "a platform driver's request is synchronous too"

# the matrix relies on it: two dry passes of the same command make the same writes
fresh strix-halo - kernel
rm -f "$P/flog"
faulted "$GPURUN" --root "$R" bind --timeout 5 "$T/t1.profile" >/dev/null 2>&1
keys "$P/flog" >"$T/seq1"
fresh strix-halo - kernel
rm -f "$P/flog"
faulted "$GPURUN" --root "$R" bind --timeout 5 "$T/t1.profile" >/dev/null 2>&1
keys "$P/flog" >"$T/seq2"
if cmp -s "$T/seq1" "$T/seq2"; then ok "bind: two dry passes, the same $(wc -l <"$T/seq1") writes"
else not_ok "bind: two dry passes, the same writes"; diff "$T/seq1" "$T/seq2" | sed 's/^/# /'; fi
stop_kernel

# --- the dry passes -------------------------------------------------------------------------
# For each scenario: the host as found ($T/pristine.S), its writes ($T/keys.S), the host after
# the fault-free command ($T/clean.S); then the units of work, one per scenario and mode.
: >"$T/units"
for s in ${FAULTS_ONLY:-run bind unbind restore hc hc-existing hc-revert hc-fedora run-dgpu run-efifb run-boot-vga}; do
	fn=$(fn_of "$s")
	# shellcheck disable=SC2046
	fresh $(scen_"$fn")
	snap >"$T/pristine.$s"
	if ! setup_"$fn"; then not_ok "$s: setup"; sed 's/^/# /' "$P/setup.out"; continue; fi
	rm -f "$P/flog"
	cmd_"$fn" faulted >"$P/out" 2>"$P/err"
	rc=$?
	settle
	snap >"$T/clean.$s"
	keys "$P/flog" >"$T/keys.$s"
	cut -d' ' -f2- "$T/keys.$s" >"$T/keys.$s.ops"
	n=$(wc -l <"$T/keys.$s")
	check "$s: the fault-free command exits 0 after $n host writes" test "$rc" -eq 0 -a "$n" -gt 0
	sed "s/^/# $s write /" "$T/keys.$s"
	if command -v covers_"$fn" >/dev/null; then
		covers_"$fn" >"$T/covers.$s"
		while IFS= read -r c; do
			check "$s: the fault-free command makes \"$c\"" \
				grep -qxF "$c" "$T/keys.$s.ops"
		done <"$T/covers.$s"
	fi
	case $(kind_of "$s") in
	run | unbind | restore | hc-revert)
		check "$s: the fault-free command leaves the host as found" \
			cmp -s "$T/pristine.$s" "$T/clean.$s" ;;
	*)
		recover_"$fn" >/dev/null 2>&1
		settle
		snap >"$P/after"
		check "$s: $(recover_name "$s") after the fault-free command gives the host back" \
			cmp -s "$T/pristine.$s" "$P/after" ;;
	esac
	for mode in ${FAULTS_MODES:-kill-before kill-after errno:EBUSY errno:EIO}; do
		echo "$s $mode" >>"$T/units"
	done
done
stop_kernel

# --- the matrix, in workers -----------------------------------------------------------------
njobs=${FAULTS_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$njobs" -gt 4 ] && [ -z "${FAULTS_JOBS:-}" ] && njobs=4
[ "$njobs" -ge 1 ] || njobs=1
k=0
while [ $k -lt "$njobs" ]; do
	(
		P="$T/w$k" W="$W/w$k" FK='' REUSE=
		R="$W/root"
		trap 'stop_kernel' EXIT
		trap 'exit 1' INT TERM HUP PIPE
		mkdir -p "$P" "$W"
		u=0
		while read -r s mode; do
			if [ $((u % njobs)) -eq "$k" ]; then
				while read -r i op path; do
					cell "$s" "$mode" "$i" "$op $path"
				done <"$T/keys.$s" >"$T/unit.$u"
			fi
			u=$((u + 1))
		done <"$T/units"
	) &
	WORKERS="$WORKERS $!"
	k=$((k + 1))
done
for w in $WORKERS; do wait "$w"; done
WORKERS=

cells=0 passed=0 failed=0 known=0
u=0
while read -r s mode; do
	while IFS= read -r line; do
		case $line in
		"ok - "*) _n=$((_n + 1)); cells=$((cells + 1)); passed=$((passed + 1))
			echo "ok $_n - ${line#ok - }" ;;
		"not ok - "*"# TODO known: "*) _n=$((_n + 1)); cells=$((cells + 1)); failed=$((failed + 1))
			known=$((known + 1)); echo "not ok $_n - ${line#not ok - }" ;;
		"not ok - "*) _n=$((_n + 1)); cells=$((cells + 1)); failed=$((failed + 1))
			_failed=$((_failed + 1)); echo "not ok $_n - ${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done <"$T/unit.$u"
	u=$((u + 1))
done <"$T/units"
if [ -n "${FAULTS_KNOWN_UPDATE:-}" ]; then
	cat "$T"/w*/known 2>/dev/null | sort -t "$(printf '\t')" -k1,1 -k2,2 -s >"$FAULTS_KNOWN_UPDATE"
fi
echo "# fault matrix: $cells cells (commands x writes x modes), $passed passed, $failed failed" \
	"($known of them known, in faults.known), $(($(date +%s) - start)) s with $njobs workers"
done_testing
