# TAP helpers for fixture-host tests, sourced by tests/cli/*.t (POSIX sh).
# $GPURUN is the binary under test; $GPURUN_TOP the source tree.
: "${GPURUN:=build/gpurun}" "${GPURUN_TOP:=.}"
FIX="$GPURUN_TOP/tests/fixtures/hosts"
_n=0
_failed=0
ok() { _n=$((_n + 1)); echo "ok $_n - $1"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $1"; }
# check DESCRIPTION COMMAND...: passes when COMMAND exits 0
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# expect_rc RC DESCRIPTION COMMAND...: runs COMMAND, output to $OUT/$ERR files
expect_rc() {
	want=$1; d=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"; rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$d"; else
		not_ok "$d (exit $rc, wanted $want)"; sed 's/^/# /' "$T/out" "$T/err"; fi
}
# contains DESCRIPTION FILE PATTERN (grep -E)
contains() { if grep -qE -- "$3" "$2"; then ok "$1"; else not_ok "$1: no /$3/ in $2"; sed 's/^/# /' "$2"; fi; }
lacks() { if grep -qE -- "$3" "$2"; then not_ok "$1: /$3/ in $2"; sed 's/^/# /' "$2"; else ok "$1"; fi; }
# golden DESCRIPTION ACTUAL EXPECTED: exact compare (GPURUN_UPDATE_GOLDEN=1 rewrites)
golden() {
	if [ "${GPURUN_UPDATE_GOLDEN:-}" = 1 ]; then cp "$2" "$3"; fi
	if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1"; diff -u "$3" "$2" | sed 's/^/# /'; fi
}
# copy_fixture NAME: a writable copy of a fixture host in $T/root (symlinks kept)
copy_fixture() { rm -rf "$T/root"; cp -a "$FIX/$1" "$T/root"; }
# efifb_fixture ROOT: ROOT, a copy of strix-halo, changed so that its fb0 is efi-framebuffer.0's
# (bound to the efi-framebuffer platform driver), not amdgpu's: the console of a GPU on the
# firmware framebuffer
efifb_fixture() {
	_r=$1/sys
	_fb=$_r/devices/platform/efi-framebuffer.0
	rm -rf "$_r/devices/pci0000:00/0000:00:08.1/0000:c4:00.0/graphics" "$_r/class/graphics/fb0"
	mkdir -p "$_fb/graphics/fb0" "$_r/bus/platform/devices"
	echo "EFI VGA" >"$_fb/graphics/fb0/name"
	ln -s ../.. "$_fb/graphics/fb0/device"
	ln -s ../../devices/platform/efi-framebuffer.0/graphics/fb0 "$_r/class/graphics/fb0"
	ln -s ../../../devices/platform/efi-framebuffer.0 "$_r/bus/platform/devices/efi-framebuffer.0"
	ln -s ../../../bus/platform/drivers/efi-framebuffer "$_fb/driver"
}
# wait_file FILE [PATTERN [SECONDS]]: until FILE is not empty (and has a line matching PATTERN),
# up to SECONDS (default 60: it returns as soon as it holds, and a loaded machine or the
# sanitizer build can take long to get there)
wait_file() {
	_i=0
	while [ $_i -lt $((${3:-60} * 20)) ]; do
		if [ -s "$1" ] && { [ -z "${2:-}" ] || grep -q -- "$2" "$1"; }; then return 0; fi
		sleep 0.05; _i=$((_i + 1))
	done
	return 1
}
# eventually CMD...: CMD succeeds within 10 s (the fake kernel handles a write a moment after
# it; a loaded machine under the sanitizers can take that long). A subshell: its counter is its
# own, so CMD may itself use eventually.
eventually() (
	_i=0
	while ! "$@"; do
		[ $_i -lt 200 ] || exit 1
		sleep 0.05; _i=$((_i + 1))
	done
)
# wait_gone PID: until process PID has exited (or is a zombie nobody reaps), up to 10 s: a guest
# that was sent a signal still holds its VM lock until then
wait_gone() {
	_i=0
	while [ $_i -lt 200 ]; do
		if [ ! -e "/proc/$1" ] || [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]; then
			return 0
		fi
		sleep 0.05; _i=$((_i + 1))
	done
	return 1
}
# fake_kernel_start ROOT [ARG...]: tests/tools/fake-kernel makes the tree under ROOT react to
# writes like sysfs, in the background until fake_kernel_stop or the end of the script (its pid
# in $FK, its output in $T/fk.out and $T/fk.err); returns when it is ready
FAKE=${GPURUN_BUILD:-build}/tools/fake-kernel
FK=
fake_kernel_start() {
	# the files of the last fake kernel go first: the redirections below happen in the child,
	# and until it runs, its predecessor's "ready" and log lines would still be read
	rm -f "$T/fk.out" "$T/fk.err"
	"$FAKE" "$@" >"$T/fk.out" 2>"$T/fk.err" &
	FK=$!
	wait_file "$T/fk.out" ready
}
fake_kernel_stop() { if [ -n "$FK" ]; then kill "$FK" 2>/dev/null; wait "$FK" 2>/dev/null; FK=; fi; }
# libvirt_session_start: an unprivileged libvirt (the QEMU driver's session daemon, started by
# virsh on first use) in a temporary directory $LV of its own, as nobody when run as root, for
# `virsh domxml-to-native`; one daemon serves every lv_virsh call until libvirt_session_stop (or
# the end of the script). Returns 1 (and starts nothing) when virsh, libvirtd or QEMU is missing.
LV=
LV_AS=
libvirt_session_start() {
	command -v virsh >/dev/null && command -v libvirtd >/dev/null &&
		command -v qemu-system-x86_64 >/dev/null || return 1
	LV=$(mktemp -d "${TMPDIR:-/tmp}/gpurun-libvirt.XXXXXX")
	mkdir -p "$LV/run"
	chmod 700 "$LV/run"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R 65534:65534 "$LV"
		LV_AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
	fi
}
# libvirt_session_hugepages: as root, start that daemon in a mount namespace of its own with a
# hugetlbfs at $LV/hugepages (its qemu.conf's hugetlbfs_mount), so <hugepages/> translates;
# call before the first lv_virsh. Returns 1 when it cannot.
LV_NS=
libvirt_session_hugepages() {
	[ -n "$LV" ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null || return 1
	mkdir -p "$LV/hugepages" "$LV/config/libvirt"
	echo "hugetlbfs_mount = \"$LV/hugepages\"" >"$LV/config/libvirt/qemu.conf"
	chown -R 65534:65534 "$LV/hugepages" "$LV/config"
	unshare -m sh -c "mount -t hugetlbfs -o uid=65534,gid=65534 none '$LV/hugepages'" 2>/dev/null || return 1
	LV_NS="unshare -m --propagation private"
}
# lv_virsh ARG...: virsh -c qemu:///session on that daemon (the files it reads go in $LV)
lv_virsh() {
	if [ -n "$LV_NS" ]; then
		# the first call starts the daemon: in the namespace that has the hugetlbfs
		LV_NS=
		unshare -m --propagation private sh -c 'mount -t hugetlbfs -o uid=65534,gid=65534 none "$1/hugepages" && shift && exec "$@"' \
			sh "$LV" $LV_AS env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$LV" XDG_RUNTIME_DIR="$LV/run" \
			XDG_CONFIG_HOME="$LV/config" XDG_CACHE_HOME="$LV/cache" XDG_DATA_HOME="$LV/data" \
			virsh -c qemu:///session "$@"
		return
	fi
	# shellcheck disable=SC2086
	$LV_AS env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$LV" XDG_RUNTIME_DIR="$LV/run" \
		XDG_CONFIG_HOME="$LV/config" XDG_CACHE_HOME="$LV/cache" XDG_DATA_HOME="$LV/data" \
		virsh -c qemu:///session "$@"
}
libvirt_session_stop() {
	[ -n "$LV" ] || return 0
	[ -f "$LV/run/libvirt/libvirtd.pid" ] && kill "$(cat "$LV/run/libvirt/libvirtd.pid")" 2>/dev/null
	rm -rf "$LV"
	LV=
}
T=$(mktemp -d "${TMPDIR:-/tmp}/gpurun-test.XXXXXX")
trap 'fake_kernel_stop; libvirt_session_stop; rm -rf "$T"' EXIT
done_testing() { echo "1..$_n"; [ "$_failed" -eq 0 ]; }
