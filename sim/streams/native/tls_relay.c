/*
 * The bulk phase of one TLS access point relay, in C: a plain socket on one side, the
 * WAN leg's TLS connection on the other, both directions, no interpreter in the way.
 *
 * The Python relay hands a heavy connection over when no fault applies to it, and takes
 * it back on every change it must see itself: either end of stream, an error, a fault
 * change or a close (the stop descriptor). So this loop knows the framing of the WAN leg
 * (a 4-byte big-endian length, then the bytes; length 0 ends a direction) but never
 * half-closes, reuses or shapes anything.
 *
 * The SSL object is CPython's, running over memory BIOs. For the bulk phase it runs over
 * a BIO pair instead: ciphertext is received straight into the pair's buffer and sent
 * straight from it. On return the pair's contents go back into the memory BIOs, so the
 * Python channel continues exactly where this loop stopped.
 *
 * OpenSSL is not linked: the functions come from the libssl the interpreter already
 * loaded (orbit_relay_init), so this is the same library and the same SSL object layout.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define EXPORT __attribute__((visibility("default")))

typedef struct ssl_st SSL;
typedef struct bio_st BIO;

/* What orbit_relay_run returns. */
enum {
    RELAY_ERROR = -1,     /* a socket or TLS error: st->error says which */
    RELAY_STOPPED = 10,   /* the stop descriptor became readable */
    RELAY_PLAIN_EOF = 11, /* the plain socket ended (its EOF is left for Python to read) */
    RELAY_TLS_EOF = 12,   /* the TLS connection's socket ended */
    RELAY_ENDED_IN = 13,  /* the peer's end-of-stream frame arrived */
};

/* What one step of a direction leaves to wait for. */
enum {
    STEP_IDLE = 0,    /* its source has nothing: wait until it is readable */
    STEP_BLOCKED = 1, /* its destination is full: wait until it is writable */
    STEP_BUSY = 2,    /* bytes remain in user space: look again without waiting */
};

#define SSL_ERROR_WANT_READ 2
#define SSL_ERROR_ZERO_RETURN 6
#define PAIR_IN_SIZE (1u << 20)  /* ciphertext received, not yet decrypted */
#define PAIR_OUT_SIZE (2u << 20) /* ciphertext encrypted, not yet sent */
#define RECORD_ROOM (16 * 1024 + 256)
#define HEADER 4

/* Shared with Python (ctypes.Structure in native/__init__.py): the framing state of the
 * inbound direction, and the plaintext not yet written to the plain socket. */
struct relay_state {
    uint32_t frame_left;  /* bytes left of the inbound frame */
    uint32_t header_got;  /* bytes of the next inbound frame header read so far */
    uint8_t header[HEADER];
    uint32_t ended_in;    /* the peer's end-of-stream frame arrived */
    uint32_t pending_off; /* inbound plaintext at buf_in[pending_off...] ... */
    uint32_t pending_len; /* ... not yet written to the plain socket */
    int32_t error;        /* RELAY_ERROR: errno, or -(SSL_get_error) for TLS */
    uint64_t bytes_in;    /* plaintext written to the plain socket */
    uint64_t bytes_out;   /* plaintext read from the plain socket */
};

static struct {
    int (*ssl_read)(SSL *, void *, int);
    int (*ssl_write)(SSL *, const void *, int);
    int (*ssl_get_error)(const SSL *, int);
    int (*ssl_pending)(const SSL *);
    BIO *(*ssl_get_rbio)(const SSL *);
    BIO *(*ssl_get_wbio)(const SSL *);
    void (*ssl_set0_rbio)(SSL *, BIO *);
    void (*ssl_set0_wbio)(SSL *, BIO *);
    int (*bio_new_bio_pair)(BIO **, size_t, BIO **, size_t);
    int (*bio_up_ref)(BIO *);
    int (*bio_free)(BIO *);
    int (*bio_read)(BIO *, void *, int);
    int (*bio_write)(BIO *, const void *, int);
    size_t (*bio_ctrl_pending)(BIO *);
    size_t (*bio_ctrl_get_write_guarantee)(BIO *);
    int (*bio_nread0)(BIO *, char **);
    int (*bio_nread)(BIO *, char **, int);
    int (*bio_nwrite0)(BIO *, char **);
    int (*bio_nwrite)(BIO *, char **, int);
    void (*err_clear_error)(void);
} ossl;

/* Resolve the OpenSSL functions from the libssl at `libssl_path`, already loaded by the
 * interpreter's ssl module. 0 on success, -1 when any is missing. Called again (another
 * gateway in the same process), it keeps the table it has. */
EXPORT int orbit_relay_init(const char *libssl_path) {
    if (ossl.err_clear_error != NULL) /* the last slot: an earlier call filled them all */
        return 0;
    void *lib = dlopen(libssl_path, RTLD_NOW | RTLD_NOLOAD);
    if (lib == NULL)
        return -1;
    struct {
        void *slot;
        const char *name;
    } table[] = {
        {&ossl.ssl_read, "SSL_read"},
        {&ossl.ssl_write, "SSL_write"},
        {&ossl.ssl_get_error, "SSL_get_error"},
        {&ossl.ssl_pending, "SSL_pending"},
        {&ossl.ssl_get_rbio, "SSL_get_rbio"},
        {&ossl.ssl_get_wbio, "SSL_get_wbio"},
        {&ossl.ssl_set0_rbio, "SSL_set0_rbio"},
        {&ossl.ssl_set0_wbio, "SSL_set0_wbio"},
        {&ossl.bio_new_bio_pair, "BIO_new_bio_pair"},
        {&ossl.bio_up_ref, "BIO_up_ref"},
        {&ossl.bio_free, "BIO_free"},
        {&ossl.bio_read, "BIO_read"},
        {&ossl.bio_write, "BIO_write"},
        {&ossl.bio_ctrl_pending, "BIO_ctrl_pending"},
        {&ossl.bio_ctrl_get_write_guarantee, "BIO_ctrl_get_write_guarantee"},
        {&ossl.bio_nread0, "BIO_nread0"},
        {&ossl.bio_nread, "BIO_nread"},
        {&ossl.bio_nwrite0, "BIO_nwrite0"},
        {&ossl.bio_nwrite, "BIO_nwrite"},
        {&ossl.err_clear_error, "ERR_clear_error"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        void *fn = dlsym(lib, table[i].name);
        if (fn == NULL)
            return -1;
        memcpy(table[i].slot, &fn, sizeof fn);
    }
    return 0;
}

/* One relay's run: the SSL object, its two sockets, the pair standing in for its BIOs. */
struct relay {
    SSL *ssl;
    int plain_fd, tls_fd, stop_fd;
    BIO *inner, *outer; /* the pair: `inner` is the SSL object's, `outer` the sockets' */
    BIO *mem_in, *mem_out;
    uint8_t *buf_in, *buf_out;
    uint32_t size;
    struct relay_state *st;
    int tls_eof;
};

static int fail_errno(struct relay *r) {
    r->st->error = errno;
    return RELAY_ERROR;
}

static int fail_tls(struct relay *r, int ret) {
    r->st->error = -ossl.ssl_get_error(r->ssl, ret);
    return RELAY_ERROR;
}

/* Move everything readable from `from` into `to` (on entry and return: memory BIO <-> pair). */
static int move_bio(BIO *from, BIO *to, uint8_t *scratch, uint32_t size) {
    int n;
    while ((n = ossl.bio_read(from, scratch, (int)size)) > 0) {
        if (ossl.bio_write(to, scratch, n) != n)
            return -1;
    }
    return 0;
}

/* Send encrypted bytes waiting in the pair; 1 once none is left, 0 when the socket is full. */
static int send_ciphertext(struct relay *r) {
    char *p;
    int n;
    while ((n = ossl.bio_nread0(r->outer, &p)) > 0) {
        ssize_t sent = send(r->tls_fd, p, (size_t)n, MSG_NOSIGNAL);
        if (sent < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0 : fail_errno(r);
        ossl.bio_nread(r->outer, &p, (int)sent);
    }
    return 1;
}

/* Write inbound plaintext to the plain socket; 1 once none is left, 0 when it is full. */
static int send_plaintext(struct relay *r) {
    struct relay_state *st = r->st;
    while (st->pending_len) {
        ssize_t sent = send(r->plain_fd, r->buf_in + st->pending_off, st->pending_len,
                            MSG_NOSIGNAL);
        if (sent < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0 : fail_errno(r);
        st->pending_off += (uint32_t)sent;
        st->pending_len -= (uint32_t)sent;
        st->bytes_in += (uint64_t)sent;
    }
    st->pending_off = 0;
    return 1;
}

/* Receive ciphertext into the pair; 1 when some arrived, 0 when none (or no room). */
static int receive_ciphertext(struct relay *r) {
    char *p;
    int room = ossl.bio_nwrite0(r->outer, &p);
    if (room <= 0)
        return 0;
    ssize_t got = recv(r->tls_fd, p, (size_t)room, 0);
    if (got < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : fail_errno(r);
    if (got == 0) {
        r->tls_eof = 1;
        return 0;
    }
    ossl.bio_nwrite(r->outer, &p, (int)got);
    return 1;
}

/* Plaintext from OpenSSL, fed from the socket as needed: > 0 bytes, 0 when nothing more
 * is there yet (or the socket ended), < 0 on error. */
static int tls_read(struct relay *r, uint8_t *into, uint32_t want) {
    for (;;) {
        ossl.err_clear_error();
        int n = ossl.ssl_read(r->ssl, into, (int)want);
        if (n > 0)
            return n;
        int error = ossl.ssl_get_error(r->ssl, n);
        if (error == SSL_ERROR_ZERO_RETURN) { /* close_notify: an end, as in tlsio.py */
            r->tls_eof = 1;
            return 0;
        }
        if (error != SSL_ERROR_WANT_READ)
            return fail_tls(r, n);
        int fed = receive_ciphertext(r);
        if (fed <= 0)
            return fed;
    }
}

/* Decrypt up to a buffer of inbound frames into buf_in (frame headers taken out). */
static int decrypt(struct relay *r) {
    struct relay_state *st = r->st;
    uint32_t filled = 0;
    while (!st->ended_in && r->size - filled >= RECORD_ROOM) {
        int n;
        if (st->frame_left == 0) {
            n = tls_read(r, st->header + st->header_got, HEADER - st->header_got);
            if (n <= 0) {
                if (n < 0)
                    return n;
                break;
            }
            st->header_got += (uint32_t)n;
            if (st->header_got == HEADER) {
                st->header_got = 0;
                st->frame_left = (uint32_t)st->header[0] << 24 | (uint32_t)st->header[1] << 16 |
                                 (uint32_t)st->header[2] << 8 | st->header[3];
                st->ended_in = st->frame_left == 0;
            }
            continue;
        }
        uint32_t want = r->size - filled;
        if (want > st->frame_left)
            want = st->frame_left;
        n = tls_read(r, r->buf_in + filled, want);
        if (n <= 0) {
            if (n < 0)
                return n;
            break;
        }
        filled += (uint32_t)n;
        st->frame_left -= (uint32_t)n;
    }
    st->pending_off = 0;
    st->pending_len = filled;
    return 0;
}

enum { FRAME_NONE = 0, FRAME_SENT = 1, FRAME_EOF = 2 };

/* Read plaintext from the plain socket and encrypt it as one frame: FRAME_SENT,
 * FRAME_NONE when the socket had nothing, FRAME_EOF, or RELAY_ERROR. */
static int encrypt(struct relay *r) {
    ssize_t got = recv(r->plain_fd, r->buf_out + HEADER, r->size - HEADER, 0);
    if (got < 0)
        return (errno == EAGAIN || errno == EINTR) ? FRAME_NONE : fail_errno(r);
    if (got == 0)
        return FRAME_EOF;
    uint32_t len = (uint32_t)got;
    r->buf_out[0] = (uint8_t)(len >> 24);
    r->buf_out[1] = (uint8_t)(len >> 16);
    r->buf_out[2] = (uint8_t)(len >> 8);
    r->buf_out[3] = (uint8_t)len;
    ossl.err_clear_error();
    int n = ossl.ssl_write(r->ssl, r->buf_out, (int)(len + HEADER));
    if (n != (int)(len + HEADER)) /* the pair always has room for a whole frame */
        return fail_tls(r, n);
    r->st->bytes_out += len;
    return FRAME_SENT;
}

/* Room in the pair for one more whole frame of ciphertext (records add ~2%). */
static int room_for_frame(struct relay *r) {
    return ossl.bio_ctrl_get_write_guarantee(r->inner) >= r->size + r->size / 8;
}

static int stop_requested(int stop_fd) {
    struct pollfd p = {.fd = stop_fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

#define ROUNDS 4 /* reads per direction per wake-up, so neither direction starves */

/* Plain socket -> TLS: STEP_BLOCKED when the pair is full (wait for the TLS socket),
 * STEP_IDLE otherwise (bytes left in the plain socket keep it readable); RELAY_PLAIN_EOF
 * or RELAY_ERROR. */
static int step_outbound(struct relay *r) {
    for (int round = 0; round < ROUNDS; round++) {
        if (send_ciphertext(r) < 0)
            return RELAY_ERROR;
        if (!room_for_frame(r))
            return STEP_BLOCKED;
        int got = encrypt(r);
        if (got == RELAY_ERROR)
            return RELAY_ERROR;
        if (got == FRAME_EOF)
            return RELAY_PLAIN_EOF; /* what the pair holds goes back to Python */
        if (got == FRAME_NONE)
            break;
    }
    return send_ciphertext(r) < 0 ? RELAY_ERROR : STEP_IDLE;
}

/* TLS -> plain socket: STEP_BLOCKED when the plain socket is full, STEP_IDLE when the TLS
 * side has nothing, STEP_BUSY when decrypted or received bytes remain after the rounds;
 * RELAY_ENDED_IN, RELAY_TLS_EOF or RELAY_ERROR. */
static int step_inbound(struct relay *r) {
    for (int round = 0; round < ROUNDS; round++) {
        int done = send_plaintext(r);
        if (done < 0)
            return RELAY_ERROR;
        if (!done)
            return STEP_BLOCKED;
        if (r->st->ended_in)
            return RELAY_ENDED_IN;
        if (r->tls_eof)
            return RELAY_TLS_EOF;
        if (decrypt(r) < 0)
            return RELAY_ERROR;
        if (!r->st->pending_len && !r->st->ended_in && !r->tls_eof)
            return STEP_IDLE;
    }
    return STEP_BUSY;
}

static int run(struct relay *r) {
    for (;;) {
        int out = step_outbound(r);
        if (out == RELAY_ERROR || out == RELAY_PLAIN_EOF)
            return out;
        int in = step_inbound(r);
        if (in == RELAY_ERROR || in == RELAY_ENDED_IN || in == RELAY_TLS_EOF)
            return in;
        /* Records already received (in the pair, or decrypted inside OpenSSL) raise no
         * readiness event: with those, only look whether anything else is ready. */
        int busy = in == STEP_BUSY ||
                   (in == STEP_IDLE &&
                    (ossl.bio_ctrl_pending(r->inner) || ossl.ssl_pending(r->ssl) > 0));
        short plain_events =
            (short)((out == STEP_BLOCKED ? 0 : POLLIN) | (in == STEP_BLOCKED ? POLLOUT : 0));
        short tls_events = (short)((in == STEP_BLOCKED ? 0 : POLLIN) |
                                   (ossl.bio_ctrl_pending(r->outer) ? POLLOUT : 0));
        /* A descriptor with nothing to wait for is left out: its POLLHUP would spin. */
        struct pollfd fds[3] = {
            {.fd = r->stop_fd, .events = POLLIN},
            {.fd = plain_events ? r->plain_fd : -1, .events = plain_events},
            {.fd = tls_events ? r->tls_fd : -1, .events = tls_events},
        };
        if (poll(fds, 3, busy ? 0 : -1) < 0 && errno != EINTR)
            return fail_errno(r);
        if (fds[0].revents)
            return RELAY_STOPPED;
    }
}

/*
 * Relay between `plain_fd` and `tls_fd` (both non-blocking) until something Python must
 * handle happens; returns one of RELAY_*. `ssl` runs over the memory BIOs `SSL_get_rbio`
 * and `SSL_get_wbio` give, and holds them again on return, with every byte this loop
 * received but did not decrypt, or encrypted but could not send. `buf_in` and `buf_out`
 * are `size` bytes each; inbound plaintext not yet written is left at
 * buf_in[st->pending_off...] (st->pending_len bytes).
 */
EXPORT int orbit_relay_run(SSL *ssl, int plain_fd, int tls_fd, int stop_fd, uint8_t *buf_in,
                           uint8_t *buf_out, uint32_t size, struct relay_state *st) {
    struct relay r = {
        .ssl = ssl,
        .plain_fd = plain_fd,
        .tls_fd = tls_fd,
        .stop_fd = stop_fd,
        .buf_in = buf_in,
        .buf_out = buf_out,
        .size = size,
        .st = st,
    };
    st->error = 0;
    st->pending_off = st->pending_len = 0;
    if (size < RECORD_ROOM + HEADER || stop_requested(stop_fd))
        return RELAY_STOPPED;
    if (!ossl.bio_new_bio_pair(&r.inner, PAIR_OUT_SIZE, &r.outer, PAIR_IN_SIZE)) {
        st->error = ENOMEM;
        return RELAY_ERROR;
    }
    r.mem_in = ossl.ssl_get_rbio(ssl);
    r.mem_out = ossl.ssl_get_wbio(ssl);
    /* Ciphertext the memory BIO still holds is older than anything the socket has. */
    int result = RELAY_ERROR;
    int handed = move_bio(r.mem_in, r.outer, buf_out, size) == 0;
    if (handed) {
        ossl.bio_up_ref(r.mem_in);
        ossl.bio_up_ref(r.mem_out);
        ossl.bio_up_ref(r.inner); /* one reference each for the read and write side */
        ossl.ssl_set0_rbio(ssl, r.inner);
        ossl.ssl_set0_wbio(ssl, r.inner);
        result = run(&r);
        /* Back to the memory BIOs, with what the pair holds in each direction. */
        if (move_bio(r.inner, r.mem_in, buf_out, size) < 0 ||
            move_bio(r.outer, r.mem_out, buf_out, size) < 0) {
            st->error = ENOMEM;
            result = RELAY_ERROR;
        }
        ossl.ssl_set0_rbio(ssl, r.mem_in);
        ossl.ssl_set0_wbio(ssl, r.mem_out);
    } else {
        st->error = ENOMEM;
        ossl.bio_free(r.inner); /* never handed to the SSL object */
    }
    ossl.bio_free(r.outer);
    ossl.err_clear_error();
    return result;
}
