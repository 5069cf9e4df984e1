/*
 * view: what the TUI shows (the model of each screen) and how it is drawn
 * into a grid. Drawing is pure: tests render screens into a grid and read
 * it back. Loading the model from Redis and the store is in data.c.
 */
#ifndef BW_VIEW_H
#define BW_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "dlq.h"
#include "grid.h"
#include "layout.h"

enum tui_screen { SCR_QUEUES, SCR_DEAD, SCR_JOB, SCR_ALERTS, SCR_AUDIT, SCR_DELIVERIES, SCR_SIGS, SCR__N };

#define SPARK_N 40

struct qrow {
    char *name;
    int64_t waiting, active, delayed, prioritized, failed, completed, waiting_children;
    bool paused, ok;
    int workers;                        /* -1 unknown */
    int64_t dead_not_failed;            /* deferred + orphaned (queues.h); -1 unknown */
    int64_t paused_list;                /* jobs in the legacy `paused` list (lua/place.lua) */
    int64_t done_per_min, failed_per_min; /* the last full minute */
    int64_t spark[SPARK_N];             /* waiting, oldest first */
    int nspark;
    bool firing;                        /* an alert fires on it */
};

struct drow { /* a dead job */
    char *id, *name, *reason;
    int64_t finished_on, attempts_made, attempts_allowed;
    char signature[16];
};

struct trow { /* a row of a table screen: up to 8 columns */
    char *col[8];
};

struct view {
    enum tui_screen scr;
    bool read_only, help;
    char status[256];  /* Redis/SQLite trouble, results of actions */
    char endpoints[300]; /* several endpoints: "eu of eu, us" (the queues' title), else "" */
    char input[160];   /* the / or : line being typed */
    char input_kind;   /* 0, '/', ':' or 's' (a silence's comment) */
    char input_label[160]; /* shown before the input instead of the kind */
    /* queues */
    struct qrow *q;
    int nq, qsel, qtop;
    int qsort; /* 0 name, 1 waiting, 2 failed, 3 active, 4 failures a minute */
    /* dead jobs of one queue */
    char *queue;
    struct drow *d;
    int nd, dsel, dtop;
    int64_t dtotal;  /* the failed set's size */
    bool dmore;      /* more may follow: scrolling past the last row reads the next page */
    struct dlq_pos dpos; /* where the walk of the failed set stopped */
    char filter[160];
    int64_t dloaded_at;  /* wall ms the list was read */
    int64_t dtop_score;  /* the newest finish in the failed set then (-1 none) */
    int64_t dnew;        /* dead since then (a timer's ZCOUNT): "k new since" */
    int64_t as_of;       /* wall ms the current screen's numbers were read */
    /* job detail (or raw JSON with y) */
    char *job_id;
    char **lines;
    int nlines, jtop; /* jtop: the first row shown (a wrapped row when wrap is on) */
    int jleft;        /* columns scrolled to the right (wrap off) */
    bool raw, wrap;
    bool *marked;    /* parallel to d: Space marks */
    int nmarked;
    /* a confirmation dialog (replay, purge): default Cancel */
    struct {
        bool on, need_count; /* need_count: the frozen count must be typed */
        char lines[8][200];
        int nlines;
        char typed[24];
        int alt; /* > 0: the count of the rows the list showed, which may be
                  * typed instead to act on exactly those */
    } dialog;
    /* alerts, audit, deliveries */
    const struct layout_col *tspec; /* the columns (data.c's tables), laid out per draw */
    int ntcols;
    struct trow *t;
    int nt, tsel, ttop;
};

void view_init(struct view *v);
void view_release(struct view *v);
void view_clear_queues(struct view *v);
void view_clear_dead(struct view *v);
void view_clear_job(struct view *v);
void view_clear_table(struct view *v);

/* Draw the current screen (and help, input line, status and hint bar). */
void view_draw(const struct view *v, struct grid *g);
/* Order queue rows: 0 by name, else by a count, largest first. */
void view_sort_queues(struct qrow *q, int n, int by);
extern const char *const view_sort_names[5];
/* Rows a list gets on a grid of height h (for paging). */
int view_list_rows(int h);
/* After a resize: every list's first row moved so its selection stays on
 * the screen (rows from view_list_rows). */
void view_keep_visible(struct view *v, int rows);
/* The columns of the dead-jobs and queues screens (layout.h), for tests. */
extern const struct layout_col view_dead_cols[6];
extern const struct layout_col view_queue_cols[11];
/* Rows the job detail takes on a grid w wide (wrapped rows when wrap is
 * on). */
int view_job_rows(const struct view *v, int w);
/* w: wrap on/off, the top row kept on the same line. */
void view_job_toggle_wrap(struct view *v, int w);
/* hints cut to w columns at item boundaries, "? help" kept, into out. */
void view_hints_fit(const char *hints, int w, char *out, size_t len);
/* The hint bar's text for a screen. */
const char *view_hints(const struct view *v);

#endif
