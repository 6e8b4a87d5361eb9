/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "core/hostinfo.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/hostop.h"
#include "host/journal.h"
#include "host/liveness.h"
#include "host/statedir.h"
#include "util/error.h"
#include "util/strutil.h"
#include "util/strv.h"

#define JOURNAL_MAGIC "gpurun-journal"
#define JOURNAL_VERSION "1"
#define JOURNAL_MAX_SIZE (4 * 1024 * 1024)
#define JOURNAL_HEADER_SYNTAX JOURNAL_MAGIC " " JOURNAL_VERSION " VM PID"

/* The entry kinds are the rows of the host operation table (hostop.c): names, syntax and
 * fields come from there. */
const char *journal_kind_to_string(enum journal_kind k)
{
	const struct host_op *op = host_op_get(k);

	return op ? op->name : NULL;
}

int journal_kind_from_string(const char *s)
{
	const struct host_op *op = host_op_from_name(s);

	return op ? (int)op->kind : -EINVAL;
}

static void entry_done(struct journal_entry *e)
{
	free(e->target);
	free(e->value);
	free(e->extra);
}

struct journal *journal_free(struct journal *j)
{
	if (!j)
		return NULL;
	for (size_t i = 0; i < j->n_entries; i++)
		entry_done(&j->entries[i]);
	free(j->entries);
	for (size_t i = 0; i < j->n_locks; i++)
		if (j->lock_fds[i] >= 0)
			close(j->lock_fds[i]);
	free(j->lock_fds);
	if (j->fd >= 0)
		close(j->fd);
	/* after the journal: a remover unlinks both while holding the lock */
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	free(j->holder);
	free(j->path);
	free(j->vm);
	free(j);
	return NULL;
}

static struct journal *journal_new(void)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j) {
		j->fd = -1;
		j->lock_fd = -1;
	}
	return j;
}

static bool needs_escape(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '\\';
}

static int escape_into(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)strempty(s); *p; p++) {
		if (needs_escape(*p))
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	return 0;
}

char *journal_format_entry(enum journal_kind k, const char *target, const char *value,
			   const char *extra)
{
	const struct host_op *op = host_op_get(k);
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	if (!op || !target || !*target)
		return NULL;
	f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	fputs(op->name, f);
	fputc(' ', f);
	escape_into(f, target);
	if (op->n_values >= 1) {
		fputc(' ', f);
		fputs(strempty(op->value_prefix), f);
		escape_into(f, value);
	}
	if (op->n_values >= 2) {
		fputc(' ', f);
		fputs(strempty(op->extra_prefix), f);
		escape_into(f, extra);
	}
	fputc('\n', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape one field [s, s+n). -EBADMSG on a bad escape or a byte that must be escaped. */
static int unescape(const char *s, size_t n, char **ret)
{
	_cleanup_free_ char *out = malloc(n + 1);
	size_t o = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			int hi, lo;

			if (i + 3 >= n || s[i + 1] != 'x')
				return -EBADMSG;
			hi = hexval(s[i + 2]);
			lo = hexval(s[i + 3]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EBADMSG;
			out[o++] = (char)(hi << 4 | lo);
			i += 3;
		} else if (needs_escape((unsigned char)s[i]))
			return -EBADMSG;
		else
			out[o++] = s[i];
	}
	out[o] = 0;
	*ret = TAKE_PTR(out);
	return 0;
}

/* Split a line into at most @max fields at single spaces; returns the count, -E2BIG for more
 * fields, -EBADMSG for a bad escape or a byte that must be escaped, or -ENOMEM. */
static int split_fields(const char *line, size_t len, char **fields, size_t max)
{
	size_t n = 0, start = 0;
	int r;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ')
			continue;
		if (n >= max)
			return -E2BIG;
		r = unescape(line + start, i - start, &fields[n]);
		if (r < 0)
			return r;
		n++;
		start = i + 1;
	}
	return (int)n;
}

static int add_entry(struct journal *j, enum journal_kind k, const char *target, const char *value,
		     const char *extra, unsigned line)
{
	struct journal_entry *n, e = { .kind = k, .line = line };

	e.target = strdup(target);
	e.value = value ? strdup(value) : NULL;
	e.extra = extra ? strdup(extra) : NULL;
	if (!e.target || (value && !e.value) || (extra && !e.extra)) {
		entry_done(&e);
		return -ENOMEM;
	}
	n = realloc(j->entries, sizeof(*n) * (j->n_entries + 1));
	if (!n) {
		entry_done(&e);
		return -ENOMEM;
	}
	j->entries = n;
	j->entries[j->n_entries++] = e;
	return 0;
}

static int parse_header(struct journal *j, char **f, int n, unsigned lineno, struct error *err)
{
	char *end;
	long pid;

	if (n >= 2 && streq(f[0], JOURNAL_MAGIC) && !streq(f[1], JOURNAL_VERSION))
		return error_set_line(err, EBADMSG, NULL, lineno,
				      "gpurun journal format '%s' is not supported (this gpurun "
				      "reads " JOURNAL_VERSION ")",
				      f[1]);
	if (n != 4 || !streq(f[0], JOURNAL_MAGIC) || !*f[2])
		return error_set_line(err, EBADMSG, NULL, lineno,
				      "not a gpurun journal (the first line must be \"%s\")",
				      JOURNAL_HEADER_SYNTAX);
	errno = 0;
	pid = strtol(f[3], &end, 10);
	if (errno || *end || pid <= 0 || pid > INT_MAX || end == f[3])
		return error_set_line(
		    err, EBADMSG, NULL, lineno,
		    "not a gpurun journal (bad process id '%s' in the first line)", f[3]);
	j->vm = TAKE_PTR(f[2]);
	j->pid = (pid_t)pid;
	return 0;
}

static int parse_entry(struct journal *j, char **f, int n, unsigned lineno, struct error *err)
{
	const struct host_op *op = host_op_from_name(f[0]);
	const char *vals[2] = {};
	const char *why;
	bool ok;

	if (!op)
		return error_set_line(err, EBADMSG, NULL, lineno,
				      "not a gpurun journal line (unknown entry '%s')", f[0]);
	ok = n == 2 + (int)op->n_values && *f[1];
	for (unsigned i = 0; ok && i < op->n_values; i++) {
		const char *prefix = i == 0 ? op->value_prefix : op->extra_prefix;

		if (prefix && !startswith(f[2 + i], prefix))
			ok = false;
		else
			vals[i] = f[2 + i] + strlen(strempty(prefix));
	}
	if (ok && op->values) {
		ok = false;
		for (const char *const *v = op->values; *v; v++)
			ok = ok || streq(vals[0], *v);
	}
	if (!ok)
		return error_set_line(err, EBADMSG, NULL, lineno,
				      "not a gpurun journal line (expected \"%s\")", op->syntax);
	why = op->check ? op->check(f[1], strempty(vals[0]), strempty(vals[1])) : NULL;
	if (why)
		return error_set_line(err, EBADMSG, NULL, lineno,
				      "not a gpurun journal line ('%s' %s)", f[1], why);
	return add_entry(j, op->kind, f[1], vals[0], vals[1], lineno);
}

static int parse_line(struct journal *j, const char *line, size_t len, unsigned lineno,
		      struct error *err)
{
	char *f[4] = {};
	int n, r;

	n = split_fields(line, len, f, ELEMENTSOF(f));
	if (n == -E2BIG)
		r = error_set_line(err, EBADMSG, NULL, lineno,
				   "not a gpurun journal line (too many fields)");
	else if (n == -EBADMSG)
		r = error_set_line(err, EBADMSG, NULL, lineno,
				   "not a gpurun journal line (a bad \\x escape, or a space, "
				   "control byte or backslash not escaped)");
	else if (n < 0)
		r = error_set(err, n, NULL);
	else if (lineno == 1)
		r = parse_header(j, f, n, lineno, err);
	else
		r = parse_entry(j, f, n, lineno, err);
	for (size_t i = 0; i < ELEMENTSOF(f); i++)
		free(f[i]);
	if (r == -ENOMEM)
		return error_set(err, ENOMEM, NULL);
	return r;
}

int journal_parse(const void *buf, size_t len, struct journal **ret, struct error *err)
{
	_cleanup_(journal_freep) struct journal *j = journal_new();
	const char *s = buf;
	unsigned lineno = 0;
	size_t pos = 0;
	int r;

	if (!j)
		return error_set(err, ENOMEM, NULL);
	while (pos < len) {
		const char *nl = memchr(s + pos, '\n', len - pos);

		lineno++;
		if (!nl)
			break; /* cut short by a crash: its action never started */
		if (memchr(s + pos, 0, (size_t)(nl - (s + pos))))
			r = error_set_line(err, EBADMSG, NULL, lineno,
					   "not a gpurun journal line (a NUL byte)");
		else
			r = parse_line(j, s + pos, (size_t)(nl - (s + pos)), lineno, err);
		if (r < 0)
			return r;
		pos = (size_t)(nl - s) + 1;
	}
	if (!j->vm)
		return error_set_line(err, EBADMSG, NULL, 1,
				      len == 0
					  ? "not a gpurun journal (the file is empty)"
					  : "not a gpurun journal (the first line is incomplete)");
	*ret = TAKE_PTR(j);
	return 0;
}

char *journal_path(const struct ctx *c, const char *vm)
{
	return path_join(c->state, vm, "journal");
}

static int write_all(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n = write(fd, s, len);

	if (n < 0)
		return negative_errno();
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

bool journal_vm_name_ok(const char *vm)
{
	if (!statedir_plain_name(vm) || streq(vm, "locks"))
		return false;
	for (const char *p = vm; *p; p++)
		if (needs_escape((unsigned char)*p))
			return false;
	return true;
}

/* The verified state dir and the directory of @vm in it. -ENOENT when either is missing and
 * !@create (no error set then). */
static int open_vm_dir(struct ctx *c, const char *vm, bool create, int *ret_state_fd,
		       int *ret_vm_fd, struct error *err)
{
	_cleanup_close_ int sfd = -1, vfd = -1;
	int r;

	if (!journal_vm_name_ok(vm))
		return error_set(err, EINVAL, "'%s' is not a VM name", vm ? vm : "");
	r = statedir_open(c, create, &sfd, err);
	if (r < 0)
		return r;
	r = statedir_open_dir(sfd, c->state, vm, create, &vfd, err);
	if (r < 0)
		return r;
	if (ret_state_fd)
		*ret_state_fd = TAKE_FD(sfd);
	*ret_vm_fd = TAKE_FD(vfd);
	return 0;
}

/* What gpurun's own actions write, and nothing else: a journal is replayed as root, so a value
 * that would make revert touch something gpurun never changed is refused with its line. */
static int journal_check(struct ctx *c, const struct journal *j, const char *vm, struct error *err)
{
	if (!streq(j->vm, vm))
		return error_set_line(err, EBADMSG, j->path, 1,
				      "the journal names VM '%s' but lies in the directory of VM "
				      "'%s'",
				      j->vm, vm);
	for (size_t i = 0; i < j->n_entries; i++) {
		const struct journal_entry *e = &j->entries[i];
		const char *why = NULL;

		switch (e->kind) {
		case JOURNAL_MODULE: {
			bool known = false;

			for (int m = 0; m < _HOST_MOD_MAX; m++)
				known = known || streq(e->target, host_module_names[m]);
			if (!known)
				why = "not a module gpurun loads";
			break;
		}
		case JOURNAL_ROM: {
			_cleanup_free_ char *dir = strdup(e->target);
			char *slash = dir ? strrchr(dir, '/') : NULL;

			if (!dir)
				return error_set(err, ENOMEM, NULL);
			if (!slash || !statedir_plain_name(slash + 1))
				why = "not a ROM file gpurun stages";
			else {
				*slash = 0;
				if (!streq(dir, c->rom_dir) && !streq(dir, c->pve_rom_dir))
					why = "a ROM path outside gpurun's staging directories";
			}
			break;
		}
		case JOURNAL_VTCON:
			if (!startswith(e->target, "vtcon") || !e->target[5] ||
			    strspn(e->target + 5, "0123456789") != strlen(e->target + 5) ||
			    strspn(e->value, "0123456789") != strlen(e->value))
				why = "not a console gpurun unbinds";
			break;
		case JOURNAL_BIND:
			if ((*e->value && !statedir_plain_name(e->value)) ||
			    (*e->extra && !statedir_plain_name(e->extra)))
				why = "not a driver name";
			break;
		default:
			break;
		}
		if (why)
			return error_set_line(err, EBADMSG, j->path, e->line,
					      "not a gpurun journal line (%s: '%s')", why,
					      e->target);
	}
	return 0;
}

/* Read and parse "journal" in the verified @vfd. An empty file or one whose first line was cut
 * short is a journal without entries (headerless: a crash between create and header). */
static int read_journal(struct ctx *c, int vfd, const char *vm, struct journal **ret,
			struct error *err)
{
	_cleanup_free_ char *vmpath = path_join(c->state, vm), *path = journal_path(c, vm),
			    *buf = NULL;
	_cleanup_(journal_freep) struct journal *j = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = 0, size = 0;
	int r;

	if (!vmpath || !path)
		return error_set(err, ENOMEM, NULL);
	r = statedir_open_file(vfd, vmpath, "journal", O_RDONLY, &fd, err);
	if (r == -ENOENT) {
		r = error_set(err, ENOENT, "cannot read the journal: %s", strerror(ENOENT));
		error_set_file(err, path, true);
		return r;
	}
	if (r < 0)
		return r;
	for (;;) {
		ssize_t n;

		if (len == size) {
			char *nb;

			if (size >= JOURNAL_MAX_SIZE) {
				r = error_set(err, EFBIG, "the journal is larger than %d bytes",
					      JOURNAL_MAX_SIZE);
				error_set_file(err, path, true);
				return r;
			}
			size = size ? size * 2 : 4096;
			nb = realloc(buf, size + 1);
			if (!nb)
				return error_set(err, ENOMEM, NULL);
			buf = nb;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_set(err, errno, "cannot read the journal: %s", strerror(errno));
			error_set_file(err, path, true);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == 0 || !memchr(buf, '\n', len)) {
		j = journal_new();
		if (!j || !(j->vm = strdup(vm)))
			return error_set(err, ENOMEM, NULL);
		j->headerless = true;
	} else {
		r = journal_parse(buf, len, &j, err);
		if (r < 0) {
			error_set_file(err, path, true);
			return r;
		}
	}
	j->path = TAKE_PTR(path);
	r = journal_check(c, j, vm, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(j);
	return 0;
}

int journal_create(struct ctx *c, const char *vm, struct journal **ret, struct error *err)
{
	_cleanup_(journal_freep) struct journal *j = journal_new();
	_cleanup_free_ char *vmpath = NULL, *header = NULL;
	_cleanup_close_ int vfd = -1;
	int r;

	if (!j)
		return error_set(err, ENOMEM, NULL);
	r = open_vm_dir(c, vm, true, NULL, &vfd, err);
	if (r < 0)
		return r;
	vmpath = path_join(c->state, vm);
	j->path = journal_path(c, vm);
	j->vm = strdup(vm);
	if (!vmpath || !j->path || !j->vm)
		return error_set(err, ENOMEM, NULL);
	/* who holds the VM decides, not whether a journal exists */
	r = liveness_lock(vfd, vmpath, vm, false, &j->lock_fd, NULL, err);
	if (r < 0)
		return r;
	/* the record first: whoever finds the lock held from now on can name us */
	r = liveness_claim(j->lock_fd);
	if (r < 0) {
		r = error_set(err, r, "Failed to write the lock: %s", strerror(-r));
		error_set_file(err, vmpath, true);
		return r;
	}
	r = statedir_open_file(vfd, vmpath, "journal", O_WRONLY | O_APPEND | O_CREAT | O_EXCL,
			       &j->fd, err);
	if (r == -EEXIST) {
		_cleanup_(journal_freep) struct journal *old = NULL;

		r = read_journal(c, vfd, vm, &old, err);
		if (r < 0)
			return r;
		if (old->n_entries > 0)
			return error_set(err, EEXIST,
					 "a previous run of VM '%s' left its journal %s with %zu "
					 "entries",
					 vm, j->path, old->n_entries);
		/* nobody holds it and it names no change: a crash before the first one */
		if (unlinkat(vfd, "journal", 0) < 0 && errno != ENOENT)
			return error_set(err, errno, "Failed to remove %s: %s", j->path,
					 strerror(errno));
		j->taken_over = true;
		r = statedir_open_file(vfd, vmpath, "journal",
				       O_WRONLY | O_APPEND | O_CREAT | O_EXCL, &j->fd, err);
	}
	if (r < 0) {
		if (!error_is_set(err) || err->errnum == EEXIST) {
			error_set(err, r, "Failed to create the journal: %s", strerror(-r));
			error_set_file(err, j->path, true);
		}
		return r;
	}
	j->pid = getpid();
	header = strdup_printf(JOURNAL_MAGIC " " JOURNAL_VERSION " %s %d\n", vm, (int)j->pid);
	if (!header)
		r = -ENOMEM;
	else
		r = write_all(j->fd, header);
	if (r >= 0 && fsync(j->fd) < 0)
		r = negative_errno();
	if (r >= 0 && fsync(vfd) < 0)
		r = negative_errno();
	if (r < 0) {
		(void)unlinkat(vfd, "journal", 0);
		r = error_set(err, r, "Failed to write the journal: %s", strerror(-r));
		error_set_file(err, j->path, true);
		return r;
	}
	*ret = TAKE_PTR(j);
	return 0;
}

int journal_open(struct ctx *c, const char *vm, bool force, struct journal **ret, struct error *err)
{
	_cleanup_(journal_freep) struct journal *j = NULL;
	_cleanup_free_ char *vmpath = NULL, *holder = NULL;
	_cleanup_close_ int vfd = -1, lfd = -1;
	struct stat st;
	int r;

	r = open_vm_dir(c, vm, false, NULL, &vfd, err);
	if (r < 0)
		return r;
	if (fstatat(vfd, "journal", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return -ENOENT;
	vmpath = path_join(c->state, vm);
	if (!vmpath)
		return error_set(err, ENOMEM, NULL);
	r = liveness_lock(vfd, vmpath, vm, force, &lfd, &holder, err);
	if (r < 0)
		return r;
	r = read_journal(c, vfd, vm, &j, err);
	if (r < 0)
		return r;
	j->lock_fd = TAKE_FD(lfd);
	j->holder = TAKE_PTR(holder);
	*ret = TAKE_PTR(j);
	return 0;
}

int journal_load(struct ctx *c, const char *vm, struct journal **ret, struct error *err)
{
	_cleanup_(journal_freep) struct journal *j = NULL;
	_cleanup_close_ int vfd = -1;
	int r;

	r = open_vm_dir(c, vm, false, NULL, &vfd, err);
	if (r == -ENOENT) {
		_cleanup_free_ char *path = journal_path(c, vm);

		r = error_set(err, ENOENT, "cannot read the journal: %s", strerror(ENOENT));
		error_set_file(err, path, true);
		return r;
	}
	if (r < 0)
		return r;
	r = read_journal(c, vfd, vm, &j, err);
	if (r < 0)
		return r;
	if (j->headerless) {
		r = error_set_line(err, EBADMSG, j->path, 1,
				   "not a gpurun journal (the file is empty or its first line is "
				   "incomplete)");
		return r;
	}
	*ret = TAKE_PTR(j);
	return 0;
}

int journal_probe(struct ctx *c, const char *vm, enum journal_probe *ret, char **ret_text,
		  size_t *ret_entries, struct error *err)
{
	_cleanup_(journal_freep) struct journal *j = NULL;
	_cleanup_free_ char *vmpath = NULL, *holder = NULL;
	_cleanup_close_ int vfd = -1, lfd = -1;
	struct stat st;
	int r;

	*ret = JOURNAL_PROBE_NONE;
	r = open_vm_dir(c, vm, false, NULL, &vfd, err);
	if (r == -ENOENT && !error_is_set(err))
		return 0;
	if (r < 0)
		return r;
	if (fstatat(vfd, "journal", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : error_set(err, errno, "cannot stat the journal");
	vmpath = path_join(c->state, vm);
	if (!vmpath)
		return error_set(err, ENOMEM, NULL);
	/* no lock file: nobody took the VM, so nobody can be alive in it */
	if (fstatat(vfd, "lock", &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = liveness_lock(vfd, vmpath, vm, false, &lfd, &holder, err);
		if (r == -EBUSY) {
			*ret = JOURNAL_PROBE_LIVE;
			*ret_text = err && err->message ? strdup(err->message)
							: strdup_printf("VM '%s' is alive", vm);
			error_clear(err);
			return *ret_text ? 0 : -ENOMEM;
		}
		if (r < 0)
			return r;
	}
	r = read_journal(c, vfd, vm, &j, err);
	if (r < 0)
		return r;
	if (j->headerless || j->n_entries == 0) {
		*ret = JOURNAL_PROBE_TAKEOVER;
		return 0;
	}
	*ret = JOURNAL_PROBE_LEFT;
	if (ret_entries)
		*ret_entries = j->n_entries;
	return 0;
}

int journal_append(struct journal *j, enum journal_kind k, const char *target, const char *value,
		   const char *extra)
{
	_cleanup_free_ char *line = NULL;
	int r;

	if (j->fd < 0)
		return -EBADF;
	line = journal_format_entry(k, target, value, extra);
	if (!line)
		return -ENOMEM;
	r = add_entry(j, k, target, value, extra, 0);
	if (r < 0)
		return r;
	r = write_all(j->fd, line);
	if (r >= 0 && fsync(j->fd) < 0)
		r = negative_errno();
	if (r < 0) {
		/* not on disk: the action must not happen, and it is not in the list either */
		entry_done(&j->entries[--j->n_entries]);
		return r;
	}
	return 0;
}

int journal_record_qemu(struct journal *j, pid_t pid)
{
	return liveness_add_qemu(j->lock_fd, pid);
}

int journal_record_libvirt(struct journal *j, const char *uri, const char *domain)
{
	return liveness_add_libvirt(j->lock_fd, uri, domain);
}

int journal_remove(struct ctx *c, const char *vm)
{
	_cleanup_close_ int sfd = -1, vfd = -1;
	int r;

	r = open_vm_dir(c, vm, false, &sfd, &vfd, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (unlinkat(vfd, "journal", 0) < 0 && errno != ENOENT)
		return negative_errno();
	/* the lock after the journal, while still holding it: see liveness.c */
	(void)unlinkat(vfd, "lock", 0);
	(void)fsync(vfd);
	(void)unlinkat(sfd, vm, AT_REMOVEDIR); /* other files (a QEMU log) keep it */
	return 0;
}

int journal_list(struct ctx *c, char ***ret)
{
	/* a symlink in place of a VM dir is listed: opening it names the problem */
	return statedir_list_vms(c, "journal", true, ret);
}

/* The journal of @vm exists (a plain check, for the device locks' "journal left"). */
static bool journal_exists(struct ctx *c, const char *vm)
{
	_cleanup_close_ int vfd = -1;
	struct stat st;

	if (!journal_vm_name_ok(vm) || open_vm_dir(c, vm, false, NULL, &vfd, NULL) < 0)
		return false;
	return fstatat(vfd, "journal", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* "VM PID" from a lock file's contents */
static int parse_holder(const char *s, char **ret_vm, long *ret_pid)
{
	char vm[256];
	long pid;

	if (sscanf(s, "%255s %ld", vm, &pid) != 2)
		return -EBADMSG;
	*ret_vm = strdup(vm);
	if (!*ret_vm)
		return -ENOMEM;
	*ret_pid = pid;
	return 0;
}

/* Take one lock; -EBUSY with *ret_holder = "VM (pid N)", "VM (journal left)" or NULL (not
 * known) when refused. A hostile locks dir or lock file: @err names it. */
/* @probe: only whether it is free, leaving the state dir as it is (no directory or lock file
 * made, nothing written: a lock file that does not exist is held by nobody) */
static int lock_try(struct ctx *c, struct journal *j, const char *bdf, bool probe,
		    char **ret_holder, struct error *err)
{
	_cleanup_free_ char *dir = path_join(c->state, "locks"), *name = NULL, *holder_vm = NULL,
			    *line = NULL;
	_cleanup_close_ int sfd = -1, lfd = -1, fd = -1;
	char content[4096];
	long holder_pid = 0;
	ssize_t len;
	int *n, r;

	*ret_holder = NULL;
	if (!dir)
		return -ENOMEM;
	if (!statedir_plain_name(bdf))
		return -EINVAL;
	r = statedir_open(c, !probe, &sfd, err);
	if (r >= 0)
		r = statedir_open_dir(sfd, c->state, "locks", !probe, &lfd, err);
	if (r == -ENOENT && probe) {
		error_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	name = strdup_printf("%s.lock", bdf);
	if (!name)
		return -ENOMEM;
	r = statedir_open_file(lfd, dir, name, probe ? O_RDONLY : O_RDWR | O_CREAT, &fd, err);
	if (r == -ENOENT && probe) {
		error_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	len = pread(fd, content, sizeof(content) - 1, 0);
	if (len > 0) {
		content[len] = 0;
		(void)parse_holder(content, &holder_vm, &holder_pid);
	}

	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return negative_errno();
		if (holder_vm && asprintf(ret_holder, "%s (pid %ld)", holder_vm, holder_pid) < 0)
			*ret_holder = NULL;
		return -EBUSY;
	}
	if (holder_vm && !streq(holder_vm, j->vm) && journal_exists(c, holder_vm)) {
		if (asprintf(ret_holder, "%s (journal left)", holder_vm) < 0)
			*ret_holder = NULL;
		return -EBUSY;
	}
	if (probe)
		return 0; /* the lock goes with fd */
	if (asprintf(&line, "%s %d\n", j->vm, (int)getpid()) < 0)
		return -ENOMEM;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, strlen(line), 0) != (ssize_t)strlen(line) ||
	    fsync(fd) < 0)
		return negative_errno();
	n = realloc(j->lock_fds, sizeof(int) * (j->n_locks + 1));
	if (!n)
		return -ENOMEM;
	j->lock_fds = n;
	j->lock_fds[j->n_locks++] = TAKE_FD(fd);
	return 0;
}

static int lock_one(struct ctx *c, struct journal *j, const char *bdf, bool probe,
		    struct error *err)
{
	_cleanup_free_ char *holder = NULL;
	int r;

	r = lock_try(c, j, bdf, probe, &holder, err);
	if (r >= 0)
		return r;
	if (r != -EBUSY && error_is_set(err) && err->file) {
		/* a hostile locks dir or lock file: the error names it */
		error_set_device(err, bdf);
		return r;
	}
	if (r == -EBUSY && holder)
		r = error_set(err, EBUSY, "%s is in use by gpurun VM %s", bdf, holder);
	else if (r == -EBUSY)
		r = error_set(err, EBUSY, "%s is in use by another gpurun", bdf);
	else
		r = error_set(err, r, "Failed to take the lock of %s in %s/locks: %s", bdf,
			      c->state, strerror(-r));
	error_set_device(err, bdf);
	return r;
}

int journal_lock_device(struct ctx *c, struct journal *j, const char *bdf, struct error *err)
{
	return lock_one(c, j, bdf, false, err);
}

int journal_lock_entries(struct ctx *c, struct journal *j, struct error *err)
{
	int r;

	for (size_t i = 0; i < j->n_entries; i++) {
		if (j->entries[i].kind != JOURNAL_BIND)
			continue;
		r = lock_one(c, j, j->entries[i].target, false, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int journal_device_in_use(struct ctx *c, const char *bdf, struct error *err)
{
	_cleanup_(journal_freep) struct journal *probe = journal_new();

	/* a VM name no journal can have: every holder counts */
	if (!probe || !(probe->vm = strdup("")))
		return error_set(err, ENOMEM, NULL);
	return lock_one(c, probe, bdf, true, err);
}

void journal_unlock_all(struct journal *j)
{
	for (size_t i = 0; i < j->n_locks; i++) {
		if (j->lock_fds[i] < 0)
			continue;
		(void)ftruncate(j->lock_fds[i], 0);
		close(j->lock_fds[i]);
		j->lock_fds[i] = -1;
	}
	j->n_locks = 0;
}
