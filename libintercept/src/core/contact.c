#include "contact.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "ids.h"
#include "log.h"
#include "wire.h"

extern char **environ;

int gsi_contact_parse(const char *text, struct sockaddr_storage *out, socklen_t *len)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text)
        return 0;
    size_t host_len = (size_t)(colon - text);
    const char *start = text;
    if (text[0] == '[') {
        if (host_len < 3 || text[host_len - 1] != ']')
            return 0;
        start++;
        host_len -= 2;
    }
    if (host_len >= sizeof host)
        return 0;
    memcpy(host, start, host_len);
    host[host_len] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end != '\0' || end == colon + 1 || port < 1 || port > 65535)
        return 0;
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (text[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return 1;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return 1;
    }
    return 0;
}

void gsi_contact_format(const struct sockaddr_storage *addr, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int v6 = addr->ss_family == AF_INET6;
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)addr;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
    inet_ntop(addr->ss_family, v6 ? (const void *)&in6->sin6_addr : (const void *)&in4->sin_addr,
              host, sizeof host);
    snprintf(out, size, v6 ? "[%s]:%u" : "%s:%u", host,
             (unsigned)ntohs(v6 ? in6->sin6_port : in4->sin_port));
}

/* The CLI to run: $GLOBUS_STREAMS_CLI, else globus-streams on PATH (found here, in the
 * parent, because the forked child may only make async-signal-safe calls). */
static int find_cli(char *out, size_t size)
{
    const char *cli = getenv(GSI_ENV_CLI);
    if (cli != NULL && *cli != '\0') {
        snprintf(out, size, "%s", cli);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0 && (size_t)snprintf(out, size, "%.*s/globus-streams", (int)n, p) < size &&
            access(out, X_OK) == 0)
            return 1;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

/* The host's environment without LD_PRELOAD: the CLI needs no interception. */
static char **child_environment(void)
{
    size_t count = 0;
    while (environ && environ[count])
        count++;
    char **env = calloc(count + 1, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t kept = 0;
    static const char preload[] = GSI_ENV_LD_PRELOAD "=";
    for (size_t i = 0; i < count; i++)
        if (strncmp(environ[i], preload, sizeof preload - 1) != 0)
            env[kept++] = environ[i];
    return env;
}

/* In the forked child: only async-signal-safe calls from here to execve. */
static void run_child(const char *cli, const char *tunnel_id, int refresh, int out_fd,
                      int quiet, char **env)
{
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        if (quiet)
            dup2(null_fd, STDERR_FILENO);
    }
    dup2(out_fd, STDOUT_FILENO);
    /* Close everything else, listening sockets included, so the CLI holds none of them. */
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
    {
        struct rlimit lim;
        long top = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 65536
                       ? (long)lim.rlim_cur
                       : 65536;
        for (long fd = 3; fd < top; fd++)
            close((int)fd);
    }
    char *argv[] = {(char *)cli, "environment", "contact-lookup", (char *)tunnel_id,
                    refresh ? "--refresh" : NULL, NULL};
    execve(cli, argv, env);
    _exit(127);
}

/* Reads the child's stdout until EOF or the deadline; returns bytes read or -1 on timeout. */
static ssize_t read_until_eof(int fd, char *out, size_t size, int64_t deadline_ms)
{
    size_t used = 0;
    for (;;) {
        int64_t left = deadline_ms - gsi_now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return -1;
        char scratch[256];
        char *dst = used < size - 1 ? out + used : scratch;
        size_t room = used < size - 1 ? size - 1 - used : sizeof scratch;
        ssize_t got = read(fd, dst, room);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (dst == out + used)
            used += (size_t)got;
    }
    out[used] = '\0';
    return (ssize_t)used;
}

int gsi_contact_lookup(const char *tunnel_id, int refresh, char *out, size_t size,
                       int timeout_ms)
{
    char cli[4096];
    if (!find_cli(cli, sizeof cli)) {
        GSI_WARN("cannot refresh the contact of tunnel %s: no executable %s or globus-streams",
                 tunnel_id, GSI_ENV_CLI);
        return ENOENT;
    }
    char **env = child_environment();
    int pipe_fds[2];
    if (env == NULL || pipe2(pipe_fds, O_CLOEXEC) < 0) {
        free(env);
        return EIO;
    }
    /* A host with stdin/stdout closed gets pipe ends 0..2; move them above, so the child's
     * dup2 onto 0..2 cannot clobber them. */
    for (int i = 0; i < 2; i++) {
        if (pipe_fds[i] < 3) {
            int moved = fcntl(pipe_fds[i], F_DUPFD_CLOEXEC, 3);
            close(pipe_fds[i]);
            pipe_fds[i] = moved;
        }
    }
    if (pipe_fds[0] < 0 || pipe_fds[1] < 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        free(env);
        return EIO;
    }
    int quiet = !gsi_log_enabled();
    pid_t pid = fork();
    if (pid == 0)
        run_child(cli, tunnel_id, refresh, pipe_fds[1], quiet, env);
    close(pipe_fds[1]);
    free(env);
    if (pid < 0) {
        close(pipe_fds[0]);
        GSI_WARN("cannot start %s: %s", cli, strerror(errno));
        return EIO;
    }
    ssize_t got = read_until_eof(pipe_fds[0], out, size, gsi_now_ms() + timeout_ms);
    close(pipe_fds[0]);
    if (got < 0)
        kill(pid, SIGKILL);
    int status = 0;
    pid_t waited;
    while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    /* ECHILD: the host reaps its own children (SIGCHLD ignored); judge by the output. */
    int exited_ok = waited < 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (got < 0) {
        GSI_WARN("%s environment contact-lookup %s%s: no answer in %d ms", cli, tunnel_id,
                 refresh ? " --refresh" : "", timeout_ms);
        return ETIMEDOUT;
    }
    out[strcspn(out, "\r\n")] = '\0';
    if (!exited_ok || out[0] == '\0') {
        GSI_WARN("%s environment contact-lookup %s%s failed", cli, tunnel_id,
                 refresh ? " --refresh" : "");
        return EIO;
    }
    return 0;
}

/* Contacts fetched by the CLI in this process, so a CLI that could not rewrite the conf
 * is not asked again for every connection. */
enum { FETCHED_SLOTS = 8 };
typedef struct {
    char tunnel_id[GSI_UUID_TEXT];
    char contact[GSI_CONF_CONTACT_MAX];
    int64_t valid_until_ms; /* monotonic */
    int failed;             /* the last lookup failed: retry after valid_until_ms */
    /* --refresh lookups: one per tunnel at a time; connections refused meanwhile wait for
     * its answer, and for GSI_CONTACT_RETRY_MS after it they reuse that answer. */
    int forcing;
    int64_t forced_at_ms; /* monotonic time of the last --refresh answer, 0 never */
    char forced[GSI_CONF_CONTACT_MAX]; /* that answer, "" when the lookup failed */
} fetched_contact;

static fetched_contact fetched[FETCHED_SLOTS];
static unsigned fetched_next;
static pthread_mutex_t fetched_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t forced_done; /* CLOCK_MONOTONIC, set up in fetched_setup */
static pthread_once_t fetched_once = PTHREAD_ONCE_INIT;

static void init_forced_done(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&forced_done, &attr);
    pthread_condattr_destroy(&attr);
}

static void fetched_prepare(void) { pthread_mutex_lock(&fetched_lock); }
static void fetched_release(void) { pthread_mutex_unlock(&fetched_lock); }
/* In a forked child no thread is running a lookup or waiting for one. */
static void fetched_child(void)
{
    for (int i = 0; i < FETCHED_SLOTS; i++)
        fetched[i].forcing = 0;
    init_forced_done();
    pthread_mutex_unlock(&fetched_lock);
}
static void fetched_setup(void)
{
    init_forced_done();
    pthread_atfork(fetched_prepare, fetched_release, fetched_child);
}

static int recall(const char *tunnel_id, fetched_contact *out)
{
    pthread_once(&fetched_once, fetched_setup);
    int found = 0;
    pthread_mutex_lock(&fetched_lock);
    for (int i = 0; i < FETCHED_SLOTS && !found; i++) {
        if (strcmp(fetched[i].tunnel_id, tunnel_id) == 0 &&
            fetched[i].valid_until_ms > gsi_now_ms()) {
            *out = fetched[i];
            found = 1;
        }
    }
    pthread_mutex_unlock(&fetched_lock);
    return found;
}

/* The tunnel's slot, or a recycled empty one; call with fetched_lock held. */
static fetched_contact *slot_for(const char *tunnel_id)
{
    for (int i = 0; i < FETCHED_SLOTS; i++)
        if (strcmp(fetched[i].tunnel_id, tunnel_id) == 0)
            return &fetched[i];
    fetched_contact *slot = &fetched[fetched_next++ % FETCHED_SLOTS];
    memset(slot, 0, sizeof *slot);
    snprintf(slot->tunnel_id, sizeof slot->tunnel_id, "%s", tunnel_id);
    return slot;
}

static void remember(const char *tunnel_id, const char *contact, int64_t valid_ms, int failed)
{
    pthread_mutex_lock(&fetched_lock);
    fetched_contact *slot = slot_for(tunnel_id);
    snprintf(slot->contact, sizeof slot->contact, "%s", contact);
    slot->valid_until_ms = gsi_now_ms() + valid_ms;
    slot->failed = failed;
    pthread_mutex_unlock(&fetched_lock);
}

static int is_fresh(const gsi_conf *conf)
{
    if (conf->contact[0] == '\0')
        return 0;
    if (conf->contact_ttl <= 0)
        return 1; /* no TTL: the contact never expires */
    return (double)time(NULL) < conf->update_time + conf->contact_ttl;
}

/* 1: the caller runs the tunnel's --refresh lookup and reports through finish_forced_lookup.
 * 0: another thread's lookup answered at most GSI_CONTACT_RETRY_MS ago (waited for when it
 * is running); its answer is in `out`, "" when it failed or did not come in time. */
static int claim_forced_lookup(const char *tunnel_id, int wait_ms, char *out, size_t size)
{
    pthread_once(&fetched_once, fetched_setup);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&fetched_lock);
    fetched_contact *slot = slot_for(tunnel_id);
    while (slot->forcing &&
           pthread_cond_timedwait(&forced_done, &fetched_lock, &until) != ETIMEDOUT)
        slot = slot_for(tunnel_id); /* the slot may have been recycled meanwhile */
    int claimed = !slot->forcing && (slot->forced_at_ms == 0 ||
                                     gsi_now_ms() - slot->forced_at_ms >= GSI_CONTACT_RETRY_MS);
    if (claimed)
        slot->forcing = 1;
    else
        snprintf(out, size, "%s", slot->forcing ? "" : slot->forced);
    pthread_mutex_unlock(&fetched_lock);
    return claimed;
}

static void finish_forced_lookup(const char *tunnel_id, const char *answer)
{
    pthread_mutex_lock(&fetched_lock);
    fetched_contact *slot = slot_for(tunnel_id);
    slot->forcing = 0;
    slot->forced_at_ms = gsi_now_ms();
    snprintf(slot->forced, sizeof slot->forced, "%s", answer);
    pthread_cond_broadcast(&forced_done);
    pthread_mutex_unlock(&fetched_lock);
}

/* How long a fetched contact is kept: the conf's TTL, else a minute. */
static int64_t keep_ms(const gsi_conf *conf)
{
    return (int64_t)((conf->contact_ttl > 0 ? conf->contact_ttl : 60) * 1000);
}

/* The contact string to use now; 0 or EHOSTUNREACH. `refreshable`: the CLI was not asked. */
static int pick_contact(const char *tunnel_id, const gsi_conf *conf, char *out, size_t size,
                        int *refreshable)
{
    *refreshable = 1;
    if (is_fresh(conf)) {
        snprintf(out, size, "%s", conf->contact);
        return 0;
    }
    fetched_contact known;
    if (recall(tunnel_id, &known)) {
        if (!known.failed) {
            snprintf(out, size, "%s", known.contact);
            return 0;
        }
        *refreshable = 0; /* the CLI failed moments ago: do not ask again yet */
    } else {
        *refreshable = 0;
        GSI_DEBUG("tunnel %s: contact %s; asking the CLI", tunnel_id,
                  conf->contact[0] ? "expired" : "missing");
        int error =
            gsi_contact_lookup(tunnel_id, 0, out, size, gsi_env_handshake_timeout_ms());
        if (!error) {
            remember(tunnel_id, out, keep_ms(conf), 0);
            return 0;
        }
        remember(tunnel_id, "", GSI_CONTACT_RETRY_MS, 1);
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
    if (claim_forced_lookup(tunnel_id, timeout_ms + 1000, contact, sizeof contact)) {
        GSI_DEBUG("tunnel %s: the access point %s refused the connection (restarted "
                  "tunnel?); asking the CLI for a fresh contact",
                  tunnel_id, was);
        int error = gsi_contact_lookup(tunnel_id, 1, contact, sizeof contact, timeout_ms);
        finish_forced_lookup(tunnel_id, error ? "" : contact);
        if (error)
            return error;
        remember(tunnel_id, contact, keep_ms(conf), 0);
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
