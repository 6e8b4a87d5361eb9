#!/bin/sh
# contrib/: the libvirt qemu hook, the Proxmox hookscript, the systemd unit and the bash
# completion, run against a copy of a fixture root with a recorder gpurun that records its argv,
# and (where the command exists) against the real binary.
. tests/cli/lib.sh

HOOK=$GPURUN_TOP/contrib/libvirt-hook/qemu
PVE=$GPURUN_TOP/contrib/proxmox/gpurun-hookscript
UNIT=$GPURUN_TOP/contrib/systemd/gpurun@.service
COMP=$(cd "$GPURUN_TOP" && pwd)/contrib/bash-completion/gpurun

if [ -d "$FIX/strix-halo" ]; then
	copy_fixture strix-halo
else
	echo "# fixture strix-halo missing: the hook tests use an empty root"
	mkdir -p "$T/root"
fi
R=$T/root
mkdir -p "$R/etc/gpurun"

# The recorder appends one line per call to $T/argv; it fails when its argv matches $RECORDER_FAIL.
cat >"$T/recorder" <<'EOF'
#!/bin/sh
echo "$*" >>"$RECORDER_LOG"
case "$*" in *${RECORDER_FAIL:-no-such-argv}*) exit 1 ;; esac
exit 0
EOF
chmod 755 "$T/recorder"
RECORDER_LOG=$T/argv
export RECORDER_LOG
reset_log() { : >"$T/argv"; }
# rc_is WANT RC DESCRIPTION (keeps $T/out and $T/err of the command for later checks)
rc_is() {
	if [ "$2" -eq "$1" ]; then ok "$3"; else
		not_ok "$3 (exit $2, wanted $1)"; sed 's/^/# /' "$T/out" "$T/err"; fi
}
# calls WANT DESCRIPTION: the recorder ran exactly WANT (lines joined by '|'), or nothing for ""
calls() {
	got=$(tr '\n' '|' <"$T/argv" | sed 's/|$//')
	if [ "$got" = "$1" ]; then ok "$2"; else not_ok "$2: got '$got', wanted '$1'"; fi
}

# --- libvirt hook ---------------------------------------------------------------------------
check "hook is POSIX sh" sh -n "$HOOK"
[ -x "$HOOK" ] && ok "hook is executable" || not_ok "hook is executable"

printf '[vm]\nname = win11\n[gpu]\ndevice = 1002:1586\n' >"$R/etc/gpurun/win11.profile"
cp "$R/etc/gpurun/win11.profile" "$R/etc/gpurun/plain.profile"
cp "$R/etc/gpurun/win11.profile" "$R/etc/gpurun/a&b.profile"
meta_xml() { # DOMAIN-NAME PROFILE-PATH [PREFIX] [NAMESPACE]
	p=${3:-gpurun}
	cat <<EOF
<domain type='kvm'>
  <name>$1</name>
  <metadata>
    <other:thing xmlns:other="https://example.org/other">x</other:thing>
    <$p:profile xmlns:$p="${4:-https://gpurun.example/xmlns/1}">
      $2
    </$p:profile>
  </metadata>
  <devices/>
</domain>
EOF
}
hook() { # DOMAIN OP SUB < XML
	RECORDER_FAIL=${fail:-} GPURUN_BIN=$T/recorder GPURUN_ROOT=$R "$HOOK" "$1" "$2" "$3" - >"$T/out" 2>"$T/err"
}

reset_log
meta_xml vm1 /etc/gpurun/win11.profile | hook vm1 prepare begin
rc_is 0 $? "prepare begin with a metadata profile"
calls "--root $R bind $R/etc/gpurun/win11.profile" "binds the profile named in <metadata>"
contains "says what it runs" "$T/err" "vm1: prepare begin: .*bind"

reset_log
meta_xml vm1 /etc/gpurun/win11.profile | hook vm1 release end
rc_is 0 $? "release end"
calls "--root $R unbind $R/etc/gpurun/win11.profile" "unbinds at release end"

reset_log
meta_xml plain /etc/gpurun/win11.profile | hook plain prepare begin
calls "--root $R bind $R/etc/gpurun/win11.profile" "metadata wins over /etc/gpurun/DOMAIN.profile"

reset_log
echo "<domain><name>plain</name></domain>" | GPURUN_HOOK_LOG=$T/hook.log hook plain prepare begin
calls "--root $R bind $R/etc/gpurun/plain.profile" "no metadata: /etc/gpurun/DOMAIN.profile"
contains "GPURUN_HOOK_LOG gets the action" "$T/hook.log" "^plain: prepare begin: .* bind $R/etc/gpurun/plain\\.profile\$"

reset_log
meta_xml vm2 '/etc/gpurun/a&amp;b.profile' g | hook vm2 prepare begin
calls "--root $R bind $R/etc/gpurun/a&b.profile" "any prefix; XML entities decoded"

reset_log
meta_xml vm3 /etc/gpurun/win11.profile gpurun https://example.org/not-gpurun | hook vm3 prepare begin
rc_is 0 $? "foreign namespace: exit 0"
calls "" "an element of another namespace is not a gpurun profile"

reset_log
echo "<domain><name>nogpu</name></domain>" | hook nogpu prepare begin
rc_is 0 $? "domain without a profile: exit 0"
calls "" "domain without a profile: gpurun not called"

reset_log
for op in "start begin" "started begin" "stopped end" "release begin" "prepare end" "migrate begin"; do
	# shellcheck disable=SC2086
	meta_xml vm1 /etc/gpurun/win11.profile | hook vm1 $op || not_ok "$op exits 0"
done
calls "" "other operations do nothing"

reset_log
meta_xml vm1 /etc/gpurun/missing.profile | hook vm1 prepare begin
rc_is 1 $? "metadata naming a missing profile stops the start"
contains "and says which" "$T/err" "missing.profile.*does not exist"
calls "" "missing profile: gpurun not called"

reset_log
echo "<domain/>" | hook ../etc/gpurun/win11 prepare begin
calls "" "a domain name with / never becomes a path"

reset_log
meta_xml vm1 /etc/gpurun/win11.profile | fail=bind hook vm1 prepare begin
rc_is 1 $? "failed bind fails the hook (libvirt does not start the domain)"
fail=
contains "failure reported" "$T/err" "gpurun bind failed"
meta_xml vm1 /etc/gpurun/win11.profile | fail=unbind hook vm1 release end
rc_is 0 $? "failed unbind is reported, not fatal"
fail=
contains "unbind failure reported" "$T/err" "gpurun unbind failed"

reset_log
printf '<domain><name>host</name></domain>\n' |
	GPURUN_BIN=$T/recorder GPURUN_CONFDIR=$R/etc/gpurun GPURUN_OPTS="-v --state-dir $T/state" \
		"$HOOK" plain prepare begin - 2>/dev/null
calls "-v --state-dir $T/state bind $R/etc/gpurun/plain.profile" \
	"without GPURUN_ROOT: no --root, GPURUN_CONFDIR and GPURUN_OPTS honoured"

mkdir -p "$T/bin" && cp "$T/recorder" "$T/bin/gpurun"
reset_log
echo "<domain/>" | env -u GPURUN_BIN PATH="$T/bin:$PATH" GPURUN_CONFDIR=$R/etc/gpurun "$HOOK" plain release end - 2>/dev/null
calls "unbind $R/etc/gpurun/plain.profile" "without GPURUN_BIN: gpurun from PATH"

expect_rc 2 "hook without arguments: usage" "$HOOK"

# --- Proxmox hookscript ---------------------------------------------------------------------
check "hookscript is POSIX sh" sh -n "$PVE"
[ -x "$PVE" ] && ok "hookscript is executable" || not_ok "hookscript is executable"
pve() { RECORDER_FAIL=${fail:-} GPURUN_BIN=$T/recorder GPURUN_ROOT=$R "$PVE" "$@" >"$T/out" 2>"$T/err"; }
cp "$R/etc/gpurun/win11.profile" "$R/etc/gpurun/100.profile"

reset_log
pve 100 pre-start
rc_is 0 $? "pre-start"
calls "--root $R emit proxmox --stage $R/etc/gpurun/100.profile|--root $R bind $R/etc/gpurun/100.profile" \
	"pre-start: ROMs staged by 'emit proxmox --stage', then bind"
contains "says what it runs" "$T/err" "100 pre-start: .* bind "
lacks "the config lines do not end up in the task log" "$T/out" .

reset_log
pve 100 post-stop
rc_is 0 $? "post-stop"
calls "--root $R unbind $R/etc/gpurun/100.profile" "post-stop unbinds"

reset_log
fail=unbind pve 100 post-stop
rc_is 0 $? "failed unbind at post-stop is reported, not fatal"
fail=
contains "points at restore" "$T/err" "gpurun restore"

reset_log
fail=bind pve 100 pre-start
rc_is 1 $? "failed bind stops the start"
fail=
contains "and says so" "$T/err" "bind failed; not starting"

reset_log
fail=--stage pve 100 pre-start
rc_is 1 $? "failed staging stops the start"
fail=
contains "and says so" "$T/err" "staging the ROM files failed"
lacks "and nothing is bound" "$T/argv" " bind "

reset_log
for ph in post-start pre-stop; do pve 100 $ph || not_ok "$ph exits 0"; done
pve 999 pre-start || not_ok "VM without profile exits 0"
calls "" "other phases and VMs without a profile: nothing"

reset_log
GPURUN_BIN=$T/recorder GPURUN_CONFDIR=$R/etc/gpurun GPURUN_OPTS=-v "$PVE" 100 post-stop 2>/dev/null
calls "-v unbind $R/etc/gpurun/100.profile" "without GPURUN_ROOT: no --root; GPURUN_OPTS honoured"

reset_log
env -u GPURUN_BIN PATH="$T/bin:$PATH" GPURUN_CONFDIR=$R/etc/gpurun "$PVE" 100 post-stop 2>/dev/null
calls "unbind $R/etc/gpurun/100.profile" "hookscript without GPURUN_BIN: gpurun from PATH"

expect_rc 2 "a VMID that is not a number" "$PVE" ../100 pre-start
expect_rc 2 "hookscript without arguments: usage" "$PVE"

# --- real gpurun behind the hooks -----------------------------------------------------------
# Full cycles with the real gpurun on a fixture copy that tests/tools/fake-kernel makes react
# like sysfs: the hooks really move the GPU to vfio-pci and back.
RECQ=$(cd "$GPURUN_TOP" && pwd)/tests/tools/qemu-recorder
GPU=0000:c4:00.0 AUD=0000:c4:00.1
start_kernel() {
	copy_fixture strix-halo
	mkdir -p "$R/etc/gpurun"
	printf '[vm]\nname = %s\nmemory = 1G\nfirmware = bios\nnetwork = none\n[gpu]\ndevice = 1002:1586\nvbios = vfct\nallow-boot-vga = yes\n' \
		win11 >"$R/etc/gpurun/win11.profile"
	cp "$R/etc/gpurun/win11.profile" "$R/etc/gpurun/100.profile"
	fake_kernel_start "$R"
}
drv() { l=$(readlink "$R/sys/bus/pci/devices/$1/driver"); echo "${l##*/}"; }
on_vfio() { [ "$(drv $GPU)" = vfio-pci ] && [ "$(drv $AUD)" = vfio-pci ]; }
host_back() { [ "$(drv $GPU)" = amdgpu ] && [ "$(drv $AUD)" = snd_hda_intel ] && [ ! -e "$R/run/gpurun/win11/journal" ]; }

if ! "$GPURUN" bind --help >/dev/null 2>&1; then
	ok "# SKIP real gpurun through the hooks: 'gpurun bind' does not exist yet"
elif [ ! -d "$FIX/strix-halo" ]; then
	ok "# SKIP real gpurun through the hooks: fixture strix-halo missing"
elif [ ! -x "$FAKE" ]; then
	ok "# SKIP real gpurun through the hooks: $FAKE not built"
else
	start_kernel
	real_hook() { GPURUN_BIN=$GPURUN GPURUN_ROOT=$R "$HOOK" "$@" >"$T/out" 2>"$T/err"; }
	echo "<domain><name>win11</name></domain>" | real_hook win11 prepare begin -
	rc_is 0 $? "libvirt hook + real gpurun: prepare begin"
	check "prepare begin: GPU and audio on vfio-pci" on_vfio
	check "prepare begin: journal kept for release" test -e "$R/run/gpurun/win11/journal"
	check "prepare begin: the VBIOS the domain XML names is staged" \
		test -s "$R/var/lib/gpurun/roms/vbios_1002_1586.bin"
	echo "<domain><name>win11</name></domain>" | real_hook win11 started begin -
	check "started begin: nothing moves" on_vfio
	echo "<domain><name>win11</name></domain>" | real_hook win11 release end -
	rc_is 0 $? "libvirt hook + real gpurun: release end"
	check "release end: amdgpu and snd_hda_intel back, journal gone" host_back

	GPURUN_BIN=$GPURUN GPURUN_ROOT=$R "$PVE" 100 pre-start >"$T/out" 2>"$T/err"
	rc_is 0 $? "Proxmox hookscript + real gpurun: pre-start"
	check "pre-start: GPU and audio on vfio-pci" on_vfio
	"$GPURUN" --root "$R" vbios extract -o "$T/ref" >/dev/null 2>&1
	check "pre-start: VBIOS staged in ROOT/usr/share/kvm as vbios extract writes it" \
		cmp -s "$T/ref/vbios_1002_1586.bin" "$R/usr/share/kvm/vbios_1002_1586.bin"
	GPURUN_BIN=$GPURUN GPURUN_ROOT=$R "$PVE" 100 post-stop >"$T/out" 2>"$T/err"
	rc_is 0 $? "Proxmox hookscript + real gpurun: post-stop"
	check "post-stop: host drivers back" host_back
	check "post-stop: the staged ROM stays for the next start" test -s "$R/usr/share/kvm/vbios_1002_1586.bin"

	# the unit's own command lines, pointed at the fixture and the recorder QEMU
	mkdir -p "$T/q"
	unit_cmd() { # KEY: the command of KEY= in the unit, for instance win11, on the fixture
		sed -n "s/^$1=//p" "$UNIT" | sed -e "s|%i|win11|g" -e "s|/etc/gpurun/|$R/etc/gpurun/|g" \
			-e "s|^gpurun |$GPURUN --root $R --qemu $RECQ |"
	}
	start_cmd=$(unit_cmd ExecStart)
	stop_cmd=$(unit_cmd ExecStopPost)
	export RECORDER_QEMU_DIR="$T/q" RECORDER_QEMU_MODE=wait
	# systemctl stop: SIGTERM to gpurun only (KillMode=mixed), then ExecStopPost
	$start_cmd >"$T/svc.out" 2>"$T/svc.err" &
	P=$!
	wait_file "$T/q/started"
	check "unit ExecStart: guest running with the GPU on vfio-pci" on_vfio
	kill -TERM $P
	wait $P
	rc_is 0 $? "unit: SIGTERM to gpurun stops the guest, exit 0"
	check "unit: host back after SIGTERM" host_back
	$stop_cmd >"$T/out" 2>"$T/err"
	rc_is 0 $? "unit ExecStopPost after a clean stop: nothing to do, exit 0"
	# the final SIGKILL (stop timeout): gpurun dies with the GPU bound; ExecStopPost restores
	rm -f "$T/q/started"
	$start_cmd >"$T/svc.out" 2>"$T/svc.err" &
	P=$!
	wait_file "$T/q/started"
	kill -KILL $P
	wait $P 2>/dev/null
	# systemd's final SIGKILL reaches the whole cgroup, QEMU too, before ExecStopPost
	[ -f "$T/q/started" ] && kill "$(cat "$T/q/started")" 2>/dev/null && wait_gone "$(cat "$T/q/started")"
	check "SIGKILL leaves the GPU on vfio-pci" on_vfio
	$stop_cmd >"$T/out" 2>"$T/err"
	rc_is 0 $? "unit ExecStopPost after SIGKILL: restore"
	check "unit: host back after SIGKILL + ExecStopPost" host_back
	unset RECORDER_QEMU_DIR RECORDER_QEMU_MODE
	fake_kernel_stop
fi

# --- systemd unit ---------------------------------------------------------------------------
contains "unit runs the profile" "$UNIT" '^ExecStart=gpurun run /etc/gpurun/%i\.profile$'
contains "unit restores after stop" "$UNIT" '^ExecStopPost=gpurun restore %i$'
contains "KillMode=mixed" "$UNIT" '^KillMode=mixed$'
contains "TimeoutStopSec set" "$UNIT" '^TimeoutStopSec=[0-9]+'
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify resolves the commands in systemd's own search path: point them at the binary
	# under test, and let it find the man pages of this tree.
	mkdir -p "$T/sd" "$T/man/man8" "$T/man/man5"
	cp "$GPURUN_TOP/man/gpurun.8" "$T/man/man8/" && cp "$GPURUN_TOP/man/gpurun.profile.5" "$T/man/man5/"
	gp=$(cd "$(dirname "$GPURUN")" && pwd)/$(basename "$GPURUN")
	sed "s|=gpurun |=$gp |" "$UNIT" >"$T/sd/gpurun@win11.service"
	expect_rc 0 "systemd-analyze verify gpurun@win11.service" \
		env MANPATH="$T/man" systemd-analyze verify "$T/sd/gpurun@win11.service"
else
	ok "# SKIP systemd-analyze not installed"
fi

# --- bash completion ------------------------------------------------------------------------
if ! command -v bash >/dev/null 2>&1; then
	ok "# SKIP bash not installed"
else
	cat >"$T/comp.bash" <<'EOF'
. "$1"; shift
if [ "$1" = line ]; then COMP_LINE=$2 COMP_POINT=${#2}; else
	shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); fi
_gpurun
printf '%s\n' "${COMPREPLY[@]}"
EOF
	comp() { (cd "$T/cwd" && bash "$T/comp.bash" "$COMP" "$@") >"$T/out" 2>"$T/err"; }
	mkdir -p "$T/cwd/vms" "$T/cwd/roms"
	: >"$T/cwd/win11.profile"
	: >"$T/cwd/notes.txt"
	: >"$T/cwd/roms/gop.rom"
	"$GPURUN" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\).*/\1/p' >"$T/cmds"
	comp words gpurun ""
	for c in $(cat "$T/cmds"); do
		contains "completes command $c" "$T/out" "^$c\$"
	done
	# every option a command's --help shows is completed, and every option completed exists
	mkdir -p "$T/emptyroot"
	for c in $(cat "$T/cmds"); do
		comp words gpurun "$c" --
		cp "$T/out" "$T/copts"
		for o in $("$GPURUN" "$c" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
			contains "completes '$c $o'" "$T/copts" "^$o\$"
		done
		for o in $(grep -- '^--' "$T/copts"); do
			"$GPURUN" --root "$T/emptyroot" --state-dir "$T/state" "$c" "$o" --help >/dev/null 2>"$T/err"
			lacks "'gpurun $c' accepts completed $o" "$T/err" 'unrecognized option|invalid option'
		done
	done
	comp words gpurun run --timeout ""
	check "nothing to complete after --timeout" test -z "$(cat "$T/out")"
	comp words gpurun run --timeout 30 w
	check "the value of --timeout is skipped: profiles again" test "$(cat "$T/out")" = win11.profile
	comp words gpurun --ver
	check "--version before the command" test "$(tr '\n' ' ' <"$T/out")" = "--verbose --version "
	comp words gpurun em
	check "prefix completes to emit only" test "$(cat "$T/out")" = emit
	comp words gpurun emit ""
	check "emit outputs" test "$(tr '\n' ' ' <"$T/out")" = "qemu libvirt proxmox "
	comp words gpurun emit libvirt ""
	contains "emit OUTPUT completes profiles" "$T/out" '^win11\.profile$'
	lacks "not other files" "$T/out" 'notes\.txt'
	contains "and directories" "$T/out" '^vms/$'
	comp words gpurun run w
	check "run completes *.profile" test "$(cat "$T/out")" = win11.profile
	comp words gpurun ls --
	contains "ls options: --json" "$T/out" '^--json$'
	contains "global options too: --root" "$T/out" '^--root$'
	comp words gpurun check --d
	contains "check --device" "$T/out" '^--device$'
	comp words gpurun --root ""
	contains "--root completes directories" "$T/out" '^vms$'
	lacks "--root: no files" "$T/out" 'notes'
	comp words gpurun rom info roms/
	contains "rom info completes any file" "$T/out" '^roms/gop\.rom$'
	comp words gpurun vbios ""
	check "vbios subcommands" test "$(tr '\n' ' ' <"$T/out")" = "list extract "
	comp words gpurun help ""
	contains "help completes commands" "$T/out" '^host-config$'
	if [ -d "$FIX/strix-halo" ]; then
		gp=$(cd "$(dirname "$GPURUN")" && pwd)/$(basename "$GPURUN")
		fx=$(cd "$FIX/strix-halo" && pwd) # comp runs elsewhere
		comp words "$gp" --root "$fx" bind ""
		contains "bind completes PCI addresses from gpurun ls" "$T/out" '^0000:c4:00\.0$'
		contains "bind also completes profiles" "$T/out" '^win11\.profile$'
		comp words "$gp" --root "$fx" check --device ""
		contains "--device completes vendor:device ids" "$T/out" '^1002:1586$'
		contains "--device completes addresses" "$T/out" '^0000:c4:00\.1$'
		# a real bash line: COMP_WORDBREAKS has ':', so only the part after the last colon
		comp line "$gp --root $fx unbind 0000:c4:00."
		contains "address after a colon: completes the rest" "$T/out" '^00\.0$'
		lacks "and only matching ones" "$T/out" '^0000'
	else
		ok "# SKIP PCI address completion: fixture strix-halo missing"
	fi
	mkdir -p "$T/state/win11" "$T/state/linux"
	comp words gpurun --state-dir "$T/state" restore ""
	contains "restore completes VMs with a journal" "$T/out" '^linux$'
fi

done_testing
