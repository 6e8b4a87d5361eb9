/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "hostcfg/backup.h"
#include "hostcfg/bootloader.h"
#include "util/fileio.h"
#include "util/lines.h"
#include "util/strutil.h"
#include "util/strv.h"

/* @r about @file (host name), no message of its own: error_format() says "FILE: strerror". */
static int fail_file(struct error *err, int r, const char *file)
{
	return error_set_line(err, r, file, 0, NULL);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(p);
	return 0;
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int mkdir_parent(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	char *slash;

	if (!p)
		return -ENOMEM;
	slash = strrchr(p, '/');
	if (!slash || slash == p)
		return 0;
	*slash = 0;
	return hostfs_mkdir_p(p, mode);
}

static int base_dir(struct ctx *c, char **ret)
{
	*ret = path_join(c->etc, "gpurun/backup");
	return *ret ? 0 : -ENOMEM;
}

/* One apply or revert at a time: flock() on BASE/.lock, released when *ret_fd is closed. With
 * @create false a missing BASE is -ENOENT (nothing to revert), not created. */
static int lock_base(const char *base, bool create, int *ret_fd)
{
	_cleanup_free_ char *p = path_join(base, ".lock");
	int fd, r;

	if (!p)
		return -ENOMEM;
	if (create) {
		r = hostfs_mkdir_p(base, 0700);
		if (r < 0)
			return r;
	} else if (!hostfs_is_dir(base))
		return -ENOENT;
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return negative_errno();
	if (flock(fd, LOCK_EX) < 0) {
		r = negative_errno();
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

#define PARTIAL_PREFIX ".partial-"

/* A backup is built under BASE/.partial-NAME and renamed to BASE/NAME once its manifest is
 * written: what a killed apply leaves is never taken for a backup. Under the lock nobody builds
 * one, so what is there is debris. */
static void remove_partials(const char *base)
{
	struct dirent **list = NULL;
	int n = scandir(base, &list, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		if (startswith(list[i]->d_name, PARTIAL_PREFIX)) {
			_cleanup_free_ char *p = path_join(base, list[i]->d_name);

			if (p)
				rm_rf(p);
		}
		free(list[i]);
	}
	free(list);
}

/* What gpurun wrote, to tell later whether the user changed the file since: FNV-1a (64 bits)
 * and the length. It guards against edits, not against someone forging a collision. */
static uint64_t content_hash(const char *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The temp files of hostfs_write_atomic() ("NAME.gpurun-XXXXXX") a killed gpurun left next to
 * @path. */
static void remove_stale_temps(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	struct dirent **list = NULL;
	const char *base;
	char *slash;
	int n;

	if (!dir || !(slash = strrchr(dir, '/')))
		return;
	*slash = 0;
	base = slash + 1;
	n = scandir(*dir ? dir : "/", &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *e = list[i]->d_name;
		size_t bl = strlen(base);

		if (strncmp(e, base, bl) == 0 && startswith(e + bl, ".gpurun-") &&
		    strlen(e + bl) == strlen(".gpurun-XXXXXX")) {
			_cleanup_free_ char *p = path_join(dir, e);

			if (p)
				(void)unlink(p);
		}
		free(list[i]);
	}
	free(list);
}

/* Put @content back at @path (NULL: remove it), owned by @uid:@gid with @mode. */
static int restore_one(const char *path, const char *content, size_t len, mode_t mode, uid_t uid,
		       gid_t gid)
{
	int r;

	remove_stale_temps(path);
	if (!content) {
		if (unlink(path) < 0 && errno != ENOENT && errno != ENOTDIR)
			return negative_errno();
		return 0;
	}
	r = mkdir_parent(path, 0755);
	if (r < 0)
		return r;
	return hostfs_write_atomic_owned(path, content, len, mode, uid, gid);
}

/* Directories the writes will create, outermost first, so that revert can remove them. */
static int missing_dirs(const struct hostcfg *cfg, char ***ret)
{
	_cleanup_strv_free_ char **l = strv_new_empty();
	int r;

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_files; i++) {
		_cleanup_strv_free_ char **chain = strv_new_empty();
		_cleanup_free_ char *p = NULL;
		char *slash;

		if (!cfg->files[i].new)
			continue;
		p = strdup(cfg->files[i].path);
		if (!p || !chain)
			return -ENOMEM;
		while ((slash = strrchr(p, '/')) && slash != p) {
			*slash = 0;
			if (hostfs_exists(p))
				break;
			r = strv_extend(&chain, p);
			if (r < 0)
				return r;
		}
		for (size_t k = strv_length(chain); k-- > 0;)
			if (!strv_contains(l, chain[k]) && (r = strv_extend(&l, chain[k])) < 0)
				return r;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

void backup_rollback_done(struct backup_rollback *rb)
{
	if (!rb)
		return;
	rb->kept = mfree(rb->kept);
	rb->restored = strv_free(rb->restored);
	rb->not_restored = strv_free(rb->not_restored);
}

/* Boot tools change the real machine's boot entries, whatever --root says: they run only on the
 * real root. GPURUN_TEST_ROOT_TOOLS (secure_getenv) lets the fixture tests run the fake ones
 * installed under --root (tests/tools/fake-grubby, fake-kernelstub), which edit the root. */
static bool tools_run(const struct ctx *c)
{
	return c->real_root || secure_getenv("GPURUN_TEST_ROOT_TOOLS");
}

/* Run @tool at @path (full, under the roots) to add (or, @remove, take out) @params. 0 also when
 * skipped (*ret_skipped); a failure names the tool (host name) in @err. */
static int run_tool(struct ctx *c, enum hostcfg_tool tool, const char *path, char *const *params,
		    bool remove, bool *ret_skipped, struct error *err)
{
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *line = NULL;
	int r;

	if (ret_skipped)
		*ret_skipped = !tools_run(c);
	if (!tools_run(c))
		return 0;
	r = bootloader_tool_argv(tool, path, params, remove, &argv);
	if (r < 0)
		return r;
	line = strv_join(argv + 1, " ");
	r = hostcfg_run(argv);
	if (r < 0)
		return error_set_line(err, -r, hostcfg_host_name(c, path), 0,
				      "could not be started (%s)", strna(line));
	if (r > 0)
		return error_set_line(err, EIO, hostcfg_host_name(c, path), 0,
				      "'%s' failed with exit status %d", strna(line), r);
	return 0;
}

/* Per changed file of an apply: where it is written and who owns it. */
struct target {
	char *path; /* symlinks followed */
	uid_t uid;
	gid_t gid;
};

static void targets_free(struct target *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		free(t[i].path);
	free(t);
}

/* The backup of every file about to change, built under a temporary name and published by
 * rename once its manifest is complete: *ret_dir. Nothing of it is left on failure. */
static int make_backup(struct ctx *c, struct hostcfg *cfg, const char *base, struct target *tg,
		       char **created, char **ret_dir)
{
	_cleanup_free_ char *dir = NULL, *tmp = NULL, *manifest = NULL, *mpath = NULL;
	size_t mlen = 0;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *m;
	int r;

	if (!gmtime_r(&now, &tm) || !strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm))
		return -EINVAL;
	for (int n = 1; n < 100; n++) {
		free(dir);
		if (n == 1)
			dir = path_join(base, ts);
		else if (asprintf(&dir, "%s/%s-%d", base, ts, n) < 0)
			dir = NULL;
		if (!dir)
			return -ENOMEM;
		if (!hostfs_exists(dir))
			break;
	}
	if (asprintf(&tmp, "%s/" PARTIAL_PREFIX "%s", base, strrchr(dir, '/') + 1) < 0)
		return -ENOMEM;
	r = hostfs_mkdir_p(tmp, 0700);
	if (r < 0)
		return r;

	m = open_memstream(&manifest, &mlen);
	if (!m) {
		rm_rf(tmp);
		return -ENOMEM;
	}
	for (char **i = created; *i; i++)
		fprintf(m, "mkdir %s\n", hostcfg_host_name(c, *i));
	if (cfg->tool.tool != HOSTCFG_TOOL_NONE && strv_length(cfg->tool.add) > 0) {
		_cleanup_free_ char *j = strv_join(cfg->tool.add, " ");

		if (!j) {
			fclose(m);
			rm_rf(tmp);
			return -ENOMEM;
		}
		/* written before the tool runs: --revert takes out what it may have added */
		fprintf(m, "undo %s %s %s\n", hostcfg_tool_to_string(cfg->tool.tool),
			hostcfg_host_name(c, cfg->tool.path), j);
	}
	for (size_t i = 0; i < cfg->n_files; i++) {
		struct hostcfg_file *f = &cfg->files[i];
		_cleanup_free_ char *b = NULL;

		if (!f->new)
			continue;
		if (!f->old)
			fprintf(m, "absent %s\n", f->name);
		else {
			fprintf(m, "saved %04o %s\n", (unsigned)f->mode, f->name);
			if (tg[i].uid != (uid_t)-1)
				fprintf(m, "owner %u:%u %s\n", (unsigned)tg[i].uid,
					(unsigned)tg[i].gid, f->name);
			b = path_join(tmp, f->name);
			r = b ? mkdir_parent(b, 0700) : -ENOMEM;
			if (r >= 0)
				r = hostfs_write_atomic(b, f->old, f->old_len, f->mode & 0777);
			if (r < 0) {
				fclose(m);
				rm_rf(tmp);
				return r;
			}
		}
		fprintf(m, "wrote %zu:%016" PRIx64 " %s\n", f->new_len,
			content_hash(f->new, f->new_len), f->name);
	}
	if (fclose(m) != 0) {
		rm_rf(tmp);
		return -ENOMEM;
	}
	mpath = path_join(tmp, "manifest");
	r = mpath ? hostfs_write_atomic(mpath, manifest, mlen, 0600) : -ENOMEM;
	if (r >= 0 && rename(tmp, dir) < 0)
		r = negative_errno();
	if (r < 0) {
		rm_rf(tmp);
		return r;
	}
	*ret_dir = TAKE_PTR(dir);
	return 0;
}

static int apply(struct ctx *c, struct hostcfg *cfg, char **ret_backup, struct backup_rollback *rb,
		 struct error *err)
{
	_cleanup_free_ char *base = NULL, *dir = NULL;
	_cleanup_strv_free_ char **created = NULL, **restored = NULL, **not_restored = NULL;
	_cleanup_close_ int lock = -1;
	struct target *tg = NULL;
	bool use_tool;
	int r;

	r = base_dir(c, &base);
	if (r < 0)
		return r;
	r = lock_base(base, true, &lock);
	if (r < 0)
		return r;
	remove_partials(base);

	tg = calloc(cfg->n_files + 1, sizeof(*tg));
	if (!tg)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_files; i++) {
		struct stat st;

		tg[i].uid = (uid_t)-1;
		tg[i].gid = (gid_t)-1;
		if (!cfg->files[i].new)
			continue;
		r = hostcfg_resolve(c->root, cfg->files[i].path, &tg[i].path);
		if (r < 0) {
			(void)fail_file(err, r, cfg->files[i].name);
			goto out;
		}
		if (cfg->files[i].old && stat(tg[i].path, &st) >= 0) {
			tg[i].uid = st.st_uid;
			tg[i].gid = st.st_gid;
		}
	}
	r = missing_dirs(cfg, &created);
	if (r >= 0)
		r = make_backup(c, cfg, base, tg, created, &dir);
	if (r < 0)
		goto out;
	use_tool = cfg->tool.tool != HOSTCFG_TOOL_NONE && strv_length(cfg->tool.add) > 0;
	if (use_tool) {
		r = run_tool(c, cfg->tool.tool, cfg->tool.path, cfg->tool.add, false,
			     &cfg->tool.skipped, err);
		if (r < 0) {
			/* it may have changed some entries before it failed */
			_cleanup_(error_clear) struct error e = {};
			int q = run_tool(c, cfg->tool.tool, cfg->tool.path, cfg->tool.add, true,
					 NULL, &e);

			if (rb) {
				rb->restored = strv_new_empty();
				rb->not_restored = strv_new_empty();
				if (!rb->restored || !rb->not_restored) {
					r = -ENOMEM;
					goto out;
				}
			}
			if (q < 0) {
				_cleanup_free_ char *why = error_format(&e);

				if (rb &&
				    (q = strv_extendf(&rb->not_restored, "the boot entries (%s)",
						      strna(why))) < 0) {
					r = q;
					goto out;
				}
				if (rb)
					rb->kept = TAKE_PTR(dir);
			} else
				rm_rf(dir);
			goto out;
		}
	}

	for (size_t i = 0; i < cfg->n_files; i++) {
		struct hostcfg_file *f = &cfg->files[i];

		if (!f->new)
			continue;
		remove_stale_temps(tg[i].path);
		r = mkdir_parent(tg[i].path, 0755);
		if (r >= 0)
			r = hostfs_write_atomic_owned(tg[i].path, f->new, f->new_len, f->mode,
						      tg[i].uid, tg[i].gid);
		if (r >= 0)
			continue;
		(void)fail_file(err, r, f->name);
		/* all or nothing: put back what was already written */
		restored = strv_new_empty();
		not_restored = strv_new_empty();
		if (!restored || !not_restored) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t j = 0; j < i; j++) {
			struct hostcfg_file *g = &cfg->files[j];
			int q;

			if (!g->new)
				continue;
			q = restore_one(tg[j].path, g->old, g->old_len, g->mode, tg[j].uid,
					tg[j].gid);
			if (q >= 0)
				q = strv_extend(&restored, g->name);
			else
				q = strv_extendf(&not_restored, "%s (%s)", g->name, strerror(-q));
			if (q < 0) {
				r = q;
				goto out;
			}
		}
		if (use_tool) {
			_cleanup_(error_clear) struct error e = {};
			int q = run_tool(c, cfg->tool.tool, cfg->tool.path, cfg->tool.add, true,
					 NULL, &e);

			if (q >= 0)
				q = strv_extendf(&restored, "the boot entries (%s)",
						 hostcfg_host_name(c, cfg->tool.path));
			else {
				_cleanup_free_ char *why = error_format(&e);

				q = strv_extendf(&not_restored, "the boot entries (%s)",
						 strna(why));
			}
			if (q < 0) {
				r = q;
				goto out;
			}
		}
		for (size_t k = strv_length(created); k-- > 0;)
			(void)rmdir(created[k]);
		/* a backup is the only copy of what could not be put back: it stays */
		if (strv_length(not_restored) == 0)
			rm_rf(dir);
		if (rb) {
			rb->kept = strv_length(not_restored) > 0 ? TAKE_PTR(dir) : NULL;
			rb->restored = TAKE_PTR(restored);
			rb->not_restored = TAKE_PTR(not_restored);
		}
		goto out;
	}
	if (ret_backup)
		*ret_backup = TAKE_PTR(dir);
	r = 0;
out:
	targets_free(tg, cfg->n_files);
	return r;
}

int backup_apply(struct ctx *c, struct hostcfg *cfg, char **ret_backup, struct backup_rollback *rb,
		 struct error *err)
{
	return error_set_errno(err, apply(c, cfg, ret_backup, rb, err));
}

/* A manifest name must be an absolute path without "." or ".." components. */
static bool name_ok(const char *n)
{
	_cleanup_strv_free_ char **parts = NULL;

	if (n[0] != '/' || strv_split(n, "/", &parts) < 0 || strv_length(parts) == 0)
		return false;
	for (char **p = parts; *p; p++)
		if (streq(*p, "..") || streq(*p, "."))
			return false;
	return true;
}

struct restore_item {
	char *name;
	bool dir;      /* a directory gpurun created */
	char *content; /* NULL: the file did not exist */
	size_t len;
	mode_t mode;
	uid_t uid; /* (uid_t)-1: not recorded */
	gid_t gid;
	bool wrote; /* what gpurun wrote is known: */
	size_t wrote_len;
	uint64_t wrote_hash;
};

static void restore_items_free(struct restore_item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(it[i].name);
		free(it[i].content);
	}
	free(it);
}

static struct restore_item *find_item(struct restore_item *it, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!it[i].dir && streq(it[i].name, name))
			return &it[i];
	return NULL;
}

/* Whether restoring @it would throw away something that is neither what gpurun wrote nor what
 * was there before: the user edited the file since the apply. A file that is gone has nothing
 * to lose; one that cannot be read is left to the restore to report. */
static bool changed_since(const char *path, const struct restore_item *it)
{
	_cleanup_free_ char *cur = NULL;
	size_t len = 0;

	if (!it->wrote || read_full_file(path, HOSTCFG_FILE_MAX, &cur, &len) < 0)
		return false;
	if (len == it->wrote_len && content_hash(cur, len) == it->wrote_hash)
		return false;
	if (it->content && len == it->len && memcmp(cur, it->content, len) == 0)
		return false;
	return true;
}

/* What a boot tool added, from the manifest's "undo TOOL PATH PARAM..." line. */
struct tool_undo {
	enum hostcfg_tool tool; /* HOSTCFG_TOOL_NONE: no such line */
	char *path;		/* host name */
	char **params;
};

/* "undo TOOL PATH PARAM...": a known tool, at a path named after it (the manifest is data: it
 * names what to undo, never a program of its own choosing); 0 or -EBADMSG. */
static int parse_undo(const char *l, struct tool_undo *u)
{
	_cleanup_strv_free_ char **w = NULL;
	const char *base;
	int t;

	if (u->tool != HOSTCFG_TOOL_NONE || strv_split(l + 5, " ", &w) < 0 || strv_length(w) < 3)
		return -EBADMSG;
	t = hostcfg_tool_from_string(w[0]);
	if (t <= HOSTCFG_TOOL_NONE || !name_ok(w[1]))
		return -EBADMSG;
	base = strrchr(w[1], '/') + 1;
	if (!streq(base, w[0]))
		return -EBADMSG;
	for (char **p = w + 2; *p; p++)
		if (!**p || strpbrk(*p, "\"'\\\t"))
			return -EBADMSG;
	u->path = strdup(w[1]);
	u->params = strv_copy(w + 2);
	if (!u->path || !u->params)
		return -ENOMEM;
	u->tool = t;
	return 0;
}

/* One manifest line into items[*n] (or onto an earlier item: owner, wrote); 0 or -EBADMSG. */
static int parse_line(const char *l, struct restore_item *items, size_t *n, const char *dir)
{
	struct restore_item *it = &items[*n];
	const char *name = NULL;
	unsigned long mode = 0;
	unsigned uid, gid;
	size_t wlen;
	uint64_t hash;
	int used = 0, r;
	char *end = NULL;

	if (startswith(l, "saved ")) {
		errno = 0;
		mode = strtoul(l + 6, &end, 8);
		if (!errno && end && *end == ' ' && end > l + 6 && mode <= 07777)
			name = end + 1;
	} else if (startswith(l, "absent "))
		name = l + 7;
	else if (startswith(l, "mkdir ")) {
		name = l + 6;
		it->dir = true;
	} else if (startswith(l, "owner ")) {
		if (sscanf(l + 6, "%u:%u %n", &uid, &gid, &used) == 2 && used > 0)
			name = l + 6 + used;
	} else if (startswith(l, "wrote ")) {
		if (sscanf(l + 6, "%zu:%" SCNx64 " %n", &wlen, &hash, &used) == 2 && used > 0)
			name = l + 6 + used;
	} else if (!*l)
		return 0;
	if (!name || !name_ok(name))
		return -EBADMSG;
	if (startswith(l, "owner ") || startswith(l, "wrote ")) {
		struct restore_item *prev = find_item(items, *n, name);

		if (!prev)
			return -EBADMSG;
		if (startswith(l, "owner ")) {
			prev->uid = (uid_t)uid;
			prev->gid = (gid_t)gid;
		} else {
			prev->wrote = true;
			prev->wrote_len = wlen;
			prev->wrote_hash = hash;
		}
		return 0;
	}
	it->uid = (uid_t)-1;
	it->gid = (gid_t)-1;
	it->mode = (mode_t)mode;
	if (startswith(l, "saved ")) {
		_cleanup_free_ char *b = path_join(dir, name);

		if (!b)
			return -ENOMEM;
		r = read_full_file(b, HOSTCFG_FILE_MAX, &it->content, &it->len);
		if (r < 0)
			return r == -ENOENT ? -ENODATA : r;
	}
	it->name = strdup(name);
	if (!it->name)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int revert(struct ctx *c, char **ret_backup, char ***ret_files, struct error *err)
{
	_cleanup_free_ char *base = NULL, *newest = NULL, *dir = NULL, *mpath = NULL, *buf = NULL;
	_cleanup_free_ char *done = NULL;
	_cleanup_strv_free_ char **lines = NULL, **files = strv_new_empty(), **changed = NULL;
	_cleanup_close_ int lock = -1;
	struct restore_item *items = NULL;
	struct tool_undo undo = {};
	size_t n = 0, len = 0;
	struct dirent **list = NULL;
	const char *mname;
	int nd, r, first_err = 0;

	if (!files)
		return -ENOMEM;
	r = base_dir(c, &base);
	if (r < 0)
		return r;
	r = lock_base(base, false, &lock);
	if (r == -ENOENT || r == -ENOTDIR)
		return error_set_line(err, ENOENT, hostcfg_host_name(c, base), 0,
				      "no backup to revert");
	if (r < 0)
		return fail_file(err, r, hostcfg_host_name(c, base));
	remove_partials(base);
	nd = scandir(base, &list, NULL, alphasort);
	if (nd < 0)
		return fail_file(err, negative_errno(), hostcfg_host_name(c, base));
	for (int i = 0; i < nd; i++) {
		if (isdigit((unsigned char)list[i]->d_name[0])) {
			free(newest);
			newest = strdup(list[i]->d_name);
		}
		free(list[i]);
	}
	free(list);
	if (!newest)
		return error_set_line(err, ENOENT, hostcfg_host_name(c, base), 0,
				      "no backup to revert");
	dir = path_join(base, newest);
	mpath = dir ? path_join(dir, "manifest") : NULL;
	if (!mpath)
		return -ENOMEM;
	mname = hostcfg_host_name(c, mpath);
	r = read_full_file(mpath, HOSTCFG_FILE_MAX, &buf, &len);
	/* a backup directory without its manifest is damaged, not absent (-ENOENT) */
	if (r == -ENOENT)
		return error_set_line(err, EBADMSG, mname, 0, "missing");
	if (r < 0)
		return fail_file(err, r, mname);
	/* the whole length: a NUL byte must not hide the lines after it */
	r = lines_split(buf, len, &lines, err);
	if (r == -EINVAL)
		return error_set_line(err, EBADMSG, mname, err ? err->line : 0,
				      "binary data (a NUL byte) in the manifest");
	if (r < 0)
		return r;

	items = calloc(strv_length(lines) + 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; lines[i]; i++) {
		if (startswith(lines[i], "undo "))
			r = parse_undo(lines[i], &undo);
		else
			r = parse_line(lines[i], items, &n, dir);
		if (r == -EBADMSG)
			r = error_set_line(
			    err, EBADMSG, mname, (unsigned)i + 1,
			    "expected 'saved MODE NAME', 'absent NAME', 'mkdir NAME', 'owner "
			    "UID:GID "
			    "NAME' or 'wrote LEN:HASH NAME' with NAME an absolute path without . "
			    "or "
			    ".. (owner and wrote after the file's saved or absent line), or one "
			    "'undo grubby|kernelstub PATH PARAM...'");
		else if (r == -ENODATA) {
			/* not "no backup" (-ENOENT): this one is incomplete */
			_cleanup_free_ char *b = path_join(dir, strchr(lines[i] + 6, ' ') + 1);

			r = error_set_line(err, EBADMSG, mname, (unsigned)i + 1,
					   "the saved copy %s is missing",
					   b ? hostcfg_host_name(c, b) : "");
		} else if (r < 0 && r != -ENOMEM)
			(void)fail_file(err, r, mname);
		if (r < 0)
			goto out;
	}

	/* the user's edits since the apply are not thrown away without a word */
	changed = strv_new_empty();
	if (!changed) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL, *t = NULL;

		if (items[i].dir)
			continue;
		p = strdup_printf("%s%s", c->root, items[i].name);
		r = p ? hostcfg_resolve(c->root, p, &t) : -ENOMEM;
		if (r < 0)
			goto out;
		if (changed_since(t, &items[i]) && (r = strv_extend(&changed, items[i].name)) < 0)
			goto out;
	}
	if (changed[0]) {
		_cleanup_free_ char *others = strv_join(changed + 1, ", ");

		r = error_set_line(
		    err, ESTALE, changed[0], 0,
		    "changed since gpurun host-config --apply wrote it%s%s%s; nothing "
		    "restored (the edit would be lost). What was there before the "
		    "apply is in %s: copy it back by hand, or undo the edit and run "
		    "--revert again",
		    changed[1] ? " (and so did " : "", changed[1] ? strempty(others) : "",
		    changed[1] ? ")" : "", hostcfg_host_name(c, dir));
		goto out;
	}

	/* the boot tool first: what it added to the entries comes out (a no-op for what it did
	 * not add, so a second --revert can repeat it) */
	if (undo.tool != HOSTCFG_TOOL_NONE) {
		_cleanup_free_ char *p = strdup_printf("%s%s", c->root, undo.path);

		r = p ? run_tool(c, undo.tool, p, undo.params, true, NULL, err) : -ENOMEM;
		if (r == -ENOMEM)
			goto out;
		if (r < 0)
			first_err = r;
		else if ((r = strv_extendf(&files, "the boot entries (%s %s)", undo.path,
					   tools_run(c) ? "ran" : "skipped: --root is not /")) < 0)
			goto out;
	}

	/* keep going past a failing file: restore as much as possible */
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL, *t = NULL;

		if (items[i].dir)
			continue;
		p = strdup_printf("%s%s", c->root, items[i].name);
		r = p ? hostcfg_resolve(c->root, p, &t) : -ENOMEM;
		if (r >= 0)
			r = restore_one(t, items[i].content, items[i].len, items[i].mode,
					items[i].uid, items[i].gid);
		if (r == -ENOMEM)
			goto out;
		if (r < 0 && !first_err)
			first_err = fail_file(err, r, items[i].name);
		if (r >= 0 &&
		    (r = strv_extendf(
			 &files, "%s%s", items[i].name,
			 items[i].content ? "" : " (removed: it did not exist before)")) < 0)
			goto out;
	}
	/* directories created by the apply, innermost first; still-used ones stay */
	for (size_t i = n; i-- > 0;) {
		_cleanup_free_ char *p = NULL;

		if (!items[i].dir)
			continue;
		if (asprintf(&p, "%s%s", c->root, items[i].name) < 0) {
			r = -ENOMEM;
			goto out;
		}
		/* one that is still used stays; any other failure keeps the backup for
		 * another try */
		if (rmdir(p) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST &&
		    !first_err)
			first_err = fail_file(err, negative_errno(), items[i].name);
	}
	r = first_err;
	if (r < 0)
		goto out;
	if (asprintf(&done, "%s/reverted-%s", base, newest) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (rename(dir, done) < 0) {
		r = fail_file(err, negative_errno(), hostcfg_host_name(c, dir));
		goto out;
	}
	if (ret_backup)
		*ret_backup = TAKE_PTR(dir);
	if (ret_files)
		*ret_files = TAKE_PTR(files);
	r = 0;
out:
	restore_items_free(items, n + 1);
	free(undo.path);
	strv_free(undo.params);
	return r;
}

int backup_revert(struct ctx *c, char **ret_backup, char ***ret_files, struct error *err)
{
	return error_set_errno(err, revert(c, ret_backup, ret_files, err));
}
