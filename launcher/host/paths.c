/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the planner's inputs live on the host: state and ROM directories from the ctx roots,
 * the OVMF files a distribution installed, the libvirt templates. */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/firmware.h"
#include "core/plan.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/paths.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/strutil.h"
#include "util/strv.h"

/* A descriptor larger than this is not one (Debian's are under 1 KiB). */
#define FIRMWARE_DESCRIPTOR_MAX (64 * 1024)

struct fw_files {
	struct firmware_file *files;
	char **bufs; /* owned, parallel to files */
	size_t n;
};

static void fw_files_done(struct fw_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free((char *)f->files[i].name);
		free(f->bufs[i]);
	}
	free(f->files);
	free(f->bufs);
	*f = (struct fw_files){};
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d); /* glibc's opendir() opens with O_CLOEXEC */
}

/* Every *.json in @dir (missing: none). A file that cannot be read is taken as absent. */
static int fw_files_read_dir(struct fw_files *f, const char *dir, unsigned prio)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL, *buf = NULL, *name = NULL;
		struct firmware_file *nf;
		char **nb;
		size_t len, n = strlen(de->d_name);

		if (de->d_name[0] == '.' || n <= 5 || !streq(de->d_name + n - 5, ".json"))
			continue;
		path = path_join(dir, de->d_name);
		if (!path)
			return -ENOMEM;
		if (read_full_file(path, FIRMWARE_DESCRIPTOR_MAX, &buf, &len) < 0)
			continue;
		name = strdup(de->d_name);
		nf = realloc(f->files, (f->n + 1) * sizeof(*nf));
		if (nf)
			f->files = nf;
		nb = realloc(f->bufs, (f->n + 1) * sizeof(*nb));
		if (nb)
			f->bufs = nb;
		if (!name || !nf || !nb)
			return -ENOMEM;
		f->files[f->n] = (struct firmware_file){
			.name = TAKE_PTR(name), .buf = buf, .len = len, .dir_priority = prio
		};
		f->bufs[f->n++] = TAKE_PTR(buf);
	}
	return 0;
}

/* Prefix each descriptor's files with the root and note which exist. */
static int fw_resolve(struct ctx *c, struct plan_paths *p)
{
	p->firmware_files = calloc(1, sizeof(char *));
	if (!p->firmware_files)
		return -ENOMEM;
	for (size_t i = 0; i < p->firmware.n_descs; i++) {
		struct firmware_descriptor *d = p->firmware.descs[i];
		char **files[] = { &d->executable, &d->nvram_template };

		for (size_t j = 0; j < ELEMENTSOF(files); j++) {
			char *full;

			/* relative names mean nothing to QEMU here: never usable */
			if (!*files[j] || (*files[j])[0] != '/')
				continue;
			full = strdup_printf("%s%s", c->root, *files[j]);
			if (!full)
				return -ENOMEM;
			free(*files[j]);
			*files[j] = full;
			if (hostfs_exists(full) && !strv_contains(p->firmware_files, full) &&
			    strv_extend(&p->firmware_files, full) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int fw_load(struct ctx *c, struct plan_paths *p)
{
	_cleanup_free_ char *etc_dir = path_join(c->etc, "qemu/firmware"),
			    *share_dir = path_join(c->usr_share, "qemu/firmware");
	struct fw_files f = {};
	int r;

	if (!etc_dir || !share_dir)
		return -ENOMEM;
	p->firmware_dirs = strdup_printf("%s, %s", etc_dir, share_dir);
	if (!p->firmware_dirs)
		return -ENOMEM;
	r = fw_files_read_dir(&f, etc_dir, 0);
	if (r >= 0)
		r = fw_files_read_dir(&f, share_dir, 1);
	if (r >= 0)
		r = firmware_set_load(f.files, f.n, &p->firmware);
	fw_files_done(&f);
	if (r < 0)
		return r;
	return fw_resolve(c, p);
}

int plan_paths_from_ctx(struct ctx *c, struct plan_paths *ret)
{
	struct plan_paths p = {};
	char *slash;
	int r = -ENOMEM;

	p.rom_dir = strdup(c->rom_dir);
	p.pve_rom_dir = strdup(c->pve_rom_dir);
	p.state_dir = strdup(c->state);
	p.usr_share = strdup(c->usr_share);
	p.vars_dir = strdup(c->rom_dir);
	p.ovmf_files = calloc(1, sizeof(char *));
	if (!p.rom_dir || !p.pve_rom_dir || !p.state_dir || !p.usr_share || !p.vars_dir ||
	    !p.ovmf_files)
		goto fail;
	/* the vars live next to the staged ROMs: ROOT/var/lib/gpurun/{roms,vars} */
	slash = strrchr(p.vars_dir, '/');
	if (slash)
		*slash = '\0';
	{
		char *v = path_join(p.vars_dir, "vars");

		if (!v)
			goto fail;
		free(p.vars_dir);
		p.vars_dir = v;
	}
	for (size_t i = 0; i < plan_n_ovmf_pairs; i++) {
		const char *files[] = { plan_ovmf_pairs[i].code, plan_ovmf_pairs[i].vars };

		for (size_t j = 0; j < ELEMENTSOF(files); j++) {
			_cleanup_free_ char *full = path_join(c->usr_share, files[j]);

			if (!full)
				goto fail;
			if (hostfs_exists(full) && !strv_contains(p.ovmf_files, files[j])) {
				r = strv_extend(&p.ovmf_files, files[j]);
				if (r < 0)
					goto fail;
			}
		}
	}
	r = fw_load(c, &p);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	plan_paths_done(&p);
	return r < 0 ? r : -ENOMEM;
}
char *paths_templates_dir(void)
{
	const char *env = secure_getenv("GPURUN_DATADIR");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return path_join(env, "xml-templates");
	/* From the source tree: build/gpurun next to xml-templates/. /proc/self is this
	 * process, not a host path, so it is not taken from the ctx roots. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash, *cand;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			cand = path_join(exe, "..", "xml-templates");
			if (!cand)
				return NULL;
			if (hostfs_is_dir(cand)) {
				_cleanup_free_ char *marker = path_join(cand, "linux.xml");

				if (marker && hostfs_exists(marker))
					return cand;
			}
			free(cand);
		}
	}
	return strdup(GPURUN_DATADIR "/xml-templates");
}

int paths_load_template(const struct ctx *c, const char *templates_dir, const char *name,
			char **ret_buf, size_t *ret_len, struct error *err)
{
	_cleanup_free_ char *path = NULL, *file = NULL;
	int r;

	if (!name)
		name = "linux";
	/* the profile's own file: under --root like its vbios, nvram and disks */
	if (c && name[0] == '/')
		path = paths_profile_file(c, name);
	else if (strchr(name, '/'))
		path = strdup(name);
	else if ((file = strdup_printf("%s.xml", name)))
		path = path_join(templates_dir, file);
	if (!path)
		return error_set(err, ENOMEM, "%s", strerror(ENOMEM));
	r = read_full_file(path, PATHS_TEMPLATE_MAX, ret_buf, ret_len);
	if (r < 0)
		return error_set_line(err, r, path, 0, "%s", strerror(-r));
	return 0;
}

char *paths_profile_file(const struct ctx *c, const char *path)
{
	_cleanup_free_ char *full = NULL;

	if (!c->root[0])
		return strdup(path);
	full = strdup_printf("%s%s", c->root, path);
	if (!full || hostfs_exists(full))
		return TAKE_PTR(full);
	return strdup(path);
}
