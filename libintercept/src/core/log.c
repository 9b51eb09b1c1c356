#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static int log_on;
static int log_fd = STDERR_FILENO;

static void log_setup(void)
{
    const char *debug = getenv(GSI_ENV_DEBUG);
    log_on = debug != NULL && strcmp(debug, "1") == 0;
    const char *path = getenv(GSI_ENV_LOG);
    if (log_on && path != NULL && *path != '\0') {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
            log_fd = fd;
    }
}

int gsi_log_enabled(void)
{
    pthread_once(&log_once, log_setup);
    return log_on;
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
    /* one write per line, so lines from threads and children do not interleave */
    ssize_t ignored = write(log_fd, text, (size_t)used);
    (void)ignored;
    errno = saved;
}
