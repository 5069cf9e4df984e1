/*
 * ingest: reads every watched queue's event stream from cursors kept in
 * SQLite, decodes entries, records terminal failures (job hashes fetched
 * pipelined), counts retries, stalls and completions per minute, detects
 * stream trimming past a cursor (a gap) and reconciles the failed set so
 * that no dead job is missed. The pieces are listed in ingest_int.h.
 *
 * DESIGN: the ingest writes into the agent's commit window (window.h) and
 * is one of its parties: cursors, counts, lineage results and statistics
 * move only when the window commits; after a rollback the read cursors go
 * back to the committed ones and the same entries are read again (the
 * unique keys of the failures table make a re-read harmless). The agent's
 * loop drives the stream link: ingest_send() writes an XREAD, the loop
 * waits in poll() and hands each reply to ingest_on_reply().
 */
#ifndef AGENT_INGEST_H
#define AGENT_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "queues.h"
#include "rconn.h"
#include "store.h"

struct ingest;
struct window;

struct ingest_stats {
    uint64_t entries;   /* stream entries processed */
    uint64_t failures;  /* failure rows written (stream + reconciled) */
    uint64_t reconciled;
    uint64_t malformed;
    uint64_t custom;
    uint64_t gaps;
    uint64_t batches;
};

/* What failed, for the loop to decide (errors climb one tier). */
enum { INGEST_REDIS = -1, INGEST_STORE = -2 };

/* cfg, st, win and cmd are borrowed and must outlive the ingest. cmd is the
 * connection used for job hashes and gap checks (not the XREAD one). */
struct ingest *ingest_new(const struct config *cfg, struct store *st, struct window *win,
                          struct rconn *cmd);
void ingest_free(struct ingest *ing);

/* Watch exactly these queues (cursors of new ones come from the store, or
 * start at the stream's beginning). Only with the window closed. */
void ingest_set_queues(struct ingest *ing, const struct queue_list *l);

/* Is an XREAD to be sent (no reply on its way, some stream readable)? */
bool ingest_wants_read(const struct ingest *ing);
/* Append an XREAD (BLOCK block_ms) on the stream link; the loop writes it.
 * 1 sent, 0 nothing to read. */
int ingest_send(struct ingest *ing, struct rconn *sr, int64_t block_ms);
/* A reply is on its way; when it is overdue (mono ms): block + grace. */
bool ingest_inflight(const struct ingest *ing);
int64_t ingest_overdue_at(const struct ingest *ing);
/* The stream link went down: the reply on its way is lost. */
void ingest_link_lost(struct ingest *ing);
/* One XREAD reply (owned by the link: released here). Stages the batch in
 * the window and, when a stream returned a full COUNT, sends the next
 * XREAD at once. Entries staged (>= 0), or INGEST_REDIS / INGEST_STORE: the
 * caller drops the window. */
int ingest_on_reply(struct ingest *ing, struct rconn *sr, redisReply *r);
/* The last reply said nothing is new (every stream read to its end). */
bool ingest_caught_up(const struct ingest *ing);

/* Poll timer: compare each cursor (of the queues in which, NULL: all) with
 * its stream's first entry; record gaps and start due reconciliations;
 * reload replayed jobs. 0, or INGEST_REDIS / INGEST_STORE. */
int ingest_check_gaps(struct ingest *ing, const bool *which);
/* Were entries of queue i read since the last call (then cleared)? */
bool ingest_moved(struct ingest *ing, int i);
/* One page of a reconciliation in progress: 1 more to do, 0 none, or
 * INGEST_REDIS / INGEST_STORE. */
int ingest_step(struct ingest *ing);
bool ingest_has_work(const struct ingest *ing);

/* Told of every counted event as it is staged: what is an enum
 * ingest_count, minute the event's minute (epoch ms / 60000). The alert
 * engine stages it too, and applies it when the window commits. */
enum ingest_count { IC_ADDED, IC_COMPLETED, IC_FAILED, IC_RETRIES, IC_STALLED, IC_GAPS, IC__N };
typedef void (*ingest_observer)(void *ud, const char *queue, int what, int64_t minute, int delta);
void ingest_set_observer(struct ingest *ing, ingest_observer fn, void *ud);
/* Told when a window meets an error signature the store has never seen
 * on the queue (queue_signatures), staged like the counts: first_seen is
 * the death's finish time (ms). */
typedef void (*ingest_sig_observer)(void *ud, const char *queue, const char *signature,
                                    int64_t first_seen);
void ingest_set_sig_observer(struct ingest *ing, ingest_sig_observer fn, void *ud);
/* Told of each retry scheduled with a backoff (a `delayed` event of a job
 * that ran: not an add with a delay), with its due time (ms epoch, the
 * event's `delay`), staged like the counts. */
typedef void (*ingest_retry_observer)(void *ud, const char *queue, int64_t due_ms);
void ingest_set_retry_observer(struct ingest *ing, ingest_retry_observer fn, void *ud);

/* The lag on queue i (in the order of ingest_set_queues' list) at the last
 * gap check, in ms (stream_lag_ms); -1 unknown. */
int64_t ingest_lag_ms(const struct ingest *ing, int i);

/* Per queue, what the store holds (loaded when the queue is first watched,
 * then moved by each committed window): counts of stream events by enum
 * ingest_count, dead jobs recorded (from the stream and reconciled), and
 * trimmed stretches (gaps). For /metrics: counters that survive restarts
 * as far as the store keeps their rows. */
struct ingest_totals {
    uint64_t events[IC__N];
    uint64_t dead;
};
const struct ingest_totals *ingest_totals(const struct ingest *ing, int i);

/* Committed statistics. */
const struct ingest_stats *ingest_stats(const struct ingest *ing);
int ingest_nqueues(const struct ingest *ing);

#endif
