/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A test helper that makes a COPY of a fixture host tree behave like sysfs for driver binding:
 *
 *   fake-kernel ROOT [--refuse BDF]... [--hold BDF]... [--delay MS]
 *
 * It watches ROOT/sys with inotify and reacts to writes the way the kernel does:
 *   bus/pci/drivers_probe  BDF  unbound BDF binds to its driver_override, or, when that is empty,
 *                               to its native driver (the one bound in the initial tree), when
 *                               that driver's directory exists (its module is loaded);
 *   bus/pci/drivers/X/unbind BDF  the driver link of BDF (bound to X) is removed;
 *   bus/pci/drivers/X/bind BDF    an unbound BDF binds to X;
 *   devices/BDF/driver_override   a blank write reads back "(null)", as in sysfs;
 *   bus/platform/drivers/X/unbind DEV  the driver link of platform device DEV (bound to X) is
 *                               removed (efi-framebuffer.0 let go of by efi-framebuffer);
 *   bus/platform/drivers/X/bind DEV    an unbound platform device DEV binds to X.
 * Attribute files are truncated after handling. When every member of IOMMU group N is bound to
 * vfio-pci, ROOT/dev/vfio/N exists; otherwise it is removed. --refuse BDF makes vfio-pci fail
 * to probe BDF (it stays unbound), like a device the driver rejects; --hold BDF makes its driver
 * never let go of BDF (an unbind is ignored), like amdgpu while a process keeps its DRM nodes
 * open; --delay MS makes every probe
 * take that long (a slow driver). "ready" on stdout once the
 * watches are set; SIGTERM ends it. Never point it at the real /sys. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>

#include "host/hostfs.h"
#include "util/macro.h"

struct fdev {
	char bdf[256];
	char *dir;    /* real path */
	char *rel;    /* real path relative to sys */
	char *native; /* driver in the initial tree, or NULL */
	int group;
};

static char *sys_dir, *dev_dir;
static struct fdev devs[256];
static size_t n_devs;
static char *refused[16];
static size_t n_refused;
static char *held[16];
static size_t n_held;
static int ino;
static unsigned delay_ms;

enum wkind { W_PCI, W_DRIVER, W_DEVICE, W_PLATFORM };
struct watch {
	int wd;
	enum wkind kind;
	char *name; /* driver name, or device bdf */
};
static struct watch watches[512];
static size_t n_watches;

static void die(const char *what)
{
	fprintf(stderr, "fake-kernel: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void add_watch(const char *path, enum wkind k, const char *name)
{
	int wd = inotify_add_watch(ino, path, IN_CLOSE_WRITE);

	if (wd < 0)
		die(path);
	if (n_watches >= ELEMENTSOF(watches))
		die("too many watches");
	watches[n_watches++] = (struct watch){ wd, k, strdup(name) };
}

static struct fdev *find_dev(const char *bdf)
{
	for (size_t i = 0; i < n_devs; i++)
		if (streq(devs[i].bdf, bdf))
			return &devs[i];
	return NULL;
}

static char *attr(const char *dir, const char *name)
{
	char *p = path_join(dir, name);

	if (!p)
		die("path");
	return p;
}

static char *read_value(const char *path)
{
	char *s = NULL;

	if (hostfs_read_line(path, &s) < 0)
		return strdup("");
	return s;
}

static char *current_driver(struct fdev *d)
{
	_cleanup_free_ char *p = attr(d->dir, "driver");
	char *s = NULL;

	if (hostfs_readlink_base(p, &s) < 0)
		return NULL;
	return s;
}

static void touch(const char *dir, const char *name)
{
	_cleanup_free_ char *p = attr(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0200);

	if (fd >= 0)
		close(fd);
}

static char *driver_dir(const char *drv)
{
	char *p = path_join(sys_dir, "bus/pci/drivers", drv);

	if (!p)
		die("path");
	if (!hostfs_is_dir(p)) {
		if (mkdir(p, 0755) < 0)
			die(p);
		touch(p, "bind");
		touch(p, "unbind");
		touch(p, "new_id");
		touch(p, "remove_id");
		add_watch(p, W_DRIVER, drv);
	}
	return p;
}

static bool all_vfio(int group)
{
	bool any = false;

	for (size_t i = 0; i < n_devs; i++) {
		_cleanup_free_ char *drv = NULL;

		if (devs[i].group != group)
			continue;
		drv = current_driver(&devs[i]);
		/* as the kernel's vfio: a bridge on pcieport does not break a group's viability */
		if (streq_ptr(drv, "pcieport"))
			continue;
		if (!streq_ptr(drv, "vfio-pci"))
			return false;
		any = true;
	}
	return any;
}

static void update_groups(void)
{
	_cleanup_free_ char *vdir = path_join(dev_dir, "vfio");

	(void)mkdir(vdir, 0755);
	for (size_t i = 0; i < n_devs; i++) {
		char p[PATH_MAX];

		if (devs[i].group < 0)
			continue;
		snprintf(p, sizeof(p), "%s/%d", vdir, devs[i].group);
		if (all_vfio(devs[i].group)) {
			int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

			if (fd >= 0)
				close(fd);
		} else
			(void)unlink(p);
	}
}

static void do_unbind(struct fdev *d)
{
	_cleanup_free_ char *drv = current_driver(d), *link = attr(d->dir, "driver"), *back = NULL;

	if (!drv)
		return;
	back = path_join(sys_dir, "bus/pci/drivers", drv, d->bdf);
	(void)unlink(link);
	if (back)
		(void)unlink(back);
	fprintf(stderr, "fake-kernel: %s unbound from %s\n", d->bdf, drv);
	update_groups();
}

static void do_bind(struct fdev *d, const char *drv)
{
	_cleanup_free_ char *ddir = driver_dir(drv), *link = attr(d->dir, "driver"), *target = NULL,
			    *back = NULL, *back_target = NULL;
	size_t depth = 1;

	for (const char *p = d->rel; *p; p++)
		depth += *p == '/';
	target = calloc(1, depth * 3 + strlen("bus/pci/drivers/") + strlen(drv) + 1);
	if (!target)
		die("alloc");
	for (size_t i = 0; i < depth; i++)
		strcat(target, "../");
	strcat(target, "bus/pci/drivers/");
	strcat(target, drv);
	if (symlink(target, link) < 0)
		die(link);
	back = attr(ddir, d->bdf);
	if (asprintf(&back_target, "../../../../%s", d->rel) < 0)
		die("alloc");
	(void)symlink(back_target, back);
	fprintf(stderr, "fake-kernel: %s bound to %s\n", d->bdf, drv);
	update_groups();
}

static bool is_listed(char *const *l, size_t n, const char *bdf)
{
	for (size_t i = 0; i < n; i++)
		if (streq(l[i], bdf))
			return true;
	return false;
}

static bool is_refused(const char *bdf)
{
	return is_listed(refused, n_refused, bdf);
}

static void probe(const char *bdf)
{
	struct fdev *d = find_dev(bdf);
	_cleanup_free_ char *drv = NULL, *ovp = NULL, *ov = NULL;
	const char *want;

	if (!d)
		return;
	drv = current_driver(d);
	if (drv)
		return;
	ovp = attr(d->dir, "driver_override");
	ov = read_value(ovp);
	want = *ov && !streq(ov, "(null)") ? ov : d->native;
	if (!want)
		return;
	if (delay_ms) {
		struct timespec ts = { delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (streq(want, "vfio-pci") && is_refused(bdf)) {
		fprintf(stderr, "fake-kernel: vfio-pci refuses %s\n", bdf);
		return;
	}
	{
		/* a host driver whose module is not loaded (its directory gone): nothing binds
		 * (vfio-pci's directory comes with its first bind here) */
		_cleanup_free_ char *dd = path_join(sys_dir, "bus/pci/drivers", want);

		if (!streq(want, "vfio-pci") && dd && !hostfs_is_dir(dd)) {
			fprintf(stderr, "fake-kernel: no driver %s to probe %s\n", want, bdf);
			return;
		}
	}
	do_bind(d, want);
}

/* A platform driver's bind/unbind: the device's driver link comes and goes. */
static void platform_request(const struct watch *w, const char *name)
{
	_cleanup_free_ char *path = path_join(sys_dir, "bus/platform/drivers", w->name, name),
			    *value = NULL, *dlink = NULL, *dir = NULL, *realsys = NULL,
			    *link = NULL, *cur = NULL, *target = NULL;
	size_t depth = 1;

	if (!path)
		die("path");
	value = read_value(path);
	(void)truncate(path, 0);
	if (!*value || strchr(value, '/'))
		return;
	dlink = path_join(sys_dir, "bus/platform/devices", value);
	dir = dlink ? realpath(dlink, NULL) : NULL;
	realsys = realpath(sys_dir, NULL);
	if (!dir || !realsys || !startswith(dir, realsys))
		return;
	link = attr(dir, "driver");
	(void)hostfs_readlink_base(link, &cur);
	if (streq(name, "unbind")) {
		if (streq_ptr(cur, w->name)) {
			(void)unlink(link);
			fprintf(stderr, "fake-kernel: %s unbound from %s\n", value, w->name);
		}
		return;
	}
	if (cur)
		return;
	for (const char *p = dir + strlen(realsys) + 1; *p; p++)
		depth += *p == '/';
	target = calloc(1, depth * 3 + strlen("bus/platform/drivers/") + strlen(w->name) + 1);
	if (!target)
		die("alloc");
	for (size_t i = 0; i < depth; i++)
		strcat(target, "../");
	strcat(target, "bus/platform/drivers/");
	strcat(target, w->name);
	if (symlink(target, link) < 0)
		die(link);
	fprintf(stderr, "fake-kernel: %s bound to %s\n", value, w->name);
}

static void handle(const struct watch *w, const char *name)
{
	_cleanup_free_ char *path = NULL, *value = NULL;
	struct fdev *d;

	switch (w->kind) {
	case W_PCI:
		if (!streq(name, "drivers_probe"))
			return;
		path = path_join(sys_dir, "bus/pci/drivers_probe");
		value = read_value(path);
		(void)truncate(path, 0);
		probe(value);
		return;
	case W_DRIVER:
		if (!streq(name, "unbind") && !streq(name, "bind"))
			return;
		path = path_join(sys_dir, "bus/pci/drivers", w->name, name);
		value = read_value(path);
		(void)truncate(path, 0);
		d = find_dev(value);
		if (!d)
			return;
		if (streq(name, "unbind")) {
			_cleanup_free_ char *drv = current_driver(d);

			if (streq_ptr(drv, w->name) && is_listed(held, n_held, d->bdf))
				fprintf(stderr, "fake-kernel: %s holds on to %s\n", w->name,
					d->bdf);
			else if (streq_ptr(drv, w->name))
				do_unbind(d);
		} else {
			_cleanup_free_ char *drv = current_driver(d);

			if (!drv)
				do_bind(d, w->name);
		}
		return;
	case W_PLATFORM:
		if (streq(name, "unbind") || streq(name, "bind"))
			platform_request(w, name);
		return;
	case W_DEVICE:
		if (!streq(name, "driver_override"))
			return;
		d = find_dev(w->name);
		if (!d)
			return;
		path = attr(d->dir, "driver_override");
		value = read_value(path);
		if (!*value) {
			int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

			if (fd >= 0) {
				if (write(fd, "(null)\n", 7) < 0)
					fprintf(stderr, "fake-kernel: %s: %m\n", path);
				close(fd);
			}
		}
		return;
	}
}

static void scan(void)
{
	_cleanup_free_ char *pdir = path_join(sys_dir, "bus/pci/devices"),
			    *drivers = path_join(sys_dir, "bus/pci/drivers"),
			    *realsys = realpath(sys_dir, NULL);
	DIR *dir;
	struct dirent *de;

	if (!pdir || !drivers || !realsys)
		die("scan");
	dir = opendir(pdir);
	if (!dir)
		die(pdir);
	while ((de = readdir(dir)) && n_devs < ELEMENTSOF(devs)) {
		struct fdev *d = &devs[n_devs];
		_cleanup_free_ char *link = NULL, *grp = NULL, *gl = NULL;

		if (de->d_name[0] == '.')
			continue;
		snprintf(d->bdf, sizeof(d->bdf), "%s", de->d_name);
		link = path_join(pdir, de->d_name);
		d->dir = realpath(link, NULL);
		if (!d->dir || !startswith(d->dir, realsys))
			die("device path");
		d->rel = strdup(d->dir + strlen(realsys) + 1);
		d->native = current_driver(d);
		gl = attr(d->dir, "iommu_group");
		d->group = hostfs_readlink_base(gl, &grp) >= 0 ? atoi(grp) : -1;
		add_watch(d->dir, W_DEVICE, d->bdf);
		n_devs++;
	}
	closedir(dir);
	dir = opendir(drivers);
	if (!dir)
		die(drivers);
	while ((de = readdir(dir))) {
		_cleanup_free_ char *p = NULL;

		if (de->d_name[0] == '.')
			continue;
		p = path_join(drivers, de->d_name);
		if (hostfs_is_dir(p))
			add_watch(p, W_DRIVER, de->d_name);
	}
	closedir(dir);
	free(drivers);
	drivers = path_join(sys_dir, "bus/platform/drivers");
	if (!drivers)
		die("path");
	dir = opendir(drivers);
	while (dir && (de = readdir(dir))) {
		_cleanup_free_ char *p = NULL;

		if (de->d_name[0] == '.')
			continue;
		p = path_join(drivers, de->d_name);
		if (hostfs_is_dir(p))
			add_watch(p, W_PLATFORM, de->d_name);
	}
	if (dir)
		closedir(dir);
	free(pdir);
	pdir = path_join(sys_dir, "bus/pci");
	add_watch(pdir, W_PCI, "pci");
}

int main(int argc, char **argv)
{
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (argc < 2 || streq(argv[1], "/")) {
		fprintf(stderr,
			"usage: fake-kernel ROOT [--refuse BDF]...  (a copy of a fixture)\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2)
		if (streq(argv[i], "--refuse") && n_refused < ELEMENTSOF(refused))
			refused[n_refused++] = argv[i + 1];
		else if (streq(argv[i], "--hold") && n_held < ELEMENTSOF(held))
			held[n_held++] = argv[i + 1];
		else if (streq(argv[i], "--delay"))
			delay_ms = (unsigned)atoi(argv[i + 1]);
	sys_dir = path_join(argv[1], "sys");
	dev_dir = path_join(argv[1], "dev");
	if (!sys_dir || !dev_dir)
		die("alloc");
	ino = inotify_init1(IN_CLOEXEC);
	if (ino < 0)
		die("inotify_init1");
	scan();
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = read(ino, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			for (size_t i = 0; i < n_watches; i++)
				if (watches[i].wd == ev->wd && ev->len)
					handle(&watches[i], ev->name);
			p += sizeof(*ev) + ev->len;
		}
	}
}
