/* The gethostbyname family: gethostbyname, gethostbyname2 and their _r variants answer
 * tunnel names with the fake address (IPv6 only when asked for AF_INET6). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "../core/addrmap.h"
#include "../core/export.h"
#include "../core/log.h"
#include "../core/real.h"
#include "../core/route.h"

/* What a hostent points into: name, empty alias list, one address. */
typedef struct {
    char *aliases[1];
    char *addresses[2];
    struct in6_addr address; /* room for either family */
    char name[256];
} hostent_storage;

/* Fills `he` from `slot` using `store`; 0, or ERANGE when the name does not fit. */
static int fill(struct hostent *he, hostent_storage *store, const char *name, int af, int slot)
{
    size_t n = strlen(name);
    if (n >= sizeof store->name)
        return ERANGE;
    memcpy(store->name, name, n + 1);
    store->aliases[0] = NULL;
    if (af == AF_INET6)
        gsi_addrmap_ipv6(slot, &store->address);
    else
        gsi_addrmap_ipv4(slot, (struct in_addr *)&store->address);
    store->addresses[0] = (char *)&store->address;
    store->addresses[1] = NULL;
    he->h_name = store->name;
    he->h_aliases = store->aliases;
    he->h_addrtype = af;
    he->h_length = af == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
    he->h_addr_list = store->addresses;
    return 0;
}

/* Routes `name` for `af`: 1 with `slot` set, 0 pass to libc, -1 not found. */
static int route(const char *name, int af, int *slot)
{
    if (af != AF_INET && af != AF_INET6)
        return 0;
    switch (gsi_route_name(name, slot)) {
    case GSI_ROUTE_TUNNEL:
        GSI_DEBUG("gethostbyname(%s): tunnel address", name);
        return 1;
    case GSI_ROUTE_BROKEN:
        GSI_DEBUG("gethostbyname(%s): tunnel name without a usable conf", name);
        return -1;
    default:
        return 0;
    }
}

/* Like glibc's own, gethostbyname answers in static storage (POSIX allows it; threaded
 * callers use the _r variants or getaddrinfo). Thread-local storage would make the
 * library need the dynamic loader itself (__tls_get_addr). */
static struct hostent static_hostent;
static hostent_storage static_storage;

static struct hostent *ic_gethostbyname2(const char *name, int af)
{
    int slot, routed = route(name, af, &slot);
    if (routed == 0)
        return af == AF_INET ? libc_gethostbyname(name) : libc_gethostbyname2(name, af);
    if (routed < 0 || fill(&static_hostent, &static_storage, name, af, slot) != 0) {
        h_errno = HOST_NOT_FOUND;
        return NULL;
    }
    return &static_hostent;
}

static int ic_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
                               size_t len, struct hostent **result, int *h_errnop)
{
    int slot, routed = route(name, af, &slot);
    if (routed == 0)
        return af == AF_INET ? libc_gethostbyname_r(name, ret, buf, len, result, h_errnop)
                             : libc_gethostbyname2_r(name, af, ret, buf, len, result, h_errnop);
    *result = NULL;
    if (routed < 0) {
        *h_errnop = HOST_NOT_FOUND;
        return 0; /* glibc's convention: 0 with a NULL result means "not found" */
    }
    /* The caller's buffer holds the storage; align it for the pointers inside. */
    uintptr_t misalign = (uintptr_t)buf % _Alignof(hostent_storage);
    size_t skip = misalign ? _Alignof(hostent_storage) - misalign : 0;
    if (buf == NULL || len < skip + sizeof(hostent_storage)) {
        *h_errnop = NETDB_INTERNAL;
        return ERANGE;
    }
    int error = fill(ret, (hostent_storage *)(void *)(buf + skip), name, af, slot);
    if (error) {
        *h_errnop = NETDB_INTERNAL;
        return error;
    }
    *result = ret;
    return 0;
}

GSI_EXPORT struct hostent *gethostbyname(const char *name)
{
    return ic_gethostbyname2(name, AF_INET);
}

GSI_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
    return ic_gethostbyname2(name, af);
}

GSI_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t len,
                               struct hostent **result, int *h_errnop)
{
    return ic_gethostbyname2_r(name, AF_INET, ret, buf, len, result, h_errnop);
}

GSI_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
                                size_t len, struct hostent **result, int *h_errnop)
{
    return ic_gethostbyname2_r(name, af, ret, buf, len, result, h_errnop);
}
