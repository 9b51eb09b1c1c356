/* One tunnel connection's LAN leg, as the hooks need it: the client side after connect()
 * reached the access point, the server side after accept() took the access point's
 * connection. Both run over a non-blocking socket until a deadline. */
#ifndef GSI_SESSION_H
#define GSI_SESSION_H

#include <stdint.h>

#include "conf.h"
#include "wire.h"

/* Authenticates to the initiator access point as the application (role 1). No bytes at
 * all when the conf's lankey is empty. 0, ECONNREFUSED, ETIMEDOUT or EINTR. A refusal the
 * user can act on (tunnel not active or expired, stale or wrong secret) gives a notice. */
int gsi_session_client(int fd, const uint8_t tunnel_id[16], const gsi_conf *conf,
                       gsi_wire_limit limit);

/* Authenticates the listener access point (the client, role 2) against the listener conf
 * of `tunnel_id`. 0, ECONNREFUSED (refused, or no usable conf), ETIMEDOUT or EINTR. */
int gsi_session_server(int fd, const char *tunnel_id, gsi_wire_limit limit);

#endif
