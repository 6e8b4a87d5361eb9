/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/emit.h"
#include "host/ctx.h"
#include "host/dlopen-libvirt.h"
#include "host/hostfs.h"
#include "host/paths.h"
#include "host/qmp.h"
#include "host/runner.h"
#include "host/spawn.h"
#include "host/statedir.h"
#include "util/fileio.h"
#include "util/strutil.h"
#include "util/strv.h"

/* How long a stopped swtpm, or a QEMU nobody waited for, gets before SIGKILL. */
#define RUNNER_STOP_TIMEOUT_MS 2000
/* The highest host CPU number a cpu-pinning list may name (profile.c's limit), + 1. */
#define RUNNER_CPU_SET_MAX 8192

struct runner {
	const struct runner_backend *backend;
	struct runner_options opts;
	char *vm_name;

	/* qemu */
	char **argv;
	char *log_path;
	char *tpm_dir;	    /* swtpm state, when the plan has a TPM */
	char *tpm_socket;   /* swtpm control socket QEMU connects to */
	pid_t pid;	    /* QEMU, until reaped */
	pid_t swtpm_pid;    /* swtpm, until stopped */
	int keep_fd;	    /* inherited by QEMU (the VM lock), -1 none */
	unsigned *pin_cpus; /* cpu-pinning: vCPU i -> host CPU pin_cpus[i]; NULL none */
	size_t n_pin_cpus;
	char *qmp_path; /* the QMP socket gpurun asks QEMU for, to find the vCPU threads */
	struct ctx *ctx;
	char *tee_path;	   /* keep_log: STATE/VM/qemu.log */
	int tee_rd;	   /* the read end of QEMU's stderr, -1 none */
	int tee_log;	   /* the open qemu.log, -1 none */
	size_t tee_logged; /* bytes written to it */

	/* libvirt */
	char *uri;
	char *xml;
	virConnectPtr conn;
	virDomainPtr dom;
};

long long runner_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void runner_stop_signals(sigset_t *s)
{
	/* every signal whose default action ends the process and that no fault of gpurun's own
	 * raises (SIGSEGV, SIGABRT, ... are not stops: blocked, the kernel would kill anyway):
	 * a stray SIGUSR1 or SIGALRM must not leave the GPU on vfio-pci without a revert */
	static const int stops[] = {
		SIGINT,	   SIGTERM,   SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2,
		SIGALRM,   SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO,
#ifdef SIGPWR
		SIGPWR,
#endif
#ifdef SIGSTKFLT
		SIGSTKFLT,
#endif
	};

	sigemptyset(s);
	for (size_t i = 0; i < ELEMENTSOF(stops); i++)
		sigaddset(s, stops[i]);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaddset(s, sig);
}

static void forward_set(sigset_t *s)
{
	runner_stop_signals(s);
	sigaddset(s, SIGCHLD);
}

int runner_block_signals(sigset_t *ret_old)
{
	sigset_t s;

	forward_set(&s);
	if (sigprocmask(SIG_BLOCK, &s, ret_old) < 0)
		return negative_errno();
	return 0;
}

/* One of the signals runner_block_signals() blocked, or 0 when @tick (NULL: no limit) passed or
 * only SIGCHLD came (the caller looks at the guest again either way). */
static int take_signal(const struct timespec *tick)
{
	sigset_t s;
	siginfo_t si;

	forward_set(&s);
	if (sigtimedwait(&s, &si, tick) < 0 || si.si_signo == SIGCHLD)
		return 0;
	return si.si_signo;
}

_printf_(2, 3) static void say(const struct runner *r, const char *fmt, ...)
{
	_cleanup_free_ char *line = NULL;
	va_list ap;

	if (!r->opts.say)
		return;
	va_start(ap, fmt);
	line = strdup_vprintf(fmt, ap);
	va_end(ap);
	if (line)
		r->opts.say(r->opts.userdata, line);
}

static void say_forwarded(const struct runner *r, const struct runner_result *res, const char *what)
{
	if (res->forwarded)
		say(r, "Received %s, %s the guest", strsignal(res->forwarded), what);
}

/* ---- qemu: gpurun execs QEMU (and swtpm) itself ---- */

/* "unix:PATH,server=on,wait=off" with PATH's commas doubled (QemuOpts reads ",," as a comma). */
static char *qmp_option(const char *path)
{
	size_t n = strlen(path), commas = 0;
	char *r, *o;

	for (size_t i = 0; i < n; i++)
		commas += path[i] == ',';
	r = malloc(n + commas + sizeof("unix:,server=on,wait=off"));
	if (!r)
		return NULL;
	o = stpcpy(r, "unix:");
	for (size_t i = 0; i < n; i++) {
		*o++ = path[i];
		if (path[i] == ',')
			*o++ = ',';
	}
	strcpy(o, ",server=on,wait=off");
	return r;
}

static int qemu_prepare(struct runner *r, struct ctx *c, const struct plan *p, struct error *err)
{
	int k;

	r->vm_name = strdup(p->vm_name);
	if (!r->vm_name)
		return error_set(err, ENOMEM, "Out of memory");
	k = emit_qemu_argv(p, ctx_qemu_binary(c), &r->argv);
	if (k < 0)
		return error_set(err, k, "Failed to build the QEMU command line for VM '%s': %s",
				 p->vm_name, strerror(-k));
	r->ctx = c;
	if (r->opts.log_file) {
		r->log_path = path_join(c->state, p->vm_name, "qemu.log");
		if (!r->log_path)
			return error_set(err, ENOMEM, "Out of memory");
	} else if (r->opts.keep_log) {
		r->tee_path = path_join(c->state, p->vm_name, "qemu.log");
		if (!r->tee_path)
			return error_set(err, ENOMEM, "Out of memory");
	}
	if (p->profile && p->profile->tpm && p->tpm_socket && p->tpm_dir) {
		r->tpm_dir = strdup(p->tpm_dir);
		r->tpm_socket = strdup(p->tpm_socket);
		if (!r->tpm_dir || !r->tpm_socket)
			return error_set(err, ENOMEM, "Out of memory");
	}
	/* cpu-pinning: QEMU has no option for it; start() pins the threads QMP names, as
	 * libvirt does for <vcpupin> */
	if (p->profile && p->profile->n_pin_cpus > 0) {
		_cleanup_free_ char *path = path_join(c->state, p->vm_name, "qmp.sock"),
				    *opt = NULL;

		if (!path)
			return error_set(err, ENOMEM, "Out of memory");
		k = runner_set_pinning(r, p->profile->pin_cpus, p->profile->n_pin_cpus, path);
		if (k == -ENAMETOOLONG)
			return error_set(err, k,
					 "The QMP socket %s for cpu-pinning is longer than a UNIX "
					 "socket address allows: use a shorter --state-dir",
					 path);
		if (k < 0)
			return error_set(err, k, "Out of memory");
		opt = qmp_option(path);
		if (!opt || strv_extend(&r->argv, "-qmp") < 0 || strv_extend(&r->argv, opt) < 0)
			return error_set(err, ENOMEM, "Out of memory");
	}
	return 0;
}

/* "0-3,8,10-11" */
static char *format_cpus(const cpu_set_t *set, size_t size)
{
	_cleanup_free_ char *s = strdup("");

	for (unsigned c = 0; s && c < RUNNER_CPU_SET_MAX; c++) {
		unsigned e = c;
		char *n;

		if (!CPU_ISSET_S(c, size, set))
			continue;
		while (e + 1 < RUNNER_CPU_SET_MAX && CPU_ISSET_S(e + 1, size, set))
			e++;
		if (e == c)
			n = strdup_printf("%s%s%u", s, *s ? "," : "", c);
		else
			n = strdup_printf("%s%s%u-%u", s, *s ? "," : "", c, e);
		free(s);
		s = n;
		c = e;
	}
	return TAKE_PTR(s);
}

static void cpu_freep(cpu_set_t **s)
{
	if (*s)
		CPU_FREE(*s);
}

/* Between QMP connection attempts: QEMU must still run, and no signal must wait to stop it. */
static int qemu_alive(void *userdata, struct error *err)
{
	const struct runner *r = userdata;
	siginfo_t si = {};
	sigset_t pending;

	/* WNOWAIT: wait() reaps it later and reports the status */
	if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == r->pid)
		return error_set(err, ESRCH, "QEMU exited before its QMP socket answered");
	if (sigpending(&pending) == 0)
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGCHLD && sigismember(&pending, sig) == 1)
				return error_set(err, EINTR, "Received %s", strsignal(sig));
	return 0;
}

/* Pin the thread of each vCPU to its host CPU, and QEMU's other threads to the CPUs gpurun may
 * run on that no vCPU has (libvirt's <vcpupin>, with the emulator kept off the vCPUs' CPUs). */
static int qemu_pin(struct runner *r, struct error *err)
{
	size_t size = CPU_ALLOC_SIZE(RUNNER_CPU_SET_MAX), n = 0, others = 0;
	_cleanup_(qmp_freep) struct qmp *q = NULL;
	_cleanup_free_ struct qmp_cpu *cpus = NULL;
	_cleanup_(cpu_freep) cpu_set_t *set = CPU_ALLOC(RUNNER_CPU_SET_MAX),
				       *emu = CPU_ALLOC(RUNNER_CPU_SET_MAX);
	_cleanup_free_ char *task_dir = NULL, *list = strdup(""), *emu_list = NULL;
	struct dirent *de;
	DIR *d;
	int k;

	if (!set || !emu || !list)
		return error_set(err, ENOMEM, "Out of memory");
	k = qmp_connect(r->qmp_path,
			r->opts.qmp_timeout_ms ? r->opts.qmp_timeout_ms : RUNNER_QMP_TIMEOUT_MS,
			qemu_alive, r, &q, err);
	if (k < 0)
		return k;
	k = qmp_query_cpus(q, &cpus, &n, err);
	if (k < 0)
		return k;
	if (n != r->n_pin_cpus)
		return error_set(err, EINVAL,
				 "QEMU runs %zu vCPUs, cpu-pinning names %zu host CPUs", n,
				 r->n_pin_cpus);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *one = NULL, *l = NULL;

		if (cpus[i].index >= r->n_pin_cpus)
			return error_set(err, EINVAL, "QEMU reports vCPU %u of %zu", cpus[i].index,
					 n);
		/* single-threaded TCG runs every vCPU on one thread: it gets all their CPUs */
		CPU_ZERO_S(size, set);
		for (size_t j = 0; j < n; j++)
			if (cpus[j].thread_id == cpus[i].thread_id)
				CPU_SET_S(r->pin_cpus[cpus[j].index], size, set);
		one = format_cpus(set, size);
		if (!one)
			return error_set(err, ENOMEM, "Out of memory");
		if (sched_setaffinity(cpus[i].thread_id, size, set) < 0)
			return error_set(
			    err, errno, "Failed to pin vCPU %u (thread %d) to host CPU %s: %s",
			    cpus[i].index, (int)cpus[i].thread_id, one, strerror(errno));
		l = strdup_printf("%s%s%u->%s", list, *list ? " " : "", cpus[i].index, one);
		if (!l)
			return error_set(err, ENOMEM, "Out of memory");
		free(list);
		list = TAKE_PTR(l);
	}

	if (sched_getaffinity(0, size, emu) < 0)
		return error_set(err, errno, "Failed to read gpurun's CPU affinity: %s",
				 strerror(errno));
	for (size_t i = 0; i < r->n_pin_cpus; i++)
		CPU_CLR_S(r->pin_cpus[i], size, emu);
	if (CPU_COUNT_S(size, emu) == 0) {
		say(r,
		    "Pinned the vCPU threads (vCPU->host CPU): %s; QEMU's other threads stay "
		    "unpinned: cpu-pinning names every CPU gpurun may use",
		    list);
		return 0;
	}
	emu_list = format_cpus(emu, size);
	if (asprintf(&task_dir, "%s/%d/task", ctx_live_proc(), (int)r->pid) < 0 || !emu_list)
		return error_set(err, ENOMEM, "Out of memory");
	d = opendir(task_dir);
	if (!d)
		return error_set(err, errno, "Failed to list QEMU's threads in %s: %s", task_dir,
				 strerror(errno));
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		bool vcpu = false;

		if (de->d_name[0] == '.' || *end || tid <= 0)
			continue;
		for (size_t i = 0; i < n; i++)
			vcpu = vcpu || cpus[i].thread_id == tid;
		if (vcpu)
			continue;
		if (sched_setaffinity((pid_t)tid, size, emu) < 0) {
			k = errno;
			if (k == ESRCH) /* the thread ended meanwhile */
				continue;
			closedir(d);
			return error_set(err, k,
					 "Failed to pin QEMU thread %ld to host CPUs %s: %s", tid,
					 emu_list, strerror(k));
		}
		others++;
	}
	closedir(d);
	say(r, "Pinned the vCPU threads (vCPU->host CPU): %s; %zu other QEMU thread%s -> %s", list,
	    others, others == 1 ? "" : "s", emu_list);
	return 0;
}

static int qemu_describe(const struct runner *r, FILE *f)
{
	int k;

	if (!r->argv)
		return -EINVAL;
	if (r->tpm_socket)
		fprintf(f,
			"start swtpm socket --tpm2 --tpmstate dir=%s --ctrl type=unixio,path=%s\n",
			r->tpm_dir, r->tpm_socket);
	fprintf(f, "exec:\n");
	k = emit_qemu_print(r->argv, f);
	if (k < 0 || r->n_pin_cpus == 0)
		return k;
	fprintf(f, "pin over QMP (%s): vCPU i to host CPU", r->qmp_path);
	for (size_t i = 0; i < r->n_pin_cpus; i++)
		fprintf(f, "%s%u", i ? "," : " ", r->pin_cpus[i]);
	fprintf(f, " (in vCPU order), QEMU's other threads to the other CPUs\n");
	return ferror(f) ? -EIO : 0;
}

/* swtpm for `tpm = yes`: its state persists in tpm_dir; QEMU connects to the socket, which must
 * exist before QEMU starts. */
static int swtpm_start(struct runner *r, struct error *err)
{
	_cleanup_free_ char *state = NULL, *ctrl = NULL;
	char *argv[] = { (char *)"swtpm",
			 (char *)"socket",
			 (char *)"--tpm2",
			 (char *)"--tpmstate",
			 NULL,
			 (char *)"--ctrl",
			 NULL,
			 NULL };
	long long deadline;
	pid_t pid;
	int k;

	k = hostfs_mkdir_p(r->tpm_dir, 0700);
	if (k < 0)
		return error_set(err, k, "Failed to create %s: %s", r->tpm_dir, strerror(-k));
	if (asprintf(&state, "dir=%s", r->tpm_dir) < 0 ||
	    asprintf(&ctrl, "type=unixio,path=%s", r->tpm_socket) < 0)
		return error_set(err, ENOMEM, "Out of memory");
	argv[4] = state;
	argv[6] = ctrl;
	(void)unlink(r->tpm_socket);
	k = spawn_start(argv, NULL, &pid, NULL);
	if (k < 0)
		return error_set(err, k, "Failed to start swtpm (needed for tpm = yes): %s",
				 strerror(-k));
	r->swtpm_pid = pid;
	deadline = runner_now_ms() + r->opts.timeout_ms;
	while (!hostfs_exists(r->tpm_socket)) {
		struct timespec ts = { 0, 5 * 1000000L };

		if (runner_now_ms() >= deadline) {
			(void)spawn_stop(r->swtpm_pid, 1000);
			r->swtpm_pid = 0;
			return error_set(err, ETIMEDOUT, "swtpm did not create %s: %s",
					 r->tpm_socket, strerror(ETIMEDOUT));
		}
		nanosleep(&ts, NULL);
	}
	say(r, "swtpm listening on %s", r->tpm_socket);
	return 0;
}

static void swtpm_stop(struct runner *r)
{
	if (r->swtpm_pid > 0)
		(void)spawn_stop(r->swtpm_pid, RUNNER_STOP_TIMEOUT_MS);
	r->swtpm_pid = 0;
}

/* keep_log: STATE/VM/qemu.log opened (truncated) through the verified state dir, and a pipe
 * for QEMU's stderr. Without them QEMU's stderr simply stays the terminal: a log that cannot be
 * kept is said, never a reason not to start the guest. Returns the pipe's write end, or -1. */
static int tee_open(struct runner *r)
{
	_cleanup_(error_clear) struct error e = {};
	_cleanup_close_ int sfd = -1, vfd = -1, fd = -1;
	_cleanup_free_ char *vmpath = NULL;
	int p[2], k;

	if (!r->tee_path || !r->ctx || !r->vm_name)
		return -1;
	vmpath = path_join(r->ctx->state, r->vm_name);
	if (!vmpath)
		return -1;
	k = statedir_open(r->ctx, false, &sfd, &e);
	if (k >= 0)
		k = statedir_open_dir(sfd, r->ctx->state, r->vm_name, false, &vfd, &e);
	if (k >= 0)
		k = statedir_open_file(vfd, vmpath, "qemu.log", O_WRONLY | O_CREAT, &fd, &e);
	if (k >= 0 && ftruncate(fd, 0) < 0)
		k = error_set(&e, errno, "Failed to truncate %s: %s", r->tee_path, strerror(errno));
	if (k >= 0 && pipe2(p, O_CLOEXEC) < 0)
		k = error_set(&e, errno, "Failed to make a pipe: %s", strerror(errno));
	if (k < 0) {
		_cleanup_free_ char *why = error_format(&e);

		say(r, "QEMU's messages are not kept for `gpurun explain`: %s", strna(why));
		return -1;
	}
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	r->tee_rd = p[0];
	r->tee_log = TAKE_FD(fd);
	r->tee_logged = 0;
	return p[1];
}

static int close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
	return -1;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t k = write(fd, buf, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		buf += k;
		len -= (size_t)k;
	}
}

/* Pass what QEMU wrote to its stderr on to ours, and its first RUNNER_LOG_MAX bytes into the
 * log. Returns at EAGAIN; at EOF the pipe is closed. */
static void tee_drain(struct runner *r)
{
	char buf[4096];

	while (r->tee_rd >= 0) {
		ssize_t k = read(r->tee_rd, buf, sizeof(buf));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		if (k <= 0) {
			r->tee_rd = close_fd(r->tee_rd);
			return;
		}
		write_all(STDERR_FILENO, buf, (size_t)k);
		if (r->tee_log >= 0 && r->tee_logged < RUNNER_LOG_MAX) {
			size_t n = (size_t)k < RUNNER_LOG_MAX - r->tee_logged
				       ? (size_t)k
				       : RUNNER_LOG_MAX - r->tee_logged;

			write_all(r->tee_log, buf, n);
			r->tee_logged += n;
		}
	}
}

static void tee_close(struct runner *r)
{
	if (r->tee_rd >= 0)
		tee_drain(r);
	r->tee_rd = close_fd(r->tee_rd);
	r->tee_log = close_fd(r->tee_log);
}

static int qemu_start(struct runner *r, struct runner_result *res, struct error *err)
{
	/* A foreground QEMU may own the terminal (-nographic, -serial mon:stdio in the profile's
	 * extra args): it keeps stdin unless its output goes to the log. */
	struct spawn_options so = { .log_path = r->log_path,
				    .keep_stdin = !r->log_path,
				    .keep_fds = &r->keep_fd,
				    .n_keep_fds = r->keep_fd >= 0 };
	int k;

	if (!r->argv)
		return error_set(err, EINVAL, "No QEMU command line");
	if (r->tpm_socket) {
		k = swtpm_start(r, err);
		if (k < 0)
			return k;
	}
	if (r->qmp_path)
		(void)unlink(r->qmp_path); /* a stale socket refuses: QEMU binds a new one */
	if (r->log_path)
		say(r, "QEMU output goes to %s", r->log_path);
	so.stderr_fd = r->log_path ? 0 : tee_open(r);
	if (so.stderr_fd < 0)
		so.stderr_fd = 0;
	say(r, "Starting %s", r->argv[0]);
	res->exec_ms = runner_now_ms();
	k = spawn_start(r->argv, &so, &r->pid, err);
	if (so.stderr_fd > 2)
		close(so.stderr_fd);
	if (k < 0) {
		r->pid = 0;
		tee_close(r);
		swtpm_stop(r);
		return k;
	}
	res->started = true;
	res->pid = r->pid;
	if (r->n_pin_cpus == 0)
		return 0;
	k = qemu_pin(r, err);
	if (k < 0) {
		/* as libvirt fails the start of a domain whose vCPUs it cannot pin */
		error_prefix(err, "cpu-pinning");
		say(r, "Stopping QEMU: its threads could not be pinned");
		(void)spawn_stop(r->pid, RUNNER_STOP_TIMEOUT_MS);
		r->pid = 0;
		swtpm_stop(r);
		return k;
	}
	return 0;
}

static int qemu_stop(struct runner *r, int sig, struct error *err)
{
	if (r->pid <= 0)
		return 0;
	/* SIGQUIT would make QEMU dump core, the other stops (SIGUSR1, SIGALRM, ...) mean nothing
	 * to it or kill it outright; SIGTERM is its clean shutdown */
	if (sig != SIGINT && sig != SIGHUP)
		sig = SIGTERM;
	if (kill(r->pid, sig) < 0 && errno != ESRCH)
		return error_set(err, errno, "Failed to pass %s to QEMU: %s", strsignal(sig),
				 strerror(errno));
	return 0;
}

static int qemu_wait(struct runner *r, struct runner_result *res, struct error *err)
{
	static const struct timespec tee_tick = { .tv_sec = 0, .tv_nsec = 50 * 1000000L };
	struct spawn_status st;
	int k;

	if (r->pid <= 0)
		return error_set(err, ECHILD, "QEMU is not running");
	/* Unblocked, a SIGCHLD between waitpid() and sigtimedwait() would be lost for good. */
	k = runner_block_signals(NULL);
	if (k < 0)
		return error_set(err, k, "Failed to block signals: %s", strerror(-k));
	for (;;) {
		int sig;

		k = spawn_wait(r->pid, false, &st);
		if (k > 0)
			break;
		if (k < 0)
			return error_set(err, k, "Failed to wait for QEMU: %s", strerror(-k));
		/* SIGCHLD is blocked, so it stays pending until taken here: no lost wakeup. QEMU's
		 * stderr, when it is copied, is passed on at least every 50 ms. */
		sig = take_signal(r->tee_rd >= 0 ? &tee_tick : NULL);
		tee_drain(r);
		if (sig == 0)
			continue;
		res->forwarded = sig;
		(void)r->backend->stop(r, sig, NULL);
	}
	r->pid = 0;
	res->exit_ms = runner_now_ms();
	tee_close(r);
	res->signaled = st.signaled;
	res->status = st.code;
	swtpm_stop(r);

	say_forwarded(r, res, "passed it to");
	if (st.signaled)
		return error_set(err, EIO, "QEMU was killed by signal %d (%s)", st.code,
				 strsignal(st.code));
	if (st.code != 0)
		return error_set(err, EIO, "QEMU exited with status %d", st.code);
	say(r, "QEMU exited with status 0");
	return 0;
}

/* ---- libvirt: a transient domain ---- */

static int libvirt_error(struct error *err, const char *what)
{
	const char *m = sym_virGetLastErrorMessage ? sym_virGetLastErrorMessage() : NULL;

	return error_set(err, EIO, "%s: %s", what, m ? m : "unknown libvirt error");
}

static int libvirt_prepare(struct runner *r, struct ctx *c, const struct plan *p, struct error *err)
{
	_cleanup_free_ char *tdir = NULL, *txml = NULL;
	size_t tlen = 0;
	int k;

	r->vm_name = strdup(p->vm_name);
	r->uri = strdup(ctx_libvirt_uri(c, p->profile ? p->profile->libvirt_uri : NULL));
	tdir = paths_templates_dir();
	if (!r->vm_name || !r->uri || !tdir)
		return error_set(err, ENOMEM, "Out of memory");
	k = paths_load_template(c, tdir, p->profile ? p->profile->template : NULL, &txml, &tlen,
				err);
	if (k < 0)
		return k;
	k = emit_libvirt_xml_from_buffer(p, txml, tlen, false, &r->xml);
	if (k < 0)
		return error_set(err, k, "Failed to build the domain XML for VM '%s': %s",
				 p->vm_name, strerror(-k));
	return 0;
}

static int libvirt_describe(const struct runner *r, FILE *f)
{
	if (!r->xml)
		return -EINVAL;
	fprintf(f, "start transient domain '%s' on %s\n", strna(r->vm_name), r->uri);
	return 0;
}

static int libvirt_start(struct runner *r, struct runner_result *res, struct error *err)
{
	int k;

	if (!r->xml)
		return error_set(err, EINVAL, "No domain XML");
	say(r, "Starting domain '%s' on %s", strna(r->vm_name), r->uri);
	k = dlopen_libvirt(err);
	if (k < 0)
		return k;
	r->conn = sym_virConnectOpen(r->uri);
	if (!r->conn)
		return libvirt_error(err, "Failed to connect to libvirt");
	res->exec_ms = runner_now_ms();
	r->dom = sym_virDomainCreateXML(r->conn, r->xml, 0);
	if (!r->dom) {
		k = libvirt_error(err, "Failed to start the domain");
		sym_virConnectClose(r->conn);
		r->conn = NULL;
		return k;
	}
	res->started = true;
	return 0;
}

static int libvirt_stop(struct runner *r, int sig _unused_, struct error *err)
{
	if (!r->dom)
		return 0;
	if (sym_virDomainDestroy(r->dom) < 0)
		return libvirt_error(err, "Failed to stop the domain");
	return 0;
}

static int libvirt_wait(struct runner *r, struct runner_result *res, struct error *err)
{
	static const struct timespec tick = { .tv_sec = 0, .tv_nsec = 200 * 1000000L };
	int k;

	if (!r->dom)
		return error_set(err, ENOENT, "The domain is not running");
	k = runner_block_signals(NULL);
	if (k < 0)
		return error_set(err, k, "Failed to block signals: %s", strerror(-k));
	/* Polling the state: the event API would need libvirt's event loop in gpurun. A transient
	 * domain that stopped is gone, so a failing lookup (< 0) means stopped too. */
	while (sym_virDomainIsActive(r->dom) > 0) {
		int sig = take_signal(&tick);

		if (sig == 0)
			continue;
		res->forwarded = sig;
		k = r->backend->stop(r, sig, err);
		if (k < 0)
			return k;
	}
	res->exit_ms = runner_now_ms();
	sym_virDomainFree(r->dom);
	r->dom = NULL;
	sym_virConnectClose(r->conn);
	r->conn = NULL;

	say_forwarded(r, res, "destroyed");
	say(r, "Domain stopped");
	return 0;
}

const struct runner_backend runner_backends[_PROFILE_BACKEND_MAX] = {
	[PROFILE_BACKEND_QEMU] = {
		.name = "qemu",
		.start_event = "QEMU exec",
		.prepare = qemu_prepare,
		.describe = qemu_describe,
		.start = qemu_start,
		.wait = qemu_wait,
		.stop = qemu_stop,
	},
	[PROFILE_BACKEND_LIBVIRT] = {
		.name = "libvirt",
		.start_event = "domain creation",
		.prepare = libvirt_prepare,
		.describe = libvirt_describe,
		.start = libvirt_start,
		.wait = libvirt_wait,
		.stop = libvirt_stop,
	},
};

const struct runner_backend *runner_backend_get(enum profile_backend b)
{
	if ((int)b < 0 || b >= _PROFILE_BACKEND_MAX || !runner_backends[b].name)
		return NULL;
	return &runner_backends[b];
}

int runner_new(const struct runner_backend *b, const struct runner_options *o, struct runner **ret)
{
	struct runner *r;

	if (!b)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->backend = b;
	r->keep_fd = -1;
	r->tee_rd = -1;
	r->tee_log = -1;
	if (o)
		r->opts = *o;
	*ret = r;
	return 0;
}

int runner_set_command(struct runner *r, char *const *argv, const char *log_path)
{
	_cleanup_strv_free_ char **a = NULL;
	_cleanup_free_ char *l = NULL;

	if (!argv || !argv[0])
		return -EINVAL;
	a = strv_copy(argv);
	if (!a || (log_path && !(l = strdup(log_path))))
		return -ENOMEM;
	strv_free(r->argv);
	r->argv = TAKE_PTR(a);
	free(r->log_path);
	r->log_path = TAKE_PTR(l);
	return 0;
}

int runner_set_pinning(struct runner *r, const unsigned *cpus, size_t n, const char *qmp_path)
{
	_cleanup_free_ unsigned *c = NULL;
	_cleanup_free_ char *q = NULL;

	if (n == 0 || !cpus || !qmp_path)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (cpus[i] >= RUNNER_CPU_SET_MAX)
			return -EINVAL;
	if (strlen(qmp_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
		return -ENAMETOOLONG;
	c = malloc(n * sizeof(*c));
	q = strdup(qmp_path);
	if (!c || !q)
		return -ENOMEM;
	memcpy(c, cpus, n * sizeof(*c));
	free(r->pin_cpus);
	r->pin_cpus = TAKE_PTR(c);
	r->n_pin_cpus = n;
	free(r->qmp_path);
	r->qmp_path = TAKE_PTR(q);
	return 0;
}

const char *runner_log_path(const struct runner *r)
{
	return r->log_path ? r->log_path : r->tee_path;
}

void runner_set_keep_fd(struct runner *r, int fd)
{
	r->keep_fd = fd;
}

int runner_set_domain(struct runner *r, const char *uri, const char *xml, const char *name)
{
	_cleanup_free_ char *u = NULL, *x = NULL, *n = NULL;

	if (!uri || !xml || !name)
		return -EINVAL;
	u = strdup(uri);
	x = strdup(xml);
	n = strdup(name);
	if (!u || !x || !n)
		return -ENOMEM;
	free(r->uri);
	r->uri = TAKE_PTR(u);
	free(r->xml);
	r->xml = TAKE_PTR(x);
	free(r->vm_name);
	r->vm_name = TAKE_PTR(n);
	return 0;
}

struct runner *runner_free(struct runner *r)
{
	if (!r)
		return NULL;
	/* Only reached with a live QEMU when waiting failed: it must not hold the devices while
	 * the caller reverts. */
	if (r->pid > 0)
		(void)spawn_stop(r->pid, RUNNER_STOP_TIMEOUT_MS);
	tee_close(r);
	swtpm_stop(r);
	/* QEMU removes its socket when it exits cleanly; a killed one leaves it behind */
	if (r->qmp_path && r->backend == &runner_backends[PROFILE_BACKEND_QEMU])
		(void)unlink(r->qmp_path);
	if (r->dom)
		sym_virDomainFree(r->dom);
	if (r->conn)
		sym_virConnectClose(r->conn);
	strv_free(r->argv);
	free(r->log_path);
	free(r->tee_path);
	free(r->tpm_dir);
	free(r->tpm_socket);
	free(r->pin_cpus);
	free(r->qmp_path);
	free(r->uri);
	free(r->xml);
	free(r->vm_name);
	return mfree(r);
}
