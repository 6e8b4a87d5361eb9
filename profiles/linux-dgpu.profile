# A Linux guest on a discrete GPU in a PCIe slot (the whole slot: GPU, HDMI audio, USB-C).
# The host keeps running on another GPU.
# fixture: desktop-dgpu (the host in tests/fixtures/hosts/ this example is tested on)

[vm]
name = linux-dgpu
memory = 8G
cpus = 6
cpu-pinning = 2-7
hugepages = no
firmware = uefi
disk = /var/lib/gpurun/linux-dgpu.qcow2
network = user
backend = qemu
template = linux

[gpu]
device = 0000:03:00.0
functions = all
vbios = none                    # a discrete card has its own ROM BAR
