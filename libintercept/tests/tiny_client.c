/* A plain TCP client with no knowledge of tunnels: resolves NAME, connects to PORT, sends
 * stdin, half-closes, copies the reply to stdout. Built with zig for aarch64 and run under
 * qemu-aarch64 with the aarch64 library preloaded. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int copy(int from, int to)
{
    char buf[65536];
    for (;;) {
        ssize_t got = read(from, buf, sizeof buf);
        if (got < 0)
            return -1;
        if (got == 0)
            return 0;
        for (ssize_t sent = 0; sent < got;) {
            ssize_t n = write(to, buf + sent, (size_t)(got - sent));
            if (n < 0)
                return -1;
            sent += n;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: tiny_client NAME PORT\n");
        return 2;
    }
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "tiny_client: %s: %s\n", argv[1], gai_strerror(rc));
        return 1;
    }
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        perror("tiny_client: connect");
        return 1;
    }
    freeaddrinfo(res);
    if (copy(STDIN_FILENO, fd) < 0 || shutdown(fd, SHUT_WR) < 0 || copy(fd, STDOUT_FILENO) < 0) {
        perror("tiny_client: transfer");
        return 1;
    }
    close(fd);
    return 0;
}
