/*
 * data: fills the TUI's view from Redis (through the agent's own queues
 * and dlq code) and the audit store (read-only). Each call is bounded:
 * one pipelined poll, one page of dead jobs, one job hash, one query.
 * Failures become the view's status line, never a crash or a freeze
 * beyond the connection's timeouts.
 */
#ifndef BW_DATA_H
#define BW_DATA_H

#include "config.h"
#include "dlq.h"
#include "rconn.h"
#include "store.h"
#include "view.h"

struct tui_src {
    const struct config *cfg;
    struct rconn *rc;
    struct store *st; /* NULL when there is no audit store yet */
};

/* queues: discovery, depths, per-minute rates, alert badges, sparkline */
void data_queues(struct tui_src *s, struct view *v, int64_t now);
/* the / filter text as a selection filter: words name:X, since:T, until:T,
 * a 12-hex signature, the rest a reason substring (strings kept in store).
 * -1 on a bad time or a too long text. */
int data_filter(const char *text, struct dlq_filter *f, char *store, size_t storelen, int64_t now);
/* one page (newest first) of v->queue's dead jobs matching v->filter;
 * append: the next page after the rows already listed */
void data_dead(struct tui_src *s, struct view *v, int page_rows, bool append);
/* the fields of job v->job_id of v->queue as lines (raw: one JSON object) */
void data_job(struct tui_src *s, struct view *v);
/* alerts, audit, deliveries from the store */
void data_table(struct tui_src *s, struct view *v);
/* The dead-jobs screen's timer: how many jobs died since the list was read
 * (one ZCOUNT over the failed set above the newest score seen then), into
 * v->dnew; the rows stay as they are under the cursor. */
void data_dead_new(struct tui_src *s, struct view *v);

#endif
