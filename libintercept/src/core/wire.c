#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "real.h"

int64_t gsi_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int gsi_fd_make_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return flags;
}

void gsi_fd_restore_flags(int fd, int flags)
{
    int saved = errno;
    if (flags >= 0 && !(flags & O_NONBLOCK))
        fcntl(fd, F_SETFL, flags);
    errno = saved;
}

int gsi_signal_interrupts(void)
{
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction action;
        if (sigaction(sig, NULL, &action) == 0 && !(action.sa_flags & SA_RESTART) &&
            ((action.sa_flags & SA_SIGINFO) ||
             (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN)))
            return 1;
    }
    return 0;
}

/* Waits for `events` until the deadline; 0, ETIMEDOUT, EINTR or an errno value. */
static int wait_for(int fd, short events, gsi_wire_limit limit)
{
    for (;;) {
        int64_t left = limit.deadline_ms - gsi_now_ms();
        if (left <= 0)
            return ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int ready = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
        if (ready > 0)
            return 0; /* readable, writable or in error: the next call tells which */
        if (ready < 0 && errno != EINTR)
            return errno;
        if (ready < 0 && limit.interruptible && gsi_signal_interrupts())
            return EINTR;
    }
}

int gsi_wire_connect(int fd, const struct sockaddr *addr, socklen_t len, gsi_wire_limit limit)
{
    if (libc_connect(fd, addr, len) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EINTR)
        return errno;
    int failed = wait_for(fd, POLLOUT, limit);
    if (failed)
        return failed;
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0)
        return errno;
    return error;
}

static int send_all(int fd, const uint8_t *data, size_t len, gsi_wire_limit limit)
{
    while (len > 0) {
        ssize_t sent = send(fd, data, len, MSG_NOSIGNAL);
        if (sent > 0) {
            data += sent;
            len -= (size_t)sent;
            continue;
        }
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return errno;
        int failed = wait_for(fd, POLLOUT, limit);
        if (failed)
            return failed;
    }
    return 0;
}

static int recv_exactly(int fd, uint8_t *out, size_t len, gsi_wire_limit limit)
{
    while (len > 0) {
        ssize_t got = recv(fd, out, len, 0);
        if (got > 0) {
            out += got;
            len -= (size_t)got;
            continue;
        }
        if (got == 0)
            return ECONNREFUSED; /* closed mid-handshake: treated as a refusal */
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return errno == ECONNRESET ? ECONNREFUSED : errno;
        int failed = wait_for(fd, POLLIN, limit);
        if (failed)
            return failed;
    }
    return 0;
}

int gsi_wire_handshake(int fd, gsla *hs, gsi_wire_limit limit)
{
    uint8_t out[GSLA_MAX_MESSAGE], in[GSLA_MAX_MESSAGE];
    size_t out_len;
    int failed;
    if (hs->state == GSLA_SEND_HELLO) {
        out_len = gsla_client_start(hs, out);
        if ((failed = send_all(fd, out, out_len, limit)) != 0)
            return failed;
    }
    while (gsla_needed(hs) > 0) {
        size_t need = gsla_needed(hs);
        if ((failed = recv_exactly(fd, in, need, limit)) != 0)
            return failed;
        gsla_receive(hs, in, need, out, &out_len);
        if (out_len > 0 && (failed = send_all(fd, out, out_len, limit)) != 0)
            return hs->state == GSLA_REFUSED ? ECONNREFUSED : failed;
    }
    return hs->state == GSLA_ESTABLISHED ? 0 : ECONNREFUSED;
}
