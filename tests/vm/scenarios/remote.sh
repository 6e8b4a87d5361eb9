# A remote libvirt node (issue 14), guest half: this sandbox guest is the node. libvirtd listens
# on TCP 16509 without auth (test only), forwarded by QEMU user net to 127.0.0.1:PORT on the
# outer machine, where tests/vm/scenarios/remote.outer (the outer half, started by vm_boot in
# tests/vm/lib.sh while this guest runs) drives gpurun against qemu+tcp://127.0.0.1:PORT/system.
# The halves meet through this TAP stream: the guest prints "# remote: STEP" marker lines (the
# outer half polls the TAP file for them) and watches what the outer half does through libvirt
# (the domain starting and stopping) and sysfs (the functions moving to vfio-pci and back).
# Steps: ready -> outer check/ls/plan, run -> "running" (guest checked vfio, ROM volume, hostdevs)
# -> outer destroys the domain, gpurun exits -> "reattached" -> outer runs again -> "running
# again" -> outer SIGKILLs gpurun, destroys the domain, `gpurun restore` -> "restored" -> done.
# vm-hostfwd: 16509
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"
DOM=sandbox-remote
POOLDIR=/var/lib/libvirt/gpurun-roms

marker() {
	echo "# remote: $*"
}

check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then
	skip "remote libvirt node" "libvirtd/virsh not installed (libvirt-daemon-system, libvirt-clients)"
	marker "no node"
	done_testing
fi
modprobe virtio_net 2>/dev/null
check "eth0 up as 10.0.2.15 (QEMU user net)" \
	sh -c 'wait_eth() { i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; }
		wait_eth; ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up'
# libvirt refuses VFIO assignment until /dev/vfio/vfio exists. A systemd host has it from boot, a
# static node (kmod static-nodes) whose first open loads vfio; busybox's init makes none.
mkdir -p /dev/vfio && { [ -e /dev/vfio/vfio ] || mknod -m 0666 /dev/vfio/vfio c 10 196; }
mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt/qemu "$POOLDIR"
printf 'namespaces = [ ]\n' >>/etc/libvirt/qemu.conf
cat >"$W/libvirtd.conf" <<CONF
listen_tls = 0
listen_tcp = 1
auth_tcp = "none"
tcp_port = "16509"
listen_addr = "0.0.0.0"
CONF
virtlogd -d >"$W/virtlogd.out" 2>&1
LIBVIRT_LOG_OUTPUTS="3:file:$W/libvirtd.log" libvirtd -d --listen -f "$W/libvirtd.conf" \
	>"$W/libvirtd.out" 2>&1
if ! check "libvirtd started, listening on TCP" wait_for 30 virsh -q -c qemu+tcp://127.0.0.1/system list; then
	diag <"$W/libvirtd.out"
	tail -n 15 "$W/libvirtd.log" | diag
	marker "no node"
	done_testing
fi
virsh -q pool-define-as gpurun dir --target "$POOLDIR" >"$W/pool.out" 2>&1 &&
	virsh -q pool-start gpurun >>"$W/pool.out" 2>&1
check "dir pool 'gpurun' runs" sh -c "virsh -q pool-list | grep -q gpurun" || diag <"$W/pool.out"
marker "ready"

dom_running() {
	[ "$(virsh domstate $DOM 2>/dev/null)" = running ]
}
dom_gone() {
	! virsh -q list --name | grep -qx $DOM
}
rom_volume() {
	ls "$POOLDIR"/*.rom 2>/dev/null | head -n 1
}
if ! check "the outer gpurun run starts domain $DOM here" wait_for 150 dom_running; then
	tail -n 15 "$W/libvirtd.log" | diag
	marker "failed"
	done_testing
fi
note "domain running"
check "both functions on vfio-pci while the domain runs" both_on_vfio
virsh dumpxml $DOM >"$W/dom.xml" 2>&1
check "domain XML has the GPU hostdev" grep -q "bus='0x01' slot='0x00' function='0x0'" "$W/dom.xml"
check "domain XML has the audio hostdev" grep -q "bus='0x01' slot='0x00' function='0x1'" "$W/dom.xml"
rom=$(rom_volume)
check "the ROM was uploaded into the pool ($rom)" test -s "$rom"
check "the uploaded ROM is the outer machine's gpu.rom" cmp -s "$rom" "$GPURUN_VM_OUT/gpu.rom"
check "domain XML names the uploaded ROM" grep -q "<rom file='$rom'" "$W/dom.xml" ||
	grep rom "$W/dom.xml" | diag
virsh qemu-monitor-command $DOM --hmp 'info qtree' | tr -d '\r' >"$W/qtree.txt" 2>&1
check "QEMU of the domain has vfio-pci 1002:5046 (the GPU)" \
	awk '/ dev: / { v = ($0 ~ / dev: vfio-pci,/) } v && /pci id 1002:5046/ { f = 1 } END { exit !f }' "$W/qtree.txt"
check "QEMU of the domain has vfio-pci 8086:293e (the audio)" \
	awk '/ dev: / { v = ($0 ~ / dev: vfio-pci,/) } v && /pci id 8086:293e/ { f = 1 } END { exit !f }' "$W/qtree.txt"
marker "running"

# the outer half destroys the domain; its gpurun reattaches and deletes the volume
check "domain stopped (virsh destroy from the outer machine)" wait_for 60 dom_gone
check "after the run: functions back on their drivers" wait_for 60 host_drivers_back
check "after the run: the ROM volume is deleted" wait_for 30 test -z "$(rom_volume)"
marker "reattached"

if check "second run: domain $DOM running again" wait_for 150 dom_running &&
	check "second run: both functions on vfio-pci" wait_for 10 both_on_vfio; then
	marker "running again"
	# the outer half SIGKILLs its gpurun, destroys the domain and runs gpurun restore
	check "second run: domain stopped" wait_for 60 dom_gone
	check "after restore: functions back on their drivers" wait_for 90 host_drivers_back
	check "after restore: the ROM volume is deleted" wait_for 30 test -z "$(rom_volume)"
else
	marker "failed"
fi
marker "restored"
done_testing
