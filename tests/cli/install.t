#!/bin/sh
# make install / make uninstall into a temporary DESTDIR: the files, their modes, that the
# installed pieces work, and that uninstall leaves no file behind.
. tests/cli/lib.sh

if ! command -v make >/dev/null 2>&1; then
	echo "1..0 # SKIP make not installed"
	exit 0
fi
top=$(cd "$GPURUN_TOP" && pwd)
B=${GPURUN_BUILD:-$top/build}
B=$(cd "$B" && pwd)
D=$T/dest
# -o: never rebuild the binary under test here, install it as it is.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top" -o "$B/gpurun" B="$B" DESTDIR="$D" PREFIX=/usr/local "$@"; }

expect_rc 0 "make install PREFIX=/usr/local DESTDIR=..." mk install
(cd "$D" && find . -type f -o -type l | sort) >"$T/files"
for f in ./usr/local/bin/gpurun \
	./usr/local/share/man/man8/gpurun.8 \
	./usr/local/share/man/man5/gpurun.profile.5 \
	./usr/local/share/bash-completion/completions/gpurun \
	./usr/local/share/gpurun/contrib/libvirt-hook/qemu \
	./usr/local/share/gpurun/contrib/libvirt-hook/README.md \
	./usr/local/share/gpurun/contrib/proxmox/gpurun-hookscript \
	./usr/local/share/gpurun/contrib/proxmox/README.md \
	./usr/local/share/gpurun/contrib/systemd/gpurun@.service \
	./usr/local/share/gpurun/contrib/systemd/README.md; do
	contains "installs $f" "$T/files" "^$(echo "$f" | sed 's/[.]/\\./g')\$"
done
for f in "$top"/xml-templates/*.xml "$top"/profiles/*.profile; do
	[ -f "$f" ] || continue
	rel=${f#"$top"/}
	check "installs share/gpurun/$rel" cmp -s "$f" "$D/usr/local/share/gpurun/$rel"
done
lacks "nothing outside /usr/local" "$T/files" '^\./(etc|usr/(bin|share|lib))/'
check "installed binary is the one under test" cmp -s "$B/gpurun" "$D/usr/local/bin/gpurun"
mode() { stat -c %a "$D/usr/local/$1"; }
check "binary mode 755" test "$(mode bin/gpurun)" = 755
check "man page mode 644" test "$(mode share/man/man8/gpurun.8)" = 644
check "libvirt hook executable" test "$(mode share/gpurun/contrib/libvirt-hook/qemu)" = 755
check "hookscript executable" test "$(mode share/gpurun/contrib/proxmox/gpurun-hookscript)" = 755
check "unit not executable" test "$(mode share/gpurun/contrib/systemd/gpurun@.service)" = 644

expect_rc 0 "installed binary runs" "$D/usr/local/bin/gpurun" --version
contains "and says its version" "$T/out" '^gpurun [0-9]'
if command -v man >/dev/null 2>&1; then
	MANPATH=$D/usr/local/share/man man -w gpurun.profile >"$T/out" 2>&1
	contains "man finds gpurun.profile(5) in MANDIR" "$T/out" 'man5/gpurun\.profile\.5'
else
	ok "# SKIP man not installed"
fi
if command -v bash >/dev/null 2>&1; then
	check "installed completion loads and registers" \
		bash -c '. "$1" && complete -p gpurun | grep -q _gpurun' sh \
		"$D/usr/local/share/bash-completion/completions/gpurun"
else
	ok "# SKIP bash not installed"
fi

# the binary finds the installed templates where make install put them
if [ -d "$FIX/strix-halo" ] && [ -f "$D/usr/local/share/gpurun/profiles/win11-strix-halo.profile" ]; then
	expect_rc 0 "installed gpurun emits libvirt XML from the installed templates" \
		env GPURUN_DATADIR="$D/usr/local/share/gpurun" "$D/usr/local/bin/gpurun" --root "$FIX/strix-halo" \
		emit libvirt "$D/usr/local/share/gpurun/profiles/win11-strix-halo.profile"
	contains "a domain named after the profile" "$T/out" '<name>win11</name>'
else
	ok "# SKIP fixture strix-halo or the example profile missing"
fi

expect_rc 0 "make install twice" mk install
expect_rc 0 "make uninstall" mk uninstall
(cd "$D" && find . -type f -o -type l) >"$T/left"
check "uninstall leaves no file" test ! -s "$T/left"
sed 's/^/# left: /' "$T/left"
check "share/gpurun removed" test ! -e "$D/usr/local/share/gpurun"
expect_rc 0 "uninstall when nothing is installed" mk uninstall

# MANDIR and BINDIR are honoured on their own
expect_rc 0 "install with BINDIR and MANDIR" mk BINDIR=/opt/gr/bin MANDIR=/opt/gr/man install
check "BINDIR honoured" test -x "$D/opt/gr/bin/gpurun"
check "MANDIR honoured" test -f "$D/opt/gr/man/man8/gpurun.8"
expect_rc 0 "uninstall with the same" mk BINDIR=/opt/gr/bin MANDIR=/opt/gr/man uninstall
check "BINDIR/MANDIR files removed" test ! -e "$D/opt/gr/bin/gpurun" -a ! -e "$D/opt/gr/man/man8/gpurun.8"
done_testing
