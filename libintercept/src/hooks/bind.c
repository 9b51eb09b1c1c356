/* bind: nothing changes here. The listener check lives in accept(), which asks the socket
 * for its port (getsockname) on every call, so it stays right across dup, fd reuse, fork
 * and exec without tracking descriptors. bind only says, in the debug output, that a
 * socket became a tunnel listener. */
#include <netinet/in.h>

#include "../core/env.h"
#include "../core/export.h"
#include "../core/ids.h"
#include "../core/log.h"
#include "../core/real.h"

static unsigned port_of(const struct sockaddr *addr, socklen_t len)
{
    if (addr == NULL)
        return 0;
    if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
        return ntohs(((const struct sockaddr_in *)addr)->sin_port);
    if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
        return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
    return 0;
}

static int ic_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    int result = libc_bind(fd, addr, len);
    if (result == 0 && gsi_log_enabled()) {
        char tunnel_id[GSI_UUID_TEXT];
        unsigned port = port_of(addr, len);
        if (port != 0 && gsi_env_listener_tunnel(port, tunnel_id))
            GSI_DEBUG("fd %d bound to port %u: listener of tunnel %s", fd, port, tunnel_id);
    }
    return result;
}

GSI_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    return ic_bind(fd, addr, len);
}
