/* getaddrinfo/freeaddrinfo: tunnel names get a fake address (IPv4 unless the hints ask
 * for IPv6); every other name goes to libc untouched. */
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../core/addrmap.h"
#include "../core/export.h"
#include "../core/log.h"
#include "../core/real.h"
#include "../core/route.h"

/* One block per entry, address right behind it, the layout glibc's own freeaddrinfo
 * expects: even a list that reaches libc's freeaddrinfo is freed correctly. */
typedef struct {
    struct addrinfo ai;
    struct sockaddr_in6 addr; /* large enough for both families */
} fake_entry;

static void free_fake(struct addrinfo *ai)
{
    while (ai != NULL) {
        struct addrinfo *next = ai->ai_next;
        free(ai->ai_canonname);
        free(ai);
        ai = next;
    }
}

/* Rewrites libc's answer for a numeric loopback into the same entries (socket types,
 * protocols, port from `service`) carrying the tunnel's fake address. */
static int fake_answer(const char *node, const struct addrinfo *model, int slot, int canonical,
                       struct addrinfo **res)
{
    struct addrinfo *head = NULL, **tail = &head;
    for (const struct addrinfo *m = model; m != NULL; m = m->ai_next) {
        fake_entry *e = calloc(1, sizeof *e);
        if (e == NULL) {
            free_fake(head);
            return EAI_MEMORY;
        }
        e->ai = *m;
        e->ai.ai_next = NULL;
        e->ai.ai_canonname = NULL;
        e->ai.ai_addr = (struct sockaddr *)&e->addr;
        if (m->ai_family == AF_INET6) {
            e->addr = *(const struct sockaddr_in6 *)m->ai_addr;
            gsi_addrmap_ipv6(slot, &e->addr.sin6_addr);
            e->ai.ai_addrlen = sizeof(struct sockaddr_in6);
        } else {
            struct sockaddr_in *v4 = (struct sockaddr_in *)&e->addr;
            *v4 = *(const struct sockaddr_in *)m->ai_addr;
            gsi_addrmap_ipv4(slot, &v4->sin_addr);
            e->ai.ai_addrlen = sizeof(struct sockaddr_in);
        }
        *tail = &e->ai;
        tail = &e->ai.ai_next;
    }
    if (head != NULL && canonical) {
        head->ai_canonname = strdup(node);
        if (head->ai_canonname == NULL) {
            free_fake(head);
            return EAI_MEMORY;
        }
    }
    *res = head;
    return head != NULL ? 0 : EAI_NONAME;
}

/* The fake answer for one family; libc interprets service and hints exactly as it would
 * for a real address of that family. */
static int fake_family(const char *node, const char *service, const struct addrinfo *hints,
                       int family, int slot, struct addrinfo **res)
{
    struct addrinfo local = {0};
    if (hints != NULL)
        local = *hints;
    local.ai_family = family;
    local.ai_flags = (local.ai_flags & (AI_NUMERICSERV | AI_CANONNAME)) | AI_NUMERICHOST;
    local.ai_addr = NULL;
    local.ai_canonname = NULL;
    local.ai_next = NULL;
    struct addrinfo *model = NULL;
    int error =
        libc_getaddrinfo(family == AF_INET6 ? "::1" : "127.0.0.1", service, &local, &model);
    if (error)
        return error;
    error = fake_answer(node, model, slot, hints && (hints->ai_flags & AI_CANONNAME), res);
    libc_freeaddrinfo(model);
    GSI_DEBUG("getaddrinfo(%s): tunnel address, %s", node, family == AF_INET6 ? "IPv6" : "IPv4");
    return error;
}

static int ic_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                          struct addrinfo **res)
{
    int family = hints ? hints->ai_family : AF_UNSPEC;
    int numeric_only = hints && (hints->ai_flags & AI_NUMERICHOST);
    if (node == NULL || numeric_only || (family != AF_UNSPEC && family != AF_INET &&
                                         family != AF_INET6))
        return libc_getaddrinfo(node, service, hints, res);
    int slot;
    switch (gsi_route_service(node, service, &slot)) {
    case GSI_ROUTE_PASS:
        return libc_getaddrinfo(node, service, hints, res);
    case GSI_ROUTE_BROKEN:
        GSI_DEBUG("getaddrinfo(%s): tunnel name without a usable conf", node);
        return EAI_NONAME;
    case GSI_ROUTE_TUNNEL:
        break;
    }
    if (family == AF_UNSPEC) {
        /* Both families, IPv4 first: a caller that filters by family (curl -6) still finds
         * its own, and one that takes the first entry gets IPv4. */
        struct addrinfo *v4 = NULL, *v6 = NULL;
        int error = fake_family(node, service, hints, AF_INET, slot, &v4);
        if (!error && fake_family(node, service, hints, AF_INET6, slot, &v6) == 0) {
            struct addrinfo *last = v4;
            while (last->ai_next != NULL)
                last = last->ai_next;
            last->ai_next = v6;
        }
        if (!error)
            *res = v4;
        return error;
    }
    return fake_family(node, service, hints, family, slot, res);
}

static void ic_freeaddrinfo(struct addrinfo *res)
{
    uint8_t tunnel_id[16];
    if (res != NULL && res->ai_addr == (struct sockaddr *)&((fake_entry *)res)->addr &&
        gsi_addrmap_lookup(res->ai_addr, res->ai_addrlen, tunnel_id))
        free_fake(res);
    else
        libc_freeaddrinfo(res);
}

GSI_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                           struct addrinfo **res)
{
    return ic_getaddrinfo(node, service, hints, res);
}

GSI_EXPORT void freeaddrinfo(struct addrinfo *res)
{
    ic_freeaddrinfo(res);
}
