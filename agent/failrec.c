/*
 * failrec: terminal failures into failure rows. The `failed` entries of a
 * batch are collected, their job hashes fetched in one pipeline (into an
 * arena), and one row written each into the commit window: reason and its
 * signature, data redacted and capped, opts, stack traces, attempts.
 */
#include <stdlib.h>
#include <string.h>

#include "ingest_int.h"
#include "jobdata.h"
#include "log.h"
#include "signature.h"
#include "util.h"
#include "xmem.h"

#define REASON_MAX (16 * 1024)
#define OPTS_MAX (16 * 1024)

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

/* 8 bytes a step (a stack trace is KBs): multiply-xorshift, FNV-1a's
 * basis and prime; texts.hash (sql/schema/0010) and the memory of recent
 * values. The lookups compare the texts, so the hash only has to spread,
 * not to be unguessable. */
static uint64_t
mix_hash(uint64_t basis, const char *p, size_t n)
{
    uint64_t h = basis ^ (uint64_t)n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h ^ (h >> 32);
}

static int64_t
text_hash(const char *p, size_t n)
{
    return (int64_t)(mix_hash(14695981039346656037ULL, p, n) & INT64_MAX);
}

/*
 * A text into texts, once per distinct value (a stack trace, opts, a name
 * or reason that repeats): found by its hash among the texts with that
 * hash, else added. *id is its small id, *last_at its texts.last_at now.
 * 0 / -1 (store).
 */
static int
put_text(struct ingest *ing, const char *p, size_t n, int64_t at, int64_t *id, int64_t *last_at)
{
    int64_t h = text_hash(p, n);
    sqlite3_stmt *g = store_stmt(ing->st, "stmt/text_get");
    store_bind_int(g, ":hash", h);
    int rc;
    while ((rc = sqlite3_step(g)) == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(g, 1);
        size_t bn = (size_t)sqlite3_column_bytes(g, 1);
        if (bn != n || (n > 0 && memcmp(b, p, n) != 0))
            continue;
        *id = sqlite3_column_int64(g, 0);
        int64_t last = sqlite3_column_int64(g, 2);
        sqlite3_reset(g);
        *last_at = last;
        if (at <= last + 3600000)
            return 0;
        *last_at = at;
        /* an hour newer: retention must keep it longer (texts.last_at) */
        sqlite3_stmt *u = store_stmt(ing->st, "stmt/text_seen");
        store_bind_int(u, ":id", *id);
        store_bind_int(u, ":at", at);
        return store_exec(ing->st, u, "cannot record a failure");
    }
    sqlite3_reset(g);
    if (rc != SQLITE_DONE) {
        store_note_error(ing->st, "cannot record a failure");
        return -1;
    }
    sqlite3_stmt *t = store_stmt(ing->st, "stmt/text_put");
    store_bind_int(t, ":hash", h);
    store_bind_text(t, ":body", p, n);
    store_bind_int(t, ":at", at);
    if (store_exec(ing->st, t, "cannot record a failure") != 0)
        return -1;
    *id = sqlite3_last_insert_rowid(store_db(ing->st));
    *last_at = at;
    return 0;
}

/* The memory's slot for a text, and whether it holds that text. */
static struct text_slot *
text_slot(struct ingest *ing, const char *p, size_t n, uint64_t *h, uint64_t *check, bool *same)
{
    *h = (uint64_t)text_hash(p, n);
    *check = mix_hash(ing->texts_seed, p, n);
    struct text_slot *t = &ing->texts[*h % FAILREC_SEEN];
    *same = t->hash == *h && t->check == *check;
    return t;
}

/*
 * A stack trace or opts: its id in texts, from the memory while it is good
 * (same generation of the store's texts and of this writer's windows, and
 * texts.last_at less than an hour behind), else from the store. 0 / -1
 */
static int
text_id(struct ingest *ing, const char *p, size_t n, int64_t at, int64_t *id)
{
    uint64_t h, check;
    bool same;
    struct text_slot *t = text_slot(ing, p, n, &h, &check, &same);
    uint64_t gen = store_texts_gen(ing->st) * 65536 + ing->texts_gen;
    if (same && t->id > 0 && t->gen == gen && at <= t->last_at + 3600000) {
        *id = t->id;
        return 0;
    }
    int64_t last;
    if (put_text(ing, p, n, at, id, &last) != 0)
        return -1;
    *t = (struct text_slot){h, check, *id, last, gen};
    return 0;
}

/*
 * A name or reason: inline the first time, by id in texts once it repeats
 * (a value seen before among the last ~FAILREC_SEEN distinct ones: most
 * reasons and names repeat, and a one-off one costs no texts row). 0 / -1
 */
static int
bind_text_or_id(struct ingest *ing, sqlite3_stmt *s, const char *param, const char *p, size_t n,
                int64_t at)
{
    uint64_t h, check;
    bool same;
    struct text_slot *t = text_slot(ing, p, n, &h, &check, &same);
    if (!same) {
        *t = (struct text_slot){h, check, 0, 0, 0};
        store_bind_text(s, param, p, n);
        return 0;
    }
    int64_t id;
    if (text_id(ing, p, n, at, &id) != 0)
        return -1;
    store_bind_int(s, param, id);
    return 0;
}

/* The small ids of the row's queue and endpoint (queue_names, endpoints),
 * put once and kept until a rollback. 0 / -1 */
static int
name_id(struct ingest *ing, const char *put, const char *get, const char *param,
        const char *name, int64_t *id)
{
    if (*id > 0)
        return 0;
    sqlite3_stmt *s = store_stmt(ing->st, put);
    store_bind_str(s, param, name);
    if (store_exec(ing->st, s, "cannot record a failure") != 0)
        return -1;
    s = store_stmt(ing->st, get);
    store_bind_str(s, param, name);
    if (sqlite3_step(s) == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (*id > 0)
        return 0;
    store_note_error(ing->st, "cannot record a failure");
    return -1;
}

static int
put_signature(struct ingest *ing, const char *sig, const char *text, size_t n)
{
    sqlite3_stmt *t = store_stmt(ing->st, "stmt/signature_put");
    store_bind_str(t, ":signature", sig);
    store_bind_text(t, ":signature_text", text, n);
    return store_exec(ing->st, t, "cannot record a failure");
}

/* The row's queue, signature and hour summary (failure_hours), in the same
 * transaction as the row. 0 / -1 */
static int
hour_add(struct ingest *ing, const char *queue, const char *sig, int64_t finished_at,
         const char *reason, size_t rn)
{
    sqlite3_stmt *t = store_stmt(ing->st, "stmt/failure_hour_add");
    store_bind_str(t, ":endpoint", ing->cfg->endpoint_name);
    store_bind_str(t, ":queue", queue);
    store_bind_str(t, ":signature", sig);
    store_bind_int(t, ":finished_at", finished_at);
    if (reason)
        store_bind_text(t, ":failed_reason", reason, rn);
    else
        store_bind_null(t, ":failed_reason");
    return store_exec(ing->st, t, "cannot record a failure");
}

/*
 * Insert one failure row into the open window. reason is the event's
 * failedReason when it came from the stream (else the hash's). stream_id
 * NULL for reconciled rows, then event_time is finishedOn. Returns 1 when a
 * row was written, 0 when it was already there, -1 on a store error.
 */
int
failrec_write(struct ingest *ing, int qi, struct bstr job_id, const char *stream_id,
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
    /* the death's identity: one row per queue, job and finishedOn (the hash
     * gone: the event's time), whether read from the stream or reconciled */
    int64_t fin;
    if (reconciled || !bstr_int(f.finished_on, &fin))
        fin = event_time;
    if (failrec_ids(ing, qi) != 0)
        goto fail_text;
    sqlite3_stmt *k = store_stmt(ing->st, "stmt/failure_known_id");
    store_bind_int(k, ":queue_id", q->qid);
    store_bind_int(k, ":endpoint_id", ing->eid);
    store_bind_text(k, ":job_id", job_id.p, job_id.n);
    store_bind_int(k, ":finished_on", fin);
    int known = sqlite3_step(k);
    sqlite3_reset(k);
    if (known == SQLITE_ROW)
        return 0;

    store_bind_int(s, ":queue_id", q->qid);
    store_bind_int(s, ":endpoint_id", ing->eid);
    store_bind_text(s, ":job_id", job_id.p, job_id.n);
    if (stream_id)
        store_bind_text(s, ":stream_id", stream_id, stream_id_len);
    else
        store_bind_null(s, ":stream_id");
    store_bind_int(s, ":event_time", event_time);
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
    }
    bind_int_field(s, ":timestamp", f.timestamp);
    bind_int_field(s, ":processed_on", f.processed_on);
    store_bind_int(s, ":finished_on", fin);
    if (f.pb.p)
        store_bind_text(s, ":processed_by", f.pb.p, f.pb.n);
    store_bind_int(s, ":hash_missing", missing);
    store_bind_int(s, ":reconciled", reconciled);
    store_bind_int(s, ":recorded_at", now_ms());
    if (missing && !reconciled)
        log_debug("%s: job hash already gone (removeOnFail?); keeping what the event carried",
                  WHERE());
    /* stack trace and opts once per distinct value, the signature's text
     * once per signature (sql/schema/0008), before the row that refers to
     * them; a row ignored as a duplicate leaves them for the first one */
    int64_t tid;
    if (f.stacktrace.p) {
        if (text_id(ing, ing->b3.data ? ing->b3.data : "", ing->b3.len, fin, &tid) != 0)
            goto fail_text;
        store_bind_int(s, ":stack_id", tid);
    }
    if (f.opts.p) {
        if (text_id(ing, f.opts.p, f.opts.n > OPTS_MAX ? OPTS_MAX : f.opts.n, fin, &tid) != 0)
            goto fail_text;
        store_bind_int(s, ":opts_id", tid);
    }
    if (reason.p && put_signature(ing, sig, ing->b1.data ? ing->b1.data : "", ing->b1.len) != 0)
        goto fail_text;
    if (f.name.p && bind_text_or_id(ing, s, ":name", f.name.p, f.name.n, fin) != 0)
        goto fail_text;
    if (reason.p && bind_text_or_id(ing, s, ":reason", reason.p,
                                    reason.n > REASON_MAX ? REASON_MAX : reason.n, fin) != 0)
        goto fail_text;
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
        store_note_error(ing->st, "cannot record a failure");
        log_debug("store: cannot record failure of %s: %s", WHERE(), store_errmsg(ing->st));
        sqlite3_reset(s);
        return -1;
    }
    int changed = sqlite3_changes(store_db(ing->st));
    sqlite3_reset(s);
    size_t rn = reason.n > REASON_MAX ? REASON_MAX : reason.n;
    if (changed > 0 &&
        (hour_add(ing, q->name, reason.p ? sig : NULL, fin, reason.p ? reason.p : NULL, rn) != 0 ||
         (reason.p && sigtab_note(ing, qi, sig, fin, reason.p, rn, job_id.p, job_id.n) != 0))) {
        log_debug("store: cannot record failure of %s: %s", WHERE(), store_errmsg(ing->st));
        return -1;
    }
    return changed > 0 ? 1 : 0;
fail_text:
    log_debug("store: cannot record failure of %s: %s", WHERE(), store_errmsg(ing->st));
    sqlite3_reset(s);
    return -1;
}

int
failrec_ids(struct ingest *ing, int qi)
{
    return name_id(ing, "stmt/queue_name_put", "stmt/queue_name_id", ":queue", ing->q[qi].name,
                   &ing->q[qi].qid) != 0 ||
                   name_id(ing, "stmt/endpoint_put", "stmt/endpoint_id", ":endpoint",
                           ing->cfg->endpoint_name, &ing->eid) != 0
               ? -1
               : 0;
}

/* ---- the batch's failures ---- */

void
failrec_add(struct ingest *ing, int qi, const struct bmq_event *ev)
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

void
failrec_clear(struct ingest *ing)
{
    arena_reset(ing->hash_arena); /* the job hashes of the batch */
    ing->npend = 0;
}

/* HGETALL every collected job, one pipeline on the command link. 0 / -1
 * (Redis failed: the batch is read again). */
int
failrec_fetch(struct ingest *ing)
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

/* The collected failures into the open window. 0 / -1 (store). */
int
failrec_write_batch(struct ingest *ing)
{
    for (int i = 0; i < ing->npend; i++) {
        struct pending *p = &ing->pend[i];
        int w = failrec_write(ing, p->qi, p->ev.job_id, p->ev.id.p, p->ev.id.n,
                              (int64_t)p->ev.id_ms, p->ev.failed_reason, p->hash, false);
        if (w < 0)
            return -1;
        ing->staged.failures += (uint64_t)w;
        ing->q[p->qi].staged_dead += (uint64_t)w;
    }
    return 0;
}

bool
failrec_known(struct ingest *ing, const char *queue, const char *id, size_t idlen, int64_t fin)
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
