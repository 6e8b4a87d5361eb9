#!/bin/sh
# plan predicts run, and the three outputs refuse the same way: profiles that run (or libvirt,
# or QEMU) would trip over are refused by plan, `run --dry-run` and every `emit` alike.
. tests/cli/lib.sh
export NO_COLOR=1
H="$FIX/desktop-dgpu"
g() { "$GPURUN" --root "$H" --state-dir "$T/st" "$@"; }
# all EXIT WHAT PROFILE: plan, run --dry-run and the three emitters exit EXIT
all() {
	for c in plan "run --dry-run" "emit qemu" "emit libvirt" "emit proxmox"; do
		# shellcheck disable=SC2086
		expect_rc "$1" "$2: $c exits $1" g $c "$3"
	done
}

# a [device] that is a PCI bridge: vfio-pci's probe refuses a header type other than 0, so the
# bind of run fails after the GPU was taken from the host
printf '[vm]\nname = br\n[gpu]\ndevice = 0000:03:00.0\n[device br]\naddress = 0000:00:1c.0\n' >"$T/br.profile"
all 1 "[device] bridge" "$T/br.profile"
g plan "$T/br.profile" >"$T/out" 2>&1
contains "[device] bridge: FAIL names it" "$T/out" '^FAIL device: \[device br\] 0000:00:1c\.0 is a PCI bridge'
lacks "[device] bridge: no bind planned" "$T/out" 'bind-vfio 0000:00:1c\.0'

# a [device] that is the host's boot VGA with the console: run releases the consoles of the
# [gpu] only, so it would pull the display from under the host
printf '[vm]\nname = ig\n[gpu]\ndevice = 0000:03:00.0\nallow-boot-vga = yes\n[device igpu]\naddress = 0000:00:02.0\n' >"$T/ig.profile"
all 1 "[device] boot VGA" "$T/ig.profile"
g plan "$T/ig.profile" >"$T/out" 2>&1
contains "[device] boot VGA: FAIL names it" "$T/out" '^FAIL boot-vga: \[device igpu\] 0000:00:02\.0 is the boot VGA device and holds the console'
# the same device as the [gpu] with allow-boot-vga is fine (its console is released)
printf '[vm]\nname = ig2\n[gpu]\ndevice = 0000:00:02.0\nallow-boot-vga = yes\n' >"$T/ig2.profile"
expect_rc 0 "boot VGA as [gpu] with allow-boot-vga plans" g plan "$T/ig2.profile"
# an ordinary [device] still plans
printf '[vm]\nname = nv\n[gpu]\ndevice = 0000:03:00.0\n[device nvme]\naddress = 0000:05:00.0\n' >"$T/nv.profile"
expect_rc 0 "[device] NVMe plans" g plan "$T/nv.profile"

# more than 255 vCPUs: libvirt refuses the domain (no IOMMU in extended interrupt mode), QEMU
# under TCG the -smp, q35 stops at 288: one profile error for every command
for n in 256 288 1024; do
	printf '[vm]\nname = c\ncpus = %s\n[gpu]\ndevice = 0000:03:00.0\n' "$n" >"$T/c.profile"
	all 2 "cpus = $n" "$T/c.profile"
	contains "cpus = $n: the error names the line and the limit" "$T/err" "c\\.profile:3: 'cpus': $n is out of range, allowed 1 to 255"
done
printf '[vm]\nname = c\ncpus = 255\n[gpu]\ndevice = 0000:03:00.0\n' >"$T/c.profile"
all 0 "cpus = 255" "$T/c.profile"

# VFIO pins every page of the guest memory when QEMU starts: more than the host has cannot start
# (proc/meminfo MemTotal; not checked when it cannot be read, as in the bare fixtures)
copy_fixture desktop-dgpu
printf 'MemTotal:       32768000 kB\nMemFree:        1000000 kB\n' >"$T/root/proc/meminfo"
H="$T/root"
printf '[vm]\nname = m\nmemory = 64G\n[gpu]\ndevice = 0000:03:00.0\n' >"$T/m.profile"
all 1 "memory above MemTotal" "$T/m.profile"
g plan "$T/m.profile" >"$T/out" 2>&1
contains "memory: the FAIL names both sizes" "$T/out" '^FAIL memory: memory = 65536 MiB is more than the host.s 32000 MiB'
printf '[vm]\nname = m\nmemory = 16G\n[gpu]\ndevice = 0000:03:00.0\n' >"$T/m.profile"
all 0 "memory below MemTotal" "$T/m.profile"
g check "$T/m.profile" >"$T/out" 2>&1
contains "memory: check PROFILE passes it" "$T/out" '^PASS  memory = 16384 MiB fits in the host.s 32000 MiB'

# the format every output names for a disk (its name: .qcow2 or raw) and the nvram (the OVMF
# variables template's) against the file's own: QEMU refuses a non-qcow2 file read as qcow2
# (`qemu-img create x.qcow2 10G` without -f qcow2 makes a raw one); a qcow2 image read as raw
# starts, showing the guest qcow2's metadata. An empty file (the fixtures') is not judged.
H="$FIX/desktop-dgpu"
head -c 65536 /dev/zero >"$T/raw.qcow2"
printf 'QFI\373\000\000\000\003' >"$T/q.img"
printf 'QFI\373\000\000\000\003' >"$T/q.qcow2"
printf 'placeholder' >"$T/vars.fd"
disk() { printf '[vm]\nname = f\n%s\n[gpu]\ndevice = 0000:03:00.0\n' "$1" >"$T/f.profile"; }
disk "disk = $T/raw.qcow2"
all 1 "raw image named .qcow2" "$T/f.profile"
contains "raw image named .qcow2: FAIL says why" "$T/err" "^FAIL disk: disk = .*/raw\.qcow2: not a qcow2 image, but read as one \(its name ends in \.qcow2\): QEMU refuses to open it"
disk "disk = $T/q.qcow2"
all 0 "qcow2 image named .qcow2" "$T/f.profile"
disk "disk = $T/q.img"
expect_rc 0 "qcow2 image named .img: plan passes" g plan "$T/f.profile"
contains "qcow2 image named .img: WARN" "$T/out" "^WARN disk: disk = .*/q\.img: a qcow2 image, but read as raw"
# desktop-dgpu's OVMF variables are qcow2 (Fedora's descriptors)
disk "nvram = $T/vars.fd"
all 1 "raw nvram where the variables are qcow2" "$T/f.profile"
contains "raw nvram: FAIL says why" "$T/err" "^FAIL nvram: nvram = .*/vars\.fd: not a qcow2 image, but read as one \(the OVMF variables are qcow2 here\)"
disk "nvram = $T/q.qcow2"
all 0 "qcow2 nvram where the variables are qcow2" "$T/f.profile"
# boot-vga-only's (Arch) are raw
H="$FIX/boot-vga-only"
printf '[vm]\nname = f\nnvram = %s\n[gpu]\ndevice = 0000:03:00.0\nallow-boot-vga = yes\n' "$T/q.qcow2" >"$T/f.profile"
all 1 "qcow2 nvram where the variables are raw" "$T/f.profile"
contains "qcow2 nvram: FAIL says why" "$T/err" "^FAIL nvram: nvram = .*/q\.qcow2: a qcow2 image, but read as raw \(the OVMF variables are raw here\)"

# backend = libvirt: run fills the domain template before it changes anything; a template that
# is missing or not a <domain> document is a FAIL of plan too (backend = qemu needs none)
H="$FIX/desktop-dgpu"
tp() { printf '[vm]\nname = t\nbackend = libvirt\ntemplate = %s\n[gpu]\ndevice = 0000:03:00.0\n' "$1" >"$T/t.profile"; }
tp nosuch
for c in plan "run --dry-run" check; do
	# shellcheck disable=SC2086
	expect_rc 1 "template not found: $c exits 1" g $c "$T/t.profile"
done
g plan "$T/t.profile" >"$T/out" 2>&1
contains "template not found: FAIL says where it looked" "$T/out" '^FAIL template: template = nosuch: not found \(looked in .*xml-templates\)'
tp "$T/none.xml"
expect_rc 1 "template path missing: plan exits 1" g plan "$T/t.profile"
contains "template path missing: FAIL" "$T/out" "^FAIL template: template = $T/none\.xml: the file does not exist"
printf '<domain><name>x</name>\n' >"$T/bad.xml"
tp "$T/bad.xml"
expect_rc 1 "template not XML: plan exits 1" g plan "$T/t.profile"
contains "template not XML: FAIL" "$T/out" "^FAIL template: template = $T/bad\.xml: not a <domain> XML document"
expect_rc 1 "template not XML: run --dry-run exits 1" g run --dry-run "$T/t.profile"
tp windows11
expect_rc 0 "template windows11: plan passes" g plan "$T/t.profile"
g check "$T/t.profile" >"$T/out" 2>&1
contains "template windows11: check PROFILE passes it" "$T/out" '^PASS  template = windows11: a <domain> document'
# backend = qemu does not read it
printf '[vm]\nname = t\ntemplate = nosuch\n[gpu]\ndevice = 0000:03:00.0\n' >"$T/t.profile"
expect_rc 0 "backend = qemu: the template is not needed" g plan "$T/t.profile"

# network = bridge:NAME: the bridge must exist, and for backend = qemu QEMU's bridge helper
# must allow it (/etc/qemu/bridge.conf; Debian ships none, so -nic bridge fails there)
copy_fixture desktop-dgpu
H="$T/root"
mkdir -p "$H/sys/class/net/vmbr0/bridge" "$H/sys/class/net/eno1"
nb() { printf '[vm]\nname = n\nnetwork = bridge:%s\n%s\n[gpu]\ndevice = 0000:03:00.0\n' "$1" "${2:-}" >"$T/n.profile"; }
nb br9
all 1 "no such bridge" "$T/n.profile"
contains "no such bridge: FAIL names it" "$T/err" "^FAIL network: network = bridge:br9: the host has no bridge 'br9'"
nb vmbr0
all 1 "bridge without bridge.conf" "$T/n.profile"
contains "no bridge.conf: FAIL says so" "$T/err" '^FAIL network: network = bridge:vmbr0: QEMU.s bridge helper refuses it: /etc/qemu/bridge.conf does not exist'
mkdir -p "$H/etc/qemu"
echo 'allow virbr0' >"$H/etc/qemu/bridge.conf"
expect_rc 1 "bridge not allowed: plan exits 1" g plan "$T/n.profile"
contains "bridge not allowed: FAIL says so" "$T/out" 'QEMU.s bridge helper refuses it: /etc/qemu/bridge.conf does not allow it'
printf '# all of them\nallow all\ndeny virbr0\n' >"$H/etc/qemu/bridge.conf"
all 0 "bridge allowed" "$T/n.profile"
printf 'allow all\ndeny vmbr0\n' >"$H/etc/qemu/bridge.conf"
expect_rc 1 "bridge denied: plan exits 1" g plan "$T/n.profile"
# libvirt makes the tap itself: the helper's ACL does not matter
nb vmbr0 'backend = libvirt'
expect_rc 0 "backend = libvirt: no bridge helper" g plan "$T/n.profile"

# the programs run starts after it has bound the GPU: QEMU (backend = qemu), swtpm (tpm = yes).
# plan, check PROFILE and run say it first; emit (output for any machine) and bind do not.
printf '[vm]\nname = pq\nfirmware = uefi\ntpm = yes\n[gpu]\ndevice = 0000:03:00.0\n' >"$T/pq.profile"
expect_rc 1 "no QEMU at --qemu: plan exits 1" g --qemu "$T/no-qemu" plan "$T/pq.profile"
contains "no QEMU at --qemu: FAIL program" "$T/out" "^FAIL program: QEMU $T/no-qemu: no such file"
printf '#!/bin/sh\n' >"$T/qemu-noexec"
chmod 644 "$T/qemu-noexec"
expect_rc 1 "QEMU not executable: check PROFILE exits 1" g --qemu "$T/qemu-noexec" check "$T/pq.profile"
contains "QEMU not executable: said" "$T/out" "^FAIL  QEMU $T/qemu-noexec: not executable"
mkdir -p "$T/emptybin"
G=$(command -v "$GPURUN" || echo "$GPURUN")
expect_rc 1 "no QEMU, no swtpm in PATH: plan exits 1" env PATH="$T/emptybin" "$G" --root "$H" --state-dir "$T/st" plan "$T/pq.profile"
contains "QEMU not in PATH: said with the package" "$T/out" '^FAIL program: QEMU qemu-system-x86_64: not found in PATH'
contains "... and the fix names the package" "$T/out" 'apt install qemu-system-x86'
contains "swtpm not in PATH: said" "$T/out" '^FAIL program: tpm = yes needs swtpm: not found in PATH'
expect_rc 0 "emit qemu does not look for QEMU" g --qemu "$T/no-qemu" emit qemu "$T/pq.profile"
cp -a "$H" "$T/hq"
expect_rc 1 "run refuses before any host change" "$GPURUN" --root "$T/hq" --state-dir "$T/stq" --qemu "$T/no-qemu" run "$T/pq.profile"
contains "run: refusal names QEMU" "$T/err" 'Refusing: QEMU .*no-qemu: no such file'
check "run: no state written, nothing bound" sh -c '[ ! -e "$1/stq" ] && [ "$(readlink "$2/sys/bus/pci/devices/0000:03:00.0/driver")" = "$(readlink "$3/sys/bus/pci/devices/0000:03:00.0/driver")" ]' sh "$T" "$T/hq" "$H"
# a QEMU found by name in PATH, and swtpm with it: no program FAIL
printf '#!/bin/sh\n' >"$T/emptybin/qemu-system-x86_64"
printf '#!/bin/sh\n' >"$T/emptybin/swtpm"
chmod 755 "$T/emptybin/qemu-system-x86_64" "$T/emptybin/swtpm"
env PATH="$T/emptybin" "$G" --root "$H" --state-dir "$T/st" plan "$T/pq.profile" >"$T/out" 2>&1
lacks "both in PATH: no program FAIL" "$T/out" 'FAIL program'
done_testing
