#include "rand.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* glibc 2.17 has no getrandom() wrapper, so the system call is made directly. */
static int from_getrandom(uint8_t *out, size_t len)
{
#ifdef SYS_getrandom
    while (len > 0) {
        long got = syscall(SYS_getrandom, out, len, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        out += got;
        len -= (size_t)got;
    }
    return 0;
#else
    (void)out;
    (void)len;
    errno = ENOSYS;
    return -1;
#endif
}

static int from_urandom(uint8_t *out, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t got = read(fd, out, len);
        if (got <= 0) {
            if (got < 0 && errno == EINTR)
                continue;
            close(fd);
            if (got == 0)
                errno = EIO;
            return -1;
        }
        out += got;
        len -= (size_t)got;
    }
    close(fd);
    return 0;
}

int gsi_random_bytes(void *out, size_t len)
{
    if (from_getrandom(out, len) == 0)
        return 0;
    return from_urandom(out, len);
}
