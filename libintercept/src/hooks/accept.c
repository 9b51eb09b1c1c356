/* accept and accept4: on a tunnel listener (a socket bound to a port named by
 * GLOBUS_STREAMS_INTERCEPT_PORT_<port>) each new connection must pass the LAN handshake
 * before the application sees it. A connection that fails is closed and the next queued
 * one is tried: a blocking accept waits for it, a non-blocking accept returns -1/EAGAIN
 * only when the queue is empty (edge-triggered event loops must not stall). A signal
 * whose handler lacks SA_RESTART ends a blocking accept with EINTR, as without the
 * library (the connection whose handshake it interrupted is closed). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include "../core/env.h"
#include "../core/export.h"
#include "../core/ids.h"
#include "../core/log.h"
#include "../core/real.h"
#include "../core/session.h"
#include "../core/wire.h"

/* The tunnel `fd` listens for, from its bound port; 0 when it is no tunnel listener. */
static int listener_tunnel(int fd, char tunnel_id[GSI_UUID_TEXT])
{
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &len) < 0)
        return 0;
    unsigned port;
    if (local.ss_family == AF_INET)
        port = ntohs(((struct sockaddr_in *)&local)->sin_port);
    else if (local.ss_family == AF_INET6)
        port = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
    else
        return 0;
    return gsi_env_listener_tunnel(port, tunnel_id);
}

static int ic_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags, int is_accept4)
{
    char tunnel_id[GSI_UUID_TEXT];
    if (!listener_tunnel(fd, tunnel_id))
        return is_accept4 ? libc_accept4(fd, addr, len, flags) : libc_accept(fd, addr, len);
    socklen_t room = len ? *len : 0;
    int listener_flags = fcntl(fd, F_GETFL);
    int blocking = listener_flags >= 0 && !(listener_flags & O_NONBLOCK);
    for (;;) {
        if (len)
            *len = room;
        int conn = is_accept4 ? libc_accept4(fd, addr, len, flags) : libc_accept(fd, addr, len);
        if (conn < 0)
            return -1;
        gsi_wire_limit limit = {gsi_now_ms() + gsi_env_handshake_timeout_ms(), blocking};
        int saved = gsi_fd_make_nonblocking(conn);
        int error = saved < 0 ? errno : gsi_session_server(conn, tunnel_id, limit);
        gsi_fd_restore_flags(conn, saved);
        if (!error) {
            GSI_DEBUG("tunnel %s: fd %d accepted on listener fd %d", tunnel_id, conn, fd);
            return conn;
        }
        close(conn); /* never reaches the application */
        if (error == EINTR) {
            errno = EINTR;
            return -1;
        }
    }
}

GSI_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return ic_accept4(fd, addr, len, 0, 0);
}

GSI_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    return ic_accept4(fd, addr, len, flags, 1);
}
