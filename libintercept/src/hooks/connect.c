/* connect: a socket connecting to a fake tunnel address is connected to the initiator
 * access point instead and authenticated there (SPEC 3.4, initiator side). Every other
 * connect goes to libc untouched.
 *
 * Single error exit rule: every failure leaves through `fail`, which sets the errno this
 * call documents: ECONNREFUSED (handshake refused), ETIMEDOUT (no answer in time),
 * EHOSTUNREACH (no usable conf or contact, or the access point cannot be reached), or
 * EINTR when a signal handler without SA_RESTART interrupts a blocking connect (the
 * socket is then fresh and unconnected, so connecting again starts over).
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
#include "../core/contact_text.h"
#include "../core/env.h"
#include "../core/export.h"
#include "../core/ids.h"
#include "../core/log.h"
#include "../core/real.h"
#include "../core/session.h"
#include "../core/sockcopy.h"
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

/* Leaves the application's descriptor as a fresh unconnected socket (its settings kept)
 * after a failed or interrupted attempt, so the access point sees the close and the
 * application can retry or close as usual. */
static void reset_socket(const gsi_app_socket *app)
{
    int fresh = gsi_socket_like(app, app->family);
    if (fresh < 0 || gsi_socket_replace(app, fresh) != 0)
        shutdown(app->fd, SHUT_RDWR);
}

/* Connects `work` to the access point and authenticates; 0 or an errno value. `refused`:
 * the TCP connection itself was refused (nothing listens at the contact). */
static int dial(int work, const uint8_t tunnel_id[16], const gsi_conf *conf,
                const struct sockaddr_storage *ap, socklen_t ap_len, int interruptible,
                int *reached, int *refused)
{
    char where[64], tid[GSI_UUID_TEXT];
    gsi_contact_format(ap, where, sizeof where);
    gsi_uuid_format(tunnel_id, tid);
    gsi_wire_limit limit = {gsi_now_ms() + gsi_env_handshake_timeout_ms(), interruptible};
    int flags = gsi_fd_make_nonblocking(work);
    if (flags < 0)
        return EHOSTUNREACH;
    int error = gsi_wire_connect(work, (const struct sockaddr *)ap, ap_len, limit);
    if (error == EINTR) {
        GSI_DEBUG("tunnel %s: connect to the access point %s interrupted by a signal", tid,
                  where);
    } else if (error) {
        GSI_WARN("tunnel %s: cannot reach the access point %s: %s", tid, where,
                 strerror(error));
        *refused = error == ECONNREFUSED;
        if (error != ETIMEDOUT && error != EISCONN)
            error = EHOSTUNREACH;
    } else {
        *reached = 1;
        error = gsi_session_client(work, tunnel_id, conf, limit);
        if (!error)
            GSI_DEBUG("tunnel %s: connected to the access point %s%s", tid, where,
                      conf->lankey_len ? ", authenticated" : " (no LAN secret: no handshake)");
    }
    gsi_fd_restore_flags(work, flags);
    return error;
}

/* Connects `fd` (or a socket of the access point's family put in its place) to the access
 * point and authenticates; 0 or an errno value. `tried_fd`: fd itself attempted a connect. */
static int connect_via(const gsi_app_socket *app, int interruptible,
                       const uint8_t tunnel_id[16], const gsi_conf *conf,
                       const struct sockaddr_storage *contact, socklen_t contact_len,
                       int *refused, int *tried_fd)
{
    int fd = app->fd;
    struct sockaddr_storage ap = *contact;
    socklen_t ap_len = contact_len;
    int same_family = ap.ss_family == app->family;
    if (app->family == AF_INET6 && ap.ss_family == AF_INET &&
        socket_int(fd, IPPROTO_IPV6, IPV6_V6ONLY) == 0) {
        map_ipv4(&ap, &ap_len);
        same_family = 1;
    }
    /* The application's own socket when its family fits, else a new one put in its place. */
    int work = same_family ? fd : gsi_socket_like(app, ap.ss_family);
    int reached = 0;
    *tried_fd = work == fd;
    int error = work < 0 ? EHOSTUNREACH
                         : dial(work, tunnel_id, conf, &ap, ap_len, interruptible, &reached,
                                refused);
    if (work != fd && work >= 0) {
        if (!error)
            error = gsi_socket_replace(app, work) ? EHOSTUNREACH : 0;
        else
            close(work);
    } else if (error && (reached || error == EINTR)) {
        reset_socket(app);
    }
    return error;
}

/* `refused` refused the connection although the CLI did not just give it: one forced
 * lookup, then one more attempt. `error` stands when there is no different contact. */
static int retry_with_fresh_contact(const gsi_app_socket *app, int interruptible,
                                    const uint8_t tunnel_id[16], const gsi_conf *conf,
                                    const struct sockaddr_storage *refused, int tried_fd,
                                    int error)
{
    char tid[GSI_UUID_TEXT];
    gsi_uuid_format(tunnel_id, tid);
    struct sockaddr_storage ap;
    socklen_t ap_len;
    if (gsi_contact_refresh(tid, conf, refused, &ap, &ap_len) != 0)
        return error;
    /* A socket whose connect failed cannot simply connect again: start from a fresh one. */
    if (tried_fd)
        reset_socket(app);
    int refused_again = 0;
    error = connect_via(app, interruptible, tunnel_id, conf, &ap, ap_len, &refused_again,
                        &tried_fd);
    if (error)
        GSI_WARN("tunnel %s: the fresh contact failed too: %s", tid, strerror(error));
    return error;
}

static int tunnel_connect(int fd, const uint8_t tunnel_id[16])
{
    char tid[GSI_UUID_TEXT];
    gsi_uuid_format(tunnel_id, tid);
    gsi_app_socket app;
    int error = gsi_app_socket_read(fd, &app);
    if (error)
        return error; /* EBADF, ENOTSOCK: as libc's connect would say */
    if (app.family != AF_INET && app.family != AF_INET6)
        return EAFNOSUPPORT; /* what libc would say for an internet address */
    if (socket_int(fd, SOL_SOCKET, SO_TYPE) != SOCK_STREAM) {
        GSI_WARN("tunnel %s: only stream sockets can use a tunnel", tid);
        return EHOSTUNREACH;
    }
    gsi_conf conf;
    struct sockaddr_storage ap;
    socklen_t ap_len;
    int refreshable = 0;
    error = gsi_conf_load(tid, &conf);
    if (error)
        gsi_notice(tid, error == ENOENT ? GSI_NOTICE_CONF_MISSING : GSI_NOTICE_CONF_UNREADABLE);
    if (error || conf.role != GSI_ROLE_INITIATOR ||
        gsi_contact_address(tid, &conf, &ap, &ap_len, &refreshable) != 0) {
        if (!error)
            GSI_WARN("tunnel %s: no usable initiator conf", tid);
        gsi_conf_wipe(&conf);
        return EHOSTUNREACH;
    }
    int flags = fcntl(fd, F_GETFL);
    int interruptible = flags >= 0 && !(flags & O_NONBLOCK);
    int refused = 0, tried_fd = 0;
    error = connect_via(&app, interruptible, tunnel_id, &conf, &ap, ap_len, &refused, &tried_fd);
    if (error && refused && refreshable)
        error = retry_with_fresh_contact(&app, interruptible, tunnel_id, &conf, &ap, tried_fd,
                                         error);
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
