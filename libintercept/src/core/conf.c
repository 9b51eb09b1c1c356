#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env.h"
#include "ids.h"
#include "log.h"
#include "sha256.h"

int gsi_conf_path(const char *tunnel_id, char *out, size_t size)
{
    const char *dir = getenv(GSI_ENV_DIR);
    int written;
    if (dir != NULL && *dir != '\0') {
        written = snprintf(out, size, "%s/%s.conf", dir, tunnel_id);
    } else {
        const char *home = getenv(GSI_ENV_HOME);
        if (home == NULL || *home == '\0')
            return ENOENT;
        written = snprintf(out, size, "%s/.globus/streams/%s.conf", home, tunnel_id);
    }
    return written < 0 || (size_t)written >= size ? ENAMETOOLONG : 0;
}

/* Reads the whole file after checking its mode on the open descriptor (no race). */
static int read_private_file(const char *path, char *buf, size_t size, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0) {
        int error = errno;
        GSI_DEBUG("cannot open %s: %s", path, strerror(error));
        return error == ENOENT ? ENOENT : EACCES;
    }
    struct stat st;
    int error = 0;
    if (fstat(fd, &st) < 0) {
        error = EACCES;
    } else if (!S_ISREG(st.st_mode)) {
        GSI_WARN("%s is not a regular file", path);
        error = EINVAL;
    } else if (st.st_uid != geteuid()) {
        GSI_WARN("refusing %s: owned by another user (uid %u)", path, (unsigned)st.st_uid);
        error = EACCES;
    } else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        GSI_WARN("refusing %s: group or others can access it (mode %03o; run chmod 600 on it)",
                 path, (unsigned)(st.st_mode & 0777));
        error = EACCES;
    } else if (st.st_size >= (off_t)size) {
        GSI_WARN("%s is larger than %zu bytes", path, size - 1);
        error = EFBIG;
    }
    size_t used = 0;
    while (!error) {
        ssize_t got = read(fd, buf + used, size - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            error = EACCES;
        else if (got == 0)
            break;
        else if ((used += (size_t)got) == size - 1)
            error = EFBIG;
    }
    close(fd);
    buf[used] = '\0';
    *len = used;
    return error;
}

int gsi_conf_read(const char *path, gsi_conf_visit visit, void *ctx)
{
    char *text = malloc(GSI_CONF_MAX_FILE);
    if (text == NULL)
        return ENOMEM;
    size_t len = 0;
    int error = read_private_file(path, text, GSI_CONF_MAX_FILE, &len);
    if (!error && memchr(text, '\0', len) != NULL) {
        GSI_WARN("%s is garbled: it holds a NUL byte", path);
        error = EINVAL;
    }
    int line_no = 0;
    for (char *line = text; !error && line < text + len;) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        else
            next = text + len;
        line_no++;
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        char *key = line + strspn(line, " \t"); /* keys are trimmed, values kept as is */
        if (*key != '\0' && *key != '#') {      /* blank and comment lines are skipped */
            char *eq = strchr(key, '=');
            char *key_end = eq;
            while (key_end != NULL && key_end > key && strchr(" \t", key_end[-1]) != NULL)
                key_end--;
            if (eq == NULL || key_end == key) {
                GSI_WARN("%s is garbled: line %d is not key=value", path, line_no);
                error = EINVAL;
                break;
            }
            *key_end = '\0';
            visit(ctx, key, eq + 1);
        }
        line = next;
    }
    gsi_wipe(text, len);
    free(text);
    return error;
}

/* Fills a gsi_conf from visited lines; `bad` names the first key with a malformed value. */
typedef struct {
    gsi_conf *conf;
    char bad[64];
} conf_builder;

static int copy_text(char *dst, size_t size, const char *value)
{
    size_t n = strlen(value);
    if (n >= size)
        return 0;
    memcpy(dst, value, n + 1);
    return 1;
}

static int parse_number(const char *value, double *out)
{
    char *end;
    errno = 0;
    double number = strtod(value, &end);
    if (errno != 0 || end == value || *end != '\0')
        return 0;
    *out = number;
    return 1;
}

static void build_conf(void *ctx, const char *key, const char *value)
{
    conf_builder *b = ctx;
    gsi_conf *c = b->conf;
    int ok = 1;
    if (strcmp(key, "role") == 0) {
        c->role = strcmp(value, "initiator") == 0  ? GSI_ROLE_INITIATOR
                  : strcmp(value, "listener") == 0 ? GSI_ROLE_LISTENER
                                                   : GSI_ROLE_UNKNOWN;
        ok = c->role != GSI_ROLE_UNKNOWN;
    } else if (strcmp(key, "lankey") == 0) {
        ok = copy_text(c->lankey, sizeof c->lankey, value);
        c->lankey_len = ok ? strlen(c->lankey) : 0;
    } else if (strcmp(key, "lankey_id") == 0) {
        ok = *value == '\0' || gsi_uuid_parse(value, c->lankey_id);
    } else if (strcmp(key, "connector_contact_string") == 0) {
        ok = copy_text(c->contact, sizeof c->contact, value);
    } else if (strcmp(key, "update_time") == 0) {
        ok = *value == '\0' || parse_number(value, &c->update_time);
    } else if (strcmp(key, "connector_contact_string_ttl") == 0) {
        ok = *value == '\0' || parse_number(value, &c->contact_ttl);
    } else if (strcmp(key, "globus_contact") == 0) {
        ok = copy_text(c->globus_contact, sizeof c->globus_contact, value);
    }
    if (!ok && b->bad[0] == '\0')
        snprintf(b->bad, sizeof b->bad, "%s", key);
}

/* Cache of parsed files, keyed by tunnel id, validated by the file's stat. */
enum { CACHE_SLOTS = 16 };
typedef struct {
    char tunnel_id[GSI_UUID_TEXT];
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    mode_t mode;
    gsi_conf conf;
} cache_entry;

static cache_entry cache[CACHE_SLOTS];
static unsigned cache_next;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_prepare(void) { pthread_mutex_lock(&cache_lock); }
static void cache_release(void) { pthread_mutex_unlock(&cache_lock); }
static void cache_setup(void) { pthread_atfork(cache_prepare, cache_release, cache_release); }

static int same_file(const cache_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mode == st->st_mode && e->mtime.tv_sec == st->st_mtim.tv_sec &&
           e->mtime.tv_nsec == st->st_mtim.tv_nsec && e->ctime.tv_sec == st->st_ctim.tv_sec &&
           e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static int cache_get(const char *tunnel_id, const struct stat *st, gsi_conf *out)
{
    int found = 0;
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_SLOTS && !found; i++) {
        if (strcmp(cache[i].tunnel_id, tunnel_id) == 0 && same_file(&cache[i], st)) {
            *out = cache[i].conf;
            found = 1;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

static void cache_put(const char *tunnel_id, const struct stat *st, const gsi_conf *conf)
{
    pthread_mutex_lock(&cache_lock);
    cache_entry *e = NULL;
    for (int i = 0; i < CACHE_SLOTS && e == NULL; i++)
        if (strcmp(cache[i].tunnel_id, tunnel_id) == 0)
            e = &cache[i];
    if (e == NULL)
        e = &cache[cache_next++ % CACHE_SLOTS];
    snprintf(e->tunnel_id, sizeof e->tunnel_id, "%s", tunnel_id);
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mode = st->st_mode;
    e->mtime = st->st_mtim;
    e->ctime = st->st_ctim;
    e->conf = *conf;
    pthread_mutex_unlock(&cache_lock);
}

int gsi_conf_load(const char *tunnel_id, gsi_conf *out)
{
    pthread_once(&cache_once, cache_setup);
    memset(out, 0, sizeof *out);
    char path[4096];
    int error = gsi_conf_path(tunnel_id, path, sizeof path);
    if (error) {
        GSI_WARN("no conf directory for tunnel %s (set %s or %s)", tunnel_id, GSI_ENV_DIR,
                 GSI_ENV_HOME);
        return error;
    }
    struct stat st;
    if (stat(path, &st) < 0) {
        GSI_WARN("no conf for tunnel %s at %s: %s", tunnel_id, path, strerror(errno));
        return ENOENT;
    }
    if (cache_get(tunnel_id, &st, out))
        return 0;
    conf_builder builder = {out, ""};
    error = gsi_conf_read(path, build_conf, &builder);
    if (!error && builder.bad[0] != '\0') {
        GSI_WARN("%s is garbled: bad value for %s", path, builder.bad);
        error = EINVAL;
    }
    if (error) {
        gsi_conf_wipe(out);
        return error;
    }
    cache_put(tunnel_id, &st, out);
    return 0;
}

void gsi_conf_wipe(gsi_conf *conf)
{
    gsi_wipe(conf, sizeof *conf);
}
