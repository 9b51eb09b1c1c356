/* connect: a socket connecting to a fake tunnel address is connected to the initiator
 * access point instead and authenticated there (SPEC 3.4, initiator side). Every other
 * connect goes to libc untouched.
 *
 * Single error exit rule: every failure leaves through `fail`, which sets the errno this
 * call documents: ECONNREFUSED (handshake refused), ETIMEDOUT (no answer in time),
 * EHOSTUNREACH (no usable conf or contact, or the access point cannot be reached).
 *
 * A restarted tunnel moves its access point before the conf's contact reaches its TTL:
 * when a contact the CLI did not just give is refused (nothing listens there), the CLI is
 * asked once for a fresh one and the connection is tried once more. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "../core/addrmap.h"
#include "../core/conf.h"
#include "../core/contact.h"
#include "../core/env.h"
#include "../core/export.h"
#include "../core/ids.h"
#include "../core/log.h"
#include "../core/real.h"
#include "../core/session.h"
#include "../core/wire.h"

static int socket_int(int fd, int level, int name)
{
    int value = 0;
    socklen_t size = sizeof value;
    return getsockopt(fd, level, name, &value, &size) == 0 ? value : -1;
}

/* An IPv4 contact for an IPv6 socket that accepts mapped addresses. */
static void map_ipv4(struct sockaddr_storage *addr, socklen_t *len)
{
    struct sockaddr_in v4 = *(struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    memset(v6, 0, sizeof *v6);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = v4.sin_port;
    v6->sin6_addr.s6_addr[10] = 0xff;
    v6->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&v6->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
    *len = sizeof *v6;
}

/* Puts `fresh` in place of `fd` with fd's close-on-exec flag, file status flags and the
 * TCP options applications commonly set. 0 or an errno value. */
static int replace_socket(int fd, int fresh)
{
    int fd_flags = fcntl(fd, F_GETFD), status = fcntl(fd, F_GETFL);
    static const int options[][2] = {{IPPROTO_TCP, TCP_NODELAY}, {SOL_SOCKET, SO_KEEPALIVE}};
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        int value = socket_int(fd, options[i][0], options[i][1]);
        if (value > 0)
            setsockopt(fresh, options[i][0], options[i][1], &value, sizeof value);
    }
    if (status >= 0)
        fcntl(fresh, F_SETFL, status);
    int result = dup3(fresh, fd, fd_flags > 0 && (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
    int error = result < 0 ? errno : 0;
    close(fresh);
    return error;
}

/* Leaves `fd` as a fresh unconnected socket after a failed handshake, so the access
 * point sees the close and the application can retry or close as usual. */
static void reset_socket(int fd, int family)
{
    int fresh = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fresh < 0 || replace_socket(fd, fresh) != 0)
        shutdown(fd, SHUT_RDWR);
}

/* Connects `work` to the access point and authenticates; 0 or an errno value. `refused`:
 * the TCP connection itself was refused (nothing listens at the contact). */
static int dial(int work, const uint8_t tunnel_id[16], const gsi_conf *conf,
                const struct sockaddr_storage *ap, socklen_t ap_len, int *reached, int *refused)
{
    char where[64], tid[GSI_UUID_TEXT];
    gsi_contact_format(ap, where, sizeof where);
    gsi_uuid_format(tunnel_id, tid);
    int64_t deadline = gsi_now_ms() + gsi_env_handshake_timeout_ms();
    int flags = gsi_fd_make_nonblocking(work);
    if (flags < 0)
        return EHOSTUNREACH;
    int error = gsi_wire_connect(work, (const struct sockaddr *)ap, ap_len, deadline);
    if (error) {
        GSI_WARN("tunnel %s: cannot reach the access point %s: %s", tid, where,
                 strerror(error));
        *refused = error == ECONNREFUSED;
        if (error != ETIMEDOUT && error != EISCONN)
            error = EHOSTUNREACH;
    } else {
        *reached = 1;
        error = gsi_session_client(work, tunnel_id, conf, deadline);
        if (!error)
            GSI_DEBUG("tunnel %s: connected to the access point %s%s", tid, where,
                      conf->lankey_len ? ", authenticated" : " (no LAN secret: no handshake)");
    }
    gsi_fd_restore_flags(work, flags);
    return error;
}

/* Connects `fd` (or a socket of the access point's family put in its place) to the access
 * point and authenticates; 0 or an errno value. `tried_fd`: fd itself attempted a connect. */
static int connect_via(int fd, int family, const uint8_t tunnel_id[16], const gsi_conf *conf,
                       const struct sockaddr_storage *contact, socklen_t contact_len,
                       int *refused, int *tried_fd)
{
    struct sockaddr_storage ap = *contact;
    socklen_t ap_len = contact_len;
    int same_family = ap.ss_family == family;
    if (family == AF_INET6 && ap.ss_family == AF_INET &&
        socket_int(fd, IPPROTO_IPV6, IPV6_V6ONLY) == 0) {
        map_ipv4(&ap, &ap_len);
        same_family = 1;
    }
    /* The application's own socket when its family fits, else a new one put in its place. */
    int work = same_family ? fd : socket(ap.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int reached = 0;
    *tried_fd = work == fd;
    int error =
        work < 0 ? EHOSTUNREACH : dial(work, tunnel_id, conf, &ap, ap_len, &reached, refused);
    if (work != fd && work >= 0) {
        if (!error)
            error = replace_socket(fd, work) ? EHOSTUNREACH : 0;
        else
            close(work);
    } else if (error && reached) {
        reset_socket(fd, family);
    }
    return error;
}

/* `refused` refused the connection although the CLI did not just give it: one forced
 * lookup, then one more attempt. `error` stands when there is no different contact. */
static int retry_with_fresh_contact(int fd, int family, const uint8_t tunnel_id[16],
                                    const gsi_conf *conf, const struct sockaddr_storage *refused,
                                    int tried_fd, int error)
{
    char tid[GSI_UUID_TEXT];
    gsi_uuid_format(tunnel_id, tid);
    struct sockaddr_storage ap;
    socklen_t ap_len;
    if (gsi_contact_refresh(tid, conf, refused, &ap, &ap_len) != 0)
        return error;
    /* A socket whose connect failed cannot simply connect again: start from a fresh one. */
    if (tried_fd)
        reset_socket(fd, family);
    int refused_again = 0;
    error = connect_via(fd, family, tunnel_id, conf, &ap, ap_len, &refused_again, &tried_fd);
    if (error)
        GSI_WARN("tunnel %s: the fresh contact failed too: %s", tid, strerror(error));
    return error;
}

static int tunnel_connect(int fd, const uint8_t tunnel_id[16])
{
    char tid[GSI_UUID_TEXT];
    gsi_uuid_format(tunnel_id, tid);
    int family = socket_int(fd, SOL_SOCKET, SO_DOMAIN);
    if (family < 0)
        return errno; /* EBADF, ENOTSOCK: as libc's connect would say */
    if (family != AF_INET && family != AF_INET6)
        return EAFNOSUPPORT; /* what libc would say for an internet address */
    if (socket_int(fd, SOL_SOCKET, SO_TYPE) != SOCK_STREAM) {
        GSI_WARN("tunnel %s: only stream sockets can use a tunnel", tid);
        return EHOSTUNREACH;
    }
    gsi_conf conf;
    struct sockaddr_storage ap;
    socklen_t ap_len;
    int refreshable = 0;
    int error = gsi_conf_load(tid, &conf);
    if (error || conf.role != GSI_ROLE_INITIATOR ||
        gsi_contact_address(tid, &conf, &ap, &ap_len, &refreshable) != 0) {
        if (!error)
            GSI_WARN("tunnel %s: no usable initiator conf", tid);
        gsi_conf_wipe(&conf);
        return EHOSTUNREACH;
    }
    int refused = 0, tried_fd = 0;
    error = connect_via(fd, family, tunnel_id, &conf, &ap, ap_len, &refused, &tried_fd);
    if (error && refused && refreshable)
        error = retry_with_fresh_contact(fd, family, tunnel_id, &conf, &ap, tried_fd, error);
    gsi_conf_wipe(&conf);
    if (!error)
        GSI_DEBUG("tunnel %s: fd %d connected through the access point", tid, fd);
    return error;
}

static int ic_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    uint8_t tunnel_id[16];
    if (!gsi_addrmap_lookup(addr, len, tunnel_id))
        return libc_connect(fd, addr, len);
    int error = tunnel_connect(fd, tunnel_id);
    if (error)
        goto fail;
    return 0;
fail:
    errno = error;
    return -1;
}

GSI_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    return ic_connect(fd, addr, len);
}
