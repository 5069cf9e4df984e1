/* ingest: see ingest.h */
#include "ingest.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bmq.h"
#include "buf.h"
#include "event.h"
#include "jobdata.h"
#include "log.h"
#include "signature.h"
#include "strmap.h"
#include "util.h"
#include "xmem.h"

#define STREAM_ID_MAX 48
#define PREV_JOB_MAX 256
#define REASON_MAX (16 * 1024)
#define OPTS_MAX (16 * 1024)
#define CLOCK_MARGIN_MS 5000 /* worker clocks vs Redis stream ids */
#define RECONCILE_PAGE 500

enum cnt { C_ADDED, C_COMPLETED, C_FAILED, C_RETRIES, C_STALLED, C_UNKNOWN, C_MALFORMED, C__N };
static const char *const cnt_params[C__N] = {":added",   ":completed", ":failed",   ":retries",
                                             ":stalled", ":unknown",   ":malformed"};

struct iq {
    char *name;
    char *stream_key;
    char cursor[STREAM_ID_MAX];  /* committed */
    char rcursor[STREAM_ID_MAX]; /* read so far (ahead while a transaction is open) */
    char batch_last[STREAM_ID_MAX]; /* last id seen in the current batch */
    bool is_new;                    /* no stored cursor: initial reconciliation due */
    bool skip;                      /* events key is not a stream */
    bool has_pending;               /* gaps waiting for reconciliation */
    int64_t lag_ms;                 /* newest entry - last entry read, at the last gap check */
    /* previous entry, to tell retries from delayed adds and stalls */
    enum bmq_ev prev_type;
    bool prev_was_retry;
    int64_t prev_minute;
    char prev_job[PREV_JOB_MAX];
    size_t prev_job_len;
};

struct cnt_slot {
    int qi;
    int64_t minute;
    int64_t v[C__N];
};

struct pending {
    int qi;
    struct bmq_event ev;
    redisReply *hash;
};

struct ingest {
    const struct config *cfg;
    struct store *st;
    struct rconn *cmd;
    ingest_observer obs;
    void *obs_ud;
    struct iq *q;
    int nq;
    struct ingest_stats stats;
    /* batch scratch */
    struct cnt_slot *cnt;
    int ncnt, capcnt;
    struct pending *pend;
    int npend, cappend;
    struct buf b1, b2, b3;
    struct arena *hash_arena;
    /* replay lineage: "<queue>\0<job id>" of replayed jobs -> action id, with
     * the action_jobs job id as aux; results wait for the next commit */
    struct strmap *lineage;
    /* jobs seen replayed (waiting prev=failed) and how they ended, for
     * actions whose audit rows the agent has not loaded yet; bounded */
    struct strmap *replayed_seen, *outcomes;
    struct lineage_result {
        int64_t action;
        char *job_id, *queue, *target_id;
        const char *result;
        char *reason;
        int64_t at;
    } *lres;
    int nlres, caplres;
    bool txn_open;
    bool inflight, inflight_stale; /* an XREAD sent ahead on the stream link */
    int64_t txn_started;
    uint64_t txn_entries, txn_failures;
};

static int txn_commit(struct ingest *ing);

struct ingest *
ingest_new(const struct config *cfg, struct store *st, struct rconn *cmd)
{
    struct ingest *ing = xcalloc(1, sizeof *ing);
    ing->cfg = cfg;
    ing->st = st;
    ing->cmd = cmd;
    buf_init(&ing->b1, 0);
    buf_init(&ing->b2, 0);
    buf_init(&ing->b3, 0);
    ing->hash_arena = arena_new(256 * 1024);
    ing->lineage = strmap_new();
    ing->replayed_seen = strmap_new();
    ing->outcomes = strmap_new();
    return ing;
}

static void
iq_release(struct iq *q)
{
    free(q->name);
    free(q->stream_key);
}

void
ingest_free(struct ingest *ing)
{
    if (!ing)
        return;
    (void)txn_commit(ing);
    for (int i = 0; i < ing->nq; i++)
        iq_release(&ing->q[i]);
    free(ing->q);
    free(ing->cnt);
    free(ing->pend);
    arena_free(ing->hash_arena);
    strmap_free(ing->lineage);
    strmap_free(ing->replayed_seen);
    strmap_free(ing->outcomes);
    for (int i = 0; i < ing->nlres; i++) {
        free(ing->lres[i].job_id);
        free(ing->lres[i].queue);
        free(ing->lres[i].target_id);
        free(ing->lres[i].reason);
    }
    free(ing->lres);
    buf_release(&ing->b1);
    buf_release(&ing->b2);
    buf_release(&ing->b3);
    free(ing);
}

int64_t
ingest_lag_ms(const struct ingest *ing, int i)
{
    return i >= 0 && i < ing->nq && !ing->q[i].skip ? ing->q[i].lag_ms : -1;
}

const struct ingest_stats *
ingest_stats(const struct ingest *ing)
{
    return &ing->stats;
}

int
ingest_nqueues(const struct ingest *ing)
{
    return ing->nq;
}

static int
find_q(const struct ingest *ing, const char *name)
{
    return sorted_find(ing->q, ing->nq, sizeof *ing->q, offsetof(struct iq, name), name);
}

static void
load_cursor(struct ingest *ing, struct iq *q)
{
    sqlite3_stmt *s = store_stmt(ing->st, "stmt/cursor_get");
    store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
    store_bind_str(s, ":queue", q->name);
    if (sqlite3_step(s) == SQLITE_ROW) {
        snprintf(q->cursor, sizeof q->cursor, "%s", (const char *)sqlite3_column_text(s, 0));
        q->is_new = false;
    } else {
        snprintf(q->cursor, sizeof q->cursor, "0-0");
        q->is_new = true;
    }
    sqlite3_reset(s);
    memcpy(q->rcursor, q->cursor, STREAM_ID_MAX);
    q->has_pending = true; /* run_pending looks in the store */
}

void
ingest_set_queues(struct ingest *ing, const struct queue_list *l)
{
    (void)txn_commit(ing); /* counts refer to queue indexes */
    struct iq *nq = xcalloc((size_t)(l->n ? l->n : 1), sizeof *nq);
    bool *kept = xcalloc((size_t)(ing->nq ? ing->nq : 1), sizeof *kept);
    for (int i = 0; i < l->n; i++) {
        int old = find_q(ing, l->names[i]);
        if (old >= 0) {
            nq[i] = ing->q[old]; /* moves the strings */
            kept[old] = true;
            continue;
        }
        struct iq *q = &nq[i];
        struct buf k;
        q->name = xstrdup(l->names[i]);
        buf_init(&k, 0);
        bmq_key(&k, ing->cfg->prefix, q->name, "events");
        q->stream_key = buf_detach(&k, NULL);
        load_cursor(ing, q);
        q->prev_type = BMQ_EV__COUNT;
        log_info("watching queue '%s' from %s%s", log_esc(q->name, strlen(q->name)), q->cursor,
                 q->is_new ? " (new: start of stream)" : "");
    }
    for (int i = 0; i < ing->nq; i++) {
        if (kept[i])
            continue;
        log_info("queue '%s' is gone; no longer watched",
                 log_esc(ing->q[i].name, strlen(ing->q[i].name)));
        iq_release(&ing->q[i]);
    }
    free(kept);
    free(ing->q);
    ing->q = nq;
    ing->nq = l->n;
}

/* ---- counters ---- */

static int64_t *
cnt_slot(struct ingest *ing, int qi, int64_t minute)
{
    for (int i = ing->ncnt - 1; i >= 0; i--)
        if (ing->cnt[i].qi == qi && ing->cnt[i].minute == minute)
            return ing->cnt[i].v;
    if (ing->ncnt == ing->capcnt) {
        ing->capcnt = ing->capcnt ? ing->capcnt * 2 : 16;
        ing->cnt = xrealloc(ing->cnt, sizeof *ing->cnt * (size_t)ing->capcnt);
    }
    struct cnt_slot *s = &ing->cnt[ing->ncnt++];
    memset(s, 0, sizeof *s);
    s->qi = qi;
    s->minute = minute;
    return s->v;
}

#define LINEAGE_MEMORY 100000 /* replayed jobs remembered before audit rows load */

static size_t
lineage_key(char *key, size_t cap, const char *queue, const char *id, size_t idn)
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
add_result(struct ingest *ing, int64_t action, const char *job, const char *queue,
           const char *target, size_t target_n, const char *result, const char *reason,
           size_t reason_n, int64_t at)
{
    if (ing->nlres == ing->caplres) {
        ing->caplres = ing->caplres ? ing->caplres * 2 : 16;
        ing->lres = xrealloc(ing->lres, sizeof *ing->lres * (size_t)ing->caplres);
    }
    struct lineage_result *r = &ing->lres[ing->nlres++];
    r->action = action;
    r->job_id = xstrdup(job);
    r->queue = xstrdup(queue);
    r->target_id = xmemdup(target, target_n);
    r->result = !strcmp(result, "completed") ? "completed" : "failed";
    r->reason = reason ? xmemdup(reason, reason_n > 1024 ? 1024 : reason_n) : NULL;
    r->at = at;
}

/* waiting prev=failed: someone replayed this job */
static void
lineage_seen(struct ingest *ing, const struct iq *q, const struct bmq_event *ev)
{
    char key[1024];
    size_t kn = lineage_key(key, sizeof key, q->name, ev->job_id.p, ev->job_id.n);
    if (!kn)
        return;
    if (strmap_count(ing->replayed_seen) >= LINEAGE_MEMORY)
        strmap_clear(ing->replayed_seen);
    strmap_put(ing->replayed_seen, key, kn, (int64_t)ev->id_ms, NULL);
}

/* A replayed job finished: remember the result for the next commit. */
static void
lineage_check(struct ingest *ing, const struct iq *q, const struct bmq_event *ev)
{
    char key[1024];
    size_t kn = lineage_key(key, sizeof key, q->name, ev->job_id.p, ev->job_id.n);
    if (!kn)
        return;
    size_t ql = strlen(q->name);
    int64_t action;
    const char *job;
    if (!strmap_get(ing->lineage, key, ql + 1 + ev->job_id.n, &action, &job)) {
        /* replayed, but its action is not loaded yet: keep the outcome */
        if (strmap_del(ing->replayed_seen, key, kn)) {
            struct buf o;
            buf_init(&o, 1100);
            buf_adds(&o, ev->type == BMQ_EV_COMPLETED ? "completed" : "failed");
            if (ev->failed_reason.p) {
                buf_addc(&o, ':');
                buf_add(&o, ev->failed_reason.p, ev->failed_reason.n);
            }
            if (strmap_count(ing->outcomes) >= LINEAGE_MEMORY)
                strmap_clear(ing->outcomes);
            strmap_put(ing->outcomes, key, kn, (int64_t)ev->id_ms, o.data);
            buf_release(&o);
        }
        return;
    }
    add_result(ing, action, job, q->name, ev->job_id.p, ev->job_id.n,
               ev->type == BMQ_EV_COMPLETED ? "completed" : "failed", ev->failed_reason.p,
               ev->failed_reason.n, (int64_t)ev->id_ms);
    strmap_del(ing->lineage, key, kn);
    strmap_del(ing->replayed_seen, key, kn);
}

static void
lineage_clear(struct ingest *ing, bool restore)
{
    for (int i = 0; i < ing->nlres; i++) {
        struct lineage_result *r = &ing->lres[i];
        if (restore) {
            char key[1024];
            size_t ql = strlen(r->queue), il = strlen(r->target_id);
            if (ql + 1 + il <= sizeof key) {
                memcpy(key, r->queue, ql);
                key[ql] = '\0';
                memcpy(key + ql + 1, r->target_id, il);
                strmap_put(ing->lineage, key, ql + 1 + il, r->action, r->job_id);
            }
        }
        free(r->job_id);
        free(r->queue);
        free(r->target_id);
        free(r->reason);
    }
    ing->nlres = 0;
}

static void
track(struct ingest *ing, int qi, const struct bmq_event *ev)
{
    struct iq *q = &ing->q[qi];
    int64_t minute = (int64_t)(ev->id_ms / 60000);
    int64_t *c = cnt_slot(ing, qi, minute);
    bool same_job = ev->job_id.p && ev->job_id.n == q->prev_job_len &&
                    memcmp(ev->job_id.p, q->prev_job, q->prev_job_len) == 0;
    bool was_retry = false;
    int seen = -1; /* what the observer is told of */
    switch (ev->type) {
    case BMQ_EV_ADDED:
        c[C_ADDED]++;
        seen = IC_ADDED;
        break;
    case BMQ_EV_COMPLETED:
        c[C_COMPLETED]++;
        seen = IC_COMPLETED;
        break;
    case BMQ_EV_FAILED:
        c[C_FAILED]++;
        seen = IC_FAILED;
        break;
    case BMQ_EV_DELAYED:
        /* an add with a delay writes `added` then `delayed` in one script */
        if (!(q->prev_type == BMQ_EV_ADDED && same_job)) {
            c[C_RETRIES]++;
            seen = IC_RETRIES;
        }
        break;
    case BMQ_EV_WAITING:
        if (bstr_eq(ev->prev, "active")) {
            c[C_RETRIES]++;
            seen = IC_RETRIES;
            was_retry = true;
        }
        break;
    case BMQ_EV_STALLED:
        c[C_STALLED]++;
        seen = IC_STALLED;
        /* the stalled checker writes `waiting(prev active)` then `stalled` */
        if (q->prev_type == BMQ_EV_WAITING && q->prev_was_retry && same_job) {
            cnt_slot(ing, qi, q->prev_minute)[C_RETRIES]--;
            if (ing->obs)
                ing->obs(ing->obs_ud, q->name, IC_RETRIES, q->prev_minute, -1);
        }
        break;
    case BMQ_EV_CUSTOM:
        c[C_UNKNOWN]++;
        ing->stats.custom++;
        break;
    default:
        break;
    }
    if (seen >= 0 && ing->obs)
        ing->obs(ing->obs_ud, q->name, seen, minute, 1);
    if (ev->type == BMQ_EV_WAITING && bstr_eq(ev->prev, "failed"))
        lineage_seen(ing, q, ev);
    else if ((ev->type == BMQ_EV_COMPLETED || ev->type == BMQ_EV_FAILED) &&
             (strmap_count(ing->lineage) > 0 || strmap_count(ing->replayed_seen) > 0))
        lineage_check(ing, q, ev);
    q->prev_type = ev->type;
    q->prev_was_retry = was_retry;
    q->prev_minute = minute;
    if (ev->job_id.p && ev->job_id.n < PREV_JOB_MAX) {
        memcpy(q->prev_job, ev->job_id.p, ev->job_id.n);
        q->prev_job_len = ev->job_id.n;
    } else {
        q->prev_job_len = (size_t)-1;
    }
}

/* ---- job hash -> failure row ---- */

struct hfields {
    struct bstr name, data, opts, stacktrace, failed_reason, atm, attempts_made_legacy, timestamp,
        processed_on, finished_on, pb;
};

static void
hash_fields(const redisReply *h, struct hfields *f)
{
    memset(f, 0, sizeof *f);
    if (!h || h->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *k = h->element[i], *v = h->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        struct bstr val = {v->str, v->len};
        struct bstr key = {k->str, k->len};
        if (bstr_eq(key, "name"))
            f->name = val;
        else if (bstr_eq(key, "data"))
            f->data = val;
        else if (bstr_eq(key, "opts"))
            f->opts = val;
        else if (bstr_eq(key, "stacktrace"))
            f->stacktrace = val;
        else if (bstr_eq(key, "failedReason"))
            f->failed_reason = val;
        else if (bstr_eq(key, "atm"))
            f->atm = val;
        else if (bstr_eq(key, "attemptsMade"))
            f->attempts_made_legacy = val;
        else if (bstr_eq(key, "timestamp"))
            f->timestamp = val;
        else if (bstr_eq(key, "processedOn"))
            f->processed_on = val;
        else if (bstr_eq(key, "finishedOn"))
            f->finished_on = val;
        else if (bstr_eq(key, "pb"))
            f->pb = val;
    }
}

static bool
bstr_int(struct bstr b, int64_t *out)
{
    char tmp[32];
    if (!b.p || b.n == 0 || b.n >= sizeof tmp)
        return false;
    memcpy(tmp, b.p, b.n);
    tmp[b.n] = '\0';
    return parse_int64(tmp, out) == 0;
}

static void
bind_int_field(sqlite3_stmt *s, const char *param, struct bstr b)
{
    int64_t v;
    if (bstr_int(b, &v))
        store_bind_int(s, param, v);
    else
        store_bind_null(s, param);
}

/*
 * Insert one failure row. reason is the event's failedReason when it came
 * from the stream (else the hash's). stream_id NULL for reconciled rows,
 * then event_time is finishedOn. `where` names the source for log lines.
 * Returns 1 when a row was written, 0 when it was already there, -1 on a
 * store error.
 */
/* "queue 'q' job 'j' (stream id X)": built only when a line is logged */
static const char *
failure_where(char *where, size_t len, const struct iq *q, struct bstr job_id,
              const char *stream_id, size_t stream_id_len, int64_t event_time)
{
    if (where[0])
        return where;
    if (stream_id)
        snprintf(where, len, "queue '%s' job '%s' (stream id %.*s)",
                 log_esc(q->name, strlen(q->name)), log_esc(job_id.p, job_id.n),
                 (int)stream_id_len, stream_id);
    else
        snprintf(where, len, "queue '%s' job '%s' (reconciled, finishedOn %lld)",
                 log_esc(q->name, strlen(q->name)), log_esc(job_id.p, job_id.n),
                 (long long)event_time);
    return where;
}
#define WHERE() failure_where(where, sizeof where, q, job_id, stream_id, stream_id_len, event_time)

static int
write_failure(struct ingest *ing, int qi, struct bstr job_id, const char *stream_id,
              size_t stream_id_len, int64_t event_time, struct bstr reason, const redisReply *hash,
              bool reconciled)
{
    const struct config *cfg = ing->cfg;
    struct iq *q = &ing->q[qi];
    struct hfields f;
    char sig[SIGNATURE_ID_LEN + 1];
    char where[200];
    sqlite3_stmt *s = store_stmt(ing->st, "stmt/failure_insert");
    bool missing = !hash || hash->type != REDIS_REPLY_ARRAY || hash->elements == 0;
    where[0] = '\0';
    hash_fields(hash, &f);
    if (!reason.p)
        reason = f.failed_reason;

    store_bind_str(s, ":endpoint", cfg->endpoint_name);
    store_bind_str(s, ":queue", q->name);
    store_bind_text(s, ":job_id", job_id.p, job_id.n);
    if (stream_id)
        store_bind_text(s, ":stream_id", stream_id, stream_id_len);
    else
        store_bind_null(s, ":stream_id");
    store_bind_int(s, ":event_time", event_time);
    if (f.name.p)
        store_bind_text(s, ":name", f.name.p, f.name.n);
    bind_int_field(s, ":attempts_made", f.atm.p ? f.atm : f.attempts_made_legacy);
    if (f.opts.p) {
        store_bind_int(s, ":attempts_allowed", jobdata_attempts(f.opts.p, f.opts.n));
        store_bind_text(s, ":opts", f.opts.p, f.opts.n > OPTS_MAX ? OPTS_MAX : f.opts.n);
    }
    if (reason.p) {
        size_t rn = reason.n > REASON_MAX ? REASON_MAX : reason.n;
        buf_reset(&ing->b1);
        signature_normalise(reason.p, rn, &ing->b1);
        signature_id(ing->b1.data ? ing->b1.data : "", ing->b1.len, sig);
        store_bind_text(s, ":failed_reason", reason.p, rn);
        store_bind_text(s, ":signature_text", ing->b1.data ? ing->b1.data : "", ing->b1.len);
        store_bind_str(s, ":signature", sig);
    }
    if (f.data.p) {
        store_bind_int(s, ":data_size", (int64_t)f.data.n);
        if (cfg->capture_data) {
            struct jobdata_result res;
            buf_reset(&ing->b2);
            jobdata_prepare(f.data.p, f.data.n, cfg->redact, (size_t)cfg->data_max_bytes,
                            &ing->b2, &res);
            store_bind_text(s, ":data", ing->b2.data ? ing->b2.data : "", ing->b2.len);
            store_bind_int(s, ":data_truncated", res.truncated);
            store_bind_int(s, ":data_json", res.is_json);
            if (!res.is_json)
                log_warn("%s: job data is not JSON; stored as text", WHERE());
            if (res.truncated)
                log_info("%s: job data of %zu bytes stored cut to %lld bytes", WHERE(), f.data.n,
                         (long long)cfg->data_max_bytes);
        } else {
            store_bind_int(s, ":data_truncated", 0);
            store_bind_int(s, ":data_json", 1);
        }
    } else {
        store_bind_int(s, ":data_truncated", 0);
        store_bind_int(s, ":data_json", 1);
    }
    if (f.stacktrace.p) {
        buf_reset(&ing->b3);
        jobdata_stack(f.stacktrace.p, f.stacktrace.n, (size_t)cfg->stack_max_bytes, &ing->b3);
        store_bind_text(s, ":stacktrace", ing->b3.data ? ing->b3.data : "", ing->b3.len);
    }
    bind_int_field(s, ":timestamp", f.timestamp);
    bind_int_field(s, ":processed_on", f.processed_on);
    /* the death's identity (see failures_death in sql/schema) */
    int64_t fin;
    if (reconciled || !bstr_int(f.finished_on, &fin))
        fin = event_time;
    store_bind_int(s, ":finished_on", fin);
    if (f.pb.p)
        store_bind_text(s, ":processed_by", f.pb.p, f.pb.n);
    store_bind_int(s, ":hash_missing", missing);
    store_bind_int(s, ":reconciled", reconciled);
    store_bind_int(s, ":recorded_at", now_ms());
    if (missing && !reconciled)
        log_debug("%s: job hash already gone (removeOnFail?); keeping what the event carried",
                  WHERE());
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
        log_warn("store: cannot record failure of %s: %s", WHERE(), store_errmsg(ing->st));
        sqlite3_reset(s);
        return -1;
    }
    int changed = sqlite3_changes(store_db(ing->st));
    sqlite3_reset(s);
    return changed > 0 ? 1 : 0;
}

/* ---- the batch ---- */

static void
pend_add(struct ingest *ing, int qi, const struct bmq_event *ev)
{
    if (ing->npend == ing->cappend) {
        ing->cappend = ing->cappend ? ing->cappend * 2 : 64;
        ing->pend = xrealloc(ing->pend, sizeof *ing->pend * (size_t)ing->cappend);
    }
    ing->pend[ing->npend].qi = qi;
    ing->pend[ing->npend].ev = *ev;
    ing->pend[ing->npend].hash = NULL;
    ing->npend++;
}

static void
pend_clear(struct ingest *ing)
{
    arena_reset(ing->hash_arena); /* the job hashes of the batch */
    ing->npend = 0;
}

static int
fetch_hashes(struct ingest *ing)
{
    struct buf *k = &ing->b1;
    for (int i = 0; i < ing->npend; i++) {
        struct pending *p = &ing->pend[i];
        const char *argv[2] = {"HGETALL", NULL};
        size_t lens[2] = {7, 0};
        buf_reset(k);
        bmq_job_key(k, ing->cfg->prefix, ing->q[p->qi].name, p->ev.job_id.p, p->ev.job_id.n);
        argv[1] = k->data;
        lens[1] = k->len;
        rconn_append(ing->cmd, 2, argv, lens);
    }
    rconn_arena_begin(ing->cmd, ing->hash_arena);
    for (int i = 0; i < ing->npend; i++) {
        redisReply *r = rconn_reply(ing->cmd);
        if (!r) {
            rconn_arena_end(ing->cmd);
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            struct pending *p = &ing->pend[i];
            log_warn("queue '%s' job '%s': HGETALL failed: %s; recording the event only",
                     log_esc(ing->q[p->qi].name, strlen(ing->q[p->qi].name)),
                     log_esc(p->ev.job_id.p, p->ev.job_id.n), log_esc(r->str, r->len));
            r = NULL;
        }
        ing->pend[i].hash = r;
    }
    rconn_arena_end(ing->cmd);
    return 0;
}

/*
 * The open transaction. Rows are written as each XREAD batch is processed;
 * the per-minute counts and the cursors are written and everything is
 * committed together by txn_commit(), which runs when the streams are read
 * to their end, after TXN_MAX_ENTRIES entries or TXN_MAX_MS. Until then the
 * committed cursor (q->cursor) stays behind the read cursor (q->rcursor).
 */
#define TXN_MAX_ENTRIES 20000
#define TXN_MAX_MS 100

static int
txn_begin(struct ingest *ing)
{
    if (ing->txn_open)
        return 0;
    if (store_begin(ing->st) != 0)
        return -1;
    ing->txn_open = true;
    ing->txn_started = mono_ms();
    ing->txn_entries = 0;
    ing->txn_failures = 0;
    return 0;
}

/* Drop the open transaction: read again from the committed cursors. */
static void
txn_abort(struct ingest *ing)
{
    if (ing->txn_open)
        store_rollback(ing->st);
    ing->txn_open = false;
    ing->ncnt = 0;
    lineage_clear(ing, true);
    for (int i = 0; i < ing->nq; i++)
        memcpy(ing->q[i].rcursor, ing->q[i].cursor, STREAM_ID_MAX);
}

static int
txn_commit(struct ingest *ing)
{
    const char *ep = ing->cfg->endpoint_name;
    int64_t now = now_ms();
    if (!ing->txn_open)
        return 0;
    for (int i = 0; i < ing->ncnt; i++) {
        struct cnt_slot *c = &ing->cnt[i];
        sqlite3_stmt *s = store_stmt(ing->st, "stmt/counts_add");
        store_bind_str(s, ":endpoint", ep);
        store_bind_str(s, ":queue", ing->q[c->qi].name);
        store_bind_int(s, ":minute", c->minute);
        for (int k = 0; k < C__N; k++)
            store_bind_int(s, cnt_params[k], c->v[k]);
        if (store_exec(ing->st, s, "minute counts") != 0)
            goto fail;
    }
    for (int i = 0; i < ing->nlres; i++) {
        struct lineage_result *r = &ing->lres[i];
        sqlite3_stmt *s = store_stmt(ing->st, "stmt/lineage_result");
        store_bind_int(s, ":action_id", r->action);
        store_bind_str(s, ":job_id", r->job_id);
        store_bind_str(s, ":result", r->result);
        store_bind_int(s, ":at", r->at);
        store_bind_str(s, ":reason", r->reason);
        if (store_exec(ing->st, s, "replay lineage") != 0)
            goto fail;
    }
    for (int i = 0; i < ing->nq; i++) {
        struct iq *q = &ing->q[i];
        if (strcmp(q->rcursor, q->cursor) == 0)
            continue;
        sqlite3_stmt *s = store_stmt(ing->st, "stmt/cursor_upsert");
        store_bind_str(s, ":endpoint", ep);
        store_bind_str(s, ":queue", q->name);
        store_bind_str(s, ":stream_id", q->rcursor);
        store_bind_int(s, ":now", now);
        if (store_exec(ing->st, s, "cursor") != 0)
            goto fail;
    }
    ing->txn_open = false;
    if (store_commit(ing->st) != 0)
        goto fail;
    for (int i = 0; i < ing->nq; i++)
        memcpy(ing->q[i].cursor, ing->q[i].rcursor, STREAM_ID_MAX);
    ing->stats.entries += ing->txn_entries;
    ing->stats.failures += ing->txn_failures;
    ing->ncnt = 0;
    lineage_clear(ing, false);
    return 0;
fail:
    ing->txn_open = true;
    txn_abort(ing);
    return -1;
}

void
ingest_set_observer(struct ingest *ing, ingest_observer fn, void *ud)
{
    ing->obs = fn;
    ing->obs_ud = ud;
}

int
ingest_flush(struct ingest *ing)
{
    return txn_commit(ing);
}

/* The events key of some queue is not a stream: find it and stop reading it. */
static void
find_bad_streams(struct ingest *ing)
{
    for (int i = 0; i < ing->nq; i++)
        if (!ing->q[i].skip)
            rconn_appendf(ing->cmd, "TYPE %s", ing->q[i].stream_key);
    for (int i = 0; i < ing->nq; i++) {
        if (ing->q[i].skip)
            continue;
        redisReply *r = rconn_reply(ing->cmd);
        if (!r)
            return;
        if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "stream") != 0 &&
            strcmp(r->str, "none") != 0) {
            ing->q[i].skip = true;
            log_error("queue '%s': key '%s' is a %s, not a stream; not reading its events",
                      log_esc(ing->q[i].name, strlen(ing->q[i].name)), ing->q[i].stream_key,
                      r->str);
        }
        freeReplyObject(r);
    }
}

/*
 * Send one XREAD for every readable queue, from the read cursors (or, with
 * ahead, from the last ids of the batch being processed). block_ms < 0
 * sends no BLOCK: the reply comes at once, empty when nothing is new.
 */
static int
send_xread(struct ingest *ing, struct rconn *sr, int64_t block_ms, bool ahead)
{
    int n = 0;
    for (int i = 0; i < ing->nq; i++)
        if (!ing->q[i].skip && !ing->q[i].is_new)
            n++;
    if (n == 0)
        return 0;
    int argc = (block_ms >= 0 ? 6 : 4) + 2 * n;
    const char **argv = xmalloc(sizeof *argv * (size_t)argc);
    char count[24], block[24];
    int k = 0;
    snprintf(count, sizeof count, "%lld", (long long)ing->cfg->read_count);
    argv[k++] = "XREAD";
    argv[k++] = "COUNT";
    argv[k++] = count;
    if (block_ms >= 0) {
        snprintf(block, sizeof block, "%lld", (long long)block_ms);
        argv[k++] = "BLOCK";
        argv[k++] = block;
    }
    argv[k++] = "STREAMS";
    int j = 0;
    for (int i = 0; i < ing->nq; i++) {
        struct iq *q = &ing->q[i];
        if (q->skip || q->is_new)
            continue;
        argv[k + j] = q->stream_key;
        argv[k + n + j] = (ahead && q->batch_last[0]) ? q->batch_last : q->rcursor;
        j++;
    }
    rconn_set_timeout(sr, (block_ms > 0 ? block_ms : 0) + ing->cfg->connect_timeout_ms);
    rconn_append(sr, argc, argv, NULL);
    free(argv);
    return n;
}

int
ingest_read(struct ingest *ing, struct rconn *sr, int64_t block_ms)
{
    redisReply *r;
    /* while a transaction is open, do not wait long for more */
    if (ing->txn_open && block_ms > TXN_MAX_MS / 4)
        block_ms = TXN_MAX_MS / 4;
    if (ing->inflight) {
        /* the XREAD sent ahead while the previous batch was processed */
        ing->inflight = false;
        r = rconn_reply(sr);
        if (r && ing->inflight_stale) {
            rconn_reply_free(sr, r);
            r = NULL;
            ing->inflight_stale = false;
            goto fresh;
        }
        ing->inflight_stale = false;
    } else {
    fresh:
        if (send_xread(ing, sr, block_ms, false) == 0)
            return 0;
        r = rconn_reply(sr);
    }
    if (!r) {
        txn_abort(ing);
        return -1;
    }
    if (r->type == REDIS_REPLY_NIL) {
        rconn_reply_free(sr, r);
        return txn_commit(ing) == 0 ? 0 : -1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        log_warn("redis %s: XREAD failed: %s", ing->cfg->endpoint_name, log_esc(r->str, r->len));
        rconn_reply_free(sr, r);
        (void)txn_commit(ing);
        find_bad_streams(ing);
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        rconn_reply_free(sr, r);
        return -1;
    }
    if (txn_begin(ing) != 0) {
        rconn_reply_free(sr, r);
        return -1;
    }
    ing->npend = 0;
    for (int i = 0; i < ing->nq; i++)
        ing->q[i].batch_last[0] = '\0';
    int entries = 0;
    bool full = false; /* some stream returned a full COUNT: more is waiting */
    char err[128];
    size_t plen = strlen(ing->cfg->prefix);
    for (size_t s = 0; s < r->elements; s++) {
        redisReply *sr_ = r->element[s];
        if (sr_->type != REDIS_REPLY_ARRAY || sr_->elements != 2 ||
            sr_->element[0]->type != REDIS_REPLY_STRING)
            continue;
        redisReply *key = sr_->element[0];
        /* "<prefix>:<queue>:events" -> queue */
        char name[512];
        if (key->len < plen + 9 || key->len - plen - 8 >= sizeof name)
            continue;
        memcpy(name, key->str + plen + 1, key->len - plen - 8);
        name[key->len - plen - 8] = '\0';
        int qi = find_q(ing, name);
        if (qi < 0)
            continue;
        struct iq *q = &ing->q[qi];
        redisReply *list = sr_->element[1];
        if (list->type == REDIS_REPLY_ARRAY && (long long)list->elements >= ing->cfg->read_count)
            full = true;
        for (size_t e = 0; list->type == REDIS_REPLY_ARRAY && e < list->elements; e++) {
            struct bmq_event ev;
            const redisReply *ent = list->element[e];
            int ok = event_decode(ent, &ev, err, sizeof err);
            entries++;
            if (ev.id.p && ev.id.n < STREAM_ID_MAX) {
                memcpy(q->batch_last, ev.id.p, ev.id.n);
                q->batch_last[ev.id.n] = '\0';
            }
            if (ok != 0) {
                ing->stats.malformed++;
                if (ev.id.p)
                    cnt_slot(ing, qi, (int64_t)(ev.id_ms / 60000))[C_MALFORMED]++;
                log_warn("queue '%s' stream id %s: malformed entry skipped: %s",
                         log_esc(q->name, strlen(q->name)),
                         ev.id.p ? log_esc(ev.id.p, ev.id.n) : "?", err);
                continue;
            }
            if (ev.type == BMQ_EV_CUSTOM)
                log_debug("queue '%s' stream id %s: custom event '%s' counted",
                          log_esc(q->name, strlen(q->name)), log_esc(ev.id.p, ev.id.n),
                          log_esc(ev.name.p, ev.name.n));
            track(ing, qi, &ev);
            if (ev.type == BMQ_EV_FAILED)
                pend_add(ing, qi, &ev);
        }
    }
    /* more is waiting: ask for it now, so Redis prepares the next batch
     * while this one is written */
    if (full && rconn_is_up(sr) && send_xread(ing, sr, -1, true) > 0) {
        rconn_flush(sr);
        ing->inflight = rconn_is_up(sr);
    }
    int rc = entries;
    if (ing->npend && fetch_hashes(ing) != 0) {
        rc = -1;
    } else {
        for (int i = 0; i < ing->npend && rc >= 0; i++) {
            struct pending *p = &ing->pend[i];
            int w = write_failure(ing, p->qi, p->ev.job_id, p->ev.id.p, p->ev.id.n,
                                  (int64_t)p->ev.id_ms, p->ev.failed_reason, p->hash, false);
            if (w < 0)
                rc = -1;
            else
                ing->txn_failures += (uint64_t)w;
        }
    }
    pend_clear(ing);
    rconn_reply_free(sr, r);
    if (rc < 0) {
        txn_abort(ing);
        if (ing->inflight)
            ing->inflight_stale = true; /* sent from cursors now rolled back */
        return -1;
    }
    for (int i = 0; i < ing->nq; i++)
        if (ing->q[i].batch_last[0])
            memcpy(ing->q[i].rcursor, ing->q[i].batch_last, STREAM_ID_MAX);
    ing->txn_entries += (uint64_t)entries;
    ing->stats.batches++;
    if (!full || ing->txn_entries >= TXN_MAX_ENTRIES || mono_ms() - ing->txn_started >= TXN_MAX_MS) {
        if (txn_commit(ing) != 0)
            return -1;
    }
    return rc;
}

/* ---- gaps and reconciliation ---- */

static int
failure_known(struct ingest *ing, const char *queue, const char *id, size_t idlen, int64_t fin)
{
    sqlite3_stmt *s = store_stmt(ing->st, "stmt/failure_known");
    store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
    store_bind_str(s, ":queue", queue);
    store_bind_text(s, ":job_id", id, idlen);
    store_bind_int(s, ":finished_on", fin);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_ROW;
}

/* Record every job of the failed set with from_ms <= finishedOn <= to_ms
 * (to_ms < 0: no upper bound) that has no row. Returns rows added or -1. */
static int64_t
reconcile(struct ingest *ing, int qi, int64_t from_ms, int64_t to_ms)
{
    struct iq *q = &ing->q[qi];
    struct buf key;
    char min[32], max[32], off[32];
    int64_t offset = 0, added = 0;
    buf_init(&key, 0);
    bmq_key(&key, ing->cfg->prefix, q->name, "failed");
    snprintf(min, sizeof min, "%lld", (long long)(from_ms < 0 ? 0 : from_ms));
    if (to_ms < 0)
        snprintf(max, sizeof max, "+inf");
    else
        snprintf(max, sizeof max, "%lld", (long long)to_ms);
    for (int page = 0; page < 100000; page++) {
        snprintf(off, sizeof off, "%lld", (long long)offset);
        const char *argv[] = {"ZRANGEBYSCORE", key.data, min, max, "WITHSCORES", "LIMIT", off,
                              "500"};
        redisReply *r = rconn_cmd(ing->cmd, 8, argv, NULL);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            if (r)
                freeReplyObject(r);
            buf_release(&key);
            return -1;
        }
        size_t n = r->elements / 2;
        if (n == 0) {
            freeReplyObject(r);
            break;
        }
        /* which of this page are unknown */
        bool *todo = xcalloc(n, sizeof *todo);
        int ntodo = 0;
        struct buf jk;
        buf_init(&jk, 0);
        for (size_t i = 0; i < n; i++) {
            redisReply *id = r->element[2 * i];
            int64_t fin = (int64_t)strtod(r->element[2 * i + 1]->str, NULL);
            if (!failure_known(ing, q->name, id->str, id->len, fin)) {
                todo[i] = true;
                ntodo++;
                buf_reset(&jk);
                bmq_job_key(&jk, ing->cfg->prefix, q->name, id->str, id->len);
                rconn_appendf(ing->cmd, "HGETALL %b", jk.data, jk.len);
            }
        }
        buf_release(&jk);
        redisReply **hashes = xcalloc(n, sizeof *hashes);
        int bad = 0;
        for (size_t i = 0; i < n && !bad; i++) {
            if (!todo[i])
                continue;
            hashes[i] = rconn_reply(ing->cmd);
            if (!hashes[i])
                bad = 1;
        }
        if (!bad && ntodo) {
            if (store_begin(ing->st) != 0) {
                bad = 1;
            } else {
                for (size_t i = 0; i < n && !bad; i++) {
                    if (!todo[i])
                        continue;
                    redisReply *id = r->element[2 * i];
                    int64_t fin = (int64_t)strtod(r->element[2 * i + 1]->str, NULL);
                    struct bstr jid = {id->str, id->len};
                    struct bstr none = {NULL, 0};
                    /* a job whose hash vanished meanwhile was purged: skip */
                    if (hashes[i]->type != REDIS_REPLY_ARRAY || hashes[i]->elements == 0)
                        continue;
                    int w = write_failure(ing, qi, jid, NULL, 0, fin, none, hashes[i], true);
                    if (w < 0)
                        bad = 1;
                    else
                        added += w;
                }
                if (bad)
                    store_rollback(ing->st);
                else if (store_commit(ing->st) != 0)
                    bad = 1;
            }
        }
        for (size_t i = 0; i < n; i++)
            if (hashes[i])
                freeReplyObject(hashes[i]);
        free(hashes);
        free(todo);
        freeReplyObject(r);
        if (bad) {
            buf_release(&key);
            return -1;
        }
        offset += (int64_t)n;
        if (n < RECONCILE_PAGE)
            break;
    }
    buf_release(&key);
    return added;
}

static int
record_gap(struct ingest *ing, struct iq *q, const char *kind, const char *after,
           const char *before, int64_t from, int64_t to)
{
    sqlite3_stmt *s = store_stmt(ing->st, "stmt/gap_insert");
    store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
    store_bind_str(s, ":queue", q->name);
    store_bind_str(s, ":kind", kind);
    store_bind_str(s, ":after_id", after);
    store_bind_str(s, ":before_id", before);
    store_bind_int(s, ":from_ms", from);
    store_bind_int(s, ":to_ms", to);
    store_bind_int(s, ":now", now_ms());
    if (store_exec(ing->st, s, "gap") != 0)
        return -1;
    q->has_pending = true;
    return 0;
}

/*
 * Run the pending reconciliations of queue qi whose window the stream has
 * been read past (cursor beyond to_ms + margin, or caught up with the
 * stream), so that rows the stream still holds are written from the stream
 * first and reconciliation only adds what was really lost.
 */
static int
run_pending(struct ingest *ing, int qi, const char *last_id)
{
    struct iq *q = &ing->q[qi];
    uint64_t cms = 0, cseq = 0;
    (void)stream_id_parse(q->cursor, &cms, &cseq);
    bool caught_up = !last_id[0] || stream_id_cmp(q->cursor, last_id) >= 0;
    struct pgap {
        char after[STREAM_ID_MAX];
        char kind[16];
        int64_t from, to;
    } pg[16];
    int npg = 0;
    sqlite3_stmt *s = store_stmt(ing->st, "stmt/gap_pending");
    store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
    store_bind_str(s, ":queue", q->name);
    while (npg < 16 && sqlite3_step(s) == SQLITE_ROW) {
        snprintf(pg[npg].after, sizeof pg[npg].after, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(pg[npg].kind, sizeof pg[npg].kind, "%s", (const char *)sqlite3_column_text(s, 1));
        pg[npg].from = sqlite3_column_int64(s, 2);
        pg[npg].to = sqlite3_column_int64(s, 3);
        npg++;
    }
    sqlite3_reset(s);
    q->has_pending = npg == 16;
    log_debug("queue '%s': %d pending gap(s), cursor %s, last %s%s", log_esc(q->name, strlen(q->name)),
              npg, q->cursor, last_id[0] ? last_id : "(none)", caught_up ? " (caught up)" : "");
    for (int i = 0; i < npg; i++) {
        if (!caught_up && (int64_t)cms <= pg[i].to + CLOCK_MARGIN_MS) {
            q->has_pending = true;
            continue;
        }
        bool initial = strcmp(pg[i].kind, "initial") == 0;
        int64_t added = reconcile(ing, qi, initial ? 0 : pg[i].from - CLOCK_MARGIN_MS,
                                  pg[i].to + CLOCK_MARGIN_MS);
        if (added < 0) {
            q->has_pending = true;
            return -1;
        }
        s = store_stmt(ing->st, "stmt/gap_done");
        store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
        store_bind_str(s, ":queue", q->name);
        store_bind_str(s, ":after_id", pg[i].after);
        store_bind_int(s, ":n", added);
        if (store_exec(ing->st, s, "gap") != 0) {
            q->has_pending = true;
            return -1;
        }
        ing->stats.reconciled += (uint64_t)added;
        ing->stats.failures += (uint64_t)added;
        if (initial && added > 0)
            log_warn("queue '%s': %lld dead jobs are older than the oldest stream entry; recorded "
                     "from the failed set (reconciled)",
                     log_esc(q->name, strlen(q->name)), (long long)added);
        else if (!initial)
            log_warn("queue '%s': gap after %s reconciled: %lld dead jobs recorded from the "
                     "failed set",
                     log_esc(q->name, strlen(q->name)), pg[i].after, (long long)added);
    }
    return 0;
}

/* Reload the replayed jobs still waiting for an outcome (cheap: a partial
 * index; done on the poll timer). */
static void
lineage_load(struct ingest *ing)
{
    sqlite3_stmt *s = store_stmt(ing->st, "stmt/lineage_pending");
    store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
    store_bind_int(s, ":since", now_ms() - 7LL * 86400000);
    strmap_clear(ing->lineage);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *job = (const char *)sqlite3_column_text(s, 1);
        const char *tq = (const char *)sqlite3_column_text(s, 2);
        const char *tid = (const char *)sqlite3_column_text(s, 3);
        char key[1024];
        if (!job || !tq || !tid)
            continue;
        size_t ql = strlen(tq), il = strlen(tid);
        if (ql + 1 + il > sizeof key)
            continue;
        memcpy(key, tq, ql);
        key[ql] = '\0';
        memcpy(key + ql + 1, tid, il);
        int64_t at;
        const char *o;
        if (strmap_get(ing->outcomes, key, ql + 1 + il, &at, &o)) {
            /* it already ended before its audit row was loaded */
            const char *colon = strchr(o, ':');
            add_result(ing, sqlite3_column_int64(s, 0), job, tq, tid, il,
                       colon ? "failed" : o, colon ? colon + 1 : NULL,
                       colon ? strlen(colon + 1) : 0, at);
            strmap_del(ing->outcomes, key, ql + 1 + il);
            continue;
        }
        strmap_put(ing->lineage, key, ql + 1 + il, sqlite3_column_int64(s, 0), job);
    }
    sqlite3_reset(s);
    if (ing->nlres > 0 && txn_begin(ing) == 0)
        (void)txn_commit(ing);
}

/* Has the stream kept every entry ever added (Redis 7: XINFO STREAM's
 * entries-added equals its length)? False when unknown. */
static bool
never_trimmed(struct ingest *ing, const struct iq *q)
{
    redisReply *r = rconn_cmdf(ing->cmd, "XINFO STREAM %s", q->stream_key);
    long long len = -1, added = -2;
    if (r && r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const redisReply *k = r->element[i], *v = r->element[i + 1];
            if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_INTEGER)
                continue;
            if (!strcmp(k->str, "length"))
                len = v->integer;
            else if (!strcmp(k->str, "entries-added"))
                added = v->integer;
        }
    }
    if (r)
        freeReplyObject(r);
    return len == added;
}

int
ingest_check_gaps(struct ingest *ing)
{
    int nq = ing->nq;
    if (txn_commit(ing) != 0)
        return -1;
    lineage_load(ing);
    for (int i = 0; i < nq; i++) {
        if (ing->q[i].skip)
            continue;
        rconn_appendf(ing->cmd, "XRANGE %s - + COUNT 1", ing->q[i].stream_key);
        rconn_appendf(ing->cmd, "XREVRANGE %s + - COUNT 1", ing->q[i].stream_key);
    }
    char (*ids)[2][STREAM_ID_MAX] = xcalloc((size_t)(nq ? nq : 1), sizeof *ids);
    for (int i = 0; i < nq; i++) {
        if (ing->q[i].skip)
            continue;
        for (int k = 0; k < 2; k++) {
            redisReply *r = rconn_reply(ing->cmd);
            if (!r) {
                free(ids);
                return -1;
            }
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
                r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements >= 1 &&
                r->element[0]->element[0]->type == REDIS_REPLY_STRING)
                snprintf(ids[i][k], STREAM_ID_MAX, "%s", r->element[0]->element[0]->str);
            freeReplyObject(r);
        }
    }
    int rc = 0;
    for (int i = 0; i < nq; i++) {
        struct iq *q = &ing->q[i];
        const char *first = ids[i][0], *last = ids[i][1];
        uint64_t fms = 0, fseq = 0, cms = 0, cseq = 0;
        if (q->skip)
            continue;
        bool has_first = first[0] && stream_id_parse(first, &fms, &fseq) == 0;
        (void)stream_id_parse(q->cursor, &cms, &cseq);
        /* the agent's lag on this queue: how far behind its newest entry the
         * last entry read is (from the first entry while none was read) */
        uint64_t lms = 0, lseq = 0;
        if (last[0] && stream_id_parse(last, &lms, &lseq) == 0 && stream_id_cmp(last, q->cursor) > 0) {
            uint64_t from = cms ? cms : has_first ? fms : lms;
            q->lag_ms = lms > from ? (int64_t)(lms - from) : 0;
        } else {
            q->lag_ms = 0;
        }
        if (q->is_new) {
            /* first sight: the failed set may hold jobs older than the stream */
            if (record_gap(ing, q, "initial", "0-0", has_first ? first : "", 0,
                           has_first ? (int64_t)fms : now_ms()) != 0) {
                rc = -1;
                continue;
            }
            q->is_new = false;
        } else if (has_first && stream_id_cmp(first, q->cursor) > 0 &&
                   !(strcmp(q->cursor, "0-0") == 0 && never_trimmed(ing, q))) {
            /* the entry at the cursor was trimmed: entries may have been lost
             * (a stream created after its queue was first seen, and not
             * read yet, starts after 0-0 without any loss) */
            if (record_gap(ing, q, "trim", q->cursor, first, (int64_t)cms, (int64_t)fms) != 0) {
                rc = -1;
                continue;
            }
            ing->stats.gaps++;
            if (ing->obs)
                ing->obs(ing->obs_ud, q->name, IC_GAPS, now_ms() / 60000, 1);
            log_warn("queue '%s': events after %s were trimmed before they were read (the "
                     "stream now starts at %s); gap recorded, the failed set will be reconciled",
                     log_esc(q->name, strlen(q->name)), q->cursor, first);
            /* continue from just before the first entry still there */
            if (fseq > 0)
                snprintf(q->cursor, sizeof q->cursor, "%llu-%llu", (unsigned long long)fms,
                         (unsigned long long)(fseq - 1));
            else
                snprintf(q->cursor, sizeof q->cursor, "%llu-%llu", (unsigned long long)(fms - 1),
                         18446744073709551615ULL);
            memcpy(q->rcursor, q->cursor, STREAM_ID_MAX);
        }
        if (q->has_pending && run_pending(ing, i, last) != 0)
            rc = -1;
    }
    free(ids);
    return rc;
}
