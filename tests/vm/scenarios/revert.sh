# The host comes back whatever ends the run: SIGTERM to gpurun, the nested QEMU killed, and
# `gpurun restore` after gpurun itself was killed with SIGKILL (refused while its QEMU lives); a
# second gpurun on the same GPU refuses while the first runs.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"

check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
for c in run restore; do
	if ! have_cmd $c; then
		skip "revert scenarios" "this gpurun has no $c command"
		done_testing
	fi
done

# started WHAT: the guest is up with both functions on vfio-pci.
started() {
	if start_run; then
		ok "$1: guest up"
	else
		not_ok "$1: guest up"
		diag <"$W/run.out"
		kill -9 "$RUN_PID" 2>/dev/null
		return 1
	fi
	check "$1: both functions on vfio-pci" both_on_vfio
}

note "SIGTERM to gpurun"
if started "SIGTERM"; then
	qpid=$(child_of "$RUN_PID")
	kill -TERM "$RUN_PID"
	stop_run
	check "SIGTERM: gpurun stopped within 60 s" test "$RUN_RC" != 124
	note "gpurun exit status $RUN_RC"
	diag <"$W/run.out"
	check "SIGTERM: QEMU stopped too" wait_for 10 proc_gone "$qpid"
fi
after_revert "SIGTERM"

note "nested QEMU killed"
if started "QEMU killed"; then
	qpid=$(child_of "$RUN_PID")
	check "QEMU killed: QEMU found" test -n "$qpid"
	[ -n "$qpid" ] && kill -KILL "$qpid"
	stop_run
	check "QEMU killed: gpurun ended within 60 s" test "$RUN_RC" != 124
	check "QEMU killed: gpurun reports the failure (exit 1)" test "$RUN_RC" = 1
	diag <"$W/run.out"
fi
after_revert "QEMU killed"

note "second gpurun while the first runs"
if started "second run"; then
	first=$RUN_PID
	"$GPURUN" run "$PROFILE" >"$W/second.out" 2>&1 &
	second=$!
	if wait_for 60 proc_gone $second; then
		wait $second
		rc=$?
		check "second run: refused (non-zero exit)" test $rc -ne 0
		check "second run: names the first" grep -q "already run by gpurun (pid $first)" "$W/second.out"
		diag <"$W/second.out"
	else
		kill -9 $second
		not_ok "second run: refused within 60 s"
	fi
	check "second run: the first still has both functions" both_on_vfio
	check "second run: the first guest still answers QMP" qmp "$QMP" '{"execute":"query-status"}'
	RUN_PID=$first
	qmp "$QMP" '{"execute":"quit"}' >/dev/null
	stop_run
	is "second run: the first ends normally" "$RUN_RC" 0
	diag <"$W/run.out"
fi
after_revert "second run"

note "SIGKILL to gpurun, then gpurun restore"
if started "SIGKILL"; then
	qpid=$(child_of "$RUN_PID")
	kill -KILL "$RUN_PID"
	wait "$RUN_PID" 2>/dev/null
	check "SIGKILL: a journal is left in /run/gpurun" has_journal
	is "SIGKILL: the GPU stays on vfio-pci" "$(driver_of $GPU)" vfio-pci
	# issue 12 item 3: the orphaned QEMU still runs the guest; restore must leave it alone
	"$GPURUN" restore >"$W/restore.out" 2>&1
	is "SIGKILL: restore refuses while QEMU lives (exit 1)" "$?" 1
	check "SIGKILL: restore names QEMU" grep -q "still running in QEMU pid $qpid" "$W/restore.out"
	diag <"$W/restore.out"
	is "SIGKILL: the refused restore left the GPU on vfio-pci" "$(driver_of $GPU)" vfio-pci
	check "SIGKILL: the guest still answers QMP" qmp "$QMP" '{"execute":"query-status"}'
	# Stop the orphaned QEMU as a user would.
	[ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null
	wait_for 30 proc_gone "$qpid"
	check "SIGKILL: gpurun restore" "$GPURUN" restore
	diag <"$W/check.out"
fi
after_revert "SIGKILL + restore"
done_testing
