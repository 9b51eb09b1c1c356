#include "contact_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "ids.h"
#include "wire.h"

typedef struct cache_entry {
    struct cache_entry *next;
    char tunnel_id[GSI_UUID_TEXT];
    char contact[GSI_CONF_CONTACT_MAX];
    int64_t valid_until_ms; /* monotonic */
    int failed;             /* the last lookup failed: retry after valid_until_ms */
    int forcing;            /* a --refresh lookup is running */
    int64_t forced_at_ms;   /* monotonic time of the last --refresh answer, 0 never */
    char forced[GSI_CONF_CONTACT_MAX]; /* that answer, "" when it failed */
} cache_entry;

/* One entry per tunnel this process looked up, kept for its life (a few hundred bytes
 * each); never reused, so a running lookup's state cannot be lost. */
static cache_entry *entries;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t forced_done; /* CLOCK_MONOTONIC, set up in cache_setup */
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void init_forced_done(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&forced_done, &attr);
    pthread_condattr_destroy(&attr);
}

static void cache_prepare(void) { pthread_mutex_lock(&cache_lock); }
static void cache_release(void) { pthread_mutex_unlock(&cache_lock); }
/* In a forked child no thread is running a lookup or waiting for one. */
static void cache_child(void)
{
    for (cache_entry *e = entries; e != NULL; e = e->next)
        e->forcing = 0;
    init_forced_done();
    pthread_mutex_unlock(&cache_lock);
}
static void cache_setup(void)
{
    init_forced_done();
    pthread_atfork(cache_prepare, cache_release, cache_child);
}

/* The tunnel's entry, created when new (NULL only when memory runs out); call with
 * cache_lock held. */
static cache_entry *entry_for(const char *tunnel_id)
{
    for (cache_entry *e = entries; e != NULL; e = e->next)
        if (strcmp(e->tunnel_id, tunnel_id) == 0)
            return e;
    cache_entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    snprintf(e->tunnel_id, sizeof e->tunnel_id, "%s", tunnel_id);
    e->next = entries;
    entries = e;
    return e;
}

int gsi_cache_recall(const char *tunnel_id, char *contact, size_t size, int *failed)
{
    pthread_once(&cache_once, cache_setup);
    int found = 0;
    pthread_mutex_lock(&cache_lock);
    for (cache_entry *e = entries; e != NULL && !found; e = e->next) {
        if (strcmp(e->tunnel_id, tunnel_id) == 0 && e->valid_until_ms > gsi_now_ms()) {
            snprintf(contact, size, "%s", e->contact);
            *failed = e->failed;
            found = 1;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

void gsi_cache_remember(const char *tunnel_id, const char *contact, int64_t valid_ms,
                        int failed)
{
    pthread_once(&cache_once, cache_setup);
    pthread_mutex_lock(&cache_lock);
    cache_entry *e = entry_for(tunnel_id);
    if (e != NULL) {
        snprintf(e->contact, sizeof e->contact, "%s", contact);
        e->valid_until_ms = gsi_now_ms() + valid_ms;
        e->failed = failed;
    }
    pthread_mutex_unlock(&cache_lock);
}

static struct timespec monotonic_in(int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    return until;
}

int gsi_cache_claim_forced(const char *tunnel_id, int wait_ms, char *out, size_t size)
{
    pthread_once(&cache_once, cache_setup);
    struct timespec until = monotonic_in(wait_ms);
    pthread_mutex_lock(&cache_lock);
    cache_entry *e = entry_for(tunnel_id);
    if (e == NULL) { /* no memory: run the lookup without sharing it */
        pthread_mutex_unlock(&cache_lock);
        return 1;
    }
    while (e->forcing && pthread_cond_timedwait(&forced_done, &cache_lock, &until) != ETIMEDOUT)
        ;
    int claimed = !e->forcing && (e->forced_at_ms == 0 ||
                                  gsi_now_ms() - e->forced_at_ms >= GSI_CONTACT_RETRY_MS);
    if (claimed)
        e->forcing = 1;
    else
        snprintf(out, size, "%s", e->forcing ? "" : e->forced);
    pthread_mutex_unlock(&cache_lock);
    return claimed;
}

void gsi_cache_finish_forced(const char *tunnel_id, const char *answer)
{
    pthread_mutex_lock(&cache_lock);
    cache_entry *e = entry_for(tunnel_id);
    if (e != NULL) {
        e->forcing = 0;
        e->forced_at_ms = gsi_now_ms();
        snprintf(e->forced, sizeof e->forced, "%s", answer);
    }
    pthread_cond_broadcast(&forced_done);
    pthread_mutex_unlock(&cache_lock);
}
