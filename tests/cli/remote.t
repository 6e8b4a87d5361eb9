#!/bin/sh
# A remote libvirt node: check, ls, plan, run --dry-run, bind and restore read and change
# nothing on this machine. libvirt's test driver plays the node (test:///…/node.xml, the
# desktop-dgpu fixture's PCI functions as node devices, and a "gpurun" storage pool); the test
# seam GPURUN_TEST_REMOTE_URI (host/remote.h) makes that URI count as remote. This machine is a
# copy of the desktop-dgpu fixture (--root): its tree is compared byte for byte after every
# command, and tests/fault/libfault.so logs every write gpurun makes under it (none allowed).
. tests/cli/lib.sh

LIBFAULT=${GPURUN_BUILD:-build}/tools/libfault.so
MKROM=${GPURUN_BUILD:-build}/tools/mkrom
if [ ! -f "$LIBFAULT" ] || [ ! -x "$MKROM" ]; then echo "1..0 # SKIP libfault.so or mkrom not built"; exit 0; fi
if ! command -v virsh >/dev/null; then echo "1..0 # SKIP virsh (libvirt-clients) not installed"; exit 0; fi
LIBFAULT=$(cd "$(dirname "$LIBFAULT")" && pwd)/libfault.so
ASAN=
if ldd "$GPURUN" 2>/dev/null | grep -q libasan; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	ASAN=1
fi
NODE="$GPURUN_TOP/tests/fixtures/nodedev/desktop-dgpu/node.xml"
U="test://$NODE"
export GPURUN_TEST_REMOTE_URI="$U"
copy_fixture desktop-dgpu
S="$T/state"
# g ARGS...: gpurun on the fixture root, every write under it logged
g() {
	FAULT_ROOT="$T/root" FAULT_LOG="$T/flog" LD_PRELOAD="$LIBFAULT" \
		"$GPURUN" --root "$T/root" --state-dir "$S" "$@"
}
# untouched WHAT: no write under the root, and the tree is the fixture's, byte for byte
untouched() {
	if [ -s "$T/flog" ]; then not_ok "$1: nothing written on this machine"; sed 's/^/# /' "$T/flog"
	else ok "$1: nothing written on this machine"; fi
	if diff -r --no-dereference "$FIX/desktop-dgpu" "$T/root" >"$T/diff" 2>&1; then
		ok "$1: this machine's tree unchanged"
	else not_ok "$1: this machine's tree unchanged"; sed 's/^/# /' "$T/diff"; fi
	rm -f "$T/flog"
}
profile() { # profile NAME URI [VBIOS] > $T/NAME.profile
	cat >"$T/$1.profile" <<EOF
[vm]
name = $1
firmware = uefi
disk = /var/lib/libvirt/images/$1.qcow2
network = user
backend = libvirt
libvirt-uri = $2
[gpu]
device = 0000:03:00.0
functions = all
vbios = ${3:-none}
EOF
}
profile r "$U"
profile v "$U" vfct
"$MKROM" legacy 1002 73bf 65536 "$T/navi21.rom" >/dev/null
profile f "$U" "$T/navi21.rom"

# --- the positive control: the same logger sees a local bind's sysfs writes
FAULT_ROOT="$T/root" FAULT_LOG="$T/flog" LD_PRELOAD="$LIBFAULT" \
	"$GPURUN" --root "$T/root" --state-dir "$T/state-local" bind --timeout 0.2 0000:03:00.0 0000:03:00.1 \
	>/dev/null 2>&1
contains "control: a local bind writes this machine's sysfs (the log sees it)" "$T/flog" '^1 write sys/.*0000:03:00.1/driver_override$'
rm -rf "$T/root" "$T/flog" "$T/state-local"
copy_fixture desktop-dgpu

# --- classification and its errors
expect_rc 2 "--connect that is not a URI" g ls --connect system
contains "says so" "$T/err" "Invalid --connect: 'system' is not a libvirt URI"
profile bad "qemu+carrierpigeon://gpuhost/system"
expect_rc 2 "profile libvirt-uri that is not a URI" g plan "$T/bad.profile"
contains "names the profile line" "$T/err" "bad.profile:7: .*libvirt-uri.*unknown transport 'carrierpigeon'"
untouched "usage errors"

# --- ls and check read the node through libvirt
expect_rc 0 "ls --connect (remote)" g ls --connect "$U"
contains "the node's GPU and its group" "$T/out" '03:00\.0 .*\[1002:73bf\]'
contains "IOMMU groups from the node devices" "$T/out" 'IOMMU group 7:'
contains "reset methods unknown (libvirt does not show them)" "$T/out" '^          driver [a-z_0-9-]*, reset: unknown$'
lacks "never reset: none on a node" "$T/out" 'reset: none'
expect_rc 0 "ls --json --connect (remote)" g ls --json --connect "$U"
contains "reset null in JSON" "$T/out" '"address":"0000:03:00.0",.*"reset":null'
expect_rc 0 "check --connect (remote)" g check --connect "$U"
contains "IOMMU from the node's groups" "$T/out" "^PASS  IOMMU enabled on test://.*: 10 IOMMU groups"
contains "what libvirt does not show is unknown, not PASS" "$T/out" "^INFO  Interrupt remapping on test://.*unknown"
contains "boot VGA unknown" "$T/out" "^INFO  Whether 0000:03:00.0 is the boot VGA device of test://"
lacks "no local fact (kernel command line, /proc/cpuinfo)" "$T/out" "/proc/cpuinfo|kernel command line \\(|host-config"
expect_rc 0 "check PROFILE (remote)" g check "$T/r.profile"
contains "the profile's node is checked" "$T/out" "IOMMU enabled on test://"
untouched "ls and check"

# --- plan and run --dry-run plan no local action
expect_rc 0 "plan (remote)" g plan "$T/r.profile"
contains "names the node" "$T/out" "^node: test://.* \\(remote: nothing on this machine is changed\\)"
contains "audio detached first, on the node" "$T/out" "^action 1: nodedev-detach 0000:03:00.1"
contains "then the GPU" "$T/out" "^action 2: nodedev-detach 0000:03:00.0"
lacks "no local action" "$T/out" "load-module|bind-vfio|stage-rom|unbind-console|unbind-framebuffer"
lacks "no local firmware file" "$T/out" "ovmf-code"
expect_rc 1 "vbios = vfct against a node" g plan "$T/v.profile"
contains "tells to extract it there" "$T/out" "FAIL vbios: vbios = vfct reads the ACPI VFCT table of the host the VM runs on"
contains "with gpurun vbios extract" "$T/out" "fix: Run .gpurun vbios extract. on that host"
expect_rc 0 "plan with a ROM file (remote)" g plan "$T/f.profile"
contains "the ROM is uploaded to the node's pool" "$T/out" "^action 1: upload-rom navi21.rom <- $T/navi21.rom"
contains "the XML's rom file is the volume's path there" "$T/out" "-> /var/lib/gpurun/roms/navi21.rom"
expect_rc 0 "run --dry-run (remote)" g run --dry-run "$T/f.profile"
contains "upload described" "$T/out" "^upload ROM $T/navi21.rom as volume navi21.rom of pool 'gpurun' on test://"
contains "detach on the node described" "$T/out" "^detach 0000:03:00.1 on test://.*: no driver -> vfio-pci \\(libvirt node device pci_0000_03_00_1\\)"
contains "domain on the node" "$T/out" "^start transient domain 'f' on test://"
lacks "no local step" "$T/out" "^bind |^load module|^stage ROM|^wait for|^create |^unbind"
expect_rc 0 "emit libvirt (remote)" g emit libvirt "$T/f.profile"
contains "rom file on the node" "$T/out" "<rom file=\"/var/lib/gpurun/roms/navi21.rom\"/>"
contains "libvirt there picks the firmware" "$T/out" "<os firmware=\"efi\">"
untouched "plan, run --dry-run, emit"

# --- the issue's case: a node that cannot be reached is not replaced by this machine
profile ssh "qemu+tcp://127.0.0.1:1/system"
unset GPURUN_TEST_REMOTE_URI
expect_rc 1 "run --dry-run against an unreachable node" g run --dry-run "$T/ssh.profile"
contains "fails on the node" "$T/err" "Failed to inspect node qemu\\+tcp://127.0.0.1:1/system"
lacks "never plans a local bind" "$T/out" "bind 0000:03:00.0|amdgpu -> vfio-pci"
untouched "unreachable node"
# a unix socket of its own may be forwarded from another machine (ssh -L SOCK:/run/libvirt/...)
profile fwd "qemu+unix:///system?socket=$T/gpuhost.sock"
expect_rc 1 "run --dry-run through a forwarded socket" g run --dry-run "$T/fwd.profile"
contains "goes to the node behind it" "$T/err" "Failed to inspect node qemu\\+unix:///system\\?socket="
lacks "never plans a local bind" "$T/out" "bind 0000:03:00.0|amdgpu -> vfio-pci"
expect_rc 1 "ls --connect through a forwarded socket" g ls --connect "qemu:///system?socket=$T/gpuhost.sock"
lacks "lists nothing of this machine" "$T/out" "03:00\\.0"
untouched "forwarded socket"
export GPURUN_TEST_REMOTE_URI="$U"

# --- bind and restore: the journal is kept here (keyed by URI), the changes go to the node.
# The test driver cannot detach (virNodeDeviceDetachFlags is not supported there): bind fails
# on the node and its revert does too, which leaves the journal for restore.
expect_rc 2 "bind of addresses with a remote --connect" g bind --connect "$U" 0000:03:00.0
contains "asks for a profile" "$T/err" "name a PROFILE"
expect_rc 1 "bind PROFILE (remote; the test driver cannot detach)" g bind "$T/r.profile"
contains "the node's libvirt said why" "$T/err" "Failed to detach pci_0000_03_00_1 on test://.*virNodeDeviceDetachFlags"
contains "journal entry names the URI and node device" "$S/r/journal" "^nodedev-detach test://[^ ]*node.xml pci_0000_03_00_1 driver=$"
untouched "bind"
expect_rc 0 "restore --dry-run" g restore --dry-run r
contains "names the node" "$T/out" "undo nodedev-detach test://"
expect_rc 1 "restore (the test driver cannot reattach either)" g restore r
contains "reattach tried on the node" "$T/err" "Failed to give 0000:03:00.1 on test://.* back to no driver"
untouched "restore"
expect_rc 2 "a remote --connect with backend = qemu" g plan --connect "$U" "$FIX/../../../profiles/linux-dgpu.profile"
contains "says to use backend = libvirt" "$T/err" "set backend = libvirt"
untouched "backend = qemu"
expect_rc 2 "host-config with a remote --connect" g host-config --connect "$U" --device 0000:03:00.0
contains "says to run it there" "$T/err" "host-config changes this machine, but --connect test://.* is another host"
expect_rc 2 "host-config PROFILE whose libvirt-uri is remote" g host-config "$T/r.profile"
contains "says to run it there" "$T/err" "host-config changes this machine, but the profile's libvirt-uri test://.* is another host"
lacks "reads nothing of this machine's boot setup" "$T/out" "^Bootloader:"
expect_rc 2 "vbios extract with a remote --connect" g vbios extract --connect "$U"
contains "says to run it there" "$T/err" "run .gpurun vbios extract. on that host"
untouched "host-config and vbios"

# --- the node's words are the node's: a group it lacks is named as its, and its names are one line
expect_rc 2 "ls GROUP the node does not have" g ls --connect "$U" 99
contains "names the node, not this host" "$T/err" "No IOMMU group 99 on test://.*node\.xml"
lacks "... not this host" "$T/err" "on this host"
sed 's|>Navi 21/23 HDMI/DP Audio Controller<|>Navi 21/23\
FAKE	line<|' "$NODE" >"$T/node2.xml"
check "the edited node has a line break in a product name" grep -q '^FAKE' "$T/node2.xml"
U2="test://$T/node2.xml"
GPURUN_TEST_REMOTE_URI="$U2" expect_rc 0 "ls a node whose product name has a line break" g ls --connect "$U2" 0000:03:00.1
contains "... printed on one line" "$T/out" 'AUDIO 03:00\.1 Audio device \[0403\]: .*Navi 21/23 FAKE line'
lacks "... no line of its own" "$T/out" '^FAKE'
untouched "node names"

# --- Proxmox output of a remote node's VM: --stage would write this machine's /usr/share/kvm,
# --mapping would give this machine's name to the node's devices (and subsystem ids libvirt
# does not show): both refused, nothing written; the plain lines are only text
expect_rc 2 "emit proxmox --stage of a remote VM refused" g emit proxmox --stage "$T/f.profile"
contains "... saying why and where to run it" "$T/err" "--stage copies the ROM files into this machine's /usr/share/kvm, but the VM runs on test://.*, another host; run .gpurun emit proxmox --stage PROFILE. on that Proxmox node itself"
check "... nothing on stdout" test ! -s "$T/out"
expect_rc 2 "emit proxmox --mapping of a remote VM refused" g emit proxmox --mapping gx "$T/f.profile"
contains "... saying why" "$T/err" "--mapping prints this machine's map of its PCI devices, but the VM runs on test://"
lacks "... no map with this machine's name" "$T/out" "node=fedora"
expect_rc 0 "emit proxmox of a remote VM: only text" g emit proxmox "$T/f.profile"
untouched "emit proxmox --stage/--mapping of a remote VM"
done_testing
