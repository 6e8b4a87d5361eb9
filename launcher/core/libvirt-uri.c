/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/uri.h>

#include "core/libvirt-uri.h"
#include "util/error.h"
#include "util/macro.h"

/* libvirt's transports (src/remote/remote_driver.c); "unix" is the only one that cannot leave
 * this machine. */
static const char *const remote_transports[] = { "ssh", "libssh", "libssh2", "tcp", "tls", "ext" };

/* Whether @path (a socket= value, unescaped) is one of this machine's libvirt daemon sockets:
 * a plain path under /run/libvirt/ or /var/run/libvirt/ (system), or /run/user/UID/libvirt/
 * (session). Any other socket may be an ssh-forwarded one that ends on another machine. */
static bool daemon_socket(const char *path)
{
	static const char *const dirs[] = { "/run/libvirt/", "/var/run/libvirt/" };
	const char *rest = NULL;

	if (strstr(path, "/../") || strstr(path, "/./") || strstr(path, "//"))
		return false;
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			rest = path + strlen(dirs[i]);
	if (!rest && strncmp(path, "/run/user/", 10) == 0) {
		const char *p = path + 10;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p > path + 10 && strncmp(p, "/libvirt/", 9) == 0)
			rest = p + 9;
	}
	return rest && *rest && !strchr(rest, '/');
}

/* Whether the query of @u has a socket= parameter that is not a daemon socket of this machine
 * (see daemon_socket()); -ENOMEM. */
static int foreign_socket(xmlURIPtr u)
{
	const char *q = u->query_raw ? u->query_raw : u->query;

	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);

		if (n >= 7 && strncmp(q, "socket=", 7) == 0) {
			char *v = xmlURIUnescapeString(q + 7, (int)(n - 7), NULL);
			bool local;

			if (!v)
				return -ENOMEM;
			local = daemon_socket(v);
			xmlFree(v);
			if (!local)
				return 1;
		}
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}

static bool has_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return true;
	return false;
}

static bool valid_driver(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

int libvirt_uri_is_remote(const char *uri, struct error *err)
{
	static const char examples[] =
	    "qemu:///system, qemu+ssh://host/system, qemu+tcp://host:16509/system";
	const char *plus;
	xmlURIPtr u;
	size_t n;
	int r;

	if (!uri || !*uri)
		return error_set(err, EINVAL, "an empty libvirt URI (e.g. %s)", examples);
	if (strpbrk(uri, " \t\r\n"))
		return error_set(err, EINVAL, "'%s' is not a libvirt URI: it contains whitespace",
				 uri);
	u = xmlParseURI(uri);
	if (!u)
		return error_set(err, EINVAL, "'%s' is not a libvirt URI (e.g. %s)", uri, examples);
	if (!u->scheme || !*u->scheme) {
		r = error_set(err, EINVAL, "'%s' is not a libvirt URI: no driver scheme (e.g. %s)",
			      uri, examples);
		goto out;
	}
	plus = strchr(u->scheme, '+');
	n = plus ? (size_t)(plus - u->scheme) : strlen(u->scheme);
	if (has_upper(u->scheme)) {
		_cleanup_free_ char *lower = strdup(u->scheme);

		for (char *c = lower; c && *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		r = error_set(err, EINVAL,
			      "'%s' is not a libvirt URI: libvirt's driver and transport names are "
			      "lower case ('%s')",
			      uri, strna(lower));
		goto out;
	}
	if (!valid_driver(u->scheme, n)) {
		r = error_set(err, EINVAL, "'%s' is not a libvirt URI: bad driver name in '%s'",
			      uri, u->scheme);
		goto out;
	}
	if (plus && !streq(plus + 1, "unix")) {
		bool known = false;

		for (size_t i = 0; i < ELEMENTSOF(remote_transports); i++)
			known = known || streq(plus + 1, remote_transports[i]);
		if (!known) {
			r = error_set(
			    err, EINVAL,
			    "'%s' is not a libvirt URI: unknown transport '%s' (unix, ssh, "
			    "libssh, libssh2, tcp, tls, ext)",
			    uri, plus + 1);
			goto out;
		}
		r = 1;
		goto out;
	}
	/* no transport, or unix: this machine's daemon, unless the URI has an authority at all:
	 * "qemu://%00/system" or "qemu://user@/system" name no host libxml2 can show, and are
	 * not this machine's daemon either */
	{
		const char *auth = strstr(uri, "://");

		r = (u->server && *u->server) || u->user || u->port > 0 ||
			    (auth && auth[3] && auth[3] != '/')
			? 1
			: 0;
	}
	/* a socket of its own may be a forwarded one (ssh -L SOCKET:/run/libvirt/...): only
	 * this machine's daemon sockets are local */
	if (r == 0) {
		r = foreign_socket(u);
		if (r < 0)
			r = error_set(err, ENOMEM, "Out of memory");
	}
out:
	xmlFreeURI(u);
	return r;
}
