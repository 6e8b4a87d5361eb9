# Guest side of bench/vm-bind.bench: time to take GPU + audio from their drivers to vfio-pci
# and back, N rounds each: `gpurun bind` + `gpurun unbind`, the raw sysfs writes of
# REFERENCE.md, and libvirt's `virsh nodedev-detach` + `nodedev-reattach` when libvirtd starts.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"
N=${BENCH_ROUNDS:-5}

check "aty128fb and snd_hda_intel bind the GPU and audio" bind_host_drivers
modprobe vfio-pci

ms() {
	read -r _u _ </proc/uptime
	echo "${_u%.*}${_u#*.}0"
}

# round NAME BIND_FN REVERT_FN
round() {
	_log=$W/$(echo "$1" | tr -c 'a-z0-9\n' '_').log
	_bind=0 _rev=0 _i=0 _bad=0
	while [ $_i -lt $N ]; do
		_t0=$(ms)
		$2 >>"$_log" 2>&1 || _bad=1
		both_on_vfio || _bad=1
		_t1=$(ms)
		$3 >>"$_log" 2>&1 || _bad=1
		wait_for 10 host_drivers_back || _bad=1
		_t2=$(ms)
		_bind=$((_bind + _t1 - _t0)) _rev=$((_rev + _t2 - _t1)) _i=$((_i + 1))
	done
	if [ $_bad = 0 ]; then
		ok "$1: bind $((_bind / N)) ms, revert $((_rev / N)) ms (mean of $N rounds)"
	else
		not_ok "$1: some round failed"
		diag <"$_log"
	fi
}

raw_bind() {
	for d in $AUDIO $GPU; do
		echo vfio-pci >"$SYSPCI/$d/driver_override" &&
			{ [ ! -e "$SYSPCI/$d/driver" ] || echo "$d" >"$SYSPCI/$d/driver/unbind"; } &&
			echo "$d" >/sys/bus/pci/drivers_probe || return 1
	done
}
raw_revert() {
	for d in $GPU $AUDIO; do
		echo >"$SYSPCI/$d/driver_override" &&
			{ [ ! -e "$SYSPCI/$d/driver" ] || echo "$d" >"$SYSPCI/$d/driver/unbind"; } &&
			echo "$d" >/sys/bus/pci/drivers_probe || return 1
	done
}
gpurun_bind() { "$GPURUN" bind "$PROFILE"; }
gpurun_unbind() { "$GPURUN" unbind "$PROFILE"; }
virsh_detach() {
	virsh -q nodedev-detach pci_0000_01_00_1 && virsh -q nodedev-detach pci_0000_01_00_0
}
virsh_reattach() {
	virsh -q nodedev-reattach pci_0000_01_00_0 && virsh -q nodedev-reattach pci_0000_01_00_1
}

round "raw sysfs" raw_bind raw_revert
if have_cmd bind && have_cmd unbind; then
	round "gpurun bind/unbind" gpurun_bind gpurun_unbind
else
	skip "gpurun bind/unbind" "this gpurun has no bind/unbind command"
fi
if command -v libvirtd >/dev/null && command -v virsh >/dev/null; then
	mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt/qemu
	LIBVIRT_LOG_OUTPUTS="3:file:$W/libvirtd.log" libvirtd -d >"$W/libvirtd.out" 2>&1
	if wait_for 30 virsh -q list; then
		round "virsh nodedev-detach/reattach" virsh_detach virsh_reattach
	else
		skip "virsh nodedev-detach/reattach" "libvirtd did not start"
		cat "$W/libvirtd.out" | diag
		tail -n 15 "$W/libvirtd.log" 2>/dev/null | diag
	fi
else
	skip "virsh nodedev-detach/reattach" "libvirt-daemon-system not installed"
fi
done_testing
