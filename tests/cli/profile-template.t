#!/bin/sh
# A profile's `template = /PATH` (backend = libvirt) is read under --root like the profile's
# other files (vbios, nvram, disks): ROOT/PATH when it exists, else PATH -- in run, in the
# plan's preview (plan, check PROFILE) and in emit alike.
. tests/cli/lib.sh
copy_fixture desktop-dgpu
mkdir -p "$T/root/vm"
sed 's|<name>[^<]*</name>|<name>from-root</name>|' "$GPURUN_TOP/xml-templates/linux.xml" >"$T/root/vm/t.xml"
printf '[vm]\nname = t\nbackend = libvirt\nlibvirt-uri = test:///default\ntemplate = /vm/t.xml\n[gpu]\ndevice = 0000:03:00.0\n' >"$T/t.profile"
g() { "$GPURUN" --root "$T/root" --state-dir "$T/st" "$@"; }

expect_rc 0 "plan: the template under --root is found" g plan "$T/t.profile"
lacks "no template FAIL" "$T/out" 'FAIL.*template'
expect_rc 0 "check PROFILE: the template under --root passes" g check "$T/t.profile"
contains "the template's PASS" "$T/out" '^PASS  template = /vm/t\.xml: a <domain> document'
expect_rc 0 "run --dry-run: the template under --root is read" g run --dry-run "$T/t.profile"
expect_rc 0 "emit libvirt: the template under --root is filled" g emit libvirt "$T/t.profile"
contains "the domain is built from it" "$T/out" '<domain'

# a path missing under the root is read as given (a real host's file)
cp "$T/root/vm/t.xml" "$T/given.xml"
printf '[vm]\nname = t\nbackend = libvirt\ntemplate = %s\n[gpu]\ndevice = 0000:03:00.0\n' "$T/given.xml" >"$T/g.profile"
expect_rc 0 "plan: a template not under --root is read as given" g plan "$T/g.profile"
rm -f "$T/root/vm/t.xml"
expect_rc 1 "plan: a template missing under --root and as given is a FAIL" g plan "$T/t.profile"
contains "FAIL names the template" "$T/out" '^FAIL template: template = /vm/t\.xml'
done_testing
