/* The host program of the fault tests: resolves NAME, connects to PORT, sends a payload,
 * half-closes and reads the reply, then prints one line:
 *
 *   resolve=ok connect=ok bytes=N tail=<the reply's last 64 bytes> atfork=P/A/C
 *   resolve=<gai error> | connect=<errno name> ...
 *
 * Options make it a host the library must not surprise:
 *   --closed-std FILE  closes fds 0-2 first, then opens FILE (it gets fd 0) for the line
 *   --atfork           registers pthread_atfork handlers; atfork= counts their runs
 *   --ignore-sigchld   SIGCHLD set to SIG_IGN (children are reaped by the kernel) */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int prepared, in_parent, in_child;
static void on_prepare(void) { prepared++; }
static void on_parent(void) { in_parent++; }
static void on_child(void) { in_child++; }

static const char *errno_name(int error)
{
    switch (error) {
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case EHOSTUNREACH:
        return "EHOSTUNREACH";
    case ENOSYS:
        return "ENOSYS";
    default:
        return strerror(error);
    }
}

/* The payload out, the reply in; bytes received, or -1. */
static long exchange(int fd, char tail[65])
{
    static const char payload[] = "fault host payload\n";
    for (int i = 0; i < 100; i++)
        if (send(fd, payload, sizeof payload - 1, MSG_NOSIGNAL) < 0)
            return -1;
    shutdown(fd, SHUT_WR);
    char buf[65536], last[64];
    long total = 0;
    for (;;) {
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        for (ssize_t i = 0; i < got; i++)
            last[(total + i) % 64] = buf[i];
        total += got;
    }
    for (int i = 0; i < 64; i++)
        tail[i] = total >= 64 ? last[(total + i) % 64] : '?';
    tail[64] = '\0';
    return total;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fault_host NAME PORT [--closed-std FILE] [--atfork] "
                        "[--ignore-sigchld]\n");
        return 2;
    }
    int out = STDOUT_FILENO;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--closed-std") == 0 && i + 1 < argc) {
            close(0);
            close(1);
            close(2);
            out = open(argv[++i], O_WRONLY | O_CREAT | O_TRUNC, 0600); /* fd 0 */
        } else if (strcmp(argv[i], "--atfork") == 0) {
            pthread_atfork(on_prepare, on_parent, on_child);
        } else if (strcmp(argv[i], "--ignore-sigchld") == 0) {
            signal(SIGCHLD, SIG_IGN);
        }
    }
    char line[512];
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &res);
    if (rc != 0) {
        int n = snprintf(line, sizeof line, "resolve=%s\n", gai_strerror(rc));
        return write(out, line, (size_t)n) == n ? 1 : 3;
    }
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    int connected = fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0;
    int error = errno;
    freeaddrinfo(res);
    char tail[65] = "";
    long bytes = connected ? exchange(fd, tail) : -1;
    int n = snprintf(line, sizeof line, "resolve=ok connect=%s bytes=%ld tail=%s atfork=%d/%d/%d\n",
                     connected ? "ok" : errno_name(error), bytes, tail, prepared, in_parent,
                     in_child);
    if (write(out, line, (size_t)n) != n)
        return 3;
    return connected ? 0 : 1;
}
