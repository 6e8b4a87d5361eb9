# The `make demo` walk-through, run inside the sandbox by tests/vm/demo: gpurun on a host with
# an AMD-vendor GPU, HD audio, an IOMMU with interrupt remapping and a VFCT table, end to end.
. "$GPURUN_TOP/tests/vm/scenarios/lib.sh"

step=0
say() {
	printf '\n'
	step=$((step + 1))
	printf '=== %d. %s\n' "$step" "$*"
}
show() {
	printf '$ %s\n' "$*"
	"$@" 2>&1 | sed 's/^/    /'
}
drivers() {
	printf '    %s: %-13s %s: %-13s console on the GPU: %s\n' \
		"$GPU" "$(driver_of $GPU)" "$AUDIO" "$(driver_of $AUDIO)" \
		"$(console_on_gpu && echo yes || echo no)"
}

printf 'gpurun demo - a GPU passed through to a guest on a machine without one\n'
printf 'Sandbox: Debian kernel %s under QEMU (TCG), emulated IOMMU with interrupt remapping,\n' \
	"$(uname -r)"
printf 'an AMD-vendor GPU (ati-vga, 1002:5046) and HD audio behind one PCIe root port, and an\n'
printf 'ACPI VFCT table holding the GPU'"'"'s VBIOS, as on an AMD APU.\n'

say "The host as it runs every day: its drivers hold the GPU and the audio"
bind_host_drivers >/dev/null 2>&1
modprobe kvm_amd 2>/dev/null
drivers
show "$GPURUN" ls

say "Is this host ready for passthrough?"
show "$GPURUN" check

say "The VBIOS, from the ACPI VFCT table"
show "$GPURUN" vbios list

say "The profile, and what gpurun will do with it (changing nothing)"
show cat "$PROFILE"
show "$GPURUN" plan "$PROFILE"

say "Run it: gpurun binds the functions to vfio-pci and starts QEMU"
printf '$ %s run %s &\n' "$GPURUN" "$PROFILE"
if ! start_run; then
	printf 'the guest did not start:\n'
	sed 's/^/    /' "$W/run.out"
	exit 1
fi
sed 's/^/    /' "$W/run.out"
drivers
printf '    /dev/vfio/%s: %s\n' "$(group_of $GPU)" \
	"$(test -c /dev/vfio/$(group_of $GPU) && echo present || echo missing)"
qpid=$(child_of "$RUN_PID")
printf '    QEMU (pid %s):\n' "$qpid"
tr '\0' '\n' <"/proc/$qpid/cmdline" | sed 's/^/        /'

say "Inside the guest: what QEMU shows on its PCI bus (QMP)"
printf '$ echo info qtree | QMP %s\n' "$QMP"
qmp_pci_snapshot "$QMP" >/dev/null
sed -n '/dev: vfio-pci/,/pci id/p' "$W/qtree.txt" | grep -E 'dev: vfio-pci|host =|romfile =|pci id' |
	sed 's/^ */    /'

say "The guest shuts down (QMP quit): gpurun reverts the host"
qmp "$QMP" '{"execute":"quit"}' >/dev/null
stop_run
sed -n '/Starting /,$p' "$W/run.out" | tail -n +2 | sed 's/^/    /'
printf '    gpurun exited with status %s\n' "$RUN_RC"
drivers
if [ "$RUN_RC" != 0 ]; then
	printf '\nThe revert reported a problem (above): the demo fails.\n'
	exit 1
fi
printf '\nDone: check, bind, guest with the GPU, revert - on a real kernel.\n'
