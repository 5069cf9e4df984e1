/* window: see window.h */
#include "window.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"
#include "xmem.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define SUMMARY_EVERY_MS 60000

struct window {
    struct store *st;
    struct window_party *p;
    int np;
    bool open, urgent;
    int64_t opened;  /* mono ms */
    int64_t entries;
    /* health */
    bool failing;
    int64_t fail_since, fail_count, last_summary, retry_at, backoff;
    struct window_hist hist;
    char why[300];
};

const double window_buckets[WINDOW_NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                0.025,  0.05,  0.1,    0.25,  1.0};

struct window *
window_new(struct store *st)
{
    struct window *w = xcalloc(1, sizeof *w);
    w->st = st;
    w->backoff = BACKOFF_MIN_MS;
    store_set_quiet(st, true);
    return w;
}

void
window_free(struct window *w)
{
    if (!w)
        return;
    if (w->open)
        window_abort(w);
    store_set_quiet(w->st, false);
    free(w->p);
    free(w);
}

void
window_join(struct window *w, const struct window_party *p)
{
    w->p = xrealloc(w->p, sizeof *w->p * (size_t)(w->np + 1));
    w->p[w->np++] = *p;
}

void
window_leave(struct window *w, void *ud)
{
    for (int i = 0; i < w->np; i++) {
        if (w->p[i].ud == ud) {
            memmove(&w->p[i], &w->p[i + 1], sizeof *w->p * (size_t)(w->np - i - 1));
            w->np--;
            i--;
        }
    }
}

bool
window_is_open(const struct window *w)
{
    return w->open;
}

void
window_add(struct window *w, int64_t entries)
{
    w->entries += entries;
}

void
window_urgent(struct window *w)
{
    w->urgent = true;
}

bool
window_due(const struct window *w)
{
    return w->open && (w->urgent || w->entries >= WINDOW_MAX_ENTRIES ||
                       mono_ms() - w->opened >= WINDOW_MAX_MS);
}

int64_t
window_backoff_ms(const struct window *w)
{
    int64_t d = w->failing ? w->retry_at - mono_ms() : 0;
    return d > 0 ? d : 0;
}

const struct window_hist *
window_commit_hist(const struct window *w)
{
    return &w->hist;
}

bool
window_failing(const struct window *w)
{
    return w->failing;
}


/* Health: one line when writes start failing, a summary a minute, one when
 * they recover. */
static void
health_failed(struct window *w)
{
    int64_t now = mono_ms();
    w->fail_count++;
    w->hist.failed++;
    if (!w->failing) {
        w->failing = true;
        w->fail_since = now;
        w->last_summary = now;
        w->backoff = BACKOFF_MIN_MS;
        log_warn("store: writes are failing (%s); the agent keeps reading and retries, nothing "
                 "read is counted until it is committed",
                 w->why[0] ? w->why : "unknown error");
    } else if (now - w->last_summary >= SUMMARY_EVERY_MS) {
        w->last_summary = now;
        log_warn("store: still failing after %lld s (%lld windows rolled back): %s",
                 (long long)((now - w->fail_since) / 1000), (long long)w->fail_count, w->why);
    }
    /* jittered backoff: [b/2, b] */
    int64_t b = w->backoff;
    w->retry_at = now + b / 2 + (int64_t)(rand() % (int)(b / 2 + 1));
    w->backoff = b * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b * 2;
}

static void
health_ok(struct window *w)
{
    if (!w->failing)
        return;
    log_info("store: writes recovered after %lld s (%lld windows rolled back and read again)",
             (long long)((mono_ms() - w->fail_since) / 1000), (long long)w->fail_count);
    w->failing = false;
    w->fail_count = 0;
    w->why[0] = '\0';
}

static void
reset(struct window *w)
{
    w->open = false;
    w->urgent = false;
    w->entries = 0;
}

static void
rollback(struct window *w)
{
    if (w->open)
        store_rollback(w->st);
    reset(w);
    for (int i = 0; i < w->np; i++)
        if (w->p[i].abort)
            w->p[i].abort(w->p[i].ud);
}

void
window_abort(struct window *w)
{
    rollback(w);
}

void
window_failed(struct window *w, const char *what)
{
    const char *e = store_last_error(w->st);
    snprintf(w->why, sizeof w->why, "%s", e[0] ? e : what);
    rollback(w);
    health_failed(w);
}


int
window_open(struct window *w)
{
    if (w->open)
        return 0;
    if (store_begin(w->st) != 0) {
        window_failed(w, "begin");
        return -1;
    }
    w->open = true;
    w->opened = mono_ms();
    return 0;
}


int
window_commit(struct window *w)
{
    if (!w->open)
        return 0;
    for (int i = 0; i < w->np; i++) {
        if (w->p[i].flush && w->p[i].flush(w->p[i].ud) != 0) {
            window_failed(w, w->p[i].name);
            return -1;
        }
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (store_commit(w->st) != 0) { /* store_commit rolled back */
        w->open = false;
        window_failed(w, "commit");
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    for (int i = 0; i < WINDOW_NBUCKETS; i++)
        if (secs <= window_buckets[i])
            w->hist.le[i]++;
    w->hist.count++;
    w->hist.sum += secs;
    reset(w);
    for (int i = 0; i < w->np; i++)
        if (w->p[i].commit)
            w->p[i].commit(w->p[i].ud);
    health_ok(w);
    return 0;
}
