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

/* Range mode: the jobs the window walk steps over, by id: left in place
 * (their outcome recorded, a skip) or pending (-9: their children are still
 * being removed; recorded when done). */
struct stepped {
    struct strmap *at; /* id -> index in ids */
    char **ids;
    bool *pending;
    int *status; /* of a job left in place: why */
    int n, cap, npending;
};

static int
stepped_find(const struct stepped *t, const char *id)
{
    int64_t i;
    return t->at && strmap_get(t->at, id, strlen(id), &i, NULL) ? (int)i : -1;
}

static void
stepped_add(struct stepped *t, const char *id, bool pending, int status)
{
    if (!t->at)
        t->at = strmap_new();
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->ids = xrealloc(t->ids, sizeof *t->ids * (size_t)t->cap);
        t->pending = xrealloc(t->pending, sizeof *t->pending * (size_t)t->cap);
        t->status = xrealloc(t->status, sizeof *t->status * (size_t)t->cap);
    }
    t->ids[t->n] = xstrdup(id);
    t->pending[t->n] = pending;
    t->status[t->n] = status;
    t->npending += pending;
    strmap_put(t->at, id, strlen(id), t->n++, NULL);
}

static void
stepped_del(struct stepped *t, int i)
{
    t->npending -= t->pending[i];
    strmap_del(t->at, t->ids[i], strlen(t->ids[i]));
    free(t->ids[i]);
    if (i != --t->n) {
        t->ids[i] = t->ids[t->n];
        t->pending[i] = t->pending[t->n];
        t->status[i] = t->status[t->n];
        strmap_put(t->at, t->ids[i], strlen(t->ids[i]), i, NULL);
    }
}

static void
stepped_release(struct stepped *t)
{
    for (int i = 0; i < t->n; i++)
        free(t->ids[i]);
    free(t->ids);
    free(t->pending);
    free(t->status);
    if (t->at)
        strmap_free(t->at);
    memset(t, 0, sizeof *t);
}

/* A script call failed: said once per action; the action is partly done. */
static enum dlq_rc
call_failed(const struct dlq_callbacks *cb, const struct config *cfg, const struct dlq_verb_info *vb,
            const char *err, int64_t done, bool *told)
{
    if (!*told)
        note(cb, "redis %s: %s; stopped after %lld %s", cfg->endpoint_name, err, (long long)done,
             vb->past);
    *told = true;
    return DLQ_PARTIAL;
}

enum dlq_rc
dlq_execute(const struct config *cfg, struct rconn *rc, const struct dlq_request *r,
            struct dlq_selection *s, const struct dlq_callbacks *cb, struct dlq_result *res)
{
    const struct dlq_verb_info *vb = dlq_verb_info(r->verb);
    char err[512];
    enum dlq_rc code = DLQ_OK;
    struct store *st = NULL;
    int64_t action = -1;
    memset(res, 0, sizeof *res);
    res->action = -1;
    res->left = -1;
    /* the intent row comes before any change in Redis */
    st = store_open(cfg->store_path, false, err, sizeof err);
    if (!st) {
        note(cb, "%s; refusing to act without an audit record", err);
        return DLQ_FAILED;
    }
    audit_mark_interrupted(st);
    {
        struct buf sel, opt;
        buf_init(&sel, 0);
        buf_init(&opt, 0);
        dlq_request_json(r, &sel);
        buf_addf(&opt, "{\"keep_attempts\":%s,\"rate\":%g}", r->keep_attempts ? "true" : "false",
                 r->rate);
        struct audit_intent in = {cfg->endpoint_name, r->queue, vb->name, r->why, sel.data,
                                  opt.data, s->snapshot, s->n};
        action = audit_begin(st, &in);
        buf_release(&sel);
        buf_release(&opt);
    }
    if (action >= 0 && getenv("BULLWATCH_TEST_DIE_AFTER_INTENT"))
        raise(SIGKILL); /* tests: the intent row must survive a crash right here */
    if (action < 0) {
        note(cb, "cannot write the audit record; nothing was changed");
        store_close(st);
        return DLQ_FAILED;
    }
    res->action = action;
    bool v5 = dlq_fleet_is_v5(rc, cfg->prefix, r->queue);
    /* about 1 ms of Redis time a call (measured on 100k jobs: a purge of
     * 100 jobs, a replay of 200), well within the 5 ms budget */
    int batch = r->verb == DLQ_PURGE || s->readd ? 100 : 200;
    if (r->rate > 0 && r->rate < batch)
        batch = r->rate < 1 ? 1 : (int)r->rate;
    int64_t done = 0, skipped = 0;
    int *status = xcalloc((size_t)batch, sizeof *status);
    /* failed-set actions, unpaced, are pipelined (below) */
    bool piped = !s->readd && r->rate <= 0 && r->refail_pct <= 0;
    /* --stop-if-refail: the last REFAIL_RING replayed jobs are watched in
     * the failed set of the queue they were replayed into */
#define REFAIL_RING 2000
    struct watched {
        char *failed_key, *id;
    } *ring = r->refail_pct > 0 ? xcalloc(REFAIL_RING, sizeof *ring) : NULL;
    int64_t ringn = 0, refailed = 0;
    bool breaker = false;
    if (!s->readd && dlq_script_load(rc, s->script, err, sizeof err) != 0) {
        note(cb, "redis %s: %s", cfg->endpoint_name, err);
        audit_finish(st, action, "failed", 0, 0, -1);
        free(status);
        code = DLQ_FAILED;
        goto out;
    }
    /* Piped (failed-set actions, unpaced): up to two script calls in
     * flight, so Redis starts on the next batch while this one's reply
     * travels and its audit rows are written. In range mode a call takes the
     * oldest jobs of the window after `offset` jobs the walk steps over
     * (left in place, or pending: a parent whose children are still being
     * removed, status -9); a call sent before the reply ahead of it is read
     * cannot know what that one stepped over, so it may list those jobs
     * again: they are remembered (`step`), a job is recorded once (or its
     * skip replaced by its final outcome), and once one has been stepped
     * over, calls go one at a time. Should a job stepped over leave the
     * window meanwhile (a worker, or the purge of its parent), the offset
     * would step over a job never seen: when the walk ends short of the
     * frozen count, it sweeps the window once more from its start. Pending
     * jobs are then called again by id (`again`) until done, as in ids
     * mode. A failed call stops the sending; replies already on their way
     * are still read and recorded. */
    struct call {
        int start, limit; /* ids mode: the first id; jobs asked for */
        int64_t offset;   /* range mode: stepped over before its first row */
    } fl[2];
    int nfl = 0, sent = 0, pos = 0; /* sent: ids mode; pos: unpiped */
    int64_t offset = 0, asked = 0;  /* range mode: stepped over; asked in flight */
    bool exhausted = false, careful = false, swept = false, walked = false, stopping = false;
    struct stepped step;
    memset(&step, 0, sizeof step);
    const char **ids = xcalloc((size_t)batch, sizeof *ids);
    bool *revised = xcalloc((size_t)batch, sizeof *revised);
    /* rows left in place: told to cb->skipped when the walk is over (a
     * later call may still act on them) */
    bool *later = xcalloc((size_t)batch, sizeof *later);
    /* jobs whose children are still being removed (status -9), called
     * again by id once the rest is done; owned copies */
    char **again = NULL;
    int nagain = 0, capagain = 0;
    char **retry_ids = xcalloc((size_t)batch, sizeof *retry_ids);
    redisReply *rr = NULL;
    int64_t t0 = mono_ms();
    bool by_user = false, told = false; /* told: a failed call was said */
    for (;;) {
        int n = 0;
        char (*new_ids)[32] = NULL;
        if (dlq_stop_requested && !by_user) {
            by_user = stopping = true;
            note(cb, "stopping (interrupted): the calls on their way are finished and recorded");
        }
        if (by_user && !piped)
            break;
        while (piped && !stopping && nfl < (careful ? 1 : 2)) {
            int lim;
            if (s->range) {
                int64_t room = s->n - (done + skipped) - step.npending - asked;
                if (walked || exhausted || room <= 0)
                    break;
                if (swept)
                    room += step.n - step.npending; /* the sweep lists them again */
                lim = room < batch ? (int)room : batch;
                dlq_script_send_range(rc, s->script, cfg->prefix, r->queue, v5, !r->keep_attempts,
                                      s->rmin, s->rmax, offset, lim);
                asked += lim;
            } else {
                if (sent >= s->n)
                    break;
                lim = s->n - sent < batch ? s->n - sent : batch;
                dlq_script_send(rc, s->script, cfg->prefix, r->queue, v5, !r->keep_attempts,
                                (const char *const *)s->ids + sent, lim);
            }
            fl[nfl] = (struct call){sent, lim, offset};
            nfl++;
            if (!s->range)
                sent += lim;
        }
        if (piped && s->range && nfl == 0 && !walked && !stopping) {
            /* the walk has nothing more to ask: sweep once if it came up
             * short, then the pending jobs go by id */
            if (!swept && done + skipped + step.npending < s->n) {
                swept = true;
                int64_t w = window_count(cfg, rc, r->queue, s, err, sizeof err);
                if (w < 0) {
                    note(cb, "redis %s: %s", cfg->endpoint_name, err);
                    code = DLQ_PARTIAL;
                } else if (w > 0) {
                    offset = 0;
                    exhausted = false;
                    careful = true;
                    continue;
                }
            }
            walked = true;
            for (int k = 0; k < step.n; k++)
                if (step.pending[k]) {
                    if (nagain == capagain) {
                        capagain = capagain ? capagain * 2 : 16;
                        again = xrealloc(again, sizeof *again * (size_t)capagain);
                    }
                    again[nagain++] = xstrdup(step.ids[k]);
                }
        }
        bool retry = false;
        if (piped ? nfl == 0 : pos >= s->n) {
            if (nagain == 0 || stopping)
                break;
            retry = true;
        }
        memset(revised, 0, sizeof *revised * (size_t)batch);
        memset(later, 0, sizeof *later * (size_t)batch);
        if (retry) {
            /* every job here has been -9 before: a lock found now comes
             * after part of its tree was removed */
            n = nagain < batch ? nagain : batch;
            for (int k = 0; k < n; k++) {
                free(retry_ids[k]);
                retry_ids[k] = again[k];
                ids[k] = retry_ids[k];
            }
            memmove(again, again + n, sizeof *again * (size_t)(nagain - n));
            nagain -= n;
            if (dlq_script_batch(rc, s->script, cfg->prefix, r->queue, v5, !r->keep_attempts, ids, n,
                                 status, err, sizeof err) != 0) {
                code = call_failed(cb, cfg, vb, err, done, &told);
                for (int k = 0; k < n; k++) /* recorded below, as stopped */
                    again[nagain++] = xstrdup(ids[k]);
                break;
            }
            for (int k = 0; k < n; k++)
                if (status[k] == DLQ_JOB_LOCKED)
                    status[k] = DLQ_JOB_CHILD_LOCKED;
        } else if (piped) {
            struct call c = fl[0];
            fl[0] = fl[1];
            nfl--;
            if (s->range) {
                asked -= c.limit;
                int rn;
                rr = dlq_script_recv_range(rc, s->script, &rn, err, sizeof err);
                if (!rr) {
                    code = call_failed(cb, cfg, vb, err, done, &told);
                    stopping = true;
                    continue;
                }
                if (rn < c.limit)
                    exhausted = true; /* the window holds no more (jobs removed meanwhile) */
                /* the rows before this reply's first were stepped over when
                 * it was sent; those it steps over follow them */
                offset = c.offset;
                for (int k = 0; k < rn; k++) {
                    const char *id = rr->element[0]->element[k]->str;
                    int sc = (int)rr->element[1]->element[k]->integer;
                    /* -9: stepped over for now (the script reports it not kept) */
                    bool over = sc == DLQ_JOB_NOT_YET || rr->element[2]->element[k]->integer == 1;
                    int at = stepped_find(&step, id);
                    offset += over;
                    if (at >= 0 && over) {
                        if (sc == DLQ_JOB_NOT_YET || !step.pending[at])
                            continue; /* still as it was: recorded once */
                        /* pending before, left in place now (locked) */
                        step.pending[at] = false;
                        step.npending--;
                        if (sc == DLQ_JOB_LOCKED)
                            sc = DLQ_JOB_CHILD_LOCKED;
                        step.status[at] = sc;
                        later[n] = true;
                    } else if (at >= 0) {
                        /* no longer in place: its outcome is final now */
                        if (!step.pending[at])
                            revised[n] = true; /* replaces the skip recorded before */
                        stepped_del(&step, at);
                    } else if (over) {
                        careful = true;
                        stepped_add(&step, id, sc == DLQ_JOB_NOT_YET, sc);
                        later[n] = true;
                        if (sc == DLQ_JOB_NOT_YET)
                            continue; /* recorded when its children are gone */
                    }
                    ids[n] = id;
                    status[n++] = sc;
                }
            } else {
                n = c.limit;
                for (int k = 0; k < n; k++)
                    ids[k] = s->ids[c.start + k];
                if (dlq_script_recv(rc, s->script, n, status, err, sizeof err) != 0) {
                    code = call_failed(cb, cfg, vb, err, done, &told);
                    stopping = true;
                    continue;
                }
            }
        } else {
            n = s->n - pos < batch ? s->n - pos : batch;
            for (int k = 0; k < n; k++)
                ids[k] = s->ids[pos + k];
        }
        int i = pos;
        if (!piped)
            pos += n;
        if (s->readd) {
            /* one script call per original queue within the batch */
            new_ids = xcalloc((size_t)n, sizeof *new_ids);
            bool failed = false, handled[100] = {false};
            for (int k = 0; k < n && !failed; k++) {
                if (handled[k])
                    continue;
                const char *oq = s->wrappers[i + k].queue;
                struct dlq_wrapper *ws[100];
                const char *wid[100];
                int idx[100], m = 0, st2[100];
                char nid[100][32];
                for (int t = k; t < n; t++)
                    if (!handled[t] && strcmp(s->wrappers[i + t].queue, oq) == 0) {
                        ws[m] = &s->wrappers[i + t];
                        wid[m] = ids[t];
                        idx[m++] = t;
                        handled[t] = true;
                    }
                bool ov5 = dlq_fleet_is_v5(rc, cfg->prefix, oq);
                if (dlq_readd_batch(rc, cfg->prefix, r->queue, oq, ov5, ws, wid, m, st2, nid, err,
                                    sizeof err) != 0) {
                    failed = true;
                    break;
                }
                for (int t = 0; t < m; t++) {
                    status[idx[t]] = st2[t];
                    snprintf(new_ids[idx[t]], 32, "%s", nid[t]);
                }
            }
            if (failed) {
                free(new_ids);
                code = call_failed(cb, cfg, vb, err, done, &told);
                break;
            }
        } else if (!piped && !retry && dlq_script_batch(rc, s->script, cfg->prefix, r->queue, v5,
                                              !r->keep_attempts, (const char *const *)s->ids + i, n,
                                              status, err, sizeof err) != 0) {
            code = call_failed(cb, cfg, vb, err, done, &told);
            break;
        }
        if ((retry || !s->range) && !s->readd) {
            /* -9: a parent whose children are still being removed, a call at
             * a time; recorded when its own call comes back done */
            int m = 0;
            for (int k = 0; k < n; k++) {
                if (status[k] == DLQ_JOB_NOT_YET) {
                    if (nagain == capagain) {
                        capagain = capagain ? capagain * 2 : 16;
                        again = xrealloc(again, sizeof *again * (size_t)capagain);
                    }
                    again[nagain++] = xstrdup(ids[k]);
                    continue;
                }
                ids[m] = ids[k];
                status[m++] = status[k];
            }
            n = m;
        }
        (void)store_begin(st);
        for (int k = 0; k < n; k++) {
            char as[320];
            const char *why = status[k] == DLQ_JOB_DONE ? NULL : dlq_skip_reason(status[k], s->wrappers_mode);
            if (status[k] == DLQ_JOB_DONE && new_ids) {
                snprintf(as, sizeof as, "re-added to %s as job %s", s->wrappers[i + k].queue,
                         new_ids[k]);
                why = as;
            }
            const char *tq = NULL, *tid = NULL;
            if (status[k] == DLQ_JOB_DONE && r->verb == DLQ_REPLAY) {
                tq = new_ids ? s->wrappers[i + k].queue : r->queue;
                tid = new_ids ? new_ids[k] : ids[k];
            }
            /* a revised outcome replaces the skip recorded before */
            audit_job(st, action, ids[k], status[k] == DLQ_JOB_DONE ? vb->past : "skipped", why, tq,
                      tid);
            if (revised[k])
                skipped--;
            if (status[k] == DLQ_JOB_DONE) {
                done++;
            } else {
                skipped++;
                if (cb && cb->skipped && !later[k])
                    cb->skipped(cb->ud, ids[k], why);
            }
        }
        (void)store_commit(st);
        if (ring) {
            for (int k = 0; k < n; k++) {
                if (status[k] != DLQ_JOB_DONE)
                    continue;
                struct watched *w = &ring[ringn++ % REFAIL_RING];
                free(w->failed_key);
                free(w->id);
                struct buf fk;
                buf_init(&fk, 0);
                bmq_key(&fk, cfg->prefix, new_ids ? s->wrappers[i + k].queue : r->queue, "failed");
                w->failed_key = buf_detach(&fk, NULL);
                w->id = xstrdup(new_ids ? new_ids[k] : ids[k]);
            }
            /* which of the watched jobs died again since the s->snapshot */
            int64_t m = ringn < REFAIL_RING ? ringn : REFAIL_RING;
            for (int64_t t = 0; t < m; t++)
                if (ring[t].id)
                    rconn_appendf(rc, "ZSCORE %s %s", ring[t].failed_key, ring[t].id);
            for (int64_t t = 0; t < m; t++) {
                if (!ring[t].id)
                    continue;
                redisReply *x = rconn_reply(rc);
                if (!x)
                    break;
                if (x->type == REDIS_REPLY_STRING && strtod(x->str, NULL) > (double)s->snapshot) {
                    refailed++;
                    free(ring[t].id); /* counted once */
                    ring[t].id = NULL;
                }
                freeReplyObject(x);
            }
            if (done >= 20 && (double)refailed * 100.0 >= r->refail_pct * (double)done) {
                note(cb, "stopped: %lld of %lld replayed jobs failed again (--stop-if-refail %g%%)",
                     (long long)refailed, (long long)done, r->refail_pct);
                breaker = true;
                free(new_ids);
                break;
            }
        }
        free(new_ids);
        if (rr) {
            freeReplyObject(rr);
            rr = NULL;
        }
        if (cb && cb->progress)
            cb->progress(cb->ud, done + skipped, s->n);
        if (r->rate > 0 && i + n < s->n) {
            double due = (double)(i + n) / r->rate, spent = (double)(mono_ms() - t0) / 1000.0;
            if (due > spent)
                sleep_s(due - spent);
        }
    }
    if (rr)
        freeReplyObject(rr);
    /* parents still losing their children when the run stopped: part of
     * their tree may be gone, and they say so */
    (void)store_begin(st);
    for (int k = 0; k < step.n; k++)
        if (step.pending[k] && !walked) {
            step.pending[k] = false;
            step.status[k] = DLQ_JOB_STOPPED;
            audit_job(st, action, step.ids[k], "skipped", dlq_skip_reason(DLQ_JOB_STOPPED, false), NULL, NULL);
            skipped++;
        }
    for (int k = 0; k < nagain; k++) {
        audit_job(st, action, again[k], "skipped", dlq_skip_reason(DLQ_JOB_STOPPED, false), NULL, NULL);
        skipped++;
        if (cb && cb->skipped)
            cb->skipped(cb->ud, again[k], dlq_skip_reason(DLQ_JOB_STOPPED, false));
    }
    (void)store_commit(st);
    for (int k = 0; k < step.n; k++)
        if (!step.pending[k] && cb && cb->skipped)
            cb->skipped(cb->ud, step.ids[k], dlq_skip_reason(step.status[k], s->wrappers_mode));
    stepped_release(&step);
    free(revised);
    free(later);
    for (int k = 0; k < nagain; k++)
        free(again[k]);
    free(again);
    for (int k = 0; k < batch; k++)
        free(retry_ids[k]);
    free(retry_ids);
    free(ids);
    free(status);
    for (int t = 0; ring && t < REFAIL_RING; t++) {
        free(ring[t].failed_key);
        free(ring[t].id);
    }
    free(ring);
    int64_t left = -1;
    {
        struct buf k;
        buf_init(&k, 0);
        bmq_key(&k, cfg->prefix, r->queue, "failed");
        redisReply *x = rconn_cmdf(rc, "ZCOUNT %b %lld +inf", k.data, k.len, (long long)(s->snapshot + 1));
        if (x && x->type == REDIS_REPLY_INTEGER)
            left = x->integer;
        if (x)
            freeReplyObject(x);
        buf_release(&k);
    }
    if (by_user)
        code = DLQ_PARTIAL;
    if (code == DLQ_OK && (skipped || breaker))
        code = DLQ_PARTIAL;
    audit_finish(st, action, breaker || by_user ? "stopped" : code == DLQ_OK ? "done" : "partial",
                 done, skipped, left);
    res->done = done;
    res->skipped = skipped;
    res->left = left;
    res->breaker = breaker;
    res->v5 = v5;
out:
    store_close(st);
    return code;
}
