/* fork() while other threads hold the core's locks: each child must still resolve (the
 * fork handlers leave it no lock held by a thread that does not exist in the child).
 * A child that hangs is stopped by alarm() and counted as a failure. Prints "ok fork". */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addrmap.h"
#include "ids.h"
#include "route.h"

enum { THREADS = 4, FORKS = 100 };

static char dir[] = "/tmp/gsi-fork-XXXXXX";
static char name[64];
static volatile int stop;

static void *resolver(void *arg)
{
    (void)arg;
    while (!stop) {
        int slot;
        gsi_route_name(name, &slot);
        gsi_route_name("host0.example", &slot);
        gsi_route_name("example.org", &slot);
    }
    return NULL;
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    uint8_t raw[16] = {0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    char tid[GSI_UUID_TEXT], path[256];
    gsi_uuid_format(raw, tid);
    snprintf(path, sizeof path, "%s/%s.conf", dir, tid);
    snprintf(name, sizeof name, "globus.%s", tid);
    const char text[] = "role=initiator\nlankey=k\nconnector_contact_string=127.0.0.1:9\n"
                        "globus_contact=host0.example:80\n";
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1))
        return 1;
    close(fd);
    setenv("GLOBUS_STREAMS_DIR", dir, 1);
    setenv("GLOBUS_STREAMS_TUNNELS", tid, 1);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, resolver, NULL);
    int failures = 0;
    for (int i = 0; i < FORKS; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(2);
            int slot = -1;
            int ok = gsi_route_name(name, &slot) == GSI_ROUTE_TUNNEL &&
                     gsi_route_name("host0.example", &slot) == GSI_ROUTE_TUNNEL;
            _exit(ok ? 0 : 1);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            failures++;
    }
    stop = 1;
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    unlink(path);
    rmdir(dir);
    if (failures) {
        fprintf(stderr, "%d of %d children failed or hung\n", failures, FORKS);
        return 1;
    }
    puts("ok fork");
    return 0;
}
