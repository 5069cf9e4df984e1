/*
 * dlq: reading dead jobs, shared by the CLI and (later) the TUI. A dead job
 * is a member of <prefix>:<queue>:failed (score = finishedOn). Selection
 * pages through the set newest first, within [since, until], and applies
 * the filters to each page's job fields (fetched pipelined, never the whole
 * set at once).
 */
#ifndef AGENT_DLQ_H
#define AGENT_DLQ_H

#include <stdbool.h>
#include <stdint.h>

#include "rconn.h"
#include "signature.h"

struct dlq_filter {
    const char *name;      /* exact job name, or NULL */
    const char *reason;    /* substring of failedReason, or NULL */
    const char *signature; /* signature id (12 hex), or NULL */
    int64_t since, until;  /* finishedOn bounds in ms; 0 = open */
    int64_t limit;         /* stop after this many matches; 0 = no limit */
};

/* One dead job as selection sees it. Strings borrow from a reply and are
 * valid only during the callback. */
struct dlq_job {
    const char *id;
    size_t id_len;
    int64_t finished_on; /* the failed-set score */
    const char *name;
    const char *reason;
    size_t reason_len;
    int64_t attempts_made;    /* -1 unknown */
    int64_t attempts_allowed; /* from opts, >= 1 */
    char signature[SIGNATURE_ID_LEN + 1];
    bool hash_missing; /* in the set but the hash is gone */
};

/* Called for each matching job, newest first; return false to stop. */
typedef bool (*dlq_job_fn)(const struct dlq_job *job, void *ud);

/* Walk the failed set of queue. Returns the number of matches, or -1 when
 * Redis failed (message in err). total_out, when not NULL, receives the
 * size of the failed set at the start (ZCARD). */
int64_t dlq_select(struct rconn *rc, const char *prefix, const char *queue,
                   const struct dlq_filter *f, dlq_job_fn fn, void *ud, int64_t *total_out,
                   char *err, size_t errlen);

/* Run one action script on up to 100 failed jobs in one call.
 * "lua/replay": each job must still be in the failed set with its hash; it
 * goes where the fleet's workers look (v5: a paused queue's `paused` list;
 * priority > 0: the prioritized zset) with a `waiting` event and the
 * marker; reset clears attempts made and started.
 * "lua/purge": like Job.remove: job keys deleted, out of the failed set, a
 * `removed` event; never a locked job or a scheduler's current job.
 * status[i]: 1 done, -1 hash missing, -2 locked, -3 not in the failed set,
 * -8 a job scheduler's current job. 0, or -1 with err. */
int dlq_script_batch(struct rconn *rc, const char *script_name, const char *prefix,
                     const char *queue, bool v5, bool reset, const char *const *ids, int n,
                     int *status, char *err, size_t errlen);

/* Is the queue run by a BullMQ 5.x fleet (meta version "bullmq:5...")? */
bool dlq_fleet_is_v5(struct rconn *rc, const char *prefix, const char *queue);

#endif
