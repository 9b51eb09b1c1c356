#include "contact.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "contact_cache.h"
#include "contact_text.h"
#include "env.h"
#include "log.h"

int gsi_contact_is_fresh(const gsi_conf *conf, int64_t now)
{
    return conf->contact[0] != '\0' && conf->has_update_time &&
           now < conf->update_time + conf->contact_ttl;
}

/* How long a contact the CLI gave is kept: the conf's TTL (0: not kept). */
static int64_t keep_ms(const gsi_conf *conf)
{
    return conf->contact_ttl * 1000;
}

/* The contact string to use now; 0 or EHOSTUNREACH. `refreshable`: the CLI was not asked. */
static int pick_contact(const char *tunnel_id, const gsi_conf *conf, char *out, size_t size,
                        int *refreshable)
{
    *refreshable = 1;
    if (gsi_contact_is_fresh(conf, (int64_t)time(NULL))) {
        snprintf(out, size, "%s", conf->contact);
        return 0;
    }
    int failed = 0;
    if (gsi_cache_recall(tunnel_id, out, size, &failed)) {
        if (!failed)
            return 0;
        *refreshable = 0; /* the CLI failed moments ago: do not ask again yet */
    } else {
        *refreshable = 0;
        GSI_DEBUG("tunnel %s: contact %s; asking the CLI", tunnel_id,
                  conf->contact[0] ? "expired" : "missing");
        int error =
            gsi_cli_contact_lookup(tunnel_id, 0, out, size, gsi_env_handshake_timeout_ms());
        if (!error) {
            gsi_cache_remember(tunnel_id, out, keep_ms(conf), 0);
            return 0;
        }
        gsi_cache_remember(tunnel_id, "", GSI_CONTACT_RETRY_MS, 1);
    }
    if (conf->contact[0] == '\0') {
        GSI_WARN("tunnel %s: no usable contact", tunnel_id);
        return EHOSTUNREACH;
    }
    GSI_DEBUG("tunnel %s: using the expired contact %s", tunnel_id, conf->contact);
    snprintf(out, size, "%s", conf->contact);
    return 0;
}

static int parse_or_warn(const char *tunnel_id, const char *contact,
                         struct sockaddr_storage *out, socklen_t *len)
{
    if (gsi_contact_parse(contact, out, len))
        return 1;
    GSI_WARN("tunnel %s: contact '%s' is not ip:port or [ipv6]:port", tunnel_id, contact);
    return 0;
}

int gsi_contact_address(const char *tunnel_id, const gsi_conf *conf,
                        struct sockaddr_storage *out, socklen_t *len, int *refreshable)
{
    char contact[GSI_CONF_CONTACT_MAX];
    int ignored;
    if (pick_contact(tunnel_id, conf, contact, sizeof contact,
                     refreshable ? refreshable : &ignored) != 0)
        return EHOSTUNREACH;
    return parse_or_warn(tunnel_id, contact, out, len) ? 0 : EHOSTUNREACH;
}

int gsi_contact_refresh(const char *tunnel_id, const gsi_conf *conf,
                        const struct sockaddr_storage *refused, struct sockaddr_storage *out,
                        socklen_t *len)
{
    char was[64], contact[GSI_CONF_CONTACT_MAX];
    gsi_contact_format(refused, was, sizeof was);
    int timeout_ms = gsi_env_handshake_timeout_ms();
    if (gsi_cache_claim_forced(tunnel_id, timeout_ms + 1000, contact, sizeof contact)) {
        GSI_DEBUG("tunnel %s: the access point %s refused the connection (restarted "
                  "tunnel?); asking the CLI for a fresh contact",
                  tunnel_id, was);
        int error = gsi_cli_contact_lookup(tunnel_id, 1, contact, sizeof contact, timeout_ms);
        gsi_cache_finish_forced(tunnel_id, error ? "" : contact);
        if (error)
            return error;
        gsi_cache_remember(tunnel_id, contact, keep_ms(conf), 0);
    } else if (contact[0] == '\0') {
        GSI_WARN("tunnel %s: the access point %s refused the connection; the CLI was asked "
                 "for a fresh contact less than %d s ago without an answer, not asking again yet",
                 tunnel_id, was, GSI_CONTACT_RETRY_MS / 1000);
        return EAGAIN;
    } else {
        GSI_DEBUG("tunnel %s: the access point %s refused the connection; taking the contact "
                  "the CLI gave moments ago",
                  tunnel_id, was);
    }
    if (!parse_or_warn(tunnel_id, contact, out, len))
        return EINVAL;
    if (out->ss_family == refused->ss_family && memcmp(out, refused, *len) == 0) {
        GSI_WARN("tunnel %s: the fresh contact is the refused one, %s; not retrying", tunnel_id,
                 was);
        return EEXIST;
    }
    GSI_DEBUG("tunnel %s: retrying once with the fresh contact %s", tunnel_id, contact);
    return 0;
}
