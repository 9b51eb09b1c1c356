/* Driver for benchmarks/bench_intercept.py: small loops timed with the monotonic clock,
 * run with and without the library preloaded. Prints one JSON line per measurement.
 *
 *   bench_driver acceptor                       listen on 127.0.0.1, print port, accept+close
 *   bench_driver connect PORT BATCHES PER       socket+connect+close, ns/op per batch
 *   bench_driver resolve NAME BATCHES PER       getaddrinfo+freeaddrinfo, ns/op per batch
 *   bench_driver sink [TID SID SECRET]          listen, print port; per connection: GSLA
 *                                               server handshake (when given), read to EOF,
 *                                               answer one byte
 *   bench_driver send NAME PORT MIB             connect (untimed), then time MIB MiB out
 *                                               and the one-byte answer: MiB/s
 *   bench_driver sink2 TID SID SECRET           two listeners, ports printed: plain, then
 *                                               secure (GSLA); a thread per connection
 *   bench_driver send2 PLAIN_PORT NAME PORT MIB ROUNDS
 *                                               one plain and one tunnel connection from the
 *                                               same process; rounds alternate MIB MiB on
 *                                               each: MiB/s per round for both
 * Links the core (for the sink's handshake) but none of the hooks. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gsla.h"
#include "ids.h"
#include "rand.h"
#include "wire.h"

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_driver: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int listen_loopback(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 4096) < 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
        die("listen");
    printf("%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    return fd;
}

static void print_batches(const char *what, const double *ns_per_op, int batches)
{
    printf("{\"measure\": \"%s\", \"ns_per_op\": [", what);
    for (int i = 0; i < batches; i++)
        printf("%s%.1f", i ? ", " : "", ns_per_op[i]);
    printf("]}\n");
}

static void acceptor(void)
{
    int fd = listen_loopback();
    for (;;) {
        int conn = accept(fd, NULL, NULL);
        if (conn >= 0)
            close(conn);
    }
}

static void connect_loop(int port, int batches, int per)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    double *result = calloc((size_t)batches, sizeof *result);
    for (int b = 0; b < batches; b++) {
        double start = now_ns();
        for (int i = 0; i < per; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
                die("connect");
            close(fd);
        }
        result[b] = (now_ns() - start) / per;
    }
    print_batches("connect", result, batches);
}

static void resolve_loop(const char *name, int batches, int per)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    double *result = calloc((size_t)batches, sizeof *result);
    for (int b = 0; b < batches; b++) {
        double start = now_ns();
        for (int i = 0; i < per; i++) {
            int rc = getaddrinfo(name, "4000", &hints, &res);
            if (rc != 0) {
                fprintf(stderr, "bench_driver: %s: %s\n", name, gai_strerror(rc));
                exit(1);
            }
            freeaddrinfo(res);
        }
        result[b] = (now_ns() - start) / per;
    }
    print_batches("resolve", result, batches);
}

/* One sink connection: optional GSLA server handshake, read to EOF, answer one byte. */
static void serve_connection(int conn, const gsla_credential *known)
{
    static __thread char buf[1 << 16];
    if (known != NULL) {
        uint8_t nonce[32];
        gsla hs;
        gsi_random_bytes(nonce, sizeof nonce);
        gsla_server_init(&hs, nonce, gsla_lookup_one, (void *)known);
        int flags = gsi_fd_make_nonblocking(conn);
        int error = gsi_wire_handshake(conn, &hs, (gsi_wire_limit){gsi_now_ms() + 10000, 0});
        gsi_fd_restore_flags(conn, flags);
        if (error) {
            close(conn);
            return;
        }
    }
    while (read(conn, buf, sizeof buf) > 0)
        ;
    ssize_t ignored = write(conn, "k", 1);
    (void)ignored;
    close(conn);
}

static int read_credential(char **argv, gsla_credential *known)
{
    if (!gsi_uuid_parse(argv[0], known->tunnel_id) || !gsi_uuid_parse(argv[1], known->secret_id))
        return 0;
    gsi_hmac_key_init(&known->key, argv[2], strlen(argv[2]));
    return 1;
}

static void sink(int argc, char **argv)
{
    gsla_credential known;
    int secure = argc == 3;
    if (secure && !read_credential(argv, &known))
        die("ids");
    int fd = listen_loopback();
    for (;;) {
        int conn = accept(fd, NULL, NULL);
        if (conn >= 0)
            serve_connection(conn, secure ? &known : NULL);
    }
}

typedef struct {
    int listener;
    const gsla_credential *known;
} acceptor_args;

static void *accept_thread(void *arg)
{
    acceptor_args *a = arg;
    for (;;) {
        int conn = accept(a->listener, NULL, NULL);
        if (conn >= 0)
            serve_connection(conn, a->known);
    }
    return NULL;
}

static void sink2(char **argv)
{
    static gsla_credential known;
    if (!read_credential(argv, &known))
        die("ids");
    static acceptor_args plain, secure;
    plain.listener = listen_loopback();
    secure.listener = listen_loopback();
    secure.known = &known;
    pthread_t threads[2];
    pthread_create(&threads[0], NULL, accept_thread, &plain);
    pthread_create(&threads[1], NULL, accept_thread, &secure);
    pthread_join(threads[0], NULL);
}

static int dial(const char *name, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(name, port, &hints, &res) != 0)
        die("resolve");
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0)
        die("connect");
    freeaddrinfo(res);
    return fd;
}

static void write_mib(int fd, long mib)
{
    static char buf[1 << 20];
    memset(buf, 'x', sizeof buf);
    for (long i = 0; i < mib; i++)
        for (size_t sent = 0; sent < sizeof buf;) {
            ssize_t n = write(fd, buf + sent, sizeof buf - sent);
            if (n < 0)
                die("write");
            sent += (size_t)n;
        }
}

static void finish(int fd)
{
    char ack;
    shutdown(fd, SHUT_WR);
    if (read(fd, &ack, 1) != 1)
        die("ack");
    close(fd);
}

static void send_bulk(const char *name, const char *port, long mib)
{
    int fd = dial(name, port);
    double start = now_ns();
    write_mib(fd, mib);
    finish(fd);
    double seconds = (now_ns() - start) / 1e9;
    printf("{\"measure\": \"send\", \"mib_per_s\": %.1f}\n", (double)mib / seconds);
}

static void send_pair(const char *plain_port, const char *name, const char *port, long mib,
                      int rounds)
{
    int fds[2] = {dial("127.0.0.1", plain_port), dial(name, port)};
    double *rates[2] = {calloc((size_t)rounds, sizeof(double)),
                        calloc((size_t)rounds, sizeof(double))};
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) {
            int which = (r % 2) ? 1 - k : k; /* alternate which goes first */
            double start = now_ns();
            write_mib(fds[which], mib);
            rates[which][r] = (double)mib / ((now_ns() - start) / 1e9);
        }
    }
    finish(fds[0]);
    finish(fds[1]);
    const char *labels[2] = {"plain", "tunnel"};
    printf("{");
    for (int k = 0; k < 2; k++) {
        printf("%s\"%s\": [", k ? ", " : "", labels[k]);
        for (int r = 0; r < rounds; r++)
            printf("%s%.1f", r ? ", " : "", rates[k][r]);
        printf("]");
    }
    printf("}\n");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "acceptor") == 0)
        acceptor();
    else if (argc == 5 && strcmp(argv[1], "connect") == 0)
        connect_loop(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    else if (argc == 5 && strcmp(argv[1], "resolve") == 0)
        resolve_loop(argv[2], atoi(argv[3]), atoi(argv[4]));
    else if (argc >= 2 && strcmp(argv[1], "sink") == 0)
        sink(argc - 2, argv + 2);
    else if (argc == 5 && strcmp(argv[1], "send") == 0)
        send_bulk(argv[2], argv[3], atol(argv[4]));
    else if (argc == 5 && strcmp(argv[1], "sink2") == 0)
        sink2(argv + 2);
    else if (argc == 7 && strcmp(argv[1], "send2") == 0)
        send_pair(argv[2], argv[3], argv[4], atol(argv[5]), atoi(argv[6]));
    else {
        fprintf(stderr, "usage: see the comment at the top of bench_driver.c\n");
        return 2;
    }
    return 0;
}
