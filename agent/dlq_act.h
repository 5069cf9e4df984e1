/*
 * dlq_act: replay and purge of dead jobs, the one implementation the CLI
 * (`bullwatch dlq replay|purge`) and the TUI share. Two steps: freeze the
 * selection (ids, --all, or filters; jobs that die after the snapshot are
 * left alone), then execute it: the audit intent row first, one Lua script
 * per bounded batch, an outcome row per job, the result at the end.
 * Confirmation and printing are the caller's.
 */
#ifndef AGENT_DLQ_ACT_H
#define AGENT_DLQ_ACT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "dlq.h"
#include "rconn.h"

enum dlq_verb { DLQ_REPLAY, DLQ_PURGE };

struct dlq_verb_info {
    const char *name;   /* replay */
    const char *title;  /* Replay */
    const char *past;   /* replayed */
    const char *doing;  /* replaying */
    const char *script; /* lua/replay */
};
const struct dlq_verb_info *dlq_verb_info(enum dlq_verb v);

struct dlq_request {
    enum dlq_verb verb;
    const char *queue;
    const char *const *ids; /* explicit job ids, or */
    int nids;
    bool all;               /* every dead job, or the filter */
    struct dlq_filter f;
    bool keep_attempts;
    double rate;            /* jobs per second; 0 = as fast as the budget allows */
    double refail_pct;      /* --stop-if-refail */
    int64_t snapshot;       /* 0 = now */
    const char *why;        /* the audit comment */
    const char *origin;     /* "tui" when not the CLI (kept in the audit row) */
};

/* The frozen selection. */
struct dlq_selection {
    int64_t snapshot;
    int n; /* the frozen count */
    char **ids; /* NULL in range mode (the script takes the window itself) */
    struct dlq_wrapper *wrappers; /* DLQ-queue mode: parallel to ids */
    int cap;
    struct dlq_sig_count {
        char sig[SIGNATURE_ID_LEN + 1];
        char *sample; /* one reason of this signature */
        int64_t n;
    } *sigs;
    int nsigs;
    bool wrappers_mode, readd, range;
    const char *script;
    char rmin[24], rmax[24];
};

/* Freeze r's selection. detail: read reasons and signatures (a preview);
 * else ids only, or just a count for --all and windows. 0; -1 Redis failed;
 * -2 a request that cannot be served (message in err). */
int dlq_freeze(const struct config *cfg, struct rconn *rc, const struct dlq_request *r, bool detail,
               struct dlq_selection *s, char *err, size_t errlen);
void dlq_selection_release(struct dlq_selection *s);

struct dlq_callbacks {
    void (*skipped)(void *ud, const char *id, const char *why);
    void (*progress)(void *ud, int64_t handled, int frozen);
    void (*note)(void *ud, const char *msg); /* trouble, the breaker */
    void *ud;
};

struct dlq_result {
    int64_t action; /* the audit row, -1 none */
    int64_t done, skipped, left; /* left: newer dead jobs left alone (-1 unknown) */
    bool breaker;
    bool v5; /* meta.version said 5.x (informational: placement never
              * depends on it, see lua/place.lua) */
};

/* Set (e.g. from a SIGINT handler) to stop a running dlq_execute: no call
 * is sent after it, the replies on their way are read and recorded, and the
 * action ends "stopped" (DLQ_PARTIAL). */
extern volatile sig_atomic_t dlq_stop_requested;

/* How an execution ended; the CLI and the TUI turn it into their own
 * exit codes and words. */
enum dlq_rc {
    DLQ_OK,      /* every frozen job acted on */
    DLQ_PARTIAL, /* some jobs skipped, or stopped (Ctrl-C, --stop-if-refail,
                  * a Redis call that failed midway) */
    DLQ_FAILED,  /* nothing done: no audit record, or Redis failed at once */
    /* an audit write failed: stopped before the next call to Redis; the
     * outcomes of calls already on their way that could not be recorded
     * were told to cb->note, one line a job */
    DLQ_STORE_FAILED,
};

/* Execute the frozen selection; see enum dlq_rc. */
enum dlq_rc dlq_execute(const struct config *cfg, struct rconn *rc, const struct dlq_request *r,
                struct dlq_selection *s, const struct dlq_callbacks *cb, struct dlq_result *res);

/* The request as the audit row's selection JSON. */
void dlq_request_json(const struct dlq_request *r, struct buf *b);
/* One line of progress fitting `width` columns, e.g. "purging [#####-----]
 * 48% 48000/100000 52000/s 1s left"; the bar is left out when narrow. */
void dlq_progress_line(char *buf, size_t len, enum dlq_verb v, int64_t handled, int64_t frozen,
                       int64_t elapsed_ms, int width);
/* Why a job was skipped, from an enum dlq_job_status (an int, as the scripts
 * return it: an unknown one reads "refused"). */
const char *dlq_skip_reason(int status, bool wrapper);

/* ---- the parts of dlq_execute ----
 * Exposed so tests/unit/check_dlqexec.c can drive them with literal input;
 * callers outside dlq_act.c use dlq_execute only. */

/* One job's outcome, as the recorder takes it. */
struct dlq_outcome {
    const char *id;    /* borrowed: valid until the batch is recorded */
    int status;        /* an enum dlq_job_status */
    const char *queue; /* readd: the queue the original went back to; else NULL */
    char new_id[32];   /* readd: the id it got there */
    enum dlq_place place; /* done: where the job (replay, readd) or the parent
                           * it released (purge) was put; else NONE */
    bool revised;      /* range mode: replaces the skip recorded for it before */
    bool later;        /* a skip told to cb->skipped only once the walk is over */
};

/* The outcomes of one call (or of the calls of one batch), at most cap. */
struct dlq_batch {
    struct dlq_outcome *o;
    int n, cap;
};
void dlq_batch_init(struct dlq_batch *b, int cap);
void dlq_batch_release(struct dlq_batch *b);
/* Append one (n < cap is the caller's to keep); the rest of it is zeroed. */
struct dlq_outcome *dlq_batch_add(struct dlq_batch *b, const char *id, int status);

/* Owned job ids: the parents a purge left pending (-9), called again by id
 * once the batch source is done. */
struct dlq_ids {
    char **v;
    int n, cap;
};
void dlq_ids_push(struct dlq_ids *l, const char *id); /* copies id */
void dlq_ids_release(struct dlq_ids *l);
/* Move the -9 outcomes of b (ids and retries) to again, keeping the order
 * of the rest: such a parent is recorded when its own call comes back
 * done. */
void dlq_hold_parents(struct dlq_batch *b, struct dlq_ids *again);

struct strmap;

/* Range mode: the walk over the window, which the script itself takes the
 * oldest jobs of, after `offset` jobs stepped over: left in place (their
 * outcome recorded, a skip) or pending (-9: their children are still being
 * removed; recorded when done). A call sent before the reply ahead of it
 * is read cannot know what that one stepped over, so it may list those
 * jobs again: they are remembered by id, a job is recorded once (or its
 * skip replaced by its final outcome), and once one has been stepped over
 * calls go one at a time (`careful`). Zeroed: the start of a walk. */
struct dlq_walk {
    int64_t offset;     /* stepped over before the next call's first row */
    int64_t asked;      /* jobs asked for by the calls in flight */
    bool exhausted;     /* a reply came back short: the window holds no more */
    bool careful;       /* one call in flight at a time */
    bool swept;         /* the walk came up short and started once more */
    bool walked;        /* over: the pending jobs go by id (dlq_ids) */
    struct strmap *at;  /* id -> index in ids */
    char **ids;         /* the jobs stepped over, owned */
    bool *pending;      /* -9: not recorded yet */
    int *status;        /* of a job left in place: why */
    int n, cap, npending;
};
/* How many jobs the next call may ask for, given how many of the frozen
 * count the recorder has handled; 0 when the walk has nothing to ask. */
int dlq_walk_limit(const struct dlq_walk *w, int64_t frozen, int64_t handled, int batch);
/* One reply of a range call sent at `offset` asking for `limit` jobs
 * (dlq_script_recv_range's shape) into b: the outcomes to record now; ids
 * borrow from rr. */
void dlq_walk_take(struct dlq_walk *w, int64_t offset, int limit, const redisReply *rr,
                   struct dlq_batch *b);
/* The walk is over: its pending jobs are appended to again. */
void dlq_walk_end(struct dlq_walk *w, struct dlq_ids *again);
void dlq_walk_release(struct dlq_walk *w);

struct store;

/* The one writer of per-job results: an audit row each (one transaction a
 * batch), the counts, and cb->skipped for a skip told now. Once a write
 * fails (said through cb->note: what failed, SQLite's message), that batch
 * and every later one are told to cb->note instead, a line a job
 * ("not recorded: job 7 purged"), and still counted: they happened. */
struct dlq_recorder {
    struct store *st;
    int64_t action;
    const struct dlq_verb_info *vb;
    bool replay;       /* a replay records its target (queue, id) */
    bool wrappers;     /* dead-letter-queue mode (how -3 reads) */
    const char *queue; /* the action's queue: a replayed job's target */
    const struct dlq_callbacks *cb;
    int64_t done, skipped;
    bool broken; /* a write failed */
};
void dlq_recorder_init(struct dlq_recorder *rec, struct store *st, int64_t action,
                       const struct dlq_request *r, bool wrappers, const struct dlq_callbacks *cb);
/* 0 recorded; -1 not (the store failed, now or before) */
int dlq_record(struct dlq_recorder *rec, const struct dlq_batch *b);

#endif
