/*
 * expr: the alert rule expression language (the `expr` key of [rule NAME]).
 * Pure: parsing and evaluation against a source of indicator values that
 * the caller binds to one queue and one instant.
 *
 *   expr    := or
 *   or      := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | cmp
 *   cmp     := sum (('>' | '>=' | '<' | '<=' | '==' | '!=') sum)?
 *   sum     := term (('+' | '-') term)*
 *   term    := unary (('*' | '/') unary)*
 *   unary   := '-' unary | primary
 *   primary := NUMBER | DURATION | indicator | indicator '[' DURATION ']'
 *            | FUNC '(' args ')' | '(' expr ')'
 *
 * Durations (250ms, 30s, 5m, 2h, 1d) are numbers of seconds. Gauges
 * (the depth of each state, dlq_size, oldest_waiting_age in s, workers,
 * agent_lag in s) read their latest value; counters (failures, retries,
 * completed, stalled, added, events_lost) and failure_ratio, runtime_p95
 * (s) need a window: failures[5m]. `completed` without a window is the
 * depth of the completed set. Functions: rate(counter[w]) per second,
 * rate(gauge[w]) change per second, slope(gauge[w]) change per minute
 * (least squares), predict(gauge[w], horizon) the value expected after
 * horizon, absent(indicator) 1 when there is no value, value(x) x,
 * baseline(counter[w], Nd) the median of counter[w] over the same window
 * at the same time of day on each of the previous N days (NAN unless at
 * least half of those days have history). new_signatures[w] counts the
 * error signatures first seen on the queue within w (the store's
 * queue_signatures: a signature that returns is not new). retries_due[w]
 * counts the retries scheduled (with a backoff) to run within the next w.
 * A comparison is 1 or 0; a missing value makes it false.
 */
#ifndef BW_EXPR_H
#define BW_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum ind {
    /* gauges */
    IND_WAITING,
    IND_ACTIVE,
    IND_DELAYED,
    IND_PRIORITIZED,
    IND_FAILED,
    IND_COMPLETED,
    IND_PAUSED,
    IND_WAITING_CHILDREN,
    IND_DLQ_SIZE,
    IND_OLDEST_WAITING_AGE,
    IND_WORKERS,
    IND_AGENT_LAG,
    IND_DEAD_NOT_FAILED, /* deferred failures + orphaned active jobs (queues.h) */
    IND_NGAUGES,
    /* over a window */
    IND_FAILURES = IND_NGAUGES,
    IND_RETRIES,
    IND_COMPLETIONS, /* completed[w] */
    IND_STALLED,
    IND_ADDED,
    IND_EVENTS_LOST,
    IND_FAILURE_RATIO,
    IND_RUNTIME_P95,
    IND_NEW_SIGNATURES, /* error signatures first seen on the queue within the window */
    IND_RETRIES_DUE,    /* retries scheduled to run within the next window */
    IND_N
};

/* The name an indicator is written with ("completed" for both). */
const char *ind_name(enum ind i);
static inline bool
ind_is_gauge(enum ind i)
{
    return i < IND_NGAUGES;
}

/* Where values come from, for one queue at one instant (now, in ms). A
 * callback answers NAN when it has no value. */
struct expr_src {
    void *ud;
    int64_t now;
    double (*gauge)(void *ud, enum ind i);
    /* a counter (or ratio, or p95) over (now - window_ms, now] */
    double (*window)(void *ud, enum ind i, int64_t window_ms);
    /* a gauge's samples over the window, oldest first (t in ms); returns
     * how many */
    int (*samples)(void *ud, enum ind i, int64_t window_ms, const int64_t **t, const double **v);
    /* the median of counter i over (now - d*1d - window_ms, now - d*1d]
     * for d = 1..days; NAN without enough history. May be NULL. */
    double (*baseline)(void *ud, enum ind i, int64_t window_ms, int days);
};

struct expr; /* opaque */

/* Parse text; NULL on error with a message and the 1-based column of the
 * error within text. */
struct expr *expr_parse(const char *text, char *err, size_t errlen, int *col);
void expr_free(struct expr *e);

/* The value of the expression (NAN when it has none). When the top is a
 * comparison (or the first comparison of an and/or), *value and
 * *threshold are its two sides. */
double expr_eval(const struct expr *e, const struct expr_src *src, double *value,
                 double *threshold);
/* True when the value is a number other than 0. */
bool expr_true(double v);

/* The expression written back in canonical form (check-config). */
void expr_print(const struct expr *e, struct buf *out);

/* Which indicators it reads, as a bit set (1 << ind): lets the agent
 * evaluate event-driven rules right away. */
uint32_t expr_inds(const struct expr *e);
/* The longest window it reads, in ms (0: none). */
int64_t expr_max_window(const struct expr *e);
/* The longest window over which it reads indicator i (0: none). */
int64_t expr_ind_window(const struct expr *e, enum ind i);
/* How far back in the per-minute counts its baselines reach, in ms (0:
 * no baseline): days + window. */
int64_t expr_history_ms(const struct expr *e);

/* Least squares over (t ms, v): slope per ms and the value at t0. False
 * with fewer than two distinct times. */
bool expr_fit(const int64_t *t, const double *v, int n, int64_t t0, double *slope,
              double *at_t0);

#endif
