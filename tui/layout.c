/* layout: see layout.h */
#include "layout.h"

#include <string.h>

static int
need(const struct layout_col *c, const bool *shown, int n, int gap)
{
    int sum = 0, k = 0;
    for (int i = 0; i < n; i++) {
        if (!shown[i])
            continue;
        sum += c[i].min + (k++ ? gap : 0);
    }
    return sum;
}

/* the shown column to drop next: the highest priority number, the
 * rightmost of equals; -1 when only priority 0 is left */
static int
next_drop(const struct layout_col *c, const bool *shown, int n)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (shown[i] && c[i].prio > 0 && (best < 0 || c[i].prio >= c[best].prio))
            best = i;
    return best;
}

void
layout_columns(const struct layout_col *c, int n, int width, int gap, struct layout *out)
{
    memset(out, 0, sizeof *out);
    if (n > LAYOUT_MAX)
        n = LAYOUT_MAX;
    out->n = n;
    for (int i = 0; i < n; i++)
        out->shown[i] = true;
    int d;
    while (need(c, out->shown, n, gap) > width && (d = next_drop(c, out->shown, n)) >= 0)
        out->shown[d] = false;
    int flex = -1, last = -1;
    for (int i = 0; i < n; i++) {
        if (!out->shown[i])
            continue;
        out->w[i] = c[i].min;
        last = i;
        if (c[i].flex && flex < 0)
            flex = i;
    }
    if (last < 0)
        return;
    int spare = width - need(c, out->shown, n, gap);
    if (spare < 0) { /* only what must stay, and still too wide: narrow the text */
        int v = flex >= 0 ? flex : last;
        out->w[v] = out->w[v] + spare > 1 ? out->w[v] + spare : 1;
        spare = 0;
    }
    /* each sized column grows toward its natural width by its share of the
     * spare width; what is left goes to the flex column */
    int shares = 0;
    for (int i = 0; i < n; i++)
        if (out->shown[i] && i != flex)
            shares += c[i].share;
    if (flex >= 0)
        shares += c[flex].share;
    int given = 0;
    if (shares > 0) {
        for (int i = 0; i < n; i++) {
            if (!out->shown[i] || i == flex || c[i].share <= 0 || c[i].want <= c[i].min)
                continue;
            int add = spare * c[i].share / shares;
            if (add > c[i].want - c[i].min)
                add = c[i].want - c[i].min;
            out->w[i] += add;
            given += add;
        }
    }
    out->w[flex >= 0 ? flex : last] += spare - given;
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!out->shown[i])
            continue;
        out->x[i] = x;
        x += out->w[i] + gap;
    }
}
