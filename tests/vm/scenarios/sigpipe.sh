# Issue 12 item 4 on the real kernel: `gpurun run PROFILE 2>pipe` whose reader has gone away.
# At guest exit gpurun writes its revert messages into a pipe nobody reads; it must not die of
# SIGPIPE (exit 141) before the revert: it ignores SIGPIPE, the write fails with EPIPE, and the
# functions go back to their drivers. gpurun starts with SIGPIPE at its default action (a shell
# may hand it down ignored, which would prove nothing): a control writer started the same way
# on a broken pipe does die of it.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"

check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
if ! have_cmd run; then
	skip "SIGPIPE at guest exit" "this gpurun has no run command"
	done_testing
fi
if ! env --default-signal=PIPE true 2>/dev/null; then
	skip "SIGPIPE at guest exit" "env has no --default-signal (coreutils < 8.31)"
	done_testing
fi

# sigpipe_ignored PID: SIGPIPE (13) is in the process's ignored-signals mask.
sigpipe_ignored() {
	_m=$(sed -n 's/^SigIgn:[[:space:]]*//p' "/proc/$1/status") || return 1
	[ $((0x$_m >> 12 & 1)) -eq 1 ]
}

mkfifo "$W/errpipe"
# The reader takes what gpurun writes while it prepares the host and starts the guest, and goes
# away once the guest is up: every later write (the revert's messages) hits a pipe without a
# reader.
cat "$W/errpipe" >"$W/stderr-before" &
reader=$!
rm -f "$QMP"
note "gpurun run $PROFILE 2>pipe (the reader goes away once the guest is up)"
env --default-signal=PIPE "$GPURUN" run "$PROFILE" >"$W/run.out" 2>"$W/errpipe" &
RUN_PID=$!
if wait_for 120 qmp_or_exit && test -S "$QMP"; then
	ok "SIGPIPE: guest up"
else
	not_ok "SIGPIPE: guest up"
	diag <"$W/run.out"
	kill -9 "$RUN_PID" "$reader" 2>/dev/null
	after_revert "SIGPIPE"
	done_testing
fi
check "SIGPIPE: both functions on vfio-pci" both_on_vfio
kill "$reader"
check "SIGPIPE: the pipe's reader is gone" wait_for 10 proc_gone "$reader"
wait "$reader" 2>/dev/null
check "SIGPIPE: gpurun had written to the pipe before" test -s "$W/stderr-before"
diag <"$W/stderr-before"
check "SIGPIPE: gpurun ignores SIGPIPE while the guest runs" sigpipe_ignored "$RUN_PID"
# The control: a writer started like gpurun, whose stderr is a pipe whose reader has exited,
# dies of SIGPIPE (so the default action really was in place for gpurun too).
{ env --default-signal=PIPE sh -c 'sleep 0.5; echo control >&2' 2>&1; echo $? >"$W/ctl-rc"; } |
	true
is "SIGPIPE: the control writer dies of SIGPIPE (141)" "$(cat "$W/ctl-rc")" 141

note "quitting the guest over QMP"
qmp "$QMP" '{"execute":"quit"}' >/dev/null
stop_run
note "gpurun exit status $RUN_RC"
diag <"$W/run.out"
check "SIGPIPE: gpurun ended within 60 s" test "$RUN_RC" != 124
check "SIGPIPE: gpurun did not die of SIGPIPE (exit $RUN_RC, not 141)" test "$RUN_RC" != 141
is "SIGPIPE: gpurun run exits 0 after the guest quits" "$RUN_RC" 0
after_revert "SIGPIPE"
is "SIGPIPE: driver_override cleared on the GPU" "$(cat $SYSPCI/$GPU/driver_override)" "(null)"
is "SIGPIPE: driver_override cleared on the audio" "$(cat $SYSPCI/$AUDIO/driver_override)" "(null)"
rm -f "$W/errpipe"
done_testing
