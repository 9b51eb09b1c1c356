/* A native TLS relay: a C reference for bench_tunnel.py's TLS throughput figure.
 *
 *     native_tls_relay client|server LISTEN_PORT CONNECT_PORT CA_PEM KEY_AND_CHAIN_PEM [HOST]
 *
 * Two of them in series do what the tunnel's two access points do on their TLS leg, and
 * the way the tunnel does it, minus Python: TLS 1.2 with ECDHE-ECDSA-AES128-GCM, mutual
 * authentication, TCP_NODELAY and Reno on every socket, and batched I/O. Ciphertext is
 * read up to 512 KiB per recv() (read-ahead into a 512 KiB record buffer) and written from
 * a BIO pair straight to send() without a copy; plaintext moves 512 KiB per call. The
 * `client` relay takes plaintext on LISTEN_PORT and speaks TLS to CONNECT_PORT; the
 * `server` relay takes TLS on LISTEN_PORT and passes plaintext on to CONNECT_PORT.
 *
 * What it measures: how far a plain C relay gets on this machine (the tunnel's own bulk
 * relays are C as well: sim/streams/native/tls_relay.c). It is no part of the product (no GSLA, no framing, no faults, one thread per
 * connection) and ends a connection when either side ends. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH (512 * 1024)

static SSL_CTX *ctx;
static bool client_mode;
static const char *peer_host;

typedef struct {
    int plain, tls;
    SSL *ssl;
    BIO *net_out;      /* our end of the BIO pair OpenSSL writes ciphertext into */
    char *clear;       /* plaintext read from the plain socket, going into SSL_write */
    size_t clear_len, clear_done;
    char *decrypted;   /* plaintext out of SSL_read, going to the plain socket */
    size_t decrypted_len, decrypted_sent;
    bool plain_ended, tls_ended;
    bool tls_starved; /* OpenSSL needs more ciphertext from the socket for its next record */
} relay;

static int loopback_socket(int port, bool listening)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    if (fd < 0)
        return -1;
    if (listening) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 128) == 0)
            return fd;
    } else if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
        return fd;
    }
    close(fd);
    return -1;
}

/* The tunnel's relay sockets get the same options (sim/streams/sockopts.py). */
static void tune(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Sends what OpenSSL wrote into the BIO pair, from the pair's own buffer. */
static void send_ciphertext(relay *r)
{
    char *bytes;
    int n;
    while ((n = BIO_nread0(r->net_out, &bytes)) > 0) {
        ssize_t sent = send(r->tls, bytes, (size_t)n, MSG_NOSIGNAL);
        if (sent <= 0)
            return;
        BIO_nread(r->net_out, &bytes, (int)sent);
    }
}

static bool ciphertext_waits(const relay *r)
{
    return BIO_ctrl_pending(r->net_out) > 0;
}

/* Plain socket -> SSL_write, one batch at a time; false on a TLS error. */
static bool encrypt_step(relay *r)
{
    if (r->clear_done == r->clear_len && !r->plain_ended && !ciphertext_waits(r)) {
        ssize_t got = recv(r->plain, r->clear, BATCH, 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
            r->plain_ended = true;
        r->clear_len = got > 0 ? (size_t)got : 0;
        r->clear_done = 0;
    }
    while (r->clear_done < r->clear_len) {
        size_t written;
        if (SSL_write_ex(r->ssl, r->clear + r->clear_done, r->clear_len - r->clear_done,
                         &written) <= 0)
            return SSL_get_error(r->ssl, 0) == SSL_ERROR_WANT_WRITE; /* the pair is full */
        r->clear_done += written;
    }
    return true;
}

/* SSL_read -> plain socket: decrypt up to a batch, then send it. */
static void decrypt_step(relay *r)
{
    if (r->decrypted_sent == r->decrypted_len) {
        r->decrypted_len = r->decrypted_sent = 0;
        while (!r->tls_ended && r->decrypted_len < BATCH) {
            size_t got;
            r->tls_starved = false;
            if (SSL_read_ex(r->ssl, r->decrypted + r->decrypted_len,
                            BATCH - r->decrypted_len, &got) > 0) {
                r->decrypted_len += got;
                continue;
            }
            int error = SSL_get_error(r->ssl, 0);
            if (error == SSL_ERROR_WANT_READ)
                r->tls_starved = true;
            else if (error != SSL_ERROR_WANT_WRITE)
                r->tls_ended = true;
            break;
        }
    }
    if (r->decrypted_sent < r->decrypted_len) {
        ssize_t sent = send(r->plain, r->decrypted + r->decrypted_sent,
                            r->decrypted_len - r->decrypted_sent, MSG_NOSIGNAL);
        if (sent > 0)
            r->decrypted_sent += (size_t)sent;
        else if (errno != EAGAIN && errno != EINTR) {
            /* The application is gone: nothing more to pass on. */
            r->tls_ended = true;
            r->decrypted_sent = r->decrypted_len;
        }
    }
}

static bool finished(const relay *r)
{
    bool upstream_done = r->plain_ended && r->clear_done == r->clear_len && !ciphertext_waits(r);
    bool downstream_done = r->tls_ended && r->decrypted_sent == r->decrypted_len;
    return upstream_done || downstream_done;
}

static void run(relay *r)
{
    for (;;) {
        send_ciphertext(r);
        if (!SSL_is_init_finished(r->ssl)) {
            int done = SSL_do_handshake(r->ssl);
            int error = done <= 0 ? SSL_get_error(r->ssl, done) : SSL_ERROR_NONE;
            if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ &&
                error != SSL_ERROR_WANT_WRITE)
                return;
            send_ciphertext(r);
        }
        if (SSL_is_init_finished(r->ssl)) {
            if (!encrypt_step(r))
                return;
            send_ciphertext(r);
            decrypt_step(r);
            if (finished(r))
                return;
            /* Whole records already read ahead need no wait, once their room is free. A
             * partial one waits for the socket like an empty buffer. */
            if (r->decrypted_sent == r->decrypted_len && !r->tls_starved && !r->tls_ended &&
                SSL_has_pending(r->ssl))
                continue;
        }
        struct pollfd fds[2] = {{.fd = r->plain}, {.fd = r->tls}};
        /* Plaintext is read only once the handshake is done: before that a readable plain
         * socket would wake every poll. */
        bool encrypting = SSL_is_init_finished(r->ssl);
        if (encrypting && !r->plain_ended && r->clear_done == r->clear_len &&
            !ciphertext_waits(r))
            fds[0].events |= POLLIN;
        if (r->decrypted_sent < r->decrypted_len)
            fds[0].events |= POLLOUT;
        if (!r->tls_ended && r->decrypted_sent == r->decrypted_len)
            fds[1].events |= POLLIN;
        if (ciphertext_waits(r))
            fds[1].events |= POLLOUT;
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            return;
    }
}

static void *serve(void *arg)
{
    relay *r = arg;
    BIO *ssl_out;
    tune(r->plain);
    tune(r->tls);
    r->ssl = SSL_new(ctx);
    r->clear = malloc(BATCH);
    r->decrypted = malloc(BATCH);
    if (r->ssl && r->clear && r->decrypted &&
        BIO_new_bio_pair(&ssl_out, 2 * BATCH, &r->net_out, 2 * BATCH) == 1) {
        SSL_set0_rbio(r->ssl, BIO_new_socket(r->tls, BIO_NOCLOSE));
        SSL_set0_wbio(r->ssl, ssl_out);
        if (client_mode) {
            SSL_set_connect_state(r->ssl);
            if (peer_host)
                SSL_set1_host(r->ssl, peer_host);
        } else {
            SSL_set_accept_state(r->ssl);
        }
        run(r);
        BIO_free(r->net_out);
    }
    SSL_free(r->ssl);
    free(r->clear);
    free(r->decrypted);
    close(r->plain);
    close(r->tls);
    free(r);
    return NULL;
}

static SSL_CTX *make_context(const char *ca, const char *key_and_chain)
{
    SSL_CTX *made = SSL_CTX_new(client_mode ? TLS_client_method() : TLS_server_method());
    if (!made)
        return NULL;
    SSL_CTX_set_min_proto_version(made, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(made, TLS1_2_VERSION);
    SSL_CTX_set_read_ahead(made, 1);
    SSL_CTX_set_default_read_buffer_len(made, BATCH);
    SSL_CTX_set_mode(made, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(made, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    if (SSL_CTX_set_cipher_list(made, "ECDHE-ECDSA-AES128-GCM-SHA256") != 1 ||
        SSL_CTX_load_verify_locations(made, ca, NULL) != 1 ||
        SSL_CTX_use_certificate_chain_file(made, key_and_chain) != 1 ||
        SSL_CTX_use_PrivateKey_file(made, key_and_chain, SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(made);
        return NULL;
    }
    return made;
}

int main(int argc, char **argv)
{
    if (argc < 6 || (strcmp(argv[1], "client") && strcmp(argv[1], "server"))) {
        fprintf(stderr, "usage: %s client|server LISTEN_PORT CONNECT_PORT CA_PEM "
                        "KEY_AND_CHAIN_PEM [HOST]\n", argv[0]);
        return 2;
    }
    client_mode = strcmp(argv[1], "client") == 0;
    int connect_port = atoi(argv[3]);
    peer_host = argc > 6 ? argv[6] : NULL;
    signal(SIGPIPE, SIG_IGN);
    ctx = make_context(argv[4], argv[5]);
    int listener = loopback_socket(atoi(argv[2]), true);
    if (!ctx || listener < 0) {
        ERR_print_errors_fp(stderr);
        fprintf(stderr, "native_tls_relay: cannot listen on port %s or load %s\n", argv[2],
                argv[5]);
        return 1;
    }
    for (;;) {
        int accepted = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (accepted < 0)
            continue;
        int onward = loopback_socket(connect_port, false);
        relay *r = calloc(1, sizeof *r);
        pthread_t thread;
        if (onward < 0 || !r) {
            close(accepted);
            if (onward >= 0)
                close(onward);
            free(r);
            continue;
        }
        r->plain = client_mode ? accepted : onward;
        r->tls = client_mode ? onward : accepted;
        if (pthread_create(&thread, NULL, serve, r) == 0) {
            pthread_detach(thread);
        } else {
            close(accepted);
            close(onward);
            free(r);
        }
    }
}
