#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env.h"
#include "ids.h"

/* Which file a descriptor is: compared before every write. */
typedef struct {
    int known;
    dev_t dev;
    ino_t ino;
} file_identity;

static int identify(int fd, file_identity *out)
{
    struct stat st;
    out->known = fstat(fd, &st) == 0;
    out->dev = out->known ? st.st_dev : 0;
    out->ino = out->known ? st.st_ino : 0;
    return out->known;
}

static int still(int fd, const file_identity *expected)
{
    file_identity now;
    return expected->known && identify(fd, &now) && now.dev == expected->dev &&
           now.ino == expected->ino;
}

/* stderr as the host started with it; a host that closes it and reuses the number (a
 * daemon's socket, say) never receives a line meant for stderr. */
static file_identity stderr_identity;

__attribute__((constructor)) static void remember_stderr(void)
{
    identify(STDERR_FILENO, &stderr_identity);
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_on;
static const char *log_path; /* GLOBUS_STREAMS_LOG, NULL: stderr */
static int log_fd = -1;
static file_identity log_identity;

/* Above the numbers hosts commonly use themselves (and assume free). */
enum { LOG_FD_FLOOR = 100 };

/* Opens GLOBUS_STREAMS_LOG without ever blocking (a FIFO without reader fails at once)
 * and only when it is a regular file or a terminal-like device. */
static int open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    int high = fcntl(fd, F_DUPFD_CLOEXEC, LOG_FD_FLOOR);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    identify(fd, &log_identity);
    return fd;
}

static void log_prepare(void) { pthread_mutex_lock(&log_lock); }
static void log_release(void) { pthread_mutex_unlock(&log_lock); }

static void log_setup(void)
{
    const char *debug = getenv(GSI_ENV_DEBUG);
    log_on = debug != NULL && strcmp(debug, "1") == 0;
    const char *path = getenv(GSI_ENV_LOG);
    if (log_on && path != NULL && *path != '\0') {
        log_path = path;
        log_fd = open_log(path);
        if (log_fd < 0)
            log_path = NULL; /* not a file we can write without blocking: stderr */
    }
    pthread_atfork(log_prepare, log_release, log_release);
}

int gsi_log_enabled(void)
{
    pthread_once(&log_once, log_setup);
    return log_on;
}

/* Writes one line (one write, so lines from threads and children do not interleave) to
 * stderr, if it is still the host's stderr. */
static void write_stderr(const char *text, size_t len)
{
    if (still(STDERR_FILENO, &stderr_identity)) {
        ssize_t ignored = write(STDERR_FILENO, text, len);
        (void)ignored;
    }
}

static void write_log(const char *text, size_t len)
{
    if (log_path == NULL) {
        write_stderr(text, len);
        return;
    }
    pthread_mutex_lock(&log_lock);
    if (log_fd < 0 || !still(log_fd, &log_identity)) {
        /* The host closed our descriptor (and the number may now be its own file). */
        log_fd = open_log(log_path);
    }
    if (log_fd >= 0) {
        ssize_t ignored = write(log_fd, text, len);
        (void)ignored;
    }
    pthread_mutex_unlock(&log_lock);
}

void gsi_log(enum gsi_log_level level, const char *file, int line, const char *fmt, ...)
{
    int saved = errno; /* logging never disturbs the errno a hook is about to return */
    const char *base = strrchr(file, '/');
    char text[1024];
    int used = snprintf(text, sizeof text, "globus-streams[%d] %s %s:%d: ", (int)getpid(),
                        level == GSI_LEVEL_WARN ? "warning" : "debug", base ? base + 1 : file,
                        line);
    if (used < 0)
        used = 0;
    va_list args;
    va_start(args, fmt);
    int more = vsnprintf(text + used, sizeof text - (size_t)used - 1, fmt, args);
    va_end(args);
    if (more > 0)
        used += more;
    if ((size_t)used > sizeof text - 2)
        used = sizeof text - 2;
    text[used++] = '\n';
    write_log(text, (size_t)used);
    errno = saved;
}

static const char *notice_text(enum gsi_notice_reason reason)
{
    switch (reason) {
    case GSI_NOTICE_CONF_MISSING:
        return "not initialized here (no conf file); run: globus-streams environment "
               "initialize %s";
    case GSI_NOTICE_CONF_UNREADABLE:
        return "its conf file is unusable (permissions, owner, type or contents); run: "
               "globus-streams doctor %s";
    case GSI_NOTICE_TUNNEL_NOT_ACTIVE:
        return "the access point says the tunnel is not active (stopped or expired); check: "
               "globus-streams tunnel show %s";
    case GSI_NOTICE_TUNNEL_EXPIRED:
        return "the tunnel has expired (tunnel_expiration_time has passed); check: "
               "globus-streams tunnel show %s";
    case GSI_NOTICE_STALE_SECRET:
        return "the LAN secret here is stale; initialize this side again: globus-streams "
               "environment initialize %s ... --force";
    case GSI_NOTICE_WRONG_SECRET:
        return "the LAN secret here does not match the access point's; initialize this side "
               "again: globus-streams environment initialize %s ... --force";
    }
    return "%s";
}

/* Notices already given: tunnel and reason. A full table stops new notices rather than
 * repeating old ones. */
enum { NOTICES_MAX = 64 };
static struct {
    char tunnel_id[GSI_UUID_TEXT];
    enum gsi_notice_reason reason;
} notices[NOTICES_MAX];
static int notices_used;
static pthread_mutex_t notice_lock = PTHREAD_MUTEX_INITIALIZER;

static int first_notice(const char *tunnel_id, enum gsi_notice_reason reason)
{
    int first = 1;
    pthread_mutex_lock(&notice_lock);
    for (int i = 0; i < notices_used && first; i++)
        if (notices[i].reason == reason && strcmp(notices[i].tunnel_id, tunnel_id) == 0)
            first = 0;
    if (first && notices_used < NOTICES_MAX) {
        snprintf(notices[notices_used].tunnel_id, GSI_UUID_TEXT, "%s", tunnel_id);
        notices[notices_used++].reason = reason;
    } else {
        first = 0;
    }
    pthread_mutex_unlock(&notice_lock);
    return first;
}

void gsi_notice(const char *tunnel_id, enum gsi_notice_reason reason)
{
    int saved = errno;
    if (first_notice(tunnel_id, reason)) {
        char what[256], text[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(what, sizeof what, notice_text(reason), tunnel_id);
#pragma GCC diagnostic pop
        int n = snprintf(text, sizeof text, "globus-streams: tunnel %s: %s\n", tunnel_id, what);
        if (n > 0)
            write_stderr(text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
    }
    errno = saved;
}
