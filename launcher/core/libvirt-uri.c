/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include <libxml/uri.h>

#include "core/libvirt-uri.h"
#include "util/error.h"
#include "util/macro.h"

/* libvirt's transports (src/remote/remote_driver.c); "unix" is the only one that cannot leave
 * this machine. */
static const char *const remote_transports[] = { "ssh", "libssh", "libssh2", "tcp", "tls", "ext" };

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
out:
	xmlFreeURI(u);
	return r;
}
