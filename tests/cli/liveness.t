#!/bin/sh
# Issue 12: liveness, every journal state a crash can leave, a hostile state dir, unbind after a
# killed bind. On a copy of the strix-halo fixture with tests/tools/fake-kernel playing sysfs and
# tests/tools/qemu-recorder playing QEMU. Never touches the real /sys.
. tests/cli/lib.sh

. tests/cli/strix.sh
S="$T/root/run/gpurun"
snap() { # the host: everything but the state dir
	(cd "$T/root" && find . -path ./run -prune -o -printf '%p %l %s %m %u\n' | sort &&
		cat sys/bus/pci/devices/*/driver_override sys/class/vtconsole/*/bind)
}
host_is_back() { strix_drivers_back && [ ! -e "$S/$1/journal" ] && [ ! -e "$T/root/dev/vfio/14" ]; }
strix_profile t1 none
strix_recorder
g() { "$GPURUN" --root "$T/root" --qemu "$RECORDER" "$@"; }
# the fake kernel truncates what it handled a moment after the write: compare once it settled
same_as_before() {
	_k=0
	while [ $_k -lt 40 ]; do
		snap >"$T/after"
		if cmp -s "$T/before" "$T/after"; then return 0; fi
		sleep 0.05; _k=$((_k + 1))
	done
	diff "$T/before" "$T/after" | sed 's/^/# /'
	return 1
}
journal() { # VM CONTENT (printf format, no arguments)
	mkdir -p "$S/$1" && printf "$2" >"$S/$1/journal"
}

# --- item 1: restore while a run is still preparing (stopped after creating its journal, before
# its first bind entry)
start_kernel --delay 400
rm -f "$T/q/started"
RECORDER_QEMU_MODE=wait "$GPURUN" --root "$T/root" --qemu "$RECORDER" run "$T/t1.profile" \
	>"$T/bg.out" 2>"$T/bg.err" &
P=$!
wait_file "$S/t1/journal" "^module" # its device locks are taken, no function bound yet
kill -STOP $P
sleep 1 # the fake kernel finishes a probe already under way
snap >"$T/before"
cp "$S/t1/journal" "$T/journal.before"
expect_rc 1 "restore refuses a run that is preparing" g restore
contains "says who" "$T/err" "Not restoring: VM 't1' is already run by gpurun \\(pid $P\\), preparing the host"
contains "offers --force" "$T/err" 'override: `gpurun restore --force t1`'
expect_rc 1 "restore t1 as well" g restore t1
expect_rc 1 "unbind of its devices as well" g unbind $GPU
expect_rc 1 "and a second run of the VM" g run "$T/t1.profile"
contains "the run names the holder" "$T/err" "VM 't1' is already run by gpurun \\(pid $P\\)"
check "the host untouched" same_as_before
check "the journal untouched" cmp -s "$T/journal.before" "$S/t1/journal"
kill -CONT $P
check "the run goes on to start its guest" wait_file "$T/q/started"
Q=$(cat "$T/q/started")
expect_rc 1 "restore refuses while gpurun runs the guest" g restore t1
contains "names gpurun and QEMU" "$T/err" "already run by gpurun \\(pid $P\\), QEMU pid $Q running it"
# --- item 3: gpurun killed, its QEMU goes on
kill -KILL $P
wait $P 2>/dev/null
expect_rc 1 "restore refuses while the QEMU lives" g restore t1
contains "names QEMU" "$T/err" "VM 't1' is still running in QEMU pid $Q \\(its gpurun, pid $P, is gone\\)"
check "both functions stay with the guest" test "$(drv $GPU) $(drv $AUD)" = "vfio-pci vfio-pci"
kill "$Q"
check "QEMU gone" wait_gone "$Q"
expect_rc 0 "restore after the QEMU is gone" g restore
check "host back" host_is_back t1
check "its lock went with the journal" test ! -e "$S/t1/lock"

# --force: restore takes the devices from a running guest when told to
rm -f "$T/q/started"
RECORDER_QEMU_MODE=wait "$GPURUN" --root "$T/root" --qemu "$RECORDER" run "$T/t1.profile" \
	>"$T/bg.out" 2>"$T/bg.err" &
P=$!
wait_file "$T/q/started"
Q=$(cat "$T/q/started")
kill -KILL $P
wait $P 2>/dev/null
expect_rc 0 "restore --force under a live QEMU" g restore --force t1
contains "says what it overrode" "$T/err" "Restoring VM 't1' although it is still running in QEMU pid $Q .*\\(--force\\)"
check "host back after --force" host_is_back t1
kill "$Q"
wait_gone "$Q"
fake_kernel_stop

# --- item 6: every journal state a crash before the first change can leave
start_kernel
for state in empty header-cut header-only header-partial; do
	snap >"$T/before"
	case $state in
	empty) journal t1 '' ;;
	header-cut) journal t1 'gpurun-journal 1 t1 4' ;;
	header-only) journal t1 'gpurun-journal 1 t1 4\n' ;;
	header-partial) journal t1 'gpurun-journal 1 t1 4\nbind 0000:c4:00.1 driv' ;;
	esac
	expect_rc 0 "$state journal: restore removes it" g restore
	contains "$state: says so" "$T/err" "VM 't1': the journal .*/t1/journal named no change .*Nothing to undo: removed it"
	check "$state: journal gone" test ! -e "$S/t1/journal"
	check "$state: nothing else changed" same_as_before
	case $state in
	empty) journal t1 '' ;;
	header-cut) journal t1 'gpurun-journal 1 t1 4' ;;
	header-only) journal t1 'gpurun-journal 1 t1 4\n' ;;
	header-partial) journal t1 'gpurun-journal 1 t1 4\nbind 0000:c4:00.1 driv' ;;
	esac
	RECORDER_QEMU_MODE=exit:0 expect_rc 0 "$state journal: run takes it over" g run "$T/t1.profile"
	contains "$state: run says so" "$T/err" "Took over the journal of VM 't1'"
	check "$state: host back after the run" host_is_back t1
done
# a device that is gone since: reported, counted as done, the rest restored
journal t1 "gpurun-journal 1 t1 4\nbind 0000:c5:00.0 driver=amdgpu override=\nbind $AUD driver=snd_hda_intel override=\n"
printf 'vfio-pci\n' >"$T/root/sys/bus/pci/devices/$AUD/driver_override"
expect_rc 0 "restore with a device no longer present" g restore t1
contains "the vanished device reported" "$T/err" "0000:c5:00.0 is no longer present on this host: nothing to give back, counted as done"
check "the rest restored" host_is_back t1

# --- item 7: `bind` killed after its module entries, then unbind of the same addresses
journal "bind-$GPU" "gpurun-journal 1 bind-$GPU 4\nmodule vfio_pci\nmodule vfio_iommu_type1\n"
expect_rc 0 "unbind after a bind killed before its first function" g unbind $GPU $AUD
check "its journal is gone" test ! -e "$S/bind-$GPU/journal"
check "both functions on their drivers" test "$(drv $GPU) $(drv $AUD)" = "amdgpu snd_hda_intel"
expect_rc 0 "the next bind is not refused" g bind --allow-boot-vga $GPU $AUD
expect_rc 0 "... and unbinds" g unbind $GPU $AUD
check "host back after bind + unbind" test "$(drv $GPU) $(drv $AUD)" = "amdgpu snd_hda_intel"
fake_kernel_stop

# --- item 5: a state dir other users can write, and hostile state files
start_kernel
mkdir -p "$T/victim" && echo keep >"$T/victim/file" && : >"$T/victim/bind"
plant() { # DIR: the attack of issue 12 item 5, a journal whose revert removes a file outside
	mkdir -p "$1/t1"
	printf 'gpurun-journal 1 t1 4\nrom %s new\n' "$T/victim/file" >"$1/t1/journal"
}
snap >"$T/before"
mkdir -p "$T/open" && chmod 1777 "$T/open"
plant "$T/open"
chown -R 65534 "$T/open/t1" 2>/dev/null
expect_rc 1 "a world-writable state dir is refused" g --state-dir "$T/open" restore
contains "names it and why" "$T/err" "$T/open: writable by group or others \\(mode 1777\\)"
expect_rc 1 "run refuses it too" g --state-dir "$T/open" run "$T/t1.profile"
contains "run names it" "$T/err" "$T/open: writable by group or others"
check "the victim file is still there" test -s "$T/victim/file"
check "nothing written outside" test ! -s "$T/victim/bind"
chmod 0700 "$T/open"
chown 65534 "$T/open"
expect_rc 1 "a state dir owned by another user is refused" g --state-dir "$T/open" restore t1
contains "names the owner" "$T/err" "$T/open: owned by uid 65534, not by uid 0"
chown 0 "$T/open"
expect_rc 1 "a VM dir owned by another user is refused" g --state-dir "$T/open" restore t1
contains "names the VM dir" "$T/err" "$T/open/t1: owned by uid 65534"
chown -R 0 "$T/open/t1"
chown 65534 "$T/open/t1/journal"
expect_rc 1 "a journal owned by another user is refused" g --state-dir "$T/open" restore t1
contains "names the journal" "$T/err" "$T/open/t1/journal: owned by uid 65534"
chown 0 "$T/open/t1/journal"
chmod 0666 "$T/open/t1/journal"
expect_rc 1 "a journal others can write is refused" g --state-dir "$T/open" restore t1
contains "says the mode" "$T/err" "$T/open/t1/journal: writable by group or others \\(mode 0666\\)"
chmod 0600 "$T/open/t1/journal"
expect_rc 1 "a ROM path outside the staging dirs is refused" g --state-dir "$T/open" restore t1
contains "names file, line and path" "$T/err" "$T/open/t1/journal:2: not a gpurun journal line \\(a ROM path outside gpurun's staging directories: '$T/victim/file'\\)"
printf 'gpurun-journal 1 t1 4\nplatform x %s\n' "../../../../../../../../../$T/victim" >"$T/open/t1/journal"
expect_rc 1 "a platform driver with a path is refused" g --state-dir "$T/open" restore t1
contains "names the line" "$T/err" "$T/open/t1/journal:2: not a gpurun journal line"
printf 'gpurun-journal 1 t1 4\nmodule ext4\n' >"$T/open/t1/journal"
expect_rc 1 "a module gpurun never loads is refused" g --state-dir "$T/open" restore t1
contains "says why" "$T/err" "journal:2: not a gpurun journal line \\(not a module gpurun loads: 'ext4'\\)"
printf 'gpurun-journal 1 t1 4\nvtcon vtcon1x 1\n' >"$T/open/t1/journal"
expect_rc 1 "a console gpurun never unbinds is refused" g --state-dir "$T/open" restore t1
printf 'gpurun-journal 1 other 4\nmodule vfio_pci\n' >"$T/open/t1/journal"
expect_rc 1 "a journal of another VM's name is refused" g --state-dir "$T/open" restore t1
contains "says so" "$T/err" "journal:1: the journal names VM 'other' but lies in the directory of VM 't1'"
rm -rf "$T/open/t1"
mkdir -p "$T/elsewhere" && printf 'gpurun-journal 1 t1 4\nmodule vfio_pci\n' >"$T/elsewhere/journal"
ln -s "$T/elsewhere" "$T/open/t1"
expect_rc 1 "a VM dir that is a symlink is refused" g --state-dir "$T/open" restore t1
contains "a symlink, named" "$T/err" "$T/open/t1: a symbolic link: refusing to follow it"
expect_rc 1 "... also when restore lists the VMs" g --state-dir "$T/open" restore
contains "listed, then refused" "$T/err" "$T/open/t1: a symbolic link"
rm "$T/open/t1" && mkdir "$T/open/t1"
ln -s "$T/elsewhere/journal" "$T/open/t1/journal"
expect_rc 1 "a journal that is a symlink is refused" g --state-dir "$T/open" restore t1
contains "names it" "$T/err" "$T/open/t1/journal: a symbolic link"
rm "$T/open/t1/journal" && mkfifo "$T/open/t1/journal"
expect_rc 1 "a FIFO in place of the journal is refused without blocking" timeout 5 "$GPURUN" --root "$T/root" --state-dir "$T/open" restore t1
contains "not a regular file" "$T/err" "$T/open/t1/journal: not a regular file"
rm "$T/open/t1/journal"
ln -sf "$T/victim/file" "$T/open/t1/lock"
printf 'gpurun-journal 1 t1 4\nmodule vfio_pci\n' >"$T/open/t1/journal"
expect_rc 1 "a lock that is a symlink is refused" g --state-dir "$T/open" restore t1
contains "names the lock" "$T/err" "$T/open/t1/lock: a symbolic link"
expect_rc 1 "run refuses it too" g --state-dir "$T/open" run "$T/t1.profile"
check "the lock's target untouched" test "$(cat "$T/victim/file")" = keep
rm -rf "$T/open/t1"
mkdir -p "$T/open/locks" && chmod 0777 "$T/open/locks"
RECORDER_QEMU_MODE=exit:0 expect_rc 1 "a locks dir others can write is refused" g --state-dir "$T/open" run "$T/t1.profile"
contains "names the locks dir" "$T/err" "$T/open/locks: writable by group or others"
check "the refused run left no journal" test ! -e "$T/open/t1/journal"
check "the hostile state changed nothing on the host" same_as_before
fake_kernel_stop

# --- libvirt: a domain that is still active keeps restore away (test:///default has a running
# domain named "test")
if ls /usr/lib/*/libvirt.so.0 >/dev/null 2>&1; then
	start_kernel
	journal t1 "gpurun-journal 1 t1 4\nbind $AUD driver=snd_hda_intel override=\n"
	printf 'gpurun 4 1\nlibvirt test test:///default\n' >"$S/t1/lock"
	expect_rc 1 "restore refuses while the libvirt domain is active" g restore t1
	contains "names the domain" "$T/err" "VM 't1' is still running as libvirt domain 'test' on test:///default"
	printf 'gpurun 4 1\nlibvirt t1 test:///default\n' >"$S/t1/lock"
	expect_rc 0 "restore once the domain is gone" g restore t1
	check "host back after the libvirt guest" host_is_back t1
	fake_kernel_stop
else
	ok "# SKIP libvirt.so.0 not installed"
fi

done_testing
