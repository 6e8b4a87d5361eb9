#!/bin/sh
# gpurun plan / emit qemu|libvirt|proxmox on fixture hosts: golden outputs for every fixture
# host x example profile x output, libvirt XML checked by virt-xml-validate and the libvirt
# test driver, QEMU argv run by the real qemu-system-x86_64 (TCG, stopped before the guest
# runs; vfio-pci swapped for pci-testdev with the same romfile/bus/addr), escaping cases.
# GPURUN_UPDATE_GOLDEN=1 rewrites tests/golden/. The fixture root is written as @ROOT@.
. tests/cli/lib.sh
export NO_COLOR=1
# goldens name the default QEMU binary and the source tree's xml-templates
unset GPURUN_QEMU GPURUN_DATADIR
G="$GPURUN_TOP/tests/golden"
hosts="strix-halo desktop-dgpu iommu-off shared-group boot-vga-only"
profiles="win11-strix-halo linux-dgpu win11-usb sandbox"
have_validate=$(command -v virt-xml-validate)
have_virsh=$(command -v virsh)
quiet() { "$@" >/dev/null 2>&1; }
[ -n "$have_validate" ] || echo "# SKIP XML schema checks: virt-xml-validate missing (libvirt-clients)"
[ -n "$have_virsh" ] || echo "# SKIP libvirt test-driver checks: virsh missing (libvirt-clients)"

# normalize ROOT FILE: replace the fixture root (as given and as resolved) with @ROOT@
normalize() {
	real=$(cd "$1" && pwd -P)
	sed -e "s|$real|@ROOT@|g" -e "s|$1|@ROOT@|g" "$2"
}

# run_golden HOST PROFILE EXT CMD...: stdout, then "#-- exit N" and stderr when not clean
run_golden() {
	h=$1 p=$2 ext=$3; shift 3
	"$@" >"$T/raw" 2>"$T/rawerr"; rc=$?
	normalize "$FIX/$h" "$T/raw" >"$T/got"
	if [ "$rc" -ne 0 ] || [ -s "$T/rawerr" ]; then
		echo "#-- exit $rc" >>"$T/got"
		normalize "$FIX/$h" "$T/rawerr" | sed 's/^/#-- /' >>"$T/got"
	fi
	mkdir -p "$G/$h"
	golden "$h/$p.$ext" "$T/got" "$G/$h/$p.$ext"
	return $rc
}

for h in $hosts; do
	if [ ! -d "$FIX/$h" ]; then
		echo "# SKIP fixture host $h: not present"
		continue
	fi
	for p in $profiles; do
		prof="profiles/$p.profile"
		[ "$p" = sandbox ] && prof=tests/vm/sandbox.profile # the sandbox's own (tests/vm)
		run_golden "$h" "$p" plan "$GPURUN" --root "$FIX/$h" plan "$prof"
		run_golden "$h" "$p" argv "$GPURUN" --root "$FIX/$h" emit qemu "$prof"
		run_golden "$h" "$p" proxmox "$GPURUN" --root "$FIX/$h" emit proxmox "$prof"
		if run_golden "$h" "$p" xml "$GPURUN" --root "$FIX/$h" emit libvirt "$prof"; then
			if [ -n "$have_validate" ]; then
				check "$h/$p.xml validates" quiet virt-xml-validate "$T/raw" domain
			fi
			if [ -n "$have_virsh" ]; then
				check "$h/$p.xml defines on test:///default" \
					quiet virsh -q -c test:///default define "$T/raw"
			fi
		fi
	done
done

# --- the facts the goldens encode, spelled out ----------------------------------------------
G1=$G/strix-halo/win11-strix-halo
if [ -f "$G1.plan" ] && [ -d "$FIX/strix-halo" ]; then
	contains "strix: GPU + HDMI audio only" "$G1.plan" '^device 0000:c4:00\.1 .*role gpu-audio'
	lacks "strix: no PSP in the guest" "$G1.plan" '^device 0000:c4:00\.2'
	contains "strix: VBIOS from VFCT on the GPU" "$G1.argv" 'host=0000:c4:00\.0,.*romfile=@ROOT@/var/lib/gpurun/roms/vbios_1002_1586\.bin'
	contains "strix: GOP ROM on the HDMI audio" "$G1.argv" 'host=0000:c4:00\.1,.*romfile=@ROOT@/var/lib/gpurun/roms/AMDGopDriver\.rom'
	contains "strix: proxmox hostpci0" "$G1.proxmox" '^hostpci0: 0000:c4:00\.0,pcie=1,romfile=vbios_1002_1586\.bin$'
	contains "strix: proxmox hostpci1" "$G1.proxmox" '^hostpci1: 0000:c4:00\.1,pcie=1,romfile=AMDGopDriver\.rom$'
	contains "strix: audio unbound before the GPU" "$G1.plan" '^action 7: bind-vfio 0000:c4:00\.1'
fi
if [ -f "$G/desktop-dgpu/linux-dgpu.proxmox" ] && [ -d "$FIX/desktop-dgpu" ]; then
	contains "dgpu: whole slot in one hostpci" "$G/desktop-dgpu/linux-dgpu.proxmox" '^hostpci0: 0000:03:00,pcie=1$'
	lacks "dgpu: switch bridges do not spoil the group" "$G/desktop-dgpu/linux-dgpu.plan" 'group-viable'
fi
if [ -d "$FIX/shared-group" ]; then
	printf '[vm]\nname = s\nfirmware = bios\n[gpu]\ndevice = 1002:73df\nallow-boot-vga = yes\n' >"$T/sg.profile"
	expect_rc 1 "shared-group: plan fails" "$GPURUN" --root "$FIX/shared-group" plan "$T/sg.profile"
	contains "shared-group: names the NIC" "$T/out" '^FAIL group-viable: IOMMU group 15 is not viable: it also holds 0000:0c:00\.0 \[8086:15f3\] \(igc\)$'
fi
if [ -f "$G/boot-vga-only/linux-dgpu.plan" ] && [ -d "$FIX/boot-vga-only" ]; then
	contains "boot-vga-only: refused without allow-boot-vga" "$G/boot-vga-only/linux-dgpu.plan" '^FAIL boot-vga: 0000:03:00\.0'
fi
if [ -f "$G/iommu-off/linux-dgpu.plan" ] && [ -d "$FIX/iommu-off" ]; then
	contains "iommu-off: FAIL" "$G/iommu-off/linux-dgpu.plan" '^FAIL iommu-enabled'
fi

# --- aliases and usage errors (need any fixture) -------------------------------------------
if [ -d "$FIX/strix-halo" ]; then
	S="$FIX/strix-halo"
	prof="profiles/win11-strix-halo.profile"
	"$GPURUN" --root "$S" emit libvirt "$prof" >"$T/a" 2>/dev/null
	"$GPURUN" --root "$S" xml "$prof" >"$T/b" 2>/dev/null
	check "gpurun xml = gpurun emit libvirt" cmp -s "$T/a" "$T/b"
	"$GPURUN" --root "$S" emit qemu "$prof" >"$T/a" 2>/dev/null
	"$GPURUN" --root "$S" args "$prof" >"$T/b" 2>/dev/null
	check "gpurun args = gpurun emit qemu" cmp -s "$T/a" "$T/b"
	"$GPURUN" --root "$S" emit proxmox "$prof" >"$T/a" 2>/dev/null
	"$GPURUN" --root "$S" proxmox "$prof" >"$T/b" 2>/dev/null
	check "gpurun proxmox = gpurun emit proxmox" cmp -s "$T/a" "$T/b"
	expect_rc 0 "--managed" "$GPURUN" --root "$S" emit libvirt --managed "$prof"
	contains "--managed gives managed=yes" "$T/out" 'managed="yes"'
	lacks "--managed: no managed=no" "$T/out" 'managed="no"'
	expect_rc 2 "--managed only for libvirt" "$GPURUN" --root "$S" emit qemu --managed "$prof"
	expect_rc 2 "unknown output" "$GPURUN" --root "$S" emit xen "$prof"
	contains "unknown output named" "$T/err" "unknown output 'xen'"
	contains "unknown output lists the outputs" "$T/err" "\(qemu, libvirt or proxmox\)\.$"
	expect_rc 2 "misspelt output" "$GPURUN" --root "$S" emit libvrit "$prof"
	contains "misspelt output: did you mean" "$T/err" "unknown output 'libvrit'; did you mean 'libvirt'\?$"
	expect_rc 2 "emit without an output" "$GPURUN" --root "$S" emit
	contains "names the outputs" "$T/err" "expected qemu, libvirt or proxmox, and a PROFILE"
	expect_rc 0 "emit --help" "$GPURUN" emit --help
	contains "help lists qemu" "$T/out" "^  qemu +\(gpurun args\) +QEMU command line$"
	contains "help lists libvirt" "$T/out" "^  libvirt +\(gpurun xml\) +libvirt domain XML$"
	contains "help lists proxmox" "$T/out" "^  proxmox +Proxmox VE config lines$"
	contains "help: --managed under libvirt" "$T/out" "^ +--managed: libvirt manages the devices$"
	contains "help: --stage under proxmox" "$T/out" "^ +--stage copies the ROM files it names$"
	printf '[vm]\nname = x\ntemplate = no-such\n[gpu]\ndevice = 1002:1586\nallow-boot-vga = yes\n' >"$T/tmpl.profile"
	expect_rc 1 "missing libvirt template" "$GPURUN" --root "$S" emit libvirt "$T/tmpl.profile"
	contains "says which template and where" "$T/err" "libvirt template 'no-such' not found \(looked in .*xml-templates\)\.$"
	lacks "no XML printed" "$T/out" "<domain"
	expect_rc 0 "the template is only read for libvirt" "$GPURUN" --root "$S" emit qemu "$T/tmpl.profile"
	expect_rc 2 "no profile" "$GPURUN" --root "$S" emit qemu
	expect_rc 2 "missing profile file" "$GPURUN" --root "$S" plan "$T/nope.profile"
	contains "missing profile named" "$T/err" "nope.profile: No such file or directory"
	printf '[vm]\nname = x\nmemroy = 4G\n[gpu]\ndevice = 1002:1586\n' >"$T/typo.profile"
	expect_rc 2 "profile typo is a usage error" "$GPURUN" --root "$S" emit qemu "$T/typo.profile"
	contains "typo: file:line and suggestion" "$T/err" \
		"typo.profile:3: unknown key 'memroy' in \[vm\], did you mean 'memory'\?"
	printf '[vm]\nname = x\n[gpu]\ndevice = 1234:5678\n' >"$T/nogpu.profile"
	expect_rc 1 "GPU not on this host" "$GPURUN" --root "$S" emit libvirt "$T/nogpu.profile"
	contains "says why" "$T/err" "No PCI function matches \[gpu\] device '1234:5678'"
	expect_rc 1 "emit --json with a FAIL" "$GPURUN" --root "$S" emit libvirt --json "$T/nogpu.profile"
	lacks "no XML" "$T/out" "<domain"
	check "stdout is one JSON object" test "$(wc -l <"$T/out")" -eq 1
	lacks "the FAIL lines are not printed on stderr too" "$T/err" "^FAIL "
	if command -v jq >/dev/null; then
		check "the diagnostics as JSON" quiet jq -e '.output=="libvirt" and .emitted==false and any(.diagnostics[]; .id=="gpu-device" and .status=="fail")' "$T/out"
	fi
	expect_rc 1 "plan exits 1 on FAIL" "$GPURUN" --root "$S" plan "$T/nogpu.profile"
	expect_rc 1 "plan --json" "$GPURUN" --root "$S" --json plan "$T/nogpu.profile"
	contains "json resolved false" "$T/out" '"resolved":false'
	if command -v jq >/dev/null; then
		check "plan --json parses" quiet jq -e . "$T/out"
	fi

	# --stage copies the ROMs the hostpci entries name into ROOT/usr/share/kvm
	copy_fixture strix-halo
	# a GOP ROM that is not an option ROM is refused before anything is staged
	head -c 4096 /dev/zero >"$T/root/usr/share/kvm/AMDGopDriver.rom"
	expect_rc 1 "proxmox --stage refuses a GOP that is no ROM" "$GPURUN" --root "$T/root" proxmox --stage "$prof"
	contains "names the function and the cause" "$T/err" 'ROM for 0000:c4:00\.1 \(AMDGopDriver\.rom\): not a PCI option ROM'
	"$GPURUN_BUILD/tools/mkrom" legacy 1002 1640 4096 "$T/root/usr/share/kvm/AMDGopDriver.rom"
	expect_rc 1 "proxmox --stage refuses a GOP without an x64 EFI image" "$GPURUN" --root "$T/root" proxmox --stage "$prof"
	contains "says why" "$T/err" 'GOP ROM without an x64 EFI image'
	rm -f "$T/root/usr/share/kvm/vbios_1002_1586.bin"
	"$GPURUN_BUILD/tools/mkrom" efi 1002 ffff 65536 "$T/root/usr/share/kvm/AMDGopDriver.rom"
	expect_rc 0 "proxmox --dry-run --stage" "$GPURUN" --root "$T/root" --dry-run proxmox --stage "$prof"
	contains "dry-run names the file" "$T/err" "Would stage .*/usr/share/kvm/vbios_1002_1586\\.bin"
	check "dry-run wrote nothing" test ! -e "$T/root/usr/share/kvm/vbios_1002_1586.bin"
	expect_rc 0 "proxmox --stage" "$GPURUN" --root "$T/root" proxmox --stage "$prof"
	check "VBIOS staged from VFCT" test -s "$T/root/usr/share/kvm/vbios_1002_1586.bin"
	contains "staging reported" "$T/err" "Staged .*/usr/share/kvm/vbios_1002_1586\\.bin"
	expect_rc 0 "--stage again: identical files are fine" "$GPURUN" --root "$T/root" proxmox --stage "$prof"
	echo different >"$T/root/usr/share/kvm/vbios_1002_1586.bin"
	expect_rc 1 "--stage refuses to replace a different file" "$GPURUN" --root "$T/root" proxmox --stage "$prof"
	contains "says which" "$T/err" "vbios_1002_1586\\.bin exists with different contents"
	expect_rc 0 "--stage --force replaces it" "$GPURUN" --root "$T/root" proxmox --stage --force "$prof"
	expect_rc 2 "--stage only for proxmox" "$GPURUN" --root "$T/root" emit qemu --stage "$prof"

	# escaping: names/paths with commas, quotes, spaces, <>& and a leading dash
	printf '%s\n' '[vm]' 'name = esc' 'firmware = bios' \
		"disk = \"$T/a,b c'd<e>&f.img\"" "cdrom = '$T/-x \"y\".iso'" 'network = none' \
		'[gpu]' 'device = 1002:1586' "vbios = '$T/v,1.rom'" 'allow-boot-vga = yes' \
		>"$T/esc.profile"
	# the files it names exist (a missing one is a FAIL, and emit refuses a plan with one)
	: >"$T/a,b c'd<e>&f.img"
	: >"$T/-x \"y\".iso"
	"$GPURUN_BUILD/tools/mkrom" legacy 1002 1586 65536 "$T/v,1.rom"
	expect_rc 0 "escaping profile emits qemu" "$GPURUN" --root "$S" emit qemu "$T/esc.profile"
	contains "comma doubled in -drive" "$T/out" "file=$T/a,,b c'\\\\''d<e>&f.img,format=raw"
	contains "comma doubled in romfile" "$T/out" "romfile=[^ ]*/v,,1\\.rom"
	expect_rc 0 "escaping profile emits libvirt" "$GPURUN" --root "$S" emit libvirt "$T/esc.profile"
	contains "xml escapes <>&" "$T/out" "file=\"$T/a,b c'd&lt;e&gt;&amp;f.img\""
	contains "xml escapes quotes" "$T/out" "file=\"$T/-x &quot;y&quot;.iso\""
	if [ -n "$have_validate" ]; then
		check "escaping xml validates" quiet virt-xml-validate "$T/out" domain
	fi
	expect_rc 2 "proxmox refuses a romfile name with ','" "$GPURUN" --root "$S" emit proxmox "$T/esc.profile"
	contains "proxmox: says why" "$T/err" "ROM file name a ','"
	printf '[vm]\nname = -rf\n[gpu]\ndevice = 1002:1586\n' >"$T/dash.profile"
	expect_rc 2 "leading-dash name refused" "$GPURUN" --root "$S" emit qemu "$T/dash.profile"
	contains "dash: file:line" "$T/err" "dash.profile:2: 'name': invalid name '-rf'"
	printf '[vm]\nname = x\ndisk = -drive\n[gpu]\ndevice = 1002:1586\n' >"$T/dash2.profile"
	expect_rc 2 "leading-dash path refused" "$GPURUN" --root "$S" emit qemu "$T/dash2.profile"
	printf '[vm]\nname = x\015y\n[gpu]\ndevice = 1002:1586\n' >"$T/cr.profile"
	expect_rc 2 "carriage return mid-value refused" "$GPURUN" --root "$S" emit qemu "$T/cr.profile"
	contains "cr: file:line" "$T/err" "cr.profile:2: control character 0x0d at column 9"

	# --- Proxmox: one hostpci entry per slot, the args: form, shellwords ---------------------
	SW="$GPURUN_TOP/tests/tools/shellwords"
	# an APU's chosen functions as a ';' list: one multi-function device, the VBIOS on .0
	printf '%s\n' '[vm]' 'name = apu' '[gpu]' 'device = 1002:1586' 'vbios = vfct' \
		'allow-boot-vga = yes' 'x-vga = yes' '[qemu]' 'args = -S "C:\\" "a b" '"'"'x"y'"'"' -name "t\\ x"' \
		>"$T/apu.profile"
	expect_rc 0 "apu: proxmox" "$GPURUN" --root "$S" emit proxmox "$T/apu.profile"
	cp "$T/out" "$T/apu.pve"
	contains "apu: ';' list in one entry" "$T/apu.pve" '^hostpci0: 0000:c4:00\.0;0000:c4:00\.1,pcie=1,romfile=vbios_1002_1586\.bin,x-vga=1$'
	lacks "apu: no second entry" "$T/apu.pve" '^hostpci1:'
	contains "apu: says qemu-server drops x-vga=on under OVMF" "$T/apu.pve" '^# x-vga=1 with bios: ovmf: '
	# Perl's shellwords (qemu-server's split_args) gets the profile's words back
	sed -n 's/^args: //p' "$T/apu.pve" >"$T/apu.args"
	printf '%s\n' -S 'C:\' 'a b' 'x"y' -name 't\ x' >"$T/apu.want"
	"$SW" <"$T/apu.args" >"$T/apu.words"
	check "args: survive shellwords (trailing backslash, blanks, quotes)" cmp -s "$T/apu.want" "$T/apu.words"
	if command -v perl >/dev/null && perl -MText::ParseWords -e 1 2>/dev/null; then
		perl -MText::ParseWords -e 'print "$_\n" for shellwords(<STDIN>)' <"$T/apu.args" >"$T/apu.perl"
		check "args: the real Text::ParseWords agrees" cmp -s "$T/apu.want" "$T/apu.perl"
	else
		echo "# SKIP cross-check with Perl's Text::ParseWords: perl missing"
	fi
	# the reader is real: the single-quoted form gpurun used to print gives nothing
	printf '%s\n' "-S 'C:\\'" >"$T/bad.args"
	expect_rc 1 "shellwords gives up on 'C:\\'" "$SW" <"$T/bad.args"
	# per-function ROMs (GOP on the HDMI audio): one entry per function, and a comment why
	P1=$G/strix-halo/win11-strix-halo.proxmox
	contains "strix: says why the slot is split" "$P1" "^# 0000:c4:00\.1 needs its own romfile \(AMDGopDriver\.rom, the GOP driver\), and hostpci gives romfile= to the first function of an entry only"
	# a discrete card's whole slot with its VBIOS
	printf '%s\n' '[vm]' 'name = d' '[gpu]' 'device = 0000:03:00.0' 'functions = all' 'vbios = sysfs' >"$T/dg.profile"
	expect_rc 0 "dgpu: proxmox" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox "$T/dg.profile"
	contains "dgpu: whole slot with romfile" "$T/out" '^hostpci0: 0000:03:00,pcie=1,romfile=vbios_1002_73bf\.bin$'
	lacks "dgpu: one entry" "$T/out" '^hostpci1:'
	# --args: the passthrough as args:, never also as hostpci
	expect_rc 0 "proxmox --args" "$GPURUN" --root "$S" emit proxmox --args "$prof"
	cp "$T/out" "$T/args.pve"
	lacks "--args: no hostpci" "$T/args.pve" '^hostpci'
	contains "--args: own root port, chassis above qemu-server's" "$T/args.pve" '^args: -device pcie-root-port,id=gpurun-rp0,bus=pcie\.0,chassis=200,slot=0 '
	contains "--args: absolute romfile, one multi-function device" "$T/args.pve" ' -device vfio-pci,host=0000:c4:00\.0,id=gpurun-hostdev0,bus=gpurun-rp0,addr=00\.0,multifunction=on,romfile=/usr/share/kvm/vbios_1002_1586\.bin -device vfio-pci,host=0000:c4:00\.1,id=gpurun-hostdev1,bus=gpurun-rp0,addr=00\.1,romfile=/usr/share/kvm/AMDGopDriver\.rom'
	contains "--args: says qemu-server does not prepare them" "$T/args.pve" '^# args: passes 0000:c4:00\.0 0000:c4:00\.1 itself: qemu-server does not prepare devices named only in args:'
	check "--args: one args: line" test "$(grep -c '^args:' "$T/args.pve")" -eq 1
	sed -n 's/^args: //p' "$T/args.pve" | "$SW" >"$T/args.words"
	check "--args: each function in exactly one word" test "$(grep -c 'host=0000:c4:00\.' "$T/args.words")" -eq 2
	expect_rc 0 "--args with x-vga" "$GPURUN" --root "$S" emit proxmox --args "$T/apu.profile"
	contains "--args: x-vga=on on the device" "$T/out" 'host=0000:c4:00\.0,[^ ]*,x-vga=on '
	sed -n 's/^args: //p' "$T/out" | "$SW" | tail -n 6 >"$T/apu.words2"
	check "--args: the profile's args follow, intact" cmp -s "$T/apu.want" "$T/apu.words2"
	expect_rc 2 "--args only for proxmox" "$GPURUN" --root "$S" emit qemu --args "$prof"
	contains "--args: says so" "$T/err" '--args only applies to Proxmox output'
	# every line of every Proxmox output parses under qemu-server's grammar (PCI.pm, net, args)
	PCIRE='([0-9a-f]{4,}:)?[0-9a-f]{2}:[0-9a-f]{2}(\.[0-9a-f])?'
	for f in "$G"/*/*.proxmox "$T/apu.pve" "$T/args.pve"; do
		[ -f "$f" ] || continue
		bad=$(grep -v '^#' "$f" | grep -vE '^(name|bios|ostype|sockets|cores|affinity|memory|balloon|numa|hugepages|vga): ' |
			grep -vE '^machine: q35(,enable-s[34]=[01])*$' |
			grep -vE '^cpu: (host|max)(,hidden=[01]|,hv-vendor-id=[a-zA-Z0-9]{1,12}|,flags=[+-][a-z0-9-]+(;[+-][a-z0-9-]+)*)*$' |
			grep -vE '^(tdf|tablet|kvm): [01]$' |
			grep -vE '^virtio([0-9]|1[0-5]): /[^,=]+,format=(raw|qcow2)$' |
			grep -vE '^sata[0-5]: /[^,=]+,media=cdrom$' |
			grep -vE "^hostpci([0-9]|1[0-5]): $PCIRE(;$PCIRE)*(,pcie=[01]|,romfile=[^,;]+|,x-vga=[01])*\$" |
			grep -vE '^net0: virtio=[0-9a-f][02468ace](:[0-9a-f]{2}){5},bridge=[^,]+$' |
			grep -vE '^args: ')
		if [ -z "$bad" ]; then ok "grammar: $(basename "$(dirname "$f")")/$(basename "$f")"; else
			not_ok "grammar: $f"; printf '%s\n' "$bad" | sed 's/^/# /'; fi
		if grep -q '^args: ' "$f"; then
			check "grammar: args: of $(basename "$f") splits" quiet sh -c "sed -n 's/^args: //p' '$f' | '$SW'"
		fi
	done

	# --- limits: every output carries every device, or the profile is refused ------------
	# the files exist: a plan with a missing disk is a FAIL (emit prints nothing then)
	mkdir -p "$T/vm" "$T/iso"
	i=1; while [ $i -le 27 ]; do : >"$T/vm/d$i.img"; : >"$T/iso/c$i.iso"; i=$((i + 1)); done
	{ printf '[vm]\nname = many\nfirmware = bios\n'
	  i=1; while [ $i -le 27 ]; do echo "disk = $T/vm/d$i.img"; i=$((i + 1)); done
	  printf '[gpu]\ndevice = 1002:1586\nallow-boot-vga = yes\n'; } >"$T/disks.profile"
	expect_rc 0 "27 disks: libvirt" "$GPURUN" --root "$S" emit libvirt "$T/disks.profile"
	check "27 disks: the XML has all 27" test "$(grep -c '<disk type="file" device="disk">' "$T/out")" -eq 27
	contains "27 disks: the 27th is vdaa" "$T/out" "<source file=\"$T/vm/d27\\.img\"/>"
	contains "27 disks: vdaa target" "$T/out" '<target dev="vdaa" bus="virtio"/>'
	expect_rc 0 "27 disks: qemu" "$GPURUN" --root "$S" emit qemu "$T/disks.profile"
	check "27 disks: the argv has all 27" test "$(grep -c "file=$T/vm/d[0-9]*\\.img" "$T/out")" -eq 27
	{ printf '[vm]\nname = cds\nfirmware = bios\n'
	  i=1; while [ $i -le 7 ]; do echo "cdrom = $T/iso/c$i.iso"; i=$((i + 1)); done
	  printf '[gpu]\ndevice = 1002:1586\nallow-boot-vga = yes\n'; } >"$T/cds.profile"
	expect_rc 2 "7 cdroms refused" "$GPURUN" --root "$S" emit qemu "$T/cds.profile"
	contains "7 cdroms: file:line and the limit" "$T/err" "cds\.profile:10: 'cdrom': at most 6 cdroms \(q35 has 6 AHCI ports\)"
	sed -i '/c7\.iso/d' "$T/cds.profile"
	expect_rc 0 "6 cdroms: qemu" "$GPURUN" --root "$S" emit qemu "$T/cds.profile"
	expect_rc 0 "6 cdroms: libvirt" "$GPURUN" --root "$S" emit libvirt "$T/cds.profile"
	check "6 cdroms: the XML has all 6" test "$(grep -c 'device="cdrom"' "$T/out")" -eq 6

	# --- x-vga = yes reaches QEMU through libvirt's own translation ----------------------
	# <qemu:override> on the hostdev's alias; `virsh domxml-to-native qemu-argv` needs the
	# QEMU driver: a session daemon of its own in a temporary directory (as nobody when root)
	printf '[vm]\nname = xv\nfirmware = bios\naccel = tcg\nnetwork = none\n[gpu]\ndevice = 0000:03:00.0\nx-vga = yes\n' >"$T/xv.profile"
	expect_rc 0 "x-vga profile emits libvirt" "$GPURUN" --root "$FIX/desktop-dgpu" emit libvirt "$T/xv.profile"
	contains "x-vga: the hostdev has an alias" "$T/out" '<alias name="ua-gpurun-hostdev0"/>'
	contains "x-vga: qemu:override names it" "$T/out" '<qemu:device alias="ua-gpurun-hostdev0">'
	contains "x-vga: as a bool property" "$T/out" '<qemu:property name="x-vga" type="bool" value="true"/>'
	if [ -n "$have_validate" ]; then
		check "x-vga xml validates" quiet virt-xml-validate "$T/out" domain
	fi
	if [ -n "$have_virsh" ] && libvirt_session_start; then
		# accel = tcg wants <cpu mode="maximum"> (host-passthrough is KVM only)
		sed 's|<cpu mode="host-passthrough"[^>]*/>|<cpu mode="maximum"/>|' "$T/out" >"$LV/xv.xml"
		lv_virsh domxml-to-native qemu-argv "$LV/xv.xml" >"$T/native" 2>&1
		rc=$?
		libvirt_session_stop
		if [ "$rc" -eq 0 ]; then
			contains "libvirt's translation carries x-vga" "$T/native" '"host":"0000:03:00\.0","id":"ua-gpurun-hostdev0",[^}]*"x-vga":true'
			lacks "only on the VGA function" "$T/native" '"host":"0000:03:00\.1"[^}]*x-vga'
		else
			echo "# SKIP libvirt translation: the session daemon failed: $(tail -n 1 "$T/native")"
		fi
	else
		echo "# SKIP libvirt translation: virsh, libvirtd or qemu-system-x86_64 missing"
	fi

	# --- the real QEMU accepts the argv up to device realization -------------------------
	if command -v qemu-system-x86_64 >/dev/null && [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ]; then
		copy_fixture strix-halo
		R="$T/root"
		mkdir -p "$R/usr/share/OVMF" "$R/var/lib/gpurun/roms" "$R/var/lib/gpurun/vars" \
			"$R/run/gpurun"
		cp /usr/share/OVMF/OVMF_CODE_4M.secboot.fd /usr/share/OVMF/OVMF_VARS_4M.ms.fd \
			/usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd "$R/usr/share/OVMF/"
		# the fixture's Debian descriptors pick the .ms.fd name (a symlink on Debian)
		cp /usr/share/OVMF/OVMF_CODE_4M.secboot.fd "$R/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
		cp /usr/share/OVMF/OVMF_VARS_4M.ms.fd "$R/var/lib/gpurun/vars/accept_VARS.fd"
		head -c 65536 /dev/zero >"$R/var/lib/gpurun/roms/vbios_1002_1586.bin"
		head -c 65536 /dev/zero >"$R/var/lib/gpurun/roms/gop,x.rom"
		"$GPURUN_BUILD/tools/mkrom" efi 1002 1586 65536 "$R/usr/share/kvm/gop,x.rom"
		head -c 1048576 /dev/zero >"$T/d,isk 1.img"
		head -c 1048576 /dev/zero >"$T/cd 'x'.iso"
		tpm=no
		if command -v swtpm >/dev/null; then
			mkdir -p "$T/tpm"
			# stop swtpm however this script ends
			trap '[ -f "$T/swtpm.pid" ] && kill "$(cat "$T/swtpm.pid")" 2>/dev/null; rm -rf "$T"' EXIT
			swtpm socket --tpm2 --tpmstate dir="$T/tpm" \
				--ctrl type=unixio,path="$R/run/gpurun/accept.swtpm.sock" \
				--daemon --pid file="$T/swtpm.pid" 2>/dev/null && tpm=yes
		fi
		printf '%s\n' '[vm]' 'name = accept' 'memory = 256M' 'cpus = 2' \
			'firmware = uefi-secboot' "tpm = $tpm" "disk = \"$T/d,isk 1.img\"" \
			"cdrom = \"$T/cd 'x'.iso\"" 'network = user' '[gpu]' 'device = 1002:1586' \
			'vbios = vfct' 'gop = /usr/share/kvm/gop,x.rom' 'allow-boot-vga = yes' \
			'[qemu]' 'args = -S' >"$T/accept.profile"
		expect_rc 0 "accept profile emits" "$GPURUN" --root "$R" emit qemu "$T/accept.profile"
		cp "$T/out" "$T/accept.argv"
		[ -s "$T/accept.argv" ] || echo 'false' >"$T/accept.argv"
		# rebuild the argv from its printed, shell-quoted form; vfio-pci -> pci-testdev
		# (same bus/addr/multifunction/romfile, no host device needed); KVM -> TCG
		contains "qemu header: bind first" "$T/accept.argv" '^#   gpurun bind PROFILE: binds 0000:c4:00\.0 0000:c4:00\.1 to vfio-pci and stages the ROM files the argv names:$'
		contains "qemu header: the ROM staging path" "$T/accept.argv" "^#     $R/var/lib/gpurun/roms/vbios_1002_1586\.bin <- vfct:0000:c4:00\.0\$"
		contains "qemu header: swtpm" "$T/accept.argv" "^#   TPM: mkdir -p .* && swtpm socket --tpm2 --tpmstate dir=.* --ctrl type=unixio,path=$R/run/gpurun/accept\.swtpm\.sock --daemon\$"
		# the header is shell comments: the command is the rest
		eval "set -- $(grep -v '^#' "$T/accept.argv")"
		qemu=$1
		shift
		for a in "$@"; do
			case "$a" in
			vfio-pci,*)
				a=pci-testdev,$(printf '%s' "$a" | sed -e 's/^vfio-pci,host=[^,]*,//' \
					-e 's/,x-vga=on//')
				;;
			kvm) a=tcg ;;
			host) a=max ;;
			esac
			set -- "$@" "$a"
		done
		n=$(($# / 2))
		while [ "$n" -gt 0 ]; do shift; n=$((n - 1)); done
		# the loop doubled "$@" ([original..., rewritten...]); the shift above left the
		# rewritten half, minus argv[0]
		if [ "$(printf '%s\n' "$@" | grep -c '^pci-testdev,')" -eq 2 ]; then
			ok "argv has both GPU functions"
		else
			not_ok "argv has both GPU functions"
		fi
		echo quit | timeout 30 "$qemu" "$@" -monitor stdio >"$T/qemu.out" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ]; then
			ok "qemu-system-x86_64 accepts the argv (tpm=$tpm)"
		else
			not_ok "qemu-system-x86_64 accepts the argv (exit $rc)"
			sed 's/^/# /' "$T/accept.argv" "$T/qemu.out"
		fi
		[ -f "$T/swtpm.pid" ] && kill "$(cat "$T/swtpm.pid")" 2>/dev/null
	else
		echo "# SKIP qemu acceptance: qemu-system-x86_64 or OVMF missing"
	fi
else
	echo "# SKIP alias/escaping/qemu checks: fixture host strix-halo not present"
fi

# qemu-server's `name` is a DNS name (pve_verify_dns_name): a profile name with '_' or a
# leading/trailing/double '.' or '-' in a label is written in that form, and said so; the
# grammar check (tests/tools/check-proxmox) refuses anything else
if [ -d "$FIX/desktop-dgpu" ]; then
	for n in odd.name_1 name.dots. 9-_x a..b_-_.c; do
		printf '[vm]\nname = %s\n[gpu]\ndevice = 0000:03:00.0\n' "$n" >"$T/n.profile"
		expect_rc 0 "proxmox name '$n'" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox "$T/n.profile"
		contains "proxmox name '$n': says how it is written" "$T/out" "^# name: qemu-server takes a DNS name only .*'$n' is written as '"
		if command -v python3 >/dev/null; then
			check "proxmox name '$n': a DNS name" python3 "$GPURUN_TOP/tests/tools/check-proxmox" "$T/out"
		fi
	done
	contains "proxmox name: empty labels and edge '-' go" "$T/out" '^name: a\.b\.c$'
	printf '[vm]\nname = Win11-a.b\n[gpu]\ndevice = 0000:03:00.0\n' >"$T/n.profile"
	expect_rc 0 "proxmox DNS name kept" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox "$T/n.profile"
	contains "proxmox DNS name kept as it is" "$T/out" '^name: Win11-a\.b$'
	lacks "proxmox DNS name: no note" "$T/out" '^# name:'
fi

# emit proxmox refuses a value a Proxmox config cannot hold with one message naming the profile
# key and the value: hostpci romfile= is a property-string value (',' ends it) with qemu-server's
# pattern [^,;]+, and a config line loses its trailing blanks (QemuServer.pm parse_vm_config);
# '=', ' ' and a leading blank are fine there. A drive path cannot hold ',' or '='.
if [ -d "$FIX/strix-halo" ]; then
	mkdir -p "$T/pr"
	# pve_rom NAME: a profile whose GOP file is $T/pr/NAME
	pve_rom() {
		"$GPURUN_BUILD/tools/mkrom" efi 1002 1586 65536 "$T/pr/$1" >/dev/null
		printf '%s\n' '[vm]' 'name = pr' '[gpu]' 'device = 1002:1586' 'vbios = vfct' \
			"gop = '$T/pr/$1'" 'allow-boot-vga = yes' >"$T/pr.profile"
	}
	for n in 'g;x.rom' 'g,x.rom'; do
		pve_rom "$n"
		c=$(printf '%s' "$n" | tr -d 'gx.rom')
		for m in '' '--mapping gx' '--args'; do
			# shellcheck disable=SC2086 # $m is zero or more words
			expect_rc 2 "proxmox $m refuses ROM name '$n'" "$GPURUN" --root "$FIX/strix-halo" emit proxmox $m "$T/pr.profile"
			contains "... naming the key, the value and the character" "$T/err" "Refusing to emit Proxmox VE config lines for '.*pr\.profile': 0000:c4:00\.1: gop = '$T/pr/$n': ROM file name '$n' holds a '$c'"
			check "... once" test "$(grep -c 'error:' "$T/err")" -eq 1
			check "... nothing on stdout" test ! -s "$T/out"
		done
	done
	pve_rom 'g x.rom '
	expect_rc 2 "proxmox refuses a ROM name ending in a blank" "$GPURUN" --root "$FIX/strix-halo" emit proxmox "$T/pr.profile"
	contains "... saying qemu-server drops it" "$T/err" "gop = '$T/pr/g x\.rom ': ROM file name 'g x\.rom ' ends in a blank, which qemu-server drops"
	for n in 'g x=1.rom' ' g.rom'; do
		pve_rom "$n"
		expect_rc 0 "proxmox takes ROM name '$n'" "$GPURUN" --root "$FIX/strix-halo" emit proxmox "$T/pr.profile"
		contains "... as it is" "$T/out" "^hostpci1: 0000:c4:00\.1,pcie=1,romfile=$n\$"
		if command -v python3 >/dev/null; then
			check "... which passes check-proxmox" python3 "$GPURUN_TOP/tests/tools/check-proxmox" "$T/out"
		fi
	done
	: >"$T/pr/d=1.img"
	printf '%s\n' '[vm]' 'name = pr' "disk = $T/pr/d=1.img" '[gpu]' 'device = 1002:1586' \
		'allow-boot-vga = yes' >"$T/pr.profile"
	expect_rc 2 "proxmox refuses a disk path with '='" "$GPURUN" --root "$FIX/strix-halo" emit proxmox "$T/pr.profile"
	contains "... naming the key and the value" "$T/err" "disk = '$T/pr/d=1\.img' holds a '=': a Proxmox drive line is a property string"
	lacks "... not blaming a ROM file name" "$T/err" "ROM file name"
	expect_rc 0 "... which QEMU takes" "$GPURUN" --root "$FIX/strix-halo" emit qemu "$T/pr.profile"
fi
if [ "$_n" -eq 0 ]; then
	echo "1..0 # SKIP no fixture hosts in $FIX"
	exit 0
fi
done_testing
