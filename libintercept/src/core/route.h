/* Which host names the resolver hooks answer: `globus.<tunnel_id>` for a tunnel with an
 * initiator conf, and the `globus_contact` entries (HOST:PORT) of the tunnels in
 * GLOBUS_STREAMS_TUNNELS, host and port both matching (SPEC 3.4): example.test:443 routes
 * port 443 and leaves port 80 of the same host to libc. A lookup that names no port
 * (gethostbyname, getaddrinfo without a service) matches on the host alone. Every other
 * name goes to libc untouched. */
#ifndef GSI_ROUTE_H
#define GSI_ROUTE_H

#include <stdint.h>

enum gsi_route { GSI_ROUTE_PASS, GSI_ROUTE_TUNNEL, GSI_ROUTE_BROKEN };

/* PASS: not ours. TUNNEL: fills the address-map slot. BROKEN: a tunnel name whose conf is
 * missing or unusable (the resolver answers "not found", with a debug line). */
enum gsi_route gsi_route_name(const char *name, int *slot);

/* The same for a lookup that names a port: `service` (number or service name, NULL when
 * unknown) must match a globus_contact entry's port. */
enum gsi_route gsi_route_service(const char *name, const char *service, int *slot);

#endif
