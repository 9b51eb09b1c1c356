#include "route.h"

#include <netdb.h>
#include <netinet/in.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addrmap.h"
#include "contact_text.h"
#include "conf.h"
#include "env.h"
#include "ids.h"
#include "log.h"
#include "wire.h"

static const char PREFIX[] = "globus.";

/* Length of `name` without one trailing dot (absolute DNS names). */
static size_t name_length(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && name[n - 1] == '.' ? n - 1 : n;
}

static enum gsi_route usable_initiator(const uint8_t raw[16], int *slot)
{
    char tunnel_id[GSI_UUID_TEXT];
    gsi_uuid_format(raw, tunnel_id);
    gsi_conf conf;
    int error = gsi_conf_load(tunnel_id, &conf);
    enum gsi_conf_role role = conf.role;
    gsi_conf_wipe(&conf);
    if (error) {
        gsi_notice(tunnel_id,
                   error == ENOENT ? GSI_NOTICE_CONF_MISSING : GSI_NOTICE_CONF_UNREADABLE);
        return GSI_ROUTE_BROKEN;
    }
    if (role != GSI_ROLE_INITIATOR) {
        GSI_WARN("tunnel %s: the conf here is not the initiator side", tunnel_id);
        return GSI_ROUTE_BROKEN;
    }
    *slot = gsi_addrmap_slot(raw);
    if (*slot < 0) {
        GSI_WARN("too many tunnels in one process (%d)", GSI_ADDRMAP_SLOTS);
        return GSI_ROUTE_BROKEN;
    }
    return GSI_ROUTE_TUNNEL;
}

/* The port named by a getaddrinfo service: digits, or a TCP service name; -1 unknown. */
static int service_port(const char *service)
{
    if (service == NULL || *service == '\0')
        return -1;
    char *end;
    unsigned long number = strtoul(service, &end, 10);
    if (*end == '\0' && service[0] >= '0' && service[0] <= '9')
        return number <= 65535 ? (int)number : -2;
    struct servent entry, *found = NULL;
    char buf[1024];
    if (getservbyname_r(service, "tcp", &entry, buf, sizeof buf, &found) != 0 || found == NULL)
        return -2; /* unknown service: libc will say so */
    return ntohs((uint16_t)found->s_port);
}

/* 1 when `host` (length `len`) is one of the comma-separated host:port entries with a
 * matching port; `service` is resolved only once the host matched. An entry without a
 * port matches any. */
static int listed(const char *names, const char *host, size_t len, const char *service)
{
    int port = -3; /* not resolved yet */
    for (const char *p = names; *p;) {
        const char *end = strchr(p, ',');
        size_t item = end ? (size_t)(end - p) : strlen(p);
        while (item > 0 && *p == ' ') {
            p++;
            item--;
        }
        const char *colon = memrchr(p, ':', item);
        size_t host_len = colon ? (size_t)(colon - p) : item;
        const char *entry_host = p;
        if (host_len > 1 && p[0] == '[' && p[host_len - 1] == ']') {
            entry_host++;
            host_len -= 2;
        }
        if (host_len == len && len > 0 && strncasecmp(entry_host, host, len) == 0) {
            unsigned entry_port;
            size_t port_len = colon ? item - (size_t)(colon + 1 - p) : 0;
            while (port_len > 0 && colon[port_len] == ' ')
                port_len--; /* "host:443 , other:80" */
            if (colon == NULL || !gsi_port_parse(colon + 1, port_len, &entry_port))
                return 1;
            if (port == -3)
                port = service_port(service);
            if (port == -1 || port == (int)entry_port)
                return 1;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

/* The globus_contact names of the tunnels in GLOBUS_STREAMS_TUNNELS, read from their
 * confs at most once per NAMES_REFRESH_MS: resolving an ordinary name then costs a
 * string compare, not a stat() per tunnel. A conf change shows within that interval. */
enum { NAMES_REFRESH_MS = 1000, NAMES_TUNNELS = 8 };
typedef struct {
    int64_t built_ms; /* 0: never built */
    int count;
    struct {
        uint8_t tunnel_id[16];
        char names[GSI_CONF_NAMES_MAX];
    } entries[NAMES_TUNNELS];
} names_snapshot;

static names_snapshot snapshot;
static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t snapshot_once = PTHREAD_ONCE_INIT;

static void snapshot_prepare(void) { pthread_mutex_lock(&snapshot_lock); }
static void snapshot_release(void) { pthread_mutex_unlock(&snapshot_lock); }
/* GLOBUS_STREAMS_TUNNELS, read once: every name lookup consults it, and scanning the
 * environment each time would cost more than the rest of the check. The launcher sets it
 * before the program starts. */
static char routed_tunnels[512];

static void snapshot_setup(void)
{
    const char *value = getenv(GSI_ENV_TUNNELS);
    if (value != NULL && strlen(value) >= sizeof routed_tunnels)
        GSI_WARN("%s is too long; ignored", GSI_ENV_TUNNELS);
    else if (value != NULL)
        memcpy(routed_tunnels, value, strlen(value) + 1);
    pthread_atfork(snapshot_prepare, snapshot_release, snapshot_release);
}

static void rebuild(names_snapshot *snap, const char *tunnels, int64_t now)
{
    snap->built_ms = now > 0 ? now : 1;
    snap->count = 0;
    for (const char *p = tunnels; *p && snap->count < NAMES_TUNNELS;) {
        const char *end = strchr(p, ',');
        size_t item = end ? (size_t)(end - p) : strlen(p);
        uint8_t raw[16];
        if (gsi_uuid_parse_n(p, item, raw)) {
            char tunnel_id[GSI_UUID_TEXT];
            gsi_uuid_format(raw, tunnel_id);
            gsi_conf conf;
            if (gsi_conf_load(tunnel_id, &conf) == 0 && conf.role == GSI_ROLE_INITIATOR &&
                conf.globus_contact[0] != '\0') {
                memcpy(snap->entries[snap->count].tunnel_id, raw, 16);
                memcpy(snap->entries[snap->count].names, conf.globus_contact,
                       sizeof conf.globus_contact);
                snap->count++;
            }
            gsi_conf_wipe(&conf);
        } else if (item > 0) {
            GSI_WARN("%s holds an entry that is not a tunnel id; skipped", GSI_ENV_TUNNELS);
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
}

/* Looks `host` up in the globus_contact names of GLOBUS_STREAMS_TUNNELS. */
static enum gsi_route by_globus_contact(const char *host, size_t len, const char *service,
                                        int *slot)
{
    pthread_once(&snapshot_once, snapshot_setup);
    const char *tunnels = routed_tunnels;
    if (*tunnels == '\0')
        return GSI_ROUTE_PASS;
    int64_t now = gsi_now_ms();
    pthread_mutex_lock(&snapshot_lock);
    int stale = snapshot.built_ms == 0 || now - snapshot.built_ms >= NAMES_REFRESH_MS;
    pthread_mutex_unlock(&snapshot_lock);
    if (stale) {
        /* Read the confs without holding the lock: no lock is ever taken inside another,
         * so the fork handlers can take them all in any order. */
        names_snapshot *fresh = malloc(sizeof *fresh);
        if (fresh == NULL)
            return GSI_ROUTE_PASS;
        rebuild(fresh, tunnels, now);
        pthread_mutex_lock(&snapshot_lock);
        snapshot = *fresh;
        pthread_mutex_unlock(&snapshot_lock);
        free(fresh);
    }
    int found = 0;
    uint8_t raw[16];
    pthread_mutex_lock(&snapshot_lock);
    for (int i = 0; i < snapshot.count && !found; i++) {
        if (listed(snapshot.entries[i].names, host, len, service)) {
            memcpy(raw, snapshot.entries[i].tunnel_id, 16);
            found = 1;
        }
    }
    pthread_mutex_unlock(&snapshot_lock);
    return found ? usable_initiator(raw, slot) : GSI_ROUTE_PASS;
}

enum gsi_route gsi_route_name(const char *name, int *slot)
{
    return gsi_route_service(name, NULL, slot);
}

enum gsi_route gsi_route_service(const char *name, const char *service, int *slot)
{
    if (name == NULL)
        return GSI_ROUTE_PASS;
    size_t len = name_length(name);
    uint8_t raw[16];
    if (len == sizeof PREFIX - 1 + 36 && strncasecmp(name, PREFIX, sizeof PREFIX - 1) == 0 &&
        gsi_uuid_parse_n(name + sizeof PREFIX - 1, 36, raw))
        return usable_initiator(raw, slot);
    return by_globus_contact(name, len, service, slot);
}
