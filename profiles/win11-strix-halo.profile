# Windows 11 on the Radeon 8060S iGPU of an AMD Strix Halo (Ryzen AI Max+ 395) APU.
# The iGPU has no ROM BAR: its VBIOS comes from the ACPI VFCT table, and the UEFI GOP driver
# ROM rides on the HDMI audio function (the recipe that avoids Code 43 under OVMF).
# Only the display and HDMI audio functions of the APU slot go to the guest; the PSP, USB and
# audio co-processor functions of the same slot stay with the host.
# fixture: strix-halo (the host in tests/fixtures/hosts/ this example is tested on)

[vm]
name = win11
memory = 16G
cpus = 8
firmware = uefi-secboot
tpm = yes                       # Windows 11 requires TPM 2.0 (swtpm)
disk = /var/lib/gpurun/win11.qcow2
cdrom = /srv/iso/Win11_24H2_English_x64.iso
# Windows Setup sees no virtio disk without the virtio drivers: "Load driver" from this ISO.
# Get virtio-win.iso from
#   https://fedorapeople.org/groups/virt/virtio-win/direct-downloads/stable-virtio/
# (Fedora's virtio-win package installs it here; Proxmox VE keeps ISOs in
# /var/lib/vz/template/iso/).
cdrom = /usr/share/virtio-win/virtio-win.iso
network = user
backend = qemu
template = windows11            # used by `gpurun emit libvirt`

[gpu]
device = 1002:1586              # Strix Halo Radeon 8060S
functions = all                 # GPU + HDMI audio of the slot
vbios = vfct
gop = /usr/share/kvm/AMDGopDriver.rom
allow-boot-vga = yes            # the iGPU is the only GPU: the host console goes dark
