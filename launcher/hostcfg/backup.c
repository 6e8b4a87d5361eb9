/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/ctx.h"
#include "host/hostfs.h"
#include "hostcfg/backup.h"
#include "util/fileio.h"
#include "util/lines.h"
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

static int restore_one(const char *path, const char *content, size_t len, mode_t mode)
{
	int r;

	if (!content) {
		if (unlink(path) < 0 && errno != ENOENT)
			return negative_errno();
		return 0;
	}
	r = mkdir_parent(path, 0755);
	if (r < 0)
		return r;
	return hostfs_write_atomic(path, content, len, mode);
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

static int apply(struct ctx *c, struct hostcfg *cfg, char **ret_backup, struct error *err)
{
	_cleanup_free_ char *base = NULL, *dir = NULL, *manifest = NULL, *mpath = NULL;
	_cleanup_strv_free_ char **created = NULL;
	size_t mlen = 0;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *m;
	int r;

	r = base_dir(c, &base);
	if (r < 0)
		return r;
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
	r = hostfs_mkdir_p(dir, 0700);
	if (r < 0)
		return r;

	r = missing_dirs(cfg, &created);
	if (r < 0) {
		rm_rf(dir);
		return r;
	}
	m = open_memstream(&manifest, &mlen);
	if (!m) {
		rm_rf(dir);
		return -ENOMEM;
	}
	for (char **i = created; *i; i++)
		fprintf(m, "mkdir %s\n", hostcfg_host_name(c, *i));
	for (size_t i = 0; i < cfg->n_files; i++) {
		struct hostcfg_file *f = &cfg->files[i];
		_cleanup_free_ char *b = NULL;

		if (!f->new)
			continue;
		if (!f->old) {
			fprintf(m, "absent %s\n", f->name);
			continue;
		}
		fprintf(m, "saved %04o %s\n", (unsigned)f->mode, f->name);
		b = path_join(dir, f->name);
		r = b ? mkdir_parent(b, 0700) : -ENOMEM;
		if (r >= 0)
			r = hostfs_write_atomic(b, f->old, f->old_len, f->mode);
		if (r < 0) {
			fclose(m);
			rm_rf(dir);
			return r;
		}
	}
	if (fclose(m) != 0) {
		rm_rf(dir);
		return -ENOMEM;
	}
	mpath = path_join(dir, "manifest");
	r = mpath ? hostfs_write_atomic(mpath, manifest, mlen, 0600) : -ENOMEM;
	if (r < 0) {
		rm_rf(dir);
		return r;
	}

	for (size_t i = 0; i < cfg->n_files; i++) {
		struct hostcfg_file *f = &cfg->files[i];

		if (!f->new)
			continue;
		r = mkdir_parent(f->path, 0755);
		if (r >= 0)
			r = hostfs_write_atomic(f->path, f->new, f->new_len, f->mode);
		if (r < 0) {
			(void)fail_file(err, r, f->name);
			/* all or nothing: put back what was already written */
			for (size_t j = 0; j < i; j++)
				if (cfg->files[j].new)
					(void)restore_one(cfg->files[j].path, cfg->files[j].old,
							  cfg->files[j].old_len,
							  cfg->files[j].mode);
			for (size_t k = strv_length(created); k-- > 0;)
				(void)rmdir(created[k]);
			rm_rf(dir);
			return r;
		}
	}
	if (ret_backup)
		*ret_backup = TAKE_PTR(dir);
	return 0;
}

int backup_apply(struct ctx *c, struct hostcfg *cfg, char **ret_backup, struct error *err)
{
	return error_set_errno(err, apply(c, cfg, ret_backup, err));
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
};

static void restore_items_free(struct restore_item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(it[i].name);
		free(it[i].content);
	}
	free(it);
}

static int revert(struct ctx *c, char **ret_backup, char ***ret_files, struct error *err)
{
	_cleanup_free_ char *base = NULL, *newest = NULL, *dir = NULL, *mpath = NULL, *buf = NULL;
	_cleanup_free_ char *done = NULL;
	_cleanup_strv_free_ char **lines = NULL, **files = strv_new_empty();
	struct restore_item *items = NULL;
	size_t n = 0, len = 0;
	struct dirent **list = NULL;
	const char *mname;
	int nd, r, first_err = 0;

	if (!files)
		return -ENOMEM;
	r = base_dir(c, &base);
	if (r < 0)
		return r;
	nd = scandir(base, &list, NULL, alphasort);
	if (nd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return error_set_line(err, ENOENT, hostcfg_host_name(c, base), 0,
				      "no backup to revert");
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
		struct restore_item *it = &items[n];
		const char *l = lines[i], *name = NULL;
		unsigned long mode = 0;
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
		} else if (!*l)
			continue;
		if (!name || !name_ok(name)) {
			r = error_set_line(
			    err, EBADMSG, mname, (unsigned)i + 1,
			    "expected 'saved MODE NAME', 'absent NAME' or 'mkdir NAME' "
			    "with NAME an absolute path without . or ..");
			goto out;
		}
		if (startswith(l, "saved ")) {
			_cleanup_free_ char *b = path_join(dir, name);

			r = b ? read_full_file(b, HOSTCFG_FILE_MAX, &it->content, &it->len)
			      : -ENOMEM;
			/* not "no backup" (-ENOENT): this one is incomplete */
			if (r == -ENOENT)
				r = error_set_line(err, EBADMSG, mname, (unsigned)i + 1,
						   "the saved copy %s is missing",
						   hostcfg_host_name(c, b));
			else if (r < 0 && b)
				(void)fail_file(err, r, hostcfg_host_name(c, b));
			if (r < 0)
				goto out;
		}
		it->mode = (mode_t)mode;
		it->name = strdup(name);
		n++;
		if (!it->name) {
			r = -ENOMEM;
			goto out;
		}
	}

	/* keep going past a failing file: restore as much as possible */
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, "%s%s", c->root, items[i].name) < 0) {
			r = -ENOMEM;
			goto out;
		}
		if (items[i].dir)
			continue;
		r = restore_one(p, items[i].content, items[i].len, items[i].mode);
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
		(void)rmdir(p);
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
	return r;
}

int backup_revert(struct ctx *c, char **ret_backup, char ***ret_files, struct error *err)
{
	return error_set_errno(err, revert(c, ret_backup, ret_files, err));
}
