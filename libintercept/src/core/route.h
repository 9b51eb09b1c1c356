/* Which host names the resolver hooks answer: `globus.<tunnel_id>` for a tunnel with an
 * initiator conf, and every `globus_contact` name of the tunnels in GLOBUS_STREAMS_TUNNELS.
 * Every other name goes to libc untouched. */
#ifndef GSI_ROUTE_H
#define GSI_ROUTE_H

#include <stdint.h>

enum gsi_route { GSI_ROUTE_PASS, GSI_ROUTE_TUNNEL, GSI_ROUTE_BROKEN };

/* PASS: not ours. TUNNEL: fills the address-map slot. BROKEN: a tunnel name whose conf is
 * missing or unusable (the resolver answers "not found", with a debug line). */
enum gsi_route gsi_route_name(const char *name, int *slot);

#endif
