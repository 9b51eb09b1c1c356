/* The choice of the initiator access point's address for a connection: the conf's contact
 * while its TTL holds (SPEC 3.1/3.2: TTL 0 = always ask the CLI, absent = 60 s), else one
 * the CLI just gave (cli.h, remembered in contact_cache.h), else the expired one as a
 * last resort. A contact refused within its TTL (a restarted tunnel's access point moved)
 * is replaced once through `contact-lookup --refresh`. */
#ifndef GSI_CONTACT_H
#define GSI_CONTACT_H

#include <sys/socket.h>

#include "conf.h"
#include "contact_text.h" /* parse and format, for callers of the choice */

/* 1 when the conf's contact may be used without asking the CLI, at unix time `now`. */
int gsi_contact_is_fresh(const gsi_conf *conf, int64_t now);

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

#endif
