#!/bin/sh
# The firmware boot test (issue 16): the UEFI argv `gpurun emit qemu` prints, with its vfio-pci
# devices replaced by a stand-in (pci-testdev on the same bus/addr) and KVM by TCG, starts the
# firmware: the EDK II banner appears on the serial console. Two descriptor sets:
#   - Debian's raw set (fixture strix-halo: 40/50/60-edk2-x86_64*.json), the real OVMF files
#     copied over the fixture's placeholders; plain UEFI, and secure boot (requires-smm), where
#     the firmware's "Security Violation" for its unsigned shell stands in for the banner
#   - a qcow2 set (fixture desktop-dgpu: Fedora's 30/40/50-edk2-ovmf-4m-qcow2-*.json), Debian's
#     OVMF converted to qcow2 with qemu-img under the names Fedora's descriptors give
# Each boot stops as soon as the banner shows (a few seconds under TCG), at most 60 s.
. tests/cli/lib.sh
export NO_COLOR=1
unset GPURUN_QEMU GPURUN_DATADIR

skip=
for c in qemu-system-x86_64 qemu-img timeout; do
	command -v "$c" >/dev/null 2>&1 || skip="$skip $c"
done
for f in OVMF_CODE_4M.fd OVMF_VARS_4M.fd OVMF_CODE_4M.secboot.fd OVMF_VARS_4M.ms.fd; do
	[ -f "/usr/share/OVMF/$f" ] || skip="$skip /usr/share/OVMF/$f"
done
[ -d "$FIX/strix-halo" ] && [ -d "$FIX/desktop-dgpu" ] || skip="$skip fixture hosts"
if [ -n "$skip" ]; then
	echo "1..0 # SKIP missing:$skip (Debian: apt install qemu-system-x86 qemu-utils ovmf)"
	exit 0
fi

# boot NAME ROOT PROFILE [MARKER]: emit, rewrite, boot until MARKER (default: the EDK II
# banner) shows on the serial console
boot() {
	name=$1 R=$2 prof=$3 marker=${4:-EDK II}
	if ! "$GPURUN" --root "$R" emit qemu "$prof" >"$T/$name.argv" 2>"$T/$name.err"; then
		not_ok "$name: emit qemu"
		sed 's/^/# /' "$T/$name.err"
		return
	fi
	ok "$name: emit qemu"
	eval "set -- $(grep -v '^#' "$T/$name.argv")" # the header says what must happen first
	qemu=$1
	shift
	vars= vfmt=
	for a in "$@"; do
		case "$a" in
		vfio-pci,*)
			a=pci-testdev,$(printf '%s' "$a" | sed -e 's/^vfio-pci,host=[^,]*,//' \
				-e 's/,x-vga=on//' -e 's/,romfile=[^,]*//')
			;;
		if=pflash,*unit=1,*)
			vars=${a##*file=}
			vfmt=$(printf '%s' "$a" | sed -n 's/.*format=\([a-z0-9]*\).*/\1/p')
			;;
		kvm) a=tcg ;;
		host) a=max ;;
		esac
		set -- "$@" "$a"
	done
	n=$(($# / 2))
	while [ "$n" -gt 0 ]; do shift; n=$((n - 1)); done
	echo "$@" | grep -q 'if=pflash' || { not_ok "$name: the argv has no pflash"; return; }
	# what `gpurun run` does before QEMU starts: the per-VM copy of the template
	tmpl=$(sed -n 's/^ovmf-vars-template: //p' "$T/$name.plan")
	cp "$tmpl" "$vars"
	ok "$name: vars $vfmt copy of $(basename "$tmpl")"
	rm -f "$T/$name.serial"
	"$qemu" "$@" -serial "file:$T/$name.serial" -monitor none >"$T/$name.qemu" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 120 ] && kill -0 "$pid" 2>/dev/null; do
		grep -aq "$marker" "$T/$name.serial" 2>/dev/null && break
		sleep 0.5
		i=$((i + 1))
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if grep -aq "$marker" "$T/$name.serial" 2>/dev/null; then
		ok "$name: '$marker' on the serial console after $((i / 2)) s"
	else
		not_ok "$name: no '$marker' on the serial console within 60 s"
		sed 's/^/# /' "$T/$name.argv" "$T/$name.qemu"
		tr -d '\033' <"$T/$name.serial" 2>/dev/null | head -c 2000 | sed 's/^/# serial: /'
	fi
}

# plan NAME ROOT PROFILE: the plan's firmware lines, kept for boot()
plan() {
	"$GPURUN" --root "$2" plan "$3" >"$T/$1.plan" 2>&1
}

mkprof() { # NAME FIRMWARE DEVICE
	printf '%s\n' '[vm]' "name = $1" 'memory = 256M' 'cpus = 1' "firmware = $2" 'accel = tcg' \
		'network = none' '[gpu]' "device = $3" 'vbios = none' 'allow-boot-vga = yes' \
		>"$T/$1.profile"
}

# --- Debian's raw set --------------------------------------------------------------------
copy_fixture strix-halo
mv "$T/root" "$T/debian"
R="$T/debian"
for f in OVMF_CODE_4M.fd OVMF_VARS_4M.fd OVMF_CODE_4M.secboot.fd OVMF_VARS_4M.ms.fd; do
	cp "/usr/share/OVMF/$f" "$R/usr/share/OVMF/$f"
done
cp /usr/share/OVMF/OVMF_CODE_4M.secboot.fd "$R/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
mkdir -p "$R/var/lib/gpurun/vars"
mkprof deb-uefi uefi 1002:1586
plan deb-uefi "$R" "$T/deb-uefi.profile"
contains "deb-uefi: Debian's 60-edk2-x86_64.json" "$T/deb-uefi.plan" \
	'^ovmf-descriptor: 60-edk2-x86_64\.json'
boot deb-uefi "$R" "$T/deb-uefi.profile"
lacks "deb-uefi: no SMM for the plain build" "$T/deb-uefi.argv" 'smm=on'
mkprof deb-sb uefi-secboot 1002:1586
plan deb-sb "$R" "$T/deb-sb.profile"
contains "deb-sb: Debian's 40-edk2-x86_64-secure-enrolled.json" "$T/deb-sb.plan" \
	'^ovmf-descriptor: 40-edk2-x86_64-secure-enrolled\.json'
# with Microsoft's keys enrolled the firmware refuses to start its own unsigned shell, the one
# that prints the EDK II banner: that refusal is the proof that it ran, with secure boot on
boot deb-sb "$R" "$T/deb-sb.profile" 'Security Violation'

contains "deb-sb: requires-smm gives smm=on" "$T/deb-sb.argv" '-machine q35,smm=on'
contains "deb-sb: ... and secure pflash" "$T/deb-sb.argv" \
	'driver=cfi.pflash01,property=secure,value=on'

# --- a qcow2 set (Fedora's descriptors, Debian's firmware converted) ---------------------
copy_fixture desktop-dgpu
mv "$T/root" "$T/fedora"
R="$T/fedora"
E="$R/usr/share/edk2/ovmf"
qemu-img convert -f raw -O qcow2 /usr/share/OVMF/OVMF_CODE_4M.fd "$E/OVMF_CODE_4M.qcow2"
qemu-img convert -f raw -O qcow2 /usr/share/OVMF/OVMF_VARS_4M.fd "$E/OVMF_VARS_4M.qcow2"
mkdir -p "$R/var/lib/gpurun/vars"
mkprof fed-uefi uefi 0000:03:00.0
plan fed-uefi "$R" "$T/fed-uefi.profile"
contains "fed-uefi: Fedora's 50-edk2-ovmf-4m-qcow2-x64-nosb.json" "$T/fed-uefi.plan" \
	'^ovmf-descriptor: 50-edk2-ovmf-4m-qcow2-x64-nosb\.json'
boot fed-uefi "$R" "$T/fed-uefi.profile"
contains "fed-uefi: code read as qcow2" "$T/fed-uefi.argv" 'if=pflash,format=qcow2,unit=0'
contains "fed-uefi: vars read as qcow2" "$T/fed-uefi.argv" 'if=pflash,format=qcow2,unit=1'

done_testing
