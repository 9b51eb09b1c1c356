/* Name routing (SPEC 3.4): which host names the resolver hooks take over. The input is
 * GLOBUS_STREAMS_TUNNELS, one tunnel's globus_contact list, a host name and a service
 * (empty: none; digits: a port), separated by newlines; route.c is compiled in here so each input can set the variable and rebuild the
 * names snapshot (the library reads them once, and once a second).
 *
 * Invariants: `globus.<tunnel>` (any case, one trailing dot) of a tunnel with an initiator
 * conf is always a tunnel name, one without a conf is "broken" (not found); a globus_contact name is one exactly when its tunnel is
 * listed in GLOBUS_STREAMS_TUNNELS, the name is one of the list's non-empty hosts (any
 * case, brackets removed) and that entry's port is the service's (an entry without a valid
 * port, or no service, matches any port); every other name passes to libc. */
#include <ctype.h>
#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include "../src/core/route.c"
#include "fuzz_util.h"

static const char TUNNEL[] = "0e8a675b-6b84-4220-89e4-a6a7a0d823fb";
static char conf_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = fuzz_tempdir("fuzz-route");
    setenv("GLOBUS_STREAMS_DIR", dir, 1);
    unsetenv("GLOBUS_STREAMS_TUNNELS");
    snprintf(conf_path, sizeof conf_path, "%s/%s.conf", dir, TUNNEL);
    return 0;
}

static void write_conf(const char *globus_contact)
{
    char tmp[4200], text[GSI_CONF_NAMES_MAX + 128];
    snprintf(tmp, sizeof tmp, "%s.tmp", conf_path);
    int n = snprintf(text, sizeof text,
                     "role=initiator\nlankey=k\nconnector_contact_string=127.0.0.1:9\n"
                     "globus_contact=%s\n",
                     globus_contact);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, (size_t)n) != n || close(fd) != 0 || rename(tmp, conf_path))
        abort();
}

/* Is TUNNEL one of the comma-separated ids (exact, any case)? */
static int tunnel_listed(const char *tunnels)
{
    for (const char *p = tunnels;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == sizeof TUNNEL - 1 && strncasecmp(p, TUNNEL, n) == 0)
            return 1;
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

/* The port of an entry: plain decimal 1-65535 after trailing spaces are cut; -1 when it has
 * none (it then matches any port). */
static long entry_port(const char *text)
{
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == ' ')
        n--;
    if (n == 0 || n > 5 || text[0] == '0')
        return -1;
    long port = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)text[i]))
            return -1;
        port = port * 10 + (text[i] - '0');
    }
    return port <= 65535 ? port : -1;
}

/* Is `name` (length `len`) a non-empty host of the "host:port,..." list, on `port` (-1: any)? */
static int host_listed(const char *names, const char *name, size_t len, long port)
{
    char copy[GSI_CONF_NAMES_MAX];
    snprintf(copy, sizeof copy, "%s", names);
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        item += strspn(item, " ");
        char *colon = strrchr(item, ':');
        long listed_port = colon ? entry_port(colon + 1) : -1;
        if (colon != NULL)
            *colon = '\0';
        size_t n = strlen(item);
        if (n >= 2 && item[0] == '[' && item[n - 1] == ']') {
            item[n - 1] = '\0';
            item++;
            n -= 2;
        }
        if (n > 0 && n == len && strncasecmp(item, name, len) == 0 &&
            (port < 0 || listed_port < 0 || listed_port == port))
            return 1;
    }
    return 0;
}

/* `globus.<uuid>`: 1 for this tunnel's, 2 for another tunnel's (which has no conf here). */
static int globus_name(const char *name, size_t len)
{
    uint8_t raw[16];
    if (len != 7 + sizeof TUNNEL - 1 || strncasecmp(name, "globus.", 7) != 0 ||
        !gsi_uuid_parse_n(name + 7, sizeof TUNNEL - 1, raw))
        return 0;
    return strncasecmp(name + 7, TUNNEL, sizeof TUNNEL - 1) == 0 ? 1 : 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader r = {data, size};
    char tunnels[sizeof routed_tunnels], names[GSI_CONF_NAMES_MAX], name[600], service[16];
    fuzz_field(&r, '\n', tunnels, sizeof tunnels);
    fuzz_field(&r, '\n', names, sizeof names);
    fuzz_field(&r, '\n', name, sizeof name);
    fuzz_field(&r, '\n', service, sizeof service);
    /* digits only: a service name would make each input read /etc/services */
    int numeric = service[0] != '\0' && strspn(service, "0123456789") == strlen(service);
    long port = -1; /* any */
    if (numeric)
        port = strlen(service) > 6 || strtol(service, NULL, 10) > 65535 ? 99999 /* none */
                                                                     : strtol(service, NULL, 10);
    names[strcspn(names, "\r")] = '\0'; /* the reader drops a CR before the newline */
    write_conf(names);
    pthread_once(&snapshot_once, snapshot_setup);
    memcpy(routed_tunnels, tunnels, sizeof tunnels);
    snapshot.built_ms = 0; /* rebuild from this input's variable and conf */

    int slot = -1;
    enum gsi_route route = numeric ? gsi_route_service(name, service, &slot)
                                   : gsi_route_name(name, &slot);
    size_t len = name_length(name);
    int globus = globus_name(name, len);
    enum gsi_route expected =
        globus == 2 ? GSI_ROUTE_BROKEN
        : globus == 1 || (tunnel_listed(tunnels) && host_listed(names, name, len, port))
            ? GSI_ROUTE_TUNNEL
            : GSI_ROUTE_PASS;
    FUZZ_CHECK(route == expected,
               "'%s' routed %d, expected %d (tunnels '%s', names '%s')", name, route,
               expected, tunnels, names);
    if (route == GSI_ROUTE_TUNNEL) {
        uint8_t raw[16], back[16];
        gsi_uuid_parse(TUNNEL, raw);
        struct sockaddr_in fake = {.sin_family = AF_INET};
        gsi_addrmap_ipv4(slot, &fake.sin_addr);
        FUZZ_CHECK(gsi_addrmap_lookup((struct sockaddr *)&fake, sizeof fake, back) &&
                       memcmp(raw, back, 16) == 0,
                   "slot %d does not map back to the tunnel", slot);
    }
    return 0;
}
