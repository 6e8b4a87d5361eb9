#!/bin/sh
# The fixture hosts themselves: links resolve inside each tree, real pciutils reads them the
# way gpurun's tests assume, the VFCT/ROM images are valid, libkmod finds the vfio modules,
# tests/tools/capture-host run on a fixture reproduces it, and tests/fixtures/make-hosts
# regenerates them as committed (tests/tools/check-fixtures).
. tests/cli/lib.sh
HOSTS="strix-halo desktop-dgpu iommu-off shared-group boot-vga-only"
CAP="$GPURUN_TOP/tests/tools/capture-host"
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $1"; }

# sum8 FILE: the sum of all bytes mod 256
sum8() { od -An -v -tu1 "$1" | awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s % 256 }'; }
# byte FILE OFFSET: one byte as a decimal number
byte() { od -An -v -tu1 -j "$2" -N 1 "$1" | tr -d ' '; }
# cmpdiff A B: the trees are equal apart from lib/ (kernel modules), usr/ (pci.ids, OVMF) and rom
# var/ and srv/ hold the example profiles' disks and ISO (make-hosts PROFILE_INPUTS), not host state
cmpdiff() { diff -r --no-dereference -x lib -x usr -x rom -x var -x srv "$1" "$2" >"$T/diff" 2>&1; }

for h in $HOSTS; do
	R="$FIX/$h"
	if [ ! -d "$R/sys/bus/pci/devices" ]; then
		not_ok "$h: fixture present"
		continue
	fi
	# every symlink resolves, and inside the fixture
	top=$(cd "$R" && pwd -P)
	bad=$(find "$R" -type l | while IFS= read -r l; do
		t=$(readlink -f "$l") || t=
		case $t in "$top"/*) [ -e "$t" ] || echo "$l" ;; *) echo "$l" ;; esac
	done)
	if [ -z "$bad" ]; then ok "$h: all links resolve inside the fixture"; else
		not_ok "$h: links leading nowhere or outside: $bad"; fi

	# each device: config space consistent with the text attributes
	badcfg=
	for d in "$R"/sys/bus/pci/devices/*; do
		v=$(od -An -tx2 -N2 "$d/config" | tr -d ' ')
		c=$(od -An -v -tx1 -j9 -N3 "$d/config" | awk '{ print $3 $2 $1 }')
		[ "0x$v" = "$(cat "$d/vendor")" ] && [ "0x$c" = "$(cat "$d/class")" ] ||
			badcfg="$badcfg ${d##*/}"
		[ "$(wc -l <"$d/resource")" -ge 13 ] || badcfg="$badcfg ${d##*/}(resource)"
	done
	if [ -z "$badcfg" ]; then ok "$h: config space matches vendor/class files"; else
		not_ok "$h: config/text mismatch:$badcfg"; fi

	# capture-host reproduces the fixture
	rm -rf "$T/cap"
	if "$CAP" --root "$R" -d "$T/cap" 2>"$T/caperr" && cmpdiff "$R" "$T/cap"; then
		ok "$h: capture-host --root reproduces the fixture"
	else
		not_ok "$h: capture-host --root reproduces the fixture"
		sed 's/^/# /' "$T/caperr" "$T/diff" | head -40
	fi
	lacks "$h: capture-host skipped nothing" "$T/caperr" 'skipped|dropped'
done

# the comparison above can fail: a changed attribute and a dangling link are noticed / dropped
copy_fixture strix-halo
gpu=$(readlink -f "$T/root/sys/bus/pci/devices/0000:c4:00.0")
rm -rf "$T/cap"
"$CAP" --root "$T/root" -d "$T/cap" 2>/dev/null
echo 0x1003 >"$gpu/device"
if cmpdiff "$T/root" "$T/cap"; then not_ok "diff notices a changed attribute"; else
	ok "diff notices a changed attribute"; fi
rm -f "$gpu/driver"
ln -s ../../../../../../../../outside "$gpu/driver"
rm -rf "$T/cap2"
"$CAP" --root "$T/root" -d "$T/cap2" 2>"$T/err"
capgpu="$T/cap2/${gpu#"$(cd "$T/root" && pwd -P)"/}"
check "a link out of the snapshot is not kept" test -d "$capgpu" -a ! -L "$capgpu/driver"
contains "and reported" "$T/err" 'dropped link sys/devices/.*/0000:c4:00\.0/driver'

# --with-rom: enable, read, disable. On a plain-file copy the sequence shows as the content the
# read saw ("1") and what is left behind ("0").
copy_fixture strix-halo
gpu=$(readlink -f "$T/root/sys/bus/pci/devices/0000:c4:00.0")
nvme=$(readlink -f "$T/root/sys/bus/pci/devices/0000:c1:00.0")
printf x >"$nvme/rom"
rm -rf "$T/cap3"
"$CAP" --root "$T/root" -d "$T/cap3" --with-rom 2>/dev/null
capgpu="$T/cap3/${gpu#"$(cd "$T/root" && pwd -P)"/}"
check "--with-rom reads the rom after enabling it" test "$(cat "$capgpu/rom")" = 1
check "--with-rom disables it again" test "$(cat "$gpu/rom")" = 0
check "--with-rom reads display functions only" test ! -e "$T/cap3/${nvme#"$(cd "$T/root" && pwd -P)"/}/rom" -a "$(cat "$nvme/rom")" = x

# tarball output, usage errors, no rom read without --with-rom
expect_rc 0 "capture-host -o writes a tarball" "$CAP" --root "$FIX/strix-halo" -o "$T/c.tar.gz"
tar -tzf "$T/c.tar.gz" >"$T/list" 2>&1
contains "tarball holds the GPU" "$T/list" '^\./sys/bus/pci/devices/0000:c4:00\.0$'
contains "tarball holds the VFCT" "$T/list" '^\./sys/firmware/acpi/tables/VFCT$'
# without --with-rom a ROM BAR is captured as an empty stand-in (that it exists is a VBIOS
# source for `check`), never with the ROM's content
mkdir -p "$T/ctar" && tar -C "$T/ctar" -xzf "$T/c.tar.gz"
contains "the GPU's rom attribute is there" "$T/list" '^\./sys/devices/.*/0000:c4:00\.0/rom$'
check "no rom content without --with-rom" test -z "$(find "$T/ctar" -name rom -size +0c)"
expect_rc 2 "bad --root" "$CAP" --root /nonexistent/dir -d "$T/x"
contains "names the root" "$T/err" "invalid --root '/nonexistent/dir'"
expect_rc 2 "unknown option" "$CAP" --bogus
mkdir -p "$T/full" && : >"$T/full/f"
expect_rc 2 "refuses a non-empty -d" "$CAP" --root "$FIX/strix-halo" -d "$T/full"

# strix-halo: the VFCT and the ROM
R="$FIX/strix-halo"
V="$R/sys/firmware/acpi/tables/VFCT"
rom="$(readlink -f "$R/sys/bus/pci/devices/0000:c4:00.0")/rom"
check "VFCT signature" test "$(head -c 4 "$V")" = VFCT
check "VFCT length field = file size" test "$(od -An -tu4 -j4 -N4 "$V" | tr -d ' ')" -eq "$(wc -c <"$V")"
check "VFCT checksum" test "$(sum8 "$V")" -eq 0
check "VFCT record: bus c4 dev 0 fn 0" test "$(od -An -tu4 -j76 -N12 "$V" | tr -s ' ')" = " 196 0 0"
check "VFCT record: 1002:1586" test "$(od -An -tx2 -j88 -N4 "$V" | tr -s ' ')" = " 1002 1586"
check "VFCT ImageLength 17408" test "$(od -An -tu4 -j100 -N4 "$V" | tr -d ' ')" -eq 17408
tail -c 17408 "$V" >"$T/img"
check "VFCT image is the sysfs rom" cmp -s "$T/img" "$rom"
check "ROM 0x55AA, 34 blocks" test "$(byte "$rom" 0) $(byte "$rom" 1) $(byte "$rom" 2)" = "85 170 34"
check "ROM checksum" test "$(sum8 "$rom")" -eq 0
check "ROM PCIR at 0x40 for 1002:1586" test "$(od -An -c -j64 -N4 "$rom" | tr -d ' ')$(od -An -tx2 -j68 -N4 "$rom" | tr -s ' ')" = "PCIR 1002 1586"
check "ROM last image, code type 0" test "$(byte "$rom" 84) $(byte "$rom" 85)" = "0 128"
check "ROM AMD signature at 0x30" test "$(dd if="$rom" bs=1 skip=48 count=10 2>/dev/null)" = " 761295520"
check "ROM ATOMBIOS in the first 0x100 bytes" sh -c "head -c 256 '$rom' | grep -qa ATOMBIOS"

# the trees are what tests/fixtures/make-hosts writes (`make check-fixtures` runs this alone)
CHK="$GPURUN_TOP/tests/tools/check-fixtures"
"$CHK" >"$T/regen" 2>&1
rc=$?
if [ $rc -eq 77 ]; then
	skip "$(sed -n 's/^SKIP: //p' "$T/regen")"
else
	if [ $rc -eq 0 ]; then ok "make-hosts regenerates every fixture host as committed"; else
		not_ok "make-hosts regenerates every fixture host as committed"; sed 's/^/# /' "$T/regen"; fi
	# ... and that comparison fails on a changed file and on a missing module
	mkdir -p "$T/hosts" && cp -a "$FIX/boot-vga-only" "$T/hosts/"
	echo changed >>"$T/hosts/boot-vga-only/proc/cmdline"
	rm -f "$T/hosts/boot-vga-only/lib/modules/"*/kernel/drivers/vfio/vfio.ko
	CHECK_FIXTURES_HOSTS="$T/hosts" "$CHK" boot-vga-only >"$T/regen2" 2>&1
	check "check-fixtures fails on a changed fixture" test $? -eq 1
	contains "... naming the changed file" "$T/regen2" '^diff .*boot-vga-only/proc/cmdline '
	contains "... and the missing module" "$T/regen2" '^> \./lib/modules/.*/drivers/vfio/vfio\.ko$'
fi

# libkmod (modinfo/modprobe) finds the vfio modules in each fixture's indexes: dry runs only
MP=
for m in "$(command -v modprobe 2>/dev/null)" /usr/sbin/modprobe /sbin/modprobe; do
	[ -n "$m" ] && [ -x "$m" ] && { MP=$m; break; }
done
if [ -n "$MP" ]; then
	for h in $HOSTS; do
		R=$(cd "$FIX/$h" && pwd -P)
		rel=$(cat "$R/proc/sys/kernel/osrelease")
		"$MP" -n -v -d "$R" -S "$rel" vfio_pci >"$T/mp" 2>&1
		contains "$h: modprobe -n resolves vfio_pci's dependencies" "$T/mp" '/vfio\.ko *$'
		contains "$h: ... and vfio-pci.ko last" "$T/mp" 'vfio-pci\.ko *$'
		# each bound GPU's modalias leads to the module of its driver
		for d in "$R"/sys/bus/pci/devices/*; do
			case $(cat "$d/class") in 0x03*) ;; *) continue ;; esac
			drv=$(basename "$(readlink "$d/driver")")
			"$MP" -n -v -d "$R" -S "$rel" "$(cat "$d/modalias")" >"$T/mp" 2>&1
			contains "$h: ${d##*/}'s modalias resolves to $drv" "$T/mp" "/$drv\.ko *\$"
		done
	done
else
	skip "modprobe missing: libkmod index checks"
fi

# real pciutils on each fixture
if ! command -v lspci >/dev/null 2>&1; then
	skip "lspci missing (pciutils): lspci checks"
	done_testing
	exit $?
fi
for h in $HOSTS; do
	R="$FIX/$h"
	L="lspci -A linux-sysfs -O sysfs.path=$R/sys/bus/pci -O hwdb.disable=1 -i $R/usr/share/misc/pci.ids"
	# lspci -k asks libkmod about the running kernel's modules: its complaint is not ours
	$L -nnk -D >"$T/l" 2>"$T/lerr"
	rc=$?
	grep -v 'Unable to load libkmod resources' "$T/lerr" >"$T/lerr2"
	check "$h: lspci -nnk runs without errors" test "$rc" -eq 0 -a ! -s "$T/lerr2"
	badl=
	for d in "$R"/sys/bus/pci/devices/*; do
		b=${d##*/}
		want="^$b .* \[$(cut -c3-6 "$d/class")\]: .*\[$(cut -c3- "$d/vendor"):$(cut -c3- "$d/device")\]"
		grep -q "$want" "$T/l" || badl="$badl $b"
		if [ -L "$d/driver" ]; then
			drv=$(basename "$(readlink "$d/driver")")
			sed -n "/^$b /,/^[0-9a-f]/p" "$T/l" | grep -q "Kernel driver in use: $drv\$" || badl="$badl $b($drv)"
		fi
	done
	if [ -z "$badl" ]; then ok "$h: lspci lists every device with ids, class and driver"; else
		not_ok "$h: lspci mismatch:$badl"; sed 's/^/# /' "$T/l"; fi
	lacks "$h: no unknown names" "$T/l" 'Device [0-9a-f]{4}\]|Class \['
	$L -vv >"$T/vv" 2>/dev/null
	check "$h: lspci -vv decodes PCI Express capabilities" grep -q 'Express (v2)' "$T/vv"
done
R="$FIX/strix-halo"
L="lspci -A linux-sysfs -O sysfs.path=$R/sys/bus/pci -O hwdb.disable=1 -i $R/usr/share/misc/pci.ids"
$L -vv -s c4:00.0 >"$T/gpu" 2>/dev/null
contains "strix GPU: no FLR" "$T/gpu" 'FLReset-'
contains "strix GPU: IOMMU group 14" "$T/gpu" 'IOMMU group: 14'
contains "strix GPU: VGA class name" "$T/gpu" '^c4:00\.0 VGA compatible controller: Advanced Micro Devices, Inc\. \[AMD/ATI\] Strix Halo'
$L -vv -s c1:00.0 >"$T/nvme" 2>/dev/null
contains "strix NVMe: FLR" "$T/nvme" 'FLReset\+'
R="$FIX/desktop-dgpu"
L="lspci -A linux-sysfs -O sysfs.path=$R/sys/bus/pci -O hwdb.disable=1 -i $R/usr/share/misc/pci.ids"
$L -vv -s 02:00.0 >"$T/dsp" 2>/dev/null
contains "desktop: switch downstream port decoded" "$T/dsp" 'Express \(v2\) Downstream Port'
$L -t >"$T/tree" 2>/dev/null
contains "desktop: tree shows the GPU behind the switch" "$T/tree" '01\.0-\[01-03\]----00\.0-\[02-03\]----00\.0-\[03\]--\+-00\.0'
done_testing
