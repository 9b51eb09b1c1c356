/* A socket put in the place of the application's (connect() to an access point of another
 * address family, or a fresh socket after a failed handshake) keeps what the application
 * set on its own: timeouts, linger, buffer sizes, keepalive and its parameters, no-delay,
 * user timeout, TOS/traffic class, priority, mark, and the local address it bound, where
 * the new family can express it. */
#ifndef GSI_SOCKCOPY_H
#define GSI_SOCKCOPY_H

#include <sys/socket.h>

/* What the application's socket looked like before the library touched it. */
typedef struct {
    int fd;
    int family;
    int bound; /* the application bound a local address (or port) itself */
    struct sockaddr_storage local;
    socklen_t local_len;
} gsi_app_socket;

/* Records `fd`'s family and bound address; 0 or an errno value (EBADF, ENOTSOCK). */
int gsi_app_socket_read(int fd, gsi_app_socket *out);

/* A new stream socket of `family` (close-on-exec) carrying the application socket's
 * options and bound address; -1 with errno set when none can be made. */
int gsi_socket_like(const gsi_app_socket *app, int family);

/* Puts `fresh` in place of the application's descriptor with its close-on-exec flag and
 * file status flags; `fresh` is closed. 0 or an errno value. */
int gsi_socket_replace(const gsi_app_socket *app, int fresh);

#endif
