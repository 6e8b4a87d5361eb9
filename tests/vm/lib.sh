# Host side of the tests/vm sandbox, sourced by tests/vm/boot, run-all and demo (POSIX sh).
# Builds the initramfs and the VFCT table into tests/vm/out/ and boots one scenario under
# qemu-system-x86_64 -accel tcg (REFERENCE.md, "The real-kernel sandbox").

VM_TOP=$(cd "$(dirname "$0")/../.." && pwd)
VM_DIR=$VM_TOP/tests/vm
VM_OUT=$VM_DIR/out
mkdir -p "$VM_OUT"
VM_QEMU=${VM_QEMU:-qemu-system-x86_64}
# Load order matters: virtio_ring before virtio, netfs/fscache before 9p.
VM_MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay"
# The emulated GPU behind the root port (bus 01), as the guest sees it.
VM_GPU_BDF=0000:01:00.0
VM_AUDIO_BDF=0000:01:00.1
VM_GPU_ID="1002 5046"
VM_ROM_SIZE=32768

vm_log() {
	printf 'vm: %s\n' "$*" >&2
}

# Prints the reason the sandbox cannot run here, or nothing when it can.
vm_missing() {
	command -v "$VM_QEMU" >/dev/null 2>&1 || { echo "$VM_QEMU not installed (package qemu-system-x86)"; return; }
	[ -x /bin/busybox ] || { echo "/bin/busybox not installed (package busybox-static)"; return; }
	command -v cpio >/dev/null 2>&1 || { echo "cpio not installed"; return; }
	[ -n "$(vm_kernel)" ] || { echo "no /boot/vmlinuz-*-amd64 with its /lib/modules (package linux-image-amd64)"; return; }
	[ -r "$(vm_kernel)" ] || { echo "$(vm_kernel) is not readable"; return; }
}

# The newest Debian kernel that has its modules installed.
vm_kernel() {
	for k in $(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V -r); do
		v=${k#/boot/vmlinuz-}
		if [ -d "/lib/modules/$v/kernel" ]; then
			echo "$k"
			return 0
		fi
	done
}

vm_kver() {
	k=$(vm_kernel)
	echo "${k#/boot/vmlinuz-}"
}

# Copies module $1 of kernel $2 into directory $3 uncompressed; 1 if it is neither a module
# nor built in.
vm_copy_module() {
	_f=$(find "/lib/modules/$2/kernel" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" -o \
		-name "$1.ko.gz" | head -n 1)
	case "$_f" in
	"")
		grep -q "/$1.ko\$" "/lib/modules/$2/modules.builtin" 2>/dev/null && return 0
		return 1 ;;
	*.xz) xz -dc "$_f" >"$3/$1.ko" ;;
	*.zst) zstd -qdc "$_f" >"$3/$1.ko" ;;
	*.gz) gzip -dc "$_f" >"$3/$1.ko" ;;
	*) cp "$_f" "$3/$1.ko" ;;
	esac || return 1
	echo "$1" >>"$3/order"
}

# Prints the path of the initramfs for the chosen kernel, building it when missing or older
# than tests/vm/init or this file.
vm_initramfs() {
	_v=$(vm_kver)
	_img=$VM_OUT/initramfs-$_v.cpio.gz
	if [ -s "$_img" ] && [ "$_img" -nt "$VM_DIR/init" ] && [ "$_img" -nt "$VM_DIR/lib.sh" ]; then
		echo "$_img"
		return 0
	fi
	mkdir -p "$VM_OUT"
	_root=$(mktemp -d "$VM_OUT/initramfs.XXXXXX") || return 1
	mkdir -p "$_root/bin" "$_root/modules" "$_root/proc" "$_root/sys" "$_root/dev" "$_root/etc"
	cp /bin/busybox "$_root/bin/busybox" && ln -s busybox "$_root/bin/sh" &&
		cp "$VM_DIR/init" "$_root/init" && chmod 755 "$_root/init" || { rm -rf "$_root"; return 1; }
	: >"$_root/modules/order"
	for _m in $VM_MODULES; do
		if ! vm_copy_module "$_m" "$_v" "$_root/modules"; then
			vm_log "module $_m not found for kernel $_v"
			rm -rf "$_root"
			return 1
		fi
	done
	if ! (cd "$_root" && find . | sort | cpio -o -H newc --quiet | gzip -1) >"$_img.tmp"; then
		rm -rf "$_root" "$_img.tmp"
		return 1
	fi
	rm -rf "$_root"
	mv "$_img.tmp" "$_img"
	vm_log "built $_img ($(wc -c <"$_img") bytes, kernel $_v)"
	echo "$_img"
}

# Builds tests/vm/out/gpu.rom (a legacy VBIOS image for 1002:5046) and vfct.bin (one VFCT
# record for bus 01, device 0, function 0) with the ROM helper's tools in build dir $1.
vm_vfct() {
	for _tool in mkrom mkvfct; do
		if [ ! -x "$1/tools/$_tool" ]; then
			vm_log "$1/tools/$_tool missing (make -j2 tests)"
			return 1
		fi
	done
	mkdir -p "$VM_OUT"
	# shellcheck disable=SC2086
	"$1/tools/mkrom" legacy $VM_GPU_ID $VM_ROM_SIZE "$VM_OUT/gpu.rom" >/dev/null &&
		"$1/tools/mkvfct" "$VM_OUT/vfct.bin" 1 0 0 $VM_GPU_ID "$VM_OUT/gpu.rom" >/dev/null
}

# vm_free_port: a TCP port nobody on this machine listens on or talks from (a QEMU hostfwd).
vm_free_port() {
	_p=$((20000 + $$ % 30000))
	_i=0
	while [ $_i -lt 100 ]; do
		_h=$(printf ':%04X ' "$_p")
		if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q "$_h"; then
			echo "$_p"
			return 0
		fi
		_p=$((_p + 1)) _i=$((_i + 1))
	done
	return 1
}

# vm_boot BUILD SCENARIO TIMEOUT: boots the sandbox once, running tests/vm/scenarios/SCENARIO.sh.
# Its TAP output lands in $VM_OUT/SCENARIO.tap, the kernel console in $VM_OUT/SCENARIO.console.
# Returns 0 when the guest ran the scenario to its end (whatever the scenario's result; read
# the tap file), 124 when it was killed at the timeout, another status when it never finished.
#
# A scenario may declare, in its file:
#   "# vm-intel-iommu: OPTIONS"  another vIOMMU (default intremap=on,caching-mode=on)
#   "# vm-hostfwd: GUEST_PORT"   a virtio-net NIC (QEMU user net, restrict=on) whose TCP
#                                GUEST_PORT is forwarded from 127.0.0.1:PORT on this machine,
#                                PORT chosen free at boot; the guest sets up eth0 as 10.0.2.15/24.
# and may have an outer half, tests/vm/scenarios/SCENARIO.outer (sh), run on THIS machine while
# the guest runs, with VM_PORT (the forwarded port), VM_TAP (the guest's TAP file, growing while
# the guest writes it: the outer half waits for the guest's "# ... " marker lines in it),
# VM_BUILD and VM_TOP in its environment. Its TAP output lands in $VM_OUT/SCENARIO.outer.tap and
# its exit status in $VM_OUT/SCENARIO.outer.rc; boot reports both after the guest's.
vm_boot() {
	_b=$1 _s=$2 _t=$3
	_tap=$VM_OUT/$_s.tap _con=$VM_OUT/$_s.console
	_initrd=$(vm_initramfs) || return 1
	vm_vfct "$_b" || return 1
	: >"$_tap"
	: >"$_con"
	# a scenario may boot another vIOMMU: "# vm-intel-iommu: OPTIONS" in its file
	_iommu=$(sed -n 's/^# vm-intel-iommu: //p' "$VM_DIR/scenarios/$_s.sh" 2>/dev/null | head -n 1)
	_iommu=${_iommu:-intremap=on,caching-mode=on}
	_append="console=ttyS0 loglevel=4 intel_iommu=on iommu=pt panic=-1 rdinit=/init"
	# under TCG on a loaded machine the IO-APIC timer check can fail and panic the guest ("timer
	# doesn't work through Interrupt-remapped IO-APIC"): the timer works, the check is too strict
	_append="$_append no_timer_check"
	_append="$_append gpurun.top=$VM_TOP gpurun.build=$_b gpurun.scenario=$_s"
	_fwd=$(sed -n 's/^# vm-hostfwd: //p' "$VM_DIR/scenarios/$_s.sh" 2>/dev/null | head -n 1)
	_port= _net=
	if [ -n "$_fwd" ]; then
		_port=$(vm_free_port) || { vm_log "no free TCP port for the hostfwd"; return 1; }
		_net="-netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$_port-:$_fwd"
		_net="$_net -device virtio-net-pci,netdev=n0"
	fi
	_outer=$VM_DIR/scenarios/$_s.outer
	rm -f "$VM_OUT/$_s.outer.tap" "$VM_OUT/$_s.outer.rc"
	# shellcheck disable=SC2086
	timeout -k 5 "$_t" "$VM_QEMU" -accel tcg -M q35 -m 2048 -smp 2 -nodefaults -no-reboot \
		-display none -monitor none $_net \
		-device intel-iommu,"$_iommu" \
		-device pcie-root-port,id=rp1,chassis=1,slot=1 \
		-device ati-vga,bus=rp1,addr=00.0,multifunction=on \
		-device ich9-intel-hda,bus=rp1,addr=00.1 \
		-acpitable file="$VM_OUT/vfct.bin" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-serial file:"$_con" -serial file:"$_tap" \
		-kernel "$(vm_kernel)" -initrd "$_initrd" -append "$_append" \
		</dev/null >"$VM_OUT/$_s.qemu.log" 2>&1 &
	_qpid=$!
	if [ -f "$_outer" ]; then
		VM_PORT=$_port VM_TAP=$_tap VM_BUILD=$_b VM_TOP=$VM_TOP VM_QEMU_PID=$_qpid \
			sh "$_outer" >"$VM_OUT/$_s.outer.tap" 2>&1 </dev/null
		echo $? >"$VM_OUT/$_s.outer.rc"
	fi
	wait $_qpid
	_rc=$?
	# QEMU writes the serial file with \r\n (the guest tty's onlcr); strip the \r.
	sed -i 's/\r$//' "$_tap" "$_con" 2>/dev/null
	[ $_rc -eq 124 ] || [ $_rc -eq 137 ] && return 124
	grep -q '^GPURUN-VM-DONE ' "$_tap" || return 2
	return 0
}
