#!/bin/sh
# gpurun run / restore on a copy of the strix-halo fixture, with tests/tools/fake-kernel playing
# sysfs and tests/tools/qemu-recorder playing QEMU. Never touches the real /sys.
. tests/cli/lib.sh

. tests/cli/strix.sh
snap() {
	(cd "$T/root" && find . -printf '%p %l %s\n' | sort &&
		cat sys/bus/pci/devices/*/driver_override sys/class/vtconsole/*/bind)
}
host_is_back() { strix_is_back "$1"; }
profile() { strix_profile "$1" vfct "${2:-yes}"; } # NAME [allow-boot-vga]
profile t1
profile t2
profile novga no
mkdir -p "$T/q"
export RECORDER_QEMU_DIR="$T/q" RECORDER_QEMU_ROOT="$T/root" RECORDER_QEMU_WATCH="$GPU $AUD"
run() { "$GPURUN" --root "$T/root" --qemu "$RECORDER" "$@"; }

# --- dry run: every action printed, nothing changed
start_kernel
snap >"$T/before"
expect_rc 0 "dry run" run --dry-run run "$T/t1.profile"
snap >"$T/after"
check "dry run changes nothing" cmp -s "$T/before" "$T/after"
contains "dry run: bind audio" "$T/out" "^bind $AUD: snd_hda_intel -> vfio-pci"
contains "dry run: bind gpu" "$T/out" "^bind $GPU: amdgpu -> vfio-pci"
contains "dry run: console" "$T/out" '^unbind console vtcon1'
contains "dry run: ROM" "$T/out" '^stage ROM .*vbios_1002_1586.bin from vfct:0000:c4:00.0'
contains "dry run: QEMU argv" "$T/out" "vfio-pci,host=$GPU"
check "dry run: no QEMU" test ! -e "$T/q/started"
# what each runner row would start: swtpm, then QEMU; or a transient libvirt domain
profile dtpm
sed -i 's/^firmware = bios$/firmware = uefi\ntpm = yes/' "$T/dtpm.profile"
if command -v swtpm >/dev/null; then
	expect_rc 0 "dry run with tpm" run --dry-run run "$T/dtpm.profile"
	contains "dry run: swtpm" "$T/out" '^start swtpm socket --tpm2 --tpmstate dir=.*_tpm --ctrl type=unixio,path=.*/dtpm\.swtpm\.sock$'
	check "dry run: swtpm before QEMU" sh -c "grep -n -e '^start swtpm' -e '^exec:' '$T/out' | head -1 | grep -q swtpm"
else
	expect_rc 1 "dry run with tpm, no swtpm here: refused" run --dry-run run "$T/dtpm.profile"
	ok "# SKIP swtpm not installed: the dry run's swtpm line"
	ok "# SKIP swtpm not installed: the order of swtpm and QEMU"
fi
profile dlv
sed -i 's/^network = none$/network = none\nbackend = libvirt/' "$T/dlv.profile"
expect_rc 0 "dry run, libvirt" run --dry-run --connect test:///default run "$T/dlv.profile"
contains "dry run: transient domain" "$T/out" "^start transient domain 'dlv' on test:///default$"
lacks "dry run, libvirt: no QEMU" "$T/out" '^(exec:|start swtpm)'
snap >"$T/after"
check "dry runs change nothing" cmp -s "$T/before" "$T/after"

# --- refusals
expect_rc 1 "boot VGA refused" run run "$T/novga.profile"
contains "names the override" "$T/err" 'Refusing: .*--allow-boot-vga'
snap >"$T/after"
check "refusal changes nothing" cmp -s "$T/before" "$T/after"
expect_rc 0 "--allow-boot-vga overrides (dry run)" run --dry-run run --allow-boot-vga "$T/novga.profile"

printf '[vm]\nname = s\nfirmware = bios\n[gpu]\ndevice = 1002:73df\nvbios = none\nallow-boot-vga = yes\n' >"$T/s.profile"
expect_rc 1 "group not viable refused" "$GPURUN" --root "$FIX/shared-group" --dry-run run "$T/s.profile"
contains "reason" "$T/err" 'Refusing: IOMMU group .* also holds '
lacks "no override advertised" "$T/err" 'override: --force'
# --force cannot make a partly bound group work (the kernel refuses to open it): still refused
expect_rc 1 "--force does not override it (dry run)" "$GPURUN" --root "$FIX/shared-group" --dry-run \
	run --force "$T/s.profile"
contains "says why --force cannot" "$T/err" 'Refusing: IOMMU group .* also holds .*; --force cannot override it: the kernel refuses to open an IOMMU group while another member keeps its host driver\. Pass the whole group'
lacks "no override said" "$T/err" "Overriding 'group-viable'"
printf '[vm]\nname = o\nfirmware = bios\n[gpu]\ndevice = 1002:744c\nvbios = none\n' >"$T/o.profile"
expect_rc 1 "IOMMU off refused" "$GPURUN" --root "$FIX/iommu-off" --dry-run run --force "$T/o.profile"
contains "IOMMU reason" "$T/err" 'Refusing: The IOMMU is off'

# --- full cycle: bind, QEMU exits 0, revert
rm -f "$T/q/started"
RECORDER_QEMU_MODE=exit:0 expect_rc 0 "run: QEMU exit 0" run -v run --timeout 30 "$T/t1.profile"
contains "QEMU ran with GPU on vfio-pci" "$T/q/drivers" "^$GPU vfio-pci$"
contains "QEMU ran with audio on vfio-pci" "$T/q/drivers" "^$AUD vfio-pci$"
contains "argv: GPU" "$T/q/argv" "host=$GPU"
contains "argv: ROM" "$T/q/argv" "romfile=.*vbios_1002_1586.bin"
# Everything gpurun opens for a run (state dir, journal, locks, sysfs) lives under $T/root; the
# recorder's own script is open too, from wherever the checkout is.
# ... but for the VM lock, which QEMU inherits on purpose: restore sees the guest alive by it
grep -v " -> $T/root/run/gpurun/t1/lock\$" "$T/q/fds" >"$T/q/fds.other"
lacks "no journal or lock fd leaked into QEMU" "$T/q/fds.other" " -> $T/root/"
contains "QEMU holds the VM lock" "$T/q/fds" " -> $T/root/run/gpurun/t1/lock$"
check "host back after run" host_is_back t1
contains "says what it restored" "$T/err" "$GPU: amdgpu \\(restored\\)"
contains "-v: time to exec" "$T/err" 'Time from start to QEMU exec: [0-9]+ ms'
contains "-v: time to revert" "$T/err" 'Time from guest exit to end of revert: [0-9]+ ms'
contains "audio before GPU" "$T/fk.err" "$AUD unbound from snd_hda_intel"
check "audio unbound first" sh -c "grep -n 'unbound from' '$T/fk.err' | head -1 | grep -q '$AUD'"
check "staged ROM removed again" test ! -e "$T/root/var/lib/gpurun/roms/vbios_1002_1586.bin"

# --- --log: QEMU's output in the state dir; `gpurun PROFILE` is `gpurun run PROFILE`
expect_rc 0 "gpurun PROFILE --log" "$GPURUN" --root "$T/root" --qemu "$RECORDER" "$T/t1.profile" --log
contains "QEMU output logged" "$T/root/run/gpurun/t1/qemu.log" '^qemu-recorder: exit:0$'
lacks "not on the terminal" "$T/out" 'qemu-recorder'
check "host back after logged run" host_is_back t1

# --- QEMU exits non-zero / dies of a signal / cannot be executed
RECORDER_QEMU_MODE=exit:3 expect_rc 1 "QEMU exit 3 fails the run" run run "$T/t1.profile"
contains "status reported" "$T/err" 'QEMU exited with status 3'
check "host back after QEMU failure" host_is_back t1
RECORDER_QEMU_MODE=signal:KILL expect_rc 1 "QEMU killed" run run "$T/t1.profile"
contains "signal reported" "$T/err" 'QEMU was killed by signal 9'
check "host back after QEMU crash" host_is_back t1
expect_rc 1 "QEMU missing: refused before any change" "$GPURUN" --root "$T/root" --qemu "$T/no-such-qemu" run "$T/t1.profile"
contains "refusal names it" "$T/err" 'Refusing: QEMU .*no-such-qemu: no such file'
lacks "nothing bound" "$T/err" 'bind'
# a QEMU that is there but cannot be executed after all (its interpreter is gone): exec fails
# after the binds, and run reverts
printf '#!/no/such/interpreter\n' >"$T/bad-qemu"
chmod 755 "$T/bad-qemu"
expect_rc 1 "QEMU exec fails" "$GPURUN" --root "$T/root" --qemu "$T/bad-qemu" run "$T/t1.profile"
contains "exec error" "$T/err" 'Failed to execute .*bad-qemu: No such file'
check "host back after exec failure" host_is_back t1

# --- SIGTERM to gpurun while the guest runs: forwarded, then revert
rm -f "$T/q/started" "$T/q/got-signal"
RECORDER_QEMU_MODE=wait "$GPURUN" --root "$T/root" --qemu "$RECORDER" run "$T/t1.profile" >"$T/bg.out" 2>"$T/bg.err" &
P=$!
wait_file "$T/q/started"
kill -TERM $P
wait $P
rc=$?
check "SIGTERM: gpurun exits 0 after QEMU stopped cleanly" test $rc -eq 0
contains "SIGTERM forwarded to QEMU" "$T/q/got-signal" TERM
check "host back after SIGTERM" host_is_back t1

# --- the lock: a second VM asking for the same GPU is refused and changes nothing
rm -f "$T/q/started"
RECORDER_QEMU_MODE=wait "$GPURUN" --root "$T/root" --qemu "$RECORDER" run "$T/t1.profile" >"$T/bg.out" 2>"$T/bg.err" &
P=$!
wait_file "$T/q/started"
snap >"$T/before"
expect_rc 1 "second VM refused" run run "$T/t2.profile"
contains "lock names the holder" "$T/err" "$GPU is in use by gpurun VM t1 \\(pid $P\\)"
expect_rc 1 "same VM twice refused" run run "$T/t1.profile"
contains "running VM named" "$T/err" "VM 't1' is already run by gpurun \\(pid $P\\)"
expect_rc 1 "restore refuses a live run" run restore t1
snap >"$T/after"
check "refused runs changed nothing" cmp -s "$T/before" "$T/after"
kill -INT $P
wait $P
check "host back after SIGINT" host_is_back t1

# --- SIGKILL: the journal survives, restore reverts
rm -f "$T/q/started"
RECORDER_QEMU_MODE=wait "$GPURUN" --root "$T/root" --qemu "$RECORDER" run "$T/t1.profile" >"$T/bg.out" 2>"$T/bg.err" &
P=$!
wait_file "$T/q/started"
kill -KILL $P
wait $P 2>/dev/null
Q=$(cat "$T/q/started")
check "after SIGKILL the GPU is still on vfio-pci" test "$(drv $GPU)" = vfio-pci
check "journal left" test -s "$T/root/run/gpurun/t1/journal"
# issue 12, item 3: QEMU still runs the guest; restore must not take the devices from under it
snap >"$T/before"
expect_rc 1 "restore refuses while the QEMU of a killed gpurun runs" run restore
contains "says who" "$T/err" "VM 't1' is still running in QEMU pid $Q \\(its gpurun, pid $P, is gone\\)"
contains "offers --force" "$T/err" 'override: `gpurun restore --force t1`'
expect_rc 1 "a new run refuses while that QEMU runs" run run "$T/t1.profile"
contains "names QEMU" "$T/err" "VM 't1' is still running in QEMU pid $Q"
expect_rc 1 "unbind refuses while that QEMU runs" run unbind $GPU
snap >"$T/after"
check "refusals changed nothing" cmp -s "$T/before" "$T/after"
kill "$Q" 2>/dev/null
check "QEMU gone" wait_gone "$Q"
expect_rc 1 "a new run refuses until restored" run run "$T/t1.profile"
contains "says restore" "$T/err" 'run `gpurun restore t1`'
expect_rc 0 "restore" run restore
contains "restore reports" "$T/err" "$AUD: snd_hda_intel \\(restored\\)"
check "host back after restore" host_is_back t1
expect_rc 0 "restore again: nothing to do" run restore
contains "nothing left" "$T/err" 'Nothing to restore'

# --- killed between journal entry and action: the entry names a change never made
mkdir -p "$T/root/run/gpurun/t1"
printf 'gpurun-journal 1 t1 999999\nmodule vfio_pci\nbind %s driver=snd_hda_intel override=\n' \
	$AUD >"$T/root/run/gpurun/t1/journal"
expect_rc 0 "restore: entry without action" run restore t1
check "host unchanged by that restore" host_is_back t1
# ... and after the override was written but before the unbind
mkdir -p "$T/root/run/gpurun/t1"
printf 'gpurun-journal 1 t1 999999\nbind %s driver=amdgpu override=\nbind %s driver=snd_hda_intel ov' \
	$GPU $AUD >"$T/root/run/gpurun/t1/journal"
printf 'vfio-pci\n' >"$T/root/sys/bus/pci/devices/$GPU/driver_override"
expect_rc 0 "restore: override written, cut-short last line ignored" run restore t1
check "override cleared" host_is_back t1
# ... a step that fails: warned, the others still done, the journal kept for a later restore
mkdir -p "$T/root/run/gpurun/t1"
printf 'gpurun-journal 1 t1 999999\nbind %s driver=amdgpu override=\nbind %s driver=no_such_drv override=\n' \
	$GPU $AUD >"$T/root/run/gpurun/t1/journal"
printf 'vfio-pci\n' >"$T/root/sys/bus/pci/devices/$GPU/driver_override"
expect_rc 1 "restore with a failing step" run restore --timeout 0.3 t1
contains "failure warned" "$T/err" "Failed to give $AUD back to no_such_drv"
contains "final driver said" "$T/err" "$AUD: snd_hda_intel, expected no_such_drv"
contains "later step still done" "$T/err" "$GPU: amdgpu \\(restored\\)"
contains "journal kept" "$T/err" 'incomplete .*run `gpurun restore t1`'
check "journal still there" test -s "$T/root/run/gpurun/t1/journal"
rm -rf "$T/root/run/gpurun/t1"
mkdir -p "$T/root/run/gpurun/t1"
printf 'gpurun-journal 1 t1 1\nbind\n' >"$T/root/run/gpurun/t1/journal"
expect_rc 1 "corrupt journal refused" run restore t1
contains "names file and line" "$T/err" 'run/gpurun/t1/journal:2: not a gpurun journal line'
rm -rf "$T/root/run/gpurun/t1"
fake_kernel_stop

# --- tpm = yes: swtpm listens before QEMU starts and is stopped afterwards
if command -v swtpm >/dev/null; then
	start_kernel
	profile tpm
	sed -i 's/^firmware = bios$/firmware = uefi\ntpm = yes/' "$T/tpm.profile"
	expect_rc 0 "run with tpm" run run "$T/tpm.profile"
	contains "swtpm socket listening when QEMU started" "$T/q/sockets" '^listening .*tpm.swtpm.sock$'
	contains "argv: tpm device" "$T/q/argv" '^tpm-crb,tpmdev=gpurun-tpm$'
	check "swtpm stopped" sh -c "! pgrep -f '[s]wtpm socket.*$T/root' >/dev/null"
	check "host back after tpm run" host_is_back tpm
	fake_kernel_stop
else
	ok "# SKIP swtpm not installed"
fi

# --- backend libvirt against the test driver: transient domain, destroyed on SIGTERM
if ls /usr/lib/*/libvirt.so.0 >/dev/null 2>&1; then
	start_kernel
	profile lv
	sed -i 's/^network = none$/network = none\nbackend = libvirt\naccel = tcg/' "$T/lv.profile"
	"$GPURUN" --root "$T/root" --connect test:///default run -v "$T/lv.profile" \
		>"$T/bg.out" 2>"$T/bg.err" &
	P=$!
	check "libvirt: -v times the creation while the domain runs" \
		wait_file "$T/bg.err" 'Time from start to domain creation'
	check "libvirt: devices on vfio-pci while the domain runs" test "$(drv $GPU)" = vfio-pci
	kill -TERM $P
	wait $P
	check "libvirt: exit 0 after destroy" test $? -eq 0
	contains "libvirt: domain destroyed" "$T/bg.err" 'Received Terminated, destroyed the guest'
	check "host back after libvirt run" host_is_back lv
	expect_rc 1 "libvirt error shown" "$GPURUN" --root "$T/root" --connect test:///no/such/file.xml \
		run "$T/lv.profile"
	contains "libvirt's message" "$T/err" 'Failed to connect to libvirt: .*no/such/file.xml'
	check "host back after libvirt error" host_is_back lv
	fake_kernel_stop
else
	ok "# SKIP libvirt.so.0 not installed"
fi

# --- SIGTERM while preparing: the next step is not taken, what was done is reverted
start_kernel --delay 1000
rm -f "$T/q/started"
"$GPURUN" --root "$T/root" --qemu "$RECORDER" run "$T/t1.profile" >"$T/bg.out" 2>"$T/bg.err" &
P=$!
# the fake kernel answers each request after 1 s, slower still under the sanitizers and load:
# the signal must come after the first change, whatever the machine
check "audio unbound before SIGTERM" wait_file "$T/fk.err" "$AUD unbound from snd_hda_intel" 60
kill -TERM $P
wait $P
check "SIGTERM while preparing: exit 1" test $? -eq 1
contains "says why" "$T/bg.err" 'Preparing the host failed: interrupted by a signal'
lacks "GPU never touched" "$T/fk.err" "$GPU unbound"
check "QEMU never started after SIGTERM" test ! -e "$T/q/started"
check "host back after SIGTERM while preparing" host_is_back t1
fake_kernel_stop

# --- a bind that fails halfway: audio bound, GPU refused by vfio-pci, audio given back
start_kernel --refuse $GPU
rm -f "$T/q/started"
# (3 s: the audio function must bind in that time on a loaded machine; the GPU never does)
expect_rc 1 "bind failing halfway" run run --timeout 3 "$T/t1.profile"
contains "reason given" "$T/err" "$GPU did not bind to vfio-pci within 3000 ms \\(driver: none\\)"
check "QEMU never started" test ! -e "$T/q/started"
check "host back after failed bind" host_is_back t1
fake_kernel_stop

done_testing
