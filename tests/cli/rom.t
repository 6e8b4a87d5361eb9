#!/bin/sh
# gpurun rom info / rom combine on ROMs made by build/tools/mkrom and on Debian's real ROMs.
. tests/cli/lib.sh
: "${GPURUN_BUILD:=$(dirname "$GPURUN")}"
MKROM="$GPURUN_BUILD/tools/mkrom"

"$MKROM" legacy 1002 1586 17408 "$T/vbios.rom"
"$MKROM" efi 1002 ffff 65536 "$T/gop.rom"

expect_rc 0 "rom info on a legacy VBIOS" "$GPURUN" rom info "$T/vbios.rom"
contains "summary line" "$T/out" "vbios.rom: 17408 bytes, 1 image, valid$"
contains "image line" "$T/out" "image 0 at 0x0: x86, 1002:1586 class 030000, 17408 bytes, checksum ok, ATOM BIOS, last$"
contains "no EFI image said" "$T/out" "no x64 EFI image: a UEFI guest shows no picture"

expect_rc 0 "rom info --json" "$GPURUN" rom info --json "$T/vbios.rom"
contains "JSON image shape" "$T/out" "^\{\"file\":\"$T/vbios.rom\",\"size\":17408,\"images\":\[\{\"offset\":0,\"vendor\":\"1002\",\"device\":\"1586\",\"class\":\"030000\",\"length\":17408,\"code_type\":\"x86\",\"last\":true,\"checksum_ok\":true,\"atom\":true\}\],\"valid\":true,"

expect_rc 0 "rom info --json on an EFI GOP ROM" "$GPURUN" --json rom info "$T/gop.rom"
contains "EFI fields" "$T/out" "\"code_type\":\"efi\",\"last\":true,\"efi_subsystem\":\"boot-services-driver\",\"efi_machine\":\"x64\",\"efi_compressed\":false\}"

# invalid and broken files
printf 'not a rom at all, just text\n' >"$T/text.rom"
expect_rc 1 "rom info on a non-ROM exits 1" "$GPURUN" rom info "$T/text.rom"
contains "one error line with the offset" "$T/err" "error: $T/text.rom: offset 0x0: no option ROM signature 55 aa"
check "exactly one stderr line" test "$(wc -l <"$T/err")" -eq 1
expect_rc 1 "a bad file among good ones still exits 1" "$GPURUN" rom info "$T/vbios.rom" "$T/text.rom"
contains "good file still shown" "$T/out" "vbios.rom: 17408 bytes, 1 image, valid"
head -c 5000 "$T/vbios.rom" >"$T/trunc.rom"
expect_rc 0 "truncated ROM decodes with warnings" "$GPURUN" rom info "$T/trunc.rom"
contains "truncation named" "$T/out" "warning: offset 0x0: image declares 17408 bytes but only 5000 are present"
contains "checksum flagged" "$T/out" "checksum BAD"
cp "$T/vbios.rom" "$T/badsum.rom"
printf '\001' | dd of="$T/badsum.rom" bs=1 seek=4096 conv=notrunc 2>/dev/null
expect_rc 0 "checksum mismatch is a warning" "$GPURUN" rom info "$T/badsum.rom"
contains "checksum mismatch named" "$T/out" "warning: offset 0x0: legacy image checksum mismatch"
expect_rc 1 "missing file" "$GPURUN" rom info "$T/nonexistent.rom"
contains "missing file named" "$T/err" "nonexistent.rom"

# --json: JSON lines, one object per FILE in order, a file that cannot be read or is no ROM too
expect_rc 1 "rom info --json of good, invalid, missing and unreadable files" "$GPURUN" rom info --json "$T/vbios.rom" "$T/text.rom" "$T/nonexistent.rom" "$T"
check "one JSON object per file, each with ok and the error" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 4, lines
o = [json.loads(l) for l in lines]
assert [x["file"] for x in o] == sys.argv[2:], o
assert o[0]["ok"] is True and "error" not in o[0], o[0]
assert o[1]["ok"] is False and o[1]["error_offset"] == 0 and "no option ROM signature" in o[1]["error"], o[1]
assert o[2]["ok"] is False and "No such file" in o[2]["error"] and "images" not in o[2], o[2]
assert o[3]["ok"] is False and "directory" in o[3]["error"], o[3]
' "$T/out" "$T/vbios.rom" "$T/text.rom" "$T/nonexistent.rom" "$T"
check "each error on stderr too, once" test "$(grep -c 'error:' "$T/err")" -eq 3

# usage errors
expect_rc 2 "rom without subcommand" "$GPURUN" rom
expect_rc 2 "rom unknown subcommand" "$GPURUN" rom frob "$T/vbios.rom"
expect_rc 2 "rom info without files" "$GPURUN" rom info
expect_rc 2 "rom combine without -o" "$GPURUN" rom combine "$T/vbios.rom" "$T/gop.rom"
expect_rc 2 "rom combine with one file" "$GPURUN" rom combine -o "$T/x.rom" "$T/vbios.rom"

# combine
expect_rc 0 "rom combine" "$GPURUN" rom combine -o "$T/combined.rom" "$T/vbios.rom" "$T/gop.rom"
contains "combine summary" "$T/out" "Wrote $T/combined.rom \(82944 bytes\): legacy image 1002:1586 \(17408 bytes\) \+ EFI x64 image 1002:ffff \(65536 bytes\)"
expect_rc 0 "rom combine --json" "$GPURUN" rom combine --json -o "$T/combined2.rom" "$T/vbios.rom" "$T/gop.rom"
check "stdout is one JSON object" test "$(wc -l <"$T/out")" -eq 1
if command -v jq >/dev/null; then
	check "what was written, and its size" sh -c "jq -e --arg p '$T/combined2.rom' '.command==\"rom combine\" and .ok and .files[0].path==\$p and .files[0].size==82944 and (.files[0].what|test(\"legacy image 1002:1586 \\\\(17408 bytes\\\\) \\\\+ EFI x64 image\"))' '$T/out' >/dev/null"
fi
check "the same file as without --json" cmp -s "$T/combined.rom" "$T/combined2.rom"
expect_rc 0 "combined ROM decodes" "$GPURUN" rom info "$T/combined.rom"
contains "two valid images" "$T/out" "combined.rom: 82944 bytes, 2 images, valid$"
contains "legacy first, not last, checksum fixed" "$T/out" "image 0 at 0x0: x86, 1002:1586 class 030000, 17408 bytes, checksum ok, ATOM BIOS$"
contains "EFI last" "$T/out" "image 1 at 0x4400: efi, 1002:ffff class 030000, 65536 bytes, x64 boot-services-driver, uncompressed, last$"
lacks "no warnings" "$T/out" "warning"
expect_rc 0 "combine again: identical output is fine" "$GPURUN" rom combine -o "$T/combined.rom" "$T/vbios.rom" "$T/gop.rom"
cp "$T/vbios.rom" "$T/other.rom"
expect_rc 1 "combine refuses to replace a different file" "$GPURUN" rom combine -o "$T/other.rom" "$T/vbios.rom" "$T/gop.rom"
contains "refusal says --force" "$T/err" "exists with different content; use --force"
check "refused file untouched" cmp -s "$T/other.rom" "$T/vbios.rom"
expect_rc 0 "combine --force replaces it" "$GPURUN" rom combine --force -o "$T/other.rom" "$T/vbios.rom" "$T/gop.rom"
check "forced file is the combined ROM" cmp -s "$T/other.rom" "$T/combined.rom"
expect_rc 1 "combine the wrong way round" "$GPURUN" rom combine -o "$T/bad.rom" "$T/gop.rom" "$T/vbios.rom"
contains "says what is missing" "$T/err" "the VBIOS has no complete legacy x86 image"
check "nothing written on failure" test ! -e "$T/bad.rom"

# real option ROMs shipped by Debian
if [ -f /usr/lib/ipxe/qemu/efi-e1000.rom ]; then
	expect_rc 0 "real ipxe ROM" "$GPURUN" rom info --json /usr/lib/ipxe/qemu/efi-e1000.rom
	contains "legacy + EFI images" "$T/out" "\"offset\":0,\"vendor\":\"8086\",\"device\":\"100e\",\"class\":\"020000\",\"length\":75264,\"code_type\":\"x86\",\"last\":false,\"checksum_ok\":true.*\"offset\":75264,.*\"code_type\":\"efi\",\"last\":true,\"efi_subsystem\":\"boot-services-driver\",\"efi_machine\":\"x64\""
else
	ok "real ipxe ROM # SKIP ipxe-qemu not installed"
fi
if [ -f /usr/share/seabios/vgabios-isavga.bin ]; then
	expect_rc 1 "ISA VGA BIOS is not a PCI option ROM" "$GPURUN" rom info /usr/share/seabios/vgabios-isavga.bin
	contains "says why" "$T/err" "offset 0x18: no PCI data structure"
else
	ok "ISA VGA BIOS # SKIP seabios not installed"
fi
done_testing
