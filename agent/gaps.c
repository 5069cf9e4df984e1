/*
 * gaps: BullMQ trims each events stream (~10,000 entries), so after an
 * outage a cursor can be older than the stream's first entry. On the poll
 * timer each cursor is compared with its stream's first entry: a trimmed
 * stretch is recorded as a gap ('trim'), and a queue seen for the first
 * time gets an 'initial' one (its failed set may be older than its stream).
 * Once the stream has been read past a gap, the failed set is reconciled
 * over the gap's time range: every dead job without a row gets one. One
 * page of 500 a loop iteration (gaps_step), so a large failed set never
 * stops the loop; everything goes into the commit window, and a rolled back
 * window starts the reconciliation again (rows already there are skipped).
 */
#include <stdlib.h>
#include <string.h>

#include "ingest_int.h"
#include "log.h"
#include "util.h"
#include "xmem.h"

#define CLOCK_MARGIN_MS 5000 /* worker clocks vs Redis stream ids */
#define RECONCILE_PAGE 500
#define PENDING_MAX 16

static int
record_gap(struct ingest *ing, struct iq *q, const char *kind, const char *after,
           const char *before, int64_t from, int64_t to)
{
    if (window_open(ing->win) != 0)
        return INGEST_STORE;
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
        return INGEST_STORE;
    q->has_pending = true;
    return 0;
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

/* The first pending gap of queue qi whose window the stream has been read
 * past (cursor beyond to_ms + margin, or caught up with the stream), so
 * that rows the stream still holds are written from the stream first and
 * reconciliation only adds what was really lost: it becomes q->rec. */
static void
start_pending(struct ingest *ing, int qi, const char *last_id)
{
    struct iq *q = &ing->q[qi];
    uint64_t cms = 0, cseq = 0;
    (void)stream_id_parse(q->cursor, &cms, &cseq);
    bool caught_up = !last_id[0] || stream_id_cmp(q->cursor, last_id) >= 0;
    sqlite3_stmt *s = store_stmt(ing->st, "stmt/gap_pending");
    store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
    store_bind_str(s, ":queue", q->name);
    int n = 0;
    q->has_pending = false;
    while (n < PENDING_MAX && sqlite3_step(s) == SQLITE_ROW) {
        n++;
        q->has_pending = true;
        int64_t from = sqlite3_column_int64(s, 2), to = sqlite3_column_int64(s, 3);
        if (recon_on(q) || (!caught_up && (int64_t)cms <= to + CLOCK_MARGIN_MS))
            continue;
        if (!q->rec)
            q->rec = xcalloc(1, sizeof *q->rec);
        struct recon *r = q->rec;
        memset(r, 0, sizeof *r);
        r->active = true;
        snprintf(r->after, sizeof r->after, "%s", (const char *)sqlite3_column_text(s, 0));
        r->initial = strcmp((const char *)sqlite3_column_text(s, 1), "initial") == 0;
        r->from = r->initial ? 0 : from - CLOCK_MARGIN_MS;
        r->to = to + CLOCK_MARGIN_MS;
        ing->recon_due = true;
    }
    sqlite3_reset(s);
    log_debug("queue '%s': %d pending gap(s), cursor %s, last %s%s",
              log_esc(q->name, strlen(q->name)), n, q->cursor, last_id[0] ? last_id : "(none)",
              caught_up ? " (caught up)" : "");
}

static int stream_ends_part(struct ingest *ing, const bool *which,
                            char (*ids)[2][STREAM_ID_MAX], int from, int to);

/* The first and the newest entry of every stream asked for (which NULL:
 * all): ids[i][0], ids[i][1]. Pipelines of STREAM_ENDS_PART queues. */
#define STREAM_ENDS_PART 1024

static int
stream_ends(struct ingest *ing, const bool *which, char (*ids)[2][STREAM_ID_MAX])
{
    for (int off = 0; off < ing->nq; off += STREAM_ENDS_PART) {
        int end = ing->nq - off < STREAM_ENDS_PART ? ing->nq : off + STREAM_ENDS_PART;
        if (stream_ends_part(ing, which, ids, off, end) != 0)
            return INGEST_REDIS;
    }
    return 0;
}

static int
stream_ends_part(struct ingest *ing, const bool *which, char (*ids)[2][STREAM_ID_MAX], int from,
                 int to)
{
    for (int i = from; i < to; i++) {
        if (ing->q[i].skip || (which && !which[i]))
            continue;
        rconn_appendf(ing->cmd, "XRANGE %s - + COUNT 1", ing->q[i].stream_key);
        rconn_appendf(ing->cmd, "XREVRANGE %s + - COUNT 1", ing->q[i].stream_key);
    }
    for (int i = from; i < to; i++) {
        if (ing->q[i].skip || (which && !which[i]))
            continue;
        for (int k = 0; k < 2; k++) {
            redisReply *r = rconn_reply(ing->cmd);
            if (!r)
                return INGEST_REDIS;
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
                r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements >= 1 &&
                r->element[0]->element[0]->type == REDIS_REPLY_STRING)
                snprintf(ids[i][k], STREAM_ID_MAX, "%s", r->element[0]->element[0]->str);
            freeReplyObject(r);
        }
    }
    return 0;
}

/* The entry at the read cursor was trimmed: record the gap and go on from
 * just before the first entry still there (staged in the read cursor). */
static int
trimmed(struct ingest *ing, int qi, const char *first)
{
    struct iq *q = &ing->q[qi];
    uint64_t fms = 0, fseq = 0, cms = 0, cseq = 0;
    (void)stream_id_parse(first, &fms, &fseq);
    (void)stream_id_parse(q->rcursor, &cms, &cseq);
    int rc = record_gap(ing, q, "trim", q->rcursor, first, (int64_t)cms, (int64_t)fms);
    if (rc != 0)
        return rc;
    ing->staged.gaps++;
    counts_note(ing, qi, IC_GAPS, now_ms() / 60000, 1);
    log_warn("queue '%s': events after %s were trimmed before they were read (the stream now "
             "starts at %s); gap recorded, the failed set will be reconciled",
             log_esc(q->name, strlen(q->name)), q->rcursor, first);
    if (fseq > 0)
        snprintf(q->rcursor, sizeof q->rcursor, "%llu-%llu", (unsigned long long)fms,
                 (unsigned long long)(fseq - 1));
    else
        snprintf(q->rcursor, sizeof q->rcursor, "%llu-%llu", (unsigned long long)(fms - 1),
                 18446744073709551615ULL);
    return 0;
}

int
gaps_check(struct ingest *ing, const bool *which)
{
    int nq = ing->nq;
    char (*ids)[2][STREAM_ID_MAX] = xcalloc((size_t)(nq ? nq : 1), sizeof *ids);
    if (stream_ends(ing, which, ids) != 0) {
        free(ids);
        return INGEST_REDIS;
    }
    int rc = 0;
    for (int i = 0; i < nq && rc == 0; i++) {
        struct iq *q = &ing->q[i];
        const char *first = ids[i][0], *last = ids[i][1];
        if (q->skip || (which && !which[i]))
            continue;
        q->lag_ms = stream_lag_ms(q->cursor, last, first);
        if (q->is_new) {
            /* first sight: the failed set may hold jobs older than the stream */
            uint64_t fms = 0, fseq = 0;
            bool has_first = first[0] && stream_id_parse(first, &fms, &fseq) == 0;
            if (!q->new_staged) {
                rc = record_gap(ing, q, "initial", "0-0", has_first ? first : "", 0,
                                has_first ? (int64_t)fms : now_ms());
                q->new_staged = rc == 0;
            }
            continue; /* read from the next window on, once the row is committed */
        }
        if (first[0] && stream_id_cmp(first, q->rcursor) > 0 &&
            !(strcmp(q->rcursor, "0-0") == 0 && never_trimmed(ing, q))) {
            /* (a stream created after its queue was first seen, and not read
             * yet, starts after 0-0 without any loss) */
            rc = trimmed(ing, i, first);
        }
        if (rc == 0 && q->has_pending && !recon_on(q))
            start_pending(ing, i, last);
    }
    free(ids);
    return rc;
}

/* Write the rows of one page of the failed set that are not known yet.
 * Returns the page's size, or INGEST_REDIS / INGEST_STORE. */
static int64_t
recon_page(struct ingest *ing, int qi)
{
    struct iq *q = &ing->q[qi];
    struct recon *rec = q->rec;
    struct buf key;
    char min[32], max[32], off[32];
    buf_init(&key, 0);
    bmq_key(&key, ing->cfg->prefix, q->name, "failed");
    snprintf(min, sizeof min, "%lld", (long long)(rec->from < 0 ? 0 : rec->from));
    snprintf(max, sizeof max, "%lld", (long long)rec->to);
    snprintf(off, sizeof off, "%lld", (long long)rec->offset);
    const char *argv[] = {"ZRANGEBYSCORE", key.data, min, max, "WITHSCORES", "LIMIT", off, "500"};
    redisReply *r = rconn_cmd(ing->cmd, 8, argv, NULL);
    buf_release(&key);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r)
            freeReplyObject(r);
        return INGEST_REDIS;
    }
    size_t n = r->elements / 2;
    bool *todo = xcalloc(n ? n : 1, sizeof *todo);
    redisReply **hashes = xcalloc(n ? n : 1, sizeof *hashes);
    struct buf jk;
    buf_init(&jk, 0);
    for (size_t i = 0; i < n; i++) {
        redisReply *id = r->element[2 * i];
        int64_t fin = (int64_t)strtod(r->element[2 * i + 1]->str, NULL);
        if (!failrec_known(ing, q->name, id->str, id->len, fin)) {
            todo[i] = true;
            buf_reset(&jk);
            bmq_job_key(&jk, ing->cfg->prefix, q->name, id->str, id->len);
            rconn_appendf(ing->cmd, "HGETALL %b", jk.data, jk.len);
        }
    }
    buf_release(&jk);
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++)
        if (todo[i] && !(hashes[i] = rconn_reply(ing->cmd)))
            bad = INGEST_REDIS;
    for (size_t i = 0; i < n && !bad; i++) {
        /* a job whose hash vanished meanwhile was purged: skip */
        if (!todo[i] || hashes[i]->type != REDIS_REPLY_ARRAY || hashes[i]->elements == 0)
            continue;
        redisReply *id = r->element[2 * i];
        int64_t fin = (int64_t)strtod(r->element[2 * i + 1]->str, NULL);
        struct bstr jid = {id->str, id->len}, none = {NULL, 0};
        int w = window_open(ing->win) == 0
                    ? failrec_write(ing, qi, jid, NULL, 0, fin, none, hashes[i], true)
                    : -1;
        if (w < 0)
            bad = INGEST_STORE;
        else
            rec->added += w;
    }
    for (size_t i = 0; i < n; i++)
        if (hashes[i])
            freeReplyObject(hashes[i]);
    free(hashes);
    free(todo);
    freeReplyObject(r);
    return bad ? bad : (int64_t)n;
}

/* The page finished the gap: mark it done in the window. */
static int
recon_done(struct ingest *ing, int qi)
{
    struct iq *q = &ing->q[qi];
    struct recon *rec = q->rec;
    if (window_open(ing->win) != 0)
        return INGEST_STORE;
    sqlite3_stmt *s = store_stmt(ing->st, "stmt/gap_done");
    store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
    store_bind_str(s, ":queue", q->name);
    store_bind_str(s, ":after_id", rec->after);
    store_bind_int(s, ":n", rec->added);
    if (store_exec(ing->st, s, "gap") != 0)
        return INGEST_STORE;
    ing->staged.reconciled += (uint64_t)rec->added;
    ing->staged.failures += (uint64_t)rec->added;
    q->staged_dead += (uint64_t)rec->added;
    if (rec->initial && rec->added > 0)
        log_warn("queue '%s': %lld dead jobs are older than the oldest stream entry; recorded "
                 "from the failed set (reconciled)",
                 log_esc(q->name, strlen(q->name)), (long long)rec->added);
    else if (!rec->initial)
        log_warn("queue '%s': gap after %s reconciled: %lld dead jobs recorded from the failed set",
                 log_esc(q->name, strlen(q->name)), rec->after, (long long)rec->added);
    free(q->rec);
    q->rec = NULL;
    q->has_pending = true; /* another gap may be due: the next check looks */
    return 0;
}

/* One page of the first reconciliation in progress. 1 more to do, 0 none,
 * or INGEST_REDIS / INGEST_STORE (the caller drops the window). */
int
gaps_step(struct ingest *ing)
{
    for (int i = 0; i < ing->nq; i++) {
        struct iq *q = &ing->q[i];
        if (!recon_on(q))
            continue;
        int64_t n = recon_page(ing, i);
        if (n < 0)
            return (int)n;
        q->rec->offset += n;
        if (n < RECONCILE_PAGE && recon_done(ing, i) != 0)
            return INGEST_STORE;
        for (int k = i; k < ing->nq; k++)
            if (recon_on(&ing->q[k]))
                return 1;
        ing->recon_due = false;
        return 0;
    }
    ing->recon_due = false;
    return 0;
}

/* The window rolled back: reconciliations start again, from the store. */
void
gaps_drop(struct ingest *ing)
{
    for (int i = 0; i < ing->nq; i++) {
        struct iq *q = &ing->q[i];
        if (recon_on(q) || q->new_staged)
            q->has_pending = true;
        free(q->rec);
        q->rec = NULL;
        q->new_staged = false;
    }
    ing->recon_due = false;
}
