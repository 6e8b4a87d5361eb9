# The libvirt backend: libvirtd (Debian's libvirt-daemon-system) inside the sandbox, `gpurun run`
# of a `backend = libvirt` profile starts a TCG domain with both functions as hostdevs, and the
# host gets its drivers back when the domain stops.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"
LV_PROFILE=$GPURUN_TOP/tests/vm/sandbox-libvirt.profile
DOM=sandbox-lv

check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
if ! have_cmd run; then
	skip "libvirt backend" "this gpurun has no run command"
	done_testing
fi
if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then
	skip "libvirt backend" "libvirtd/virsh not installed (libvirt-daemon-system, libvirt-clients)"
	done_testing
fi
mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt/qemu
# libvirt's private /dev for QEMU (mount namespace) is not set up right on a 9p+overlay root
# with a moved devtmpfs: the sandbox lets QEMU see the real /dev (the root is a tmpfs overlay).
printf 'namespaces = [ ]\n' >>/etc/libvirt/qemu.conf
# virtlogd takes the domain's QEMU output; libvirtd refuses to start a domain without it.
virtlogd -d >"$W/virtlogd.out" 2>&1
LIBVIRT_LOG_OUTPUTS="3:file:$W/libvirtd.log" libvirtd -d >"$W/libvirtd.out" 2>&1
if ! check "libvirtd started" wait_for 30 virsh -q list; then
	diag <"$W/libvirtd.out"
	tail -n 15 "$W/libvirtd.log" | diag
	done_testing
fi

dom_running() {
	[ "$(virsh domstate $DOM 2>/dev/null)" = running ]
}
dom_or_exit() {
	dom_running || proc_gone $RUN_PID
}
note "gpurun run $LV_PROFILE"
"$GPURUN" run "$LV_PROFILE" >"$W/run.out" 2>&1 &
RUN_PID=$!
wait_for 120 dom_or_exit
if ! check "gpurun run started domain $DOM" dom_running; then
	diag <"$W/run.out"
	tail -n 15 "$W/libvirtd.log" | diag
	diag "virtlogd: $(cat "$W/virtlogd.out") $(ls /run/libvirt)"
	kill -9 $RUN_PID 2>/dev/null
	after_revert "libvirt start failed"
	done_testing
fi
note "domain running"
check "both functions on vfio-pci while the domain runs" both_on_vfio
virsh dumpxml $DOM >"$W/dom.xml" 2>&1
check "domain is a TCG one (type='qemu')" grep -q "<domain type='qemu'" "$W/dom.xml"
check "domain XML has the GPU hostdev" grep -q "bus='0x01' slot='0x00' function='0x0'" "$W/dom.xml"
check "domain XML has the audio hostdev" grep -q "bus='0x01' slot='0x00' function='0x1'" "$W/dom.xml"
virsh qemu-monitor-command $DOM --hmp 'info qtree' | tr -d '\r' >"$W/qtree.txt" 2>&1
check "QEMU of the domain has vfio-pci 1002:5046 (the GPU)" \
	awk '/ dev: / { v = ($0 ~ / dev: vfio-pci,/) } v && /pci id 1002:5046/ { f = 1 } END { exit !f }' "$W/qtree.txt"
check "QEMU of the domain has vfio-pci 8086:293e (the audio)" \
	awk '/ dev: / { v = ($0 ~ / dev: vfio-pci,/) } v && /pci id 8086:293e/ { f = 1 } END { exit !f }' "$W/qtree.txt"
note "virsh destroy $DOM"
virsh -q destroy $DOM >/dev/null 2>&1
stop_run
note "gpurun exited"
is "gpurun run exits 0 after the domain stops" "$RUN_RC" 0
diag <"$W/run.out"
after_revert "libvirt"
done_testing
