/* Test-only fault injection, preloaded before the intercept library: FAULT_SHIM is a
 * comma-separated list of faults to inject into the library's calls.
 *
 *   getrandom     syscall(SYS_getrandom) fails with ENOSYS (an old kernel or a seccomp filter)
 *   urandom       opening /dev/urandom fails with EACCES
 *   dlsym         dlsym(RTLD_NEXT, ...) finds nothing (the library's table of libc calls);
 *                 only in the build with -DFAULT_SHIM_DLSYM, which holds nothing else (a
 *                 dlsym wrapper would otherwise answer the library's RTLD_NEXT lookups
 *                 relative to itself)
 *   spawn         posix_spawn fails with EAGAIN, as under RLIMIT_NPROC (root ignores that limit)
 *   replace-conf  the first open() of a *.conf path renames $FAULT_SHIM_REPLACEMENT onto it
 *                 first, i.e. the conf is replaced between the library's stat() and open()
 *
 * Each injected fault writes one "fault-shim: ..." line to $FAULT_SHIM_LOG (when set), so a
 * test can tell that the library really reached it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int active(const char *fault)
{
    const char *list = getenv("FAULT_SHIM");
    size_t n = strlen(fault);
    for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] != '\0')) {
        if (strncmp(p, fault, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

static void note(const char *what)
{
    const char *path = getenv("FAULT_SHIM_LOG");
    if (path == NULL)
        return;
    int saved = errno;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600); /* never a fault */
    if (fd >= 0) {
        char line[256];
        int len = snprintf(line, sizeof line, "fault-shim: %s\n", what);
        ssize_t ignored = write(fd, line, (size_t)len);
        (void)ignored;
        close(fd);
    }
    errno = saved;
}

#ifndef FAULT_SHIM_DLSYM
long syscall(long number, ...)
{
    va_list args;
    va_start(args, number);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(args, long);
    va_end(args);
#ifdef SYS_getrandom
    if (number == SYS_getrandom && active("getrandom")) {
        note("getrandom refused");
        errno = ENOSYS;
        return -1;
    }
#endif
    long (*real)(long, ...) = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int ends_with(const char *text, const char *tail)
{
    size_t n = strlen(text), m = strlen(tail);
    return n >= m && strcmp(text + n - m, tail) == 0;
}

/* 1 when the open of `path` must fail (errno set); may replace a conf first. */
static int open_fault(const char *path)
{
    if (strcmp(path, "/dev/urandom") == 0 && active("urandom")) {
        note("/dev/urandom refused");
        errno = EACCES;
        return 1;
    }
    static int replaced;
    const char *replacement = getenv("FAULT_SHIM_REPLACEMENT");
    if (!replaced && ends_with(path, ".conf") && active("replace-conf") && replacement) {
        replaced = 1;
        if (rename(replacement, path) == 0)
            note("conf replaced between stat and open");
    }
    return 0;
}

#define OPEN_WRAPPER(name, ...)                                                                 \
    int name(const char *path, int flags, ...)                                                  \
    {                                                                                           \
        va_list args;                                                                           \
        va_start(args, flags);                                                                  \
        mode_t mode = (mode_t)va_arg(args, int);                                                \
        va_end(args);                                                                           \
        if (open_fault(path))                                                                   \
            return -1;                                                                          \
        int (*real)(const char *, int, ...) =                                                   \
            (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name);                           \
        return real(path, flags, mode);                                                         \
    }

OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (active("spawn")) {
        note("posix_spawn refused");
        return EAGAIN;
    }
    int (*real)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                const posix_spawnattr_t *, char *const[], char *const[]) =
        (int (*)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                 const posix_spawnattr_t *, char *const[], char *const[]))dlsym(RTLD_NEXT,
                                                                                  "posix_spawn");
    return real(pid, path, actions, attr, argv, envp);
}

#else
void *dlsym(void *handle, const char *name)
{
    static void *(*real)(void *, const char *);
    if (real == NULL) {
        real = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
        if (real == NULL)
            real = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
    }
    /* Only the intercept library asks for RTLD_NEXT in these tests' host program. */
    if (handle == RTLD_NEXT && active("dlsym")) {
        note("dlsym refused");
        return NULL;
    }
    return real(handle, name);
}
#endif
