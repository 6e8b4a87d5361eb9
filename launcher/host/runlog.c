/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/runlog.h"
#include "host/statedir.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/strutil.h"
#include "util/strv.h"

#define RUNLOG_FILE "run"
#define RUNLOG_MAX (64 * 1024)

void runlog_done(struct runlog *r)
{
	free(r->vm);
	free(r->profile);
	free(r->backend);
	free(r->boot_id);
	free(r->log);
	free(r->node);
	*r = (struct runlog){};
}

static int parse_ull(const char *s, unsigned long long *ret)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int runlog_parse(const char *buf, size_t len, struct runlog *ret, struct error *err)
{
	_cleanup_free_ char *copy = strndup(buf, len);
	struct runlog r = {};
	unsigned lineno = 0;
	char *save = NULL;

	if (!copy)
		return error_set(err, ENOMEM, "Out of memory");
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *value = strchr(line, ' ');
		char **target = NULL;
		int k = 0;

		lineno++;
		if (value)
			*value++ = '\0';
		if (lineno == 1) {
			if (!streq(line, "gpurun-run") || !value || !streq(value, "1")) {
				runlog_done(&r);
				return error_set_line(err, EBADMSG, NULL, 1,
						      "not a gpurun run record (version 1)");
			}
			continue;
		}
		if (!value)
			continue;
		if (streq(line, "vm"))
			target = &r.vm;
		else if (streq(line, "profile"))
			target = &r.profile;
		else if (streq(line, "backend"))
			target = &r.backend;
		else if (streq(line, "boot-id"))
			target = &r.boot_id;
		else if (streq(line, "log"))
			target = &r.log;
		else if (streq(line, "node"))
			target = &r.node;
		else if (streq(line, "start-usec"))
			k = parse_ull(value, &r.start_usec);
		else if (streq(line, "log-offset"))
			k = parse_ull(value, &r.log_offset);
		else if (streq(line, "kmsg-seq")) {
			k = parse_ull(value, &r.kmsg_seq);
			r.has_kmsg_seq = k == 0;
		}
		if (k < 0) {
			runlog_done(&r);
			return error_set_line(err, EBADMSG, NULL, lineno, "'%s' is not a number",
					      value);
		}
		if (target) {
			free(*target);
			*target = strdup(value);
			if (!*target) {
				runlog_done(&r);
				return error_set(err, ENOMEM, "Out of memory");
			}
		}
	}
	if (lineno == 0) {
		runlog_done(&r);
		return error_set_line(err, EBADMSG, NULL, 1, "not a gpurun run record (empty)");
	}
	*ret = r;
	return 0;
}

char *runlog_format(const struct runlog *r)
{
	_cleanup_free_ char *kseq = NULL, *node = NULL;

	if (r->has_kmsg_seq && asprintf(&kseq, "kmsg-seq %llu\n", r->kmsg_seq) < 0)
		return NULL;
	if (r->node && asprintf(&node, "node %s\n", r->node) < 0)
		return NULL;
	return strdup_printf(
	    "gpurun-run 1\nvm %s\n%s%s%sbackend %s\n%s%s%sstart-usec %llu\n%s%s%s"
	    "log-offset %llu\n%s%s",
	    strempty(r->vm), r->profile ? "profile " : "", strempty(r->profile),
	    r->profile ? "\n" : "", strempty(r->backend), r->boot_id ? "boot-id " : "",
	    strempty(r->boot_id), r->boot_id ? "\n" : "", r->start_usec, r->log ? "log " : "",
	    strempty(r->log), r->log ? "\n" : "", r->log_offset, strempty(kseq), strempty(node));
}

static bool field_ok(const char *s)
{
	return !s || !strpbrk(s, "\n\r");
}

int runlog_write(struct ctx *c, const struct runlog *r, struct error *err)
{
	_cleanup_close_ int sfd = -1, vfd = -1, fd = -1;
	_cleanup_free_ char *text = NULL, *vmpath = NULL;
	size_t len;
	ssize_t n;
	int k;

	if (!r->vm || !statedir_plain_name(r->vm))
		return error_set(err, EINVAL, "'%s' is not a VM name", strempty(r->vm));
	if (!field_ok(r->profile) || !field_ok(r->log) || !field_ok(r->boot_id) ||
	    !field_ok(r->backend) || !field_ok(r->node))
		return error_set(err, EINVAL, "A path of VM '%s' holds a line break", r->vm);
	text = runlog_format(r);
	vmpath = path_join(c->state, r->vm);
	if (!text || !vmpath)
		return error_set(err, ENOMEM, "Out of memory");
	k = statedir_open(c, false, &sfd, err);
	if (k < 0)
		return k;
	k = statedir_open_dir(sfd, c->state, r->vm, false, &vfd, err);
	if (k < 0)
		return k;
	(void)unlinkat(vfd, RUNLOG_FILE ".tmp", 0);
	k = statedir_open_file(vfd, vmpath, RUNLOG_FILE ".tmp", O_WRONLY | O_CREAT | O_EXCL, &fd,
			       err);
	if (k < 0)
		return k;
	len = strlen(text);
	n = write(fd, text, len);
	if (n != (ssize_t)len || fsync(fd) < 0) {
		k = n < 0 || n == (ssize_t)len ? negative_errno() : -EIO;
		(void)unlinkat(vfd, RUNLOG_FILE ".tmp", 0);
		return error_set(err, k, "Failed to write %s/%s: %s", vmpath, RUNLOG_FILE,
				 strerror(-k));
	}
	if (renameat(vfd, RUNLOG_FILE ".tmp", vfd, RUNLOG_FILE) < 0) {
		k = negative_errno();
		(void)unlinkat(vfd, RUNLOG_FILE ".tmp", 0);
		return error_set(err, k, "Failed to write %s/%s: %s", vmpath, RUNLOG_FILE,
				 strerror(-k));
	}
	return 0;
}

/* Read at most @max bytes of the verified file @fd from @offset (the last @max when more). */
static int read_fd(int fd, unsigned long long offset, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t n = 0;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	if ((unsigned long long)st.st_size < offset)
		offset = 0; /* the log was truncated since: read it whole */
	if ((unsigned long long)st.st_size - offset > max)
		offset = (unsigned long long)st.st_size - max;
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	while (n < max) {
		ssize_t k = pread(fd, buf + n, max - n, (off_t)(offset + n));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return negative_errno();
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = n;
	return 0;
}

int runlog_read(struct ctx *c, const char *vm, struct runlog *ret, struct error *err)
{
	_cleanup_close_ int sfd = -1, vfd = -1, fd = -1;
	_cleanup_free_ char *vmpath = path_join(c->state, vm), *buf = NULL, *path = NULL;
	size_t len;
	int k;

	if (!vmpath)
		return error_set(err, ENOMEM, "Out of memory");
	if (!statedir_plain_name(vm))
		return error_set(err, EINVAL, "'%s' is not a VM name", vm);
	k = statedir_open(c, false, &sfd, err);
	if (k == -ENOENT)
		return k;
	if (k >= 0)
		k = statedir_open_dir(sfd, c->state, vm, false, &vfd, err);
	if (k == -ENOENT)
		return k;
	if (k >= 0)
		k = statedir_open_file(vfd, vmpath, RUNLOG_FILE, O_RDONLY, &fd, err);
	if (k == -ENOENT)
		return k;
	if (k < 0)
		return k;
	path = path_join(vmpath, RUNLOG_FILE);
	if (!path)
		return error_set(err, ENOMEM, "Out of memory");
	k = read_fd(fd, 0, RUNLOG_MAX, &buf, &len);
	if (k < 0)
		return error_set(err, k, "Failed to read %s: %s", path, strerror(-k));
	k = runlog_parse(buf, len, ret, err);
	if (k < 0)
		error_set_file(err, path, true);
	return k;
}

int runlog_list(struct ctx *c, char ***ret)
{
	return statedir_list_vms(c, RUNLOG_FILE, false, ret);
}

unsigned long long runlog_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

char *runlog_boot_id(struct ctx *c)
{
	_cleanup_free_ char *p = path_join(c->proc, "sys/kernel/random/boot_id");
	char *line = NULL;

	if (!p || hostfs_read_line(p, &line) < 0)
		return NULL;
	return line;
}

char *runlog_libvirt_log(struct ctx *c, const char *vm)
{
	return strdup_printf("%s/var/log/libvirt/qemu/%s.log", c->root, vm);
}

unsigned long long runlog_file_size(const char *path)
{
	struct stat st;

	if (!path || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (unsigned long long)st.st_size;
}

int runlog_read_log(struct ctx *c, const char *path, bool in_state, unsigned long long offset,
		    size_t max, char **ret, size_t *ret_len, struct error *err)
{
	_cleanup_close_ int sfd = -1, vfd = -1, fd = -1;
	int k;

	if (in_state) {
		/* <state>/<vm>/<name>: opened through the verified state dir, no symlink followed */
		_cleanup_free_ char *dir = NULL, *vm = NULL;
		const char *name = strrchr(path, '/'), *vmstart;

		if (!name || name == path)
			return error_set(err, EINVAL, "%s is not in the state dir", path);
		dir = strndup(path, (size_t)(name - path));
		if (!dir)
			return error_set(err, ENOMEM, "Out of memory");
		vmstart = strrchr(dir, '/');
		if (!vmstart || strncmp(dir, c->state, (size_t)(vmstart - dir)) != 0 ||
		    strlen(c->state) != (size_t)(vmstart - dir))
			return error_set(err, EINVAL, "%s is not in the state dir %s", path,
					 c->state);
		vm = strdup(vmstart + 1);
		if (!vm)
			return error_set(err, ENOMEM, "Out of memory");
		k = statedir_open(c, false, &sfd, err);
		if (k >= 0)
			k = statedir_open_dir(sfd, c->state, vm, false, &vfd, err);
		if (k >= 0)
			k = statedir_open_file(vfd, dir, name + 1, O_RDONLY, &fd, err);
		if (k < 0) {
			if (k == -ENOENT)
				return error_set(err, ENOENT, "%s: %s", path, strerror(ENOENT));
			return k;
		}
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0)
			return error_set(err, errno, "Failed to open %s: %s", path,
					 strerror(errno));
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			return error_set(err, EINVAL, "%s is not a regular file", path);
	}
	k = read_fd(fd, offset, max, ret, ret_len);
	if (k < 0)
		return error_set(err, k, "Failed to read %s: %s", path, strerror(-k));
	return 0;
}

int runlog_kmsg_open(struct ctx *c, bool at_end, int *ret_fd)
{
	_cleanup_free_ char *p = path_join(c->dev, "kmsg");
	int fd;

	if (!p)
		return -ENOMEM;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	if (at_end && lseek(fd, 0, SEEK_END) < 0) {
		int k = negative_errno();

		close(fd);
		return k;
	}
	*ret_fd = fd;
	return 0;
}

int runlog_kmsg_read(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;
	/* a record is at most 8 KiB (CONSOLE_EXT_LOG_MAX) on the device */
	const size_t chunk = 16 * 1024;

	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	while (n + chunk <= max) {
		ssize_t k = read(fd, buf + n, chunk);

		if (k < 0 && (errno == EINTR || errno == EPIPE))
			continue; /* EPIPE: records were overwritten before they were read */
		if (k < 0 && errno == EAGAIN)
			break;
		if (k < 0)
			return negative_errno();
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = n;
	return 0;
}
