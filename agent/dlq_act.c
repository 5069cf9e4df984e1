/* dlq_act: see dlq_act.h */
#include "dlq_act.h"


#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "bmq.h"
#include "cluster.h"
#include "log.h"
#include "queues.h"
#include "store.h"
#include "strmap.h"
#include "util.h"
#include "xmem.h"

volatile sig_atomic_t dlq_stop_requested;

static const struct dlq_verb_info verbs[] = {
    {"replay", "Replay", "replayed", "replaying", "lua/replay"},
    {"purge", "Purge", "purged", "purging", "lua/purge"},
};

const struct dlq_verb_info *
dlq_verb_info(enum dlq_verb v)
{
    return &verbs[v == DLQ_PURGE];
}

static void
note(const struct dlq_callbacks *cb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
note(const struct dlq_callbacks *cb, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cb && cb->note)
        cb->note(cb->ud, msg);
}

static void
sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

void
dlq_progress_line(char *buf, size_t len, enum dlq_verb v, int64_t handled, int64_t frozen,
                  int64_t elapsed_ms, int width)
{
    if (frozen < 1)
        frozen = 1;
    if (handled > frozen)
        handled = frozen;
    int pct = (int)(handled * 100 / frozen);
    char rate[64] = "";
    if (elapsed_ms >= 200 && handled > 0) {
        double per_s = (double)handled * 1000.0 / (double)elapsed_ms;
        double left_s = (double)(frozen - handled) / per_s;
        int k = snprintf(rate, sizeof rate, " %.0f/s", per_s);
        if (handled < frozen && left_s < 1)
            snprintf(rate + k, sizeof rate - (size_t)k, " <1s left");
        else if (handled < frozen)
            snprintf(rate + k, sizeof rate - (size_t)k, " %.0fs left", ceil(left_s));
    }
    char tail[128];
    snprintf(tail, sizeof tail, " %3d%% %lld/%lld%s", pct, (long long)handled, (long long)frozen,
             rate);
    const char *doing = dlq_verb_info(v)->doing;
    int bar = width - (int)strlen(doing) - 3 - (int)strlen(tail);
    if (bar > 40)
        bar = 40;
    if (bar < 10) {
        snprintf(buf, len, "%s%s", doing, tail);
        return;
    }
    char b[41];
    int full = (int)(handled * bar / frozen);
    for (int i = 0; i < bar; i++)
        b[i] = i < full ? '#' : '-';
    b[bar] = '\0';
    snprintf(buf, len, "%s [%s]%s", doing, b, tail);
}

const char *
dlq_skip_reason(int status, bool wrapper)
{
    if (wrapper && status == DLQ_JOB_NOT_DEAD)
        return "no longer waiting in the dead-letter queue";
    switch (status) {
    case DLQ_JOB_GONE:
        return "job hash is gone";
    case DLQ_JOB_LOCKED:
        return "locked by a worker";
    case DLQ_JOB_NOT_DEAD:
        return "no longer in the failed set";
    case DLQ_JOB_SCHEDULER:
        return "current job of a job scheduler";
    case DLQ_JOB_CHILD_LOCKED:
        return "a child is locked by a worker (part of its tree was already removed)";
    case DLQ_JOB_BAD_DATA:
        return "unexpected data in Redis (a key of the wrong type)";
    case DLQ_JOB_STOPPED:
        return "stopped while its children were being removed (part of its tree is gone)";
    default:
        return "refused";
    }
}

static bool
sel_add(const struct dlq_job *j, void *ud)
{
    struct dlq_selection *s = ud;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->ids = xrealloc(s->ids, sizeof *s->ids * (size_t)s->cap);
        s->wrappers = xrealloc(s->wrappers, sizeof *s->wrappers * (size_t)s->cap);
    }
    struct dlq_wrapper *w = &s->wrappers[s->n];
    memset(w, 0, sizeof *w);
    if (j->wrapper) {
        w->queue = xstrdup(j->wrapper->queue);
        w->id = j->wrapper->id ? xstrdup(j->wrapper->id) : NULL;
        w->name = xstrdup(j->wrapper->name);
        w->data = xstrdup(j->wrapper->data);
        w->opts = xstrdup(j->wrapper->opts);
    }
    s->ids[s->n++] = xmemdup(j->id, j->id_len);
    int k = 0;
    while (k < s->nsigs && strcmp(s->sigs[k].sig, j->signature) != 0)
        k++;
    if (k == s->nsigs) {
        s->sigs = xrealloc(s->sigs, sizeof *s->sigs * (size_t)(s->nsigs + 1));
        memcpy(s->sigs[k].sig, j->signature, sizeof s->sigs[k].sig);
        s->sigs[k].sample = j->reason ? xmemdup(j->reason, j->reason_len > 120 ? 120 : j->reason_len)
                                      : xstrdup("");
        s->sigs[k].n = 0;
        s->nsigs++;
    }
    s->sigs[k].n++;
    return true;
}

void
dlq_selection_release(struct dlq_selection *s)
{
    /* range mode counts the selection without listing it */
    for (int i = 0; s->ids && i < s->n; i++) {
        free(s->ids[i]);
        dlq_wrapper_release(&s->wrappers[i]);
    }
    free(s->wrappers);
    for (int i = 0; i < s->nsigs; i++)
        free(s->sigs[i].sample);
    free(s->ids);
    free(s->sigs);
    memset(s, 0, sizeof *s);
}

void
dlq_request_json(const struct dlq_request *r, struct buf *b)
{
    buf_adds(b, "{");
    if (r->nids) {
        buf_adds(b, "\"ids\":[");
        for (int i = 0; i < r->nids; i++) {
            if (i)
                buf_addc(b, ',');
            buf_add_json_str(b, r->ids[i], strlen(r->ids[i]));
        }
        buf_adds(b, "]");
    } else {
        buf_addf(b, "\"all\":%s", r->all ? "true" : "false");
        const char *k[] = {"name", "failed_reason", "signature"};
        const char *v[] = {r->f.name, r->f.reason, r->f.signature};
        for (int i = 0; i < 3; i++)
            if (v[i]) {
                buf_addf(b, ",\"%s\":", k[i]);
                buf_add_json_str(b, v[i], strlen(v[i]));
            }
        if (r->f.since)
            buf_addf(b, ",\"since\":%lld", (long long)r->f.since);
        if (r->f.until)
            buf_addf(b, ",\"until\":%lld", (long long)r->f.until);
        if (r->f.limit)
            buf_addf(b, ",\"limit\":%lld", (long long)r->f.limit);
    }
    if (r->origin)
        buf_addf(b, ",\"from\":\"%s\"", r->origin);
    buf_adds(b, "}");
}

/* how many jobs of the failed set are in s's window; -1 Redis failed */
static int64_t
window_count(const struct config *cfg, struct rconn *rc, const char *queue,
             const struct dlq_selection *s, char *err, size_t errlen)
{
    struct buf fk;
    buf_init(&fk, 0);
    bmq_key(&fk, cfg->prefix, queue, "failed");
    redisReply *x = rconn_cmdf(rc, "ZCOUNT %b %s %s", fk.data, fk.len, s->rmin, s->rmax);
    buf_release(&fk);
    int64_t n = x && x->type == REDIS_REPLY_INTEGER ? x->integer : -1;
    if (n < 0)
        snprintf(err, errlen, "counting the failed set failed: %s",
                 x && x->type == REDIS_REPLY_ERROR ? x->str : rconn_errstr(rc));
    if (x)
        freeReplyObject(x);
    return n;
}

/* In a cluster, a re-add runs as one script over the dead-letter queue's
 * keys and the original queue's: both must share a hash slot ({bull}
 * prefix). Queues spread over slots by tagged names cannot: refused before
 * anything is touched, naming a way that works. */
static bool
cross_slot(const struct config *cfg, const char *dlq, const struct dlq_selection *s, char *err,
           size_t errlen)
{
    if (!cfg->ep.cluster)
        return false;
    int from = cluster_queue_slot(cfg->prefix, dlq);
    for (int i = 0; i < s->n; i++) {
        const char *q = s->wrappers[i].queue;
        if (cluster_queue_slot(cfg->prefix, q) != from) {
            snprintf(err, errlen,
                     "'%.150s' and '%.150s' live in different hash slots of the cluster, and a "
                     "replay out of a dead-letter queue is one script over both queues' keys; "
                     "nothing was done. Give both the same hash tag (a prefix such as {bull}), or "
                     "replay the original job with `bullwatch dlq replay %.150s` after moving it "
                     "back with BullMQ",
                     dlq, q, q);
            return true;
        }
    }
    return false;
}

int
dlq_freeze(const struct config *cfg, struct rconn *rc, const struct dlq_request *r, bool detail,
           struct dlq_selection *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    /* freeze the selection: jobs that die after this instant are left alone */
    s->snapshot = r->snapshot ? r->snapshot : now_ms();
    s->wrappers_mode = queue_is_dlq(cfg, r->queue);
    /* wrapper jobs wait in the dead-letter queue: a purge removes them
     * there, a replay re-adds the original to its own queue */
    s->script = s->wrappers_mode && r->verb == DLQ_PURGE ? "lua/purgewait" : dlq_verb_info(r->verb)->script;
    s->readd = s->wrappers_mode && r->verb == DLQ_REPLAY;
    /* --all or a time window over the failed set, unpaced: the script takes
     * the oldest jobs of the window itself, so no id list is read first */
    s->range = !s->wrappers_mode && !r->nids && !detail && !r->f.name && !r->f.reason &&
               !r->f.signature && !r->f.limit && r->rate <= 0 && r->refail_pct <= 0;
    snprintf(s->rmin, sizeof s->rmin, "-inf");
    if (r->f.since)
        snprintf(s->rmin, sizeof s->rmin, "%lld", (long long)r->f.since);
    snprintf(s->rmax, sizeof s->rmax, "(%lld",
             (long long)(r->f.until && r->f.until < s->snapshot + 1 ? r->f.until : s->snapshot + 1));
    if (s->wrappers_mode && r->nids) {
        snprintf(err, errlen, "select wrapper jobs of a dead-letter queue with --all or filters");
        return -2;
    }
    if (s->wrappers_mode) {
        struct dlq_filter f = r->f;
        if (dlq_select_wrappers(rc, cfg->prefix, r->queue, &f, sel_add, s, NULL, err, errlen) < 0)
            return -1;
        if (s->readd && cross_slot(cfg, r->queue, s, err, errlen))
            return -2;
    } else if (r->nids) {
        /* an id given twice is one job, acted on once */
        struct strmap *seen = strmap_new();
        for (int i = 0; i < r->nids; i++) {
            size_t len = strlen(r->ids[i]);
            if (strmap_get(seen, r->ids[i], len, NULL, NULL))
                continue;
            strmap_put(seen, r->ids[i], len, 0, NULL);
            struct dlq_job j;
            memset(&j, 0, sizeof j);
            j.id = r->ids[i];
            j.id_len = len;
            snprintf(j.signature, sizeof j.signature, "-");
            sel_add(&j, s);
        }
        strmap_free(seen);
    } else if (s->range) {
        /* the frozen selection is the window itself: count it now, and let
         * the script take the jobs from the failed set batch by batch */
        int64_t n = window_count(cfg, rc, r->queue, s, err, errlen);
        if (n < 0)
            return -1;
        s->n = (int)n;
    } else {
        struct dlq_filter f = r->f;
        if (!f.until || f.until > s->snapshot + 1)
            f.until = s->snapshot + 1;
        f.ids_only = !detail; /* a preview shows reasons and signatures */
        if (dlq_select(rc, cfg->prefix, r->queue, &f, sel_add, s, NULL, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* ---- the parts of dlq_execute (see dlq_act.h) ---- */

void
dlq_batch_init(struct dlq_batch *b, int cap)
{
    b->o = xcalloc((size_t)(cap > 0 ? cap : 1), sizeof *b->o);
    b->n = 0;
    b->cap = cap;
}

void
dlq_batch_release(struct dlq_batch *b)
{
    free(b->o);
    memset(b, 0, sizeof *b);
}

struct dlq_outcome *
dlq_batch_add(struct dlq_batch *b, const char *id, int status)
{
    struct dlq_outcome *o = &b->o[b->n++];
    memset(o, 0, sizeof *o);
    o->id = id;
    o->status = status;
    return o;
}

void
dlq_ids_push(struct dlq_ids *l, const char *id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, sizeof *l->v * (size_t)l->cap);
    }
    l->v[l->n++] = xstrdup(id);
}

void
dlq_ids_release(struct dlq_ids *l)
{
    for (int k = 0; k < l->n; k++)
        free(l->v[k]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

void
dlq_hold_parents(struct dlq_batch *b, struct dlq_ids *again)
{
    int m = 0;
    for (int k = 0; k < b->n; k++) {
        if (b->o[k].status == DLQ_JOB_NOT_YET) {
            dlq_ids_push(again, b->o[k].id);
            continue;
        }
        b->o[m++] = b->o[k];
    }
    b->n = m;
}

static int
walk_find(const struct dlq_walk *w, const char *id)
{
    int64_t i;
    return w->at && strmap_get(w->at, id, strlen(id), &i, NULL) ? (int)i : -1;
}

static void
walk_add(struct dlq_walk *w, const char *id, bool pending, int status)
{
    if (!w->at)
        w->at = strmap_new();
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->ids = xrealloc(w->ids, sizeof *w->ids * (size_t)w->cap);
        w->pending = xrealloc(w->pending, sizeof *w->pending * (size_t)w->cap);
        w->status = xrealloc(w->status, sizeof *w->status * (size_t)w->cap);
    }
    w->ids[w->n] = xstrdup(id);
    w->pending[w->n] = pending;
    w->status[w->n] = status;
    w->npending += pending;
    strmap_put(w->at, id, strlen(id), w->n++, NULL);
}

static void
walk_del(struct dlq_walk *w, int i)
{
    w->npending -= w->pending[i];
    strmap_del(w->at, w->ids[i], strlen(w->ids[i]));
    free(w->ids[i]);
    if (i != --w->n) {
        w->ids[i] = w->ids[w->n];
        w->pending[i] = w->pending[w->n];
        w->status[i] = w->status[w->n];
        strmap_put(w->at, w->ids[i], strlen(w->ids[i]), i, NULL);
    }
}

void
dlq_walk_release(struct dlq_walk *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->ids[i]);
    free(w->ids);
    free(w->pending);
    free(w->status);
    if (w->at)
        strmap_free(w->at);
    memset(w, 0, sizeof *w);
}

int
dlq_walk_limit(const struct dlq_walk *w, int64_t frozen, int64_t handled, int batch)
{
    int64_t room = frozen - handled - w->npending - w->asked;
    if (w->walked || w->exhausted || room <= 0)
        return 0;
    if (w->swept)
        room += w->n - w->npending; /* the sweep lists them again */
    return room < batch ? (int)room : batch;
}

void
dlq_walk_take(struct dlq_walk *w, int64_t offset, int limit, const redisReply *rr,
              struct dlq_batch *b)
{
    int rn = (int)rr->element[0]->elements;
    b->n = 0;
    if (rn > limit) /* a reply longer than asked for (fuzzing found it): the batch holds limit */
        rn = limit;
    if ((int)rr->element[1]->elements < rn || (int)rr->element[2]->elements < rn)
        rn = (int)(rr->element[1]->elements < rr->element[2]->elements ? rr->element[1]->elements
                                                                       : rr->element[2]->elements);
    if (rn < limit)
        w->exhausted = true; /* the window holds no more (jobs removed meanwhile) */
    /* the rows before this reply's first were stepped over when it was
     * sent; those it steps over follow them */
    w->offset = offset;
    for (int k = 0; k < rn; k++) {
        const char *id = rr->element[0]->element[k]->str;
        enum dlq_place place;
        int sc = dlq_reply_status(rr->element[1]->element[k], &place);
        /* -9: stepped over for now (the script reports it not kept) */
        bool over = sc == DLQ_JOB_NOT_YET || rr->element[2]->element[k]->integer == 1;
        int at = walk_find(w, id);
        bool revised = false, later = false;
        w->offset += over;
        if (at >= 0 && over) {
            if (sc == DLQ_JOB_NOT_YET || !w->pending[at])
                continue; /* still as it was: recorded once */
            /* pending before, left in place now (locked) */
            w->pending[at] = false;
            w->npending--;
            if (sc == DLQ_JOB_LOCKED)
                sc = DLQ_JOB_CHILD_LOCKED;
            w->status[at] = sc;
            later = true;
        } else if (at >= 0) {
            /* no longer in place: its outcome is final now */
            if (!w->pending[at])
                revised = true; /* replaces the skip recorded before */
            walk_del(w, at);
        } else if (over) {
            w->careful = true;
            walk_add(w, id, sc == DLQ_JOB_NOT_YET, sc);
            later = true;
            if (sc == DLQ_JOB_NOT_YET)
                continue; /* recorded when its children are gone */
        }
        struct dlq_outcome *o = dlq_batch_add(b, id, sc);
        o->revised = revised;
        o->later = later;
        o->place = place;
    }
}

void
dlq_walk_end(struct dlq_walk *w, struct dlq_ids *again)
{
    w->walked = true;
    for (int k = 0; k < w->n; k++)
        if (w->pending[k])
            dlq_ids_push(again, w->ids[k]);
}

void
dlq_recorder_init(struct dlq_recorder *rec, struct store *st, int64_t action,
                  const struct dlq_request *r, bool wrappers, const struct dlq_callbacks *cb)
{
    memset(rec, 0, sizeof *rec);
    rec->st = st;
    rec->action = action;
    rec->vb = dlq_verb_info(r->verb);
    rec->replay = r->verb == DLQ_REPLAY;
    rec->wrappers = wrappers;
    rec->queue = r->queue;
    rec->cb = cb;
}

/* the outcome as the audit row and the CLI word it: "purged", or
 * "skipped" with why (in as, or a constant); for a job placed, where it
 * went: "placed in paused", "released its parent to wait" */
static const char *
outcome_words(const struct dlq_recorder *rec, const struct dlq_outcome *o, char *as, size_t n,
              const char **why)
{
    bool ok = o->status == DLQ_JOB_DONE;
    *why = ok ? NULL : dlq_skip_reason(o->status, rec->wrappers);
    /* a purge still takes the rest of such a job (as Job.remove does) */
    if (o->status == DLQ_JOB_GONE && !rec->replay && !rec->wrappers)
        *why = "job hash was gone (its id, logs and children were removed)";
    /* where a job made ready went (lua/place.lua's rule): the audit row's
     * record of it */
    const char *pl = ok ? dlq_place_name(o->place) : NULL;
    if (ok && o->queue) {
        snprintf(as, n, "re-added to %s as job %s%s%s", o->queue, o->new_id,
                 pl ? ", placed in " : "", pl ? pl : "");
        *why = as;
    } else if (pl) {
        snprintf(as, n, "%s %s", rec->replay ? "placed in" : "released its parent to", pl);
        *why = as;
    }
    return ok ? rec->vb->past : "skipped";
}

/* One transaction for the batch's rows; -1 with what failed in err. */
static int
record_rows(struct dlq_recorder *rec, const struct dlq_batch *b, char *err, size_t errlen)
{
    char msg[300];
    if (audit_batch_begin(rec->st, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "cannot begin a transaction: %s", msg);
        return -1;
    }
    for (int k = 0; k < b->n; k++) {
        const struct dlq_outcome *o = &b->o[k];
        char as[320];
        const char *why, *word = outcome_words(rec, o, as, sizeof as, &why);
        const char *tq = NULL, *tid = NULL;
        if (o->status == DLQ_JOB_DONE && rec->replay) {
            tq = o->queue ? o->queue : rec->queue;
            tid = o->queue ? o->new_id : o->id;
        }
        /* a revised outcome replaces the skip recorded before */
        if (audit_job(rec->st, rec->action, o->id, word, why, tq, tid) != 0) {
            snprintf(err, errlen, "cannot write the outcome of job %s: %s",
                     log_esc(o->id, strlen(o->id)), store_errmsg(rec->st));
            store_rollback(rec->st);
            return -1;
        }
    }
    if (audit_batch_commit(rec->st, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "cannot commit: %s", msg);
        return -1;
    }
    return 0;
}

int
dlq_record(struct dlq_recorder *rec, const struct dlq_batch *b)
{
    const struct dlq_callbacks *cb = rec->cb;
    char err[600];
    /* no empty transaction: it would wait for the write lock for nothing */
    if (b->n > 0 && !rec->broken && record_rows(rec, b, err, sizeof err) != 0) {
        rec->broken = true;
        note(cb, "audit store: %s; stopped before the next call to Redis; the outcomes below "
                 "are not recorded", err);
    }
    for (int k = 0; k < b->n; k++) {
        const struct dlq_outcome *o = &b->o[k];
        char as[320];
        const char *why, *word = outcome_words(rec, o, as, sizeof as, &why);
        if (o->revised)
            rec->skipped--;
        if (o->status == DLQ_JOB_DONE)
            rec->done++;
        else
            rec->skipped++;
        if (rec->broken)
            note(cb, "not recorded: job %s %s%s%s%s", log_esc(o->id, strlen(o->id)), word,
                 why ? " (" : "", why ? why : "", why ? ")" : "");
        else if (o->status != DLQ_JOB_DONE && cb && cb->skipped && !o->later)
            cb->skipped(cb->ud, o->id, why);
    }
    return rec->broken ? -1 : 0;
}

/* ---- dlq_execute ----
 *
 * DESIGN. One execution is a `struct exec`. Its jobs come from one batch
 * source (`struct source_ops`): the frozen ids, the time window (range
 * mode, the script takes the jobs), or the wrappers of a dead-letter queue
 * (readd). A source sends its calls and turns each reply into a batch of
 * outcomes. Unpaced failed-set sources are pipelined: up to two calls in
 * flight, so Redis starts on the next batch while this one's reply travels
 * and its audit rows are written. Parents a purge leaves pending (-9) are
 * called again by id once the source is done (`again`). Every batch then
 * goes through the one recorder, and the two optional steps follow:
 * --stop-if-refail and --rate. A failed call stops the sending; replies
 * already on their way are still read and recorded. */

/* --stop-if-refail: the last REFAIL_RING replayed jobs are watched in the
 * failed set of the queue they were replayed into */
#define REFAIL_RING 2000
struct refail {
    struct watched {
        char *failed_key, *id;
    } *ring;
    int64_t n, refailed;
};

/* a call on its way */
struct call {
    int start, limit; /* ids mode: the first id; jobs asked for */
    int64_t offset;   /* range mode: stepped over before its first row */
};

struct exec {
    const struct config *cfg;
    struct rconn *rc;
    const struct dlq_request *r;
    struct dlq_selection *s;
    const struct dlq_callbacks *cb;
    const struct dlq_verb_info *vb;
    const struct source_ops *src;
    bool v5;     /* informational (the result): no placement depends on it */
    bool piped;  /* up to two calls in flight */
    int batch;   /* jobs a call */
    struct call fl[2]; /* in flight, oldest first */
    int nfl;
    int sent;    /* pipelined ids: sent so far */
    int pos;     /* paced ids and readd: called so far */
    struct dlq_walk walk;
    redisReply *rr;        /* range mode: the reply b's ids borrow from */
    struct dlq_ids again;  /* -9 parents, called again by id */
    struct dlq_ids retry;  /* the ids of the current call-again batch */
    struct dlq_batch b;    /* the outcomes of the last call */
    struct dlq_recorder rec;
    struct refail refail;
    int64_t t0; /* mono ms: pacing */
    bool by_user, stopping, told, breaker;
    enum dlq_rc code;
    char err[512];
};

/* Where the batches come from. */
struct source_ops {
    /* send the calls that may go now (pipelined sources; NULL: the calls
     * go in next) */
    void (*send)(struct exec *x);
    /* the outcomes of the next call into x->b: 1; 0 the source has no
     * more; -1 the call failed (message in x->err; x->b holds what
     * came back before it, if anything); 2 nothing yet, go round (the
     * range walk starts its sweep) */
    int (*next)(struct exec *x);
};

static int
jobs_left(const struct exec *x, int from)
{
    return x->s->n - from < x->batch ? x->s->n - from : x->batch;
}

static void
ids_outcomes(struct exec *x, int from, int n, const int *status, const enum dlq_place *place)
{
    x->b.n = 0;
    for (int k = 0; k < n; k++)
        dlq_batch_add(&x->b, x->s->ids[from + k], status[k])->place = place[k];
    dlq_hold_parents(&x->b, &x->again);
}

/* the frozen ids, pipelined */
static void
ids_send(struct exec *x)
{
    while (x->nfl < 2 && x->sent < x->s->n) {
        int lim = jobs_left(x, x->sent);
        dlq_script_send(x->rc, x->s->script, x->cfg->prefix, x->r->queue, !x->r->keep_attempts,
                        (const char *const *)x->s->ids + x->sent, lim);
        x->fl[x->nfl++] = (struct call){x->sent, lim, 0};
        x->sent += lim;
    }
}

static struct call
call_pop(struct exec *x)
{
    struct call c = x->fl[0];
    x->fl[0] = x->fl[1];
    x->nfl--;
    return c;
}

static int
ids_next(struct exec *x)
{
    if (x->nfl == 0)
        return 0;
    struct call c = call_pop(x);
    int status[200];
    enum dlq_place place[200];
    if (dlq_script_recv(x->rc, x->s->script, c.limit, status, place, x->err, sizeof x->err) != 0)
        return -1;
    ids_outcomes(x, c.start, c.limit, status, place);
    return 1;
}

/* the frozen ids, a call at a time (--rate, --stop-if-refail) */
static int
paced_next(struct exec *x)
{
    if (x->pos >= x->s->n)
        return 0;
    int n = jobs_left(x, x->pos), from = x->pos, status[200];
    enum dlq_place place[200];
    x->pos += n;
    if (dlq_script_batch(x->rc, x->s->script, x->cfg->prefix, x->r->queue, !x->r->keep_attempts,
                         (const char *const *)x->s->ids + from, n, status, place, x->err,
                         sizeof x->err) != 0)
        return -1;
    ids_outcomes(x, from, n, status, place);
    return 1;
}

/* the time window, pipelined */
static void
range_send(struct exec *x)
{
    while (x->nfl < (x->walk.careful ? 1 : 2)) {
        int lim = dlq_walk_limit(&x->walk, x->s->n, x->rec.done + x->rec.skipped, x->batch);
        if (lim == 0)
            break;
        dlq_script_send_range(x->rc, x->s->script, x->cfg->prefix, x->r->queue,
                              !x->r->keep_attempts, x->s->rmin, x->s->rmax, x->walk.offset, lim);
        x->walk.asked += lim;
        x->fl[x->nfl++] = (struct call){0, lim, x->walk.offset};
    }
}

/* Should a job stepped over leave the window meanwhile (a worker, or the
 * purge of its parent), the offset would step over a job never seen: when
 * the walk ends short of the frozen count, it sweeps the window once more
 * from its start. 1 when it does. */
static int
range_sweep(struct exec *x)
{
    struct dlq_walk *w = &x->walk;
    if (w->swept || x->rec.done + x->rec.skipped + w->npending >= x->s->n)
        return 0;
    w->swept = true;
    int64_t n = window_count(x->cfg, x->rc, x->r->queue, x->s, x->err, sizeof x->err);
    if (n < 0) {
        note(x->cb, "redis %s: %s", x->cfg->endpoint_addr, x->err);
        x->code = DLQ_PARTIAL;
        return 0;
    }
    if (n == 0)
        return 0;
    w->offset = 0;
    w->exhausted = false;
    w->careful = true;
    return 1;
}

static int
range_next(struct exec *x)
{
    if (x->rr) {
        freeReplyObject(x->rr);
        x->rr = NULL;
    }
    if (x->nfl == 0) {
        /* the walk has nothing more to ask: sweep once if it came up
         * short, then the pending jobs go by id */
        if (!x->walk.walked && !x->stopping) {
            if (range_sweep(x))
                return 2;
            dlq_walk_end(&x->walk, &x->again);
        }
        return 0;
    }
    struct call c = call_pop(x);
    int rn;
    x->walk.asked -= c.limit;
    x->rr = dlq_script_recv_range(x->rc, x->s->script, &rn, x->err, sizeof x->err);
    if (!x->rr)
        return -1;
    dlq_walk_take(&x->walk, c.offset, c.limit, x->rr, &x->b);
    return 1;
}

/* the wrappers of a dead-letter queue, re-added to their own queues: one
 * script call per original queue within the batch */
static int
readd_next(struct exec *x)
{
    if (x->pos >= x->s->n)
        return 0;
    int n = jobs_left(x, x->pos), i = x->pos;
    struct dlq_wrapper *sw = x->s->wrappers;
    bool handled[100] = {false}, back[100] = {false}; /* back: its call came back */
    x->pos += n;
    x->b.n = 0;
    for (int k = 0; k < n; k++)
        dlq_batch_add(&x->b, x->s->ids[i + k], 0)->queue = sw[i + k].queue;
    for (int k = 0; k < n; k++) {
        if (handled[k])
            continue;
        const char *oq = sw[i + k].queue;
        struct dlq_wrapper *ws[100];
        const char *wid[100];
        int idx[100], m = 0, st2[100];
        char nid[100][32];
        for (int t = k; t < n; t++)
            if (!handled[t] && strcmp(sw[i + t].queue, oq) == 0) {
                ws[m] = &sw[i + t];
                wid[m] = x->s->ids[i + t];
                idx[m++] = t;
                handled[t] = true;
            }
        enum dlq_place where;
        if (dlq_readd_batch(x->rc, x->cfg->prefix, x->r->queue, oq, ws, wid, m, st2, nid, &where,
                            x->err, sizeof x->err) != 0) {
            /* the queues before this one are done: theirs are recorded */
            int kept = 0;
            for (int t = 0; t < n; t++)
                if (back[t])
                    x->b.o[kept++] = x->b.o[t];
            x->b.n = kept;
            return -1;
        }
        for (int t = 0; t < m; t++) {
            back[idx[t]] = true;
            x->b.o[idx[t]].status = st2[t];
            x->b.o[idx[t]].place = st2[t] == DLQ_JOB_DONE ? where : DLQ_PLACE_NONE;
            snprintf(x->b.o[idx[t]].new_id, sizeof x->b.o[idx[t]].new_id, "%s", nid[t]);
        }
    }
    return 1;
}

static const struct source_ops ids_piped = {ids_send, ids_next};
static const struct source_ops ids_paced = {NULL, paced_next};
static const struct source_ops range_walk = {range_send, range_next};
static const struct source_ops readd = {NULL, readd_next};

/* The parents the source left pending (-9), by id, a batch at a time;
 * every job here has been -9 before: a lock found now comes after part of
 * its tree was removed. On a failed call they go back to `again` (recorded
 * as stopped). */
static int
again_next(struct exec *x)
{
    int n = x->again.n < x->batch ? x->again.n : x->batch, status[200];
    enum dlq_place place[200];
    dlq_ids_release(&x->retry);
    x->retry.v = xmalloc(sizeof *x->retry.v * (size_t)n);
    memcpy(x->retry.v, x->again.v, sizeof *x->retry.v * (size_t)n);
    x->retry.n = x->retry.cap = n;
    memmove(x->again.v, x->again.v + n, sizeof *x->again.v * (size_t)(x->again.n - n));
    x->again.n -= n;
    if (dlq_script_batch(x->rc, x->s->script, x->cfg->prefix, x->r->queue, !x->r->keep_attempts,
                         (const char *const *)x->retry.v, n, status, place, x->err,
                         sizeof x->err) != 0) {
        for (int k = 0; k < n; k++)
            dlq_ids_push(&x->again, x->retry.v[k]);
        return -1;
    }
    x->b.n = 0;
    for (int k = 0; k < n; k++)
        dlq_batch_add(&x->b, x->retry.v[k],
                      status[k] == DLQ_JOB_LOCKED ? DLQ_JOB_CHILD_LOCKED : status[k])
            ->place = place[k];
    dlq_hold_parents(&x->b, &x->again);
    return 1;
}

/* A script call failed: said once per action; the action is partly done. */
static void
call_failed(struct exec *x)
{
    if (!x->told)
        note(x->cb, "redis %s: %s; stopped after %lld %s", x->cfg->endpoint_addr, x->err,
             (long long)x->rec.done, x->vb->past);
    x->told = true;
    x->code = DLQ_PARTIAL;
}

/* --stop-if-refail: watch the jobs this batch replayed */
static void
refail_watch(struct exec *x)
{
    struct refail *rf = &x->refail;
    for (int k = 0; k < x->b.n; k++) {
        const struct dlq_outcome *o = &x->b.o[k];
        if (o->status != DLQ_JOB_DONE)
            continue;
        struct watched *w = &rf->ring[rf->n++ % REFAIL_RING];
        free(w->failed_key);
        free(w->id);
        struct buf fk;
        buf_init(&fk, 0);
        bmq_key(&fk, x->cfg->prefix, o->queue ? o->queue : x->r->queue, "failed");
        w->failed_key = buf_detach(&fk, NULL);
        w->id = xstrdup(o->queue ? o->new_id : o->id);
    }
}

/* ... and stop once enough of them died again since the snapshot */
static bool
refail_tripped(struct exec *x)
{
    struct refail *rf = &x->refail;
    int64_t m = rf->n < REFAIL_RING ? rf->n : REFAIL_RING;
    for (int64_t t = 0; t < m; t++)
        if (rf->ring[t].id)
            rconn_appendf(x->rc, "ZSCORE %s %s", rf->ring[t].failed_key, rf->ring[t].id);
    for (int64_t t = 0; t < m; t++) {
        if (!rf->ring[t].id)
            continue;
        redisReply *r = rconn_reply(x->rc);
        if (!r)
            break;
        if (r->type == REDIS_REPLY_STRING && strtod(r->str, NULL) > (double)x->s->snapshot) {
            rf->refailed++;
            free(rf->ring[t].id); /* counted once */
            rf->ring[t].id = NULL;
        }
        freeReplyObject(r);
    }
    int64_t done = x->rec.done;
    if (done < 20 || (double)rf->refailed * 100.0 < x->r->refail_pct * (double)done)
        return false;
    note(x->cb, "stopped: %lld of %lld replayed jobs failed again (--stop-if-refail %g%%)",
         (long long)rf->refailed, (long long)done, x->r->refail_pct);
    x->breaker = true;
    return true;
}

static void
refail_release(struct refail *rf)
{
    for (int t = 0; rf->ring && t < REFAIL_RING; t++) {
        free(rf->ring[t].failed_key);
        free(rf->ring[t].id);
    }
    free(rf->ring);
}

/* --rate: called jobs are due at rate a second from the start */
static void
pace(const struct exec *x, int called)
{
    if (x->r->rate <= 0 || called >= x->s->n)
        return;
    double due = (double)called / x->r->rate, spent = (double)(mono_ms() - x->t0) / 1000.0;
    if (due > spent)
        sleep_s(due - spent);
}

/* The audit intent row, before any change in Redis; the store stays open
 * for the outcomes. -1 (said) when there is no record to write to. */
static int
exec_intent(struct exec *x, struct store **stp, int64_t *action)
{
    char err[512];
    const struct dlq_request *r = x->r;
    struct store *st = store_open(x->cfg->store_path, false, err, sizeof err);
    if (!st) {
        note(x->cb, "%s; refusing to act without an audit record", err);
        return -1;
    }
    audit_mark_interrupted(st);
    struct buf sel, opt;
    buf_init(&sel, 0);
    buf_init(&opt, 0);
    dlq_request_json(r, &sel);
    buf_addf(&opt, "{\"keep_attempts\":%s,\"rate\":%g}", r->keep_attempts ? "true" : "false",
             r->rate);
    struct audit_intent in = {x->cfg->endpoint_name, r->queue, x->vb->name, r->why, sel.data,
                              opt.data, x->s->snapshot, x->s->n};
    *action = audit_begin(st, &in);
    buf_release(&sel);
    buf_release(&opt);
    if (*action >= 0 && getenv("BULLWATCH_TEST_DIE_AFTER_INTENT"))
        raise(SIGKILL); /* tests: the intent row must survive a crash right here */
    if (*action < 0) {
        note(x->cb, "cannot write the audit record (%s); nothing was changed", store_errmsg(st));
        store_close(st);
        return -1;
    }
    *stp = st;
    return 0;
}

/* Which source, how large a call, pipelined or not. */
static void
exec_plan(struct exec *x)
{
    const struct dlq_request *r = x->r;
    const struct dlq_selection *s = x->s;
    x->v5 = dlq_fleet_is_v5(x->rc, x->cfg->prefix, r->queue);
    /* about 1 ms of Redis time a call (measured on 100k jobs: a purge of
     * 100 jobs, a replay of 200), well within the 5 ms budget */
    x->batch = r->verb == DLQ_PURGE || s->readd ? 100 : 200;
    if (r->rate > 0 && r->rate < x->batch)
        x->batch = r->rate < 1 ? 1 : (int)r->rate;
    /* failed-set actions, unpaced, are pipelined (range mode is always) */
    x->piped = !s->readd && r->rate <= 0 && r->refail_pct <= 0;
    x->src = s->readd ? &readd : s->range ? &range_walk : x->piped ? &ids_piped : &ids_paced;
    if (r->refail_pct > 0)
        x->refail.ring = xcalloc(REFAIL_RING, sizeof *x->refail.ring);
    dlq_batch_init(&x->b, x->batch);
    x->code = DLQ_OK;
}

/* The batches, one after another, until the source and the parents it
 * left pending are done, or the run stops. */
static void
exec_run(struct exec *x)
{
    const struct dlq_callbacks *cb = x->cb;
    x->t0 = mono_ms();
    for (;;) {
        if (dlq_stop_requested && !x->by_user) {
            x->by_user = x->stopping = true;
            note(cb, "stopping (interrupted): the calls on their way are finished and recorded");
        }
        if (x->by_user && !x->piped)
            break;
        if (!x->stopping && x->src->send)
            x->src->send(x);
        x->b.n = 0;
        int got = x->src->next(x);
        bool retry = false;
        if (got == 2)
            continue;
        if (got == 0) {
            if (x->again.n == 0 || x->stopping)
                break;
            retry = true;
            got = again_next(x);
        }
        if (got < 0) {
            /* what came back before the failed call (readd: the queues
             * done before it) is recorded first */
            (void)dlq_record(&x->rec, &x->b);
            call_failed(x);
            if (retry || !x->piped)
                break;
            x->stopping = true;
            continue;
        }
        if (dlq_record(&x->rec, &x->b) != 0) {
            /* nothing more goes to Redis; the replies on their way are
             * read, and told as they cannot be recorded */
            x->stopping = true;
            if (!x->piped)
                break;
            continue;
        }
        if (x->refail.ring) {
            refail_watch(x);
            if (refail_tripped(x))
                break;
        }
        if (cb && cb->progress)
            cb->progress(cb->ud, x->rec.done + x->rec.skipped, x->s->n);
        if (!retry)
            pace(x, x->pos);
    }
}

/* Parents still losing their children when the run stopped: part of their
 * tree may be gone, and they say so. Then the skips of the walk, told now
 * that no later call can act on them. */
static void
exec_end_parents(struct exec *x)
{
    struct dlq_walk *w = &x->walk;
    struct dlq_batch end;
    dlq_batch_init(&end, w->n + x->again.n);
    for (int k = 0; k < w->n; k++)
        if (w->pending[k] && !w->walked) {
            w->pending[k] = false;
            w->status[k] = DLQ_JOB_STOPPED;
            dlq_batch_add(&end, w->ids[k], DLQ_JOB_STOPPED)->later = true;
        }
    for (int k = 0; k < x->again.n; k++)
        dlq_batch_add(&end, x->again.v[k], DLQ_JOB_STOPPED);
    (void)dlq_record(&x->rec, &end); /* told, when it cannot be recorded */
    dlq_batch_release(&end);
    const struct dlq_callbacks *cb = x->cb;
    for (int k = 0; k < w->n; k++)
        if (!w->pending[k] && cb && cb->skipped)
            cb->skipped(cb->ud, w->ids[k], dlq_skip_reason(w->status[k], x->s->wrappers_mode));
}

/* newer dead jobs, left alone; -1 unknown */
static int64_t
exec_left(const struct exec *x)
{
    int64_t left = -1;
    struct buf k;
    buf_init(&k, 0);
    bmq_key(&k, x->cfg->prefix, x->r->queue, "failed");
    redisReply *r = rconn_cmdf(x->rc, "ZCOUNT %b %lld +inf", k.data, k.len,
                               (long long)(x->s->snapshot + 1));
    if (r && r->type == REDIS_REPLY_INTEGER)
        left = r->integer;
    if (r)
        freeReplyObject(r);
    buf_release(&k);
    return left;
}

/* The action's result row. Should it fail, that is said: the row stays
 * 'running' until the next action marks it 'interrupted'. */
static void
exec_finish(struct exec *x, const char *state, int64_t left)
{
    struct dlq_recorder *rec = &x->rec;
    if (audit_finish(rec->st, rec->action, state, rec->done, rec->skipped, left) == 0)
        return;
    note(x->cb, "audit store: cannot write the action's result (%s): %s", state,
         store_errmsg(rec->st));
    x->code = DLQ_STORE_FAILED;
}

static void
exec_release(struct exec *x)
{
    if (x->rr)
        freeReplyObject(x->rr);
    dlq_walk_release(&x->walk);
    dlq_ids_release(&x->again);
    dlq_ids_release(&x->retry);
    dlq_batch_release(&x->b);
    refail_release(&x->refail);
}

enum dlq_rc
dlq_execute(const struct config *cfg, struct rconn *rc, const struct dlq_request *r,
            struct dlq_selection *s, const struct dlq_callbacks *cb, struct dlq_result *res)
{
    struct exec x = {.cfg = cfg, .rc = rc, .r = r, .s = s, .cb = cb, .vb = dlq_verb_info(r->verb)};
    struct store *st = NULL;
    int64_t action = -1;
    memset(res, 0, sizeof *res);
    res->action = -1;
    res->left = -1;
    if (exec_intent(&x, &st, &action) != 0)
        return DLQ_FAILED;
    res->action = action;
    exec_plan(&x);
    dlq_recorder_init(&x.rec, st, action, r, s->wrappers_mode, cb);
    if (!s->readd && dlq_script_load(rc, s->script, x.err, sizeof x.err) != 0) {
        note(cb, "redis %s: %s", cfg->endpoint_addr, x.err);
        x.code = DLQ_FAILED;
        exec_finish(&x, "failed", -1);
        exec_release(&x);
        store_close(st);
        return x.code;
    }
    exec_run(&x);
    exec_end_parents(&x);
    /* once the store failed nothing more goes to Redis, not even a count */
    int64_t left = x.rec.broken ? -1 : exec_left(&x);
    if (x.by_user)
        x.code = DLQ_PARTIAL;
    if (x.code == DLQ_OK && (x.rec.skipped || x.breaker))
        x.code = DLQ_PARTIAL;
    if (x.rec.broken)
        x.code = DLQ_STORE_FAILED;
    exec_finish(&x, x.rec.broken                ? "failed"
                    : x.breaker || x.by_user    ? "stopped"
                    : x.code == DLQ_OK          ? "done"
                                                : "partial",
                left);
    res->done = x.rec.done;
    res->skipped = x.rec.skipped;
    res->left = left;
    res->breaker = x.breaker;
    res->v5 = x.v5;
    exec_release(&x);
    store_close(st);
    return x.code;
}
