/* One tunnel connection's LAN leg, as the hooks need it: the client side after connect()
 * reached the access point, the server side after accept() took the access point's
 * connection. Both run over a non-blocking socket until a deadline. */
#ifndef GSI_SESSION_H
#define GSI_SESSION_H

#include <stdint.h>

#include "conf.h"

/* Authenticates to the initiator access point as the application (role 1). No bytes at
 * all when the conf's lankey is empty. 0, ECONNREFUSED or ETIMEDOUT. */
int gsi_session_client(int fd, const uint8_t tunnel_id[16], const gsi_conf *conf,
                       int64_t deadline_ms);

/* Authenticates the listener access point (the client, role 2) against the listener conf
 * of `tunnel_id`. 0, ECONNREFUSED (refused, or no usable conf) or ETIMEDOUT. */
int gsi_session_server(int fd, const char *tunnel_id, int64_t deadline_ms);

#endif
