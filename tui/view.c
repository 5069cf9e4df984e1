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
        return "j/k scroll  PgUp/PgDn  y raw JSON  Esc back  ? help";
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

static void
draw_queues(const struct view *v, struct grid *g)
{
    grid_fill_row(g, 1, GA_HEADER);
    grid_putf(g, 0, 1, -1, GA_HEADER, "%-24s %9s %7s %7s %7s %8s %9s %7s %6s %6s  %s", "QUEUE",
              "WAITING", "ACTIVE", "DELAYED", "PRIO", "FAILED", "COMPLETED", "WORKERS", "DONE/m",
              "FAIL/m", "WAITING (trend)");
    int rows = view_list_rows(g->h);
    for (int i = 0; i < rows && v->qtop + i < v->nq; i++) {
        const struct qrow *q = &v->q[v->qtop + i];
        bool sel = v->qtop + i == v->qsel;
        uint8_t a = sel ? GA_SELECTED : GA_NORMAL;
        int y = 2 + i;
        if (sel)
            grid_fill_row(g, y, GA_SELECTED);
        int x = grid_put(g, 0, y, 24, a, q->name, strlen(q->name));
        (void)x;
        if (!q->ok) {
            grid_puts(g, 25, y, -1, sel ? a : GA_DIM, "(depths unknown)");
            continue;
        }
        char w[16];
        snprintf(w, sizeof w, "%d", q->workers);
        grid_putf(g, 25, y, -1, a, "%9lld %7lld %7lld %7lld", (long long)q->waiting,
                  (long long)q->active, (long long)q->delayed, (long long)q->prioritized);
        grid_putf(g, 58, y, 8, sel ? a : q->failed ? GA_BAD : a, "%8lld", (long long)q->failed);
        grid_putf(g, 66, y, -1, a, " %9lld %7s %6lld %6lld", (long long)q->completed,
                  q->workers < 0 ? "?" : w, (long long)q->done_per_min, (long long)q->failed_per_min);
        char sp[SPARK_N * 4];
        spark(q, sp, sizeof sp);
        int sx = 100;
        sx += grid_puts(g, sx, y, 16, sel ? a : GA_OK, sp);
        if (q->paused)
            sx += 1 + grid_puts(g, sx + 1, y, -1, sel ? a : GA_WARN, "PAUSED");
        if (q->workers == 0 && q->waiting > 0)
            sx += 1 + grid_puts(g, sx + 1, y, -1, sel ? a : GA_BAD, "NO WORKERS");
        if (q->paused_list > 0) { /* both 5.x and 6.x resume() move them to wait */
            char lp[40];
            snprintf(lp, sizeof lp, "%lld IN LEGACY PAUSED", (long long)q->paused_list);
            sx += 1 + grid_puts(g, sx + 1, y, -1, sel ? a : GA_WARN, lp);
        }
        if (q->dead_not_failed > 0) { /* dead, but no worker left to fail them */
            char dn[40];
            snprintf(dn, sizeof dn, "%lld DEAD-NOT-FAILED", (long long)q->dead_not_failed);
            sx += 1 + grid_puts(g, sx + 1, y, -1, sel ? a : GA_BAD, dn);
        }
        if (q->firing)
            grid_puts(g, sx + 1, y, -1, sel ? a : GA_BAD, "ALERT");
    }
    if (v->nq == 0)
        grid_puts(g, 0, 2, -1, GA_DIM, "no queues found under this prefix (yet)");
}

static void
fmt_time(int64_t ms, char out[24])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 24, "%m-%d %H:%M:%S", &tm);
}

static void
draw_dead(const struct view *v, struct grid *g)
{
    grid_fill_row(g, 1, GA_HEADER);
    grid_putf(g, 0, 1, -1, GA_HEADER, "%-14s %-16s %-18s %-8s %-12s %s", "JOB", "NAME",
              "FINISHED (UTC)", "ATTEMPTS", "SIGNATURE", "REASON");
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
        grid_puts(g, m ? 1 : 0, y, m ? 13 : 14, a, d->id);
        grid_puts(g, 15, y, 16, a, d->name ? d->name : "");
        grid_puts(g, 32, y, 18, a, t);
        grid_puts(g, 51, y, 8, a, at);
        grid_puts(g, 60, y, 12, sel ? a : GA_DIM, d->signature);
        grid_puts(g, 73, y, -1, sel ? a : GA_BAD, d->reason ? d->reason : "");
    }
    if (v->nd == 0)
        grid_puts(g, 0, 2, -1, GA_DIM, v->filter[0] ? "no dead job matches the filter" : "no dead jobs");
}

static void
draw_job(const struct view *v, struct grid *g)
{
    int rows = view_list_rows(g->h) + 1;
    for (int i = 0; i < rows && v->jtop + i < v->nlines; i++) {
        const char *l = v->lines[v->jtop + i];
        uint8_t a = l[0] == '#' ? GA_HEADER : GA_NORMAL;
        grid_puts(g, 0, 1 + i, -1, a, l[0] == '#' ? l + 1 : l);
    }
}

static void
draw_table(const struct view *v, struct grid *g)
{
    const int *widths = v->tcolw;
    grid_fill_row(g, 1, GA_HEADER);
    int x = 0;
    for (int k = 0; k < v->ntcols; k++) {
        grid_puts(g, x, 1, widths[k], GA_HEADER, v->tcols[k]);
        x += widths[k] + 1;
    }
    int rows = view_list_rows(g->h);
    for (int i = 0; i < rows && v->ttop + i < v->nt; i++) {
        const struct trow *r = &v->t[v->ttop + i];
        bool sel = v->ttop + i == v->tsel;
        int y = 2 + i;
        if (sel)
            grid_fill_row(g, y, GA_SELECTED);
        x = 0;
        for (int k = 0; k < v->ntcols; k++) {
            grid_puts(g, x, y, k == v->ntcols - 1 ? -1 : widths[k], sel ? GA_SELECTED : GA_NORMAL,
                      r->col[k] ? r->col[k] : "");
            x += widths[k] + 1;
        }
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
    {ALL, "  Enter            open          Esc, q           back (q on queues: quit)"},
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
        snprintf(where, sizeof where, " job %s of %s%s", v->job_id ? v->job_id : "?",
                 v->queue ? v->queue : "?", v->raw ? "  (raw JSON)" : "");
    else if (v->scr == SCR_QUEUES)
        snprintf(where, sizeof where, " %s%s%s  (sorted by %s: o changes)", titles[v->scr],
                 v->endpoints[0] ? " on redis " : "", v->endpoints, view_sort_names[v->qsort]);
    else
        snprintf(where, sizeof where, " %s", titles[v->scr]);
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
        if (v->dialog.need_count)
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
        grid_puts(g, 0, g->h - 1, -1, GA_HINT, view_hints(v));
    }
}
