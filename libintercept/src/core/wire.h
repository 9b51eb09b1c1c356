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

/* How long the I/O may take, and whether a signal ends it: `interruptible` is set for
 * the application's blocking call, which returns EINTR when a signal handler without
 * SA_RESTART runs (as the call would without the library); otherwise the wait goes on. */
typedef struct {
    int64_t deadline_ms;
    int interruptible;
} gsi_wire_limit;

/* 1 when some caught signal's handler lacks SA_RESTART: an interrupted blocking call of
 * the application would then return EINTR. */
int gsi_signal_interrupts(void);

/* Connects a non-blocking socket; 0 or an errno value (ETIMEDOUT past the deadline,
 * EINTR as above). */
int gsi_wire_connect(int fd, const struct sockaddr *addr, socklen_t len, gsi_wire_limit limit);

/* Runs `hs` to its end over a non-blocking socket (a client's HELLO included).
 * 0 when established; ECONNREFUSED when refused either way, the peer's bytes were wrong
 * or the peer closed; ETIMEDOUT past the deadline; EINTR as above; another errno on an
 * I/O error. */
int gsi_wire_handshake(int fd, gsla *hs, gsi_wire_limit limit);

#endif
