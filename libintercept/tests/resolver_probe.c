/* Prints what each resolver call answers for NAME, one line per call, for the resolver
 * tests run under LD_PRELOAD:
 *   <call> <address or error>
 * Calls: gethostbyname, gethostbyname2 (AF_INET6), gethostbyname_r, gethostbyname2_r
 * (AF_INET6), getaddrinfo (AF_UNSPEC, service "http", AI_CANONNAME: every entry as
 * family/socktype/address/port, then the canonical name). */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

static void print_hostent(const char *call, const struct hostent *he)
{
    char text[INET6_ADDRSTRLEN];
    if (he == NULL || he->h_addr_list[0] == NULL) {
        printf("%s none\n", call);
        return;
    }
    inet_ntop(he->h_addrtype, he->h_addr_list[0], text, sizeof text);
    printf("%s %s name=%s\n", call, text, he->h_name);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *name = argv[1];
    print_hostent("gethostbyname", gethostbyname(name));
    print_hostent("gethostbyname2", gethostbyname2(name, AF_INET6));

    struct hostent he, *result;
    char buf[2048];
    int err;
    gethostbyname_r(name, &he, buf, sizeof buf, &result, &err);
    print_hostent("gethostbyname_r", result);
    gethostbyname2_r(name, AF_INET6, &he, buf, sizeof buf, &result, &err);
    print_hostent("gethostbyname2_r", result);
    char tiny[8];
    int rc = gethostbyname_r(name, &he, tiny, sizeof tiny, &result, &err);
    printf("gethostbyname_r-small %s\n", rc == 0 ? (result ? "ok" : "none") : "erange");

    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_CANONNAME;
    rc = getaddrinfo(name, "http", &hints, &res);
    if (rc != 0) {
        printf("getaddrinfo error %d\n", rc);
        return 0;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN];
        const void *addr = ai->ai_family == AF_INET6
                               ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                               : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
        unsigned port = ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port);
        inet_ntop(ai->ai_family, addr, text, sizeof text);
        printf("getaddrinfo %s/%d %s %u\n", ai->ai_family == AF_INET6 ? "inet6" : "inet",
               ai->ai_socktype, text, port);
    }
    printf("canonname %s\n", res->ai_canonname ? res->ai_canonname : "(none)");
    freeaddrinfo(res);
    return 0;
}
