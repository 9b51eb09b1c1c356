/* Unit tests of the core, linked without the hooks and without any preload.
 * Prints one line per check group; exits non-zero on the first failure. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "contact_text.h"
#include "gsla.h"
#include "ids.h"
#include "sha256.h"

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);                  \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

static void hex(const uint8_t *raw, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", raw[i]);
}

static void test_sha256_and_hmac(void)
{
    uint8_t digest[32];
    char text[65];
    gsi_sha256 h;
    gsi_sha256_init(&h);
    gsi_sha256_update(&h, "abc", 3);
    gsi_sha256_final(&h, digest);
    hex(digest, 32, text);
    CHECK(strcmp(text, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);

    gsi_hmac_key key; /* RFC 4231 test case 2 */
    gsi_hmac mac;
    gsi_hmac_key_init(&key, "Jefe", 4);
    gsi_hmac_init(&mac, &key);
    gsi_hmac_update(&mac, "what do ya want ", 16);
    gsi_hmac_update(&mac, "for nothing?", 12);
    gsi_hmac_final(&mac, digest);
    hex(digest, 32, text);
    CHECK(strcmp(text, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") == 0);
    CHECK(gsi_ct_equal("abcd", "abcd", 4) && !gsi_ct_equal("abcd", "abce", 4));
    puts("ok sha256 hmac");
}

static void test_ids(void)
{
    uint8_t raw[16];
    char text[GSI_UUID_TEXT];
    CHECK(gsi_uuid_parse("0E8A675B-6B84-4220-89E4-A6A7A0D823FB", raw));
    gsi_uuid_format(raw, text);
    CHECK(strcmp(text, "0e8a675b-6b84-4220-89e4-a6a7a0d823fb") == 0);
    CHECK(!gsi_uuid_parse("0e8a675b6b84422089e4a6a7a0d823fb", raw));
    CHECK(!gsi_uuid_parse("0e8a675b-6b84-4220-89e4-a6a7a0d823fg", raw));
    CHECK(!gsi_uuid_parse("../../etc/passwd", raw));
    puts("ok ids");
}

static void test_contact_parse(void)
{
    struct sockaddr_storage addr;
    socklen_t len;
    CHECK(gsi_contact_parse("127.0.0.1:8080", &addr, &len) && addr.ss_family == AF_INET);
    CHECK(ntohs(((struct sockaddr_in *)&addr)->sin_port) == 8080);
    CHECK(gsi_contact_parse("[::1]:443", &addr, &len) && addr.ss_family == AF_INET6);
    CHECK(!gsi_contact_parse("127.0.0.1", &addr, &len));
    CHECK(!gsi_contact_parse("127.0.0.1:0", &addr, &len));
    CHECK(!gsi_contact_parse("127.0.0.1:70000", &addr, &len));
    CHECK(!gsi_contact_parse("[::1:443", &addr, &len));
    CHECK(!gsi_contact_parse("example.org:80", &addr, &len));
    CHECK(!gsi_contact_parse("fe80::1:443", &addr, &len)); /* IPv6 needs brackets */
    CHECK(!gsi_contact_parse("127.0.0.1: 80", &addr, &len));
    CHECK(!gsi_contact_parse("127.0.0.1:+80", &addr, &len));
    CHECK(!gsi_contact_parse("127.0.0.1:0080", &addr, &len));
    CHECK(!gsi_contact_parse("[127.0.0.1]:80", &addr, &len));
    puts("ok contact");
}

static void test_addrmap(void)
{
    uint8_t a[16] = {1}, b[16] = {2}, found[16];
    int slot_a = gsi_addrmap_slot(a), slot_b = gsi_addrmap_slot(b);
    CHECK(slot_a >= 0 && slot_b >= 0 && slot_a != slot_b && gsi_addrmap_slot(a) == slot_a);
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    gsi_addrmap_ipv4(slot_b, &v4.sin_addr);
    CHECK(gsi_addrmap_lookup((struct sockaddr *)&v4, sizeof v4, found) && !memcmp(found, b, 16));
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    gsi_addrmap_ipv6(slot_a, &v6.sin6_addr);
    CHECK(gsi_addrmap_lookup((struct sockaddr *)&v6, sizeof v6, found) && !memcmp(found, a, 16));
    /* IPv4-mapped form of the IPv4 fake address */
    memset(&v6.sin6_addr, 0, 16);
    v6.sin6_addr.s6_addr[10] = v6.sin6_addr.s6_addr[11] = 0xff;
    memcpy(&v6.sin6_addr.s6_addr[12], &v4.sin_addr, 4);
    CHECK(gsi_addrmap_lookup((struct sockaddr *)&v6, sizeof v6, found) && !memcmp(found, b, 16));
    /* a fake-looking address never handed out, and an ordinary one */
    gsi_addrmap_ipv4(4000, &v4.sin_addr);
    CHECK(!gsi_addrmap_lookup((struct sockaddr *)&v4, sizeof v4, found));
    inet_pton(AF_INET, "240.71.0.0", &v4.sin_addr); /* host 0 is never handed out */
    CHECK(!gsi_addrmap_lookup((struct sockaddr *)&v4, sizeof v4, found));
    inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
    CHECK(!gsi_addrmap_lookup((struct sockaddr *)&v4, sizeof v4, found));
    puts("ok addrmap");
}

/* Runs client and server machines against each other in memory. */
static enum gsla_status handshake(const char *client_secret, const uint8_t client_sid[16],
                                  const gsla_credential *known, int *client_state)
{
    uint8_t tid[16], nonce_c[32] = {1}, nonce_s[32] = {2}, buf[GSLA_MAX_MESSAGE],
                     reply[GSLA_MAX_MESSAGE];
    memcpy(tid, known->tunnel_id, 16);
    gsla client, server;
    gsla_client_init(&client, tid, client_sid, client_secret, strlen(client_secret), 1, nonce_c);
    gsla_server_init(&server, nonce_s, gsla_lookup_one, (void *)known);
    size_t len = gsla_client_start(&client, buf), reply_len;
    while (len > 0) {
        gsla_receive(&server, buf, len, reply, &reply_len);
        if (reply_len == 0 || gsla_needed(&client) == 0)
            break;
        gsla_receive(&client, reply, reply_len, buf, &len);
    }
    *client_state = client.state;
    return server.status;
}

static void test_gsla(void)
{
    gsla_credential known;
    memset(known.tunnel_id, 7, 16);
    memset(known.secret_id, 8, 16);
    gsi_hmac_key_init(&known.key, "secret", 6);
    int state;
    CHECK(handshake("secret", known.secret_id, &known, &state) == GSLA_OK);
    CHECK(state == GSLA_ESTABLISHED);
    uint8_t zero[16] = {0}, other[16] = {9};
    CHECK(handshake("secret", zero, &known, &state) == GSLA_OK); /* id unknown to client */
    CHECK(handshake("secret", other, &known, &state) == GSLA_STALE_SECRET);
    CHECK(state == GSLA_REFUSED);
    handshake("wrong", known.secret_id, &known, &state);
    CHECK(state == GSLA_REFUSED); /* the client rejects the server's proof */
    puts("ok gsla");
}

int main(void)
{
    test_sha256_and_hmac();
    test_ids();
    test_contact_parse();
    test_addrmap();
    test_gsla();
    return 0;
}
