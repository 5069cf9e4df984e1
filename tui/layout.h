/*
 * layout: the columns of a TUI list from the terminal's width, on every
 * draw (pure: tests call it with literal widths). Each column has a
 * minimum, a natural width it grows to, a priority and a share of the
 * spare width; the widest-text column (REASON, ERROR, SUMMARY: flex) takes
 * what is left. When the minimums do not fit, columns are dropped from the
 * highest priority number down; priority 0 (the identifying column and the
 * text column) is never dropped.
 */
#ifndef BW_LAYOUT_H
#define BW_LAYOUT_H

#include <stdbool.h>

#define LAYOUT_MAX 16

struct layout_col {
    const char *name; /* the header */
    int min;          /* columns it needs to be useful */
    int want;         /* the width it grows to (ignored for flex) */
    int prio;         /* 0: never dropped; else dropped highest first */
    int share;        /* weight in the spare width (0: stays at min) */
    bool flex;        /* takes what is left (one column at most) */
    bool right;       /* numbers: right-aligned */
};

struct layout {
    int n;
    bool shown[LAYOUT_MAX];
    int x[LAYOUT_MAX], w[LAYOUT_MAX];
};

/* Lay n (<= LAYOUT_MAX) columns out on width terminal columns with gap
 * blanks between neighbours. Always fills out; a column not shown has w 0.
 * When even the priority-0 columns do not fit, the flex column (else the
 * last shown) is narrowed, down to 1. */
void layout_columns(const struct layout_col *c, int n, int width, int gap, struct layout *out);

#endif
