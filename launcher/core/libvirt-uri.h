/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whether a libvirt connection URI names this machine or another one. Pure (libxml2's URI
 * parser; libvirt's public API has none).
 *
 * The rule, and why: gpurun reads and changes this machine's sysfs only when the URI is
 * certainly this machine's own daemon. A URI is LOCAL when its transport is none or "unix" and
 * it has no host part: qemu:///system, qemu:///session, qemu+unix:///system, test:///default.
 * Everything else is REMOTE:
 *   - a host part, whatever it says: qemu://gpuhost/system, qemu+ssh://root@gpuhost/system,
 *     qemu+tcp://10.0.0.2:16509/system. Also "localhost", "127.0.0.1", "::1" and this machine's
 *     own host name: a port forward or an ssh tunnel makes a loopback address another machine
 *     (the sandbox test does exactly that), and treating this machine as remote is always safe
 *     (it is then read and prepared through its own libvirt daemon's node-device API);
 *   - a network transport without a host (qemu+ssh:///system, qemu+tcp:///system, qemu+tls,
 *     qemu+libssh, qemu+libssh2, qemu+ext): the connection goes through a transport that may
 *     end anywhere;
 *   - a socket= parameter naming anything but a daemon socket of this machine (a plain path
 *     under /run/libvirt/, /var/run/libvirt/ or /run/user/UID/libvirt/): a unix socket can be
 *     forwarded from another machine (ssh -L /tmp/gpuhost.sock:/run/libvirt/libvirt-sock).
 * A URI that does not parse, has no driver scheme, or names an unknown transport is -EINVAL. */
#pragma once

#include <stdbool.h>

struct error;

/* 1 remote, 0 local (as above), -EINVAL with @err (may be NULL) saying why @uri is not a
 * libvirt URI ("'x' is not a libvirt URI: no driver scheme (qemu:///system, ...)"); the caller
 * adds where the URI came from (profile line, --connect). */
int libvirt_uri_is_remote(const char *uri, struct error *err);
