#!/bin/sh
# The host operations and their error paths (issue 12): every failure after the first host change
# reverts whatever errno it carries; signals (SIGPIPE ignored; INT, TERM, HUP, QUIT revert);
# one ROM staging policy (never replace a file gpurun did not create); every input read before
# the first change, only regular files; the firmware framebuffer of the boot VGA GPU unbound and
# rebound through the journal. On copies of the fixture hosts, with tests/tools/fake-kernel
# playing sysfs and tests/tools/qemu-recorder playing QEMU. Never touches the real /sys.
. tests/cli/lib.sh

. tests/cli/strix.sh
ROMS=var/lib/gpurun/roms
ROM=$ROMS/vbios_1002_1586.bin
# the whole tree but the state dir (journals are checked on their own): names, link targets,
# sizes, and the attributes gpurun writes
snap() {
	(cd "$T/root" && find . \( -path ./dev -o -path ./run \) -prune -o -printf '%p %l %s\n' | sort &&
		cat sys/bus/pci/devices/*/driver_override sys/class/vtconsole/*/bind)
}
host_is_back() { strix_is_back "$1"; }
profile() { strix_profile "$1" "$2" yes 2 "" "${3:-}"; } # NAME VBIOS [EXTRA LINE]
strix_recorder
g() { "$GPURUN" --root "$T/root" --qemu "$RECORDER" "$@"; }
profile t vfct
profile w none

# --- item 2: a kernel error after the first host change reverts, whatever its errno
start_kernel
# the write to amdgpu's unbind fails (EISDIR) after the audio function moved to vfio-pci
rm "$T/root/sys/bus/pci/drivers/amdgpu/unbind" && mkdir "$T/root/sys/bus/pci/drivers/amdgpu/unbind"
expect_rc 1 "bind: GPU unbind fails after audio moved" g bind --timeout 30 "$T/w.profile"
contains "the cause is said" "$T/err" "Binding failed: Failed to bind $GPU to vfio-pci: Is a directory"
contains "audio was moved before" "$T/fk.err" "$AUD bound to vfio-pci"
contains "and is reverted" "$T/err" "$AUD: snd_hda_intel \\(restored\\)"
check "host back after the failed bind" host_is_back w
expect_rc 1 "run: the same failure" g run --timeout 30 "$T/t.profile"
contains "run says why" "$T/err" "Preparing the host failed: Failed to bind $GPU to vfio-pci: Is a directory"
check "host back after the failed run" host_is_back t
check "staged ROM removed" test ! -e "$T/root/$ROM"
rmdir "$T/root/sys/bus/pci/drivers/amdgpu/unbind" && : >"$T/root/sys/bus/pci/drivers/amdgpu/unbind"
fake_kernel_stop

# ... and with EBUSY (the errno a lock refusal also has), through the fault injector
FAULTLIB=${GPURUN_BUILD:-build}/tools/libfault.so
if [ -f "$FAULTLIB" ]; then
	# the sanitizer build: ASan would refuse a preloaded library ahead of its runtime
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	start_kernel
	# count the host writes once, then fail the one to amdgpu's unbind with EBUSY
	FAULT_ROOT="$T/root" FAULT_LOG="$T/faults.log" LD_PRELOAD="$FAULTLIB" \
		"$GPURUN" --root "$T/root" bind --timeout 30 "$T/w.profile" >/dev/null 2>&1
	"$GPURUN" --root "$T/root" unbind "$T/w.profile" >/dev/null 2>&1
	# the same sequence again: a state dir as the counting run found it (no lock files yet)
	rm -rf "$T/root/run/gpurun"
	n=$(grep -E "^[0-9]+ write sys/bus/pci/drivers/amdgpu/unbind" "$T/faults.log" | head -1 | cut -d' ' -f1)
	check "fault log names the GPU's unbind" test -n "$n"
	FAULT_ROOT="$T/root" FAULT_AT="$n" FAULT_MODE=errno:EBUSY LD_PRELOAD="$FAULTLIB" \
		expect_rc 1 "bind: EBUSY from the GPU's unbind" "$GPURUN" --root "$T/root" bind --timeout 30 "$T/w.profile"
	contains "EBUSY said" "$T/err" "Binding failed: Failed to bind $GPU to vfio-pci: Device or resource busy"
	lacks "not taken for a refusal" "$T/err" "^gpurun: Refusing"
	check "host back after EBUSY" eventually host_is_back w
	fake_kernel_stop
else
	ok "# SKIP $FAULTLIB not built (tests/fault)"
fi

# --- a lock refusal before any change reverts nothing and removes its journal
start_kernel
expect_rc 0 "bind GPU and audio by address" g bind --allow-boot-vga --timeout 30 $GPU $AUD
snap >"$T/before"
expect_rc 1 "run refused by the lock" g run "$T/t.profile"
contains "holder named" "$T/err" "Refusing: $GPU is in use by gpurun VM bind-$GPU \\(journal left\\)"
lacks "nothing reverted" "$T/err" "Reverting"
check "no journal of the refused run" test ! -e "$T/root/run/gpurun/t"
snap >"$T/after"
check "refusal changed nothing" diff -u "$T/before" "$T/after"
expect_rc 0 "unbind them" g unbind $GPU $AUD
fake_kernel_stop

# --- item 4: SIGPIPE at guest exit: the revert still happens, the guest's status is the exit
start_kernel
mkfifo "$T/errpipe"
rm -f "$T/q/started"
cat "$T/errpipe" >/dev/null &
R=$!
RECORDER_QEMU_MODE=wait "$GPURUN" --root "$T/root" --qemu "$RECORDER" run "$T/t.profile" \
	>"$T/bg.out" 2>"$T/errpipe" &
P=$!
wait_file "$T/q/started"
kill $R; wait $R 2>/dev/null
kill -TERM "$(cat "$T/q/started")"
wait $P
rc=$?
check "stderr closed at guest exit: exit 0, not SIGPIPE (rc $rc)" test $rc -eq 0
check "host back after SIGPIPE" host_is_back t
rm -f "$T/errpipe"

# SIGQUIT while the guest runs: passed on as SIGTERM, then the revert
rm -f "$T/q/started" "$T/q/got-signal"
RECORDER_QEMU_MODE=wait "$GPURUN" --root "$T/root" --qemu "$RECORDER" run "$T/t.profile" \
	>"$T/bg.out" 2>"$T/bg.err" &
P=$!
wait_file "$T/q/started"
kill -QUIT $P
wait $P
rc=$?
check "SIGQUIT while the guest runs: exit 0 (rc $rc)" test $rc -eq 0
contains "QEMU got SIGTERM" "$T/q/got-signal" TERM
check "host back after SIGQUIT" host_is_back t
# every other signal that would end gpurun (SIGUSR1, SIGALRM, ...): a stop like SIGTERM, not a
# death that leaves the GPU on vfio-pci
for sig in USR1 USR2 ALRM XCPU; do
	rm -f "$T/q/started" "$T/q/got-signal"
	RECORDER_QEMU_MODE=wait "$GPURUN" --root "$T/root" --qemu "$RECORDER" run "$T/t.profile" \
		>"$T/bg.out" 2>"$T/bg.err" &
	P=$!
	wait_file "$T/q/started"
	kill -$sig $P
	wait $P
	rc=$?
	check "SIG$sig while the guest runs: exit 0 (rc $rc)" test $rc -eq 0
	contains "SIG$sig: QEMU got SIGTERM" "$T/q/got-signal" TERM
	check "host back after SIG$sig" host_is_back t
done
fake_kernel_stop

# SIGQUIT and SIGHUP while binding: the next step is not taken, what was done is reverted (every
# probe takes 3 s: the signal lands while the audio function's bind is under way, also on a
# loaded machine)
for sig in QUIT HUP USR1 ALRM; do
	start_kernel --delay 3000
	"$GPURUN" --root "$T/root" bind "$T/w.profile" >"$T/bg.out" 2>"$T/bg.err" &
	P=$!
	wait_file "$T/fk.err" "$AUD unbound from snd_hda_intel"
	# started with `&` from sh: SIGINT and SIGQUIT came ignored; gpurun takes them back
	ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' "/proc/$P/status")
	check "SIG$sig: SIGINT and SIGQUIT are not left ignored (SigIgn $ign)" test $((0x$ign & 0x6)) -eq 0
	kill -$sig $P
	wait $P
	rc=$?
	check "SIG$sig while binding: exit 1 (rc $rc)" test $rc -eq 1
	contains "SIG$sig: says why" "$T/bg.err" 'Binding failed: interrupted by a signal'
	lacks "SIG$sig: GPU never touched" "$T/fk.err" "$GPU unbound"
	check "host back after SIG$sig while binding" eventually host_is_back w
	fake_kernel_stop
done

# --- item 8: one ROM staging policy
start_kernel
mkdir -p "$T/root/$ROMS"
printf 'not the VFCT image\n' >"$T/root/$ROM"
snap >"$T/before"
expect_rc 1 "run refuses to replace a ROM file gpurun did not create" g run "$T/t.profile"
contains "names the file and the way out" "$T/err" "Refusing: .*$ROM already exists with other content.*move it away, or name it in the profile"
check "the file is kept" grep -qx 'not the VFCT image' "$T/root/$ROM"
snap >"$T/after"
check "nothing changed" diff -u "$T/before" "$T/after"
# an identical file is used as it is, and kept after the run
rm "$T/root/$ROM"
expect_rc 0 "vbios extract writes the same image" g vbios extract -o "$T/root/$ROMS"
cp "$T/root/$ROM" "$T/rom.copy"
RECORDER_QEMU_MODE=exit:0 expect_rc 0 "run with an identical ROM in place" g run "$T/t.profile"
contains "used as it is" "$T/err" "ROM .*$ROM: already staged"
check "kept after the run" cmp -s "$T/root/$ROM" "$T/rom.copy"
check "host back" host_is_back t
# what gpurun created it removes
rm "$T/root/$ROM"
RECORDER_QEMU_MODE=exit:0 expect_rc 0 "run staging a new ROM" g run "$T/t.profile"
contains "QEMU was given the ROM" "$T/q/argv" "romfile=.*$ROM"
check "removed after the run" test ! -e "$T/root/$ROM"
fake_kernel_stop

# --- item 9: inputs are read before the first host change; only regular files
start_kernel
mkfifo "$T/fifo.rom"
profile fifo "$T/fifo.rom"
snap >"$T/before"
expect_rc 1 "vbios = a FIFO is refused at once" timeout 10 "$GPURUN" --root "$T/root" \
	--qemu "$RECORDER" run "$T/fifo.profile"
contains "says what it is" "$T/err" "Refusing: .*$T/fifo.rom: .*not a regular file"
snap >"$T/after"
check "FIFO: nothing changed" diff -u "$T/before" "$T/after"
check "FIFO: no journal" test ! -e "$T/root/run/gpurun/fifo"
mkdir "$T/dir.rom"
profile dir "$T/dir.rom"
expect_rc 1 "vbios = a directory is refused" g run "$T/dir.profile"
contains "directory said" "$T/err" "$T/dir.rom: .*Is a directory"
profile gop vfct "gop = $T/fifo.rom"
expect_rc 1 "gop = a FIFO is refused at once" timeout 10 "$GPURUN" --root "$T/root" \
	--qemu "$RECORDER" bind "$T/gop.profile"
contains "gop: says what it is" "$T/err" "$T/fifo.rom: .*not a regular file"
snap >"$T/after"
check "nothing changed by the refusals" diff -u "$T/before" "$T/after"
lacks "modules were never touched" "$T/err" "not loading"
fake_kernel_stop

# --- item 10: the boot VGA GPU whose console runs on the firmware framebuffer (efifb)
# the strix-halo copy changed so that fb0 is efi-framebuffer.0's, bound to efi-framebuffer
efifb_host() {
	copy_fixture strix-halo
	efifb_fixture "$T/root"
}
efifb_bound() { test "$(readlink "$T/root/sys/devices/platform/efi-framebuffer.0/driver")" = ../../../bus/platform/drivers/efi-framebuffer; }
# the fake kernel takes a platform bind a moment after the write (the real one before write()
# returns): wait for it, up to 10 s
efifb_rebound() {
	i=0
	while [ $i -lt 200 ]; do efifb_bound && return 0; sleep 0.05; i=$((i + 1)); done
	return 1
}
efifb_host
fake_kernel_start "$T/root"
expect_rc 0 "efifb: bind --dry-run PROFILE" g --dry-run bind "$T/w.profile"
contains "efifb: dry run unbinds the framebuffer" "$T/out" "^unbind efi-framebuffer.0 from efi-framebuffer$"
check "efifb: dry run: framebuffer after the console" sh -c \
	"grep -n -e '^unbind console vtcon1' -e '^unbind efi-framebuffer' '$T/out' | head -1 | grep -q console"
check "efifb: dry run changed nothing" efifb_bound
expect_rc 0 "efifb: bind PROFILE" g bind "$T/w.profile"
check "efifb: framebuffer unbound" test ! -e "$T/root/sys/devices/platform/efi-framebuffer.0/driver"
contains "efifb: journalled" "$T/root/run/gpurun/w/journal" "^platform efi-framebuffer.0 efi-framebuffer$"
check "efifb: GPU on vfio-pci" test "$(drv $GPU)" = vfio-pci
expect_rc 0 "efifb: unbind PROFILE" g unbind "$T/w.profile"
check "efifb: framebuffer bound again" efifb_rebound
check "efifb: host back" host_is_back w
fake_kernel_stop
# a bind failing after the framebuffer was let go of gives it back
efifb_host
fake_kernel_start "$T/root" --refuse $GPU
expect_rc 1 "efifb: bind failing at the GPU" g bind --timeout 0.3 "$T/w.profile"
contains "efifb: framebuffer was unbound" "$T/fk.err" "efi-framebuffer.0 unbound from efi-framebuffer"
check "efifb: and bound again" efifb_rebound
check "efifb: host back after the failure" host_is_back w
fake_kernel_stop

# the kernel's EBUSY to the framebuffer's bind is "bound already" only when it is: unbind (a
# revert) that gets it for a framebuffer still unbound must fail, keep its journal, and restore
# must finish
if [ -f "$FAULTLIB" ]; then
	efifb_host
	fake_kernel_start "$T/root"
	expect_rc 0 "efifb EBUSY: bind PROFILE" g bind "$T/w.profile"
	rm -f "$T/faults.log"
	FAULT_ROOT="$T/root" FAULT_LOG="$T/faults.log" LD_PRELOAD="$FAULTLIB" \
		"$GPURUN" --root "$T/root" unbind "$T/w.profile" >/dev/null 2>&1
	check "efifb EBUSY: framebuffer bound again (counting pass)" efifb_rebound
	expect_rc 0 "efifb EBUSY: bind PROFILE again" g bind "$T/w.profile"
	n=$(grep -E "^[0-9]+ write sys/bus/platform/drivers/efi-framebuffer/bind" "$T/faults.log" | head -1 | cut -d' ' -f1)
	check "efifb EBUSY: fault log names the framebuffer's bind" test -n "$n"
	# once: the revert's second pass binds it
	FAULT_ROOT="$T/root" FAULT_AT="$n" FAULT_MODE=errno:EBUSY LD_PRELOAD="$FAULTLIB" \
		expect_rc 0 "efifb EBUSY once: unbind" "$GPURUN" --root "$T/root" unbind "$T/w.profile"
	contains "efifb EBUSY once: said" "$T/err" "Failed to bind efi-framebuffer.0 to efi-framebuffer again: Device or resource busy"
	check "efifb EBUSY once: framebuffer bound again" efifb_rebound
	check "efifb EBUSY once: host back" host_is_back w
	expect_rc 0 "efifb EBUSY: bind PROFILE a third time" g bind "$T/w.profile"
	# from there on: the revert fails
	FAULT_ROOT="$T/root" FAULT_AT="$n+" FAULT_MODE=errno:EBUSY LD_PRELOAD="$FAULTLIB" \
		expect_rc 1 "efifb EBUSY: unbind fails" "$GPURUN" --root "$T/root" unbind "$T/w.profile"
	contains "efifb EBUSY: said" "$T/err" "Failed to bind efi-framebuffer.0 to efi-framebuffer again: Device or resource busy"
	check "efifb EBUSY: framebuffer still unbound" test ! -e "$T/root/sys/devices/platform/efi-framebuffer.0/driver"
	check "efifb EBUSY: journal kept" test -s "$T/root/run/gpurun/w/journal"
	expect_rc 0 "efifb EBUSY: restore finishes" g restore
	check "efifb EBUSY: framebuffer bound after restore" efifb_rebound
	check "efifb EBUSY: host back" host_is_back w
	fake_kernel_stop
fi

# restore when the host driver's module is gone (rmmod amdgpu while the guest ran): the GPU
# is not taken from vfio-pci into no driver at all; it stays, with the journal, until the
# driver is back
start_kernel
expect_rc 0 "no driver: bind PROFILE" g bind "$T/w.profile"
mv "$T/root/sys/bus/pci/drivers/amdgpu" "$T/amdgpu.away"
expect_rc 1 "no driver: restore fails" g restore --timeout 2
contains "no driver: says why and what to do" "$T/err" "Cannot give $GPU back to amdgpu, which is not loaded .*; it stays on vfio-pci: load the module \\(modprobe amdgpu\\) and restore again"
check "no driver: the GPU stays on vfio-pci" test "$(drv $GPU)" = vfio-pci
check "no driver: audio restored" test "$(drv $AUD)" = snd_hda_intel
check "no driver: journal kept" test -s "$T/root/run/gpurun/w/journal"
mv "$T/amdgpu.away" "$T/root/sys/bus/pci/drivers/amdgpu"
expect_rc 0 "no driver: restore once it is back" g restore --timeout 5
check "no driver: host back" eventually host_is_back w
fake_kernel_stop

done_testing
