#!/bin/sh
# Three outputs, one machine: for every fixture host x profile (profiles/*.profile and
# tests/fixtures/profiles/*.profile), `gpurun emit qemu` and libvirt's own translation of
# `gpurun emit libvirt` (virsh domxml-to-native qemu-argv, on an unprivileged session daemon of
# its own) describe the same machine, device by device (tests/tools/equivalence); the intended
# differences are tests/tools/equivalence-allow, which gpurun(8) OUTPUT DIFFERENCES repeats.
# A profile one output refuses, the other refuses too. One libvirt daemon for every case.
. tests/cli/lib.sh
export NO_COLOR=1
unset GPURUN_QEMU GPURUN_DATADIR
EQ="$GPURUN_TOP/tests/tools/equivalence"
ALLOW="$GPURUN_TOP/tests/tools/equivalence-allow"
M8="$GPURUN_TOP/man/gpurun.8"

# the allow-list and gpurun(8) OUTPUT DIFFERENCES name the same facts
sed -n 's/^\([a-z-]*\):.*/\1/p' "$ALLOW" | sort >"$T/allow-ids"
sed -n '/^\.SH OUTPUT DIFFERENCES/,/^\.SH /{/^\.TP/{n;s/^\.B //;s/\\-/-/g;p}}' "$M8" | sort >"$T/man-ids"
check "allow-list is short (at most 5 facts)" test "$(wc -l <"$T/allow-ids")" -le 5
if diff "$T/allow-ids" "$T/man-ids" >"$T/diff"; then ok "gpurun(8) OUTPUT DIFFERENCES lists the allow-list"
else not_ok "gpurun(8) OUTPUT DIFFERENCES differs from tests/tools/equivalence-allow"; sed 's/^/# /' "$T/diff"; fi

if ! command -v python3 >/dev/null; then
	echo "# SKIP equivalence: python3 missing"
	done_testing
	exit
fi
if ! libvirt_session_start; then
	echo "# SKIP equivalence: virsh, libvirtd or qemu-system-x86_64 missing"
	done_testing
	exit
fi
libvirt_session_hugepages || echo "# no hugetlbfs for libvirt (not root, or no unshare): hugepages cases skip"
# the first translation starts the daemon: it must work at all (swtpm_setup for TPM domains)
printf '<domain type="qemu"><name>probe</name><memory>65536</memory><os><type arch="x86_64" machine="q35">hvm</type></os></domain>\n' >"$LV/probe.xml"
if ! lv_virsh domxml-to-native qemu-argv "$LV/probe.xml" >"$T/probe" 2>&1; then
	echo "# SKIP equivalence: the libvirt session daemon fails: $(tail -n 1 "$T/probe")"
	done_testing
	exit
fi

# the files the test profiles name
D="$T/d"
mkdir -p "$D"
for f in "uefi disk.qcow2" install.iso win.img win11.iso virtio-win.iso bios.img \
	"a,b c'd<e>&f.img" "-x \"y\".iso"; do : >"$D/$f"; done
i=0; while [ $i -lt 16 ]; do : >"$D/d$i.img"; : >"$D/c$i.iso"; i=$((i + 1)); done

n_same=0
for hdir in "$FIX"/*/; do
	h=$(basename "$hdir")
	[ -d "$hdir/sys" ] || continue
	gpu=$("$GPURUN" --root "$hdir" ls 2>/dev/null | awk '$1 == "GPU" { g = $2 } END { print g }')
	for prof in "$GPURUN_TOP"/profiles/*.profile "$GPURUN_TOP"/tests/fixtures/profiles/*.profile; do
		p=$(basename "$prof" .profile)
		sed -e "s|@DIR@|$D|g" -e "s|@GPU@|${gpu:-0000:00:00.0}|g" "$prof" >"$T/p.profile"
		"$GPURUN" --root "$hdir" emit qemu "$T/p.profile" >"$T/q.argv" 2>"$T/q.err"
		rq=$?
		"$GPURUN" --root "$hdir" emit libvirt "$T/p.profile" >"$T/x.xml" 2>"$T/x.err"
		rx=$?
		if [ "$rq" -ne 0 ] || [ "$rx" -ne 0 ]; then
			# the same FAIL lines refuse both (output-limit aside, which is per output)
			if [ "$rq" -eq "$rx" ] && [ "$(grep -c '^FAIL' "$T/q.err")" -eq "$(grep -c '^FAIL' "$T/x.err")" ]; then
				ok "$h/$p: both outputs refuse it (exit $rq)"
			else
				not_ok "$h/$p: emit qemu exits $rq, emit libvirt $rx"
				sed 's/^/# /' "$T/q.err" "$T/x.err"
			fi
			continue
		fi
		python3 "$EQ" --prepare "$T/x.xml" "$LV/x.xml"
		chmod 644 "$LV/x.xml"
		if ! lv_virsh domxml-to-native qemu-argv "$LV/x.xml" >"$T/l.argv" 2>"$T/l.err"; then
			if grep -q "TPM version '2.0' is not supported" "$T/l.err"; then
				echo "# SKIP $h/$p: libvirt's TPM emulator needs swtpm_setup (swtpm-tools)"
				continue
			fi
			if grep -q 'hugetlbfs filesystem is not mounted' "$T/l.err"; then
				echo "# SKIP $h/$p: libvirt needs a mounted hugetlbfs to translate <hugepages/>"
				continue
			fi
			not_ok "$h/$p: libvirt translates the XML"
			sed 's/^/# /' "$T/l.err"
			continue
		fi
		if python3 "$EQ" "$T/q.argv" "$T/l.argv" "$T/x.xml" "$ALLOW" --tcg >"$T/eq" 2>&1; then
			ok "$h/$p: QEMU argv and libvirt's translation are one machine"
			n_same=$((n_same + 1))
		else
			not_ok "$h/$p: QEMU argv and libvirt's translation differ"
			sed 's/^/# /' "$T/eq"
		fi
	done
done
libvirt_session_stop
# the fixtures where the GPU can be passed give the comparison something to compare
check "compared at least 20 host x profile pairs" test "$n_same" -ge 20
done_testing
