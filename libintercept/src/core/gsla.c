#include "gsla.h"

#include <string.h>

static const uint8_t MAGIC[4] = {'G', 'S', 'L', 'A'};
static const uint8_t ZERO_ID[GSLA_ID_SIZE];
static const char SERVER_LABEL[] = "GSLA1/server";
static const char CLIENT_LABEL[] = "GSLA1/client";

enum { VERSION = 1, HEADER_SIZE = 8 };

/* magic, version, one meaningful byte (role or status), two zero bytes */
static void put_header(uint8_t *out, uint8_t second)
{
    memcpy(out, MAGIC, 4);
    out[4] = VERSION;
    out[5] = second;
    out[6] = 0;
    out[7] = 0;
}

/* GSLA_OK when magic and version are right and the reserved header bytes, from
 * `first_reserved` to the end of the header, are zero; else the status to report. */
static enum gsla_status check_header(const uint8_t *in, size_t first_reserved)
{
    if (memcmp(in, MAGIC, 4) != 0)
        return GSLA_BAD_MESSAGE;
    if (in[4] != VERSION)
        return GSLA_UNSUPPORTED_VERSION;
    for (size_t i = first_reserved; i < HEADER_SIZE; i++)
        if (in[i] != 0)
            return GSLA_BAD_MESSAGE;
    return GSLA_OK;
}

static int known_status(uint8_t value)
{
    return value <= GSLA_BAD_MESSAGE || value == GSLA_INTERNAL;
}

static void proof(const gsi_hmac_key *key, const char *label, const uint8_t *a, size_t a_len,
                  const uint8_t *b, size_t b_len, uint8_t out[GSI_SHA256_SIZE])
{
    gsi_hmac mac;
    gsi_hmac_init(&mac, key);
    gsi_hmac_update(&mac, label, strlen(label));
    gsi_hmac_update(&mac, a, a_len);
    gsi_hmac_update(&mac, b, b_len);
    gsi_hmac_final(&mac, out);
}

static enum gsla_state end(gsla *hs, enum gsla_state state, enum gsla_status status,
                           enum gsla_refusal refusal)
{
    hs->state = state;
    hs->status = status;
    hs->refusal = refusal;
    return state;
}

void gsla_client_init(gsla *hs, const uint8_t tunnel_id[GSLA_ID_SIZE],
                      const uint8_t secret_id[GSLA_ID_SIZE], const char *secret,
                      size_t secret_len, int role, const uint8_t nonce[GSLA_NONCE_SIZE])
{
    memset(hs, 0, sizeof *hs);
    hs->state = GSLA_SEND_HELLO;
    gsi_hmac_key_init(&hs->key, secret, secret_len);
    memcpy(hs->nonce, nonce, GSLA_NONCE_SIZE);
    put_header(hs->hello, (uint8_t)role);
    memcpy(hs->hello + 8, tunnel_id, GSLA_ID_SIZE);
    memcpy(hs->hello + 24, secret_id ? secret_id : ZERO_ID, GSLA_ID_SIZE);
    memcpy(hs->hello + 40, nonce, GSLA_NONCE_SIZE);
}

size_t gsla_client_start(gsla *hs, uint8_t out[GSLA_MAX_MESSAGE])
{
    hs->state = GSLA_AWAIT_CHALLENGE;
    memcpy(out, hs->hello, GSLA_HELLO_SIZE);
    return GSLA_HELLO_SIZE;
}

void gsla_server_init(gsla *hs, const uint8_t nonce[GSLA_NONCE_SIZE], gsla_lookup lookup,
                      void *lookup_ctx)
{
    memset(hs, 0, sizeof *hs);
    hs->state = GSLA_AWAIT_HELLO;
    memcpy(hs->nonce, nonce, GSLA_NONCE_SIZE);
    hs->lookup = lookup;
    hs->lookup_ctx = lookup_ctx;
}

size_t gsla_needed(const gsla *hs)
{
    switch (hs->state) {
    case GSLA_AWAIT_HELLO:
        return GSLA_HELLO_SIZE;
    case GSLA_AWAIT_CHALLENGE:
        return GSLA_CHALLENGE_SIZE;
    case GSLA_AWAIT_RESPONSE:
        return GSLA_RESPONSE_SIZE;
    case GSLA_AWAIT_RESULT:
        return GSLA_RESULT_SIZE;
    default:
        return 0;
    }
}

/* client: checks a CHALLENGE's or RESULT's header and status; 1 when the server said OK,
 * else ends the handshake (peer misbehaved, or refused by the peer). */
static int server_said_ok(gsla *hs, const uint8_t *in)
{
    enum gsla_status bad = check_header(in, 6);
    if (bad == GSLA_OK && !known_status(in[5]))
        bad = GSLA_BAD_MESSAGE;
    if (bad != GSLA_OK)
        end(hs, GSLA_REFUSED, bad, GSLA_PEER_MISBEHAVED);
    else if (in[5] != GSLA_OK)
        end(hs, GSLA_REFUSED, (enum gsla_status)in[5], GSLA_REFUSED_BY_PEER);
    return bad == GSLA_OK && in[5] == GSLA_OK;
}

/* client: CHALLENGE in, RESPONSE out */
static enum gsla_state on_challenge(gsla *hs, const uint8_t *in, uint8_t *out, size_t *out_len)
{
    if (!server_said_ok(hs, in))
        return hs->state;
    uint8_t expected[GSI_SHA256_SIZE];
    proof(&hs->key, SERVER_LABEL, hs->hello, GSLA_HELLO_SIZE, in + 8, GSLA_NONCE_SIZE, expected);
    if (!gsi_ct_equal(expected, in + 40, GSI_SHA256_SIZE))
        return end(hs, GSLA_REFUSED, GSLA_AUTH_FAILED, GSLA_PEER_MISBEHAVED);
    put_header(out, 0);
    proof(&hs->key, CLIENT_LABEL, hs->hello, GSLA_HELLO_SIZE, in, GSLA_CHALLENGE_SIZE, out + 8);
    *out_len = GSLA_RESPONSE_SIZE;
    hs->state = GSLA_AWAIT_RESULT;
    return hs->state;
}

/* client: RESULT in, nothing out */
static enum gsla_state on_result(gsla *hs, const uint8_t *in)
{
    if (!server_said_ok(hs, in))
        return hs->state;
    return end(hs, GSLA_ESTABLISHED, GSLA_OK, GSLA_NOT_REFUSED);
}

/* server: refuse at the CHALLENGE (zero nonce and proof) */
static enum gsla_state refuse_hello(gsla *hs, enum gsla_status status, uint8_t *out,
                                    size_t *out_len)
{
    memset(out, 0, GSLA_CHALLENGE_SIZE);
    put_header(out, (uint8_t)status);
    *out_len = GSLA_CHALLENGE_SIZE;
    return end(hs, GSLA_REFUSED, status, GSLA_REFUSED_PEER);
}

/* server: HELLO in, CHALLENGE out */
static enum gsla_state on_hello(gsla *hs, const uint8_t *in, uint8_t *out, size_t *out_len)
{
    enum gsla_status bad = check_header(in, 6);
    if (bad != GSLA_OK)
        return refuse_hello(hs, bad, out, out_len);
    if (in[5] != GSLA_ROLE_APPLICATION && in[5] != GSLA_ROLE_ACCESS_POINT)
        return refuse_hello(hs, GSLA_BAD_MESSAGE, out, out_len);
    hs->peer_hello.role = in[5];
    memcpy(hs->peer_hello.tunnel_id, in + 8, GSLA_ID_SIZE);
    memcpy(hs->peer_hello.secret_id, in + 24, GSLA_ID_SIZE);
    enum gsla_status decision = hs->lookup(hs->lookup_ctx, &hs->peer_hello, &hs->key);
    if (decision != GSLA_OK)
        return refuse_hello(hs, decision, out, out_len);
    memcpy(hs->hello, in, GSLA_HELLO_SIZE);
    put_header(hs->challenge, GSLA_OK);
    memcpy(hs->challenge + 8, hs->nonce, GSLA_NONCE_SIZE);
    proof(&hs->key, SERVER_LABEL, in, GSLA_HELLO_SIZE, hs->nonce, GSLA_NONCE_SIZE,
          hs->challenge + 40);
    memcpy(out, hs->challenge, GSLA_CHALLENGE_SIZE);
    *out_len = GSLA_CHALLENGE_SIZE;
    hs->state = GSLA_AWAIT_RESPONSE;
    return hs->state;
}

/* server: RESPONSE in, RESULT out */
static enum gsla_state on_response(gsla *hs, const uint8_t *in, uint8_t *out, size_t *out_len)
{
    enum gsla_status status = check_header(in, 5);
    if (status == GSLA_OK) {
        uint8_t expected[GSI_SHA256_SIZE];
        proof(&hs->key, CLIENT_LABEL, hs->hello, GSLA_HELLO_SIZE, hs->challenge,
              GSLA_CHALLENGE_SIZE, expected);
        if (!gsi_ct_equal(expected, in + 8, GSI_SHA256_SIZE))
            status = GSLA_AUTH_FAILED;
    }
    put_header(out, (uint8_t)status);
    *out_len = GSLA_RESULT_SIZE;
    if (status == GSLA_OK)
        return end(hs, GSLA_ESTABLISHED, status, GSLA_NOT_REFUSED);
    return end(hs, GSLA_REFUSED, status, GSLA_REFUSED_PEER);
}

enum gsla_state gsla_receive(gsla *hs, const uint8_t *in, size_t len,
                             uint8_t out[GSLA_MAX_MESSAGE], size_t *out_len)
{
    *out_len = 0;
    if (len != gsla_needed(hs) || len == 0)
        return end(hs, GSLA_REFUSED, GSLA_INTERNAL, GSLA_PEER_MISBEHAVED);
    switch (hs->state) {
    case GSLA_AWAIT_HELLO:
        return on_hello(hs, in, out, out_len);
    case GSLA_AWAIT_CHALLENGE:
        return on_challenge(hs, in, out, out_len);
    case GSLA_AWAIT_RESPONSE:
        return on_response(hs, in, out, out_len);
    default:
        return on_result(hs, in);
    }
}

void gsla_wipe(gsla *hs)
{
    gsi_wipe(&hs->key, sizeof hs->key);
}

enum gsla_status gsla_lookup_one(void *credential, const gsla_hello *hello, gsi_hmac_key *key)
{
    const gsla_credential *known = credential;
    if (memcmp(hello->tunnel_id, known->tunnel_id, GSLA_ID_SIZE) != 0)
        return GSLA_UNKNOWN_TUNNEL;
    if (memcmp(hello->secret_id, ZERO_ID, GSLA_ID_SIZE) != 0 &&
        memcmp(hello->secret_id, known->secret_id, GSLA_ID_SIZE) != 0)
        return GSLA_STALE_SECRET;
    *key = known->key;
    return GSLA_OK;
}

const char *gsla_status_name(int status)
{
    switch (status) {
    case GSLA_OK:
        return "OK";
    case GSLA_AUTH_FAILED:
        return "AUTH_FAILED";
    case GSLA_UNKNOWN_TUNNEL:
        return "UNKNOWN_TUNNEL";
    case GSLA_TUNNEL_NOT_ACTIVE:
        return "TUNNEL_NOT_ACTIVE";
    case GSLA_UNSUPPORTED_VERSION:
        return "UNSUPPORTED_VERSION";
    case GSLA_STALE_SECRET:
        return "STALE_SECRET";
    case GSLA_BAD_MESSAGE:
        return "BAD_MESSAGE";
    default:
        return "INTERNAL";
    }
}
