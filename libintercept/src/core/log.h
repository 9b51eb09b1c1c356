/* Leveled debug output carrying pid and call site. Quiet unless GLOBUS_STREAMS_DEBUG=1.
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

#endif
