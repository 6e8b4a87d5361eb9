#!/bin/sh
# Docs that run: every example of README.md and the man pages is run against a fixture host
# (tests/tools/doc-examples: the markers, what runs and how), and every profile they show passes
# `gpurun plan` on its fixture; an example that no longer works fails with FILE:LINE. The example
# profiles in profiles/ name their fixture host (`# fixture: NAME`) and pass `plan` there.
# capture-host's tarball (-o) gives the same report as the host it captured.
. tests/cli/lib.sh
export NO_COLOR=1
top=$(cd "$GPURUN_TOP" && pwd)
G=$(cd "$(dirname "$GPURUN")" && pwd)/$(basename "$GPURUN")
X=$top/tests/tools/doc-examples

if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 not installed (tests/tools/doc-examples)"
	exit 0
fi

# run_examples TAG FILE...: doc-examples' ok/not ok lines become this script's
run_examples() {
	tag=$1
	shift
	mkdir -p "$T/$tag"
	python3 "$X" run --gpurun "$G" --tmp "$T/$tag" "$@" >"$T/$tag.out" 2>&1
	rc=$?
	check "doc-examples run $tag: exit 0" test "$rc" -eq 0
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok }" ;;
		"not ok "*) not_ok "${line#not ok }" ;;
		*) echo "$line" ;;
		esac
	done <"$T/$tag.out"
}

# --- the documents --------------------------------------------------------------------------
docs="README.md"
for m in "$top"/man/*.[1-8] "$top"/doc/*.[1-8]; do
	[ -f "$m" ] && docs="$docs ${m#"$top"/}"
done
(cd "$top" && python3 "$X" list $docs) >"$T/blocks"
sed 's/^/# block /' "$T/blocks"
for d in $docs; do
	contains "$d has examples that run" "$T/blocks" "^$d:[0-9]+ (commands|profile) "
done
contains "gpurun.profile(5) has a profile that runs" "$T/blocks" '^man/gpurun\.profile\.5:[0-9]+ profile '
cd "$top" && run_examples docs $docs
check "at least 35 examples ran" test "$(grep -c '^ok ' "$T/docs.out")" -ge 35
contains "the README's run example ran with --dry-run" "$T/docs.out" '^ok README\.md:[0-9]+: sudo gpurun /etc/gpurun/win11\.profile \(dry run\)$'
contains "the README's capture-host example ran" "$T/docs.out" '^ok README\.md:[0-9]+: sudo tests/tools/capture-host '

# --- the runner fails a broken example, with FILE:LINE -----------------------------------------
mkdir -p "$T/bad"
cat >"$T/bad/bad.md" <<'MD'
# a document with broken examples

```sh
gpurun plan /etc/gpurun/missing.profile
frobnicate --now
gpurun ls | head
sudo make install
```

<!-- fixture: no-such-host -->
```sh
gpurun ls
```

<!-- fixture: desktop-dgpu; frobnicate -->
```ini
[vm]
name = x
[gpu]
device = 1002:1586
```

<!-- not run: shown only -->
```sh
frobnicate
```
MD
cat >"$T/bad/bad.8" <<'ROFF'
.TH BAD 8
.SH EXAMPLES
.\" fixture: strix-halo
.PP
.RS
.nf
gpurun \-\-root tests/fixtures/hosts/strix\-halo check
gpurun emit qemu /etc/gpurun/nope.profile
.fi
.RE
.PP
.RS
.nf
{"json": "output, not run"}
.fi
.RE
ROFF
(cd "$top" && python3 "$X" run --gpurun "$G" --tmp "$T/bad/ws" "$T/bad/bad.md" "$T/bad/bad.8") >"$T/bad.out" 2>&1
sed 's/^/#   /' "$T/bad.out"
b=$T/bad/bad
contains "a failing gpurun example: not ok FILE:LINE and its exit" "$T/bad.out" "^not ok .*bad\\.md:4: \`gpurun plan /etc/gpurun/missing\\.profile\` exits 2\$"
contains "... with what ran and why it failed" "$T/bad.out" '^# gpurun: error: .*missing\.profile: No such file or directory$'
contains "an unknown command: not ok FILE:LINE" "$T/bad.out" "^not ok .*bad\\.md:5: unknown command \`frobnicate\`"
contains "a pipe: not ok FILE:LINE" "$T/bad.out" "^not ok .*bad\\.md:6: \`\\|\` in an example"
contains "sudo make: recognised and skipped" "$T/bad.out" '^# .*bad\.md:7: skipped: sudo make install$'
contains "a fixture that does not exist" "$T/bad.out" "^not ok .*bad\\.md:12: no fixture host 'no-such-host'"
contains "an unknown marker" "$T/bad.out" "^not ok .*bad\\.md:17: unknown marker 'frobnicate'"
contains "a profile that does not fit its fixture fails plan" "$T/bad.out" '^not ok .*bad\.md:17: the profile passes `gpurun plan` on fixture desktop-dgpu$'
contains "... and says why" "$T/bad.out" "^# FAIL gpu-device: No PCI function matches \\[gpu\\] device '1002:1586'"
lacks "not run: not run" "$T/bad.out" 'bad\.md:2[5-9]: unknown'
contains "roff: a passing example" "$T/bad.out" '^ok .*bad\.8:7: gpurun --root tests/fixtures/hosts/strix-halo check$'
contains "roff: a failing one, with its line" "$T/bad.out" "^not ok .*bad\\.8:8: \`gpurun emit qemu /etc/gpurun/nope\\.profile\` exits 2\$"
lacks "roff: output blocks are not run" "$T/bad.out" 'bad\.8:1[3-5]'
check "the runner did not write into the fixture hosts" test -z "$(cd "$top" && git status --porcelain tests/fixtures 2>/dev/null)"

# --- profiles/: each names its fixture and passes plan there -----------------------------------
for p in "$top"/profiles/*.profile; do
	n=${p#"$top"/}
	fx=$(sed -n 's/^# fixture: \([a-z0-9-]*\).*/\1/p' "$p" | head -n 1)
	if [ -z "$fx" ]; then
		not_ok "$n names its fixture host (a '# fixture: NAME' line)"
		continue
	fi
	ok "$n names its fixture host ($fx)"
	if [ ! -d "$FIX/$fx" ]; then
		not_ok "$n: fixture host $fx exists in tests/fixtures/hosts"
		continue
	fi
	expect_rc 0 "$n: gpurun --root tests/fixtures/hosts/$fx plan exits 0" \
		"$GPURUN" --root "$FIX/$fx" --state-dir "$T/state" plan "$p"
	lacks "$n: no FAIL on $fx" "$T/out" '^FAIL'
done
for p in "$top"/profiles/win11-*.profile; do
	contains "${p#"$top"/} names the virtio-win ISO as a cdrom" "$p" '^cdrom = /.*/virtio-win\.iso'
	check "${p#"$top"/}: the virtio-win ISO is its second cdrom" \
		test "$(grep -c '^cdrom = ' "$p")" -ge 2 -a "$(grep '^cdrom = ' "$p" | tail -n 1 | grep -c virtio-win)" -eq 1
done

# --- capture-host -o: the tarball reproduces the host ------------------------------------------
for h in strix-halo desktop-dgpu; do
	expect_rc 0 "capture-host --root $h -o FILE" "$top/tests/tools/capture-host" --root "$FIX/$h" -o "$T/$h.tar.gz"
	mkdir -p "$T/cap-$h"
	tar -C "$T/cap-$h" -xzf "$T/$h.tar.gz"
	for a in "check" "check --json" "ls --json"; do
		"$GPURUN" --root "$FIX/$h" $a >"$T/live" 2>&1
		"$GPURUN" --root "$T/cap-$h" $a 2>&1 | sed "s|$T/cap-$h|$FIX/$h|g" >"$T/cap"
		if cmp -s "$T/live" "$T/cap"; then ok "$h: gpurun $a is the same on its capture"; else
			not_ok "$h: gpurun $a differs on its capture"; diff -u "$T/live" "$T/cap" | sed 's/^/# /'; fi
	done
done
done_testing
