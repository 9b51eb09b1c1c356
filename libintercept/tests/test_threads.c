/* The core under concurrency, meant to run under ThreadSanitizer: threads resolve tunnel
 * names (globus.<id> and globus_contact names), map fake addresses back and read confs
 * while the main thread keeps rewriting one of them. Every thread must see one stable
 * slot per tunnel. Prints "ok threads" on success. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addrmap.h"
#include "conf.h"
#include "ids.h"
#include "route.h"

enum { TUNNELS = 4, THREADS = 8, ROUNDS = 400 };

static char dir[] = "/tmp/gsi-threads-XXXXXX";
static char ids[TUNNELS][GSI_UUID_TEXT];
static int expected_slot[TUNNELS];
static volatile int failed;

static void write_conf(int t, int version)
{
    char path[256], tmp[256], text[512];
    snprintf(path, sizeof path, "%s/%s.conf", dir, ids[t]);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int n = snprintf(text, sizeof text,
                     "role=initiator\nlankey=k%d\nconnector_contact_string=127.0.0.1:%d\n"
                     "globus_contact=host%d.example:80\n",
                     version, 1000 + version, t);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, (size_t)n) != n || close(fd) != 0 || rename(tmp, path) != 0) {
        perror("write_conf");
        exit(1);
    }
}

static void *resolver(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg;
    for (int i = 0; i < ROUNDS && !failed; i++) {
        int t = (int)(rand_r(&seed) % TUNNELS), slot = -1;
        char name[64];
        if (rand_r(&seed) % 2)
            snprintf(name, sizeof name, "globus.%s", ids[t]);
        else
            snprintf(name, sizeof name, "host%d.example", t);
        if (gsi_route_name(name, &slot) != GSI_ROUTE_TUNNEL || slot != expected_slot[t]) {
            fprintf(stderr, "%s: slot %d, expected %d\n", name, slot, expected_slot[t]);
            failed = 1;
        }
        struct sockaddr_in addr = {.sin_family = AF_INET};
        gsi_addrmap_ipv4(slot, &addr.sin_addr);
        uint8_t raw[16], want[16];
        gsi_uuid_parse(ids[t], want);
        if (!gsi_addrmap_lookup((struct sockaddr *)&addr, sizeof addr, raw) ||
            memcmp(raw, want, 16) != 0)
            failed = 1;
        int other = -1;
        if (gsi_route_name("example.org", &other) != GSI_ROUTE_PASS)
            failed = 1;
    }
    return NULL;
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    setenv("GLOBUS_STREAMS_DIR", dir, 1);
    char tunnels[TUNNELS * GSI_UUID_TEXT] = "";
    for (int t = 0; t < TUNNELS; t++) {
        uint8_t raw[16] = {0x5a, (uint8_t)t, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
        gsi_uuid_format(raw, ids[t]);
        write_conf(t, 0);
        strcat(tunnels, ids[t]);
        if (t + 1 < TUNNELS)
            strcat(tunnels, ",");
        expected_slot[t] = gsi_addrmap_slot(raw);
    }
    setenv("GLOBUS_STREAMS_TUNNELS", tunnels, 1);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, resolver, (void *)(size_t)(i + 1));
    for (int v = 1; v < 50; v++) /* rewrite one conf while the threads read it */
        write_conf(0, v);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    for (int t = 0; t < TUNNELS; t++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s.conf", dir, ids[t]);
        unlink(path);
    }
    rmdir(dir);
    if (failed)
        return 1;
    puts("ok threads");
    return 0;
}
