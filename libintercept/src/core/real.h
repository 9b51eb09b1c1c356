/* The real libc functions behind every hook, looked up once with dlsym(RTLD_NEXT).
 * `libc_<name>` calls the real one; a symbol libc lacks fails with ENOSYS. */
#ifndef GSI_REAL_H
#define GSI_REAL_H

#include <netdb.h>
#include <sys/socket.h>

int libc_connect(int fd, const struct sockaddr *addr, socklen_t len);
int libc_bind(int fd, const struct sockaddr *addr, socklen_t len);
int libc_accept(int fd, struct sockaddr *addr, socklen_t *len);
int libc_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int libc_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                     struct addrinfo **res);
void libc_freeaddrinfo(struct addrinfo *res);
struct hostent *libc_gethostbyname(const char *name);
struct hostent *libc_gethostbyname2(const char *name, int af);
int libc_gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t len,
                         struct hostent **result, int *h_errnop);
int libc_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t len,
                          struct hostent **result, int *h_errnop);

#endif
