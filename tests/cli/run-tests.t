#!/bin/sh
# tests/run-tests' filters (make check-unit T=NAME C=PATTERN): one suite by name, cmocka cases by
# pattern through GPURUN_TEST_CASE (testutil_run in tests/unit/testutil.h), and a name or pattern
# that selects nothing is a failure, never an empty pass. Runs on a build dir of its own holding
# two unit binaries, so the logs of the real run are left alone.
. tests/cli/lib.sh
RT="$GPURUN_TOP/tests/run-tests"
B=${GPURUN_BUILD:-build}
for t in test-error test-plan; do
	if [ ! -x "$B/tests/$t" ]; then
		echo "1..0 # SKIP $B/tests/$t not built (make tests)"
		exit 0
	fi
done
mkdir -p "$T/b/tests"
ln -s "$(cd "$B" && pwd)/gpurun" "$T/b/gpurun"
ln -s "$(cd "$B" && pwd)/tools" "$T/b/tools"
ln -s "$(cd "$B" && pwd)/tests/test-error" "$(cd "$B" && pwd)/tests/test-plan" "$T/b/tests/"
unset GPURUN_TEST_CASE

expect_rc 0 "T=test-error runs that unit binary" "$RT" "$T/b" test-error
contains "... it" "$T/out" '^ok - test-error$'
lacks "... and nothing else" "$T/out" '^ok - (test-plan|ls|run)'
contains "... showing its cases" "$T/out" '^\[ RUN      \] test_'
contains "... and the closing line" "$T/out" '^1 passed, 0 failed, 0 skipped$'

expect_rc 0 "T=ls runs tests/cli/ls.t alone" "$RT" "$T/b" ls
contains "... it" "$T/out" '^ok - ls \([0-9]+ checks\)$'
lacks "... and no unit binary" "$T/out" '^ok - test-'

expect_rc 1 "an unknown name fails" "$RT" "$T/b" test-nope
contains "... listing the unit binaries" "$T/err" '^  test-plan$'
contains "... and the CLI scripts" "$T/err" '^  ls$'
contains "... counted as a failure" "$T/out" '^0 passed, 1 failed, 0 skipped$'

# cmocka case filters
expect_rc 0 "a case name runs that case" env GPURUN_TEST_CASE=test_paths_from_names "$RT" "$T/b"
contains "... in the binary that has it" "$T/out" '^ok - test-plan$'
contains "... alone" "$T/out" 'Running 1 test\(s\)'
contains "... that case" "$T/out" '^\[       OK \] test_paths_from_names$'
lacks "... leaving out binaries without it" "$T/out" 'test-error'
lacks "... and the CLI scripts" "$T/out" '^ok - [a-z]+ \('
contains "... one suite passed" "$T/out" '^1 passed, 0 failed, 0 skipped$'

expect_rc 0 "globs, comma-separated" env GPURUN_TEST_CASE='test_paths_*,test_strix' "$T/b/tests/test-plan"
contains "... select every matching case" "$T/out" 'Running 3 test\(s\)'
contains "... test_strix" "$T/out" '^\[       OK \] test_strix$'
contains "... test_paths_from_ctx" "$T/out" '^\[       OK \] test_paths_from_ctx$'
lacks "... and no other" "$T/out" 'test_shared_group'

expect_rc 77 "a binary without a matching case exits 77" env GPURUN_TEST_CASE=test_nothing_like_this "$T/b/tests/test-plan"
contains "... listing its cases" "$T/err" '^  test_paths_from_ctx$'
expect_rc 1 "a pattern matching no case anywhere fails" env GPURUN_TEST_CASE=test_nothing_like_this "$RT" "$T/b"
contains "... saying so" "$T/err" "no unit test case matches GPURUN_TEST_CASE='test_nothing_like_this'"
expect_rc 2 "a case filter with a CLI script is a usage error" env GPURUN_TEST_CASE=test_strix "$RT" "$T/b" ls
expect_rc 0 "an empty filter runs every case" env GPURUN_TEST_CASE= "$T/b/tests/test-error"
lacks "... (nothing left out)" "$T/out" 'Running 0 test'
done_testing
