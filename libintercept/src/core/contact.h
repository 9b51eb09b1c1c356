/* Where the initiator access point listens: the conf's connector_contact_string while it
 * is younger than its TTL, else a fresh one from
 * `$GLOBUS_STREAMS_CLI environment contact-lookup TUNNEL_ID` (which also rewrites the conf).
 * One lookup is bounded by GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS, so a stuck CLI cannot hang
 * the host; the child is killed and reaped.
 *
 * A restarted tunnel moves its access point while the conf's contact is still within its
 * TTL: when that contact is refused, `gsi_contact_refresh` asks the CLI once more with
 * `--refresh` (ignore the TTL), so the caller can retry once. */
#ifndef GSI_CONTACT_H
#define GSI_CONTACT_H

#include <stddef.h>
#include <sys/socket.h>

#include "conf.h"

/* After a failed lookup, the stale contact is used without asking again for this long. */
#define GSI_CONTACT_RETRY_MS 5000

/* The access point's address for an initiator tunnel; 0 or EHOSTUNREACH. `refreshable`
 * (may be NULL) is set to 1 when the CLI was not asked during this call, so a refusal is
 * worth a `gsi_contact_refresh`. */
int gsi_contact_address(const char *tunnel_id, const gsi_conf *conf,
                        struct sockaddr_storage *out, socklen_t *len, int *refreshable);

/* After `refused` (from gsi_contact_address) refused the connection: runs
 * `contact-lookup TUNNEL_ID --refresh` and returns 0 with a different address to retry,
 * else an errno value. One forced lookup per tunnel at a time; callers refused meanwhile,
 * or up to GSI_CONTACT_RETRY_MS after it, take its answer instead of running the CLI again
 * (parallel connections share one lookup; a dead access point runs no CLI in a loop). */
int gsi_contact_refresh(const char *tunnel_id, const gsi_conf *conf,
                        const struct sockaddr_storage *refused, struct sockaddr_storage *out,
                        socklen_t *len);

/* Parses "ip:port" or "[v6]:port" (numeric); 1 on success. */
int gsi_contact_parse(const char *text, struct sockaddr_storage *out, socklen_t *len);

/* Formats an address as "ip:port" or "[ip]:port" (for debug lines and tests). */
void gsi_contact_format(const struct sockaddr_storage *addr, char *out, size_t size);

/* Runs the CLI's contact-lookup (with `--refresh` when `refresh`); 0 with the printed
 * contact in `out`, or an errno value (ENOENT no CLI, ETIMEDOUT, EIO it failed or printed
 * nothing). */
int gsi_contact_lookup(const char *tunnel_id, int refresh, char *out, size_t size,
                       int timeout_ms);

#endif
