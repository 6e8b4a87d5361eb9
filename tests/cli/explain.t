#!/bin/sh
# gpurun explain: the log corpus of tests/fixtures/explain (each NAME.log gives the ids of its
# NAME.expect), the report's shapes (--json, stdin, no known cause), and the explanation `gpurun
# run` prints itself after a QEMU that failed, on a copy of the strix-halo fixture with a stub
# QEMU that says what a real one says and a ROOT/dev/kmsg file playing the kernel log.
. tests/cli/lib.sh

CORPUS="$GPURUN_TOP/tests/fixtures/explain"
E="$GPURUN --root $T"
mkdir -p "$T/state"
# ids FILE: what a report says, in the .expect format
ids() {
	sed -n -e 's/^Cause [0-9]*: \([a-z0-9-]*\).*/\1/p' -e 's/^No known cause.*/none/p' \
		-e 's/^Harmless: \([a-z0-9-]*\):.*/harmless \1/p' "$1"
}

# --- the corpus -----------------------------------------------------------------------------
n=0
for log in "$CORPUS"/*.log; do
	name=$(basename "$log" .log)
	n=$((n + 1))
	"$GPURUN" --state-dir "$T/state" explain --log "$log" >"$T/out" 2>"$T/err"
	rc=$?
	ids "$T/out" >"$T/got"
	if [ $rc -eq 0 ] && cmp -s "$T/got" "$CORPUS/$name.expect"; then ok "corpus $name: $(tr '\n' ' ' <"$T/got")"
	else not_ok "corpus $name (exit $rc)"; diff -u "$CORPUS/$name.expect" "$T/got" | sed 's/^/# /'; sed 's/^/# /' "$T/err"; fi
done
check "the corpus has logs" test $n -ge 15
# every id of the table is covered by the corpus
"$GPURUN" explain --help >"$T/help"
for id in group-not-viable intremap-missing romfile-missing rom-unreadable rom-invalid kvm-missing \
	firmware-missing bar-reserved device-dead reset-failed d3-stuck memlock-limit dma-fault \
	device-busy code43-hint; do
	if cat "$CORPUS"/*.expect | grep -qx "$id"; then ok "corpus covers $id"; else not_ok "corpus covers $id"; fi
done

# --- the report -----------------------------------------------------------------------------
expect_rc 0 "explain --log: evidence, fix and source" "$GPURUN" --state-dir "$T/state" explain --log "$CORPUS/intremap-mixed.log"
contains "evidence names file and line" "$T/out" "^  evidence: .*intremap-mixed.log:3: .*No interrupt remapping support"
contains "fix" "$T/out" "^  fix: .*allow_unsafe_interrupts=1"
contains "source" "$T/out" "^  source: .*vfio_iommu_type1.c"
contains "the device" "$T/out" "^Cause 1: intremap-missing on 0000:0b:00.0"
contains "benign line shown as harmless" "$T/out" "^Harmless: ecap-hidden"
contains "the evidence is shortened" "$T/out" "evidence: .*\.\.\.$|evidence: .*intremap-mixed.log:4: \.\.\."
expect_rc 0 "no known cause" "$GPURUN" --state-dir "$T/state" explain --log "$CORPUS/unknown.log"
contains "no known cause: what to collect" "$T/out" "^No known cause; here is what to collect"
contains "collect: the kernel log" "$T/out" "journalctl -k -b"
lacks "no guess" "$T/out" "^Cause"
expect_rc 0 "two logs at once" "$GPURUN" --state-dir "$T/state" explain --log "$CORPUS/rom-unreadable.log" --log "$CORPUS/dma-fault-intel.log"
ids "$T/out" | tr '\n' ' ' >"$T/got"
check "cause before consequence: rom-unreadable, then dma-fault" grep -qx 'rom-unreadable dma-fault ' "$T/got"
"$GPURUN" --state-dir "$T/state" explain --log - <"$CORPUS/bar-reserved.log" >"$T/out" 2>"$T/err"
contains "--log - reads stdin" "$T/out" "^Cause 1: bar-reserved"
# a pipe by name, as `--log <(journalctl -k)` gives one
mkfifo "$T/fifo"
cat "$CORPUS/bar-reserved.log" >"$T/fifo" &
expect_rc 0 "--log FIFO (a process substitution)" "$GPURUN" --state-dir "$T/state" explain --log "$T/fifo"
contains "... is read like a file" "$T/out" "^Cause 1: bar-reserved"
wait
contains "repeated lines counted" "$T/out" "3 more matching lines"
expect_rc 0 "--json" "$GPURUN" --state-dir "$T/state" explain --json --log "$CORPUS/memlock.log"
contains "--json: id" "$T/out" '"causes":\[\{"id":"memlock-limit"'
contains "--json: known_cause" "$T/out" '"known_cause":true'
if command -v python3 >/dev/null 2>&1; then
	check "--json parses" python3 -m json.tool "$T/out"
	"$GPURUN" --state-dir "$T/state" explain --json --log "$CORPUS/unknown.log" >"$T/out2"
	check "--json without a cause parses" python3 -m json.tool "$T/out2"
	contains "--json: collect" "$T/out2" '"known_cause":false,"collect":\["'
	# a log line with control bytes and invalid UTF-8: --json stays UTF-8 JSON, the text
	# report sends no escape sequence to the terminal
	printf 'vfio-pci 0000:0b:00.0: \033]0;x\007\033[2J\377\376 No interrupt remapping support\n' \
		>"$T/hostile.log"
	"$GPURUN" --state-dir "$T/state" explain --json --log "$T/hostile.log" >"$T/out3"
	check "--json of a log with invalid UTF-8 is UTF-8" python3 -c \
		'import json,sys; json.loads(open(sys.argv[1],"rb").read().decode("utf-8"))' "$T/out3"
	contains "--json: the bytes as U+FFFD" "$T/out3" '\\ufffd\\ufffd No interrupt'
	"$GPURUN" --state-dir "$T/state" explain --log "$T/hostile.log" >"$T/out3"
	check "text: no escape byte" sh -c '! grep -q "$(printf "\033")" "$1"' - "$T/out3"
else ok "# SKIP python3 not installed"; fi
# more than explain reads (4 MiB) with the cause at the end: stdin is refused like a file, not
# cut to its first 4 MiB and reported as having no known cause
{ head -c 5000000 /dev/zero | tr '\0' 'x'; echo; cat "$CORPUS/memlock.log"; } >"$T/big.log"
expect_rc 1 "a log over 4 MiB is refused" "$GPURUN" --state-dir "$T/state" explain --log "$T/big.log"
contains "says why" "$T/err" "Failed to read '.*big.log': File too large"
contains "and what to do" "$T/err" "give it the end of the log, where the failure is: .tail -n 20000 FILE \\| gpurun explain --log -."
"$GPURUN" --state-dir "$T/state" explain --log - <"$T/big.log" >"$T/out" 2>"$T/err"
check "stdin over 4 MiB is refused too (exit 1)" test $? -eq 1
contains "says why" "$T/err" "Failed to read stdin: File too large"
contains "and what to do" "$T/err" "explain reads at most 4 MiB"
{ seq 1 300000 | sed 's/^/[ 1.000] usb 1-1: noise line /'; cat "$CORPUS/memlock.log"; } >"$T/big2.log"
tail -n 20000 "$T/big2.log" | "$GPURUN" --state-dir "$T/state" explain --log - >"$T/out" 2>"$T/err"
check "the advice works" grep -q "Cause 1: memlock-limit" "$T/out"
lacks "no report" "$T/out" "No known cause"
expect_rc 1 "a log that cannot be read" "$GPURUN" --state-dir "$T/state" explain --log "$T/nope"
contains "names it" "$T/err" "Failed to read '$T/nope'"
expect_rc 2 "VM and --log exclude each other" "$GPURUN" --state-dir "$T/state" explain vm1 --log "$CORPUS/unknown.log"
expect_rc 1 "a VM without a run record" "$GPURUN" --state-dir "$T/state" explain vm1
contains "says so" "$T/err" "No run of VM 'vm1' is recorded"
expect_rc 2 "no VM and no record" "$GPURUN" --state-dir "$T/state" explain
contains "says what to give" "$T/err" "name the VM or give the log with --log FILE"

# --- gpurun run explains a QEMU that failed -------------------------------------------------
. tests/cli/strix.sh
strix_profile t1
# the stub: QEMU's message on stderr, the kernel's record appended to ROOT/dev/kmsg, exit 1
cat >"$T/qemu" <<EOS
#!/bin/sh
if [ "\${STUB_MODE:-}" = clean ]; then exit 0; fi
echo "qemu-system-x86_64: -device vfio-pci,host=0000:c4:00.0,id=hostdev0: vfio 0000:c4:00.0: failed to setup container for group 14: Failed to set iommu for container: Operation not permitted" >&2
printf '4,2001,%s,-;vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param "allow_unsafe_interrupts" to enable VFIO IOMMU support on this platform\n SUBSYSTEM=vfio\n' 7300000001 >>"$T/root/dev/kmsg"
exit 1
EOS
chmod +x "$T/qemu"
start_kernel
# a kernel record from before the run: not the run's
printf '6,2000,7200000000,-;vfio-pci 0000:c4:00.0: vfio_ecap_init: hiding ecap 0x19@0x270\n' >"$T/root/dev/kmsg"
expect_rc 1 "run: QEMU fails" "$GPURUN" --root "$T/root" --qemu "$T/qemu" run "$T/t1.profile"
contains "QEMU's message still on the terminal" "$T/err" "^qemu-system-x86_64: .*Operation not permitted"
contains "run explains it" "$T/err" "^gpurun explain: QEMU exited with status 1; what QEMU and the kernel said:"
contains "run: the cause" "$T/err" "^Cause 1: intremap-missing on 0000:c4:00.0"
contains "run: QEMU's evidence" "$T/err" "evidence: qemu.log:1: .*Failed to set iommu for container"
contains "run: the kernel's evidence" "$T/err" "evidence: kernel: \[ 7300.000001\] vfio_iommu_type1_attach_group"
lacks "run: not the kernel's messages from before the run" "$T/err" "hiding ecap"
contains "run: after the host is back" "$T/err" "Host restored"
check "the explanation comes after the revert" sh -c "grep -n 'Host restored' '$T/err' | cut -d: -f1 | { read a; b=\$(grep -n '^gpurun explain:' '$T/err' | cut -d: -f1); [ \"\$a\" -lt \"\$b\" ]; }"
contains "run: how to see it again" "$T/err" "again later: gpurun explain t1"
check "QEMU's stderr kept in STATE/VM/qemu.log" grep -q "Failed to set iommu" "$T/root/run/gpurun/t1/qemu.log"
check "the run record is kept" grep -qx "vm t1" "$T/root/run/gpurun/t1/run"
check "the record names the first kernel record of the run" grep -qx "kmsg-seq 2001" "$T/root/run/gpurun/t1/run"
check "no journal left" test ! -e "$T/root/run/gpurun/t1/journal"
expect_rc 0 "explain VM afterwards" "$GPURUN" --root "$T/root" explain t1
contains "explain VM: the same cause" "$T/out" "^Cause 1: intremap-missing"
contains "explain VM: read the QEMU log" "$T/out" "^Read: QEMU log $T/root/run/gpurun/t1/qemu.log \(1 line\); kernel messages since the run started \(1 line\)"
lacks "explain VM: the run's kernel records only" "$T/out" "hiding ecap"
expect_rc 0 "explain without VM: the one recorded" "$GPURUN" --root "$T/root" explain
contains "the one recorded" "$T/out" "^Cause 1: intremap-missing"
expect_rc 0 "explain VM --json" "$GPURUN" --root "$T/root" explain --json t1
contains "--json names the VM" "$T/out" '^\{"vm":"t1"'
# a guest that stops cleanly (and soon) with nothing known in its logs: no report
STUB_MODE=clean expect_rc 0 "run: clean quick stop" "$GPURUN" --root "$T/root" --qemu "$T/qemu" run "$T/t1.profile"
lacks "clean stop without a cause: no explanation" "$T/err" "gpurun explain:"
check "a clean run truncates the old log" test ! -s "$T/root/run/gpurun/t1/qemu.log"
fake_kernel_stop

# --- a run on a remote libvirt node: this machine's log and kernel messages are not its
mkdir -p "$T/root/run/gpurun/r1" "$T/root/var/log/libvirt/qemu"
printf 'gpurun-run 1\nvm r1\nbackend libvirt\nstart-usec 0\nlog-offset 0\nnode qemu+ssh://gpuhost/system\n' >"$T/root/run/gpurun/r1/run"
cp "$CORPUS/bar-reserved.log" "$T/root/var/log/libvirt/qemu/r1.log"
printf '4,3000,7400000000,-;vfio-pci 0000:c4:00.0: BAR 0: can'"'"'t reserve [mem 0xd0000000-0xdfffffff 64bit pref]\n' >"$T/root/dev/kmsg"
expect_rc 0 "explain VM of a run on a remote node" "$GPURUN" --root "$T/root" explain r1
lacks "nothing of this machine's kernel or libvirt log" "$T/out" "^Cause"
contains "says where QEMU's log is" "$T/out" "QEMU log \(not read: on the node qemu\+ssh://gpuhost/system: libvirt keeps it there \(/var/log/libvirt/qemu/r1.log\)"
contains "and the kernel's messages" "$T/out" "kernel messages \(not read: on the node qemu\+ssh://gpuhost/system: .journalctl -k. there"
done_testing
