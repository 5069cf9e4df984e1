/* ingest: see ingest.h; the pieces are listed in ingest_int.h */
#include "ingest.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_int.h"
#include "log.h"
#include "util.h"
#include "xmem.h"

#define XREAD_GRACE_MS 2000 /* a reply later than BLOCK + this: the link is dead */

/* ---- the window party: memory follows the store ---- */

static int
write_cursors(struct ingest *ing)
{
    int64_t now = now_ms();
    for (int i = 0; i < ing->nq; i++) {
        struct iq *q = &ing->q[i];
        if (strcmp(q->rcursor, q->cursor) == 0)
            continue;
        sqlite3_stmt *s = store_stmt(ing->st, "stmt/cursor_upsert");
        store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
        store_bind_str(s, ":queue", q->name);
        store_bind_str(s, ":stream_id", q->rcursor);
        store_bind_int(s, ":now", now);
        if (store_exec(ing->st, s, "cursor") != 0)
            return -1;
    }
    return 0;
}

/* The running totals of every queue the window moved (queue_counters). */
static int
write_totals(struct ingest *ing)
{
    static const char *const params[IC__N] = {":added", ":completed", ":failed", ":retries",
                                              ":stalled", ":gaps"};
    if (ing->nq == 0)
        return 0;
    int64_t (*d)[IC__N + 1] = xcalloc((size_t)ing->nq, sizeof *d);
    bool *moved = xcalloc((size_t)ing->nq, sizeof *moved);
    for (int i = 0; i < ing->ncnt; i++) {
        for (int k = 0; k < IC__N; k++)
            d[ing->cnt[i].qi][k] += ing->cnt[i].v[k];
        moved[ing->cnt[i].qi] = true;
    }
    int rc = 0;
    for (int i = 0; i < ing->nq && rc == 0; i++) {
        d[i][IC__N] = (int64_t)ing->q[i].staged_dead;
        if (!moved[i] && !d[i][IC__N])
            continue;
        sqlite3_stmt *s = store_stmt(ing->st, "stmt/counters_add");
        store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
        store_bind_str(s, ":queue", ing->q[i].name);
        for (int k = 0; k < IC__N; k++)
            store_bind_int(s, params[k], d[i][k]);
        store_bind_int(s, ":dead", d[i][IC__N]);
        rc = store_exec(ing->st, s, "queue counters");
    }
    free(d);
    free(moved);
    return rc;
}

static int
party_flush(void *ud)
{
    struct ingest *ing = ud;
    if (counts_flush(ing) != 0 || sigtab_flush(ing) != 0 || write_totals(ing) != 0 ||
        lineage_flush(ing) != 0 ||
        write_cursors(ing) != 0)
        return -1;
    return 0;
}

static void
stats_add(struct ingest_stats *to, struct ingest_stats *from)
{
    to->entries += from->entries;
    to->failures += from->failures;
    to->reconciled += from->reconciled;
    to->malformed += from->malformed;
    to->custom += from->custom;
    to->gaps += from->gaps;
    to->batches += from->batches;
    memset(from, 0, sizeof *from);
}

static void
party_commit(void *ud)
{
    struct ingest *ing = ud;
    for (int i = 0; i < ing->ncnt; i++)
        for (int k = 0; k < IC__N; k++)
            ing->q[ing->cnt[i].qi].tot.events[k] += (uint64_t)ing->cnt[i].v[k];
    for (int i = 0; i < ing->nq; i++) {
        struct iq *q = &ing->q[i];
        q->tot.dead += q->staged_dead;
        q->staged_dead = 0;
        memcpy(q->cursor, q->rcursor, STREAM_ID_MAX);
        q->prev_committed = q->prev;
        if (q->new_staged) {
            q->is_new = false; /* its initial gap row is committed: read it */
            q->new_staged = false;
        }
    }
    stats_add(&ing->stats, &ing->staged);
    counts_drop(ing);
    sigtab_drop(ing->sigs);
    lineage_committed(ing->lin);
}

static void
party_abort(void *ud)
{
    struct ingest *ing = ud;
    for (int i = 0; i < ing->nq; i++) {
        struct iq *q = &ing->q[i];
        memcpy(q->rcursor, q->cursor, STREAM_ID_MAX);
        q->prev = q->prev_committed;
        q->staged_dead = 0;
        q->qid = 0; /* its queue_names row may have been rolled back */
    }
    ing->eid = 0;
    ing->texts_gen++; /* texts added in the window are gone */
    memset(&ing->staged, 0, sizeof ing->staged);
    counts_drop(ing);
    sigtab_drop(ing->sigs);
    failrec_clear(ing);
    lineage_dropped(ing->lin);
    gaps_drop(ing);
    if (ing->inflight)
        ing->inflight_stale = true; /* sent from read cursors now rolled back */
}

/* ---- life ---- */

struct ingest *
ingest_new(const struct config *cfg, struct store *st, struct window *win, struct rconn *cmd)
{
    struct ingest *ing = xcalloc(1, sizeof *ing);
    ing->cfg = cfg;
    ing->st = st;
    ing->win = win;
    ing->cmd = cmd;
    buf_init(&ing->b1, 0);
    buf_init(&ing->b2, 0);
    buf_init(&ing->b3, 0);
    ing->hash_arena = arena_new(256 * 1024);
    ing->lin = lineage_new();
    ing->sigs = sigtab_new();
    ing->texts = xcalloc(FAILREC_SEEN, sizeof *ing->texts);
    ing->texts_seed = arc4random() | (uint64_t)arc4random() << 32;
    struct window_party p = {"ingest", party_flush, party_commit, party_abort, ing};
    window_join(win, &p);
    return ing;
}

static void
iq_release(struct iq *q)
{
    free(q->name);
    free(q->stream_key);
    free(q->rec);
}

void
ingest_free(struct ingest *ing)
{
    if (!ing)
        return;
    window_leave(ing->win, ing);
    for (int i = 0; i < ing->nq; i++)
        iq_release(&ing->q[i]);
    free(ing->q);
    free(ing->cnt);
    free(ing->pend);
    arena_free(ing->hash_arena);
    lineage_free(ing->lin);
    sigtab_free(ing->sigs);
    free(ing->texts);
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

void
ingest_set_observer(struct ingest *ing, ingest_observer fn, void *ud)
{
    ing->obs = fn;
    ing->obs_ud = ud;
}

void
ingest_set_retry_observer(struct ingest *ing, ingest_retry_observer fn, void *ud)
{
    ing->retry_obs = fn;
    ing->retry_obs_ud = ud;
}

void
ingest_set_sig_observer(struct ingest *ing, ingest_sig_observer fn, void *ud)
{
    ing->sig_obs = fn;
    ing->sig_obs_ud = ud;
}

int
ingest_find_q(const struct ingest *ing, const char *name)
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
    q->has_pending = true; /* the gap check looks in the store */
    q->lag_ms = -1;
    /* the totals so far, as far as the store keeps them */
    s = store_stmt(ing->st, "stmt/queue_totals");
    store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
    store_bind_str(s, ":queue", q->name);
    if (sqlite3_step(s) == SQLITE_ROW) {
        for (int k = 0; k < IC__N; k++) /* columns in the order of enum ingest_count */
            q->tot.events[k] = (uint64_t)sqlite3_column_int64(s, k);
        q->tot.dead = (uint64_t)sqlite3_column_int64(s, IC__N);
    }
    sqlite3_reset(s);
}

void
ingest_set_queues(struct ingest *ing, const struct queue_list *l)
{
    struct iq *nq = xcalloc((size_t)(l->n ? l->n : 1), sizeof *nq);
    bool *kept = xcalloc((size_t)(ing->nq ? ing->nq : 1), sizeof *kept);
    int added = 0;
    for (int i = 0; i < l->n; i++) {
        int old = ingest_find_q(ing, l->names[i]);
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
        q->prev.type = BMQ_EV__COUNT;
        q->prev_committed = q->prev;
        if (added++ < 10) /* a fleet of thousands: a summary, not a line each */
            log_info("watching queue '%s' from %s%s", log_esc(q->name, strlen(q->name)),
                     q->cursor, q->is_new ? " (new: start of stream)" : "");
    }
    if (added > 10)
        log_info("... and %d more queues watched", added - 10);
    int gone = 0;
    for (int i = 0; i < ing->nq; i++) {
        if (kept[i])
            continue;
        if (gone++ < 10)
            log_info("queue '%s' is gone; no longer watched",
                     log_esc(ing->q[i].name, strlen(ing->q[i].name)));
        iq_release(&ing->q[i]);
    }
    if (gone > 10)
        log_info("... and %d more queues are gone", gone - 10);
    free(kept);
    free(ing->q);
    ing->q = nq;
    ing->nq = l->n;
    ing->recon_due = false;
    for (int i = 0; i < ing->nq; i++)
        ing->recon_due |= recon_on(&ing->q[i]);
}

/* ---- the stream link ---- */

bool
ingest_wants_read(const struct ingest *ing)
{
    if (ing->inflight)
        return false;
    for (int i = 0; i < ing->nq; i++)
        if (!ing->q[i].skip && !ing->q[i].is_new)
            return true;
    return false;
}

bool
ingest_inflight(const struct ingest *ing)
{
    return ing->inflight;
}

int64_t
ingest_overdue_at(const struct ingest *ing)
{
    return ing->sent_at + ing->sent_block + XREAD_GRACE_MS + ing->cfg->connect_timeout_ms;
}

void
ingest_link_lost(struct ingest *ing)
{
    ing->inflight = false;
    ing->inflight_stale = false;
}

static int
send_read(struct ingest *ing, struct rconn *sr, int64_t block_ms, bool ahead)
{
    if (xread_send(ing, sr, block_ms, ahead) == 0)
        return 0;
    (void)rconn_write_some(sr); /* on its way now: Redis works while we write */
    ing->inflight = true;
    ing->inflight_stale = false;
    ing->sent_at = mono_ms();
    ing->sent_block = block_ms > 0 ? block_ms : 0;
    return 1;
}

int
ingest_send(struct ingest *ing, struct rconn *sr, int64_t block_ms)
{
    for (int i = 0; i < ing->nq; i++)
        ing->q[i].batch_last[0] = '\0';
    return send_read(ing, sr, block_ms, false);
}

/* Decode and stage every entry of one stream's part of a reply. */
static int
stage_entries(struct ingest *ing, int qi, const redisReply *list, bool *full)
{
    struct iq *q = &ing->q[qi];
    char err[128];
    int entries = 0;
    if (list->type != REDIS_REPLY_ARRAY)
        return 0;
    if ((long long)list->elements >= ing->cfg->read_count)
        *full = true;
    if (list->elements > 0)
        q->moved = true;
    for (size_t e = 0; e < list->elements; e++) {
        struct bmq_event ev;
        int ok = event_decode(list->element[e], &ev, err, sizeof err);
        entries++;
        if (ev.id.p && ev.id.n < STREAM_ID_MAX) {
            memcpy(q->batch_last, ev.id.p, ev.id.n);
            q->batch_last[ev.id.n] = '\0';
        }
        if (ok != 0) {
            ing->staged.malformed++;
            if (ev.id.p)
                counts_slot(ing, qi, (int64_t)(ev.id_ms / 60000))[C_MALFORMED]++;
            log_warn("queue '%s' stream id %s: malformed entry skipped: %s",
                     log_esc(q->name, strlen(q->name)), ev.id.p ? log_esc(ev.id.p, ev.id.n) : "?",
                     err);
            continue;
        }
        if (ev.type == BMQ_EV_CUSTOM)
            log_debug("queue '%s' stream id %s: custom event '%s' counted",
                      log_esc(q->name, strlen(q->name)), log_esc(ev.id.p, ev.id.n),
                      log_esc(ev.name.p, ev.name.n));
        counts_track(ing, qi, &ev);
        lineage_observe(ing, q, &ev);
        if (ev.type == BMQ_EV_FAILED)
            failrec_add(ing, qi, &ev);
    }
    return entries;
}

/* The batch of reply r: staged entries, or INGEST_*. */
static int
stage_batch(struct ingest *ing, struct rconn *sr, const redisReply *r)
{
    int entries = 0;
    bool full = false; /* some stream returned a full COUNT: more is waiting */
    for (int i = 0; i < ing->nq; i++)
        ing->q[i].batch_last[0] = '\0';
    ing->npend = 0;
    for (size_t s = 0; s < r->elements; s++) {
        const redisReply *sr_ = r->element[s];
        if (sr_->type != REDIS_REPLY_ARRAY || sr_->elements != 2)
            continue;
        int qi = xread_queue_of(ing, sr_->element[0]);
        if (qi >= 0)
            entries += stage_entries(ing, qi, sr_->element[1], &full);
    }
    /* more is waiting: ask for it now, so Redis prepares the next batch
     * while this one is written */
    if (full && rconn_is_up(sr))
        (void)send_read(ing, sr, -1, true);
    if (ing->npend && failrec_fetch(ing) != 0)
        return INGEST_REDIS;
    if (window_open(ing->win) != 0 || failrec_write_batch(ing) != 0)
        return INGEST_STORE;
    failrec_clear(ing);
    for (int i = 0; i < ing->nq; i++)
        if (ing->q[i].batch_last[0])
            memcpy(ing->q[i].rcursor, ing->q[i].batch_last, STREAM_ID_MAX);
    ing->staged.entries += (uint64_t)entries;
    ing->staged.batches++;
    window_add(ing->win, entries);
    return entries;
}

int
ingest_on_reply(struct ingest *ing, struct rconn *sr, redisReply *r)
{
    bool stale = ing->inflight_stale;
    ing->inflight = false;
    ing->inflight_stale = false;
    ing->last_empty = !stale && r->type == REDIS_REPLY_NIL;
    if (stale || r->type == REDIS_REPLY_NIL) {
        rconn_reply_free(sr, r);
        return 0;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        log_warn("redis %s: XREAD failed: %s", ing->cfg->endpoint_addr, log_esc(r->str, r->len));
        rconn_reply_free(sr, r);
        xread_find_bad_streams(ing);
        return INGEST_REDIS;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        rconn_reply_free(sr, r);
        return INGEST_REDIS;
    }
    int rc = stage_batch(ing, sr, r);
    failrec_clear(ing);
    rconn_reply_free(sr, r);
    return rc;
}

/* ---- timers ---- */

int
ingest_check_gaps(struct ingest *ing, const bool *which)
{
    if (lineage_load(ing) != 0)
        return INGEST_STORE;
    return gaps_check(ing, which);
}

bool
ingest_moved(struct ingest *ing, int i)
{
    bool m = i >= 0 && i < ing->nq && ing->q[i].moved;
    if (m)
        ing->q[i].moved = false;
    return m;
}

int
ingest_step(struct ingest *ing)
{
    return gaps_step(ing);
}

bool
ingest_has_work(const struct ingest *ing)
{
    return ing->recon_due;
}

bool
ingest_caught_up(const struct ingest *ing)
{
    return ing->last_empty;
}

const struct ingest_totals *
ingest_totals(const struct ingest *ing, int i)
{
    static const struct ingest_totals none;
    return i >= 0 && i < ing->nq ? &ing->q[i].tot : &none;
}
