#include "real.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include "log.h"

/* One table, filled once: no lock on the hot path after pthread_once. */
static struct {
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*getaddrinfo)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    void (*freeaddrinfo)(struct addrinfo *);
    struct hostent *(*gethostbyname)(const char *);
    struct hostent *(*gethostbyname2)(const char *, int);
    int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t, struct hostent **,
                           int *);
    int (*gethostbyname2_r)(const char *, int, struct hostent *, char *, size_t,
                            struct hostent **, int *);
} real;

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

#define LOOKUP(name) (*(void **)&real.name = dlsym(RTLD_NEXT, #name))

static void real_setup(void)
{
    LOOKUP(connect);
    LOOKUP(bind);
    LOOKUP(accept);
    LOOKUP(accept4);
    LOOKUP(getaddrinfo);
    LOOKUP(freeaddrinfo);
    LOOKUP(gethostbyname);
    LOOKUP(gethostbyname2);
    LOOKUP(gethostbyname_r);
    LOOKUP(gethostbyname2_r);
}

#define REAL(name, fail)                                                                        \
    pthread_once(&real_once, real_setup);                                                       \
    if (real.name == NULL) {                                                                    \
        GSI_WARN("libc has no %s", #name);                                                      \
        errno = ENOSYS;                                                                         \
        return fail;                                                                            \
    }

int libc_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    REAL(connect, -1);
    return real.connect(fd, addr, len);
}

int libc_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    REAL(bind, -1);
    return real.bind(fd, addr, len);
}

int libc_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    REAL(accept, -1);
    return real.accept(fd, addr, len);
}

int libc_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    REAL(accept4, -1);
    return real.accept4(fd, addr, len, flags);
}

int libc_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                     struct addrinfo **res)
{
    REAL(getaddrinfo, EAI_SYSTEM);
    return real.getaddrinfo(node, service, hints, res);
}

void libc_freeaddrinfo(struct addrinfo *res)
{
    REAL(freeaddrinfo, );
    real.freeaddrinfo(res);
}

struct hostent *libc_gethostbyname(const char *name)
{
    REAL(gethostbyname, NULL);
    return real.gethostbyname(name);
}

struct hostent *libc_gethostbyname2(const char *name, int af)
{
    REAL(gethostbyname2, NULL);
    return real.gethostbyname2(name, af);
}

int libc_gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t len,
                         struct hostent **result, int *h_errnop)
{
    REAL(gethostbyname_r, ENOSYS);
    return real.gethostbyname_r(name, ret, buf, len, result, h_errnop);
}

int libc_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t len,
                          struct hostent **result, int *h_errnop)
{
    REAL(gethostbyname2_r, ENOSYS);
    return real.gethostbyname2_r(name, af, ret, buf, len, result, h_errnop);
}
