# Sourced after lib.sh by the scripts that change a copy of the strix-halo APU fixture with
# tests/tools/fake-kernel playing sysfs (and tests/tools/qemu-recorder playing QEMU): the GPU and
# its HDMI audio, the fake kernel started on a fresh copy, their drivers, and whether the host is
# back as the fixture had it.
RECORDER="$GPURUN_TOP/tests/tools/qemu-recorder"
if [ ! -x "$FAKE" ]; then echo "1..0 # SKIP $FAKE not built"; exit 0; fi
GPU=0000:c4:00.0 AUD=0000:c4:00.1
start_kernel() { copy_fixture strix-halo && fake_kernel_start "$T/root" "$@"; }
drv() { l=$(readlink "$T/root/sys/bus/pci/devices/$1/driver"); echo "${l##*/}"; }
# strix_profile NAME [VBIOS [ALLOW-BOOT-VGA [CPUS [VM-LINE [GPU-LINE]]]]]: $T/NAME.profile for
# the GPU, 1G, bios, no network; vbios vfct, allow-boot-vga yes and 2 CPUs unless given, an
# extra line at the end of [vm] (before firmware) and of [gpu] when given
strix_profile() {
	{
		printf '[vm]\nname = %s\nmemory = 1G\ncpus = %s\n' "$1" "${4:-2}"
		[ -z "${5:-}" ] || printf '%s\n' "$5"
		printf 'firmware = bios\nnetwork = none\n[gpu]\ndevice = 1002:1586\n'
		printf 'vbios = %s\nallow-boot-vga = %s\n' "${2:-vfct}" "${3:-yes}"
		[ -z "${6:-}" ] || printf '%s\n' "$6"
	} >"$T/$1.profile"
}
# strix_recorder: qemu-recorder records to $T/q and watches the GPU and its audio in $T/root
strix_recorder() {
	mkdir -p "$T/q" &&
		export RECORDER_QEMU_DIR="$T/q" RECORDER_QEMU_ROOT="$T/root" RECORDER_QEMU_WATCH="$GPU $AUD"
}
# strix_drivers_back: both functions on their host drivers and the console bound again
strix_drivers_back() {
	[ "$(drv $GPU)" = amdgpu ] && [ "$(drv $AUD)" = snd_hda_intel ] &&
		[ "$(cat "$T/root/sys/class/vtconsole/vtcon1/bind")" = 1 ]
}
# strix_is_back VM: that, no driver_override left, no journal of VM, no VFIO group node
# (polled: the fake kernel turns a cleared driver_override into "(null)" after the write)
strix_is_back() { eventually strix_is_back_now "$1"; }
strix_is_back_now() {
	strix_drivers_back &&
		grep -qx '(null)' "$T/root/sys/bus/pci/devices/$GPU/driver_override" &&
		grep -qx '(null)' "$T/root/sys/bus/pci/devices/$AUD/driver_override" &&
		[ ! -e "$T/root/run/gpurun/$1/journal" ] && [ ! -e "$T/root/dev/vfio/14" ]
}
