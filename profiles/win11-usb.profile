# Windows 11 on a discrete GPU plus a whole USB controller for keyboard, mouse and headset.
# fixture: desktop-dgpu (the host in tests/fixtures/hosts/ this example is tested on)

[vm]
name = win11-usb
memory = 16G
cpus = 8
firmware = uefi-secboot
tpm = yes
disk = /var/lib/gpurun/win11-usb.qcow2
cdrom = /srv/iso/Win11_24H2_English_x64.iso
# Windows Setup sees no virtio disk without the virtio drivers: "Load driver" from this ISO.
# Get virtio-win.iso from
#   https://fedorapeople.org/groups/virt/virtio-win/direct-downloads/stable-virtio/
# (Fedora's virtio-win package installs it here; Proxmox VE keeps ISOs in
# /var/lib/vz/template/iso/).
cdrom = /usr/share/virtio-win/virtio-win.iso
network = user
backend = libvirt
libvirt-uri = qemu:///system
template = windows11

[gpu]
device = 0000:03:00.0
functions = all
vbios = none

[device usb]
address = 0000:00:14.0          # the chipset USB controller, alone in its IOMMU group
