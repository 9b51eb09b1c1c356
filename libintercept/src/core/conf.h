/* Tunnel conf files (SPEC 3.1): `<dir>/<tunnel_id>.conf`, key=value lines split at the
 * first '='. Files that group or others may read or write are refused. Parsed files are
 * cached per tunnel and re-read when the file changes (stat), so a fresh conf costs one
 * stat() per lookup. */
#ifndef GSI_CONF_H
#define GSI_CONF_H

#include <stddef.h>
#include <stdint.h>

#define GSI_CONF_MAX_FILE 65536
#define GSI_CONF_SECRET_MAX 512
#define GSI_CONF_CONTACT_MAX 300
#define GSI_CONF_NAMES_MAX 2048

enum gsi_conf_role { GSI_ROLE_UNKNOWN, GSI_ROLE_INITIATOR, GSI_ROLE_LISTENER };

typedef struct {
    enum gsi_conf_role role;
    char lankey[GSI_CONF_SECRET_MAX]; /* the LAN secret: never logged */
    size_t lankey_len;
    uint8_t lankey_id[16]; /* zero when absent */
    char contact[GSI_CONF_CONTACT_MAX]; /* connector_contact_string, "" when absent */
    double update_time;                 /* 0 when absent */
    double contact_ttl;                 /* connector_contact_string_ttl, 0 when absent */
    char globus_contact[GSI_CONF_NAMES_MAX];
} gsi_conf;

/* Loads the conf of `tunnel_id` (canonical text). 0, or an errno value:
 * ENOENT (no file), EACCES (group/other access, or unreadable), EINVAL (garbled),
 * EFBIG (too large). Says why in the debug output. */
int gsi_conf_load(const char *tunnel_id, gsi_conf *out);

/* Path of the conf file for `tunnel_id`; 0 or ENAMETOOLONG/ENOENT (no dir known). */
int gsi_conf_path(const char *tunnel_id, char *out, size_t size);

/* Reads the file at `path` with the permission check; calls `visit` per key=value line.
 * 0 or an errno value as for gsi_conf_load. */
typedef void (*gsi_conf_visit)(void *ctx, const char *key, const char *value);
int gsi_conf_read(const char *path, gsi_conf_visit visit, void *ctx);

/* Erases a copy of a conf (it holds the secret). */
void gsi_conf_wipe(gsi_conf *conf);

#endif
