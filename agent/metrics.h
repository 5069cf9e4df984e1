/*
 * metrics: the agent's Prometheus text exposition (format 0.0.4) for
 * /metrics. BullMQ's own job counts with the names and labels of
 * Queue.exportPrometheusMetrics() (bullmq_job_count{queue,state}, the
 * states its getJobCounts() returns: `paused` only where a 5.x fleet keeps
 * it), then bullwatch_* series for what only the agent knows. At most
 * about 20 series a queue; per_queue = false keeps only bullmq_job_count
 * per queue (very large fleets). Label values are escaped, and invalid
 * UTF-8 is replaced, so any queue name gives a valid exposition.
 */
#ifndef AGENT_METRICS_H
#define AGENT_METRICS_H

#include <stdbool.h>

#include "buf.h"
#include "config.h"
#include "ingest.h"
#include "queues.h"
#include "store.h"
#include "window.h"

/* One endpoint's part. With several endpoints every per-queue and
 * per-rule series carries an endpoint label (with one, none: the series
 * stay as they were). */
struct metrics_ep {
    const struct config *cfg;       /* the endpoint's view (config_endpoint) */
    const struct queue_list *ql;    /* the queues, in the ingest's order */
    const struct queue_depth *depths; /* the last poll (NULL: none yet) */
    const struct ingest *ing;
    bool redis_up;
    bool ha, ha_leader;             /* [agent] ha = on; this agent holds the endpoint's lease */
    long long ha_token;             /* the lease's fencing token last seen */
};

struct metrics_src {
    const struct config *cfg;
    const struct metrics_ep *ep;
    int nep;
    struct store *st;               /* alerts, outbox and deliveries: committed rows only */
    const struct window *win;
    bool per_queue;
};

void metrics_write(const struct metrics_src *m, struct buf *out);
/* A Prometheus label value: \\, \" and \n escaped, invalid UTF-8 as U+FFFD. */
void metrics_label(struct buf *out, const char *s);

#endif
