/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
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
#include "util/error.h"
#include "util/strv.h"

#define JOURNAL_MAGIC "gpurun-journal"
#define JOURNAL_VERSION "1"
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
	free(j->path);
	free(j->vm);
	free(j);
	return NULL;
}

static struct journal *journal_new(void)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j)
		j->fd = -1;
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

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return negative_errno();
	return 0;
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

int journal_create(struct ctx *c, const char *vm, struct journal **ret)
{
	_cleanup_(journal_freep) struct journal *j = journal_new();
	_cleanup_free_ char *dir = NULL, *header = NULL;
	int r;

	if (!j)
		return -ENOMEM;
	if (!vm || !*vm || strchr(vm, '/') || streq(vm, ".") || streq(vm, "..") ||
	    streq(vm, "locks"))
		return -EINVAL;
	for (const char *p = vm; *p; p++)
		if (needs_escape((unsigned char)*p))
			return -EINVAL;
	dir = path_join(c->state, vm);
	j->path = journal_path(c, vm);
	j->vm = strdup(vm);
	if (!dir || !j->path || !j->vm)
		return -ENOMEM;
	r = hostfs_mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	j->fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (j->fd < 0)
		return negative_errno();
	j->pid = getpid();
	if (asprintf(&header, JOURNAL_MAGIC " " JOURNAL_VERSION " %s %d\n", vm, (int)j->pid) < 0)
		header = NULL;
	if (!header)
		r = -ENOMEM;
	else
		r = write_all(j->fd, header);
	if (r >= 0 && fsync(j->fd) < 0)
		r = negative_errno();
	if (r >= 0)
		r = fsync_dir(dir);
	if (r < 0) {
		unlink(j->path);
		return r;
	}
	*ret = TAKE_PTR(j);
	return 0;
}

int journal_load(struct ctx *c, const char *vm, struct journal **ret, struct error *err)
{
	_cleanup_free_ char *path = journal_path(c, vm), *buf = NULL;
	struct journal *j;
	size_t len;
	int r;

	if (!path)
		return error_set(err, ENOMEM, NULL);
	r = read_full_file(path, 4 * 1024 * 1024, &buf, &len);
	if (r < 0) {
		r = error_set(err, r, "cannot read the journal: %s", strerror(-r));
		error_set_file(err, path, true);
		return r;
	}
	r = journal_parse(buf, len, &j, err);
	if (r < 0) {
		error_set_file(err, path, true);
		return r;
	}
	j->path = TAKE_PTR(path);
	*ret = j;
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

int journal_remove(struct ctx *c, const char *vm)
{
	_cleanup_free_ char *path = journal_path(c, vm), *dir = path_join(c->state, vm);

	if (!path || !dir)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return negative_errno();
	(void)rmdir(dir); /* other files (a QEMU log) keep it */
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int journal_list(struct ctx *c, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	DIR *d;
	struct dirent *de;
	int r = 0;

	l = calloc(1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	d = opendir(c->state);
	if (!d) {
		if (errno != ENOENT)
			return negative_errno();
		*ret = TAKE_PTR(l);
		return 0;
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;

		if (de->d_name[0] == '.' || streq(de->d_name, "locks"))
			continue;
		p = journal_path(c, de->d_name);
		if (!p) {
			r = -ENOMEM;
			break;
		}
		if (!hostfs_exists(p))
			continue;
		r = strv_extend(&l, de->d_name);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	qsort(l, strv_length(l), sizeof(char *), cmp_str);
	*ret = TAKE_PTR(l);
	return 0;
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
 * known) when refused. */
static int lock_try(struct ctx *c, struct journal *j, const char *bdf, char **ret_holder)
{
	_cleanup_free_ char *dir = path_join(c->state, "locks"), *path = NULL, *content = NULL,
			    *holder_vm = NULL, *line = NULL, *jp = NULL;
	_cleanup_close_ int fd = -1;
	long holder_pid = 0;
	int *n, r;

	*ret_holder = NULL;
	if (!dir)
		return -ENOMEM;
	if (!*bdf || strchr(bdf, '/') || streq(bdf, ".") || streq(bdf, ".."))
		return -EINVAL;
	r = hostfs_mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/%s.lock", dir, bdf) < 0)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return negative_errno();
	(void)read_full_file(path, 4096, &content, NULL);
	if (content)
		(void)parse_holder(content, &holder_vm, &holder_pid);

	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return negative_errno();
		if (holder_vm && asprintf(ret_holder, "%s (pid %ld)", holder_vm, holder_pid) < 0)
			*ret_holder = NULL;
		return -EBUSY;
	}
	if (holder_vm && !streq(holder_vm, j->vm)) {
		jp = journal_path(c, holder_vm);
		if (!jp)
			return -ENOMEM;
		if (hostfs_exists(jp)) {
			if (asprintf(ret_holder, "%s (journal left)", holder_vm) < 0)
				*ret_holder = NULL;
			return -EBUSY;
		}
	}
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

static int lock_one(struct ctx *c, struct journal *j, const char *bdf, struct error *err)
{
	_cleanup_free_ char *holder = NULL;
	int r;

	r = lock_try(c, j, bdf, &holder);
	if (r >= 0)
		return r;
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
	return lock_one(c, j, bdf, err);
}

int journal_lock_entries(struct ctx *c, struct journal *j, struct error *err)
{
	int r;

	for (size_t i = 0; i < j->n_entries; i++) {
		if (j->entries[i].kind != JOURNAL_BIND)
			continue;
		r = lock_one(c, j, j->entries[i].target, err);
		if (r < 0)
			return r;
	}
	return 0;
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
