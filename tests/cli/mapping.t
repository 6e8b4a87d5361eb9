#!/bin/sh
# gpurun emit proxmox --mapping NAME: hostpciN: mapping= entries and this node's cluster-wide PCI
# resource mapping. Golden outputs (tests/golden/HOST/PROFILE.mapping, GPURUN_UPDATE_GOLDEN=1
# rewrites them), each checked by tests/tools/check-proxmox against Proxmox's grammar and, on
# the fixture's sysfs, against Proxmox's own check of a map (PCI.pm assert_valid); the checker
# is shown to fail on what Proxmox refuses; node names; usage errors.
. tests/cli/lib.sh
export NO_COLOR=1
unset GPURUN_QEMU GPURUN_DATADIR
G="$GPURUN_TOP/tests/golden"
CP="$GPURUN_TOP/tests/tools/check-proxmox"
if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 missing (tests/tools/check-proxmox)"
	exit 0
fi

# mapping_golden HOST PROFILE NAME NODE [ARGS...]: emit with --mapping NAME (--node NODE unless
# NODE is "-"), compare with the golden, check it on the fixture for that node
mapping_golden() {
	h=$1 p=$2 name=$3 node=$4; shift 4
	prof=$p
	[ -f "$prof" ] || prof="profiles/$p.profile"
	if [ "$node" = - ]; then
		"$GPURUN" --root "$FIX/$h" emit proxmox --mapping "$name" "$@" "$prof" >"$T/m" 2>"$T/merr"
		node=$(sed 's/\..*//' "$FIX/$h/etc/hostname")
	else
		"$GPURUN" --root "$FIX/$h" emit proxmox --mapping "$name" --node "$node" "$@" "$prof" \
			>"$T/m" 2>"$T/merr"
	fi
	rc=$?
	check "$h/$(basename "$p" .profile): emit proxmox --mapping $name exits 0" test $rc -eq 0
	mkdir -p "$G/$h"
	golden "$h/$(basename "$p" .profile).mapping" "$T/m" "$G/$h/$(basename "$p" .profile).mapping"
	if "$CP" --root "$FIX/$h" --node "$node" "$T/m" 2>"$T/cperr"; then
		ok "$h/$(basename "$p" .profile).mapping: Proxmox grammar, assert_valid on the fixture"
	else
		not_ok "$h/$(basename "$p" .profile).mapping: Proxmox grammar, assert_valid on the fixture"
		sed 's/^/# /' "$T/cperr"
	fi
}

# an APU's chosen functions, with x-vga: one mapping (and hostpci entry) per function
printf '%s\n' '[vm]' 'name = apu' '[gpu]' 'device = 1002:1586' 'vbios = vfct' \
	'allow-boot-vga = yes' 'x-vga = yes' >"$T/apu.profile"
# a [device] whose name has a '.', which a mapping id may not have
printf '%s\n' '[vm]' 'name = usb' '[gpu]' 'device = 0000:03:00.0' 'functions = all' \
	'[device usb.ctl]' 'address = 0000:00:14.0' >"$T/usb.profile"

# discrete card, whole slot: one mapping, path without a function; node from /etc/hostname
mapping_golden desktop-dgpu linux-dgpu rx6800 -
contains "dgpu: hostpci0 names the mapping" "$T/m" '^hostpci0: mapping=rx6800,pcie=1$'
contains "dgpu: node from etc/hostname" "$T/m" '^#   pvesh create /cluster/mapping/pci --id rx6800 --map node=fedora,path=0000:03:00,id=1002:73bf,subsystem-id=1da2:e438,iommugroup=7$'
contains "dgpu: the pci.cfg entry" "$T/m" "^#   	map node=fedora,path=0000:03:00,id=1002:73bf,subsystem-id=1da2:e438,iommugroup=7\$"
contains "dgpu: says .0's ids are checked" "$T/m" '^# path=0000:03:00 without a function maps every function of the slot'
contains "dgpu: how another node adds its map" "$T/m" '^# Each other node with the same model adds its own map: run `gpurun emit proxmox --mapping rx6800 PROFILE` there'
contains "dgpu: pvesh set replaces the list: says so" "$T/m" 'pvesh set replaces the whole list'
lacks "dgpu: no host address in a hostpci entry" "$T/m" '^hostpci[0-9]+: [0-9a-f]{4}:'
# ... and the VM lines are those of the plain output but for the hostpci entries
"$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox profiles/linux-dgpu.profile 2>/dev/null |
	grep -v '^hostpci' >"$T/plain"
grep -v '^hostpci' "$T/m" | sed '/^# The cluster-wide PCI resource mapping/,$d' >"$T/mapped"
check "dgpu: the rest of the output is the plain one" cmp -s "$T/plain" "$T/mapped"

# an extra device: a mapping of its own, named after its [device] (no '.')
mapping_golden desktop-dgpu win11-usb rx -
contains "usb: the GPU's slot" "$T/m" '^hostpci0: mapping=rx,pcie=1$'
contains "usb: the extra device" "$T/m" '^hostpci1: mapping=rx-usb,pcie=1$'
mapping_golden desktop-dgpu "$T/usb.profile" rx pve2
contains "usb.ctl: '.' becomes '-'" "$T/m" '^hostpci1: mapping=rx-usb-ctl,pcie=1$'
contains "usb.ctl: --node names the node" "$T/m" '--id rx-usb-ctl --map node=pve2,path=0000:00:14\.0,'

# per-function ROMs (GOP on the HDMI audio): one mapping per function, romfile= on each entry
mapping_golden strix-halo win11-strix-halo strix -
contains "strix: GPU mapping with its VBIOS" "$T/m" '^hostpci0: mapping=strix,pcie=1,romfile=vbios_1002_1586\.bin$'
contains "strix: audio mapping with the GOP ROM" "$T/m" '^hostpci1: mapping=strix-audio,pcie=1,romfile=AMDGopDriver\.rom$'
contains "strix: says why one mapping per function" "$T/m" "^# Proxmox checks every path of a mapping against the mapping's one vendor:device id"
contains "strix: the audio's own ids" "$T/m" '--id strix-audio --map node=pve,path=0000:c4:00\.1,id=1002:1640,'
# chosen functions without a later ROM: still one mapping per function (the ids differ)
mapping_golden strix-halo "$T/apu.profile" apu node-1
contains "apu: x-vga on the GPU's entry" "$T/m" '^hostpci0: mapping=apu,pcie=1,romfile=vbios_1002_1586\.bin,x-vga=1$'
contains "apu: the audio's entry" "$T/m" '^hostpci1: mapping=apu-audio,pcie=1$'
lacks "apu: no ';' list in a mapping" "$T/m" 'path=[^,]*;'
expect_rc 0 "the alias: gpurun proxmox --mapping" "$GPURUN" --root "$FIX/strix-halo" proxmox --mapping apu "$T/apu.profile"
cp "$T/out" "$T/alias"
"$GPURUN" --root "$FIX/strix-halo" emit proxmox --mapping apu "$T/apu.profile" >"$T/emit" 2>/dev/null
check "the alias prints the same" cmp -s "$T/alias" "$T/emit"

# the plain outputs pass the checker too (host addresses, no mapping)
for f in "$G"/*/*.proxmox; do
	[ -f "$f" ] || continue
	check "checker: $(basename "$(dirname "$f")")/$(basename "$f")" "$CP" "$f"
done

# --- the checker fails on what Proxmox refuses -------------------------------------------
M="$G/desktop-dgpu/linux-dgpu.mapping"
# bad_map DESCRIPTION SED [CHECKER ARGS...]: the golden edited with SED fails, saying why
bad_map() {
	d=$1 e=$2; shift 2
	sed "$e" "$M" >"$T/bad"
	if cmp -s "$T/bad" "$M"; then not_ok "checker refuses $d: the edit changed nothing"; return; fi
	if "$CP" "$@" "$T/bad" 2>"$T/cperr"; then not_ok "checker refuses $d"; else
		ok "checker refuses $d"; fi
}
check "checker passes the unedited golden" "$CP" --root "$FIX/desktop-dgpu" --node fedora "$M"
bad_map "a map path without its domain" 's/path=0000:03:00/path=03:00/g'
bad_map "an upper-case path" 's/path=0000:03:00/path=0000:0A:00/g'
bad_map "a map without id" 's/,id=1002:73bf//g'
bad_map "an unknown map key" 's/,iommugroup=/,group=/g'
bad_map "a node name with a dot" 's/node=fedora/node=fedora.lan/g'
bad_map "a mapping id starting with a digit" 's/rx6800/6800/g'
bad_map "hostpci with both host and mapping" 's/^hostpci0: mapping=rx6800/hostpci0: 0000:03:00,mapping=rx6800/'
bad_map "hostpci17" 's/^hostpci0:/hostpci17:/'
bad_map "a hostpci mapping nothing creates" 's/^hostpci0: mapping=rx6800/hostpci0: mapping=other/'
bad_map "pci.cfg and pvesh create disagreeing" '/^#   	map/s/iommugroup=7/iommugroup=8/'
bad_map "a map for another node" 's/node=fedora/node=pve9/g' --node fedora
bad_map "a wrong subsystem id (assert_valid)" 's/subsystem-id=1da2:e438/subsystem-id=1da2:e439/g' --root "$FIX/desktop-dgpu"
contains "... saying what Proxmox says" "$T/cperr" "'subsystem-id' does not match for 'rx6800' \\(1da2:e438 != 1da2:e439\\)"
bad_map "a missing IOMMU group (assert_valid)" 's/,iommugroup=7//g' --root "$FIX/desktop-dgpu"
contains "... saying what Proxmox says" "$T/cperr" "missing expected property 'iommugroup' for device '0000:03:00\\.0'"
bad_map "a device the node does not have" 's/path=0000:03:00/path=0000:09:00/g' --root "$FIX/desktop-dgpu"
# QemuServer.pm parse_vm_config drops blanks at the end of a config line: a romfile= there
# would name another file
bad_map "a blank at the end of a VM config value" 's/^hostpci0: mapping=rx6800,pcie=1$/& /'
contains "... saying qemu-server drops it" "$T/cperr" "hostpci0: blanks at the ends of .*, which qemu-server drops"

# --- a mediated-device parent (mdev_supported_types: GVT-g, vGPU): qemu-server checks the
# mapping's mdev flag against the device (Mapping/PCI.pm assert_valid with the mapping's
# config), so its mapping says mdev 1, in both forms
copy_fixture desktop-dgpu
mkdir "$T/root/sys/bus/pci/devices/0000:03:00.0/mdev_supported_types"
expect_rc 0 "mdev parent: emit --mapping" "$GPURUN" --root "$T/root" emit proxmox --mapping rx profiles/linux-dgpu.profile
cp "$T/out" "$T/mdev"
contains "mdev parent: pvesh create --mdev 1" "$T/mdev" '^#   pvesh create /cluster/mapping/pci --id rx --mdev 1 --map node=fedora,path=0000:03:00,'
contains "mdev parent: pci.cfg mdev 1" "$T/mdev" "^#   	mdev 1\$"
check "mdev parent: passes check-proxmox on that tree" "$CP" --root "$T/root" --node fedora "$T/mdev"
grep -v '^#   	mdev 1$' "$T/mdev" | sed 's/ --mdev 1//' >"$T/nomdev"
if "$CP" --root "$T/root" "$T/nomdev" 2>"$T/cperr"; then not_ok "checker refuses an mdev parent's mapping without mdev"
else ok "checker refuses an mdev parent's mapping without mdev"; fi
contains "... saying what Proxmox says" "$T/cperr" "'mdev' does not match for 'rx' \(1 != 0\)"
grep -v '^#   	mdev 1$' "$T/mdev" >"$T/halfmdev"
if "$CP" "$T/halfmdev" 2>"$T/cperr"; then not_ok "checker refuses pvesh create and pci.cfg disagreeing on mdev"
else ok "checker refuses pvesh create and pci.cfg disagreeing on mdev"; fi
check "the fixture's own golden: no mdev" "$CP" --root "$FIX/desktop-dgpu" "$M"
lacks "... and no mdev in it" "$M" 'mdev'

# --- node names ----------------------------------------------------------------------------
copy_fixture desktop-dgpu
echo "pve1.example.com" >"$T/root/etc/hostname"
expect_rc 0 "FQDN in etc/hostname" "$GPURUN" --root "$T/root" emit proxmox --mapping rx profiles/linux-dgpu.profile
contains "FQDN: the node is the short name" "$T/out" '--map node=pve1,path='
# hostname(5): '#' comment lines and blank lines are not the name, nor blanks around it
printf '# this host\n\n  pve3.lan  \n' >"$T/root/etc/hostname"
expect_rc 0 "etc/hostname with a comment and blank lines" "$GPURUN" --root "$T/root" emit proxmox --mapping rx profiles/linux-dgpu.profile
contains "... the node is its first name line" "$T/out" '--map node=pve3,path='
printf '# only a comment\n\n' >"$T/root/etc/hostname"
expect_rc 1 "etc/hostname without a name: refused" "$GPURUN" --root "$T/root" emit proxmox --mapping rx profiles/linux-dgpu.profile
contains "... saying so" "$T/err" "etc/hostname holds no host name \(only blank or '#' comment lines\); give it with --node NAME"
rm "$T/root/etc/hostname"
expect_rc 1 "no etc/hostname: refused" "$GPURUN" --root "$T/root" emit proxmox --mapping rx profiles/linux-dgpu.profile
contains "no etc/hostname: names the file and --node" "$T/err" "Cannot tell this node's name: .*/etc/hostname: .*; give it with --node NAME\\."
check "no etc/hostname: nothing on stdout" test ! -s "$T/out"
expect_rc 0 "no etc/hostname, --node given" "$GPURUN" --root "$T/root" emit proxmox --mapping rx --node n1 profiles/linux-dgpu.profile
echo "-bad-" >"$T/root/etc/hostname"
expect_rc 1 "etc/hostname not a node name: refused" "$GPURUN" --root "$T/root" emit proxmox --mapping rx profiles/linux-dgpu.profile
contains "... saying so" "$T/err" "holds '-bad-', not a Proxmox node name; give it with --node NAME"

# --- usage errors --------------------------------------------------------------------------
P=profiles/linux-dgpu.profile
expect_rc 2 "--mapping only for proxmox" "$GPURUN" --root "$FIX/desktop-dgpu" emit qemu --mapping rx "$P"
contains "... says so" "$T/err" '--mapping only applies to Proxmox output'
expect_rc 2 "--node without --mapping" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox --node n1 "$P"
contains "... says so" "$T/err" '--node only applies with --mapping'
expect_rc 2 "--mapping with --args" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox --mapping rx --args "$P"
contains "... says why" "$T/err" "--mapping and --args exclude each other: args: names this host's PCI addresses"
expect_rc 2 "a one-letter mapping name refused" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox --mapping g "$P"
contains "... saying two characters at least" "$T/err" "invalid mapping name 'g': .*two characters at least"
for bad in 1gpu a x.y 'a b' 'é'; do
	expect_rc 2 "mapping name '$bad' refused" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox --mapping "$bad" "$P"
	contains "... '$bad' quoted, with the rule" "$T/err" "invalid mapping name '$bad': a letter, then letters, digits, '-' and '_'"
done
for bad in -n n- n.lan 'n 1' ''; do
	expect_rc 2 "node name '$bad' refused" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox --mapping rx --node "$bad" "$P"
	contains "... '$bad' quoted" "$T/err" "invalid node name '$bad'"
done
expect_rc 0 "a one-letter node, digits and '-' inside" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox --mapping Rx_1-a --node 1-a "$P"
contains "... taken as given" "$T/out" '^hostpci0: mapping=Rx_1-a,pcie=1$'
done_testing
