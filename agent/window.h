/*
 * window: the agent's commit window, one SQLite transaction that every
 * writer of the agent's loop shares. The loop owns it (Redis's beforeSleep
 * shape): modules write rows into it (window_open() first), the loop
 * commits it before it waits and whenever it is full, old or urgent.
 *
 * DESIGN: memory follows the store. A module that keeps in memory something
 * the rows mirror (a cursor, an alert's state, a count, a delivery result)
 * stages the change and joins the window as a party: flush() writes what it
 * staged just before COMMIT, commit() makes the staged change real once
 * COMMIT succeeded, abort() drops it after a ROLLBACK (or a failed BEGIN), so
 * the next window starts from what is committed and nothing counts twice.
 * Parties are called in the order they joined.
 *
 * The window also reports the store's health for the agent: one line when
 * writes start failing, one when they recover, and a summary at most once a
 * minute in between; after a failed window the next one waits (backoff from
 * 100 ms to 2 s) so a full disk is not hammered.
 */
#ifndef AGENT_WINDOW_H
#define AGENT_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct window;

struct window_party {
    const char *name;           /* for log lines: "ingest", "alerts" */
    int (*flush)(void *ud);     /* write staged rows; 0 / -1. May be NULL */
    void (*commit)(void *ud);   /* the window committed: apply what was staged */
    void (*abort)(void *ud);    /* it rolled back: drop what was staged */
    void *ud;
};

/* Commit when this many entries were staged or the window is this old. */
#define WINDOW_MAX_ENTRIES 20000
#define WINDOW_MAX_MS 100

struct window *window_new(struct store *st);
void window_free(struct window *w);
void window_join(struct window *w, const struct window_party *p);
/* Every party with this ud leaves (before it is freed). */
void window_leave(struct window *w, void *ud);

/* BEGIN unless a transaction is open. 0, or -1 when the store refused (the
 * parties are then told abort(), as for a failed commit). */
int window_open(struct window *w);
bool window_is_open(const struct window *w);
/* Count staged entries (towards WINDOW_MAX_ENTRIES). */
void window_add(struct window *w, int64_t entries);
/* A change that must not wait for the window to fill (a rule without `for`
 * changed state): the loop commits at once. */
void window_urgent(struct window *w);
/* Full, old or urgent. */
bool window_due(const struct window *w);
/* Milliseconds until the store may be written again after a failed window
 * (0: now). Writers should not open a window before. */
int64_t window_backoff_ms(const struct window *w);

/* Flush every party, COMMIT, then commit() each party; or on any failure
 * ROLLBACK and abort() each. 0 (also when nothing was open) / -1. */
int window_commit(struct window *w);
/* ROLLBACK and abort() each party (e.g. Redis failed in the middle of a
 * batch: it is read again from the committed cursors). */
void window_abort(struct window *w);
/* A write inside the window failed: ROLLBACK, abort() each party, report
 * the store's trouble (what, or the store's own message) and back off. */
void window_failed(struct window *w, const char *what);

/* How long COMMITs took: a histogram over WINDOW_BUCKETS upper bounds
 * (seconds), counts cumulative as Prometheus has them, plus sum and count. */
#define WINDOW_NBUCKETS 10
extern const double window_buckets[WINDOW_NBUCKETS];
struct window_hist {
    uint64_t le[WINDOW_NBUCKETS];
    uint64_t count, failed;
    double sum;
};
const struct window_hist *window_commit_hist(const struct window *w);
/* Writes failing now (the store's health as the window sees it). */
bool window_failing(const struct window *w);

#endif
