/*
 * ingest_int: what the pieces of the ingest share (not for other modules).
 *   ingest.c    the queue table, the batch, and the window party
 *   xread.c     the stream reader: XREAD from the read cursors, the reply
 *   failrec.c   failure rows: job hashes fetched pipelined, one row each
 *   counts.c    per-minute counts of what the stream says (and the engine's)
 *   gaps.c      trimming past a cursor, reconciliation with the failed set
 *   lineage.c   replayed jobs and how they ended (an observer of the stream)
 *   sigtab.c    per queue and signature: first/last seen (queue_signatures)
 * Every piece writes into the agent's commit window and stages what it
 * keeps in memory; ingest.c applies or drops it when the window ends.
 */
#ifndef AGENT_INGEST_INT_H
#define AGENT_INGEST_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "bmq.h"
#include "buf.h"
#include "event.h"
#include "ingest.h"
#include "strmap.h"
#include "window.h"

#define STREAM_ID_MAX 48

/* what the counting piece remembers of the previous entry of a queue, to
 * tell retries from delayed adds and stalls: its job by a 64-bit hash of
 * the id (10,000 queues keep 24 bytes each, not the ids) */
struct prev_entry {
    enum bmq_ev type;
    bool was_retry;
    int64_t minute;
    uint64_t job; /* FNV-1a of the job id; 0: none */
};

/* a reconciliation in progress: one page of the failed set at a time */
struct recon {
    bool active;
    char after[STREAM_ID_MAX];
    bool initial;
    int64_t from, to, offset, added;
};

#define FAILREC_SEEN 4096

/* A text seen lately (a name, reason, stack trace or opts): by its hash and
 * a second, randomly seeded one, so that crafted text cannot pass for
 * another; id 0: seen once, not in texts (failrec.c). */
struct text_slot {
    uint64_t hash, check;
    int64_t id, last_at;
    uint64_t gen;
};

struct iq {
    char *name;
    char *stream_key;
    char cursor[STREAM_ID_MAX];     /* committed */
    char rcursor[STREAM_ID_MAX];    /* read so far (ahead while the window is open) */
    char batch_last[STREAM_ID_MAX]; /* last id seen in the current batch */
    bool is_new;                    /* no stored cursor: initial reconciliation due */
    bool new_staged;                /* its initial gap row is in the open window */
    bool skip;                      /* events key is not a stream */
    bool has_pending;               /* gaps waiting for reconciliation */
    bool moved;                     /* entries were read since the agent last asked */
    int64_t lag_ms;                 /* see stream_lag_ms, at the last gap check; -1 unknown */
    struct prev_entry prev, prev_committed;
    struct recon *rec;              /* a reconciliation in progress, or NULL */
    struct ingest_totals tot; /* committed */
    uint64_t staged_dead;     /* failure rows written in the open window */
    int64_t qid;              /* queue_names.id once known in this window or before; 0 */
};

struct cnt_slot {
    int qi;
    int64_t minute;
    int64_t v[IC__N + 2]; /* + unknown, malformed */
};
#define C_UNKNOWN IC__N
#define C_MALFORMED (IC__N + 1)
#define C__N (IC__N + 2)

struct pending {
    int qi;
    struct bmq_event ev;
    redisReply *hash;
};

struct lineage;
struct sigtab;

struct ingest {
    const struct config *cfg;
    struct store *st;
    struct window *win;
    struct rconn *cmd;
    ingest_observer obs;
    void *obs_ud;
    struct iq *q;
    int nq;
    struct ingest_stats stats;  /* committed */
    struct ingest_stats staged; /* in the open window */
    /* counts staged in the open window */
    struct cnt_slot *cnt;
    int ncnt, capcnt;
    /* the batch */
    struct pending *pend;
    int npend, cappend;
    struct buf b1, b2, b3;
    struct arena *hash_arena;
    int64_t eid;                      /* endpoints.id once known; 0 */
    struct text_slot *texts;          /* FAILREC_SEEN recent texts (failrec.c) */
    uint64_t texts_seed;              /* of text_slot.check */
    uint64_t texts_gen;               /* moved on at a rollback */
    struct lineage *lin;
    struct sigtab *sigs;
    ingest_sig_observer sig_obs;
    void *sig_obs_ud;
    ingest_retry_observer retry_obs;
    void *retry_obs_ud;
    /* the XREAD on the stream link */
    bool inflight;       /* a reply is on its way */
    bool inflight_stale; /* ... sent from cursors since rolled back: dropped */
    int64_t sent_at, sent_block;
    bool recon_due;      /* some queue has a reconciliation in progress */
    bool last_empty;     /* the last reply had nothing new */
};

static inline bool
recon_on(const struct iq *q)
{
    return q->rec && q->rec->active;
}

/* xread.c */
int xread_send(struct ingest *ing, struct rconn *sr, int64_t block_ms, bool ahead);
int xread_queue_of(const struct ingest *ing, const redisReply *key);
void xread_find_bad_streams(struct ingest *ing);

/* counts.c */
int64_t *counts_slot(struct ingest *ing, int qi, int64_t minute);
void counts_track(struct ingest *ing, int qi, const struct bmq_event *ev);
void counts_note(struct ingest *ing, int qi, int what, int64_t minute, int delta);
int counts_flush(struct ingest *ing);
void counts_drop(struct ingest *ing);

/* failrec.c */
void failrec_add(struct ingest *ing, int qi, const struct bmq_event *ev);
int failrec_fetch(struct ingest *ing);
int failrec_write_batch(struct ingest *ing);
void failrec_clear(struct ingest *ing);
int failrec_write(struct ingest *ing, int qi, struct bstr job_id, const char *stream_id,
                  size_t stream_id_len, int64_t event_time, struct bstr reason,
                  const redisReply *hash, bool reconciled);
/* q->qid and ing->eid, put into queue_names and endpoints once. 0 / -1 */
int failrec_ids(struct ingest *ing, int qi);
bool failrec_known(struct ingest *ing, const char *queue, const char *id, size_t idlen,
                   int64_t fin);

/* gaps.c */
int gaps_check(struct ingest *ing, const bool *which);
int gaps_step(struct ingest *ing);
void gaps_drop(struct ingest *ing);

/* lineage.c */
struct lineage *lineage_new(void);
void lineage_free(struct lineage *l);
void lineage_observe(struct ingest *ing, const struct iq *q, const struct bmq_event *ev);
int lineage_load(struct ingest *ing);
int lineage_flush(struct ingest *ing);
void lineage_committed(struct lineage *l);
void lineage_dropped(struct lineage *l);

/* sigtab.c */
struct sigtab *sigtab_new(void);
void sigtab_free(struct sigtab *t);
/* One death of queue qi with signature sig, finished at `at`, staged for
 * the window (a row was written). 0 / -1 (store). */
int sigtab_note(struct ingest *ing, int qi, const char *sig, int64_t at, const char *reason,
                size_t rn, const char *job, size_t jn);
int sigtab_flush(struct ingest *ing);
void sigtab_drop(struct sigtab *t); /* committed or rolled back: nothing staged */

int ingest_find_q(const struct ingest *ing, const char *name);

#endif
