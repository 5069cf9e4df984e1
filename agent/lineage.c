/*
 * lineage: how a replayed job ended. An observer of the stream like the
 * alert engine: a `waiting` entry with prev=failed says someone replayed a
 * job; its next `completed` or `failed` is written to its action_jobs row
 * (loaded from the store on the poll timer). Results are staged in the
 * commit window; after a rollback they go back to waiting.
 */
#include <stdlib.h>
#include <string.h>

#include "ingest_int.h"
#include "util.h"
#include "xmem.h"

#define LINEAGE_MEMORY 100000 /* replayed jobs remembered before audit rows load */
#define KEY_MAX 1024

struct lineage_result {
    int64_t action;
    char *job_id, *queue, *target_id;
    const char *result;
    char *reason;
    int64_t at;
};

struct lineage {
    /* "<queue>\0<job id>" of replayed jobs -> action id, with the
     * action_jobs job id as aux */
    struct strmap *pending;
    /* jobs seen replayed and how they ended, for actions whose audit rows
     * are not loaded yet; bounded */
    struct strmap *seen, *outcomes;
    struct lineage_result *res; /* staged */
    int nres, capres;
};

struct lineage *
lineage_new(void)
{
    struct lineage *l = xcalloc(1, sizeof *l);
    l->pending = strmap_new();
    l->seen = strmap_new();
    l->outcomes = strmap_new();
    return l;
}

static void
results_clear(struct lineage *l, bool restore)
{
    for (int i = 0; i < l->nres; i++) {
        struct lineage_result *r = &l->res[i];
        if (restore) {
            char key[KEY_MAX];
            size_t ql = strlen(r->queue), il = strlen(r->target_id);
            if (ql + 1 + il <= sizeof key) {
                memcpy(key, r->queue, ql);
                key[ql] = '\0';
                memcpy(key + ql + 1, r->target_id, il);
                strmap_put(l->pending, key, ql + 1 + il, r->action, r->job_id);
            }
        }
        free(r->job_id);
        free(r->queue);
        free(r->target_id);
        free(r->reason);
    }
    l->nres = 0;
}

void
lineage_free(struct lineage *l)
{
    if (!l)
        return;
    results_clear(l, false);
    free(l->res);
    strmap_free(l->pending);
    strmap_free(l->seen);
    strmap_free(l->outcomes);
    free(l);
}

static size_t
key_of(char *key, size_t cap, const char *queue, const char *id, size_t idn)
{
    size_t ql = strlen(queue);
    if (ql + 1 + idn > cap)
        return 0;
    memcpy(key, queue, ql);
    key[ql] = '\0';
    memcpy(key + ql + 1, id, idn);
    return ql + 1 + idn;
}

static void
add_result(struct lineage *l, int64_t action, const char *job, const char *queue,
           const char *target, size_t target_n, const char *result, const char *reason,
           size_t reason_n, int64_t at)
{
    if (l->nres == l->capres) {
        l->capres = l->capres ? l->capres * 2 : 16;
        l->res = xrealloc(l->res, sizeof *l->res * (size_t)l->capres);
    }
    struct lineage_result *r = &l->res[l->nres++];
    r->action = action;
    r->job_id = xstrdup(job);
    r->queue = xstrdup(queue);
    r->target_id = xmemdup(target, target_n);
    r->result = !strcmp(result, "completed") ? "completed" : "failed";
    r->reason = reason ? xmemdup(reason, reason_n > 1024 ? 1024 : reason_n) : NULL;
    r->at = at;
}

/* A replayed job finished: stage its result. */
static void
finished(struct lineage *l, const struct iq *q, const struct bmq_event *ev)
{
    char key[KEY_MAX];
    size_t kn = key_of(key, sizeof key, q->name, ev->job_id.p, ev->job_id.n);
    if (!kn)
        return;
    int64_t action;
    const char *job;
    if (!strmap_get(l->pending, key, kn, &action, &job)) {
        /* replayed, but its action is not loaded yet: keep the outcome */
        if (strmap_del(l->seen, key, kn)) {
            struct buf o;
            buf_init(&o, 1100);
            buf_adds(&o, ev->type == BMQ_EV_COMPLETED ? "completed" : "failed");
            if (ev->failed_reason.p) {
                buf_addc(&o, ':');
                buf_add(&o, ev->failed_reason.p, ev->failed_reason.n);
            }
            if (strmap_count(l->outcomes) >= LINEAGE_MEMORY)
                strmap_clear(l->outcomes);
            strmap_put(l->outcomes, key, kn, (int64_t)ev->id_ms, o.data);
            buf_release(&o);
        }
        return;
    }
    add_result(l, action, job, q->name, ev->job_id.p, ev->job_id.n,
               ev->type == BMQ_EV_COMPLETED ? "completed" : "failed", ev->failed_reason.p,
               ev->failed_reason.n, (int64_t)ev->id_ms);
    strmap_del(l->pending, key, kn);
    strmap_del(l->seen, key, kn);
}

void
lineage_observe(struct ingest *ing, const struct iq *q, const struct bmq_event *ev)
{
    struct lineage *l = ing->lin;
    if (ev->type == BMQ_EV_WAITING && bstr_eq(ev->prev, "failed")) {
        /* someone replayed this job */
        char key[KEY_MAX];
        size_t kn = key_of(key, sizeof key, q->name, ev->job_id.p, ev->job_id.n);
        if (!kn)
            return;
        if (strmap_count(l->seen) >= LINEAGE_MEMORY)
            strmap_clear(l->seen);
        strmap_put(l->seen, key, kn, (int64_t)ev->id_ms, NULL);
    } else if ((ev->type == BMQ_EV_COMPLETED || ev->type == BMQ_EV_FAILED) &&
               (strmap_count(l->pending) > 0 || strmap_count(l->seen) > 0)) {
        finished(l, q, ev);
    }
}

/* Reload the replayed jobs still waiting for an outcome (cheap: a partial
 * index; done on the poll timer, with the window closed). Outcomes seen
 * before their action was loaded are staged, and the window opened for
 * them. 0 / -1. */
int
lineage_load(struct ingest *ing)
{
    struct lineage *l = ing->lin;
    sqlite3_stmt *s = store_stmt(ing->st, "stmt/lineage_pending");
    store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
    store_bind_int(s, ":since", now_ms() - 7LL * 86400000);
    strmap_clear(l->pending);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *job = (const char *)sqlite3_column_text(s, 1);
        const char *tq = (const char *)sqlite3_column_text(s, 2);
        const char *tid = (const char *)sqlite3_column_text(s, 3);
        char key[KEY_MAX];
        if (!job || !tq || !tid)
            continue;
        size_t il = strlen(tid), kn = key_of(key, sizeof key, tq, tid, il);
        if (!kn)
            continue;
        int64_t at;
        const char *o;
        if (strmap_get(l->outcomes, key, kn, &at, &o)) {
            /* it already ended before its audit row was loaded */
            const char *colon = strchr(o, ':');
            add_result(l, sqlite3_column_int64(s, 0), job, tq, tid, il, colon ? "failed" : o,
                       colon ? colon + 1 : NULL, colon ? strlen(colon + 1) : 0, at);
            strmap_del(l->outcomes, key, kn);
            continue;
        }
        strmap_put(l->pending, key, kn, sqlite3_column_int64(s, 0), job);
    }
    sqlite3_reset(s);
    if (l->nres > 0)
        return window_open(ing->win);
    return 0;
}

/* Before COMMIT: the staged results into their action_jobs rows. */
int
lineage_flush(struct ingest *ing)
{
    struct lineage *l = ing->lin;
    for (int i = 0; i < l->nres; i++) {
        struct lineage_result *r = &l->res[i];
        sqlite3_stmt *s = store_stmt(ing->st, "stmt/lineage_result");
        store_bind_int(s, ":action_id", r->action);
        store_bind_str(s, ":job_id", r->job_id);
        store_bind_str(s, ":result", r->result);
        store_bind_int(s, ":at", r->at);
        store_bind_str(s, ":reason", r->reason);
        if (store_exec(ing->st, s, "replay lineage") != 0)
            return -1;
    }
    return 0;
}

void
lineage_committed(struct lineage *l)
{
    results_clear(l, false);
}

void
lineage_dropped(struct lineage *l)
{
    results_clear(l, true);
}
