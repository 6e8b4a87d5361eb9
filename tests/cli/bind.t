#!/bin/sh
# gpurun bind / unbind (PROFILE or addresses) on a copy of the strix-halo fixture, with
# tests/tools/fake-kernel playing sysfs. Never touches the real /sys.
. tests/cli/lib.sh

. tests/cli/strix.sh
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
expect_rc 2 "not an address or profile" g unbind 0000:zz:00.0

expect_rc 0 "bind GPU + audio" g bind --allow-boot-vga --timeout 5 $GPU $AUD
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
expect_rc 0 "unbind without journal" g unbind --timeout 5 $AUD
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
check "dry runs changed nothing" both amdgpu snd_hda_intel
expect_rc 0 "bind PROFILE" g bind "$T/w.profile"
check "profile bound" both vfio-pci vfio-pci
check "console released" test "$(cat "$T/root/sys/class/vtconsole/vtcon1/bind")" = 0
expect_rc 1 "run while bound refused" g --qemu /bin/true run "$T/w.profile"
expect_rc 0 "unbind PROFILE" g unbind "$T/w.profile"
check "profile unbound" both amdgpu snd_hda_intel
check "console back" test "$(cat "$T/root/sys/class/vtconsole/vtcon1/bind")" = 1
expect_rc 0 "bind PROFILE again, restore by VM name" g bind "$T/w.profile"
expect_rc 0 "restore w" g restore w
check "restored" both amdgpu snd_hda_intel
fake_kernel_stop

# --- a bind that fails halfway is reverted at once
start_kernel --refuse $GPU
expect_rc 1 "bind with the GPU refused by vfio-pci" g bind --allow-boot-vga --timeout 0.3 $GPU $AUD
contains "reason" "$T/err" "$GPU did not bind to vfio-pci within 300 ms"
check "audio given back" both amdgpu snd_hda_intel
check "no journal left" test ! -e "$T/root/run/gpurun/bind-$GPU/journal"
fake_kernel_stop

done_testing
