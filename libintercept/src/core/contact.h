/* Where the initiator access point listens: the conf's connector_contact_string while it
 * is younger than its TTL, else a fresh one from
 * `$GLOBUS_STREAMS_CLI environment contact-lookup TUNNEL_ID` (which also rewrites the conf).
 * One lookup is bounded by GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS, so a stuck CLI cannot hang
 * the host; the child is killed and reaped. */
#ifndef GSI_CONTACT_H
#define GSI_CONTACT_H

#include <stddef.h>
#include <sys/socket.h>

#include "conf.h"

/* After a failed lookup, the stale contact is used without asking again for this long. */
#define GSI_CONTACT_RETRY_MS 5000

/* The access point's address for an initiator tunnel; 0 or EHOSTUNREACH. */
int gsi_contact_address(const char *tunnel_id, const gsi_conf *conf,
                        struct sockaddr_storage *out, socklen_t *len);

/* Parses "ip:port" or "[v6]:port" (numeric); 1 on success. */
int gsi_contact_parse(const char *text, struct sockaddr_storage *out, socklen_t *len);

/* Formats an address as "ip:port" or "[ip]:port" (for debug lines and tests). */
void gsi_contact_format(const struct sockaddr_storage *addr, char *out, size_t size);

/* Runs the CLI's contact-lookup; 0 with the printed contact in `out`, or an errno value
 * (ENOENT no CLI, ETIMEDOUT, EIO it failed or printed nothing). */
int gsi_contact_lookup(const char *tunnel_id, char *out, size_t size, int timeout_ms);

#endif
