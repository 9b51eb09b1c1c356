/* Test entry points reached through ctypes (orbit_globus/native.py). Prefixed gsi_test_;
 * they expose the core's behaviour (hash, handshake machines, handshake over a socket,
 * conf parsing and meanings, contact parsing, lookup and refresh) without exposing its
 * structures. Built only into the test library (libintercept/build.py
 * build_test_library), never into the installed one, which exports only the hooks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "cli.h"
#include "contact.h"
#include "contact_text.h"
#include "export.h"
#include "gsla.h"
#include "ids.h"
#include "rand.h"
#include "sha256.h"
#include "wire.h"

#define GSI_VERSION "0.1.0"

GSI_EXPORT const char *globus_streams_version(void)
{
    return "libglobus_streams_client " GSI_VERSION " (GSLA v1)";
}

GSI_EXPORT void gsi_test_sha256(const void *data, size_t len, uint8_t out[32])
{
    gsi_sha256 h;
    gsi_sha256_init(&h);
    gsi_sha256_update(&h, data, len);
    gsi_sha256_final(&h, out);
}

GSI_EXPORT void gsi_test_hmac_sha256(const void *key, size_t key_len, const void *data,
                                     size_t len, uint8_t out[32])
{
    gsi_hmac_key k;
    gsi_hmac mac;
    gsi_hmac_key_init(&k, key, key_len);
    gsi_hmac_init(&mac, &k);
    gsi_hmac_update(&mac, data, len);
    gsi_hmac_final(&mac, out);
}

GSI_EXPORT int gsi_test_ct_equal(const void *a, const void *b, size_t len)
{
    return gsi_ct_equal(a, b, len);
}

/* A machine together with what a server checks against. */
typedef struct {
    gsla hs;
    gsla_credential known;
} test_machine;

static int ids(const char *tunnel_id, const char *secret_id, uint8_t tid[16], uint8_t sid[16])
{
    memset(sid, 0, 16);
    return gsi_uuid_parse(tunnel_id, tid) &&
           (secret_id == NULL || *secret_id == '\0' || gsi_uuid_parse(secret_id, sid));
}

/* `nonce` NULL: a random one. Returns NULL on a malformed id. */
GSI_EXPORT test_machine *gsi_test_client_new(const char *tunnel_id, const char *secret_id,
                                             const char *secret, int role, const uint8_t *nonce)
{
    uint8_t tid[16], sid[16], fresh[GSLA_NONCE_SIZE];
    if (!ids(tunnel_id, secret_id, tid, sid))
        return NULL;
    if (nonce == NULL && gsi_random_bytes(fresh, sizeof fresh) < 0)
        return NULL;
    test_machine *m = calloc(1, sizeof *m);
    if (m != NULL)
        gsla_client_init(&m->hs, tid, sid, secret, strlen(secret), role, nonce ? nonce : fresh);
    return m;
}

GSI_EXPORT test_machine *gsi_test_server_new(const char *tunnel_id, const char *secret_id,
                                             const char *secret, const uint8_t *nonce)
{
    uint8_t fresh[GSLA_NONCE_SIZE];
    test_machine *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    if (!ids(tunnel_id, secret_id, m->known.tunnel_id, m->known.secret_id) ||
        (nonce == NULL && gsi_random_bytes(fresh, sizeof fresh) < 0)) {
        free(m);
        return NULL;
    }
    gsi_hmac_key_init(&m->known.key, secret, strlen(secret));
    gsla_server_init(&m->hs, nonce ? nonce : fresh, gsla_lookup_one, &m->known);
    return m;
}

GSI_EXPORT size_t gsi_test_start(test_machine *m, uint8_t out[GSLA_MAX_MESSAGE])
{
    return gsla_client_start(&m->hs, out);
}

GSI_EXPORT size_t gsi_test_needed(test_machine *m) { return gsla_needed(&m->hs); }

GSI_EXPORT int gsi_test_receive(test_machine *m, const uint8_t *in, size_t len,
                                uint8_t out[GSLA_MAX_MESSAGE], size_t *out_len)
{
    return (int)gsla_receive(&m->hs, in, len, out, out_len);
}

GSI_EXPORT int gsi_test_status(test_machine *m) { return (int)m->hs.status; }
GSI_EXPORT int gsi_test_refusal(test_machine *m) { return (int)m->hs.refusal; }
GSI_EXPORT int gsi_test_state(test_machine *m) { return (int)m->hs.state; }

GSI_EXPORT void gsi_test_free(test_machine *m)
{
    if (m != NULL) {
        gsi_wipe(m, sizeof *m);
        free(m);
    }
}

/* Runs the machine over a socket (blocking or not) until its end; 0 or an errno value
 * (ECONNREFUSED, ETIMEDOUT, ...). The socket's flags are left as found. */
GSI_EXPORT int gsi_test_run_fd(test_machine *m, int fd, int timeout_ms)
{
    int flags = gsi_fd_make_nonblocking(fd);
    if (flags < 0)
        return errno;
    gsi_wire_limit limit = {gsi_now_ms() + timeout_ms, 0};
    int error = gsi_wire_handshake(fd, &m->hs, limit);
    gsi_fd_restore_flags(fd, flags);
    return error;
}

/* conf parsing: the value of `key` in the file at `path`. 0; ENODATA when the key is
 * absent; ENOSPC when `out` is too small; else the reader's errno (EACCES, EINVAL, ...). */
typedef struct {
    const char *key;
    char *out;
    size_t size;
    int result;
} conf_query;

static void find_key(void *ctx, const char *key, const char *value)
{
    conf_query *q = ctx;
    if (strcmp(key, q->key) != 0)
        return;
    size_t n = strlen(value);
    q->result = n < q->size ? 0 : ENOSPC;
    if (n < q->size)
        memcpy(q->out, value, n + 1);
}

GSI_EXPORT int gsi_test_conf_get(const char *path, const char *key, char *out, size_t size)
{
    conf_query q = {key, out, size, ENODATA};
    int error = gsi_conf_read(path, find_key, &q);
    return error ? error : q.result;
}

/* The access point address connect() would use for `tunnel_id` now (conf, or a CLI
 * refresh when the conf's contact expired), as "ip:port" or "[ip]:port". */
GSI_EXPORT int gsi_test_contact(const char *tunnel_id, char *out, size_t size)
{
    gsi_conf conf;
    struct sockaddr_storage addr;
    socklen_t len;
    int error = gsi_conf_load(tunnel_id, &conf);
    if (!error)
        error = gsi_contact_address(tunnel_id, &conf, &addr, &len, NULL);
    gsi_conf_wipe(&conf);
    if (error)
        return error;
    char text[64];
    gsi_contact_format(&addr, text, sizeof text);
    int n = snprintf(out, size, "%s", text);
    return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

GSI_EXPORT int gsi_test_contact_lookup(const char *tunnel_id, char *out, size_t size,
                                       int timeout_ms)
{
    return gsi_cli_contact_lookup(tunnel_id, 0, out, size, timeout_ms);
}

static int put_text(char *out, size_t size, const char *text)
{
    int n = snprintf(out, size, "%s", text);
    return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

/* The contact parser: 0 with the address formatted back, or EINVAL. */
GSI_EXPORT int gsi_test_contact_parse(const char *text, char *out, size_t size)
{
    struct sockaddr_storage addr;
    socklen_t len;
    if (!gsi_contact_parse(text, &addr, &len))
        return EINVAL;
    char formatted[64];
    gsi_contact_format(&addr, formatted, sizeof formatted);
    return put_text(out, size, formatted);
}

/* What connect() does after `refused` refused a connection: the fresh address to retry,
 * or the errno value gsi_contact_refresh gives. */
GSI_EXPORT int gsi_test_contact_refresh(const char *tunnel_id, const char *refused, char *out,
                                        size_t size)
{
    struct sockaddr_storage was, addr;
    socklen_t len;
    if (!gsi_contact_parse(refused, &was, &len))
        return EINVAL;
    gsi_conf conf;
    int error = gsi_conf_load(tunnel_id, &conf);
    if (!error)
        error = gsi_contact_refresh(tunnel_id, &conf, &was, &addr, &len);
    gsi_conf_wipe(&conf);
    if (error)
        return error;
    char text[64];
    gsi_contact_format(&addr, text, sizeof text);
    return put_text(out, size, text);
}

static const char *role_name(enum gsi_conf_role role)
{
    return role == GSI_ROLE_INITIATOR ? "initiator"
           : role == GSI_ROLE_LISTENER ? "listener"
                                       : "";
}

/* What the library makes of the conf of `tunnel_id` (in $GLOBUS_STREAMS_DIR), one
 * "name=value" line per meaning, "absent" for numbers it does not have; `fresh` says
 * whether the contact may be used at unix time `now` without asking the CLI. 0 or the
 * loader's errno value. The secret is included: this is the test build only. */
GSI_EXPORT int gsi_test_conf_meaning(const char *tunnel_id, long long now, char *out,
                                     size_t size)
{
    gsi_conf c;
    int error = gsi_conf_load(tunnel_id, &c);
    if (error)
        return error;
    char lankey_id[GSI_UUID_TEXT] = "";
    static const uint8_t zero[16];
    if (memcmp(c.lankey_id, zero, 16) != 0)
        gsi_uuid_format(c.lankey_id, lankey_id);
    char update[32] = "absent", expiration[32] = "absent";
    if (c.has_update_time)
        snprintf(update, sizeof update, "%lld", (long long)c.update_time);
    if (c.has_expiration)
        snprintf(expiration, sizeof expiration, "%lld", (long long)c.expiration_time);
    int n = snprintf(out, size,
                     "role=%s\nlankey=%s\nlankey_id=%s\ncontact=%s\nupdate_time=%s\n"
                     "contact_ttl=%lld\ntunnel_expiration_time=%s\nglobus_contact=%s\n"
                     "fresh=%d\n",
                     role_name(c.role), c.lankey, lankey_id, c.contact, update,
                     (long long)c.contact_ttl, expiration, c.globus_contact,
                     gsi_contact_is_fresh(&c, (int64_t)now));
    gsi_conf_wipe(&c);
    return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

/* Where the parsed-conf cache lives. */
GSI_EXPORT void gsi_test_conf_cache_region(void **start, size_t *size)
{
    gsi_conf_cache_region(start, size);
}
