#include "session.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "gsla.h"
#include "ids.h"
#include "log.h"
#include "rand.h"

/* Handshake errors seen by the application: refused, no answer in time, or a signal. */
static int as_connection_error(int error)
{
    return error == 0 || error == ETIMEDOUT || error == EINTR ? error : ECONNREFUSED;
}

static int conf_expired(const gsi_conf *conf)
{
    return conf->has_expiration && (int64_t)time(NULL) >= conf->expiration_time;
}

/* The notice for a refusal by the access point, when there is one to give. */
static void notice_refusal(const char *tunnel_id, const gsi_conf *conf, const gsla *hs)
{
    if (conf_expired(conf))
        gsi_notice(tunnel_id, GSI_NOTICE_TUNNEL_EXPIRED);
    else if (hs->refusal != GSLA_REFUSED_BY_PEER)
        return;
    else if (hs->status == GSLA_TUNNEL_NOT_ACTIVE)
        gsi_notice(tunnel_id, GSI_NOTICE_TUNNEL_NOT_ACTIVE);
    else if (hs->status == GSLA_STALE_SECRET)
        gsi_notice(tunnel_id, GSI_NOTICE_STALE_SECRET);
    else if (hs->status == GSLA_AUTH_FAILED)
        gsi_notice(tunnel_id, GSI_NOTICE_WRONG_SECRET);
}

int gsi_session_client(int fd, const uint8_t tunnel_id[16], const gsi_conf *conf,
                       gsi_wire_limit limit)
{
    if (conf->lankey_len == 0)
        return 0; /* the access point does not secure LAN connections */
    uint8_t nonce[GSLA_NONCE_SIZE];
    if (gsi_random_bytes(nonce, sizeof nonce) < 0) {
        GSI_WARN("no randomness for the handshake nonce: %s", strerror(errno));
        return ECONNREFUSED;
    }
    gsla hs;
    gsla_client_init(&hs, tunnel_id, conf->lankey_id, conf->lankey, conf->lankey_len,
                     GSLA_ROLE_APPLICATION, nonce);
    int error = as_connection_error(gsi_wire_handshake(fd, &hs, limit));
    char tid[GSI_UUID_TEXT];
    gsi_uuid_format(tunnel_id, tid);
    if (error == ETIMEDOUT) {
        GSI_WARN("tunnel %s: the access point did not answer the handshake in time", tid);
    } else if (error == EINTR) {
        GSI_DEBUG("tunnel %s: handshake interrupted by a signal", tid);
    } else if (error) {
        GSI_WARN("tunnel %s: handshake refused: %s%s", tid, gsla_status_name(hs.status),
                 hs.refusal == GSLA_PEER_MISBEHAVED ? " (the access point's reply was wrong)"
                                                    : "");
        notice_refusal(tid, conf, &hs);
    }
    gsla_wipe(&hs);
    return error;
}

int gsi_session_server(int fd, const char *tunnel_id, gsi_wire_limit limit)
{
    gsi_conf conf;
    int error = gsi_conf_load(tunnel_id, &conf);
    if (!error && conf.role != GSI_ROLE_LISTENER) {
        GSI_WARN("tunnel %s: the conf here is not the listener side", tunnel_id);
        error = EINVAL;
    }
    if (error) {
        gsi_conf_wipe(&conf);
        GSI_WARN("tunnel %s: no usable listener conf; connection refused", tunnel_id);
        gsi_notice(tunnel_id,
                   error == ENOENT ? GSI_NOTICE_CONF_MISSING : GSI_NOTICE_CONF_UNREADABLE);
        return ECONNREFUSED; /* fail closed: no conf, no connection */
    }
    int expired = conf_expired(&conf);
    if (conf.lankey_len == 0) {
        gsi_conf_wipe(&conf);
        return 0;
    }
    gsla_credential known;
    gsi_uuid_parse(tunnel_id, known.tunnel_id);
    memcpy(known.secret_id, conf.lankey_id, sizeof known.secret_id);
    gsi_hmac_key_init(&known.key, conf.lankey, conf.lankey_len);
    gsi_conf_wipe(&conf);
    uint8_t nonce[GSLA_NONCE_SIZE];
    if (gsi_random_bytes(nonce, sizeof nonce) < 0) {
        gsi_wipe(&known, sizeof known);
        return ECONNREFUSED;
    }
    gsla hs;
    gsla_server_init(&hs, nonce, gsla_lookup_one, &known);
    error = as_connection_error(gsi_wire_handshake(fd, &hs, limit));
    if (error == ETIMEDOUT) {
        GSI_WARN("tunnel %s: the access point did not finish the handshake in time", tunnel_id);
    } else if (error == EINTR) {
        GSI_DEBUG("tunnel %s: handshake interrupted by a signal", tunnel_id);
    } else if (error) {
        GSI_WARN("tunnel %s: connection refused: %s", tunnel_id, gsla_status_name(hs.status));
        if (expired)
            gsi_notice(tunnel_id, GSI_NOTICE_TUNNEL_EXPIRED);
        else if (hs.status == GSLA_STALE_SECRET)
            gsi_notice(tunnel_id, GSI_NOTICE_STALE_SECRET);
    }
    gsla_wipe(&hs);
    gsi_wipe(&known, sizeof known);
    return error;
}
