/* Contact strings (SPEC 3.1): "ip:port" for IPv4, "[ipv6]:port" for IPv6, numeric only.
 * Strict on purpose: brackets are required around an IPv6 address and the port is plain
 * decimal 1-65535 without sign, spaces or leading zeros, so C and Python agree on every
 * string (orbit_globus/streams/contact.py applies the same rules). */
#ifndef GSI_CONTACT_TEXT_H
#define GSI_CONTACT_TEXT_H

#include <stddef.h>
#include <sys/socket.h>

/* Parses `text`; 1 on success with the address in `out` and its size in `len`. */
int gsi_contact_parse(const char *text, struct sockaddr_storage *out, socklen_t *len);

/* Formats an address as "ip:port" or "[ip]:port" (debug lines, tests). */
void gsi_contact_format(const struct sockaddr_storage *addr, char *out, size_t size);

/* Parses a port: 1 with the value in `out` when `text` (`len` bytes) is plain decimal
 * 1-65535 with no leading zero. */
int gsi_port_parse(const char *text, size_t len, unsigned *out);

#endif
