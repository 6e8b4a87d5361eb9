# Windows 11 on a discrete GPU plus a whole USB controller for keyboard, mouse and headset.

[vm]
name = win11-usb
memory = 16G
cpus = 8
firmware = uefi-secboot
tpm = yes
disk = /var/lib/gpurun/win11-usb.qcow2
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
