#include "sockcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"

int gsi_app_socket_read(int fd, gsi_app_socket *out)
{
    memset(out, 0, sizeof *out);
    out->fd = fd;
    socklen_t size = sizeof out->family;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &out->family, &size) < 0)
        return errno;
    out->local_len = sizeof out->local;
    if (getsockname(fd, (struct sockaddr *)&out->local, &out->local_len) < 0)
        return 0;
    if (out->local.ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&out->local;
        out->bound = v4->sin_port != 0 || v4->sin_addr.s_addr != htonl(INADDR_ANY);
    } else if (out->local.ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&out->local;
        out->bound = v6->sin6_port != 0 || !IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr);
    }
    return 0;
}

/* Integer options copied when the application's value differs from a new socket's. */
static const struct {
    int level, name;
} INT_OPTIONS[] = {
    {SOL_SOCKET, SO_KEEPALIVE},   {SOL_SOCKET, SO_RCVBUF},      {SOL_SOCKET, SO_SNDBUF},
    {SOL_SOCKET, SO_PRIORITY},    {SOL_SOCKET, SO_MARK},        {SOL_SOCKET, SO_OOBINLINE},
    {SOL_SOCKET, SO_REUSEADDR},   {IPPROTO_TCP, TCP_NODELAY},   {IPPROTO_TCP, TCP_KEEPIDLE},
    {IPPROTO_TCP, TCP_KEEPINTVL}, {IPPROTO_TCP, TCP_KEEPCNT},   {IPPROTO_TCP, TCP_USER_TIMEOUT},
};

static void copy_int_option(int from, int to, int level, int name)
{
    int want = 0, have = 0;
    socklen_t size = sizeof want;
    if (getsockopt(from, level, name, &want, &size) < 0)
        return;
    size = sizeof have;
    if (getsockopt(to, level, name, &have, &size) < 0 || want == have)
        return;
    /* Linux reports buffer sizes doubled (bookkeeping overhead) and doubles what is set. */
    int value = level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF) ? want / 2 : want;
    if (setsockopt(to, level, name, &value, sizeof value) < 0)
        GSI_DEBUG("fd %d: option %d/%d not carried over: %s", from, level, name, strerror(errno));
}

static void copy_raw_option(int from, int to, int level, int name, size_t size)
{
    char value[32];
    socklen_t got = (socklen_t)size;
    if (getsockopt(from, level, name, value, &got) == 0)
        setsockopt(to, level, name, value, got);
}

/* IP_TOS on IPv4, IPV6_TCLASS on IPv6: the same byte, under the family's own name. */
static void copy_traffic_class(int from, int from_family, int to, int to_family)
{
    int value = 0;
    socklen_t size = sizeof value;
    int got = from_family == AF_INET6 ? getsockopt(from, IPPROTO_IPV6, IPV6_TCLASS, &value, &size)
                                      : getsockopt(from, IPPROTO_IP, IP_TOS, &value, &size);
    if (got < 0 || value <= 0)
        return;
    if (to_family == AF_INET6)
        setsockopt(to, IPPROTO_IPV6, IPV6_TCLASS, &value, sizeof value);
    else
        setsockopt(to, IPPROTO_IP, IP_TOS, &value, sizeof value);
}

/* The application's bound address in `family`; 0 when that family cannot express it. */
static socklen_t local_in(const gsi_app_socket *app, int family, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (app->local.ss_family == family) {
        memcpy(out, &app->local, app->local_len);
        return app->local_len;
    }
    if (family == AF_INET && app->local.ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&app->local;
        struct sockaddr_in *v4 = (struct sockaddr_in *)out;
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
            memcpy(&v4->sin_addr, &v6->sin6_addr.s6_addr[12], 4);
        else if (!IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr))
            return 0;
        v4->sin_family = AF_INET;
        v4->sin_port = v6->sin6_port;
        return sizeof *v4;
    }
    if (family == AF_INET6 && app->local.ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&app->local;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
        if (v4->sin_addr.s_addr != htonl(INADDR_ANY)) {
            v6->sin6_addr.s6_addr[10] = 0xff;
            v6->sin6_addr.s6_addr[11] = 0xff;
            memcpy(&v6->sin6_addr.s6_addr[12], &v4->sin_addr, 4);
        }
        v6->sin6_family = AF_INET6;
        v6->sin6_port = v4->sin_port;
        return sizeof *v6;
    }
    return 0;
}

/* Binds `fresh` where the application bound its socket: the same port when the kernel
 * allows two sockets on it, else the same address on any port. */
static void copy_binding(const gsi_app_socket *app, int fresh, int family)
{
    struct sockaddr_storage local;
    socklen_t len = local_in(app, family, &local);
    if (len == 0) {
        GSI_DEBUG("fd %d: its bound address has no form in the access point's family",
                  app->fd);
        return;
    }
    if (bind(fresh, (struct sockaddr *)&local, len) == 0)
        return;
    if (family == AF_INET)
        ((struct sockaddr_in *)&local)->sin_port = 0;
    else
        ((struct sockaddr_in6 *)&local)->sin6_port = 0;
    if (bind(fresh, (struct sockaddr *)&local, len) < 0)
        GSI_DEBUG("fd %d: bound address not carried over: %s", app->fd, strerror(errno));
}

int gsi_socket_like(const gsi_app_socket *app, int family)
{
    int fresh = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fresh < 0)
        return -1;
    for (size_t i = 0; i < sizeof INT_OPTIONS / sizeof INT_OPTIONS[0]; i++)
        copy_int_option(app->fd, fresh, INT_OPTIONS[i].level, INT_OPTIONS[i].name);
    copy_raw_option(app->fd, fresh, SOL_SOCKET, SO_RCVTIMEO, sizeof(struct timeval));
    copy_raw_option(app->fd, fresh, SOL_SOCKET, SO_SNDTIMEO, sizeof(struct timeval));
    copy_raw_option(app->fd, fresh, SOL_SOCKET, SO_LINGER, sizeof(struct linger));
    copy_traffic_class(app->fd, app->family, fresh, family);
    if (app->bound)
        copy_binding(app, fresh, family);
    return fresh;
}

int gsi_socket_replace(const gsi_app_socket *app, int fresh)
{
    int fd_flags = fcntl(app->fd, F_GETFD), status = fcntl(app->fd, F_GETFL);
    if (status >= 0)
        fcntl(fresh, F_SETFL, status);
    int result =
        dup3(fresh, app->fd, fd_flags > 0 && (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
    int error = result < 0 ? errno : 0;
    close(fresh);
    return error;
}
