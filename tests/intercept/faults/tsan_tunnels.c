/* The library's core and hooks compiled into one program under ThreadSanitizer.
 *
 *   tsan_tunnels refresh CONTACT TUNNEL_ID...
 *       two threads per tunnel ask for a forced contact refresh at once (the access point
 *       at 127.0.0.1:1 "refused"); each must get CONTACT. Prints "ok refresh N".
 *   tsan_tunnels connect NAME PORT DIGEST
 *       two threads resolve NAME and connect at once, send a payload, read the reply; each
 *       reply must end with DIGEST. Prints "ok connect".
 *
 * The hooks are this program's own getaddrinfo/connect (they take precedence over libc's
 * and find libc's with dlsym(RTLD_NEXT)), so the whole connection path runs under TSan. */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "contact.h"

enum { PER_TUNNEL = 2, MAX_THREADS = 64 };

static const char *expected;
static const char *name, *port, *digest;

typedef struct {
    const char *tunnel_id;
    int ok;
} job;

static void *refresh(void *arg)
{
    job *j = arg;
    gsi_conf conf;
    if (gsi_conf_load(j->tunnel_id, &conf) != 0)
        return NULL;
    struct sockaddr_storage refused = {0}, fresh;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&refused;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(1);
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len;
    char text[64];
    if (gsi_contact_refresh(j->tunnel_id, &conf, &refused, &fresh, &len) == 0) {
        gsi_contact_format(&fresh, text, sizeof text);
        j->ok = strcmp(text, expected) == 0;
    }
    gsi_conf_wipe(&conf);
    return NULL;
}

static void *connect_once(void *arg)
{
    job *j = arg;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(name, port, &hints, &res) != 0)
        return NULL;
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    int connected = fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0;
    freeaddrinfo(res);
    if (!connected)
        return NULL;
    static const char payload[] = "two threads at once\n";
    char reply[65536 * 5], *at = reply;
    send(fd, payload, sizeof payload - 1, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    ssize_t got;
    while ((got = recv(fd, at, sizeof reply - (size_t)(at - reply), 0)) > 0)
        at += got;
    close(fd);
    size_t n = (size_t)(at - reply), want = strlen(digest);
    j->ok = n >= want && memcmp(at - want, digest, want) == 0;
    return NULL;
}

static int run(void *(*body)(void *), job *jobs, int count)
{
    pthread_t threads[MAX_THREADS];
    for (int i = 0; i < count; i++)
        pthread_create(&threads[i], NULL, body, &jobs[i]);
    int ok = 0;
    for (int i = 0; i < count; i++) {
        pthread_join(threads[i], NULL);
        ok += jobs[i].ok;
    }
    return ok == count;
}

int main(int argc, char **argv)
{
    job jobs[MAX_THREADS] = {{0}};
    if (argc >= 4 && strcmp(argv[1], "refresh") == 0 && (argc - 3) * PER_TUNNEL <= MAX_THREADS) {
        expected = argv[2];
        int count = (argc - 3) * PER_TUNNEL;
        for (int i = 0; i < count; i++)
            jobs[i].tunnel_id = argv[3 + i / PER_TUNNEL];
        if (!run(refresh, jobs, count))
            return 1;
        printf("ok refresh %d\n", argc - 3);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "connect") == 0) {
        name = argv[2], port = argv[3], digest = argv[4];
        if (!run(connect_once, jobs, 2))
            return 1;
        printf("ok connect\n");
        return 0;
    }
    fprintf(stderr, "usage: tsan_tunnels refresh CONTACT TUNNEL_ID... | connect NAME PORT DIGEST\n");
    return 2;
}
