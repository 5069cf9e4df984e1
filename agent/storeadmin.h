/*
 * storeadmin: looking after the audit store as it ages. Retention in
 * slices (written into the caller's open transaction, the agent's commit
 * window), its progress row (store_state, shown by `status` and `bullwatch
 * store`), the return of free pages (incremental vacuum), the conversion of
 * an old store to auto_vacuum = incremental (a full VACUUM, refused while an
 * agent holds the store's lock file) and the integrity check.
 *
 * It must not open or commit transactions of its own except in
 * storeadmin_vacuum() (a separate command, never the agent), and it never
 * waits: every statement is bounded (a slice is at most 500 rows of a
 * table, from an index).
 */
#ifndef AGENT_STOREADMIN_H
#define AGENT_STOREADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* Rows per slice: sql/stmt/retention_slice.sql says it too. */
#define STOREADMIN_SLICE 500
/* Free pages returned to the file system per slice (4 KiB each): moving a
 * page costs a write, so a few more than a slice frees, not all at once. */
#define STOREADMIN_VACUUM_PAGES 128

/* What retention has done and has left (the store_state row). Plain value. */
struct storeadmin_retention {
    int64_t cutoff;        /* rows finished before this are due (ms; 0: never ran) */
    int64_t backlog_since; /* a backlog of more than a slice is being trimmed since (ms), or 0 */
    int64_t trimmed;       /* rows trimmed by the current (or last) backlog */
    int64_t last_slice_at; /* ms */
    double last_slice_ms, max_slice_ms;
    int64_t done_at;       /* the last time nothing was due (ms) */
};

/* One slice of retention for rows older than cutoff, into the open
 * transaction (the caller opened it: window_open()). Logs one line when a
 * backlog of more than a slice starts and one when it ends, never per
 * slice; updates the store_state row. *more: something older than cutoff is
 * left (call again soon). 0 / -1 (store error; the caller rolls back). */
int storeadmin_retention_slice(struct store *st, int64_t cutoff, int64_t now, bool *more)
    __attribute__((warn_unused_result));

/* The cutoffs of a slice (ms): failure rows and the rest by `cutoff`;
 * queue_signatures by last_seen before signature_cutoff (its own
 * signature_retention, a year by default: how far "never seen" reaches);
 * minute_counts before counts_cutoff (never newer than cutoff: the
 * rules' baselines may need more days than the rows are kept). */
struct storeadmin_keep {
    int64_t cutoff, signature_cutoff, counts_cutoff;
};
#define STOREADMIN_SIGNATURE_RETENTION_MS (365LL * 86400000)
/* storeadmin_retention_slice with a cutoff per kind of row; the plain one
 * keeps signatures STOREADMIN_SIGNATURE_RETENTION_MS and counts as long as
 * the rows. */
int storeadmin_retention_slice_keep(struct store *st, const struct storeadmin_keep *k,
                                    int64_t now, bool *more) __attribute__((warn_unused_result));

/* Free pages back to the file system, at most `pages` of them, in the open
 * transaction; a no-op unless the store has auto_vacuum = incremental.
 * 0 / -1. */
int storeadmin_incremental_vacuum(struct store *st, int pages)
    __attribute__((warn_unused_result));

/* The store_state row; 0, or -1 when the store has none (before 0008). */
int storeadmin_retention_get(struct store *st, struct storeadmin_retention *out);

/* One line for humans: "retention: trimming a backlog since ..., N rows so
 * far" or "retention: up to date (last ...)". */
void storeadmin_retention_line(const struct storeadmin_retention *r, int64_t now, char *line,
                               size_t len);

/* PRAGMA quick_check (full: integrity_check); the problems it reports go to
 * `out`, at most max_lines. 0: ok, 1: problems found, -1: could not run. */
int storeadmin_integrity(struct store *st, bool full, FILE *out, int max_lines);

/* `bullwatch store vacuum`: convert the store at path to auto_vacuum =
 * incremental and compact it with a full VACUUM. Refuses (-1, err) while
 * an agent holds <path>.lock, or when the file system has less free space
 * than twice the store (VACUUM writes a copy, and the WAL holds another).
 * Before it starts it prints to `out` how big the store is, how much disk
 * it needs and about how long it takes (~20 s per GB of rows; 1M rows,
 * 473 MB, took 3 s from the page cache here). With
 * dry_run it stops after that. 0 / -1. */
int storeadmin_vacuum(const char *path, bool dry_run, FILE *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
