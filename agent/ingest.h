/*
 * ingest: reads every watched queue's event stream with XREAD BLOCK from
 * cursors kept in SQLite, decodes entries, records terminal failures (job
 * hashes fetched pipelined), counts retries, stalls and completions per
 * minute, and commits rows and cursors in ONE transaction per batch. Also
 * detects stream trimming past a cursor (a gap) and reconciles the failed
 * set so that no dead job is missed.
 *
 * DESIGN: the in-memory cursor only moves after a successful commit, so a
 * failed fetch or commit simply re-reads the same entries next time; the
 * unique keys of the failures table make a re-read harmless.
 */
#ifndef AGENT_INGEST_H
#define AGENT_INGEST_H

#include <stdint.h>

#include "config.h"
#include "queues.h"
#include "rconn.h"
#include "store.h"

struct ingest;

struct ingest_stats {
    uint64_t entries;   /* stream entries processed */
    uint64_t failures;  /* failure rows written (stream + reconciled) */
    uint64_t reconciled;
    uint64_t malformed;
    uint64_t custom;
    uint64_t gaps;
    uint64_t batches;
};

/* cfg, st and cmd are borrowed and must outlive the ingest. cmd is the
 * connection used for job hashes and gap checks (not the XREAD one). */
struct ingest *ingest_new(const struct config *cfg, struct store *st, struct rconn *cmd);
void ingest_free(struct ingest *ing);

/* Watch exactly these queues (cursors of new ones come from the store, or
 * start at the stream's beginning). */
void ingest_set_queues(struct ingest *ing, const struct queue_list *l);

/* One XREAD (blocking at most block_ms) and its batch. Returns the number
 * of entries committed, 0 on timeout, -1 when Redis or SQLite failed (the
 * batch will be read again). */
int ingest_read(struct ingest *ing, struct rconn *stream_rc, int64_t block_ms);

/* Commit the open transaction (rows, counts, cursors). Call before any
 * other use of the store. 0 / -1. */
int ingest_flush(struct ingest *ing);

/* Compare each cursor with its stream's first entry; record gaps and
 * reconcile. 0, or -1 when Redis or SQLite failed. */
int ingest_check_gaps(struct ingest *ing);

/* Told of every counted event as it is read (before its commit): what is
 * an enum ingest_count, minute the event's minute (epoch ms / 60000). The
 * alert engine keeps its windows with it. */
enum ingest_count { IC_ADDED, IC_COMPLETED, IC_FAILED, IC_RETRIES, IC_STALLED, IC_GAPS, IC__N };
typedef void (*ingest_observer)(void *ud, const char *queue, int what, int64_t minute, int delta);
void ingest_set_observer(struct ingest *ing, ingest_observer fn, void *ud);

/* The lag on queue i (in the order of ingest_set_queues' list) at the last
 * gap check, in ms; -1 unknown. */
int64_t ingest_lag_ms(const struct ingest *ing, int i);

const struct ingest_stats *ingest_stats(const struct ingest *ing);
int ingest_nqueues(const struct ingest *ing);

#endif
