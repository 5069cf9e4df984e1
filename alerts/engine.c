/* engine: see engine.h */
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expr.h"
#include "labels.h"
#include "log.h"
#include "outbox.h"
#include "rule.h"
#include "silence.h"
#include "sink.h"
#include "strmap.h"
#include "util.h"
#include "window.h"
#include "xmem.h"

#define MAX_MINUTES 1442 /* windows up to a day */
/* A firing alert's current value reaches alert_state (the TUI, `query`) at
 * most this often; it is also written with every change and every send. */
#define VALUE_SAVE_MS 10000
/* The context of a gauge rule (dlq_size > 0) looks this far back. */
#define CONTEXT_DEFAULT_MS 3600000
/* A gauge rule can see the failed set grow before the stream entries of
 * those deaths are read (a queue just discovered, a busy link): its first
 * notification waits for them, at most this long after the transition. */
#define CONTEXT_WAIT_MS 5000
#define NOTIFY_HELD (-2)
/* HA agents: message ids from transition times rounded down to a multiple
 * of poll_every of at least this (and of two polls), see notify() */
#define HA_ID_QUANTUM_MS 60000

struct slot { /* one rule on one queue */
    struct alert a;
    int64_t starts_at, last_sent;
    int64_t last_push;   /* alertmanager api: the last push (memory only: a restart pushes) */
    int64_t value_saved; /* when a.value was last written */
    double value_stored;
    bool notified; /* its firing went out (not held back by a silence) */
    bool touched;  /* changed in the open window: `saved` is the committed one */
    bool summarised; /* a new signature over max_new_signatures: in the summary */
};

/* A signature of the queue first seen within the longest new_signatures
 * window (or with an alert still open): its own alert per signature rule. */
struct esig {
    char *sig;
    int64_t first_seen;
    bool staged;       /* told in the open window: gone if it rolls back */
    struct labels lab; /* endpoint, queue, signature */
    char *lab_json;
    struct slot *slots, *saved; /* one per rule (signature rules use theirs) */
};

/* baseline(x[w], Nd) of a queue, for the minute it was computed in (the
 * previous days do not change within a minute) */
struct bl_cache {
    int ind, days;
    int64_t w, minute;
    double v;
};

/* counts staged in the open window, per queue: applied when it commits */
struct staged_count {
    int64_t minute;
    int what, delta;
};

struct eq {
    char *name;
    char *endpoint;             /* the endpoint's stable name (config.h) */
    struct labels lab;          /* the alert identity's labels: endpoint, queue */
    char *lab_json;             /* ... as the store keeps them */
    bool dlq;
    int64_t *bm;                /* minute of each counter bucket */
    int32_t (*bc)[IC__N];       /* counts */
    int64_t *sm, *st;           /* minute and time (ms) of each gauge sample */
    double (*sv)[IND_NGAUGES];  /* samples */
    double g[IND_NGAUGES];      /* latest poll */
    bool gok;
    bool dirty;
    struct slot *slots;         /* one per rule */
    struct slot *saved;         /* the committed state of touched slots */
    struct staged_count *sc;    /* staged counts */
    int nsc, capsc;
    struct esig *sg;            /* recent new signatures */
    int nsg, capsg;
    struct bl_cache *blc;
    int nblc;
    /* retries scheduled: due times (ms), sorted, from rd0 on (the ones
     * before are past); and those staged in the open window */
    int64_t *rd, *rds;
    int nrd, caprd, rd0, nrds, caprds;
};

/* an alert's identity: the queue's, or one of its signatures' */
struct ident {
    const struct labels *lab;
    const char *lab_json;
    const struct esig *sig; /* NULL: the queue */
};

struct silence {
    int64_t id;
    char *matchers;
};

/* an ingest's observer: which endpoint its counts are of */
struct engine_obs {
    struct engine *e;
    char *endpoint;
};

struct engine {
    const struct config *cfg;
    struct engine_obs *obs; /* one per endpoint of cfg */
    struct store *st;
    struct rules rules;
    struct sinks sinks;
    struct outbox *outbox;
    struct eq *q;
    int nq;
    struct strmap *index; /* queue name -> index in q */
    int nb;               /* minutes kept */
    bool any_event_rule;
    struct silence *sil;
    int nsil;
    /* scratch for samples() */
    int64_t *tt;
    double *tv;
    int64_t now;
    /* the commit window: what evaluation changed, until it commits */
    struct window *win;
    int *staged_q;              /* queues with staged counts */
    int nstaged_q, capstaged_q;
    struct { int qi, ri, si; } *touched; /* si: the signature's, -1 the queue's slot */
    int ntouched, captouched;
    bool failed;                /* a write of this evaluation failed */
    /* per rule */
    int64_t *repush_ms; /* the shortest resend_interval of its pushed sinks, 0: none */
    bool *with_context; /* a failure or dead-letter rule: its notices say what died */
    bool any_sig_rule;
    int64_t sig_keep_ms;   /* the longest new_signatures window */
    struct { int qi, si; } *staged_sig; /* signatures told in the open window */
    int nstaged_sig, capstaged_sig;
    bool any_retry_rule;
    int *staged_rq; /* queues with staged retries */
    int nstaged_rq, capstaged_rq;
};

/* Queues are told apart by endpoint and name: the index's key is both,
 * with a separator no endpoint name has. */
static struct eq *
queue_get(struct engine *e, const char *endpoint, const char *name)
{
    int64_t i;
    struct buf key;
    char small[256]; /* the usual key: no allocation on the per-event path */
    size_t ne = strlen(endpoint), nn = strlen(name);
    buf_init(&key, 0);
    const char *ik = small;
    size_t klen = ne + 1 + nn;
    if (klen <= sizeof small) {
        memcpy(small, endpoint, ne);
        small[ne] = '/';
        memcpy(small + ne + 1, name, nn);
    } else {
        buf_adds(&key, endpoint);
        buf_addc(&key, '/');
        buf_adds(&key, name);
        ik = key.data;
    }
    if (strmap_get(e->index, ik, klen, &i, NULL)) {
        buf_release(&key);
        return &e->q[i];
    }
    e->q = xrealloc(e->q, sizeof *e->q * (size_t)(e->nq + 1));
    struct eq *q = &e->q[e->nq];
    memset(q, 0, sizeof *q);
    q->name = xstrdup(name);
    q->endpoint = xstrdup(endpoint);
    q->dlq = queue_is_dlq(e->cfg, name);
    memset(&q->lab, 0, sizeof q->lab);
    labels_set(&q->lab, "endpoint", endpoint);
    labels_set(&q->lab, "queue", q->name);
    struct buf lj;
    buf_init(&lj, 0);
    labels_json(&q->lab, &lj);
    q->lab_json = buf_detach(&lj, NULL);
    q->bm = xmalloc(sizeof *q->bm * (size_t)e->nb);
    q->bc = xcalloc((size_t)e->nb, sizeof *q->bc);
    q->sm = xmalloc(sizeof *q->sm * (size_t)e->nb);
    q->st = xcalloc((size_t)e->nb, sizeof *q->st);
    q->sv = xcalloc((size_t)e->nb, sizeof *q->sv);
    for (int k = 0; k < e->nb; k++)
        q->bm[k] = q->sm[k] = -1;
    for (int k = 0; k < IND_NGAUGES; k++)
        q->g[k] = NAN;
    q->slots = xcalloc((size_t)(e->rules.n ? e->rules.n : 1), sizeof *q->slots);
    q->saved = xcalloc((size_t)(e->rules.n ? e->rules.n : 1), sizeof *q->saved);
    strmap_put(e->index, ik, klen, e->nq, NULL);
    buf_release(&key);
    return &e->q[e->nq++];
}

static int32_t *
bucket(struct engine *e, struct eq *q, int64_t minute)
{
    int k = (int)(minute % e->nb);
    if (q->bm[k] != minute) {
        if (q->bm[k] > minute)
            return NULL; /* older than the window kept */
        q->bm[k] = minute;
        memset(q->bc[k], 0, sizeof q->bc[k]);
    }
    return q->bc[k];
}

static void count_at(struct engine *e, const char *endpoint, const char *queue, int what,
                     int64_t minute, int delta);

/* Staged: evaluations see it, the windows keep it once the store does. */
void
engine_count(void *engine, const char *queue, int what, int64_t minute, int delta)
{
    struct engine *e = engine;
    if (e)
        count_at(e, e->cfg->endpoint_name, queue, what, minute, delta);
}

void
engine_count_obs(void *obs, const char *queue, int what, int64_t minute, int delta)
{
    struct engine_obs *o = obs;
    if (o)
        count_at(o->e, o->endpoint, queue, what, minute, delta);
}

void *
engine_observer(struct engine *e, int endpoint)
{
    return e && endpoint >= 0 && endpoint < e->cfg->nendpoints ? &e->obs[endpoint] : NULL;
}

static void
count_at(struct engine *e, const char *endpoint, const char *queue, int what, int64_t minute,
         int delta)
{
    if (e->rules.n == 0 || what < 0 || what >= IC__N)
        return;
    struct eq *q = queue_get(e, endpoint, queue);
    if (q->nsc == 0) {
        if (e->nstaged_q == e->capstaged_q) {
            e->capstaged_q = e->capstaged_q ? e->capstaged_q * 2 : 16;
            e->staged_q = xrealloc(e->staged_q, sizeof *e->staged_q * (size_t)e->capstaged_q);
        }
        e->staged_q[e->nstaged_q++] = (int)(q - e->q);
    }
    for (int i = q->nsc - 1; i >= 0; i--) {
        if (q->sc[i].minute == minute && q->sc[i].what == what) {
            q->sc[i].delta += delta;
            q->dirty = true;
            return;
        }
    }
    if (q->nsc == q->capsc) {
        q->capsc = q->capsc ? q->capsc * 2 : 8;
        q->sc = xrealloc(q->sc, sizeof *q->sc * (size_t)q->capsc);
    }
    q->sc[q->nsc++] = (struct staged_count){minute, what, delta};
    q->dirty = true;
}

/* ---- new signatures ---- */

static int
esig_find(const struct eq *q, const char *sig)
{
    for (int i = 0; i < q->nsg; i++)
        if (!strcmp(q->sg[i].sig, sig))
            return i;
    return -1;
}

static struct esig *
esig_add(struct engine *e, struct eq *q, const char *sig, int64_t first_seen)
{
    if (q->nsg == q->capsg) {
        q->capsg = q->capsg ? q->capsg * 2 : 4;
        q->sg = xrealloc(q->sg, sizeof *q->sg * (size_t)q->capsg);
    }
    struct esig *g = &q->sg[q->nsg++];
    memset(g, 0, sizeof *g);
    g->sig = xstrdup(sig);
    g->first_seen = first_seen;
    g->lab = q->lab;
    labels_set(&g->lab, "signature", g->sig);
    struct buf lj;
    buf_init(&lj, 0);
    labels_json(&g->lab, &lj);
    g->lab_json = buf_detach(&lj, NULL);
    size_t n = (size_t)(e->rules.n ? e->rules.n : 1);
    g->slots = xcalloc(n, sizeof *g->slots);
    g->saved = xcalloc(n, sizeof *g->saved);
    return g;
}

static void
esig_release(struct esig *g)
{
    free(g->sig);
    free(g->lab_json);
    free(g->slots);
    free(g->saved);
}

/* Remove q->sg[i] (none of its slots may be in the touched list). */
static void
esig_remove(struct eq *q, int i)
{
    esig_release(&q->sg[i]);
    memmove(&q->sg[i], &q->sg[i + 1], sizeof *q->sg * (size_t)(q->nsg - i - 1));
    q->nsg--;
}

/* The ingest met a signature the store has never seen on the queue:
 * staged, as the counts are (evaluations see it, a rollback drops it). */
static void
signature_at(struct engine *e, const char *endpoint, const char *queue, const char *signature,
             int64_t first_seen)
{
    if (!e || !e->any_sig_rule)
        return;
    struct eq *q = queue_get(e, endpoint, queue);
    if (esig_find(q, signature) >= 0)
        return;
    struct esig *g = esig_add(e, q, signature, first_seen);
    g->staged = true;
    if (e->nstaged_sig == e->capstaged_sig) {
        e->capstaged_sig = e->capstaged_sig ? e->capstaged_sig * 2 : 16;
        e->staged_sig = xrealloc(e->staged_sig, sizeof *e->staged_sig * (size_t)e->capstaged_sig);
    }
    e->staged_sig[e->nstaged_sig].qi = (int)(q - e->q);
    e->staged_sig[e->nstaged_sig].si = q->nsg - 1;
    e->nstaged_sig++;
    q->dirty = true;
}

void
engine_signature(void *engine, const char *queue, const char *signature, int64_t first_seen)
{
    struct engine *e = engine;
    if (e)
        signature_at(e, e->cfg->endpoint_name, queue, signature, first_seen);
}

void
engine_signature_obs(void *obs, const char *queue, const char *signature, int64_t first_seen)
{
    struct engine_obs *o = obs;
    if (o)
        signature_at(o->e, o->endpoint, queue, signature, first_seen);
}

/* Signatures out of every window with no alert open: forgotten (on the
 * timer, with nothing staged or touched, so no index moves under them). */
static void
esig_prune(struct engine *e, int64_t now)
{
    if (e->ntouched || e->nstaged_sig)
        return;
    for (int i = 0; i < e->nq; i++) {
        struct eq *q = &e->q[i];
        for (int k = q->nsg - 1; k >= 0; k--) {
            struct esig *g = &q->sg[k];
            if (g->first_seen > now - e->sig_keep_ms)
                continue;
            bool open = false;
            for (int r = 0; r < e->rules.n && !open; r++)
                open = g->slots[r].a.state != ALERT_INACTIVE;
            if (!open)
                esig_remove(q, k);
        }
    }
}

static int64_t
new_signatures(const struct eq *q, int64_t now, int64_t w)
{
    int64_t n = 0;
    for (int i = 0; i < q->nsg; i++)
        n += q->sg[i].first_seen > now - w;
    return n;
}

/* ---- retries due: from the delayed events of jobs that ran ---- */

/* At most this many scheduled retries are kept per queue (8 bytes each);
 * past it the farthest is forgotten. */
#define RETRIES_KEPT 100000

static void retry_at(struct engine *e, const char *endpoint, const char *queue, int64_t due_ms);

void
engine_retry(void *engine, const char *queue, int64_t due_ms)
{
    struct engine *e = engine;
    if (e)
        retry_at(e, e->cfg->endpoint_name, queue, due_ms);
}

void
engine_retry_obs(void *obs, const char *queue, int64_t due_ms)
{
    struct engine_obs *o = obs;
    if (o)
        retry_at(o->e, o->endpoint, queue, due_ms);
}

static void
retry_at(struct engine *e, const char *endpoint, const char *queue, int64_t due_ms)
{
    if (!e->any_retry_rule)
        return;
    struct eq *q = queue_get(e, endpoint, queue);
    if (q->nrds == 0) {
        if (e->nstaged_rq == e->capstaged_rq) {
            e->capstaged_rq = e->capstaged_rq ? e->capstaged_rq * 2 : 16;
            e->staged_rq = xrealloc(e->staged_rq, sizeof *e->staged_rq * (size_t)e->capstaged_rq);
        }
        e->staged_rq[e->nstaged_rq++] = (int)(q - e->q);
    }
    if (q->nrds == q->caprds) {
        q->caprds = q->caprds ? q->caprds * 2 : 16;
        q->rds = xrealloc(q->rds, sizeof *q->rds * (size_t)q->caprds);
    }
    q->rds[q->nrds++] = due_ms;
    q->dirty = true;
}

/* The staged due times into the sorted list (most arrive in order: a
 * backoff from now; an insertion from the back is then O(1)). */
static void
retries_apply(struct eq *q)
{
    for (int i = 0; i < q->nrds; i++) {
        int64_t d = q->rds[i];
        if (q->nrd - q->rd0 >= RETRIES_KEPT) {
            if (d >= q->rd[q->nrd - 1])
                continue;
            q->nrd--; /* the farthest goes */
        }
        if (q->nrd == q->caprd) {
            if (q->rd0 > 0) { /* the past ones' room first */
                memmove(q->rd, q->rd + q->rd0, sizeof *q->rd * (size_t)(q->nrd - q->rd0));
                q->nrd -= q->rd0;
                q->rd0 = 0;
            }
            if (q->nrd == q->caprd) {
                q->caprd = q->caprd ? q->caprd * 2 : 16;
                q->rd = xrealloc(q->rd, sizeof *q->rd * (size_t)q->caprd);
            }
        }
        int k = q->nrd;
        while (k > q->rd0 && q->rd[k - 1] > d) {
            q->rd[k] = q->rd[k - 1];
            k--;
        }
        q->rd[k] = d;
        q->nrd++;
    }
    q->nrds = 0;
}

/* Retries due in (now, now + w]: the past ones are dropped, then a binary
 * search; plus the staged ones. */
static int64_t
retries_due(struct eq *q, int64_t now, int64_t w)
{
    while (q->rd0 < q->nrd && q->rd[q->rd0] <= now)
        q->rd0++;
    if (q->rd0 == q->nrd)
        q->rd0 = q->nrd = 0;
    int lo = q->rd0, hi = q->nrd; /* the first > now + w */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (q->rd[mid] <= now + w)
            lo = mid + 1;
        else
            hi = mid;
    }
    int64_t n = lo - q->rd0;
    for (int i = 0; i < q->nrds; i++)
        n += q->rds[i] > now && q->rds[i] <= now + w;
    return n;
}

static void
counts_apply(struct engine *e, struct eq *q)
{
    for (int i = 0; i < q->nsc; i++) {
        int32_t *b = bucket(e, q, q->sc[i].minute);
        if (b)
            b[q->sc[i].what] += q->sc[i].delta;
    }
}

static void
sample(struct engine *e, struct eq *q, int64_t minute, int64_t t, const double *v)
{
    int k = (int)(minute % e->nb);
    if (q->sm[k] > minute)
        return;
    q->sm[k] = minute;
    q->st[k] = t;
    memcpy(q->sv[k], v, sizeof q->sv[k]);
}

void
engine_depths(struct engine *e, const struct queue_list *l, const struct queue_depth *d, bool ok,
              int64_t now)
{
    if (e)
        engine_depths_at(e, e->cfg->endpoint_name, l, d, ok, now);
}

void
engine_depths_at(struct engine *e, const char *endpoint, const struct queue_list *l,
                 const struct queue_depth *d, bool ok, int64_t now)
{
    if (!e || e->rules.n == 0)
        return;
    if (!ok) { /* this Redis unreachable: no gauge of its queues has a value */
        for (int i = 0; i < e->nq; i++) {
            if (strcmp(e->q[i].endpoint, endpoint))
                continue;
            e->q[i].gok = false;
            for (int k = 0; k < IND_NGAUGES; k++)
                e->q[i].g[k] = NAN;
        }
        return;
    }
    for (int i = 0; i < l->n; i++) {
        struct eq *q = queue_get(e, endpoint, l->names[i]);
        if (!d[i].ok) {
            q->gok = false;
            continue;
        }
        double *g = q->g;
        g[IND_WAITING] = (double)d[i].waiting;
        g[IND_ACTIVE] = (double)d[i].active;
        g[IND_DELAYED] = (double)d[i].delayed;
        g[IND_PRIORITIZED] = (double)d[i].prioritized;
        g[IND_FAILED] = (double)d[i].failed;
        g[IND_COMPLETED] = (double)d[i].completed;
        g[IND_PAUSED] = d[i].paused ? (double)d[i].waiting : 0.0;
        g[IND_WAITING_CHILDREN] = (double)d[i].waiting_children;
        /* a dead-letter queue's wrappers wait in it; elsewhere the dead are the failed set */
        g[IND_DLQ_SIZE] = q->dlq ? (double)d[i].waiting : (double)d[i].failed;
        g[IND_OLDEST_WAITING_AGE] =
            d[i].oldest_waiting_ms >= 0 ? (double)d[i].oldest_waiting_ms / 1000.0 : 0.0;
        g[IND_WORKERS] = d[i].workers >= 0 ? (double)d[i].workers : NAN;
        g[IND_AGENT_LAG] = d[i].agent_lag_ms >= 0 ? (double)d[i].agent_lag_ms / 1000.0 : NAN;
        if (d[i].deferred >= 0) /* else keep the last value seen (not looked at this poll) */
            g[IND_DEAD_NOT_FAILED] = (double)(d[i].deferred + d[i].orphaned);
        q->gok = true;
        sample(e, q, now / 60000, now, g);
    }
}

/* ---- the source of values for one queue ---- */

static double
src_gauge(void *ud, enum ind i)
{
    struct eq *q = ud;
    return q->gok ? q->g[i] : NAN;
}

static struct engine *cur_engine; /* the engine evaluating (single-threaded) */

static int64_t
window_sum(struct engine *e, struct eq *q, int what, int64_t window_ms)
{
    int64_t last = e->now / 60000, first = (e->now - window_ms) / 60000, sum = 0;
    if (last - first >= e->nb)
        first = last - e->nb + 1;
    for (int64_t m = first; m <= last; m++) {
        int k = (int)(m % e->nb);
        if (q->bm[k] == m)
            sum += q->bc[k][what];
    }
    for (int i = 0; i < q->nsc; i++) /* what the open window adds */
        if (q->sc[i].what == what && q->sc[i].minute >= first && q->sc[i].minute <= last)
            sum += q->sc[i].delta;
    return sum;
}

static double
src_window(void *ud, enum ind i, int64_t w)
{
    struct eq *q = ud;
    struct engine *e = cur_engine;
    switch (i) {
    case IND_FAILURES:
        return (double)window_sum(e, q, IC_FAILED, w);
    case IND_RETRIES:
        return (double)window_sum(e, q, IC_RETRIES, w);
    case IND_COMPLETIONS:
        return (double)window_sum(e, q, IC_COMPLETED, w);
    case IND_STALLED:
        return (double)window_sum(e, q, IC_STALLED, w);
    case IND_ADDED:
        return (double)window_sum(e, q, IC_ADDED, w);
    case IND_EVENTS_LOST:
        return (double)window_sum(e, q, IC_GAPS, w);
    case IND_FAILURE_RATIO: {
        double f = (double)window_sum(e, q, IC_FAILED, w);
        double c = (double)window_sum(e, q, IC_COMPLETED, w);
        return f + c > 0 ? f / (f + c) : NAN;
    }
    case IND_NEW_SIGNATURES:
        return (double)new_signatures(q, e->now, w);
    case IND_RETRIES_DUE:
        return (double)retries_due(q, e->now, w);
    default:
        return NAN; /* runtime_p95: not measured yet */
    }
}

/* ---- baselines: the same window on previous days, from the store ---- */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* counter i over minutes [first, last] of one earlier day; false when the
 * store has no history of the queue then (no counts and no depth sample:
 * the agent was not watching it) */
static bool
day_value(struct engine *e, const struct eq *q, enum ind i, int64_t first, int64_t last,
          double *v)
{
    sqlite3_stmt *s = store_stmt(e->st, "stmt/counts_day");
    store_bind_str(s, ":endpoint", q->endpoint);
    store_bind_str(s, ":queue", q->name);
    store_bind_int(s, ":first", first);
    store_bind_int(s, ":last", last);
    bool ok = false;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0) {
        double added = sqlite3_column_double(s, 1), completed = sqlite3_column_double(s, 2),
               failed = sqlite3_column_double(s, 3), retries = sqlite3_column_double(s, 4),
               stalled = sqlite3_column_double(s, 5);
        ok = true;
        switch (i) {
        case IND_FAILURES: *v = failed; break;
        case IND_RETRIES: *v = retries; break;
        case IND_COMPLETIONS: *v = completed; break;
        case IND_STALLED: *v = stalled; break;
        case IND_ADDED: *v = added; break;
        case IND_FAILURE_RATIO:
            ok = failed + completed > 0;
            *v = ok ? failed / (failed + completed) : NAN;
            break;
        default: ok = false; break;
        }
    }
    sqlite3_reset(s);
    return ok;
}

static double
src_baseline(void *ud, enum ind i, int64_t w, int days)
{
    struct eq *q = ud;
    struct engine *e = cur_engine;
    int64_t minute = e->now / 60000;
    for (int k = 0; k < q->nblc; k++) {
        struct bl_cache *c = &q->blc[k];
        if (c->ind == (int)i && c->w == w && c->days == days && c->minute == minute)
            return c->v;
    }
    double vals[32];
    int n = 0;
    for (int d = 1; d <= days && d <= 32; d++) {
        int64_t t = e->now - (int64_t)d * 86400000;
        double v;
        if (day_value(e, q, i, (t - w) / 60000, t / 60000, &v))
            vals[n++] = v;
    }
    double med = NAN;
    if (n > 0 && 2 * n >= days) { /* at least half of the days have history */
        qsort(vals, (size_t)n, sizeof vals[0], cmp_double);
        med = n % 2 ? vals[n / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2.0;
    }
    int k;
    for (k = 0; k < q->nblc; k++)
        if (q->blc[k].ind == (int)i && q->blc[k].w == w && q->blc[k].days == days)
            break;
    if (k == q->nblc) {
        q->blc = xrealloc(q->blc, sizeof *q->blc * (size_t)(q->nblc + 1));
        q->nblc++;
    }
    q->blc[k] = (struct bl_cache){(int)i, days, w, minute, med};
    return med;
}

static int
src_samples(void *ud, enum ind i, int64_t w, const int64_t **t, const double **v)
{
    struct eq *q = ud;
    struct engine *e = cur_engine;
    int64_t last = e->now / 60000, first = (e->now - w) / 60000;
    if (last - first >= e->nb)
        first = last - e->nb + 1;
    int n = 0;
    for (int64_t m = first; m <= last; m++) {
        int k = (int)(m % e->nb);
        if (q->sm[k] != m || isnan(q->sv[k][i]))
            continue;
        e->tt[n] = q->st[k];
        e->tv[n++] = q->sv[k][i];
    }
    *t = e->tt;
    *v = e->tv;
    return n;
}

/* ---- silences ---- */

static void
silences_release(struct engine *e)
{
    for (int i = 0; i < e->nsil; i++)
        free(e->sil[i].matchers);
    free(e->sil);
    e->sil = NULL;
    e->nsil = 0;
}

static void
silences_load(struct engine *e, int64_t now)
{
    silences_release(e);
    sqlite3_stmt *s = store_stmt(e->st, "stmt/silences_active");
    store_bind_int(s, ":now", now);
    while (sqlite3_step(s) == SQLITE_ROW) {
        e->sil = xrealloc(e->sil, sizeof *e->sil * (size_t)(e->nsil + 1));
        struct silence *x = &e->sil[e->nsil++];
        x->id = sqlite3_column_int64(s, 0);
        x->matchers = xstrdup((const char *)sqlite3_column_text(s, 1));
    }
    sqlite3_reset(s);
}

static int64_t
silenced_by(const struct engine *e, const struct rule *r, const struct ident *id)
{
    for (int i = 0; i < e->nsil; i++)
        if (labels_match(e->sil[i].matchers, r->name, r->severity, id->lab))
            return e->sil[i].id;
    return 0;
}

/* ---- evaluation ---- */

/* The slot is about to change: keep its committed state for a rollback.
 * si: the signature's slot, -1 the queue's. */
static void
touch(struct engine *e, struct eq *q, int ri, int si)
{
    struct slot *s = si < 0 ? &q->slots[ri] : &q->sg[si].slots[ri];
    if (s->touched)
        return;
    if (si < 0)
        q->saved[ri] = *s;
    else
        q->sg[si].saved[ri] = *s;
    s->touched = true;
    if (e->ntouched == e->captouched) {
        e->captouched = e->captouched ? e->captouched * 2 : 16;
        e->touched = xrealloc(e->touched, sizeof *e->touched * (size_t)e->captouched);
    }
    e->touched[e->ntouched].qi = (int)(q - e->q);
    e->touched[e->ntouched].ri = ri;
    e->touched[e->ntouched].si = si;
    e->ntouched++;
}

/* Run a write of this evaluation in the window; a failure marks the
 * evaluation failed (the loop then drops the window). */
static void
exec(struct engine *e, sqlite3_stmt *st, const char *what)
{
    if (!e->failed && store_exec(e->st, st, what) != 0)
        e->failed = true;
}

static void
save_state(struct engine *e, const struct rule *r, const struct eq *q, const struct ident *id,
           struct slot *s, int64_t now)
{
    s->value_saved = now;
    s->value_stored = s->a.value;
    sqlite3_stmt *st = store_stmt(e->st, "stmt/alert_state_upsert");
    store_bind_str(st, ":rule", r->name);
    store_bind_str(st, ":labels", id->lab_json);
    store_bind_str(st, ":endpoint", q->endpoint);
    store_bind_str(st, ":queue", q->name);
    store_bind_str(st, ":state", alert_state_name(s->a.state));
    store_bind_int(st, ":since", s->a.since);
    store_bind_int(st, ":last_true", s->a.last_true);
    store_bind_int(st, ":last_sent", s->notified ? s->last_sent : 0);
    store_bind_real(st, ":value", s->a.value);
    store_bind_real(st, ":threshold", s->a.threshold);
    exec(e, st, "alert state");
}

/* The context of a failure or dead-letter alert, read from the store
 * (inside the open window, so it sees the rows this window adds). Only at
 * a send, never per event. Strings are owned here. */
struct ctx_hold {
    struct notice_context c;
    struct buf text[NOTICE_MAX_SIGS + 2 * NOTICE_MAX_JOBS + 1];
    int nt;
};

static const char *
ctx_keep(struct ctx_hold *h, const unsigned char *s, bool redact)
{
    struct buf *b = &h->text[h->nt++];
    buf_init(b, 0);
    if (redact)
        sink_redact((const char *)s, SINK_REASON_MAX, b);
    else
        sink_text(b, s ? (const char *)s : "", 128, false);
    return b->data;
}

static void
shell_quote(struct buf *b, const char *s)
{
    buf_addc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            buf_adds(b, "'\\''");
        else
            buf_addc(b, *s);
    }
    buf_addc(b, '\'');
}

/* "bullwatch dlq list [--redis NAME] QUEUE": the command a notice names
 * (the endpoint only when the agent watches several) */
static void
dlq_list_cmd(const struct engine *e, const struct eq *q, struct buf *cmd)
{
    buf_adds(cmd, "bullwatch dlq list ");
    if (e->cfg->nendpoints > 1) {
        buf_adds(cmd, "--redis ");
        shell_quote(cmd, q->endpoint);
        buf_addc(cmd, ' ');
    }
    shell_quote(cmd, q->name);
}

static void
context_load(struct engine *e, const struct rule *r, const struct eq *q, int64_t now,
             struct ctx_hold *h)
{
    memset(h, 0, sizeof *h);
    int64_t w = expr_max_window(r->expr);
    int64_t since = now - (w > 0 ? w : CONTEXT_DEFAULT_MS);
    sqlite3_stmt *st = store_stmt(e->st, "stmt/outbox_context_signatures");
    store_bind_str(st, ":endpoint", q->endpoint);
    store_bind_str(st, ":queue", q->name);
    store_bind_int(st, ":since", since);
    while (sqlite3_step(st) == SQLITE_ROW && h->c.nsigs < NOTICE_MAX_SIGS) {
        h->c.sigs[h->c.nsigs].text = ctx_keep(h, sqlite3_column_text(st, 0), true);
        h->c.sigs[h->c.nsigs++].count = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    st = store_stmt(e->st, "stmt/outbox_context_jobs");
    store_bind_str(st, ":endpoint", q->endpoint);
    store_bind_str(st, ":queue", q->name);
    store_bind_int(st, ":since", since);
    while (sqlite3_step(st) == SQLITE_ROW && h->c.njobs < NOTICE_MAX_JOBS) {
        h->c.jobs[h->c.njobs].id = ctx_keep(h, sqlite3_column_text(st, 0), false);
        h->c.jobs[h->c.njobs++].reason = ctx_keep(h, sqlite3_column_text(st, 1), true);
        h->c.failures = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    struct buf *cmd = &h->text[h->nt++];
    char t[32];
    time_t secs = (time_t)(since / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    buf_init(cmd, 0);
    dlq_list_cmd(e, q, cmd);
    buf_addf(cmd, " --since %s", t);
    h->c.dlq_command = cmd->data;
}

/* A new signature's context: its normalised text, the first death since
 * it was first seen (reason, job id), how many died of it since, and the
 * command that lists them. Read from the rows (the open window's too). */
static void
sig_context_load(struct engine *e, const struct eq *q, const struct esig *g,
                 struct ctx_hold *h)
{
    memset(h, 0, sizeof *h);
    sqlite3_stmt *st = store_stmt(e->st, "stmt/sig_context");
    store_bind_str(st, ":endpoint", q->endpoint);
    store_bind_str(st, ":queue", q->name);
    store_bind_str(st, ":signature", g->sig);
    store_bind_int(st, ":since", g->first_seen);
    if (sqlite3_step(st) == SQLITE_ROW) {
        h->c.sigs[0].text = ctx_keep(h, sqlite3_column_text(st, 0), true);
        h->c.sigs[0].count = sqlite3_column_int64(st, 1);
        h->c.nsigs = 1;
        h->c.failures = sqlite3_column_int64(st, 1);
        if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
            h->c.jobs[0].id = ctx_keep(h, sqlite3_column_text(st, 2), false);
            h->c.jobs[0].reason = ctx_keep(h, sqlite3_column_text(st, 3), true);
            h->c.njobs = 1;
        }
    }
    sqlite3_reset(st);
    struct buf *cmd = &h->text[h->nt++];
    buf_init(cmd, 0);
    dlq_list_cmd(e, q, cmd);
    buf_addf(cmd, " --signature %s", g->sig);
    h->c.dlq_command = cmd->data;
    h->c.new_signature = g->sig;
}

/* The summary of the new signatures over max_new_signatures: their texts
 * (the first NOTICE_MAX_SIGS) and the command listing the queue's dead
 * since the first of them. */
static void
summary_context_load(struct engine *e, int ri, const struct eq *q, struct ctx_hold *h)
{
    memset(h, 0, sizeof *h);
    int64_t since = INT64_MAX;
    for (int i = 0; i < q->nsg; i++) {
        const struct esig *g = &q->sg[i];
        if (!g->slots[ri].summarised || g->slots[ri].a.state != ALERT_FIRING)
            continue;
        h->c.failures++;
        if (g->first_seen < since)
            since = g->first_seen;
        if (h->c.nsigs == NOTICE_MAX_SIGS)
            continue;
        sqlite3_stmt *st = store_stmt(e->st, "stmt/sig_context");
        store_bind_str(st, ":endpoint", q->endpoint);
        store_bind_str(st, ":queue", q->name);
        store_bind_str(st, ":signature", g->sig);
        store_bind_int(st, ":since", g->first_seen);
        if (sqlite3_step(st) == SQLITE_ROW) {
            h->c.sigs[h->c.nsigs].text = ctx_keep(h, sqlite3_column_text(st, 0), true);
            h->c.sigs[h->c.nsigs++].count = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
    }
    struct buf *cmd = &h->text[h->nt++];
    char t[32];
    time_t secs = (time_t)((since == INT64_MAX ? e->now : since) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    buf_init(cmd, 0);
    dlq_list_cmd(e, q, cmd);
    buf_addf(cmd, " --since %s", t);
    h->c.dlq_command = cmd->data;
}

static void
context_release(struct ctx_hold *h)
{
    for (int i = 0; i < h->nt; i++)
        buf_release(&h->text[i]);
}

static int
notify(struct engine *e, int ri, const struct eq *q, const struct ident *id, const struct slot *s,
       enum notice_kind kind, bool may_hold, int64_t now, struct buf *summary,
       const char *fingerprint)
{
    const struct rule *r = &e->rules.v[ri];
    struct notice n = {0};
    struct ctx_hold h;
    n.rule = r->name;
    n.queue = q->name;
    n.labels = id->lab_json;
    n.endpoint = q->endpoint;
    n.severity = r->severity;
    n.summary = summary->data;
    n.runbook = r->runbook;
    n.expr = r->expr_text;
    n.kind = kind;
    n.resolved = kind == NOTICE_RESOLVED;
    n.value = s->a.value;
    n.threshold = s->a.threshold;
    n.starts_at = s->starts_at;
    n.ends_at = n.resolved ? now : 0;
    n.at = now;
    /* the message's identity: the transition it is about, and for a repeat
     * its number (every repeat_interval since the start) */
    n.transition_at = kind == NOTICE_FIRING ? s->starts_at : now;
    if (kind == NOTICE_FIRING && s->notified) {
        int64_t rep = r->repeat_interval_ms > 0 ? r->repeat_interval_ms : 1;
        int64_t k = (now - s->starts_at) / rep;
        n.seq = k < 1 ? 1 : k > 1000000 ? 1000000 : (int)k;
    }
    /* HA: each agent times a transition by its own clock and its own reads
     * (a timer rule by its own poll, which every agent runs on the same
     * wall-clock grid of poll_every): the ids round the time down to a
     * multiple of poll_every of at least a minute, so both agents' copies
     * of a transition share them unless their times fall on either side of
     * a boundary (clocks or reads more than a poll apart). Two firings of
     * one alert within one such span share an id too. */
    if (e->cfg->ha) {
        /* a multiple of poll_every: the agents poll on that grid (cmd_agent.c) */
        int64_t p = e->cfg->poll_every_ms > 0 ? e->cfg->poll_every_ms : 1;
        n.id_quantum_ms = (HA_ID_QUANTUM_MS + p - 1) / p * p;
        if (n.id_quantum_ms < 2 * p)
            n.id_quantum_ms = 2 * p;
    }
    memcpy(n.fingerprint, fingerprint, sizeof n.fingerprint);
    if (!e->outbox || e->failed)
        return 0; /* no sinks: the transition is recorded, nothing is sent */
    bool ctx = (e->with_context[ri] || r->per_signature) && !n.resolved;
    if (ctx && r->per_signature) {
        if (id->sig)
            sig_context_load(e, q, id->sig, &h);
        else
            summary_context_load(e, ri, q, &h);
        n.ctx = &h.c;
    } else if (ctx) {
        context_load(e, r, q, now, &h);
        n.ctx = &h.c;
        /* (a counter rule moves with the rows it counts: never held) */
        if (may_hold && kind == NOTICE_FIRING && !r->event_driven && !s->notified && h.c.njobs == 0 &&
            now - s->starts_at < CONTEXT_WAIT_MS) {
            context_release(&h);
            return NOTIFY_HELD; /* the next evaluation sends it, same id */
        }
    }
    int rc = outbox_add(e->outbox, r->sinks, &n, now);
    if (ctx)
        context_release(&h);
    if (rc != 0) {
        e->failed = true;
        return 0;
    }
    return 1;
}

static void
record_transition(struct engine *e, const struct rule *r, const struct eq *q,
                  const struct ident *id, const struct slot *s, enum alert_state from,
                  enum alert_change c, const char *fp, const struct buf *summary, int64_t sil,
                  int64_t now)
{
    sqlite3_stmt *st = store_stmt(e->st, "stmt/transition_insert");
    store_bind_str(st, ":rule", r->name);
    store_bind_str(st, ":labels", id->lab_json);
    store_bind_str(st, ":endpoint", q->endpoint);
    store_bind_str(st, ":queue", q->name);
    store_bind_str(st, ":fingerprint", fp);
    store_bind_str(st, ":from_state", alert_state_name(from));
    store_bind_str(st, ":to_state", alert_change_name(c));
    store_bind_real(st, ":value", s->a.value);
    store_bind_real(st, ":threshold", s->a.threshold);
    store_bind_str(st, ":severity", r->severity);
    store_bind_str(st, ":summary", summary->data);
    store_bind_int(st, ":now", now);
    if (sil)
        store_bind_int(st, ":silenced_by", sil);
    exec(e, st, "alert transition");
    if (c == ALERT_TO_FIRING || c == ALERT_TO_RESOLVED)
        log_info("alert %s on '%s'%s%s: %s (value %g, threshold %g)%s", r->name,
                 log_esc(q->name, strlen(q->name)), id->sig ? " signature " : "",
                 id->sig ? id->sig->sig : "", alert_change_name(c), s->a.value, s->a.threshold,
                 sil ? ", silenced" : s->summarised ? ", in the summary" : "");
}

/* What a step of the state machine sends: *firing or *resolved. */
static void
due_sends(const struct rule *r, struct slot *s, enum alert_change c, int64_t sil, int64_t now,
          bool *firing, bool *resolved)
{
    *firing = *resolved = false;
    if (c == ALERT_TO_FIRING) {
        s->starts_at = now;
        s->notified = false;
        *firing = !sil;
    } else if (c == ALERT_TO_RESOLVED) {
        *resolved = r->send_resolved && s->notified && !sil;
    } else if (s->a.state == ALERT_FIRING && !sil &&
               (!s->notified || now - s->last_sent >= r->repeat_interval_ms)) {
        *firing = true; /* held back by a silence that expired, or a repeat */
    }
}

static bool
same_value(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* Have max_new_signatures other new signatures of rule ri on q been
 * notified within the rule's window (a silenced one was not)? Then this
 * one goes into the summary. */
static bool
over_limit(const struct engine *e, int ri, const struct eq *q, int si, int64_t now)
{
    const struct rule *r = &e->rules.v[ri];
    int n = 0;
    for (int i = 0; i < q->nsg; i++) {
        const struct slot *o = &q->sg[i].slots[ri];
        if (i != si && o->a.state == ALERT_FIRING && o->notified && !o->summarised &&
            o->starts_at > now - r->signature_window_ms)
            n++;
    }
    return n >= r->max_new_signatures;
}

/*
 * One alert (rule ri on q, the queue's slot or signature si's) advanced
 * with the condition cond: the transition, its notifications and its state
 * written into the window. `summary_of` >= 0: the alert is the summary of
 * that many new signatures over the limit (-1: it is not).
 */
static int
step_slot(struct engine *e, int ri, struct eq *q, int si, const struct ident *id, bool cond,
          double value, double threshold, int64_t now, bool timer, int summary_of)
{
    const struct rule *r = &e->rules.v[ri];
    struct slot *s = si < 0 ? &q->slots[ri] : &q->sg[si].slots[ri];
    struct alert next = s->a;
    enum alert_state from = s->a.state;
    enum alert_change c = alert_step(&next, cond, now, r->for_ms, r->keep_firing_for_ms);
    if (cond || c != ALERT_SAME) {
        next.value = value;
        next.threshold = threshold;
    }
    bool firing = next.state == ALERT_FIRING;
    /* on the timer only (the event path stays as cheap as it was): a push
     * to Alertmanager is due again (not a notification: silences and
     * repeat_interval do not hold it), or the current value of a firing
     * alert is due in alert_state */
    bool push_due = timer && firing && c == ALERT_SAME && e->repush_ms[ri] > 0 && s->notified &&
                    now - s->last_push >= e->repush_ms[ri];
    bool value_due = timer && firing && now - s->value_saved >= VALUE_SAVE_MS &&
                     !same_value(next.value, s->value_stored);
    /* nothing changed and nothing due (a firing already sent, its repeat
     * not due): no silence lookup and no write, the common case */
    if (c == ALERT_SAME && !push_due && !value_due &&
        (!firing || (s->notified && now - s->last_sent < r->repeat_interval_ms) ||
         (s->summarised && firing))) {
        if (next.last_true != s->a.last_true || next.value != s->a.value) {
            touch(e, q, ri, si); /* kept in memory, written with the next change */
            s->a = next;
        }
        return 0;
    }
    int64_t sil = silenced_by(e, r, id);
    touch(e, q, ri, si);
    if (c == ALERT_TO_FIRING && id->sig)
        s->summarised = over_limit(e, ri, q, si, now);
    s->a = next;
    /* a new signature in the summary is held back as a silenced one is */
    int64_t held = sil ? sil : s->summarised ? 1 : 0;
    bool send_firing, send_resolved;
    due_sends(r, s, c, held, now, &send_firing, &send_resolved);
    if (c == ALERT_SAME && !send_firing && !push_due && !value_due)
        return 0;
    if (window_open(e->win) != 0) {
        e->failed = true;
        return 0;
    }
    struct buf summary;
    buf_init(&summary, 0);
    if (summary_of >= 0) {
        char w[32];
        format_duration_exact(r->signature_window_ms, w, sizeof w);
        buf_addf(&summary, "%s on %s: %d more new error signatures (at most %d notified per %s)",
                 r->name, q->name, summary_of, r->max_new_signatures, w);
    } else {
        rule_summary(r, q->name, s->a.value, s->a.threshold, &summary);
    }
    char fp[17];
    labels_fingerprint(r->name, id->lab, fp);
    if (c != ALERT_SAME)
        record_transition(e, r, q, id, s, from, c, fp, &summary, sil, now);
    int queued = 0;
    /* resolved before its firing went out (held for its context, or by a
     * silence that ended, maybe across a restart): the firing first, then
     * the resolved, so every firing transition reaches the receivers */
    if (c == ALERT_TO_RESOLVED && !s->notified && !held) {
        queued += notify(e, ri, q, id, s, NOTICE_FIRING, false, now, &summary, fp);
        s->notified = true;
        s->last_sent = now;
        send_resolved = r->send_resolved;
    }
    if (send_firing) {
        int k = notify(e, ri, q, id, s, NOTICE_FIRING, true, now, &summary, fp);
        if (k != NOTIFY_HELD) {
            queued += k;
            s->notified = true;
            s->last_sent = now;
            s->last_push = now;
        }
    } else if (send_resolved) {
        queued += notify(e, ri, q, id, s, NOTICE_RESOLVED, false, now, &summary, fp);
    } else if (push_due) {
        (void)notify(e, ri, q, id, s, NOTICE_REPUSH, false, now, &summary, fp);
        s->last_push = now;
    }
    if (c == ALERT_TO_RESOLVED)
        s->notified = false;
    if (s->a.state == ALERT_INACTIVE)
        s->summarised = false;
    save_state(e, r, q, id, s, now);
    buf_release(&summary);
    /* a rule without `for` changed state: commit (and send) at once */
    if (queued || (r->for_ms == 0 && c != ALERT_SAME))
        window_urgent(e->win);
    return queued;
}

static int
eval_one(struct engine *e, int ri, struct eq *q, int64_t now, bool timer)
{
    const struct rule *r = &e->rules.v[ri];
    struct expr_src src = {q, now, src_gauge, src_window, src_samples, src_baseline};
    double value, threshold;
    double v = expr_eval(r->expr, &src, &value, &threshold);
    struct ident qid = {&q->lab, q->lab_json, NULL};
    if (!r->per_signature)
        return step_slot(e, ri, q, -1, &qid, expr_true(v), value, threshold, now, timer, -1);
    /* one alert per signature first seen within the window (and those still
     * open), then the queue's: the summary of those over the limit */
    int queued = 0, over = 0;
    for (int si = 0; si < q->nsg && !e->failed; si++) {
        struct esig *g = &q->sg[si];
        bool in = g->first_seen > now - r->signature_window_ms;
        if (!in && g->slots[ri].a.state == ALERT_INACTIVE)
            continue;
        struct ident id = {&g->lab, g->lab_json, g};
        queued += step_slot(e, ri, q, si, &id, in && expr_true(v), value, threshold, now, timer, -1);
        over += g->slots[ri].summarised && g->slots[ri].a.state == ALERT_FIRING;
    }
    if (!e->failed && (over > 0 || q->slots[ri].a.state != ALERT_INACTIVE))
        queued += step_slot(e, ri, q, -1, &qid, over > 0, over, r->max_new_signatures, now, timer,
                            over);
    return queued;
}

int
engine_eval(struct engine *e, int64_t now, bool timer)
{
    if (!e || e->rules.n == 0 || (!timer && !e->any_event_rule))
        return 0;
    cur_engine = e;
    e->now = now;
    e->failed = false;
    if (timer) {
        silences_load(e, now);
        if (e->any_sig_rule)
            esig_prune(e, now);
    }
    int queued = 0;
    for (int i = 0; i < e->nq && !e->failed; i++) {
        struct eq *q = &e->q[i];
        if (!timer && !q->dirty)
            continue;
        for (int r = 0; r < e->rules.n && !e->failed; r++)
            if ((timer || e->rules.v[r].event_driven) && rule_matches_queue(&e->rules.v[r], q->name))
                queued += eval_one(e, r, q, now, timer);
        q->dirty = false;
    }
    return e->failed ? -1 : queued;
}

/* ---- the window party ---- */

static void
party_commit(void *ud)
{
    struct engine *e = ud;
    for (int i = 0; i < e->nstaged_q; i++) {
        struct eq *q = &e->q[e->staged_q[i]];
        counts_apply(e, q);
        q->nsc = 0;
    }
    e->nstaged_q = 0;
    for (int i = 0; i < e->ntouched; i++) {
        struct eq *q = &e->q[e->touched[i].qi];
        int si = e->touched[i].si;
        (si < 0 ? q->slots : q->sg[si].slots)[e->touched[i].ri].touched = false;
    }
    e->ntouched = 0;
    for (int i = 0; i < e->nstaged_sig; i++)
        e->q[e->staged_sig[i].qi].sg[e->staged_sig[i].si].staged = false;
    e->nstaged_sig = 0;
    for (int i = 0; i < e->nstaged_rq; i++)
        retries_apply(&e->q[e->staged_rq[i]]);
    e->nstaged_rq = 0;
}

static void
party_abort(void *ud)
{
    struct engine *e = ud;
    for (int i = 0; i < e->nstaged_q; i++) {
        struct eq *q = &e->q[e->staged_q[i]];
        q->nsc = 0;
        q->dirty = true; /* evaluate again when the entries are read again */
    }
    e->nstaged_q = 0;
    for (int i = 0; i < e->ntouched; i++) {
        struct eq *q = &e->q[e->touched[i].qi];
        int ri = e->touched[i].ri, si = e->touched[i].si;
        struct slot *sl = si < 0 ? q->slots : q->sg[si].slots;
        struct slot *sv = si < 0 ? q->saved : q->sg[si].saved;
        sl[ri] = sv[ri];
        sl[ri].touched = false;
    }
    e->ntouched = 0;
    /* the signatures told in the window are unknown to the store again:
     * the ingest tells them again when it reads the deaths again */
    for (int i = 0; i < e->nstaged_sig; i++) {
        struct eq *q = &e->q[e->staged_sig[i].qi];
        for (int k = q->nsg - 1; k >= 0; k--)
            if (q->sg[k].staged)
                esig_remove(q, k);
        q->dirty = true;
    }
    e->nstaged_sig = 0;
    for (int i = 0; i < e->nstaged_rq; i++) {
        e->q[e->staged_rq[i]].nrds = 0;
        e->q[e->staged_rq[i]].dirty = true;
    }
    e->nstaged_rq = 0;
}

void
engine_pump(struct engine *e, int64_t now)
{
    if (e && e->sinks.n)
        outbox_pump(e->outbox, now);
}

int
engine_fds(struct engine *e, struct pollfd *p, int max)
{
    return e && e->outbox ? outbox_fds(e->outbox, p, max) : 0;
}

int64_t
engine_wait_ms(struct engine *e, int64_t now)
{
    return e && e->outbox ? outbox_wait_ms(e->outbox, now) : -1;
}

struct outbox *
engine_outbox(struct engine *e)
{
    return e ? e->outbox : NULL;
}

bool
engine_delivers(const struct engine *e)
{
    return e && e->sinks.n > 0;
}

int
engine_inflight(const struct engine *e)
{
    return e ? outbox_inflight(e->outbox) : 0;
}

int
engine_nrules(const struct engine *e)
{
    return e ? e->rules.n : 0;
}

int64_t
engine_history_ms(const struct engine *e, int64_t retention_ms)
{
    int64_t h = retention_ms;
    for (int i = 0; e && i < e->rules.n; i++)
        if (e->rules.v[i].history_ms + 3600000 > h)
            h = e->rules.v[i].history_ms + 3600000; /* an hour to spare */
    return h;
}

/* ---- start-up: windows and states from the store ---- */

static int
rule_index(const struct engine *e, const char *name)
{
    for (int i = 0; i < e->rules.n; i++)
        if (!strcmp(e->rules.v[i].name, name))
            return i;
    return -1;
}

static void
load_history(struct engine *e, const char *endpoint, int64_t now)
{
    int64_t from = now / 60000 - e->nb + 1;
    sqlite3_stmt *s = store_stmt(e->st, "stmt/counts_since");
    store_bind_str(s, ":endpoint", endpoint);
    store_bind_int(s, ":minute", from);
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct eq *q = queue_get(e, endpoint, (const char *)sqlite3_column_text(s, 0));
        int32_t *b = bucket(e, q, sqlite3_column_int64(s, 1));
        if (!b)
            continue;
        b[IC_ADDED] += sqlite3_column_int(s, 2);
        b[IC_COMPLETED] += sqlite3_column_int(s, 3);
        b[IC_FAILED] += sqlite3_column_int(s, 4);
        b[IC_RETRIES] += sqlite3_column_int(s, 5);
        b[IC_STALLED] += sqlite3_column_int(s, 6);
    }
    sqlite3_reset(s);
    s = store_stmt(e->st, "stmt/samples_since");
    store_bind_str(s, ":endpoint", endpoint);
    store_bind_int(s, ":minute", from);
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct eq *q = queue_get(e, endpoint, (const char *)sqlite3_column_text(s, 0));
        int64_t m = sqlite3_column_int64(s, 1);
        double v[IND_NGAUGES];
        for (int k = 0; k < IND_NGAUGES; k++)
            v[k] = NAN;
        static const int cols[] = {IND_WAITING, IND_ACTIVE, IND_PRIORITIZED, IND_DELAYED,
                                   IND_FAILED,  IND_WORKERS};
        for (int k = 0; k < 6; k++)
            if (sqlite3_column_type(s, 2 + k) != SQLITE_NULL)
                v[cols[k]] = sqlite3_column_double(s, 2 + k);
        if (sqlite3_column_type(s, 8) != SQLITE_NULL)
            v[IND_OLDEST_WAITING_AGE] = sqlite3_column_double(s, 8) / 1000.0;
        v[IND_DLQ_SIZE] = q->dlq ? v[IND_WAITING] : v[IND_FAILED];
        sample(e, q, m, m * 60000 + 30000, v);
    }
    sqlite3_reset(s);
    if (e->any_sig_rule) { /* what is new now, from queue_signatures */
        s = store_stmt(e->st, "stmt/qsig_since");
        store_bind_str(s, ":endpoint", endpoint);
        store_bind_int(s, ":since", now - e->sig_keep_ms);
        while (sqlite3_step(s) == SQLITE_ROW) {
            struct eq *q = queue_get(e, endpoint, (const char *)sqlite3_column_text(s, 0));
            const char *sig = (const char *)sqlite3_column_text(s, 1);
            if (esig_find(q, sig) < 0)
                esig_add(e, q, sig, sqlite3_column_int64(s, 2));
        }
        sqlite3_reset(s);
    }
    s = store_stmt(e->st, "stmt/alert_state_load");
    store_bind_str(s, ":endpoint", endpoint);
    while (sqlite3_step(s) == SQLITE_ROW) {
        int ri = rule_index(e, (const char *)sqlite3_column_text(s, 0));
        if (ri < 0)
            continue; /* a rule no longer in the config */
        struct eq *q = queue_get(e, endpoint, (const char *)sqlite3_column_text(s, 1));
        const char *lj = (const char *)sqlite3_column_text(s, 8);
        struct slot *sl = NULL;
        if (lj && !strcmp(lj, q->lab_json))
            sl = &q->slots[ri];
        else if (lj && e->rules.v[ri].per_signature && sqlite3_column_type(s, 9) == SQLITE_TEXT) {
            /* a signature's alert: one still in the window, or an open one
             * whose signature is older (it resolves at the next evaluation) */
            const char *sig = (const char *)sqlite3_column_text(s, 9);
            int si = esig_find(q, sig);
            if (si < 0 && strcmp((const char *)sqlite3_column_text(s, 2), "inactive") != 0) {
                esig_add(e, q, sig, 0);
                si = q->nsg - 1;
            }
            if (si >= 0 && !strcmp(lj, q->sg[si].lab_json))
                sl = &q->sg[si].slots[ri];
        }
        if (!sl)
            continue; /* another identity (a label set this agent does not make) */
        const char *state = (const char *)sqlite3_column_text(s, 2);
        sl->a.state = !strcmp(state, "firing") ? ALERT_FIRING
                      : !strcmp(state, "pending") ? ALERT_PENDING : ALERT_INACTIVE;
        sl->a.since = sqlite3_column_int64(s, 3);
        sl->a.last_true = sqlite3_column_int64(s, 4);
        sl->last_sent = sqlite3_column_int64(s, 5);
        sl->notified = sl->last_sent > 0;
        sl->starts_at = sl->a.since;
        sl->a.value = sqlite3_column_type(s, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 6);
        sl->a.threshold =
            sqlite3_column_type(s, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 7);
    }
    sqlite3_reset(s);
}

/* the longest window any rule reads, in minutes */
static int
longest_window(const struct rules *rs)
{
    int64_t w = 0;
    for (int i = 0; i < rs->n; i++) {
        int64_t rw = expr_max_window(rs->v[i].expr);
        if (rw > w)
            w = rw;
    }
    int m = (int)(w / 60000) + 2;
    return m < 2 ? 2 : m > MAX_MINUTES ? MAX_MINUTES : m;
}

struct engine *
engine_new(const struct config *cfg, struct store *st, struct window *win, int64_t now, char *err,
           size_t errlen)
{
    struct engine *e = xcalloc(1, sizeof *e);
    e->cfg = cfg;
    e->st = st;
    e->win = win;
    if (rules_load(cfg, &e->rules, err, errlen) != 0 || sinks_load(cfg, &e->sinks, err, errlen) != 0) {
        rules_release(&e->rules);
        free(e);
        return NULL;
    }
    e->index = strmap_new();
    e->nb = longest_window(&e->rules);
    e->tt = xmalloc(sizeof *e->tt * (size_t)e->nb);
    e->tv = xmalloc(sizeof *e->tv * (size_t)e->nb);
    for (int i = 0; i < e->rules.n; i++) {
        e->any_event_rule |= e->rules.v[i].event_driven;
        e->any_sig_rule |= e->rules.v[i].per_signature;
        e->any_retry_rule |= (expr_inds(e->rules.v[i].expr) & 1u << IND_RETRIES_DUE) != 0;
        if (e->rules.v[i].signature_window_ms > e->sig_keep_ms)
            e->sig_keep_ms = e->rules.v[i].signature_window_ms;
    }
    e->repush_ms = xcalloc((size_t)(e->rules.n ? e->rules.n : 1), sizeof *e->repush_ms);
    e->with_context = xcalloc((size_t)(e->rules.n ? e->rules.n : 1), sizeof *e->with_context);
    const uint32_t dead = 1u << IND_FAILURES | 1u << IND_FAILURE_RATIO | 1u << IND_DLQ_SIZE |
                          1u << IND_FAILED | 1u << IND_RETRIES;
    for (int i = 0; i < e->rules.n; i++) {
        const struct rule *r = &e->rules.v[i];
        e->with_context[i] = (expr_inds(r->expr) & dead) != 0;
        for (int k = 0; k < e->sinks.n; k++) {
            const struct sink *sk = &e->sinks.v[k];
            if (sink_repushes(sk) && sink_listed(r->sinks, sk->name) &&
                (!e->repush_ms[i] || sk->resend_ms < e->repush_ms[i]))
                e->repush_ms[i] = sk->resend_ms;
        }
    }
    /* libcurl (and its TLS library) only when there is somewhere to send */
    e->outbox = e->sinks.n ? outbox_new(st, win, &e->sinks) : NULL;
    e->obs = xcalloc((size_t)cfg->nendpoints, sizeof *e->obs);
    for (int i = 0; i < cfg->nendpoints; i++) {
        struct config v;
        config_endpoint(cfg, i, &v);
        e->obs[i].e = e;
        e->obs[i].endpoint = xstrdup(v.endpoint_name);
        if (e->rules.n)
            load_history(e, v.endpoint_name, now);
    }
    struct window_party p = {"alerts", NULL, party_commit, party_abort, e};
    window_join(win, &p);
    return e;
}

void
engine_free(struct engine *e)
{
    if (!e)
        return;
    window_leave(e->win, e);
    outbox_free(e->outbox);
    for (int i = 0; i < e->nq; i++) {
        struct eq *q = &e->q[i];
        free(q->name);
        free(q->endpoint);
        free(q->lab_json);
        free(q->bm);
        free(q->bc);
        free(q->sm);
        free(q->st);
        free(q->sv);
        free(q->slots);
        free(q->saved);
        free(q->sc);
        for (int k = 0; k < q->nsg; k++)
            esig_release(&q->sg[k]);
        free(q->sg);
        free(q->blc);
        free(q->rd);
        free(q->rds);
    }
    free(e->q);
    free(e->staged_sig);
    free(e->staged_rq);
    free(e->staged_q);
    free(e->touched);
    strmap_free(e->index);
    silences_release(e);
    rules_release(&e->rules);
    sinks_release(&e->sinks);
    free(e->tt);
    free(e->tv);
    free(e->repush_ms);
    free(e->with_context);
    for (int i = 0; e->obs && i < e->cfg->nendpoints; i++)
        free(e->obs[i].endpoint);
    free(e->obs);
    free(e);
}
