#!/bin/sh
# Help that teaches, usage errors that say what was meant: `gpurun help` lists the commands;
# each command's --help lists its own options (checked against a known list per command) with a
# line of help each, the global options, and examples that parse; `gpurun help COMMAND` is the
# same text; an unknown command, option or subcommand gets a did-you-mean; every usage error is
# one line with the gpurun: prefix and exit status 2.
. tests/cli/lib.sh

G=$GPURUN
R=$FIX/strix-halo
[ -d "$R" ] || R=$T/emptyroot
mkdir -p "$T/emptyroot"

# --- the command list -----------------------------------------------------------------------
expect_rc 0 "gpurun help: exit 0" "$G" help
cp "$T/out" "$T/help"
expect_rc 0 "gpurun --help: exit 0" "$G" --help
check "gpurun help = gpurun --help" cmp -s "$T/out" "$T/help"
expect_rc 0 "gpurun -h: exit 0" "$G" -h
check "gpurun -h = gpurun --help" cmp -s "$T/out" "$T/help"
expect_rc 2 "gpurun without a command: exit 2" "$G"
check "gpurun without a command: the overview" cmp -s "$T/out" "$T/help"
sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$T/help" >"$T/cmds"
for c in run check ls plan emit vbios rom bind unbind restore host-config help; do
	contains "gpurun help lists $c" "$T/cmds" "^$c\$"
done
contains "the overview says how to get one command's help" "$T/help" 'gpurun help COMMAND'

# --- each command's help --------------------------------------------------------------------
# opts_of COMMAND: the options its help must list under "Options:" (its own, and the global ones
# it explains in its own terms)
opts_of() {
	case $1 in
	run) echo "--allow-boot-vga --force --log --timeout --dry-run" ;;
	check) echo "--device --json" ;;
	ls | plan) echo "--json" ;;
	emit) echo "--managed --stage --args --mapping --node --force --dry-run --json" ;;
	xml) echo "--managed --json" ;;
	proxmox) echo "--stage --args --mapping --node --force --dry-run --json" ;;
	vbios) echo "-o --output --device --force --json" ;;
	rom) echo "-o --output --force --json" ;;
	bind | unbind) echo "--allow-boot-vga --force --timeout --dry-run --json" ;;
	restore) echo "--force --timeout --dry-run --json" ;;
	host-config) echo "--device --apply --revert --blacklist --json --dry-run" ;;
	args) echo "--json" ;;
	help) echo "" ;;
	esac
}
globals="-h --help -v --verbose -q --quiet --root --state-dir --connect --qemu --json --dry-run --no-color"

for c in run check ls plan emit args xml proxmox vbios rom bind unbind restore host-config help; do
	expect_rc 0 "$c --help: exit 0" "$G" "$c" --help
	cp "$T/out" "$T/h"
	check "$c --help: nothing on stderr" test ! -s "$T/err"
	contains "$c --help: usage line" "$T/h" "^Usage: gpurun $c( |\$)"
	expect_rc 0 "gpurun help $c: exit 0" "$G" help "$c"
	check "gpurun help $c = gpurun $c --help" cmp -s "$T/out" "$T/h"
	lacks "$c --help: no line longer than 79 columns" "$T/h" '^.{80}'

	# "Options:" holds exactly the command's options, each with its line of help
	sed -n '/^Options:$/,/^$/p' "$T/h" >"$T/opts"
	# (option lines start in column 2 or 6; wrapped help lines in column 30)
	sed -n 's/^ \{2,6\}\(-[a-z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p' "$T/opts" | sort >"$T/got"
	for o in $(opts_of "$c"); do echo "$o"; done | grep -- '^--' | sort >"$T/want"
	check "$c --help: Options are: $(tr '\n' ' ' <"$T/want")" cmp -s "$T/got" "$T/want"
	for o in $(opts_of "$c"); do
		case $o in
		--*) contains "$c --help: $o with its help" "$T/opts" "^ {2,6}(-[a-z], )?$o( [A-Z][A-Z|:]*)? +[(a-z]" ;;
		*) contains "$c --help: $o is the short form" "$T/opts" "^  $o, --[a-z]" ;;
		esac
	done

	# every global option once: under Options when the command explains it, else under Global
	for o in $globals; do
		case $o in
		--*) n=$(grep -cE -- "^ {2,6}(-[a-z], )?$o( |\$)" "$T/h") ;;
		*) n=$(grep -cE -- "^  $o, --" "$T/h") ;;
		esac
		check "$c --help: global $o listed once" test "$n" -eq 1
	done
	lacks "$c --help: --version only before a command" "$T/h" '--version'

	# examples: there are some, each is this command, and its options parse
	sed -n '/^Examples:$/,$s/^  \(gpurun .*\)/\1/p' "$T/h" >"$T/ex"
	check "$c --help: has examples" test -s "$T/ex"
	while IFS= read -r line; do
		line=${line%%>*} # a redirection is not for gpurun
		# shellcheck disable=SC2086
		set -- $line
		shift
		"$G" "$@" --help >"$T/exout" 2>"$T/exerr"
		rc=$?
		if [ $rc -eq 0 ] && [ ! -s "$T/exerr" ] && grep -q "^Usage: gpurun $c" "$T/exout"; then
			ok "$c example parses: $line"
		else
			not_ok "$c example parses: $line (exit $rc)"
			sed 's/^/# /' "$T/exerr"
		fi
	done <"$T/ex"
done

# what the brief of each command must teach
"$G" check --help >"$T/h"
contains "check --help: --device takes an address or ids" "$T/h" '--device BDF\|VVVV:DDDD +check this device'
contains "check --help: --json explained for check" "$T/h" '--json +the checks as one JSON object'
"$G" emit --help >"$T/h"
contains "emit --help: --managed explained" "$T/h" "--managed +\\(libvirt\\) managed='yes'"
contains "emit --help: --stage explained" "$T/h" '--stage +\(proxmox\) also copy the ROM files'
contains "emit --help: --force explained" "$T/h" '--force +\(with --stage\) replace'
"$G" vbios --help >"$T/h"
contains "vbios --help: -o and --output are one option" "$T/h" '^  -o, --output DIR '
"$G" run --help >"$T/h"
contains "run --help: gpurun PROFILE is run" "$T/h" '^       gpurun \[OPTIONS\] PROFILE$'
"$G" help help >"$T/h"
contains "help help" "$T/h" '^Usage: gpurun help \[COMMAND\]'

# a profile path is a run: its --help is run's
expect_rc 0 "gpurun PROFILE --help" "$G" ./win11.profile --help
contains "gpurun PROFILE --help: run's help" "$T/out" '^Usage: gpurun run '

# --- usage errors: did-you-mean, exit status 2, one line with the gpurun: prefix -------------
# usage_error WANT-STDERR ARGS...: exit 2, and stderr is exactly that one line
usage_error() {
	msg=$1 # (expect_rc uses $want)
	shift
	expect_rc 2 "usage error: gpurun $*" "$G" "$@"
	printf '%s\n' "$msg" >"$T/want"
	if cmp -s "$T/err" "$T/want"; then ok "message of gpurun $*"; else
		not_ok "message of gpurun $*"
		diff -u "$T/want" "$T/err" | sed 's/^/# /'
	fi
}
usage_error "gpurun: error: unknown command 'chek'; did you mean 'check'?" chek
usage_error "gpurun: error: unknown command 'LS'; did you mean 'ls'?" LS
usage_error "gpurun: error: help: unknown command 'CHECK'; did you mean 'check'?" help CHECK
usage_error "gpurun: error: ls: unrecognized option '--JSON'; did you mean '--json'?" ls --JSON
usage_error "gpurun: error: vbios: unknown subcommand 'LIST'; did you mean 'list'?" vbios LIST
usage_error "gpurun: error: unknown command 'hostconfig'; did you mean 'host-config'?" hostconfig
usage_error "gpurun: error: unknown command 'frobnicate' (see 'gpurun help')" frobnicate
usage_error "gpurun: error: help: unknown command 'chek'; did you mean 'check'?" help chek
usage_error "gpurun: error: check: unrecognized option '--jsn'; did you mean '--json'?" check --jsn
usage_error "gpurun: error: unrecognized option '--jsn'; did you mean '--json'?" --jsn check
usage_error "gpurun: error: emit: unrecognized option '--stgae'; did you mean '--stage'?" emit --stgae
usage_error "gpurun: error: run: unrecognized option '--allow-bootvga'; did you mean '--allow-boot-vga'?" \
	run --allow-bootvga x.profile
usage_error "gpurun: error: check: invalid option '-j' in '-json'; did you mean '--json'?" check -json
usage_error "gpurun: error: ls: unrecognized option '--bogus' (see 'gpurun ls --help')" ls --bogus
usage_error "gpurun: error: xml: unrecognized option '--stage' (see 'gpurun xml --help')" xml --stage x.profile
usage_error "gpurun: error: check: option '--d' is ambiguous; did you mean '--dry-run' or '--device'?" check --d
usage_error "gpurun: error: check: option '--device' needs an argument (--device BDF|VVVV:DDDD)" check --device
usage_error "gpurun: error: rom: option '-o' needs an argument (-o OUT)" rom combine a b -o
usage_error "gpurun: error: ls: option '--json' takes no argument (got '--json=yes')" ls --json=yes
# an empty path (an unset shell variable) is never the real host's /, nor journals in /
usage_error "gpurun: error: option '--root' needs a non-empty DIR (got '')" --root "" ls
usage_error "gpurun: error: ls: option '--root' needs a non-empty DIR (got '')" ls --root=
usage_error "gpurun: error: bind: option '--state-dir' needs a non-empty DIR (got '')" bind --state-dir "" 0000:03:00.0
usage_error "gpurun: error: option '--qemu' needs a non-empty PATH (got '')" --qemu "" run x.profile
usage_error "gpurun: error: option '--connect' needs a non-empty URI (got '')" --connect "" ls
usage_error "gpurun: error: vbios: option '-o' needs a non-empty DIR (got '')" vbios extract -o ""
usage_error "gpurun: error: rom: option '-o' needs a non-empty OUT (got '')" rom combine -o "" a b
usage_error "gpurun: error: emit: unknown output 'qemo'; did you mean 'qemu'?" emit qemo x.profile
usage_error "gpurun: error: vbios: unknown subcommand 'lst'; did you mean 'list'?" vbios lst
usage_error "gpurun: error: rom: unknown subcommand 'inf'; did you mean 'info'?" rom inf x.rom
usage_error "gpurun: error: help: expected one COMMAND, got 'ls' too" help check ls

# every other usage error: exit 2, one line, the same prefix; never getopt's own "cmd: ..." lines
while IFS= read -r args; do
	# shellcheck disable=SC2086
	expect_rc 2 "usage error: gpurun $args" "$G" --root "$R" --state-dir "$T/state" $args
	check "gpurun $args: one line on stderr" test "$(wc -l <"$T/err")" -eq 1
	contains "gpurun $args: gpurun: error: prefix" "$T/err" '^gpurun: error: '
	lacks "gpurun $args: not getopt's message" "$T/err" '^[a-z-]+: (unrecognized|invalid) option'
done <<'EOF'
ls extra
plan
plan a.profile b.profile
emit
emit xen x.profile
emit qemu
args
run
run --timeout abc x.profile
bind
restore a b
host-config --revert --device 1002:1586
host-config --json --apply --device 1002:1586
rom
rom info
rom info -o x a.rom
rom combine a.rom b.rom
vbios
vbios dump
vbios list --device c4:00.0
vbios extract extra
check a.profile b.profile
check -x
check --device
EOF

done_testing
