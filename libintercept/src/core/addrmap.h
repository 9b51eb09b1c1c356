/* Fake addresses handed out for tunnel names, recognised again by connect().
 *
 * One slot per tunnel, appended and never removed, so an address stays valid for the
 * process's life (and in forked children). Slot n maps to host number h = n + 1:
 *   IPv4  240.71.(h>>8).(h&255)      class E: never routable, so a fake address that
 *                                    escapes without the library fails fast
 *   IPv6  100::4753:4c41:0:h         RFC 6666 discard-only prefix ("GSLA" in the middle)
 * Readers take no lock: a slot is written before the count that publishes it. */
#ifndef GSI_ADDRMAP_H
#define GSI_ADDRMAP_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#define GSI_ADDRMAP_SLOTS 4096 /* h stays below 65536 */

/* Slot of `tunnel_id`, added when new; -1 when the table is full. */
int gsi_addrmap_slot(const uint8_t tunnel_id[16]);

void gsi_addrmap_ipv4(int slot, struct in_addr *out);
void gsi_addrmap_ipv6(int slot, struct in6_addr *out);

/* 1 when `addr` is a fake address (IPv4, IPv6 or IPv4-mapped); fills the tunnel id. */
int gsi_addrmap_lookup(const struct sockaddr *addr, socklen_t len, uint8_t tunnel_id[16]);

#endif
