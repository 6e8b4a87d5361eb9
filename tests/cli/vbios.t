#!/bin/sh
# gpurun vbios list / extract on the strix-halo fixture: from its ACPI VFCT table, and from the
# GPU's sysfs `rom` file once the VFCT is gone.
. tests/cli/lib.sh
jqt() { jq -e "$@" >/dev/null; }
: "${GPURUN_BUILD:=$(dirname "$GPURUN")}"
MKROM="$GPURUN_BUILD/tools/mkrom"
MKVFCT="$GPURUN_BUILD/tools/mkvfct"

if [ ! -f "$FIX/strix-halo/sys/firmware/acpi/tables/VFCT" ]; then
	echo "1..0 # SKIP fixture strix-halo has no VFCT"
	exit 0
fi
GPU=sys/bus/pci/devices/0000:c4:00.0
ROMS=var/lib/gpurun/roms

expect_rc 0 "vbios list" "$GPURUN" --root "$FIX/strix-halo" vbios list
contains "table summary" "$T/out" "tables/VFCT: 17512 bytes, OEM 'ALASKA' 'A M I', checksum ok, 1 image$"
contains "record matched to the GPU" "$T/out" "^  c4:00\.0 1002:1586 subsystem [0-9a-f]{4}:[0-9a-f]{4}, 17408 bytes at 0x68 -> 0000:c4:00\.0 \(driver amdgpu\)$"
contains "image validated" "$T/out" "vbios_1002_1586\.bin: valid ROM \(ATOM BIOS\), legacy image only"
expect_rc 0 "vbios list --json" "$GPURUN" --root "$FIX/strix-halo" vbios list --json
contains "JSON record" "$T/out" "\"bus\":\"c4\",\"slot\":\"00\",\"function\":0,\"vendor\":\"1002\",\"device\":\"1586\",.*\"length\":17408,\"host_device\":\"0000:c4:00\.0\",\"match\":\"exact\",\"driver\":\"amdgpu\",\"name\":\"vbios_1002_1586\.bin\",\"rom_valid\":true,\"efi\":false"
expect_rc 2 "vbios list takes no --device" "$GPURUN" --root "$FIX/strix-halo" vbios list --device c4:00.0
expect_rc 2 "vbios without subcommand" "$GPURUN" --root "$FIX/strix-halo" vbios
expect_rc 2 "vbios unknown subcommand" "$GPURUN" --root "$FIX/strix-halo" vbios dump

# extract from the VFCT into the default ROM dir
copy_fixture strix-halo
dd if="$T/root/sys/firmware/acpi/tables/VFCT" of="$T/image" bs=1 skip=104 count=17408 2>/dev/null
expect_rc 0 "vbios extract from VFCT" "$GPURUN" --root "$T/root" vbios extract
contains "says the source" "$T/out" "^Wrote $T/root/$ROMS/vbios_1002_1586\.bin \(17408 bytes\) from the ACPI VFCT table \(record at offset 0x4c\): 1 image, first x86 1002:1586 class 030000, checksum ok, ATOM BIOS\.$"
check "file is the VFCT image" cmp -s "$T/root/$ROMS/vbios_1002_1586.bin" "$T/image"
check "mode 0644" test "$(stat -c %a "$T/root/$ROMS/vbios_1002_1586.bin")" = 644
check "no temp file left" test "$(ls "$T/root/$ROMS" | wc -l)" -eq 1
expect_rc 0 "extract again: up to date" "$GPURUN" --root "$T/root" vbios extract
contains "up to date" "$T/out" "^Up to date: $T/root/$ROMS/vbios_1002_1586\.bin"
printf 'x' >>"$T/root/$ROMS/vbios_1002_1586.bin"
expect_rc 1 "a different file is not replaced" "$GPURUN" --root "$T/root" vbios extract
contains "refusal says --force" "$T/err" "vbios_1002_1586\.bin exists with different content; use --force"
check "different file untouched" test "$(stat -c %s "$T/root/$ROMS/vbios_1002_1586.bin")" -eq 17409
expect_rc 0 "--force replaces it" "$GPURUN" --root "$T/root" vbios extract --force
check "replaced by the VFCT image" cmp -s "$T/root/$ROMS/vbios_1002_1586.bin" "$T/image"
expect_rc 0 "-o DIR and --device BDF" "$GPURUN" --root "$T/root" vbios extract --device c4:00.0 -o "$T/out-dir/roms"
check "written to DIR" cmp -s "$T/out-dir/roms/vbios_1002_1586.bin" "$T/image"
expect_rc 0 "--device VVVV:DDDD" "$GPURUN" --root "$T/root" vbios extract --device 1002:1586 -o "$T/out-dir/roms"
expect_rc 1 "--device of an absent GPU" "$GPURUN" --root "$T/root" vbios extract --device 1002:9999 -o "$T/out-dir/roms"
contains "absent GPU named" "$T/err" "No VFCT record for 1002:9999"
expect_rc 2 "--device that is neither" "$GPURUN" --root "$T/root" vbios extract --device bogus
contains "says why" "$T/err" "Invalid --device 'bogus': neither a vendor:device id"
expect_rc 2 "--device with a bad function" "$GPURUN" --root "$T/root" vbios extract --device c4:00.9
contains "function must be 0-7" "$T/err" "Invalid --device 'c4:00\.9': function must be 0-7$"
expect_rc 1 "--device of an address not on the host" "$GPURUN" --root "$T/root" vbios extract --device c5:00.0
contains "did you mean" "$T/err" "no device 0000:c5:00\.0 on this host \(did you mean 0000:c4:00\.0\?\)"
expect_rc 2 "--device id of several functions" "$GPURUN" --root "$T/root" vbios extract --device 1022:1509
contains "lists them" "$T/err" "1022:1509 matches 3 functions: .*; name one by address"
expect_rc 0 "extract --json (short address)" "$GPURUN" --root "$T/root" vbios extract --json --device c4:0.0 -o "$T/json-roms"
check "stdout is one JSON object" test "$(wc -l <"$T/out")" -eq 1
if command -v jq >/dev/null; then
	check "the file, its size and source" jqt --arg p "$T/json-roms/vbios_1002_1586.bin" '.command=="vbios extract" and .ok==true and .files==[{"path":$p,"size":17408,"what":.files[0].what}] and (.files[0].what|startswith("written from the ACPI VFCT table"))' "$T/out"
fi
expect_rc 2 "extract takes no arguments" "$GPURUN" --root "$T/root" vbios extract c4:00.0

# broken tables
head -c 1000 "$FIX/strix-halo/sys/firmware/acpi/tables/VFCT" >"$T/root/sys/firmware/acpi/tables/VFCT"
expect_rc 1 "truncated VFCT: list fails" "$GPURUN" --root "$T/root" vbios list
contains "error names file and offset" "$T/err" "error: $T/root/sys/firmware/acpi/tables/VFCT: offset 0x4: header Length 17512 is larger than the data \(1000 bytes\)"
expect_rc 0 "truncated VFCT: extract --device falls back to the sysfs ROM" "$GPURUN" --root "$T/root" vbios extract --device c4:00.0 -o "$T/fallback"
contains "fallback said" "$T/out" "from the sysfs ROM of 0000:c4:00\.0"
contains "broken table warned" "$T/err" "warning: Ignoring the broken VFCT table"
expect_rc 0 "truncated VFCT: extract without --device falls back too" "$GPURUN" --root "$T/root" vbios extract -o "$T/fallback2"
check "fallback wrote the sysfs ROM" cmp -s "$T/fallback2/vbios_1002_1586.bin" "$T/root/$GPU/rom"
# a truncated image is never written
head -c 9000 "$T/image" >"$T/root/$GPU/rom"
expect_rc 1 "truncated sysfs ROM is refused" "$GPURUN" --root "$T/root" vbios extract --device c4:00.0 -o "$T/trunc"
contains "truncation named" "$T/err" "is truncated \(image at offset 0x0 declares 17408 bytes, 9000 present\); nothing written"
check "nothing written for a truncated ROM" test ! -e "$T/trunc"
cp "$FIX/strix-halo/$GPU/rom" "$T/root/$GPU/rom"
cp "$FIX/strix-halo/sys/firmware/acpi/tables/VFCT" "$T/root/sys/firmware/acpi/tables/VFCT"
printf '\377' | dd of="$T/root/sys/firmware/acpi/tables/VFCT" bs=1 seek=9 conv=notrunc 2>/dev/null
expect_rc 0 "bad VFCT checksum is a warning" "$GPURUN" --root "$T/root" vbios list
contains "checksum warning with offset" "$T/err" "warning: .*VFCT: offset 0x9: table checksum is wrong"

# two records made by the tools: one for this GPU, one for a card that is not here
"$MKROM" legacy 1002 73bf 1024 "$T/other.rom"
"$MKVFCT" "$T/root/sys/firmware/acpi/tables/VFCT" 3 0 0 1002 73bf "$T/other.rom" c4 0 0 1002 1586 "$T/image"
expect_rc 0 "list two records" "$GPURUN" --root "$T/root" vbios list
contains "two images" "$T/out" "checksum ok, 2 images$"
contains "foreign record unmatched" "$T/out" "03:00\.0 1002:73bf .* -> no such device on this host$"
expect_rc 0 "extract without --device writes every record" "$GPURUN" --root "$T/root" vbios extract -o "$T/two"
check "both written" test -f "$T/two/vbios_1002_73bf.bin" -a -f "$T/two/vbios_1002_1586.bin"
check "GPU image right" cmp -s "$T/two/vbios_1002_1586.bin" "$T/image"

# no VFCT at all: the sysfs rom attribute
copy_fixture strix-halo
rm "$T/root/sys/firmware/acpi/tables/VFCT"
expect_rc 0 "list without VFCT" "$GPURUN" --root "$T/root" vbios list
contains "no VFCT said" "$T/out" "^No VFCT table"
expect_rc 0 "extract from the sysfs rom" "$GPURUN" --root "$T/root" vbios extract
contains "sysfs source said" "$T/out" "^Wrote $T/root/$ROMS/vbios_1002_1586\.bin \(17408 bytes\) from the sysfs ROM of 0000:c4:00\.0 \(no VFCT record\)"
check "file is the sysfs ROM" cmp -s "$T/root/$ROMS/vbios_1002_1586.bin" "$T/root/$GPU/rom"
check "sysfs rom file not clobbered" cmp -s "$T/root/$GPU/rom" "$FIX/strix-halo/$GPU/rom"
rm "$T/root/$GPU/rom"
expect_rc 1 "no VFCT and no rom" "$GPURUN" --root "$T/root" vbios extract --device c4:00.0 -o "$T/none"
contains "nothing to extract" "$T/err" "0000:c4:00\.0 has no VFCT record and no sysfs ROM"
expect_rc 1 "no source without --device" "$GPURUN" --root "$T/root" vbios extract -o "$T/none"
check "nothing written" test ! -e "$T/none"
done_testing
