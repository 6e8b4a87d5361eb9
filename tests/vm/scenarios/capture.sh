# tests/tools/capture-host on a real kernel: capture the sandbox, then `gpurun --root CAPTURE`
# must report what gpurun reports on the sandbox itself (check, check --json, check PROFILE,
# ls, plan PROFILE). The only allowed difference is the root directory in paths that name it.
# (capture-host -o, the tarball, is tested on the fixture hosts by tests/cli/docs.t: here each
# capture takes a minute or two, every process it starts being emulated.)
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"

check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
modprobe kvm_amd 2>/dev/null

CAP=$W/capture
check "capture-host -d exits 0" "$GPURUN_TOP/tests/tools/capture-host" -d "$CAP" --profile "$PROFILE"
diag <"$W/check.out"
check "the capture has the running kernel's module index" \
	test -s "$CAP/lib/modules/$(uname -r)/modules.dep.bin"
check "the capture has the loaded modules" test -d "$CAP/sys/module/aty128fb"
check "the capture has the VFCT table" cmp "$CAP/sys/firmware/acpi/tables/VFCT" /sys/firmware/acpi/tables/VFCT

# same ROOT ARGS...: the report on the sandbox and on the capture are the same (exit status too)
same() {
	_what=$*
	"$GPURUN" "$@" >"$W/live.out" 2>&1
	_rl=$?
	"$GPURUN" --root "$CAP" "$@" >"$W/cap.raw" 2>&1
	_rc=$?
	sed "s|$CAP||g" "$W/cap.raw" >"$W/cap.out"
	echo "exit $_rl" >>"$W/live.out"
	echo "exit $_rc" >>"$W/cap.out"
	if cmp -s "$W/live.out" "$W/cap.out"; then
		ok "gpurun $_what: the same on the capture ($(wc -l <"$W/live.out") lines, exit $_rl)"
	else
		not_ok "gpurun $_what: differs on the capture"
		diff -u "$W/live.out" "$W/cap.out" | diag
	fi
}
same check
grep -A1 '^FAIL' "$W/live.out" | diag
same check --json
same check "$PROFILE"
same check --json "$PROFILE"
same ls
same ls --json
same plan "$PROFILE"
"$GPURUN" --root "$CAP" check --json >"$W/cap.json" 2>/dev/null
check "check --json on the capture finds the vfio modules in the kernel's index" \
	jq -e '[.checks[] | select(.id=="vfio-modules" and .status=="pass")] | length == 3' "$W/cap.json"
diag "capture: $(du -sh "$CAP" | cut -f1), $(find "$CAP" -type f | wc -l) files"
done_testing
