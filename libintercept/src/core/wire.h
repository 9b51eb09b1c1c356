/* The only I/O around the GSLA machines: connect and handshake on a socket, bounded by a
 * deadline. Reads exactly the handshake's bytes, never one of the application's. */
#ifndef GSI_WIRE_H
#define GSI_WIRE_H

#include <stdint.h>
#include <sys/socket.h>

#include "gsla.h"

/* Milliseconds on the monotonic clock. */
int64_t gsi_now_ms(void);

/* Puts `fd` in non-blocking mode; returns its previous file status flags, or -1. */
int gsi_fd_make_nonblocking(int fd);
/* Puts back flags returned by gsi_fd_make_nonblocking (errno preserved). */
void gsi_fd_restore_flags(int fd, int flags);

/* Connects a non-blocking socket; 0 or an errno value (ETIMEDOUT past the deadline). */
int gsi_wire_connect(int fd, const struct sockaddr *addr, socklen_t len, int64_t deadline_ms);

/* Runs `hs` to its end over a non-blocking socket (a client's HELLO included).
 * 0 when established; ECONNREFUSED when refused either way, the peer's bytes were wrong
 * or the peer closed; ETIMEDOUT past the deadline; another errno on an I/O error. */
int gsi_wire_handshake(int fd, gsla *hs, int64_t deadline_ms);

#endif
