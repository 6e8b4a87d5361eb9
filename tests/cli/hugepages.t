#!/bin/sh
# hugepages = yes means the same in the three outputs (2 MiB pages, the whole guest memory
# preallocated), and plan/check FAIL when the host has too few free 2 MiB huge pages
# (sys/kernel/mm/hugepages/hugepages-2048kB; desktop-dgpu has 1024 free of 4096, strix-halo
# 8704 free).
. tests/cli/lib.sh

hp() { # NAME MEMORY [EXAMPLE-PROFILE]
	sed -e '/^hugepages = /d' -e "s/^memory = .*/memory = $2\nhugepages = yes/" \
		"$GPURUN_TOP/profiles/${3:-linux-dgpu}.profile" >"$T/$1.profile"
}
g() { "$GPURUN" --root "$FIX/$1" "$2" "$T/$3.profile"; }

hp big 8G
expect_rc 1 "plan: 8 GiB of huge pages, 1024 free: refused" g desktop-dgpu plan big
contains "the FAIL says what is missing" "$T/out" "FAIL hugepages: hugepages = yes: the guest's 8192 MiB need 4096 free 2048 kB huge pages, the host has 1024 free \(4096 reserved\)"
contains "...and how to fix it" "$T/out" "fix: Reserve more before the run: sysctl vm.nr_hugepages=N"
expect_rc 1 "check PROFILE: the same FAIL" g desktop-dgpu check big
contains "check: FAIL hugepages" "$T/out" "^FAIL  hugepages = yes: the guest's 8192 MiB need 4096 free"
hp strix 16G win11-strix-halo
expect_rc 0 "plan on strix-halo's pool (8704 free): fine" g strix-halo plan strix
lacks "no hugepages FAIL on strix-halo" "$T/out" "FAIL hugepages"
g strix-halo check strix >"$T/out" 2>&1
contains "check: PASS hugepages" "$T/out" "^PASS  hugepages = yes: 8704 free 2048 kB huge pages, 8192 needed"

hp fits 2G
expect_rc 0 "plan: 2 GiB = the 1024 free pages" g desktop-dgpu plan fits
lacks "no hugepages FAIL" "$T/out" "FAIL hugepages"

hp odd 1025M
expect_rc 1 "plan: memory not a multiple of 2 MiB" g desktop-dgpu plan odd
contains "...says so" "$T/out" "FAIL hugepages: hugepages = yes: memory = 1025 MiB is not a whole number of 2 MiB huge pages"

# no pool to read (a host without hugetlbfs): INFO, not a refusal
copy_fixture desktop-dgpu
rm -rf "$T/root/sys/kernel/mm/hugepages"
expect_rc 0 "plan without huge page counts" "$GPURUN" --root "$T/root" plan "$T/fits.profile"
contains "INFO: cannot tell" "$T/out" "INFO hugepages: hugepages = yes: the host's 2048 kB huge page counts are not readable"

# the three outputs: the same page size, preallocated
hp out 1G
expect_rc 0 "emit qemu" "$GPURUN" --root "$FIX/desktop-dgpu" emit qemu "$T/out.profile"
contains "QEMU: 2 MiB pages from a memfd, preallocated" "$T/out" "^ *-object memory-backend-memfd,id=gpurun-mem,size=1024M,hugetlb=on,hugetlbsize=2M,prealloc=on "
contains "QEMU: the machine's memory is that backend" "$T/out" "^ *-machine q35,memory-backend=gpurun-mem[, ]"
expect_rc 0 "emit libvirt" "$GPURUN" --root "$FIX/desktop-dgpu" emit libvirt "$T/out.profile"
cp "$T/out" "$T/out.xml"
contains "libvirt: 2048 KiB pages" "$T/out.xml" '<page size="2048" unit="KiB"/>'
contains "libvirt: from a memfd" "$T/out.xml" '<source type="memfd"/>'
contains "libvirt: preallocated" "$T/out.xml" '<allocation mode="immediate"/>'
if command -v virt-xml-validate >/dev/null; then
	check "libvirt: the XML validates" sh -c "virt-xml-validate '$T/out.xml' domain >/dev/null 2>&1"
else
	ok "# SKIP virt-xml-validate missing"
fi
expect_rc 0 "emit proxmox" "$GPURUN" --root "$FIX/desktop-dgpu" emit proxmox "$T/out.profile"
contains "Proxmox: 2 MiB pages (qemu-server preallocates them)" "$T/out" "^hugepages: 2$"
contains "Proxmox: hugepages need numa" "$T/out" "^numa: 1$"
# a count that is not a plain decimal number is not readable: "-5" is not 2^64-5 free pages
copy_fixture desktop-dgpu
hp fits 2G
for bad in -5 ' 5000' +5000; do
	printf '%s\n' "$bad" >"$T/root/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
	"$GPURUN" --root "$T/root" plan "$T/fits.profile" >"$T/out" 2>&1
	contains "free_hugepages '$bad': not readable" "$T/out" "INFO hugepages: .*counts are not readable"
done
done_testing
