/* GSLA v1 (SPEC 4) as two small state machines that never touch a socket: the caller
 * reads exactly gsla_needed() bytes, hands them to gsla_receive() and sends what it
 * returns. wire.c runs them over a file descriptor. */
#ifndef GSI_GSLA_H
#define GSI_GSLA_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define GSLA_HELLO_SIZE 72
#define GSLA_CHALLENGE_SIZE 72
#define GSLA_RESPONSE_SIZE 40
#define GSLA_RESULT_SIZE 8
#define GSLA_MAX_MESSAGE 72
#define GSLA_NONCE_SIZE 32
#define GSLA_ID_SIZE 16

enum gsla_role { GSLA_ROLE_APPLICATION = 1, GSLA_ROLE_ACCESS_POINT = 2 };

enum gsla_status {
    GSLA_OK = 0,
    GSLA_AUTH_FAILED = 1,
    GSLA_UNKNOWN_TUNNEL = 2,
    GSLA_TUNNEL_NOT_ACTIVE = 3,
    GSLA_UNSUPPORTED_VERSION = 4,
    GSLA_STALE_SECRET = 5,
    GSLA_BAD_MESSAGE = 6,
    GSLA_INTERNAL = 255,
};

enum gsla_state {
    GSLA_SEND_HELLO,
    GSLA_AWAIT_HELLO,
    GSLA_AWAIT_CHALLENGE,
    GSLA_AWAIT_RESPONSE,
    GSLA_AWAIT_RESULT,
    GSLA_ESTABLISHED,
    GSLA_REFUSED,
};

/* Who ended a refused handshake: the peer said no, or the peer's bytes/proof were wrong,
 * or (server) this side refused the client. */
enum gsla_refusal { GSLA_NOT_REFUSED, GSLA_REFUSED_BY_PEER, GSLA_PEER_MISBEHAVED, GSLA_REFUSED_PEER };

typedef struct {
    int role;
    uint8_t tunnel_id[GSLA_ID_SIZE];
    uint8_t secret_id[GSLA_ID_SIZE];
} gsla_hello;

/* Decides which key a server checks a HELLO against, or the status to refuse it with. */
typedef enum gsla_status (*gsla_lookup)(void *ctx, const gsla_hello *hello, gsi_hmac_key *key);

typedef struct {
    enum gsla_state state;
    enum gsla_status status; /* final status once ESTABLISHED or REFUSED */
    enum gsla_refusal refusal;
    gsi_hmac_key key;
    uint8_t hello[GSLA_HELLO_SIZE];
    uint8_t challenge[GSLA_CHALLENGE_SIZE];
    uint8_t nonce[GSLA_NONCE_SIZE]; /* this side's nonce */
    gsla_hello peer_hello;          /* server: the decoded HELLO */
    gsla_lookup lookup;
    void *lookup_ctx;
} gsla;

void gsla_client_init(gsla *hs, const uint8_t tunnel_id[GSLA_ID_SIZE],
                      const uint8_t secret_id[GSLA_ID_SIZE], const char *secret,
                      size_t secret_len, int role, const uint8_t nonce[GSLA_NONCE_SIZE]);
/* Writes the HELLO into `out` and returns its size. */
size_t gsla_client_start(gsla *hs, uint8_t out[GSLA_MAX_MESSAGE]);

void gsla_server_init(gsla *hs, const uint8_t nonce[GSLA_NONCE_SIZE], gsla_lookup lookup,
                      void *lookup_ctx);

/* Bytes to read before the next gsla_receive(); 0 once the handshake has ended. */
size_t gsla_needed(const gsla *hs);

/* Feeds exactly gsla_needed() bytes; writes the reply (possibly empty) into `out` and its
 * size into `out_len`; returns the new state. A server in REFUSED has a reply to send
 * before it closes. */
enum gsla_state gsla_receive(gsla *hs, const uint8_t *in, size_t len,
                             uint8_t out[GSLA_MAX_MESSAGE], size_t *out_len);

/* Erases the key material. */
void gsla_wipe(gsla *hs);

/* A lookup for a server that knows one tunnel and its current secret (listener side). */
typedef struct {
    uint8_t tunnel_id[GSLA_ID_SIZE];
    uint8_t secret_id[GSLA_ID_SIZE];
    gsi_hmac_key key;
} gsla_credential;

enum gsla_status gsla_lookup_one(void *credential, const gsla_hello *hello, gsi_hmac_key *key);

const char *gsla_status_name(int status);

#endif
