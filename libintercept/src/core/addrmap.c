#include "addrmap.h"

#include <pthread.h>
#include <string.h>

static uint8_t tunnels[GSI_ADDRMAP_SLOTS][16];
static int slots_used; /* published with release, read with acquire */
static pthread_mutex_t add_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t add_once = PTHREAD_ONCE_INIT;

static void add_prepare(void) { pthread_mutex_lock(&add_lock); }
static void add_release(void) { pthread_mutex_unlock(&add_lock); }
static void add_setup(void) { pthread_atfork(add_prepare, add_release, add_release); }

static int find(const uint8_t tunnel_id[16], int used)
{
    for (int i = 0; i < used; i++)
        if (memcmp(tunnels[i], tunnel_id, 16) == 0)
            return i;
    return -1;
}

int gsi_addrmap_slot(const uint8_t tunnel_id[16])
{
    int slot = find(tunnel_id, __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE));
    if (slot >= 0)
        return slot;
    pthread_once(&add_once, add_setup);
    pthread_mutex_lock(&add_lock);
    int used = __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE);
    slot = find(tunnel_id, used);
    if (slot < 0 && used < GSI_ADDRMAP_SLOTS) {
        memcpy(tunnels[used], tunnel_id, 16);
        __atomic_store_n(&slots_used, used + 1, __ATOMIC_RELEASE);
        slot = used;
    }
    pthread_mutex_unlock(&add_lock);
    return slot;
}

static const uint8_t V4_PREFIX[2] = {240, 71};
static const uint8_t V6_PREFIX[12] = {0x01, 0, 0, 0, 0, 0, 0, 0, 0x47, 0x53, 0x4c, 0x41};
static const uint8_t V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Slot n is host number n+1: no fake address ends in .0 or ::0. */
void gsi_addrmap_ipv4(int slot, struct in_addr *out)
{
    uint8_t *b = (uint8_t *)&out->s_addr;
    slot++;
    b[0] = V4_PREFIX[0];
    b[1] = V4_PREFIX[1];
    b[2] = (uint8_t)(slot >> 8);
    b[3] = (uint8_t)slot;
}

void gsi_addrmap_ipv6(int slot, struct in6_addr *out)
{
    slot++;
    memcpy(out->s6_addr, V6_PREFIX, 12);
    out->s6_addr[12] = 0;
    out->s6_addr[13] = 0;
    out->s6_addr[14] = (uint8_t)(slot >> 8);
    out->s6_addr[15] = (uint8_t)slot;
}

static int tunnel_of(int host, uint8_t tunnel_id[16])
{
    int slot = host - 1;
    if (slot < 0 || slot >= __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE))
        return 0; /* a fake-looking address this process never handed out */
    memcpy(tunnel_id, tunnels[slot], 16);
    return 1;
}

static int from_v4(const uint8_t b[4], uint8_t tunnel_id[16])
{
    if (b[0] != V4_PREFIX[0] || b[1] != V4_PREFIX[1])
        return 0;
    return tunnel_of(b[2] << 8 | b[3], tunnel_id);
}

int gsi_addrmap_lookup(const struct sockaddr *addr, socklen_t len, uint8_t tunnel_id[16])
{
    if (addr == NULL)
        return 0;
    if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        return from_v4((const uint8_t *)&in->sin_addr.s_addr, tunnel_id);
    }
    if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const uint8_t *b = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
        if (memcmp(b, V4_MAPPED, 12) == 0)
            return from_v4(b + 12, tunnel_id);
        if (memcmp(b, V6_PREFIX, 12) != 0 || b[12] != 0 || b[13] != 0)
            return 0;
        return tunnel_of(b[14] << 8 | b[15], tunnel_id);
    }
    return 0;
}
