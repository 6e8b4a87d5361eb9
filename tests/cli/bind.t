#!/bin/sh
# gpurun bind / unbind (PROFILE or addresses) on a copy of the strix-halo fixture, with
# tests/tools/fake-kernel playing sysfs. Never touches the real /sys.
. tests/cli/lib.sh

. tests/cli/strix.sh
jqt() { jq -e "$@" >/dev/null; }
both() { [ "$(drv $GPU)" = "$1" ] && [ "$(drv $AUD)" = "$2" ]; }
g() { "$GPURUN" --root "$T/root" "$@"; }
cat >"$T/w.profile" <<EOF2
[vm]
name = w
firmware = bios
network = none
[gpu]
device = 1002:1586
vbios = none
allow-boot-vga = yes
EOF2

start_kernel
# --- addresses
expect_rc 1 "bind of the boot VGA refused" g bind $GPU $AUD
contains "override named" "$T/err" "Refusing: $GPU is the GPU holding the host console \\(override: --allow-boot-vga\\)"
expect_rc 1 "bind of half a group refused" g bind --allow-boot-vga $GPU
contains "group member named" "$T/err" "IOMMU group 14 of $GPU also holds $AUD \\(snd_hda_intel\\); pass it too$"
expect_rc 1 "--force does not bind half a group" g bind --allow-boot-vga --force $GPU
contains "says why --force cannot" "$T/err" "IOMMU group 14 of $GPU also holds $AUD .*--force cannot override it: the kernel refuses to open an IOMMU group while another member keeps its host driver"
check "refusals changed nothing" both amdgpu snd_hda_intel
expect_rc 2 "unknown address" g bind 0000:99:00.0
contains "no such device, with the closest" "$T/err" "No PCI device matches device '0000:99:00.0': no device 0000:99:00.0 on this host; see .gpurun ls."
expect_rc 2 "short address of no device" g bind c5:0.0
contains "did you mean" "$T/err" "no device 0000:c5:00.0 on this host \(did you mean 0000:c4:00.0\?\)"
# a dry-run unbind of functions on their host drivers: says so, and makes no lock file
rm -rf "$T/root/run/gpurun/locks"
expect_rc 0 "unbind --dry-run of functions on their host drivers" g --dry-run unbind $GPU $AUD
contains "dry-run says the function keeps its driver" "$T/out" "release $GPU: already on amdgpu"
check "dry-run unbind made no lock file" sh -c '! ls "$1"/run/gpurun/locks/*.lock 2>/dev/null' sh "$T/root"
expect_rc 2 "not an address or profile" g unbind 0000:zz:00.0
contains "says it is no address" "$T/err" "Invalid device '0000:zz:00.0': not a PCI address"
expect_rc 2 "function out of range" g bind c4:00.8
contains "function must be 0-7" "$T/err" "Invalid device 'c4:00.8': function must be 0-7$"
expect_rc 2 "device out of range" g bind c4:20.0
contains "device must be 00-1f" "$T/err" "Invalid device 'c4:20.0': device must be 00-1f$"
expect_rc 2 "bus out of range" g bind 1c4:00.0
contains "bus must be 00-ff" "$T/err" "Invalid device '1c4:00.0': bus must be 00-ff$"
expect_rc 2 "an id of several functions is ambiguous" g bind 1022:1509
contains "lists them" "$T/err" "1022:1509 matches 3 functions: 0000:00:01\.0, 0000:00:02\.0, 0000:00:08\.0; name one by address"
check "refusals changed nothing" both amdgpu snd_hda_intel

expect_rc 0 "bind GPU + audio" g bind --allow-boot-vga --timeout 30 $GPU $AUD
check "both on vfio-pci" both vfio-pci vfio-pci
check "group device node" test -e "$T/root/dev/vfio/14"
check "audio moved first" sh -c "grep -n 'unbound from' '$T/fk.err' | head -1 | grep -q '$AUD'"
check "journal kept for unbind" test -s "$T/root/run/gpurun/bind-$GPU/journal"
contains "journal: audio entry" "$T/root/run/gpurun/bind-$GPU/journal" "^bind $AUD driver=snd_hda_intel override=$"
# a guest started outside gpurun (a libvirt domain after a hook's bind) holds the group open:
# restore and unbind refuse and name it (restore --force would go on)
mkdir -p "$T/root/proc/4242/fd"; printf 'qemu-system-x86\n' >"$T/root/proc/4242/comm"
ln -s /dev/vfio/14 "$T/root/proc/4242/fd/21"
expect_rc 1 "restore refused while a process has the group open" g restore
contains "names the process" "$T/err" "Not restoring VM 'bind-$GPU': $AUD is in use by pid 4242 \\(qemu-system-x86\\) through /dev/vfio/14; stop the guest first \\(override: \`gpurun restore --force bind-$GPU\`\\)"
expect_rc 1 "unbind refused too" g unbind $GPU $AUD
check "nothing moved" both vfio-pci vfio-pci
# the holder's comm is whatever it set (PR_SET_NAME): its control bytes do not reach the terminal
printf 'q\033]0;x\007\033[2J\n' >"$T/root/proc/4242/comm"
expect_rc 1 "restore refused: holder with escapes in its comm" g restore
contains "names it with '?' for each control byte" "$T/err" "in use by pid 4242 \\(q\\?\\]0;x\\?\\?\\[2J\\) through"
rm -r "$T/root/proc/4242"
expect_rc 1 "second bind of the audio refused" g bind --force $AUD
contains "holder named" "$T/err" "$AUD is in use by gpurun VM bind-$GPU \\(journal left\\)"
expect_rc 0 "unbind one address releases its whole journal" g unbind $AUD
check "both back" both amdgpu snd_hda_intel
contains "reports the drivers" "$T/err" "$GPU: amdgpu \\(restored\\)"
check "journal gone" test ! -e "$T/root/run/gpurun/bind-$GPU/journal"
check "device node gone" test ! -e "$T/root/dev/vfio/14"

# --- unbind of a function no journal knows: released to whichever driver takes it
d="$T/root/sys/bus/pci/devices/$AUD"
printf vfio-pci >"$d/driver_override"; printf %s $AUD >"$d/driver/unbind"
wait_file "$T/fk.err" "$AUD unbound"
printf %s $AUD >"$T/root/sys/bus/pci/drivers_probe"
i=0; while [ "$(drv $AUD)" != vfio-pci ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
expect_rc 0 "unbind without journal" g unbind --timeout 30 $AUD
check "audio back on its native driver" both amdgpu snd_hda_intel
contains "says which" "$T/err" "$AUD: snd_hda_intel"

# --- profile
expect_rc 0 "bind --dry-run PROFILE" g --dry-run bind "$T/w.profile"
contains "dry run lists the bind" "$T/out" "^bind $GPU: amdgpu -> vfio-pci"
check "dry run changed nothing" both amdgpu snd_hda_intel
# bind prepares devices, no guest: a missing disk image does not stop it, a missing ROM does
sed 's|^network = none$|network = none\ndisk = /var/lib/gpurun/nowhere.qcow2|' "$T/w.profile" >"$T/wd.profile"
expect_rc 1 "plan of a missing disk fails" g plan "$T/wd.profile"
contains "disk FAIL" "$T/out" '^FAIL disk: disk = /var/lib/gpurun/nowhere\.qcow2: the file does not exist$'
expect_rc 0 "bind --dry-run PROFILE with a missing disk" g --dry-run bind "$T/wd.profile"
contains "lists the bind" "$T/out" "^bind $GPU: amdgpu -> vfio-pci"
lacks "not refused" "$T/err" 'Refusing'
contains "says why not" "$T/err" 'Not refusing: disk = /var/lib/gpurun/nowhere\.qcow2: the file does not exist \(bind starts no guest\)'
sed 's|^vbios = none$|vbios = /usr/share/vgabios/gpu.rom|' "$T/w.profile" >"$T/wr.profile"
expect_rc 1 "bind --dry-run PROFILE with a missing ROM refused" g --dry-run bind "$T/wr.profile"
contains "names the ROM" "$T/err" 'Refusing: vbios = /usr/share/vgabios/gpu\.rom: the file does not exist'
lacks "nothing bound" "$T/out" "^bind $GPU"
sed 's|^vbios = none$|vbios = vfct\ngop = /srv/roms/AMDGopDriver.rom|' "$T/w.profile" >"$T/wg.profile"
expect_rc 1 "plan with a missing GOP ROM" g plan "$T/wg.profile"
contains "the GOP FAIL" "$T/out" '^FAIL rom-file: gop = /srv/roms/AMDGopDriver\.rom: the file does not exist$'
contains "says where AMDGopDriver.rom comes from" "$T/out" "fix: Fix the path\. gop names the AMD GOP driver \(AMDGopDriver\.rom\).*comes with the machine's UEFI firmware.*leave gop out"
check "dry runs changed nothing" both amdgpu snd_hda_intel
expect_rc 0 "bind PROFILE" g bind "$T/w.profile"
check "profile bound" both vfio-pci vfio-pci
contains "names the exact unbind command" "$T/err" "Bound for 'w'\. To give the devices back: gpurun --root $T/root unbind $T/w\.profile$"
expect_rc 1 "second bind of the bound VM refused" g bind "$T/w.profile"
contains "says it is bound and how to release it" "$T/err" "VM 'w' is already bound \(its changes are in $T/root/run/gpurun/w/journal\); release it with .gpurun --root $T/root unbind $T/w\.profile.\.$"
lacks "not a left journal" "$T/err" "left its journal"
check "still bound" both vfio-pci vfio-pci
check "console released" test "$(cat "$T/root/sys/class/vtconsole/vtcon1/bind")" = 0
expect_rc 1 "run while bound refused" g --qemu /bin/true run "$T/w.profile"
expect_rc 0 "unbind PROFILE" g unbind "$T/w.profile"
check "profile unbound" both amdgpu snd_hda_intel
check "console back" test "$(cat "$T/root/sys/class/vtconsole/vtcon1/bind")" = 1
expect_rc 0 "bind PROFILE again (-v), restore by VM name" g -v bind "$T/w.profile"
contains "-v shows each sysfs write" "$T/err" "^gpurun: write $T/root/sys/bus/pci/devices/$GPU/driver_override = \"vfio-pci\"$"
contains "-v shows the unbind" "$T/err" "^gpurun: write $T/root/sys/bus/pci/devices/$AUD/driver/unbind = \"$AUD\"$"
expect_rc 0 "restore w" g restore w
lacks "no write lines without -v" "$T/err" "^gpurun: write "
check "restored" both amdgpu snd_hda_intel

# --- devices by short address and by id; --json of bind, unbind and restore
expect_rc 0 "bind --json by short address and id" g --json bind --allow-boot-vga --timeout 30 c4:0.0 1002:1640
check "both bound" both vfio-pci vfio-pci
check "one JSON object on stdout" test "$(wc -l <"$T/out")" -eq 1
contains "names the canonical addresses in the release command" "$T/err" "To give the devices back: gpurun --root $T/root unbind $GPU $AUD$"
if command -v jq >/dev/null; then
	check "bind report" jqt --arg j "$T/root/run/gpurun/bind-$GPU/journal" '.command=="bind" and .ok==true and .vm=="bind-'$GPU'" and .journal==$j and (.release|endswith("unbind '$GPU' '$AUD'")) and (.changes|any(.=="bound '$GPU': amdgpu -> vfio-pci"))' "$T/out"
fi
expect_rc 0 "unbind --json" g unbind --json --timeout 30 1002:1586
check "both back after unbind by id" both amdgpu snd_hda_intel
if command -v jq >/dev/null; then
	check "unbind report" jqt '.command=="unbind" and .ok==true and ([.functions[]|select(.ok)|.address]|sort)==["'$GPU'","'$AUD'"] and (.functions[]|select(.address=="'$GPU'")|.driver=="amdgpu")' "$T/out"
fi
expect_rc 0 "bind PROFILE for restore --json" g bind "$T/w.profile"
expect_rc 0 "restore --dry-run --json" g restore --dry-run --json w
if command -v jq >/dev/null; then
	check "dry-run report lists the undo steps" jqt '.command=="restore" and .vm=="w" and (.changes|any(.=="undo bind '$GPU' -> amdgpu")) and .functions==[]' "$T/out"
fi
check "dry run changed nothing" both vfio-pci vfio-pci
expect_rc 0 "restore --json" g restore --json w
check "restored by --json restore" both amdgpu snd_hda_intel
if command -v jq >/dev/null; then
	check "restore report" jqt '.ok==true and (.functions|length)==2 and all(.functions[]; .vm=="w" and .ok)' "$T/out"
else
	ok "# SKIP jq missing"
fi
fake_kernel_stop

# --- a bind that fails halfway is reverted at once
start_kernel --refuse $GPU
expect_rc 1 "bind with the GPU refused by vfio-pci" g bind --allow-boot-vga --timeout 0.3 $GPU $AUD
contains "reason" "$T/err" "$GPU did not bind to vfio-pci within 300 ms"
check "audio given back" both amdgpu snd_hda_intel
check "no journal left" test ! -e "$T/root/run/gpurun/bind-$GPU/journal"
fake_kernel_stop

# --- a driver that does not let go: the wait says what it waits for, the timeout who holds it
start_kernel --hold $GPU
gdir=$(readlink -f "$T/root/sys/bus/pci/devices/$GPU")
mkdir -p "$gdir/drm/card1" "$gdir/drm/renderD128" "$T/root/dev/dri"
: >"$T/root/dev/dri/card1"; : >"$T/root/dev/dri/renderD128"; : >"$T/root/dev/dri/card0"
printf 'root:x:0:0:root:/root:/bin/sh\ngdm:x:120:120::/var/lib/gdm3:/bin/false\n' >"$T/root/etc/passwd"
fake_proc() { # PID COMM UID FD-TARGET...
	p="$T/root/proc/$1"; mkdir -p "$p/fd"; echo "$2" >"$p/comm"
	printf 'Name:\t%s\nUid:\t%s\t%s\t%s\t%s\n' "$2" "$3" "$3" "$3" "$3" >"$p/status"
	pid=$1; shift 3; n=3
	for t in "$@"; do ln -s "$t" "$p/fd/$n"; n=$((n + 1)); done
}
fake_proc 4242 gnome-shell 120 /dev/null /dev/dri/card1 "$T/root/dev/dri/renderD128"
fake_proc 4343 gdm-wayland-ses 120 /dev/dri/card1
fake_proc 5000 firefox 1000 /dev/dri/card0 /dev/null
expect_rc 1 "bind of a GPU its driver holds" g bind --allow-boot-vga --timeout 2.5 $GPU $AUD
contains "says what it waits for" "$T/err" "^gpurun: waiting for amdgpu to release $GPU \(1 s of 3\)\.\.\.$"
contains "and again each second" "$T/err" "^gpurun: waiting for amdgpu to release $GPU \(2 s of 3\)\.\.\.$"
contains "times out" "$T/err" "$GPU did not bind to vfio-pci within 2500 ms \(driver: amdgpu\)"
contains "names the holders" "$T/err" "^gpurun: error: $GPU is in use: its device nodes are held by$"
contains "fuser -v style header" "$T/err" "^gpurun:   NODE +USER +PID COMMAND$"
contains "the compositor, by user name" "$T/err" "^gpurun:   /dev/dri/card1 +gdm +4242 gnome-shell \(display server\)$"
contains "a link with the root in front counts" "$T/err" "^gpurun:   /dev/dri/renderD128 +gdm +4242 gnome-shell \(display server\)$"
contains "the display manager" "$T/err" "^gpurun:   /dev/dri/card1 +gdm +4343 gdm-wayland-ses \(display manager\)$"
lacks "another GPU's node is not this one's" "$T/err" "firefox"
contains "says how to stop it" "$T/err" "The display manager gdm uses the GPU: stop it first \(.systemctl stop gdm.\)"
check "everything given back" both amdgpu snd_hda_intel
fake_kernel_stop

done_testing
