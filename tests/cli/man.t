#!/bin/sh
# The man pages: they format without warnings, and they agree with the binary — every command
# and option in `gpurun --help` / `gpurun COMMAND --help` is documented in gpurun(8), every
# command and option gpurun(8) documents exists, and every profile key is in gpurun.profile(5).
# Also the output conventions gpurun(8) promises: colour only on a terminal, never with NO_COLOR.
. tests/cli/lib.sh

M8=$GPURUN_TOP/man/gpurun.8
M5=$GPURUN_TOP/man/gpurun.profile.5

# --- formatting -----------------------------------------------------------------------------
if command -v groff >/dev/null 2>&1; then
	for m in "$M8" "$M5"; do
		groff -man -Tutf8 -ww -z "$m" >"$T/groff" 2>&1
		check "$(basename "$m"): groff -ww finds nothing" test ! -s "$T/groff"
		sed 's/^/# /' "$T/groff"
	done
else
	ok "# SKIP groff not installed"
fi
if command -v man >/dev/null 2>&1; then
	MANWIDTH=80 man -l "$M8" >"$T/m8" 2>"$T/err"
	contains "man -l gpurun.8 renders NAME" "$T/m8" '^NAME'
	for s in SYNOPSIS COMMANDS "GLOBAL OPTIONS" "EXIT STATUS" ENVIRONMENT FILES EXAMPLES LIBVIRT \
		"PROXMOX VE" "SEE ALSO"; do
		contains "gpurun(8) has $s" "$T/m8" "^$s\$"
	done
	MANWIDTH=80 man -l "$M5" >"$T/m5" 2>"$T/err"
	contains "man -l gpurun.profile.5 renders NAME" "$T/m5" '^NAME'
	contains "gpurun.profile(5) has EXAMPLES" "$T/m5" '^EXAMPLES$'
else
	ok "# SKIP man not installed"
fi

# --- commands: --help and gpurun(8) agree ---------------------------------------------------
"$GPURUN" --help >"$T/help"
sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p' "$T/help" >"$T/cmds"
check "gpurun --help lists commands" test -s "$T/cmds"
roff_re() { printf '%s' "$1" | sed 's/-/\\\\-/g'; } # host-config -> host\\-config (ERE)
# the command names of each .SS heading of COMMANDS: "bind|unbind \fIPROFILE..." -> bind unbind
sed -n '/^\.SH COMMANDS/,/^\.SH /s/^\.SS "\([^ "]*\).*/\1/p' "$M8" | sed 's/\\-/-/g' | tr '|' '\n' >"$T/mancmds"
for c in $(cat "$T/cmds"); do
	contains "gpurun(8) has a section for '$c'" "$T/mancmds" "^$c\$"
done
for c in $(cat "$T/mancmds"); do
	[ "$c" = help ] && continue
	contains "'$c' documented in gpurun(8) exists in gpurun --help" "$T/cmds" "^$c\$"
done

# --- options --------------------------------------------------------------------------------
# every --option any --help prints is in gpurun(8)
: >"$T/helpopts"
cp "$T/help" "$T/allhelp"
for c in $(cat "$T/cmds"); do
	"$GPURUN" "$c" --help >>"$T/allhelp" 2>&1
done
grep -oE -- '--[a-z][a-z-]+' "$T/allhelp" | sort -u >"$T/helpopts"
for o in $(cat "$T/helpopts"); do
	if grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$M8"; then ok "gpurun(8) documents $o"; else
		not_ok "gpurun(8) documents $o"; fi
done
# every option gpurun(8) lists under a command (.TP + .B/.BI/.BR \-\-opt) is accepted by it
mkdir -p "$T/emptyroot"
sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$M8" | awk '
	/^\.SS "/ { s = $0; sub(/^\.SS "/, "", s); sub(/[ "].*/, "", s); gsub(/\\-/, "-", s); cmd = s; tp = 0; next }
	/^\.TP/ { tp = 1; next }
	tp && /^\.B[IR]? / { o = $2; gsub(/\\-/, "-", o); gsub(/"/, "", o); if (o ~ /^--?[a-z]/) print cmd, o; tp = 0; next }
	{ tp = 0 }' >"$T/manopts"
check "gpurun(8) lists command options" test -s "$T/manopts"
while read -r cmds opt; do
	for c in $(echo "$cmds" | tr '|' ' '); do
		grep -qx "$c" "$T/cmds" || continue # a command that is not there fails above
		"$GPURUN" --root "$T/emptyroot" --state-dir "$T/state" "$c" "$opt" --help >"$T/out" 2>"$T/err"
		lacks "'gpurun $c' accepts $opt" "$T/err" 'unrecognized option|invalid option'
	done
done <"$T/manopts"
# every global option in gpurun(8) is accepted
sed -n '/^\.SH GLOBAL OPTIONS/,/^\.SH /p' "$M8" | sed -n 's/^\.B[IR]* \(\\-[^ ]*\).*/\1/p' |
	sed 's/\\-/-/g' >"$T/globals"
check "gpurun(8) lists global options" test -s "$T/globals"
for o in $(cat "$T/globals"); do
	grep -qF -- "$o" "$T/help" && ok "global $o is in gpurun --help" || not_ok "global $o is in gpurun --help"
done

# --- exit status ----------------------------------------------------------------------------
contains "--help states the exit codes" "$T/help" '0 success, 1 an operation failed, 2 usage or input error'
sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$M8" >"$T/exit"
for n in 0 1 2; do contains "gpurun(8) documents exit status $n" "$T/exit" "^\\.B $n\$"; done
expect_rc 2 "unknown command: exit 2 as documented" "$GPURUN" no-such-command
expect_rc 2 "bad --root: exit 2 as documented" "$GPURUN" --root /nonexistent/dir ls

# --- profile keys ---------------------------------------------------------------------------
# the parser's key table and gpurun.profile(5) list the same keys, per section
mkdir -p "$T/emptyroot"
sed -n '/^\.SH "\[/,$p' "$M5" | awk '
	/^\.SH "\[/ { s = $2; gsub(/[]["]/, "", s); next }
	/^\.SH / { s = "" }
	s != "" && /^\.BI [a-z\\-]+ " = / { k = $2; gsub(/\\-/, "-", k); print s, k }' | sort -u >"$T/mankeys"
check "gpurun.profile(5) lists keys" test -s "$T/mankeys"
PROFILE_C="$GPURUN_TOP/launcher/core/profile.c"
check "the profile parser is at $PROFILE_C" test -f "$PROFILE_C"
if [ -f "$PROFILE_C" ]; then
	sed -n 's/^[[:space:]]*{ SEC_\([A-Z]*\), "\([a-z0-9-]*\)".*/\1 \2/p' "$PROFILE_C" |
		tr 'A-Z' 'a-z' | sort -u >"$T/parserkeys"
	check "profile.c has a key table" test -s "$T/parserkeys"
	while read -r sec key; do
		contains "gpurun.profile(5) documents [$sec] $key" "$T/mankeys" "^$sec $key\$"
	done <"$T/parserkeys"
	while read -r sec key; do
		contains "[$sec] $key in gpurun.profile(5) is in the parser's table" "$T/parserkeys" "^$sec $key\$"
	done <"$T/mankeys"
fi
# the binary agrees: a documented key with a bad value is a bad value, not an unknown key
if "$GPURUN" plan --help >/dev/null 2>&1; then
	while read -r sec key; do
		hdr="[$sec]"
		[ "$sec" = device ] && hdr="[device extra]"
		# an unterminated quote: an error only once the key is known
		printf '%s\n%s = "\n' "$hdr" "$key" >"$T/k.profile"
		"$GPURUN" --root "$T/emptyroot" plan "$T/k.profile" >"$T/out" 2>"$T/err"
		contains "gpurun knows [$sec] $key (its bad value is reported)" "$T/err" "k\\.profile:2: '$key': unterminated"
	done <"$T/mankeys"
	# the examples in gpurun.profile(5) and profiles/ parse
	sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$M5" | awk -v dir="$T" '
		/^\.nf/ { n++; f = dir "/example" n ".profile"; on = 1; next }
		/^\.fi/ { on = 0; close(f); next }
		on { gsub(/\\-/, "-"); print > f }'
	for f in "$T"/example*.profile "$GPURUN_TOP"/profiles/*.profile; do
		[ -f "$f" ] || continue
		"$GPURUN" --root "$T/emptyroot" plan "$f" >"$T/out" 2>"$T/err"
		lacks "$(basename "$f") parses" "$T/err" '\.profile:[0-9]*:'
	done
else
	ok "# SKIP gpurun plan does not exist yet: profile keys not checked against the binary"
fi

# --- readable output: colour only on a terminal, never with NO_COLOR -------------------------
if [ -d "$FIX/strix-halo" ]; then
	R=$FIX/strix-halo
else
	sh "$GPURUN_TOP/bench/mktree" "$T/tree" 4 >/dev/null && R=$T/tree
fi
esc=$(printf '\033')
for c in ls check; do
	env -u NO_COLOR "$GPURUN" --root "$R" $c >"$T/out" 2>"$T/err"
	check "$c: piped stdout has no escape sequences" test -s "$T/out"
	lacks "$c: piped stdout, no ESC" "$T/out" "$esc"
done
env -u NO_COLOR "$GPURUN" --root /nonexistent/dir ls 2>"$T/err"
contains "error message on a pipe" "$T/err" 'Invalid --root'
lacks "error message on a pipe has no ESC" "$T/err" "$esc"
if command -v script >/dev/null 2>&1; then
	tty_run() { script -qec "$1" /dev/null </dev/null >"$T/tty" 2>&1; }
	tty_run "env -u NO_COLOR '$GPURUN' --root '$R' check"
	contains "on a terminal: coloured" "$T/tty" "$esc\\["
	tty_run "env NO_COLOR=1 '$GPURUN' --root '$R' check"
	contains "on a terminal with NO_COLOR=1: output" "$T/tty" 'PASS|WARN|FAIL'
	lacks "on a terminal with NO_COLOR=1: no colour" "$T/tty" "$esc"
	# no-color.org: set to anything, even empty
	tty_run "env NO_COLOR= '$GPURUN' --root '$R' check"
	contains "on a terminal with NO_COLOR empty: output" "$T/tty" 'PASS|WARN|FAIL'
	lacks "on a terminal with NO_COLOR empty: no colour" "$T/tty" "$esc"
	tty_run "env -u NO_COLOR '$GPURUN' --root '$R' check --no-color"
	lacks "on a terminal with --no-color: no colour" "$T/tty" "$esc"
	tty_run "env NO_COLOR=1 '$GPURUN' --root /nonexistent/dir ls"
	lacks "NO_COLOR=1: error messages not coloured either" "$T/tty" "$esc"
	tty_run "env -u NO_COLOR '$GPURUN' --root /nonexistent/dir ls"
	contains "on a terminal: error messages coloured" "$T/tty" "$esc\\["
else
	ok "# SKIP script(1) not installed: terminal colour not checked"
fi
# --- CHECK IDS: the ids of core/checks.c's table and gpurun(8)'s section are the same ---------
sed -n '/^static const char \*const check_id_table/,/^};/s/.*\] = "\([a-z-]*\)",/\1/p' \
	"$GPURUN_TOP/launcher/core/checks.c" | sort >"$T/ids-code"
sed -n '/^\.SH CHECK IDS/,/^\.SH /{/^\.TP/{n;s/^\.B //;s/\\-/-/g;p}}' "$M8" | sort >"$T/ids-man"
check "check ids found in checks.c" test "$(wc -l <"$T/ids-code")" -ge 20
if diff "$T/ids-code" "$T/ids-man" >"$T/diff"; then ok "gpurun(8) CHECK IDS lists every check id, and only those"
else not_ok "gpurun(8) CHECK IDS differs from core/checks.c"; sed 's/^/# /' "$T/diff"; fi
# --- EXPLAIN IDS: the cause ids of core/explain.c's table and gpurun(8)'s section are the same -
awk '/^const struct explain_signature explain_table/,/^};/' "$GPURUN_TOP/launcher/core/explain.c" |
	awk '/\.id = "/ { id = $0; sub(/.*\.id = "/, "", id); sub(/".*/, "", id) } /\.benign = true/ { b[id] = 1 } /\.id = "/ { ids[++n] = id }
	END { for (i = 1; i <= n; i++) if (!(ids[i] in b)) print ids[i] }' | sort >"$T/eids-code"
sed -n '/^\.SH EXPLAIN IDS/,/^\.SH /{/^\.TP/{n;s/^\.B //;s/\\-/-/g;p}}' "$M8" | sort >"$T/eids-man"
check "cause ids found in explain.c" test "$(wc -l <"$T/eids-code")" -ge 15
if diff "$T/eids-code" "$T/eids-man" >"$T/diff"; then ok "gpurun(8) EXPLAIN IDS lists every cause id, and only those"
else not_ok "gpurun(8) EXPLAIN IDS differs from core/explain.c"; sed 's/^/# /' "$T/diff"; fi
done_testing
