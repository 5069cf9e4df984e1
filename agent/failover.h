/*
 * failover: after a Sentinel master switch, the failure rows the agent read
 * from the old master that the new master does not hold are removed, so
 * that the store agrees with what BullMQ reports on the new master.
 *
 * DESIGN: replication is asynchronous. What the old master took after the
 * replica's promotion (until Sentinel demotes it and it resyncs from the new
 * one) is lost, and BullMQ even re-uses those job ids on the new master. For
 * each watched queue, the rows recorded within FAILOVER_LOOKBACK_MS whose
 * stream id is at or after the new master's first entry (older entries may
 * just have been trimmed) are looked up with XRANGE id id on the new master,
 * pipelined; the missing ones are deleted with their hour summary, inside
 * the window the caller opened. Counters already moved (minute counts,
 * totals) keep them: the workers did fail those jobs.
 * Blocks on the command link (with its timeout): one round trip per queue
 * and one per FAILOVER_BATCH rows.
 */
#ifndef AGENT_FAILOVER_H
#define AGENT_FAILOVER_H

#include <stdint.h>

#include "config.h"
#include "queues.h"
#include "rconn.h"
#include "store.h"

#define FAILOVER_LOOKBACK_MS (10 * 60 * 1000)
#define FAILOVER_BATCH       500

enum { FAILOVER_REDIS = -1, FAILOVER_STORE = -2 };

/* Rows removed (>= 0, each queue's count logged), or FAILOVER_REDIS /
 * FAILOVER_STORE (the caller drops its window and tries again later). The
 * window must be open. now: epoch ms. */
int failover_forget_lost(struct rconn *cmd, struct store *st, const struct config *cfg,
                         const struct queue_list *l, int64_t now) __attribute__((warn_unused_result));

#endif
