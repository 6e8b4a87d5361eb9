# Profile for the tests/vm libvirt scenario: the sandbox's emulated ATI GPU (1002:5046) at
# 01:00.0 and its HD-audio function (8086:293e) at 01:00.1, run by libvirtd (QEMU driver, a TCG
# domain) instead of gpurun starting QEMU itself. The test stops the domain with virsh destroy.

[vm]
name = sandbox-lv
memory = 256M
cpus = 1
firmware = bios
accel = tcg
network = none
backend = libvirt
# The stock templates ask for host-passthrough, which libvirt refuses for a TCG domain.
template = tests/vm/sandbox-domain.xml

[gpu]
device = 0000:01:00.0
functions = 0000:01:00.0, 0000:01:00.1
vbios = vfct
allow-boot-vga = yes

