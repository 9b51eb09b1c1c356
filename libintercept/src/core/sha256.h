/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), self-contained so the library
 * cross-builds with zig alone. */
#ifndef GSI_SHA256_H
#define GSI_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define GSI_SHA256_SIZE 32
#define GSI_SHA256_BLOCK 64

typedef struct {
    uint32_t h[8];
    uint64_t length; /* bytes hashed so far */
    uint8_t block[GSI_SHA256_BLOCK];
    size_t used;
} gsi_sha256;

void gsi_sha256_init(gsi_sha256 *ctx);
void gsi_sha256_update(gsi_sha256 *ctx, const void *data, size_t len);
void gsi_sha256_final(gsi_sha256 *ctx, uint8_t out[GSI_SHA256_SIZE]);

/* HMAC with the key folded into its block-sized form once; reused for several messages. */
typedef struct {
    uint8_t key_block[GSI_SHA256_BLOCK];
} gsi_hmac_key;

typedef struct {
    gsi_sha256 inner;
    uint8_t key_block[GSI_SHA256_BLOCK];
} gsi_hmac;

void gsi_hmac_key_init(gsi_hmac_key *key, const void *secret, size_t len);
void gsi_hmac_init(gsi_hmac *mac, const gsi_hmac_key *key);
void gsi_hmac_update(gsi_hmac *mac, const void *data, size_t len);
void gsi_hmac_final(gsi_hmac *mac, uint8_t out[GSI_SHA256_SIZE]);

/* 1 when equal; time depends only on len. */
int gsi_ct_equal(const void *a, const void *b, size_t len);

/* Overwrite memory the compiler may not optimise away (secrets, key blocks). */
void gsi_wipe(void *p, size_t len);

#endif
