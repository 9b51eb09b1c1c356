/* Contact strings (SPEC 3.1 connector_contact_string): parse, format, parse again.
 *
 * Text mode (first byte even): what gsi_contact_parse accepts must be strict "ip:port" or
 * "[ipv6]:port" with a plain decimal port 1-65535, and must survive format -> parse
 * unchanged. Address mode (first byte odd): any IPv4/IPv6 address and port 1-65535,
 * formatted, must parse back to the same address. */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "contact.h"
#include "fuzz_util.h"

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

/* A port as SPEC 3.1 writes it: decimal digits without sign, space or leading zero. */
static int plain_port(const char *text)
{
    if (*text < '1' || *text > '9')
        return 0;
    for (const char *p = text; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    return strlen(text) <= 5;
}

static void round_trip(const struct sockaddr_storage *addr, const char *origin)
{
    char text[GSI_CONF_CONTACT_MAX], again[GSI_CONF_CONTACT_MAX];
    gsi_contact_format(addr, text, sizeof text);
    struct sockaddr_storage parsed;
    socklen_t len = 0;
    FUZZ_CHECK(gsi_contact_parse(text, &parsed, &len), "'%s' (from '%s') does not parse", text,
               origin);
    FUZZ_CHECK(same_address(addr, &parsed), "'%s' parses to another address", text);
    FUZZ_CHECK(len == (parsed.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                   : sizeof(struct sockaddr_in6)),
               "length %u for '%s'", (unsigned)len, text);
    gsi_contact_format(&parsed, again, sizeof again);
    FUZZ_CHECK(strcmp(text, again) == 0, "'%s' formats back as '%s'", text, again);
}

static void text_mode(const uint8_t *data, size_t size)
{
    char text[GSI_CONF_CONTACT_MAX];
    if (size >= sizeof text)
        size = sizeof text - 1;
    memcpy(text, data, size);
    text[size] = '\0';
    struct sockaddr_storage addr;
    socklen_t len = 0;
    if (!gsi_contact_parse(text, &addr, &len))
        return;
    const char *colon = strrchr(text, ':');
    FUZZ_CHECK(colon != NULL && plain_port(colon + 1), "'%s' accepted with a loose port", text);
    FUZZ_CHECK(addr.ss_family == AF_INET || text[0] == '[',
               "'%s' accepted as IPv6 without brackets", text);
    round_trip(&addr, text);
}

static void address_mode(fuzz_reader *r)
{
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    uint16_t port = (uint16_t)(fuzz_byte(r) << 8 | fuzz_byte(r));
    if (port == 0)
        port = 1;
    if (fuzz_byte(r) & 1) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        fuzz_bytes(r, v6->sin6_addr.s6_addr, 16);
    } else {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        fuzz_bytes(r, (uint8_t *)&v4->sin_addr, 4);
    }
    round_trip(&addr, "an address");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1) {
        fuzz_reader r = {data + 1, size - 1};
        address_mode(&r);
    } else {
        text_mode(data + 1, size - 1);
    }
    return 0;
}
