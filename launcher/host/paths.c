/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the planner's inputs live on the host: state and ROM directories from the ctx roots,
 * the OVMF files a distribution installed, the libvirt templates. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/plan.h"
#include "host/ctx.h"
#include "host/hostfs.h"
#include "host/paths.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/strutil.h"
#include "util/strv.h"

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

int paths_load_template(const char *templates_dir, const char *name, char **ret_buf,
			size_t *ret_len, struct error *err)
{
	_cleanup_free_ char *path = NULL, *file = NULL;
	int r;

	if (!name)
		name = "linux";
	if (strchr(name, '/'))
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
