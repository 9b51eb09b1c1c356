/* Output of the library, in two kinds:
 *
 *  - debug lines carrying pid and call site, quiet unless GLOBUS_STREAMS_DEBUG=1, on
 *    stderr or in GLOBUS_STREAMS_LOG;
 *  - notices (SPEC 3.4): one line on stderr, debug on or not, when a tunnel connection is
 *    refused for a reason the user can act on, at most once per tunnel and reason.
 *
 * Neither ever writes into a descriptor the host has since closed and reused: stderr is
 * written only while it is still the file it was when the library loaded, and the log
 * file is kept on a high close-on-exec descriptor that is reopened when replaced.
 * Callers never pass a LAN secret: no function in the library formats one. */
#ifndef GSI_LOG_H
#define GSI_LOG_H

enum gsi_log_level { GSI_LEVEL_DEBUG, GSI_LEVEL_WARN };

int gsi_log_enabled(void);
void gsi_log(enum gsi_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define GSI_DEBUG(...)                                                                          \
    do {                                                                                        \
        if (gsi_log_enabled())                                                                  \
            gsi_log(GSI_LEVEL_DEBUG, __FILE__, __LINE__, __VA_ARGS__);                          \
    } while (0)
#define GSI_WARN(...)                                                                           \
    do {                                                                                        \
        if (gsi_log_enabled())                                                                  \
            gsi_log(GSI_LEVEL_WARN, __FILE__, __LINE__, __VA_ARGS__);                           \
    } while (0)

/* Why a tunnel connection was refused, when the user can do something about it. */
enum gsi_notice_reason {
    GSI_NOTICE_CONF_MISSING,
    GSI_NOTICE_CONF_UNREADABLE,
    GSI_NOTICE_TUNNEL_NOT_ACTIVE,
    GSI_NOTICE_TUNNEL_EXPIRED,
    GSI_NOTICE_STALE_SECRET,
    GSI_NOTICE_WRONG_SECRET,
};

/* "globus-streams: tunnel <id>: <what happened and what to run>" on stderr, once per
 * tunnel and reason in this process. */
void gsi_notice(const char *tunnel_id, enum gsi_notice_reason reason);

#endif
