#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "log.h"
#include "wire.h"

extern char **environ;

/* The CLI to run: $GLOBUS_STREAMS_CLI, else globus-streams on PATH. */
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

/* The host's environment without LD_PRELOAD. */
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

/* Adds a close action for `fd` when the child would inherit it. */
static int close_in_child(posix_spawn_file_actions_t *actions, int fd, int keep)
{
    if (fd <= STDERR_FILENO || fd == keep)
        return 0;
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || (flags & FD_CLOEXEC))
        return 0;
    return posix_spawn_file_actions_addclose(actions, fd);
}

/* Close actions for every inheritable descriptor above 2 (listening sockets included),
 * so the CLI holds none of the host's. posix_spawn runs no code of ours in the child, so
 * the parent lists them: /proc/self/fd, else every number below the descriptor limit. */
static int close_host_fds(posix_spawn_file_actions_t *actions, int keep)
{
    DIR *dir = opendir("/proc/self/fd");
    if (dir != NULL) {
        int own = dirfd(dir), error = 0;
        struct dirent *entry;
        while (!error && (entry = readdir(dir)) != NULL) {
            char *end;
            long fd = strtol(entry->d_name, &end, 10);
            if (*end == '\0' && end != entry->d_name && fd != own)
                error = close_in_child(actions, (int)fd, keep);
        }
        closedir(dir);
        return error;
    }
    struct rlimit lim;
    long top = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 65536 ? (long)lim.rlim_cur
                                                                            : 65536;
    for (long fd = 3; fd < top; fd++)
        if (close_in_child(actions, (int)fd, keep) != 0)
            return -1;
    return 0;
}

/* Starts the CLI with stdout on `out_fd`; the child's pid, or -1. */
static pid_t spawn_cli(const char *cli, const char *tunnel_id, int refresh, int out_fd)
{
    char **env = child_environment();
    if (env == NULL)
        return -1;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    /* USEVFORK: glibc before 2.24 would otherwise fork(), running the host's atfork
     * handlers; later versions always use clone(CLONE_VFORK) and ignore the flag. */
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_USEVFORK;
    int quiet = !gsi_log_enabled();
    int failed = posix_spawnattr_setflags(&attr, flags) || posix_spawnattr_setsigmask(&attr, &none) ||
                 posix_spawnattr_setsigdefault(&attr, &all) ||
                 posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0) ||
                 posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO) ||
                 (quiet && posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
                                                            O_WRONLY, 0)) ||
                 close_host_fds(&actions, out_fd);
    char *argv[] = {(char *)cli, "environment", "contact-lookup", (char *)tunnel_id,
                    refresh ? "--refresh" : NULL, NULL};
    pid_t pid = -1;
    if (!failed && (errno = posix_spawn(&pid, cli, &actions, &attr, argv, env)) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    free(env);
    return pid;
}

/* Reads the child's stdout until EOF or the deadline; bytes read, or -1 past the deadline.
 * Only the first line matters: the rest is read and dropped so the child never blocks. */
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

enum child_end { CHILD_OK, CHILD_FAILED, CHILD_LATE };

/* Waits for `pid` until the deadline, then kills it; it is always reaped unless the host
 * reaps its own children (SIGCHLD ignored: ECHILD), which counts as a clean exit. */
static enum child_end reap(pid_t pid, int64_t deadline_ms)
{
    int status = 0;
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? CHILD_OK : CHILD_FAILED;
        if (done < 0 && errno == ECHILD)
            return CHILD_OK;
        if (done < 0 && errno != EINTR)
            return CHILD_FAILED;
        int64_t left = deadline_ms - gsi_now_ms();
        if (left <= 0)
            break;
        struct timespec pause = {0, (left < 5 ? left : 5) * 1000000L};
        nanosleep(&pause, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return CHILD_LATE;
}

size_t gsi_cli_output_line(char *output)
{
    size_t len = strcspn(output, "\r\n");
    output[len] = '\0';
    return len;
}

int gsi_cli_contact_lookup(const char *tunnel_id, int refresh, char *out, size_t size,
                           int timeout_ms)
{
    int64_t deadline = gsi_now_ms() + timeout_ms;
    const char *how = refresh ? " --refresh" : "";
    char cli[4096];
    if (!find_cli(cli, sizeof cli)) {
        GSI_WARN("cannot refresh the contact of tunnel %s: no executable %s or globus-streams",
                 tunnel_id, GSI_ENV_CLI);
        return ENOENT;
    }
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        return EIO;
    /* A host with fds 0-2 closed gets pipe ends there: move them above 2, so the child's
     * standard descriptors cannot clobber them. */
    for (int i = 0; i < 2; i++) {
        if (pipe_fds[i] <= STDERR_FILENO) {
            int moved = fcntl(pipe_fds[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
            close(pipe_fds[i]);
            pipe_fds[i] = moved;
        }
    }
    if (pipe_fds[0] < 0 || pipe_fds[1] < 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return EIO;
    }
    pid_t pid = spawn_cli(cli, tunnel_id, refresh, pipe_fds[1]);
    int spawn_error = errno;
    close(pipe_fds[1]);
    if (pid < 0) {
        close(pipe_fds[0]);
        GSI_WARN("cannot start %s: %s", cli, strerror(spawn_error));
        return EIO;
    }
    ssize_t got = read_until_eof(pipe_fds[0], out, size, deadline);
    close(pipe_fds[0]);
    enum child_end end = reap(pid, got < 0 ? 0 : deadline);
    if (got < 0 || end == CHILD_LATE) {
        GSI_WARN("%s environment contact-lookup %s%s: no answer in %d ms; stopped it", cli,
                 tunnel_id, how, timeout_ms);
        return ETIMEDOUT;
    }
    if (end != CHILD_OK || gsi_cli_output_line(out) == 0) {
        GSI_WARN("%s environment contact-lookup %s%s failed", cli, tunnel_id, how);
        return EIO;
    }
    return 0;
}
