/* view: see view.h */
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xmem.h"

void
view_init(struct view *v)
{
    memset(v, 0, sizeof *v);
}

void
view_clear_queues(struct view *v)
{
    for (int i = 0; i < v->nq; i++)
        free(v->q[i].name);
    free(v->q);
    v->q = NULL;
    v->nq = 0;
}

void
view_clear_dead(struct view *v)
{
    free(v->marked);
    v->marked = NULL;
    v->nmarked = 0;
    for (int i = 0; i < v->nd; i++) {
        free(v->d[i].id);
        free(v->d[i].name);
        free(v->d[i].reason);
    }
    free(v->d);
    v->d = NULL;
    v->nd = 0;
}

void
view_clear_job(struct view *v)
{
    for (int i = 0; i < v->nlines; i++)
        free(v->lines[i]);
    free(v->lines);
    v->lines = NULL;
    v->nlines = 0;
}

void
view_clear_table(struct view *v)
{
    for (int i = 0; i < v->nt; i++)
        for (int k = 0; k < 8; k++)
            free(v->t[i].col[k]);
    free(v->t);
    v->t = NULL;
    v->nt = 0;
}

void
view_release(struct view *v)
{
    view_clear_queues(v);
    view_clear_dead(v);
    view_clear_job(v);
    view_clear_table(v);
    free(v->queue);
    free(v->job_id);
}

const char *const view_sort_names[5] = {"name", "waiting", "failed", "active", "failures/min"};

static int sort_by;

static int64_t
sort_key(const struct qrow *q)
{
    switch (sort_by) {
    case 1:
        return q->waiting;
    case 2:
        return q->failed;
    case 3:
        return q->active;
    default:
        return q->failed_per_min;
    }
}

static int
cmp_queue(const void *a, const void *b)
{
    const struct qrow *x = a, *y = b;
    if (sort_by) {
        int64_t kx = sort_key(x), ky = sort_key(y);
        if (kx != ky)
            return kx > ky ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

void
view_sort_queues(struct qrow *q, int n, int by)
{
    sort_by = by;
    qsort(q, (size_t)n, sizeof *q, cmp_queue);
}

int
view_list_rows(int h)
{
    /* title, header, then rows, then status and hint bar */
    return h > 4 ? h - 4 : 1;
}

static void
keep(int sel, int *top, int rows)
{
    if (sel < *top)
        *top = sel;
    else if (sel >= *top + rows)
        *top = sel - rows + 1;
    if (*top < 0)
        *top = 0;
}

void
view_keep_visible(struct view *v, int rows)
{
    if (rows < 1)
        rows = 1;
    keep(v->qsel, &v->qtop, rows);
    keep(v->dsel, &v->dtop, rows);
    keep(v->tsel, &v->ttop, rows);
}

static const char *const titles[SCR__N] = {"queues", "dead jobs", "job", "alerts", "audit",
                                           "deliveries", "dead jobs by signature"};

const char *
view_hints(const struct view *v)
{
    switch (v->scr) {
    case SCR_QUEUES:
        return "Enter dead jobs  o sort  j/k move  :alerts :audit :deliveries  ? help  q quit";
    case SCR_DEAD:
        return v->read_only ? "Enter detail  / filter  v by signature  j/k g/G  Esc back  ? help  (read-only)"
                            : "Enter detail  / filter  v by signature  Space mark  r replay  "
                              "R replay matching  Ctrl-D purge  Esc back  ? help";
    case SCR_SIGS:
        return "Enter list this signature's dead jobs  j/k move  Esc back  ? help";
    case SCR_JOB:
        return v->wrap ? "j/k scroll  PgUp/PgDn  w no wrap  y raw JSON  Esc back  ? help"
                       : "j/k scroll  h/l left/right  w wrap  y raw JSON  Esc back  ? help";
    case SCR_ALERTS:
        return v->read_only ? "j/k move  :queues  Esc back  ? help  (read-only)"
                            : "s silence the selected alert  j/k move  :queues  Esc back  ? help";
    default:
        return "j/k move  :queues  Esc back  ? help  q quit";
    }
}

static void
spark(const struct qrow *q, char *out, size_t outlen)
{
    static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    int64_t mx = 0;
    size_t o = 0;
    int from = q->nspark > 16 ? q->nspark - 16 : 0;
    for (int i = from; i < q->nspark; i++)
        if (q->spark[i] > mx)
            mx = q->spark[i];
    for (int i = from; i < q->nspark && o + 4 < outlen; i++) {
        int k = mx ? (int)(q->spark[i] * 7 / mx) : 0;
        size_t l = strlen(bars[k]);
        memcpy(out + o, bars[k], l);
        o += l;
    }
    out[o] = '\0';
}

/* name, min, want, prio (0 never dropped), share, flex, right: layout.h.
 * The trend column holds the sparkline and the badges (PAUSED, NO WORKERS,
 * ALERT): it takes what is left, and badges come before the sparkline. */
const struct layout_col view_queue_cols[11] = {
    {"QUEUE", 12, 32, 0, 2, false, false},    {"WAITING", 7, 9, 1, 0, false, true},
    {"ACTIVE", 6, 7, 3, 0, false, true},      {"DELAYED", 7, 7, 7, 0, false, true},
    {"PRIO", 5, 7, 8, 0, false, true},        {"FAILED", 6, 8, 2, 0, false, true},
    {"COMPLETED", 9, 9, 9, 0, false, true},   {"WORKERS", 7, 7, 5, 0, false, true},
    {"DONE/m", 6, 6, 6, 0, false, true},      {"FAIL/m", 6, 6, 4, 0, false, true},
    {"WAITING (trend)", 16, 0, 0, 3, true, false},
};

/* Column i of a laid-out row: clipped to its width, numbers to the right. */
static void
put_col(struct grid *g, const struct layout *L, const struct layout_col *c, int i, int y,
        uint8_t attr, const char *text)
{
    if (!L->shown[i])
        return;
    int x = L->x[i], w = L->w[i];
    if (c[i].right) {
        int tw = grid_width(text, strlen(text));
        if (tw < w)
            x += w - tw;
    }
    grid_puts(g, x, y, w, attr, text);
}

static void
put_header(struct grid *g, const struct layout *L, const struct layout_col *c, int n)
{
    grid_fill_row(g, 1, GA_HEADER);
    for (int i = 0; i < n; i++)
        put_col(g, L, c, i, 1, GA_HEADER, c[i].name);
}

struct badge {
    char text[40];
    uint8_t attr;
};

static void
draw_queues(const struct view *v, struct grid *g)
{
    const struct layout_col *c = view_queue_cols;
    struct layout L;
    layout_columns(c, 11, g->w, 1, &L);
    put_header(g, &L, c, 11);
    int rows = view_list_rows(g->h);
    for (int i = 0; i < rows && v->qtop + i < v->nq; i++) {
        const struct qrow *q = &v->q[v->qtop + i];
        bool sel = v->qtop + i == v->qsel;
        uint8_t a = sel ? GA_SELECTED : GA_NORMAL;
        int y = 2 + i;
        if (sel)
            grid_fill_row(g, y, GA_SELECTED);
        put_col(g, &L, c, 0, y, a, q->name);
        if (!q->ok) {
            grid_puts(g, L.x[0] + L.w[0] + 1, y, -1, sel ? a : GA_DIM, "(depths unknown)");
            continue;
        }
        char n[10][24];
        int64_t vals[9] = {q->waiting, q->active, q->delayed, q->prioritized, q->failed,
                           q->completed, 0, q->done_per_min, q->failed_per_min};
        for (int k = 0; k < 9; k++)
            snprintf(n[k], sizeof n[k], "%lld", (long long)vals[k]);
        if (q->workers < 0)
            snprintf(n[6], sizeof n[6], "?");
        else
            snprintf(n[6], sizeof n[6], "%d", q->workers);
        for (int k = 0; k < 9; k++)
            put_col(g, &L, c, 1 + k, y, k == 4 && q->failed && !sel ? GA_BAD : a, n[k]);
        /* the trend column: badges first (they matter more), the sparkline
         * in what they leave (16 columns at most) */
        struct badge badge[5];
        int nb = 0, bw = 0;
        if (q->paused)
            badge[nb++] = (struct badge){"PAUSED", GA_WARN};
        if (q->workers == 0 && q->waiting > 0)
            badge[nb++] = (struct badge){"NO WORKERS", GA_BAD};
        if (q->paused_list > 0) { /* both 5.x and 6.x resume() move them to wait */
            snprintf(badge[nb].text, sizeof badge[nb].text, "%lld IN LEGACY PAUSED",
                     (long long)q->paused_list);
            badge[nb++].attr = GA_WARN;
        }
        if (q->dead_not_failed > 0) { /* dead, but no worker left to fail them */
            snprintf(badge[nb].text, sizeof badge[nb].text, "%lld DEAD-NOT-FAILED",
                     (long long)q->dead_not_failed);
            badge[nb++].attr = GA_BAD;
        }
        if (q->firing)
            badge[nb++] = (struct badge){"ALERT", GA_BAD};
        for (int k = 0; k < nb; k++)
            bw += (int)strlen(badge[k].text) + 1;
        int tx = L.x[10], tw = L.w[10];
        int sw = tw - bw > 16 ? 16 : tw - bw;
        if (sw > 0) {
            char sp[SPARK_N * 4];
            spark(q, sp, sizeof sp);
            tx += grid_puts(g, tx, y, sw, sel ? a : GA_OK, sp);
        }
        for (int k = 0; k < nb && tx < L.x[10] + tw; k++)
            tx += 1 + grid_puts(g, tx + 1, y, L.x[10] + tw - tx - 1, sel ? a : badge[k].attr,
                                badge[k].text);
    }
    if (v->nq == 0)
        grid_puts(g, 0, 2, -1, GA_DIM, "no queues found under this prefix (yet)");
}

static void
fmt_clock(int64_t ms, char out[16])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 16, "%H:%M:%S", &tm);
}

static void
fmt_time(int64_t ms, char out[24])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 24, "%m-%d %H:%M:%S", &tm);
}

/* JOB identifies the row and REASON is why it died: neither is dropped;
 * at 80 columns SIGNATURE goes first so that REASON reads ~35 columns */
const struct layout_col view_dead_cols[6] = {
    {"JOB", 8, 24, 0, 1, false, false},          {"NAME", 6, 16, 3, 1, false, false},
    {"FINISHED (UTC)", 14, 14, 2, 0, false, false}, {"ATTEMPTS", 8, 8, 4, 0, false, false},
    {"SIGNATURE", 12, 12, 5, 0, false, false},   {"REASON", 30, 0, 0, 4, true, false},
};

static void
draw_dead(const struct view *v, struct grid *g)
{
    const struct layout_col *c = view_dead_cols;
    struct layout L;
    layout_columns(c, 6, g->w, 1, &L);
    put_header(g, &L, c, 6);
    int rows = view_list_rows(g->h);
    for (int i = 0; i < rows && v->dtop + i < v->nd; i++) {
        const struct drow *d = &v->d[v->dtop + i];
        bool sel = v->dtop + i == v->dsel;
        uint8_t a = sel ? GA_SELECTED : GA_NORMAL;
        int y = 2 + i;
        if (sel)
            grid_fill_row(g, y, GA_SELECTED);
        char t[24], at[24];
        fmt_time(d->finished_on, t);
        if (d->attempts_made >= 0)
            snprintf(at, sizeof at, "%lld/%lld", (long long)d->attempts_made,
                     (long long)d->attempts_allowed);
        else
            snprintf(at, sizeof at, "?/%lld", (long long)d->attempts_allowed);
        bool m = v->marked && v->marked[v->dtop + i];
        if (m)
            grid_puts(g, 0, y, 1, sel ? a : GA_WARN, "*");
        grid_puts(g, m ? 1 : 0, y, m ? L.w[0] - 1 : L.w[0], a, d->id);
        put_col(g, &L, c, 1, y, a, d->name ? d->name : "");
        put_col(g, &L, c, 2, y, a, t);
        put_col(g, &L, c, 3, y, a, at);
        put_col(g, &L, c, 4, y, sel ? a : GA_DIM, d->signature);
        put_col(g, &L, c, 5, y, sel ? a : GA_BAD, d->reason ? d->reason : "");
    }
    if (v->nd == 0)
        grid_puts(g, 0, 2, -1, GA_DIM, v->filter[0] ? "no dead job matches the filter" : "no dead jobs");
}

/* rows line l takes wrapped at w columns (at least 1) */
static int
wrapped_rows(const char *l, int w)
{
    size_t n = strlen(l), i = 0;
    int rows = 0;
    do {
        i += grid_fit(l + i, n - i, w);
        rows++;
    } while (i < n);
    return rows;
}

static const char *
job_text(const char *l)
{
    return l[0] == '#' ? l + 1 : l;
}

int
view_job_rows(const struct view *v, int w)
{
    if (!v->wrap)
        return v->nlines;
    int rows = 0;
    for (int i = 0; i < v->nlines; i++)
        rows += wrapped_rows(job_text(v->lines[i]), w > 0 ? w : 1);
    return rows;
}

void
view_job_toggle_wrap(struct view *v, int w)
{
    w = w > 0 ? w : 1;
    if (!v->wrap) { /* line jtop -> its first wrapped row */
        int rows = 0;
        for (int i = 0; i < v->jtop && i < v->nlines; i++)
            rows += wrapped_rows(job_text(v->lines[i]), w);
        v->jtop = rows;
    } else { /* wrapped row jtop -> the line it is part of */
        int rows = 0, i = 0;
        for (; i < v->nlines; i++) {
            int r = wrapped_rows(job_text(v->lines[i]), w);
            if (rows + r > v->jtop)
                break;
            rows += r;
        }
        v->jtop = i < v->nlines ? i : (v->nlines ? v->nlines - 1 : 0);
    }
    v->wrap = !v->wrap;
    v->jleft = 0;
}

static void
draw_job(const struct view *v, struct grid *g)
{
    int rows = view_list_rows(g->h) + 1;
    if (!v->wrap) { /* one row a line, scrolled by jleft columns */
        for (int i = 0; i < rows && v->jtop + i < v->nlines; i++) {
            const char *l = v->lines[v->jtop + i];
            uint8_t a = l[0] == '#' ? GA_HEADER : GA_NORMAL;
            const char *t = job_text(l);
            size_t n = strlen(t), skip = v->jleft > 0 ? grid_fit(t, n, v->jleft) : 0;
            grid_put(g, 0, 1 + i, -1, a, t + skip, n - skip);
        }
        return;
    }
    int r = 0, y = 1;
    for (int i = 0; i < v->nlines && y < 1 + rows; i++) {
        const char *t = job_text(v->lines[i]);
        uint8_t a = v->lines[i][0] == '#' ? GA_HEADER : GA_NORMAL;
        size_t n = strlen(t), at = 0;
        do {
            size_t k = grid_fit(t + at, n - at, g->w);
            if (r >= v->jtop && y < 1 + rows)
                grid_put(g, 0, y++, -1, a, t + at, k);
            r++;
            at += k;
        } while (at < n && y < 1 + rows);
    }
}

static void
draw_table(const struct view *v, struct grid *g)
{
    struct layout L;
    if (!v->tspec)
        return;
    layout_columns(v->tspec, v->ntcols, g->w, 1, &L);
    put_header(g, &L, v->tspec, v->ntcols);
    int rows = view_list_rows(g->h);
    for (int i = 0; i < rows && v->ttop + i < v->nt; i++) {
        const struct trow *r = &v->t[v->ttop + i];
        bool sel = v->ttop + i == v->tsel;
        int y = 2 + i;
        if (sel)
            grid_fill_row(g, y, GA_SELECTED);
        for (int k = 0; k < v->ntcols; k++)
            put_col(g, &L, v->tspec, k, y, sel ? GA_SELECTED : GA_NORMAL, r->col[k] ? r->col[k] : "");
    }
    if (v->nt == 0)
        grid_puts(g, 0, 2, -1, GA_DIM, "nothing to show");
}

/* the keys, each with the screens it applies to (bits of 1 << screen) */
#define ALL 0xff
#define DEAD (1 << SCR_DEAD)
static const struct {
    int screens;
    const char *text;
} help_text[] = {
    {ALL, "#keys on this screen"},
    {ALL, "  j/k, arrows      move          PgUp/PgDn, g/G   page, top, bottom"},
    {(1 << SCR_QUEUES) | DEAD | (1 << SCR_SIGS), "  Enter            open"},
    {ALL, "  Esc, q           back (q on queues: quit)      :q  quit"},
    {ALL, "  Ctrl-R, F5       read this screen again now (it also refreshes by itself)"},
    {ALL, "  :queues  :dlq NAME  :alerts  :audit  :deliveries    go to a screen"},
    {1 << SCR_QUEUES, "  o                sort by name, waiting, failed, active, failures/min"},
    {1 << SCR_QUEUES, "  e                the next Redis endpoint (several [redis NAME])"},
    {DEAD, "  /                filter: words name:X, since:2h, until:T, a signature,"},
    {DEAD, "                   the other words a reason substring"},
    {DEAD, "  v                group by error signature (Enter filters by one)"},
    {DEAD, "  Space            mark a dead job (r and Ctrl-D act on the marked ones)"},
    {DEAD | (1 << SCR_JOB), "  r                replay the marked jobs, or the current one"},
    {DEAD, "  R                replay every dead job matching the filter (preview first)"},
    {DEAD | (1 << SCR_JOB), "  Ctrl-D           purge the marked jobs, or the current one"},
    {DEAD | (1 << SCR_JOB), "                   bulk and purge need the frozen count typed; audited"},
    {1 << SCR_JOB, "  y                raw JSON of the job"},
    {1 << SCR_JOB, "  w                wrap long lines (again: one row a line)"},
    {1 << SCR_JOB, "  h/l, Left/Right  scroll left, right (Left at the start: back)"},
    {1 << SCR_ALERTS, "  s                silence the selected alert (a comment, 'for 30m')"},
    {ALL, "  ?                this help (any key closes it)"},
};

void
view_draw(const struct view *v, struct grid *g)
{
    grid_clear(g);
    grid_fill_row(g, 0, GA_HINT);
    char where[480];
    if (v->scr == SCR_DEAD) {
        snprintf(where, sizeof where, " %s of %s  (%d shown of %lld dead%s%s)%s", titles[v->scr],
                 v->queue ? v->queue : "?", v->nd, (long long)v->dtotal,
                 v->filter[0] ? ", filter: " : "", v->filter, v->nmarked ? "  marked: " : "");
        if (v->nmarked)
            snprintf(where + strlen(where), sizeof where - strlen(where), "%d", v->nmarked);
    } else if (v->scr == SCR_JOB)
        snprintf(where, sizeof where, " job %s of %s%s%s", v->job_id ? v->job_id : "?",
                 v->queue ? v->queue : "?", v->raw ? "  (raw JSON)" : "", v->wrap ? "  (wrapped)" : "");
    else if (v->scr == SCR_QUEUES)
        snprintf(where, sizeof where, " %s%s%s  (sorted by %s: o changes)", titles[v->scr],
                 v->endpoints[0] ? " on redis " : "", v->endpoints, view_sort_names[v->qsort]);
    else
        snprintf(where, sizeof where, " %s", titles[v->scr]);
    if (v->scr == SCR_DEAD && v->dnew > 0) { /* the rows stay put under the cursor */
        char since[16];
        fmt_clock(v->dloaded_at, since);
        snprintf(where + strlen(where), sizeof where - strlen(where),
                 "  %lld new since %s (Ctrl-R)", (long long)v->dnew, since);
    }
    if (v->as_of) {
        char at[16];
        fmt_clock(v->as_of, at);
        snprintf(where + strlen(where), sizeof where - strlen(where), "  as of %s UTC", at);
    }
    grid_put(g, 0, 0, -1, GA_HINT, "bullwatch", 9);
    grid_puts(g, 9, 0, -1, GA_HINT, where);
    if (v->read_only)
        grid_puts(g, g->w > 11 ? g->w - 11 : 0, 0, -1, GA_HINT, "[read-only]");
    switch (v->scr) {
    case SCR_QUEUES:
        draw_queues(v, g);
        break;
    case SCR_DEAD:
        draw_dead(v, g);
        break;
    case SCR_JOB:
        draw_job(v, g);
        break;
    default:
        draw_table(v, g);
        break;
    }
    if (v->help) {
        int n = (int)(sizeof help_text / sizeof help_text[0]), y = 2;
        for (int i = 0; i < n && y < g->h - 2; i++) {
            if (!(help_text[i].screens & (1 << v->scr)))
                continue;
            if (v->read_only && strstr(help_text[i].text, "  r  ") != NULL)
                continue;
            const char *t = help_text[i].text;
            grid_fill_row(g, y, GA_NORMAL);
            grid_puts(g, 2, y++, -1, t[0] == '#' ? GA_HEADER : GA_NORMAL, t[0] == '#' ? t + 1 : t);
        }
    }
    if (v->dialog.on) {
        int w = g->w > 84 ? 80 : g->w - 4, h = v->dialog.nlines + 4;
        int x0 = (g->w - w) / 2, y0 = (g->h - h) / 2 > 1 ? (g->h - h) / 2 : 1;
        for (int y = y0; y < y0 + h && y < g->h - 2; y++) {
            for (int x = x0; x < x0 + w; x++) {
                g->c[y * g->w + x].ch = L' ';
                g->c[y * g->w + x].attr = GA_HINT;
            }
        }
        for (int i = 0; i < v->dialog.nlines && y0 + 1 + i < g->h - 2; i++)
            grid_puts(g, x0 + 2, y0 + 1 + i, w - 4, GA_HINT, v->dialog.lines[i]);
        char prompt[120];
        if (v->dialog.need_count && v->dialog.alt > 0)
            snprintf(prompt, sizeof prompt, "Type %d (the listed) or the full count: %s_   (Esc cancels)",
                     v->dialog.alt, v->dialog.typed);
        else if (v->dialog.need_count)
            snprintf(prompt, sizeof prompt, "Type the count to confirm: %s_   (Esc or Enter cancels)",
                     v->dialog.typed);
        else
            snprintf(prompt, sizeof prompt, "y confirms; any other key cancels [Cancel]");
        if (y0 + h - 2 < g->h - 2)
            grid_puts(g, x0 + 2, y0 + h - 2, w - 4, GA_HINT, prompt);
    }
    /* status line, then the hint bar (or the input being typed) */
    grid_fill_row(g, g->h - 2, GA_NORMAL);
    if (v->status[0])
        grid_puts(g, 0, g->h - 2, -1, GA_WARN, v->status);
    grid_fill_row(g, g->h - 1, GA_HINT);
    if (v->input_kind) {
        char c[2] = {v->input_kind, 0};
        const char *label = v->input_label[0] ? v->input_label : c;
        int x = grid_puts(g, 0, g->h - 1, -1, GA_HINT, label);
        grid_puts(g, x, g->h - 1, -1, GA_HINT, v->input);
    } else {
        char fit[256];
        view_hints_fit(view_hints(v), g->w, fit, sizeof fit);
        grid_puts(g, 0, g->h - 1, -1, GA_HINT, fit);
    }
}

void
view_hints_fit(const char *hints, int w, char *out, size_t len)
{
    /* items are separated by two blanks; keep them from the left while
     * they fit, and "? help" always (it lists the rest) */
    const char *help = strstr(hints, "? help");
    size_t o = 0;
    out[0] = '\0';
    int reserve = help ? 8 : 0;
    for (const char *p = hints; *p;) {
        const char *e = strstr(p, "  ");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool is_help = help && p == help;
        if (!is_help && n) {
            if ((int)(o + (o ? 2 : 0) + n) + reserve > w || o + n + 3 >= len)
                break;
            o += (size_t)snprintf(out + o, len - o, "%s%.*s", o ? "  " : "", (int)n, p);
        }
        p = e ? e + 2 : p + n;
    }
    if (help && o + 9 < len)
        snprintf(out + o, len - o, "%s? help", o ? "  " : "");
}
