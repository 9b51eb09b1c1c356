/* Tunnel conf files (SPEC 3.1): `<dir>/<tunnel_id>.conf`, key=value lines split at the
 * first '='. Files that group or others may read or write, and anything but a regular
 * file, are refused. Parsed files are cached per tunnel and re-read when the file changes
 * (stat), so a fresh conf costs one stat() per lookup; the cache lives in memory kept out
 * of core dumps and is wiped when a conf changes and at exit (it holds LAN secrets).
 *
 * Meanings, the same in every reader (tests/intercept/test_conf_meanings.py runs one
 * table against the C and the Python readers): lines split at '\n', one trailing '\r'
 * dropped, keys trimmed of spaces and tabs, values kept byte for byte, blank and '#'
 * lines skipped, the last of duplicate keys wins. Numbers are plain decimal digits,
 * clamped to GSI_CONF_NUMBER_MAX; any other text counts as absent (with a debug line).
 * connector_contact_string_ttl: 0 = always ask the CLI, absent = GSI_CONF_DEFAULT_TTL. */
#ifndef GSI_CONF_H
#define GSI_CONF_H

#include <stddef.h>
#include <stdint.h>

#define GSI_CONF_MAX_FILE 65536
#define GSI_CONF_SECRET_MAX 512
#define GSI_CONF_CONTACT_MAX 300
#define GSI_CONF_NAMES_MAX 2048
#define GSI_CONF_DEFAULT_TTL 60
#define GSI_CONF_NUMBER_MAX 1000000000000LL /* about 31,700 years in seconds */

enum gsi_conf_role { GSI_ROLE_UNKNOWN, GSI_ROLE_INITIATOR, GSI_ROLE_LISTENER };

typedef struct {
    enum gsi_conf_role role;
    char lankey[GSI_CONF_SECRET_MAX]; /* the LAN secret: never logged */
    size_t lankey_len;
    uint8_t lankey_id[16]; /* zero when absent */
    char contact[GSI_CONF_CONTACT_MAX]; /* connector_contact_string, "" when absent */
    int has_update_time;
    int64_t update_time;
    int64_t contact_ttl; /* connector_contact_string_ttl, GSI_CONF_DEFAULT_TTL when absent */
    int has_expiration;
    int64_t expiration_time; /* tunnel_expiration_time */
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

/* Splits `text` (`len` bytes, modified in place) into key=value lines for `visit`; 0, or
 * EINVAL when a line is not key=value or the text holds a NUL byte. `text` must have room
 * for `len` + 1 bytes: the last line is ended with a NUL at text[len]. `source` names the
 * text in debug lines. */
int gsi_conf_parse_text(char *text, size_t len, const char *source, gsi_conf_visit visit,
                        void *ctx);

/* Fills `out` from conf text (`len` bytes in a buffer of `len` + 1); 0 or EINVAL (garbled: not key=value, unknown role, bad
 * lankey_id, a value too long). */
int gsi_conf_from_text(char *text, size_t len, const char *source, gsi_conf *out);

/* Where the parsed-conf cache lives (tests check it is kept out of core dumps and wiped). */
void gsi_conf_cache_region(void **start, size_t *size);

/* Erases a copy of a conf (it holds the secret). */
void gsi_conf_wipe(gsi_conf *conf);

#endif
