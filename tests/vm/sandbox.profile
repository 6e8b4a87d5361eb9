# Profile for the tests/vm sandbox: the emulated ATI GPU (1002:5046, ati-vga) at 01:00.0 and the
# HD-audio function at 01:00.1 behind one PCIe root port, both passed to a nested TCG guest that
# stays stopped (-S) so the test can look at it over QMP. The audio function is Intel's
# (8086:293e), not an AMD HDMI one, so the functions are listed by address.

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
functions = 0000:01:00.0, 0000:01:00.1
vbios = vfct
allow-boot-vga = yes

[qemu]
# The test talks to the stopped guest over this QMP socket (/run is a tmpfs in the sandbox).
args = -S -qmp unix:/run/gpurun-sandbox.qmp,server=on,wait=off
