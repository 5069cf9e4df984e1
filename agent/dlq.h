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

/* Where a walk of the failed set stands (keyset: a score and how many
 * members of that score were passed), so a caller can read page after
 * page (the TUI). Zeroed: from the newest. */
struct dlq_pos {
    char max[32]; /* the score to resume at, inclusive ("" = the start) */
    int64_t skip; /* members of that score already passed */
    bool end;     /* the walk reached the oldest match */
};

struct dlq_filter {
    const char *name;      /* exact job name, or NULL */
    const char *reason;    /* substring of failedReason, or NULL */
    const char *signature; /* signature id (12 hex), or NULL */
    int64_t since, until;  /* finishedOn bounds in ms; 0 = open */
    int64_t limit;         /* stop after this many matches; 0 = no limit */
    bool ids_only;         /* no field filter and no fields wanted: skip reading jobs */
    struct dlq_pos *pos;   /* failed set only: resume from here, and where it stopped */
};

/* A wrapper job of a dead-letter queue, unpacked (fields seen in the wild:
 * originalQueue/queue, originalJobId/jobId, originalJobName/jobName/name,
 * originalJobData/jobData/data, originalOpts/opts, failedReason/
 * errorMessage/error, failedAt/timestamp). Strings are owned. */
struct dlq_wrapper {
    char *queue, *id, *name;
    char *data; /* JSON text of the original data ("{}" when absent) */
    char *opts; /* JSON text of the original opts */
    char *reason;
    int64_t failed_at; /* 0 unknown */
};

/* 0 when json is a wrapper naming a valid original queue; -1 otherwise.
 * Release with dlq_wrapper_release either way. Pure. */
int dlq_unpack(const char *json, size_t n, struct dlq_wrapper *w);
void dlq_wrapper_release(struct dlq_wrapper *w);

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
    const struct dlq_wrapper *wrapper; /* DLQ-queue mode: the unpacked original */
};

/* Called for each matching job, newest first; return false to stop. */
typedef bool (*dlq_job_fn)(const struct dlq_job *job, void *ud);

/* Walk the failed set of queue. Returns the number of matches, or -1 when
 * Redis failed (message in err). total_out, when not NULL, receives the
 * size of the failed set at the start (ZCARD). */
int64_t dlq_select(struct rconn *rc, const char *prefix, const char *queue,
                   const struct dlq_filter *f, dlq_job_fn fn, void *ud, int64_t *total_out,
                   char *err, size_t errlen);

/* DLQ-queue mode: walk the wrapper jobs waiting in a dead-letter queue
 * (its wait, then paused list), unpacked; filters apply to the original
 * (name, reason; since/until to failedAt). Same contract as dlq_select. */
int64_t dlq_select_wrappers(struct rconn *rc, const char *prefix, const char *queue,
                            const struct dlq_filter *f, dlq_job_fn fn, void *ud,
                            int64_t *total_out, char *err, size_t errlen);

/*
 * The per-job statuses of the action scripts (agent/lua/), one list for the
 * scripts, dlq_skip_reason and the executor (dlq_act.c). The scripts return
 * the numbers; the names are the C side's. Two come from C, not a script.
 */
enum dlq_job_status {
    /* replay, purge, purgewait: acted on; readd: re-added (the script
     * returns the new job id, dlq_readd_batch turns it into 1). A script
     * that placed a job returns where instead of 1 (replay: the job; purge:
     * the parent it released): see enum dlq_place */
    DLQ_JOB_DONE = 1,
    /* replay, purge, purgewait: the job hash is gone; readd: the wrapper is */
    DLQ_JOB_GONE = -1,
    /* purge: the job, or a pending child of it, is locked by a worker;
     * purgewait, readd: the wrapper is locked */
    DLQ_JOB_LOCKED = -2,
    /* replay, purge: no longer in the failed set; purgewait, readd: no
     * longer waiting in the dead-letter queue */
    DLQ_JOB_NOT_DEAD = -3,
    /* purge: the current job of a job scheduler */
    DLQ_JOB_SCHEDULER = -8,
    /* purge: not yet, its children are being removed a bounded part per
     * call: call again (never recorded as such) */
    DLQ_JOB_NOT_YET = -9,
    /* purge: a locked child found after this call had removed part of the
     * tree; also C (dlq_act.c): a -2 on a later call of a -9 parent */
    DLQ_JOB_CHILD_LOCKED = -10,
    /* replay, purge: unexpected data in Redis (a key of the wrong type) */
    DLQ_JOB_BAD_DATA = -11,
    /* C only (dlq_act.c): a -9 parent still losing its children when the
     * run stopped */
    DLQ_JOB_STOPPED = -12,
};

/*
 * Where an action put a job it made ready. The rule is stated once, in
 * agent/lua/place.lua (prepended to the scripts that place jobs), from the
 * queue's keys at the moment of the call, never from meta.version (that
 * file says why): a paused queue's jobs go to the legacy `paused` list,
 * which both a 5.x and a 6.x resume() find; priority > 0 to `prioritized`;
 * else `wait`. The scripts return the name; the audit row's detail keeps
 * it ("placed in paused", "released its parent to wait").
 */
enum dlq_place {
    DLQ_PLACE_NONE, /* nothing placed (a skip; a purge that released no parent) */
    DLQ_PLACE_WAIT,
    DLQ_PLACE_PAUSED,
    DLQ_PLACE_PRIORITIZED,
};
/* "wait", "paused", "prioritized"; NULL for DLQ_PLACE_NONE */
const char *dlq_place_name(enum dlq_place p);
/* One per-job element of a script's reply: an integer status, or the name
 * of a placement, which means DLQ_JOB_DONE (*place, when not NULL, says
 * where; DLQ_PLACE_NONE otherwise). A reply of neither kind reads as
 * DLQ_JOB_BAD_DATA. Pure. */
int dlq_reply_status(const redisReply *e, enum dlq_place *place);

/* Replay wrappers whose originals all belong to orig_queue (lua/readd):
 * each original is added to orig_queue as a new job and its wrapper
 * removed. new_ids[i] receives the new job id ("" when skipped) and
 * status[i] an enum dlq_job_status (1, -1, -2, -3); *place where the
 * re-added jobs went (lua/place's rule). 0 or -1 with err. */
int dlq_readd_batch(struct rconn *rc, const char *prefix, const char *dlq_queue,
                    const char *orig_queue, struct dlq_wrapper *const *w,
                    const char *const *wrapper_ids, int n, int *status, char (*new_ids)[32],
                    enum dlq_place *place, char *err, size_t errlen);

/* Run one action script on up to 100 failed jobs in one call.
 * "lua/replay": each job must still be in the failed set with its hash; it
 * goes where lua/place puts it (a paused queue's `paused` list; priority >
 * 0: the prioritized zset; else `wait`) with a `waiting` event and the
 * marker; reset clears attempts made and started.
 * "lua/purge": like Job.remove: job keys deleted, out of the failed set, a
 * `removed` event, a parent waiting for nothing else released; never a
 * locked job or a scheduler's current job.
 * status[i]: an enum dlq_job_status, as the script's comment lists them;
 * place[i] (place may be NULL): where the job (replay) or its released
 * parent (purge) went. 0, or -1 with err. */
int dlq_script_batch(struct rconn *rc, const char *script_name, const char *prefix,
                     const char *queue, bool reset, const char *const *ids, int n, int *status,
                     enum dlq_place *place, char *err, size_t errlen);

/* The same, split for pipelining: send a batch now, read its statuses
 * later (after the script was loaded once with dlq_script_load). */
int dlq_script_load(struct rconn *rc, const char *script_name, char *err, size_t errlen);
void dlq_script_send(struct rconn *rc, const char *script_name, const char *prefix,
                     const char *queue, bool reset, const char *const *ids, int n);
int dlq_script_recv(struct rconn *rc, const char *script_name, int n, int *status,
                    enum dlq_place *place, char *err, size_t errlen);

/* Range mode of lua/replay and lua/purge: the script itself takes the
 * oldest `limit` dead jobs with min <= finishedOn <= max (ZRANGEBYSCORE
 * bounds), after the first `offset` (jobs earlier calls left in place).
 * The reply (caller frees) holds element[0] the ids, element[1] their
 * statuses (read them with dlq_reply_status), element[2] for each 1 if it
 * is still in the failed set (left in place), else 0; *n the number of
 * ids. */
void dlq_script_send_range(struct rconn *rc, const char *script_name, const char *prefix,
                           const char *queue, bool reset, const char *min, const char *max,
                           int64_t offset, int limit);
redisReply *dlq_script_recv_range(struct rconn *rc, const char *script_name, int *n, char *err,
                                  size_t errlen);

/* Did a BullMQ 5.x `Queue` start last on the queue (meta version
 * "bullmq:5...")? Informational only (said in the CLI's result): it names
 * the last producer or dashboard, not the workers, so no placement depends
 * on it (lua/place.lua). */
bool dlq_fleet_is_v5(struct rconn *rc, const char *prefix, const char *queue);

#endif
