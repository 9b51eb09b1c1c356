#include "contact_text.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int gsi_port_parse(const char *text, size_t len, unsigned *out)
{
    if (len == 0 || len > 5 || text[0] == '0')
        return 0;
    unsigned value = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        value = value * 10 + (unsigned)(text[i] - '0');
    }
    if (value > 65535)
        return 0;
    *out = value;
    return 1;
}

int gsi_contact_parse(const char *text, struct sockaddr_storage *out, socklen_t *len)
{
    char host[INET6_ADDRSTRLEN];
    const char *colon = strrchr(text, ':');
    unsigned port;
    if (colon == NULL || !gsi_port_parse(colon + 1, strlen(colon + 1), &port))
        return 0;
    int bracketed = text[0] == '[';
    const char *start = text + bracketed;
    size_t host_len = (size_t)(colon - start);
    if (bracketed) {
        if (host_len < 2 || start[host_len - 1] != ']')
            return 0;
        host_len--;
    }
    if (host_len == 0 || host_len >= sizeof host)
        return 0;
    memcpy(host, start, host_len);
    host[host_len] = '\0';
    memset(out, 0, sizeof *out);
    if (!bracketed) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)out;
        if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
            return 0; /* an IPv6 address without brackets included */
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return 1;
    }
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1)
        return 0;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    *len = sizeof *v6;
    return 1;
}

void gsi_contact_format(const struct sockaddr_storage *addr, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int v6 = addr->ss_family == AF_INET6;
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)addr;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
    inet_ntop(addr->ss_family, v6 ? (const void *)&in6->sin6_addr : (const void *)&in4->sin_addr,
              host, sizeof host);
    snprintf(out, size, v6 ? "[%s]:%u" : "%s:%u", host,
             (unsigned)ntohs(v6 ? in6->sin6_port : in4->sin_port));
}
