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
    bool breaker, v5;
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

#endif
