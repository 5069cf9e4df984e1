/*
 * audit: the operator-action records of the audit store (actions,
 * action_jobs). The intent row is written before Redis is touched; per-job
 * outcomes while the action runs; the result at the end.
 */
#ifndef AGENT_AUDIT_H
#define AGENT_AUDIT_H

#include <stdint.h>

#include "store.h"

struct audit_intent {
    const char *endpoint, *queue, *verb, *reason;
    const char *selection; /* JSON */
    const char *options;   /* JSON */
    int64_t snapshot_at, frozen_count;
};

/* Rows left 'running' by a process that is gone become 'interrupted'.
 * Returns how many were marked. */
int audit_mark_interrupted(struct store *st);
/* The intent row; returns its id, or -1 (logged). Commits at once. */
int64_t audit_begin(struct store *st, const struct audit_intent *in);
/* One job's outcome (inside the caller's transaction, if any). For a
 * replay, target names the job that will run again (queue, id), whose end
 * the agent records as the replay's result. */
int audit_job(struct store *st, int64_t action, const char *job_id, const char *outcome,
              const char *detail, const char *target_queue, const char *target_job_id);
/* The transaction around a batch of audit_job rows, for a caller that
 * must say what failed: 0, or -1 with SQLite's message in err (a failed
 * commit is rolled back: none of the batch is kept). */
int audit_batch_begin(struct store *st, char *err, size_t errlen);
int audit_batch_commit(struct store *st, char *err, size_t errlen);
int audit_finish(struct store *st, int64_t action, const char *state, int64_t done,
                 int64_t skipped, int64_t left_alone);

#endif
