#!/bin/sh
# STYLE.md rule 9 as a check: every descriptor launcher/ opens is close-on-exec
# (tests/tools/check-cloexec), and the checker catches what it is meant to catch.
. tests/cli/lib.sh

CHECK="$GPURUN_TOP/tests/tools/check-cloexec"
expect_rc 0 "launcher/ opens every descriptor close-on-exec" "$CHECK" "$GPURUN_TOP/launcher"
sed 's/^/# /' "$T/out"

mkdir -p "$T/src/host"
cat >"$T/src/host/bad.c" <<'EOC'
static void f(const char *p, int fds[2])
{
	int fd = open(p, O_RDONLY);
	FILE *f = fopen(p, "r");
	int d = dup(fd);
	if (pipe(fds) < 0)
		return;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	dup2(fd, 1);
}
EOC
cat >"$T/src/host/good.c" <<'EOC'
/* open(p, O_RDONLY) in a comment is no call */
static void g(const char *p, int fds[2])
{
	int fd = openat(AT_FDCWD, p,
			O_RDONLY | O_CLOEXEC);
	FILE *f = fopen(p, "re");
	FILE *w = fopen(p, "w+e");
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	void *h = dlopen("libvirt.so.0", RTLD_NOW);
	DIR *dir = opendir(p);
}
EOC
cat >"$T/src/host/spawn.c" <<'EOC'
static int move_fd(int from, int to) { return dup2(from, to); }
EOC
expect_rc 1 "planted offences fail the check" "$CHECK" "$T/src"
contains "open() without O_CLOEXEC" "$T/out" 'bad\.c:3: open\(\) without O_CLOEXEC'
contains "fopen() mode without e" "$T/out" 'bad\.c:4: fopen\(\) with a mode lacking "e"'
contains "dup()" "$T/out" 'bad\.c:5: dup\(\) cannot be close-on-exec'
contains "pipe()" "$T/out" 'bad\.c:6: pipe\(\) cannot be close-on-exec'
contains "socket() without SOCK_CLOEXEC" "$T/out" 'bad\.c:8: socket\(\) without SOCK_CLOEXEC'
contains "dup2() outside spawn.c" "$T/out" 'bad\.c:9: dup2\(\) outside host/spawn\.c'
lacks "close-on-exec calls pass" "$T/out" 'good\.c'
lacks "dup2() in spawn.c passes" "$T/out" 'host/spawn\.c:'
done_testing
