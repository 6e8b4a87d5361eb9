#!/bin/sh
# --json on the error paths of every command whose help explains --json: whatever fails (a
# usage error once the parser has seen --json, a bad --root, a device, profile or file that
# cannot be used), stdout holds exactly one JSON object per object promised -- never nothing.
. tests/cli/lib.sh
# json_fails RC DESCRIPTION COMMAND...: exit RC, stdout one object {"ok":false,"exit_status":RC,
# "error":...} whose error is the one on stderr
json_fails() {
	rc_want=$1; d=$2; shift 2
	expect_rc "$rc_want" "$d" "$@"
	check "$d: one JSON object with ok false and the error" python3 -c '
import json, sys
text = open(sys.argv[1]).read()
o = json.loads(text)
assert text.count("\n") == 1, text
assert o["ok"] is False and o["exit_status"] == int(sys.argv[2]), o
assert o["error"] and o["error"] in open(sys.argv[3]).read(), o
' "$T/out" "$rc_want" "$T/err"
}

# --- ls
json_fails 2 "ls --json of no such group" "$GPURUN" --root "$FIX/strix-halo" ls --json 99
json_fails 2 "ls --json of no such device" "$GPURUN" --root "$FIX/strix-halo" ls --json c5:00.0
json_fails 2 "ls --json of a bad address" "$GPURUN" --root "$FIX/strix-halo" --json ls c4:00.8
json_fails 2 "ls --json then a bad option" "$GPURUN" --root "$FIX/strix-halo" ls --json --bogus
json_fails 2 "ls --json on a missing --root" "$GPURUN" --root "$T/none" ls --json
check "the command is named" grep -q '^{"command":"ls","ok":false' "$T/out"

# --- check (host, --device, PROFILE)
json_fails 2 "check --json --device of no such device" "$GPURUN" --root "$FIX/strix-halo" check --json --device 10de:2684
json_fails 2 "check --json --device of a bad id" "$GPURUN" --root "$FIX/strix-halo" --json check --device 1002-1586
json_fails 2 "check --json of a missing PROFILE" "$GPURUN" --root "$FIX/strix-halo" check --json /nonexistent.profile
printf '[vm]\nname = x\nbogus = 1\n' >"$T/bad.profile"
json_fails 2 "check --json of a bad PROFILE" "$GPURUN" --root "$FIX/strix-halo" check --json "$T/bad.profile"
contains "its error names the line" "$T/out" 'bad\.profile:3'
json_fails 2 "check --json with PROFILE and --device" "$GPURUN" --root "$FIX/strix-halo" check --json profiles/win11-strix-halo.profile --device 1002:1586
json_fails 2 "check --json then a bad option" "$GPURUN" --root "$FIX/strix-halo" check --json --devise 1002:1586
json_fails 2 "check --json on a missing --root" "$GPURUN" --root "$T/none" check --json
expect_rc 1 "check --json with a FAIL: the report, nothing more" "$GPURUN" --root "$FIX/iommu-off" check --json
check "one object: the checks" python3 -c 'import json,sys; t=open(sys.argv[1]).read(); assert t.count("\n")==1 and "checks" in json.loads(t)' "$T/out"

# --- explain
json_fails 1 "explain --json of a missing log" "$GPURUN" --state-dir "$T/state" explain --json --log "$T/none.log"
json_fails 2 "explain --json with two VMs" "$GPURUN" --state-dir "$T/state" explain --json a b
json_fails 2 "explain --json with a VM and --log" "$GPURUN" --state-dir "$T/state" explain --json a --log -
mkdir -p "$T/state"
json_fails 1 "explain --json of a VM without a record" "$GPURUN" --state-dir "$T/state" explain --json nosuchvm

# --- rom and vbios (rom info: JSON lines, see rom.t)
json_fails 2 "rom --json of an unknown subcommand" "$GPURUN" rom --json infp x
json_fails 2 "rom info --json without a FILE" "$GPURUN" --json rom info
json_fails 2 "vbios --json of an unknown subcommand" "$GPURUN" --root "$FIX/strix-halo" vbios --json lst
json_fails 2 "vbios list --json on a missing --root" "$GPURUN" --root "$T/none" vbios list --json

# --- the other commands that take --json: the same one object (bind and restore: their report)
json_fails 2 "plan --json of a missing PROFILE" "$GPURUN" --root "$FIX/strix-halo" plan --json "$T/none.profile"
json_fails 2 "plan --json of a bad PROFILE" "$GPURUN" --root "$FIX/strix-halo" plan --json "$T/bad.profile"
expect_rc 1 "plan --json with a FAIL: the plan, nothing more" "$GPURUN" --root "$FIX/iommu-off" --state-dir "$T/state" plan --json profiles/win11-strix-halo.profile
check "one object: the plan" python3 -c 'import json,sys; t=open(sys.argv[1]).read(); assert t.count("\n")==1 and "vm" in json.loads(t)' "$T/out"
json_fails 2 "emit --json of an unknown output" "$GPURUN" --root "$FIX/strix-halo" emit --json qemo x.profile
json_fails 2 "xml --json of a missing PROFILE" "$GPURUN" --root "$FIX/strix-halo" xml --json "$T/none.profile"
check "named as typed" grep -q '^{"command":"xml"' "$T/out"
json_fails 2 "bind --json without a PROFILE" "$GPURUN" --root "$FIX/strix-halo" --state-dir "$T/state" bind --json
json_fails 2 "bind --json of a missing PROFILE: its report" "$GPURUN" --root "$FIX/strix-halo" --state-dir "$T/state" bind --json "$T/none.profile"
check "the report's arrays" python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["command"]=="bind" and o["changes"]==[] and o["functions"]==[]' "$T/out"
json_fails 2 "restore --json of two VMs" "$GPURUN" --root "$FIX/strix-halo" --state-dir "$T/state" restore --json a b
json_fails 2 "host-config --json then a bad option" "$GPURUN" --root "$FIX/strix-halo" host-config --json --bogus
json_fails 2 "host-config --json with --apply" "$GPURUN" --root "$FIX/strix-halo" host-config --json --apply

# --- no --json: nothing on stdout, as before
expect_rc 2 "ls of no such group without --json" "$GPURUN" --root "$FIX/strix-halo" ls 99
check "stdout empty" test ! -s "$T/out"
done_testing
