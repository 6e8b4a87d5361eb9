#!/bin/sh
# make install / make uninstall into a temporary DESTDIR: the files, their modes, that the
# installed man pages name the data directory of the PREFIX (/usr/local and /usr), that the
# other installed pieces work, and that uninstall leaves no file behind.
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

# the installed man pages name the data directory of this PREFIX (man/ says /usr/share/gpurun)
M=$D/usr/local/share/man
for m in man8/gpurun.8 man5/gpurun.profile.5; do
	contains "PREFIX=/usr/local: $m names /usr/local/share/gpurun" "$M/$m" '/usr/local/share/gpurun/(profiles|xml\\-templates)/'
	lacks "PREFIX=/usr/local: $m never names /usr/share/gpurun" "$M/$m" '(^|[^l])/usr/share/gpurun'
done
contains "PREFIX=/usr/local: gpurun(8) names the installed hook" "$M/man8/gpurun.8" \
	'^install \\-m 0755 /usr/local/share/gpurun/contrib/libvirt\\-hook/qemu '
check "the repository's gpurun(8) stays as it was" grep -q '^install \\-m 0755 /usr/share/gpurun/contrib/' "$top/man/gpurun.8"
if command -v groff >/dev/null 2>&1; then
	for m in man8/gpurun.8 man5/gpurun.profile.5; do
		groff -man -Tutf8 -ww -z "$M/$m" >"$T/groff" 2>&1
		check "installed $m: groff -ww finds nothing" test ! -s "$T/groff"
	done
fi

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

# PREFIX=/usr: the man pages say /usr/share/gpurun, nothing under /usr/local
D2=$T/dest-usr
expect_rc 0 "make install PREFIX=/usr DESTDIR=..." env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -s -C "$top" -o "$B/gpurun" B="$B" DESTDIR="$D2" PREFIX=/usr install
(cd "$D2" && find . -type f -o -type l | sort) >"$T/files2"
lacks "PREFIX=/usr: nothing under /usr/local" "$T/files2" '^\./usr/local/'
for m in man8/gpurun.8 man5/gpurun.profile.5; do
	contains "PREFIX=/usr: $m names /usr/share/gpurun" "$D2/usr/share/man/$m" '/usr/share/gpurun/(profiles|xml\\-templates)/'
	lacks "PREFIX=/usr: $m never names /usr/local" "$D2/usr/share/man/$m" '/usr/local/'
done
contains "PREFIX=/usr: gpurun(8) names the installed hookscript" "$D2/usr/share/man/man8/gpurun.8" \
	'^cp /usr/share/gpurun/contrib/proxmox/gpurun\\-hookscript '
# DATADIR on its own moves them too
expect_rc 0 "install with DATADIR" mk DATADIR=/opt/gr/share MANDIR=/opt/gr/man install
contains "DATADIR: gpurun(8) names it" "$D/opt/gr/man/man8/gpurun.8" '/opt/gr/share/gpurun/profiles/'
check "DATADIR: the profiles are there" test -f "$D/opt/gr/share/gpurun/profiles/win11-strix-halo.profile"
expect_rc 0 "uninstall with DATADIR" mk DATADIR=/opt/gr/share MANDIR=/opt/gr/man uninstall
check "DATADIR: removed" test ! -e "$D/opt/gr/share/gpurun" -a ! -e "$D/opt/gr/man/man8/gpurun.8"

# MANDIR and BINDIR are honoured on their own
expect_rc 0 "install with BINDIR and MANDIR" mk BINDIR=/opt/gr/bin MANDIR=/opt/gr/man install
check "BINDIR honoured" test -x "$D/opt/gr/bin/gpurun"
check "MANDIR honoured" test -f "$D/opt/gr/man/man8/gpurun.8"
expect_rc 0 "uninstall with the same" mk BINDIR=/opt/gr/bin MANDIR=/opt/gr/man uninstall
check "BINDIR/MANDIR files removed" test ! -e "$D/opt/gr/bin/gpurun" -a ! -e "$D/opt/gr/man/man8/gpurun.8"
done_testing
