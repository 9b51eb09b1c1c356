#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* Reads the whole file after checking its type and mode on the open descriptor (no race).
 * O_NONBLOCK: a FIFO put at the path opens at once and is then refused, instead of
 * blocking the host until a writer comes. */
static int read_private_file(const char *path, char *buf, size_t size, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    *len = 0;
    buf[0] = '\0';
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
        GSI_WARN("refusing %s: not a regular file", path);
        error = EACCES;
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

int gsi_conf_parse_text(char *text, size_t len, const char *source, gsi_conf_visit visit,
                        void *ctx)
{
    if (memchr(text, '\0', len) != NULL) {
        GSI_WARN("%s is garbled: it holds a NUL byte", source);
        return EINVAL;
    }
    text[len] = '\0'; /* ends the last line, which may have no newline */
    int line_no = 0;
    for (char *line = text; line < text + len;) {
        char *next = memchr(line, '\n', (size_t)(text + len - line));
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
                GSI_WARN("%s is garbled: line %d is not key=value", source, line_no);
                return EINVAL;
            }
            *key_end = '\0';
            visit(ctx, key, eq + 1);
        }
        line = next;
    }
    return 0;
}

int gsi_conf_read(const char *path, gsi_conf_visit visit, void *ctx)
{
    char *text = malloc(GSI_CONF_MAX_FILE);
    if (text == NULL)
        return ENOMEM;
    size_t len = 0;
    int error = read_private_file(path, text, GSI_CONF_MAX_FILE, &len);
    if (!error)
        error = gsi_conf_parse_text(text, len, path, visit, ctx);
    gsi_wipe(text, len);
    free(text);
    return error;
}

/* Fills a gsi_conf from visited lines; `bad` names the first key with a malformed value. */
typedef struct {
    gsi_conf *conf;
    const char *source;
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

/* Plain decimal digits, clamped; 0 for anything else (signs, spaces, exponents, hex,
 * "inf", "nan"), which the caller treats as an absent value. */
static int parse_number(const char *value, int64_t *out)
{
    if (*value == '\0')
        return 0;
    int64_t number = 0;
    for (const char *p = value; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        if (number < GSI_CONF_NUMBER_MAX)
            number = number * 10 + (*p - '0');
    }
    *out = number < GSI_CONF_NUMBER_MAX ? number : GSI_CONF_NUMBER_MAX;
    return 1;
}

/* A number key: `*has` says whether a usable value was read (the last line counts). */
static void number_value(const conf_builder *b, const char *key, const char *value,
                         int64_t *out, int *has)
{
    *has = parse_number(value, out);
    if (!*has && *value != '\0')
        GSI_DEBUG("%s: %s is not a number of seconds; taken as absent", b->source, key);
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
        memset(c->lankey_id, 0, sizeof c->lankey_id);
        ok = *value == '\0' || gsi_uuid_parse(value, c->lankey_id);
    } else if (strcmp(key, "connector_contact_string") == 0) {
        ok = copy_text(c->contact, sizeof c->contact, value);
    } else if (strcmp(key, "update_time") == 0) {
        number_value(b, key, value, &c->update_time, &c->has_update_time);
    } else if (strcmp(key, "connector_contact_string_ttl") == 0) {
        int has;
        number_value(b, key, value, &c->contact_ttl, &has);
        if (!has)
            c->contact_ttl = GSI_CONF_DEFAULT_TTL;
    } else if (strcmp(key, "tunnel_expiration_time") == 0) {
        number_value(b, key, value, &c->expiration_time, &c->has_expiration);
    } else if (strcmp(key, "globus_contact") == 0) {
        ok = copy_text(c->globus_contact, sizeof c->globus_contact, value);
    }
    if (!ok && b->bad[0] == '\0')
        snprintf(b->bad, sizeof b->bad, "%s", key);
}

static void conf_defaults(gsi_conf *out)
{
    memset(out, 0, sizeof *out);
    out->contact_ttl = GSI_CONF_DEFAULT_TTL;
}

/* The end of a build from text or from a file: a value that did not parse garbles the
 * whole conf, and a failed build leaves nothing of the secret behind. */
static int conf_built(conf_builder *builder, int error)
{
    if (!error && builder->bad[0] != '\0') {
        GSI_WARN("%s is garbled: bad value for %s", builder->source, builder->bad);
        error = EINVAL;
    }
    if (error)
        gsi_conf_wipe(builder->conf);
    return error;
}

int gsi_conf_from_text(char *text, size_t len, const char *source, gsi_conf *out)
{
    conf_defaults(out);
    conf_builder builder = {out, source, ""};
    return conf_built(&builder, gsi_conf_parse_text(text, len, source, build_conf, &builder));
}

static int conf_from_file(const char *path, gsi_conf *out)
{
    conf_defaults(out);
    conf_builder builder = {out, path, ""};
    return conf_built(&builder, gsi_conf_read(path, build_conf, &builder));
}

/* Cache of parsed files, keyed by tunnel id, validated by the file's stat. The table is
 * its own mapping marked MADV_DONTDUMP: the LAN secrets in it stay out of core dumps. */
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

static cache_entry *cache; /* CACHE_SLOTS entries; NULL: no cache (mmap failed) */
static size_t cache_bytes;
static unsigned cache_next;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_prepare(void) { pthread_mutex_lock(&cache_lock); }
static void cache_release(void) { pthread_mutex_unlock(&cache_lock); }

/* At exit (or when the library is unloaded) no secret stays behind in memory. */
__attribute__((destructor)) static void cache_wipe_all(void)
{
    if (cache != NULL)
        gsi_wipe(cache, cache_bytes);
}

static void cache_setup(void)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t want = CACHE_SLOTS * sizeof(cache_entry);
    cache_bytes = page > 0 ? (want + (size_t)page - 1) / (size_t)page * (size_t)page : want;
    void *region =
        mmap(NULL, cache_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region != MAP_FAILED) {
        madvise(region, cache_bytes, MADV_DONTDUMP);
        cache = region;
    }
    pthread_atfork(cache_prepare, cache_release, cache_release);
}

static int same_file(const cache_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mode == st->st_mode && e->mtime.tv_sec == st->st_mtim.tv_sec &&
           e->mtime.tv_nsec == st->st_mtim.tv_nsec && e->ctime.tv_sec == st->st_ctim.tv_sec &&
           e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* 1 with the cached conf when the file is unchanged; a changed or vanished file
 * (`st` NULL) wipes the tunnel's entry. */
static int cache_get(const char *tunnel_id, const struct stat *st, gsi_conf *out)
{
    int found = 0;
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; cache != NULL && i < CACHE_SLOTS; i++) {
        cache_entry *e = &cache[i];
        if (strcmp(e->tunnel_id, tunnel_id) != 0)
            continue;
        if (st != NULL && same_file(e, st)) {
            *out = e->conf;
            found = 1;
        } else {
            gsi_wipe(e, sizeof *e);
        }
        break;
    }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

static void cache_put(const char *tunnel_id, const struct stat *st, const gsi_conf *conf)
{
    pthread_mutex_lock(&cache_lock);
    cache_entry *e = NULL;
    for (int i = 0; cache != NULL && i < CACHE_SLOTS && e == NULL; i++)
        if (strcmp(cache[i].tunnel_id, tunnel_id) == 0)
            e = &cache[i];
    if (e == NULL && cache != NULL)
        e = &cache[cache_next++ % CACHE_SLOTS];
    if (e != NULL) {
        gsi_wipe(e, sizeof *e);
        snprintf(e->tunnel_id, sizeof e->tunnel_id, "%s", tunnel_id);
        e->dev = st->st_dev;
        e->ino = st->st_ino;
        e->size = st->st_size;
        e->mode = st->st_mode;
        e->mtime = st->st_mtim;
        e->ctime = st->st_ctim;
        e->conf = *conf;
    }
    pthread_mutex_unlock(&cache_lock);
}

int gsi_conf_load(const char *tunnel_id, gsi_conf *out)
{
    pthread_once(&cache_once, cache_setup);
    conf_defaults(out);
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
        cache_get(tunnel_id, NULL, out);
        return ENOENT;
    }
    if (cache_get(tunnel_id, &st, out))
        return 0;
    error = conf_from_file(path, out);
    if (error)
        return error;
    cache_put(tunnel_id, &st, out);
    return 0;
}

void gsi_conf_cache_region(void **start, size_t *size)
{
    pthread_once(&cache_once, cache_setup);
    *start = cache;
    *size = cache != NULL ? cache_bytes : 0;
}

void gsi_conf_wipe(gsi_conf *conf)
{
    gsi_wipe(conf, sizeof *conf);
}
