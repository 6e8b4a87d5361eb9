# The tests/vm sandbox: an emulated ATI GPU (1002:5046, ati-vga) at 01:00.0 and HDA audio at
# 01:00.1 behind a root port, passed to a nested guest under TCG. No disks, BIOS, stopped at
# start (-S) so the test can query the devices over QMP and quit.

[vm]
name = sandbox
memory = 256M
cpus = 1
firmware = bios
accel = tcg
network = none
backend = qemu

[gpu]
device = 0000:01:00.0
# listed, not `all`: QEMU's emulated HDA is an Intel device (8086:293e), and `all` on a slot
# that mixes vendors takes only the GPU vendor's functions (the APU rule)
functions = 0000:01:00.0, 0000:01:00.1
vbios = vfct                    # the sandbox injects a VFCT table with -acpitable
allow-boot-vga = yes

[qemu]
args = -S
