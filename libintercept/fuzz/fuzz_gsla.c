/* Both GSLA machines (SPEC 4) talking to each other over a channel the fuzzer controls: each
 * of the four messages is passed, XOR-ed, replaced, has one byte set, or is dropped. The
 * secret, ids, nonces and the server's view of the tunnel come from the input too.
 *
 * Invariants: a machine that completes has received every MAC-protected byte intact and
 * every reserved byte zero; a server that refuses a HELLO sends zero nonce and proof; an
 * untouched exchange between matching sides completes on both ends.
 *
 * Input: flags, secret length, secret, tunnel id (16), secret id (16), client nonce (32),
 * server nonce (32), role, then one operation per message (see tamper()). Missing bytes
 * read as zero, so a short input is an untouched exchange. */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "gsla.h"

enum {
    SERVER_OTHER_SECRET = 1, /* the server checks against another secret */
    SERVER_OTHER_TUNNEL = 2, /* the server knows another tunnel */
    SERVER_NEWER_SECRET = 4, /* the server's secret id differs (stale on the client) */
    CLIENT_NO_SECRET_ID = 8, /* the client sends a zero secret id */
};
enum { HELLO, CHALLENGE, RESPONSE, RESULT, MESSAGES };

typedef struct {
    uint8_t sent[GSLA_MAX_MESSAGE];
    uint8_t delivered[GSLA_MAX_MESSAGE];
    size_t size;
    int arrived; /* 0: never sent, or dropped */
} message;

/* Applies the input's operation for one message; 0 when the message is dropped. */
static int tamper(fuzz_reader *r, message *m)
{
    uint8_t mask[GSLA_MAX_MESSAGE];
    memcpy(m->delivered, m->sent, m->size);
    switch (fuzz_byte(r) % 5) {
    case 0: /* passed untouched */
        break;
    case 1:
        fuzz_bytes(r, mask, m->size);
        for (size_t i = 0; i < m->size; i++)
            m->delivered[i] ^= mask[i];
        break;
    case 2:
        fuzz_bytes(r, m->delivered, m->size);
        break;
    case 3: {
        uint8_t at = fuzz_byte(r);
        m->delivered[at % m->size] = fuzz_byte(r);
        break;
    }
    default:
        return 0; /* the connection closes before it arrives */
    }
    m->arrived = 1;
    return 1;
}

static int intact(const message *m, size_t from, size_t to)
{
    return m->arrived && memcmp(m->sent + from, m->delivered + from, to - from) == 0;
}

static int zero(const uint8_t *bytes, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (bytes[i] != 0)
            return 0;
    return 1;
}

/* One party's message into the other's machine; returns the reply's size. */
static size_t deliver(gsla *to, fuzz_reader *r, message *m, uint8_t reply[GSLA_MAX_MESSAGE])
{
    size_t reply_len = 0;
    if (tamper(r, m))
        gsla_receive(to, m->delivered, m->size, reply, &reply_len);
    return reply_len;
}

static void check_client(const gsla *client, const message *msgs, int same_side)
{
    if (client->state != GSLA_ESTABLISHED)
        return;
    const message *challenge = &msgs[CHALLENGE], *result = &msgs[RESULT];
    FUZZ_CHECK(same_side, "the client completed against a server with another secret or tunnel");
    FUZZ_CHECK(client->status == GSLA_OK, "status %d", client->status);
    /* The server's proof covers the HELLO it saw and its nonce. */
    FUZZ_CHECK(intact(&msgs[HELLO], 0, GSLA_HELLO_SIZE), "HELLO changed on the way");
    FUZZ_CHECK(intact(challenge, 8, GSLA_CHALLENGE_SIZE), "CHALLENGE nonce or proof changed");
    FUZZ_CHECK(challenge->delivered[5] == GSLA_OK && result->delivered[5] == GSLA_OK,
               "completed on a non-OK status");
    FUZZ_CHECK(zero(challenge->delivered, 6, 8), "CHALLENGE reserved bytes %02x %02x",
               challenge->delivered[6], challenge->delivered[7]);
    FUZZ_CHECK(zero(result->delivered, 6, 8), "RESULT reserved bytes %02x %02x",
               result->delivered[6], result->delivered[7]);
}

static void check_server(const gsla *server, const message *msgs, int same_side)
{
    if (server->state != GSLA_ESTABLISHED)
        return;
    const message *response = &msgs[RESPONSE];
    FUZZ_CHECK(same_side, "the server completed against a client with another secret or tunnel");
    FUZZ_CHECK(server->status == GSLA_OK, "status %d", server->status);
    /* The client's proof covers its HELLO and the whole CHALLENGE it saw. */
    FUZZ_CHECK(intact(&msgs[HELLO], 0, GSLA_HELLO_SIZE), "HELLO changed on the way");
    FUZZ_CHECK(intact(&msgs[CHALLENGE], 0, GSLA_CHALLENGE_SIZE), "CHALLENGE changed on the way");
    FUZZ_CHECK(intact(response, 8, GSLA_RESPONSE_SIZE), "RESPONSE proof changed");
    FUZZ_CHECK(zero(msgs[HELLO].delivered, 6, 8), "HELLO reserved bytes");
    FUZZ_CHECK(zero(response->delivered, 5, 8), "RESPONSE reserved bytes %02x %02x %02x",
               response->delivered[5], response->delivered[6], response->delivered[7]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader r = {data, size};
    uint8_t flags = fuzz_byte(&r);
    char secret[64];
    size_t secret_len = fuzz_byte(&r) % (sizeof secret - 1);
    fuzz_bytes(&r, (uint8_t *)secret, secret_len);
    uint8_t tunnel_id[GSLA_ID_SIZE], secret_id[GSLA_ID_SIZE];
    uint8_t client_nonce[GSLA_NONCE_SIZE], server_nonce[GSLA_NONCE_SIZE];
    fuzz_bytes(&r, tunnel_id, sizeof tunnel_id);
    fuzz_bytes(&r, secret_id, sizeof secret_id);
    fuzz_bytes(&r, client_nonce, sizeof client_nonce);
    fuzz_bytes(&r, server_nonce, sizeof server_nonce);
    int role = fuzz_byte(&r) & 1 ? GSLA_ROLE_ACCESS_POINT : GSLA_ROLE_APPLICATION;

    gsla_credential known;
    memcpy(known.tunnel_id, tunnel_id, GSLA_ID_SIZE);
    memcpy(known.secret_id, secret_id, GSLA_ID_SIZE);
    known.tunnel_id[0] ^= flags & SERVER_OTHER_TUNNEL ? 1 : 0;
    known.secret_id[15] ^= flags & SERVER_NEWER_SECRET ? 1 : 0;
    secret[secret_len] = 'x'; /* another secret: one byte longer */
    gsi_hmac_key_init(&known.key, secret, secret_len + (flags & SERVER_OTHER_SECRET ? 1 : 0));
    static const uint8_t no_id[GSLA_ID_SIZE];
    int stale = (flags & SERVER_NEWER_SECRET) && !(flags & CLIENT_NO_SECRET_ID) &&
                memcmp(secret_id, no_id, GSLA_ID_SIZE) != 0;
    int same_side = !(flags & (SERVER_OTHER_SECRET | SERVER_OTHER_TUNNEL)) && !stale;

    gsla client, server;
    gsla_client_init(&client, tunnel_id, flags & CLIENT_NO_SECRET_ID ? no_id : secret_id, secret,
                     secret_len, role, client_nonce);
    gsla_server_init(&server, server_nonce, gsla_lookup_one, &known);

    message msgs[MESSAGES] = {{.size = GSLA_HELLO_SIZE},
                              {.size = GSLA_CHALLENGE_SIZE},
                              {.size = GSLA_RESPONSE_SIZE},
                              {.size = GSLA_RESULT_SIZE}};
    uint8_t nothing[GSLA_MAX_MESSAGE]; /* the client answers a RESULT with nothing */
    gsla_client_start(&client, msgs[HELLO].sent);
    if (deliver(&server, &r, &msgs[HELLO], msgs[CHALLENGE].sent) == GSLA_CHALLENGE_SIZE) {
        if (server.state == GSLA_REFUSED)
            FUZZ_CHECK(msgs[CHALLENGE].sent[5] != GSLA_OK &&
                           zero(msgs[CHALLENGE].sent, 6, GSLA_CHALLENGE_SIZE),
                       "a refusing CHALLENGE carries a nonce or proof");
        if (deliver(&client, &r, &msgs[CHALLENGE], msgs[RESPONSE].sent) == GSLA_RESPONSE_SIZE &&
            deliver(&server, &r, &msgs[RESPONSE], msgs[RESULT].sent) == GSLA_RESULT_SIZE)
            deliver(&client, &r, &msgs[RESULT], nothing);
    }
    check_client(&client, msgs, same_side);
    check_server(&server, msgs, same_side);
    int untouched = 1;
    for (int i = 0; i < MESSAGES; i++)
        untouched = untouched && intact(&msgs[i], 0, msgs[i].size);
    if (untouched && same_side)
        FUZZ_CHECK(client.state == GSLA_ESTABLISHED && server.state == GSLA_ESTABLISHED,
                   "an untouched exchange ended with client %d, server %d", client.state,
                   server.state);
    gsla_wipe(&client);
    gsla_wipe(&server);
    return 0;
}
