/*
 * app: `bullwatch tui [-c FILE] [--read-only]`, the ncurses loop. Reads
 * keys with a timeout (input never blocks), refreshes the queues every
 * poll, draws the view into a grid and the grid onto the terminal. The
 * terminal is restored on every exit: normal, SIGTERM/SIGINT/SIGHUP, and
 * fatal signals (then re-raised).
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include "cmd.h"

#include <curses.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"
#include "dlq_act.h"
#include "silence.h"
#include "grid.h"
#include "log.h"
#include "opts.h"
#include "queues.h"
#include "rconn.h"
#include "util.h"
#include "view.h"
#include "xmem.h"

static volatile sig_atomic_t quit_requested;
static volatile sig_atomic_t curses_on;

static void
on_quit(int sig)
{
    (void)sig;
    quit_requested = 1;
}

static void
on_fatal(int sig)
{
    if (curses_on)
        endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The terminal hung up (closed window, dropped SSH) without a SIGHUP
 * reaching us (it is not always sent: a pty whose session leader went
 * first): getch() then fails at once and the loop would spin. */
static bool
terminal_gone(void)
{
    struct pollfd p = {0, POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static void
restore_terminal(void)
{
    if (curses_on) {
        endwin();
        curses_on = 0;
    }
}

static int pairs[GA__N];

static void
colours(void)
{
    static const struct {
        short fg, bg;
        attr_t mono;
    } a[GA__N] = {
        [GA_NORMAL] = {-1, -1, A_NORMAL},      [GA_HEADER] = {COLOR_CYAN, -1, A_BOLD},
        [GA_SELECTED] = {COLOR_BLACK, COLOR_CYAN, A_REVERSE},
        [GA_OK] = {COLOR_GREEN, -1, A_NORMAL}, [GA_WARN] = {COLOR_YELLOW, -1, A_BOLD},
        [GA_BAD] = {COLOR_RED, -1, A_BOLD},    [GA_DIM] = {COLOR_BLUE, -1, A_DIM},
        [GA_HINT] = {COLOR_BLACK, COLOR_WHITE, A_REVERSE},
    };
    /* NO_COLOR (no-color.org: set and not empty): attributes only */
    const char *nc = getenv("NO_COLOR");
    bool colour = !(nc && nc[0]) && has_colors() && start_color() == OK;
    if (colour)
        use_default_colors();
    for (int i = 0; i < GA__N; i++) {
        if (colour && i != GA_NORMAL) {
            init_pair((short)i, a[i].fg, a[i].bg);
            pairs[i] = (int)(COLOR_PAIR(i) | (a[i].mono & (A_BOLD | A_DIM)));
        } else {
            pairs[i] = (int)a[i].mono; /* monochrome: attributes only */
        }
    }
}

static void
blit(const struct grid *g)
{
    wchar_t run[512];
    for (int y = 0; y < g->h; y++) {
        int x = 0;
        while (x < g->w) {
            uint8_t attr = g->c[y * g->w + x].attr;
            int n = 0, x0 = x;
            while (x < g->w && g->c[y * g->w + x].attr == attr && n < 500) {
                wchar_t ch = g->c[y * g->w + x].ch;
                if (ch)
                    run[n++] = ch;
                x++;
            }
            run[n] = 0;
            attrset((attr_t)pairs[attr]);
            mvaddnwstr(y, x0, run, n);
        }
    }
    attrset(A_NORMAL);
}

struct app {
    struct view v;
    struct tui_src src;
    struct config *cfg; /* src.cfg, writable: 'e' picks another endpoint */
    int h, w;
    int64_t next_refresh;
    /* the action waiting for its confirmation */
    struct dlq_request req;
    struct dlq_selection sel;
    char **req_ids;
    int req_nids;
    char req_store[320]; /* the filter's strings */
    bool pending;
    struct grid *g; /* drawn during a long action, for its progress */
    /* the status line's message: when and on which screen it was written */
    char last_status[256];
    int64_t status_at;
    enum tui_screen status_scr;
};

static void
endpoint_title(struct app *a)
{
    char names[256];
    config_endpoint_names(a->cfg, names, sizeof names);
    snprintf(a->v.endpoints, sizeof a->v.endpoints, "%s of %s", a->cfg->endpoint_name, names);
}

static int64_t
tui_timeout(const struct config *cfg)
{
    /* a short timeout: a stalled Redis costs the screen at most half a second */
    return cfg->connect_timeout_ms < 500 ? cfg->connect_timeout_ms : 500;
}

/* 'e' on the queues screen: the next endpoint in file order, on a new link */
static void
next_endpoint(struct app *a)
{
    struct config *cfg = a->cfg;
    char err[512];
    int k = 0;
    while (k < cfg->nendpoints && strcmp(config_endpoint_name_at(cfg, k), cfg->endpoint_name))
        k++;
    char name[128];
    snprintf(name, sizeof name, "%s", config_endpoint_name_at(cfg, (k + 1) % cfg->nendpoints));
    if (config_pick_endpoint(cfg, name, err, sizeof err) != 0) {
        snprintf(a->v.status, sizeof a->v.status, "%.250s", err);
        return;
    }
    rconn_free(a->src.rc);
    a->src.rc = rconn_new(&cfg->ep, cfg->endpoint_addr, "tui", tui_timeout(cfg));
    endpoint_title(a);
    a->v.qsel = a->v.qtop = 0;
    a->v.status[0] = '\0';
    a->next_refresh = 0; /* its queues at once */
}

static void
action_clear(struct app *a)
{
    if (a->pending)
        dlq_selection_release(&a->sel);
    for (int i = 0; i < a->req_nids; i++)
        free(a->req_ids[i]);
    free(a->req_ids);
    a->req_ids = NULL;
    a->req_nids = 0;
    a->pending = false;
    a->v.dialog.on = false;
}

static void
dialog_line(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
dialog_line(struct view *v, const char *fmt, ...)
{
    if (v->dialog.nlines >= 8)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->dialog.lines[v->dialog.nlines++], sizeof v->dialog.lines[0], fmt, ap);
    va_end(ap);
}

/* r, R, Ctrl-D: freeze the selection (the CLI's code) and ask */
static void
action_start(struct app *a, enum dlq_verb verb, bool all_matching)
{
    struct view *v = &a->v;
    if (v->read_only) {
        snprintf(v->status, sizeof v->status, "read-only: no replay, purge or silence from here");
        return;
    }
    if (v->scr != SCR_DEAD && v->scr != SCR_JOB) {
        snprintf(v->status, sizeof v->status, "open a queue's dead jobs first (Enter on a queue)");
        return;
    }
    action_clear(a);
    memset(&a->req, 0, sizeof a->req);
    a->req.verb = verb;
    a->req.queue = v->queue;
    a->req.why = "from the TUI";
    a->req.origin = "tui";
    if (all_matching) {
        if (data_filter(v->filter, &a->req.f, a->req_store, sizeof a->req_store, now_ms()) != 0) {
            snprintf(v->status, sizeof v->status, "bad filter; nothing was changed");
            return;
        }
        a->req.all = !v->filter[0];
    } else {
        if (v->scr == SCR_JOB && v->job_id) {
            a->req_ids = xcalloc(1, sizeof *a->req_ids);
            a->req_ids[a->req_nids++] = xstrdup(v->job_id);
        } else {
            a->req_ids = xcalloc((size_t)(v->nd ? v->nd : 1), sizeof *a->req_ids);
            for (int i = 0; i < v->nd; i++)
                if (v->marked && v->marked[i])
                    a->req_ids[a->req_nids++] = xstrdup(v->d[i].id);
            if (a->req_nids == 0 && v->nd)
                a->req_ids[a->req_nids++] = xstrdup(v->d[v->dsel].id);
        }
        if (a->req_nids == 0) {
            action_clear(a);
            snprintf(v->status, sizeof v->status, "no dead job to act on");
            return;
        }
        a->req.ids = (const char *const *)a->req_ids;
        a->req.nids = a->req_nids;
    }
    char err[300];
    int rc = dlq_freeze(a->src.cfg, a->src.rc, &a->req, all_matching, &a->sel, err, sizeof err);
    if (rc != 0) {
        dlq_selection_release(&a->sel);
        action_clear(a);
        snprintf(v->status, sizeof v->status, "%s: %.200s", dlq_verb_info(verb)->name, err);
        return;
    }
    a->pending = true;
    if (a->sel.n == 0) {
        action_clear(a);
        snprintf(v->status, sizeof v->status, "nothing to %s", dlq_verb_info(verb)->name);
        return;
    }
    const struct dlq_verb_info *vb = dlq_verb_info(verb);
    char when[32];
    time_t t = (time_t)(a->sel.snapshot / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%H:%M:%S UTC", &tm);
    v->dialog.nlines = 0;
    v->dialog.typed[0] = '\0';
    dialog_line(v, "%s %d dead job%s of queue %s", vb->title, a->sel.n, a->sel.n == 1 ? "" : "s",
                v->queue);
    if (all_matching)
        dialog_line(v, "selection: %s%s", v->filter[0] ? "filter " : "every dead job",
                    v->filter[0] ? v->filter : "");
    else
        dialog_line(v, "selection: %s%s", a->req_nids == 1 ? "job " : "the marked jobs",
                    a->req_nids == 1 ? a->req_ids[0] : "");
    dialog_line(v, "frozen at %s: jobs dying later are left alone", when);
    /* the count asked for is the count seen, or the dialog says what changed */
    int listed = all_matching ? (v->dmore ? -1 : v->nd) : a->req_nids;
    v->dialog.alt = 0;
    if (listed >= 0 && listed != a->sel.n) {
        if (!all_matching)
            dialog_line(v, "%d of the %d chosen are still dead (%d gone since the list was drawn)",
                        a->sel.n, listed, listed - a->sel.n);
        else if (a->sel.n > listed) {
            dialog_line(v, "%d jobs: %d listed + %d died since the list was drawn", a->sel.n, listed,
                        a->sel.n - listed);
            v->dialog.alt = listed; /* the frozen listed ones may be chosen */
        } else
            dialog_line(v, "%d jobs: %d listed, %d gone since the list was drawn", a->sel.n, listed,
                        listed - a->sel.n);
    }
    for (int i = 0; i < a->sel.nsigs && i < 3; i++) {
        /* jobs chosen by id may have no recorded signature: say so, not "2 x -:" */
        if (!a->sel.sigs[i].sig[0] || !strcmp(a->sel.sigs[i].sig, "-"))
            dialog_line(v, "  %lld job%s with no recorded signature", (long long)a->sel.sigs[i].n,
                        a->sel.sigs[i].n == 1 ? "" : "s");
        else
            dialog_line(v, "  %lld x %s: %s", (long long)a->sel.sigs[i].n, a->sel.sigs[i].sig,
                        a->sel.sigs[i].sample);
    }
    v->dialog.need_count = a->sel.n > 1 || all_matching || verb == DLQ_PURGE;
    v->dialog.on = true;
}

struct tui_outcome {
    char first_skip[160];
    char note[200];
    struct app *a;
    int64_t started, drawn; /* mono ms */
};

static void
tui_skipped(void *ud, const char *id, const char *why)
{
    struct tui_outcome *o = ud;
    if (!o->first_skip[0])
        snprintf(o->first_skip, sizeof o->first_skip, "%s: %s", id, why);
}

/* the first note says what went wrong; later ones follow from it (the
 * outcomes a failed audit store could not record) */
static void
tui_note(void *ud, const char *msg)
{
    struct tui_outcome *o = ud;
    if (!o->note[0])
        snprintf(o->note, sizeof o->note, "%s", msg);
}

static void
draw(struct app *a)
{
    view_draw(&a->v, a->g);
    blit(a->g);
    refresh();
}

/* a long action shows its progress on the status line */
static void
tui_progress(void *ud, int64_t handled, int frozen)
{
    struct tui_outcome *o = ud;
    int64_t now = mono_ms();
    if (now - o->drawn < 100 || handled >= frozen || !o->a->g)
        return;
    o->drawn = now;
    dlq_progress_line(o->a->v.status, sizeof o->a->v.status, o->a->req.verb, handled, frozen,
                      now - o->started, o->a->w - 1);
    draw(o->a);
}

static void
action_run(struct app *a)
{
    struct view *v = &a->v;
    const struct dlq_verb_info *vb = dlq_verb_info(a->req.verb);
    int64_t now = mono_ms();
    struct tui_outcome o = {{0}, {0}, a, now, now};
    struct dlq_callbacks cb = {tui_skipped, tui_progress, tui_note, &o};
    v->dialog.on = false; /* confirmed: the progress shows instead */
    struct dlq_result res;
    enum dlq_rc rc = dlq_execute(a->src.cfg, a->src.rc, &a->req, &a->sel, &cb, &res);
    int frozen = a->sel.n;
    action_clear(a);
    if (res.action < 0)
        snprintf(v->status, sizeof v->status, "%s refused: %s", vb->name, o.note);
    else if (rc == DLQ_STORE_FAILED)
        snprintf(v->status, sizeof v->status, "%s %lld of %d (action %lld), not all recorded: %s",
                 vb->past, (long long)res.done, frozen, (long long)res.action, o.note);
    else
        snprintf(v->status, sizeof v->status, "%s %lld of %d (action %lld)%s%lld skipped%s%s%s%s",
                 vb->past, (long long)res.done, frozen, (long long)res.action, ", ",
                 (long long)res.skipped, o.first_skip[0] ? " (" : "", o.first_skip,
                 o.first_skip[0] ? ")" : "", o.note[0] ? "; stopped" : "");
    if (v->scr == SCR_JOB)
        v->scr = SCR_DEAD;
    data_dead(&a->src, v, view_list_rows(a->h), false);
}

/* The count of the listed rows was typed: act on exactly those (by id,
 * frozen again), leaving the ones that died after the list was drawn */
static void
act_on_listed(struct app *a)
{
    struct view *v = &a->v;
    enum dlq_verb verb = a->req.verb;
    int want = v->dialog.alt;
    dlq_selection_release(&a->sel);
    a->pending = false;
    for (int i = 0; i < a->req_nids; i++)
        free(a->req_ids[i]);
    free(a->req_ids);
    a->req_ids = xcalloc((size_t)(v->nd ? v->nd : 1), sizeof *a->req_ids);
    a->req_nids = 0;
    for (int i = 0; i < v->nd; i++)
        a->req_ids[a->req_nids++] = xstrdup(v->d[i].id);
    memset(&a->req.f, 0, sizeof a->req.f);
    a->req.all = false;
    a->req.ids = (const char *const *)a->req_ids;
    a->req.nids = a->req_nids;
    char err[300];
    if (dlq_freeze(a->src.cfg, a->src.rc, &a->req, false, &a->sel, err, sizeof err) != 0) {
        dlq_selection_release(&a->sel);
        action_clear(a);
        snprintf(v->status, sizeof v->status, "%s: %.200s", dlq_verb_info(verb)->name, err);
        return;
    }
    a->pending = true;
    if (a->sel.n != want) {
        int now = a->sel.n;
        action_clear(a);
        snprintf(v->status, sizeof v->status,
                 "cancelled: only %d of the %d listed are still dead; nothing was changed", now, want);
        return;
    }
    action_run(a);
}

static void
dialog_key(struct app *a, int ch)
{
    struct view *v = &a->v;
    if (!v->dialog.need_count) {
        if (ch == 'y' || ch == 'Y')
            action_run(a);
        else {
            action_clear(a);
            snprintf(v->status, sizeof v->status, "cancelled; nothing was changed");
        }
        return;
    }
    size_t n = strlen(v->dialog.typed);
    if (ch >= '0' && ch <= '9' && n + 1 < sizeof v->dialog.typed) {
        v->dialog.typed[n] = (char)ch;
        v->dialog.typed[n + 1] = '\0';
    } else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n) {
        v->dialog.typed[n - 1] = '\0';
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        int64_t typed;
        if (n && parse_int64(v->dialog.typed, &typed) == 0 && typed == a->sel.n) {
            action_run(a);
        } else if (n && v->dialog.alt > 0 && typed == v->dialog.alt) {
            act_on_listed(a);
        } else {
            int frozen = a->sel.n;
            action_clear(a);
            if (n)
                snprintf(v->status, sizeof v->status,
                         "cancelled: %s was typed, the selection is %d; nothing was changed",
                         v->dialog.typed, frozen);
            else
                snprintf(v->status, sizeof v->status, "cancelled (the count was not typed); nothing was changed");
        }
    } else if (ch == 27) {
        action_clear(a);
        snprintf(v->status, sizeof v->status, "cancelled; nothing was changed");
    }
}

static void
open_dead(struct app *a, const char *queue)
{
    free(a->v.queue);
    a->v.queue = xstrdup(queue);
    a->v.filter[0] = '\0';
    a->v.scr = SCR_DEAD;
    data_dead(&a->src, &a->v, view_list_rows(a->h), false);
}

/* :dlq NAME: an unknown queue stays where it is and says the closest
 * names, as the CLI does, instead of an empty list that reads "0 dead" */
static void
dlq_command(struct app *a, const char *queue)
{
    char msg[700];
    if (rconn_ensure(a->src.rc) == 0) {
        int rc = queue_check(a->src.rc, a->src.cfg, queue, msg, sizeof msg);
        if (rc <= 0) {
            size_t n = strlen(msg) < sizeof a->v.status ? strlen(msg) : sizeof a->v.status - 1;
            memcpy(a->v.status, msg, n); /* a long message is cut, not refused */
            a->v.status[n] = '\0';
            return;
        }
    }
    open_dead(a, queue);
}

static void
go(struct app *a, enum tui_screen s)
{
    a->v.scr = s;
    a->v.tsel = a->v.ttop = 0;
    if (s == SCR_ALERTS || s == SCR_AUDIT || s == SCR_DELIVERIES)
        data_table(&a->src, &a->v);
    a->next_refresh = 0;
}

static void
command(struct app *a, const char *c)
{
    if (!strcmp(c, "queues"))
        go(a, SCR_QUEUES);
    else if (!strncmp(c, "dlq ", 4) && c[4])
        dlq_command(a, c + 4);
    else if (!strcmp(c, "alerts"))
        go(a, SCR_ALERTS);
    else if (!strcmp(c, "audit"))
        go(a, SCR_AUDIT);
    else if (!strcmp(c, "deliveries"))
        go(a, SCR_DELIVERIES);
    else if (!strcmp(c, "quit") || !strcmp(c, "q") || !strcmp(c, "q!"))
        quit_requested = 1;
    else
        snprintf(a->v.status, sizeof a->v.status, "unknown command ':%s' (:queues :dlq NAME :alerts "
                                                  ":audit :deliveries)", c);
}

/* s on an alert: a silence of exactly that rule on that queue */
static void
silence_selected(struct app *a, const char *text)
{
    struct view *v = &a->v;
    if (v->scr != SCR_ALERTS || v->nt == 0)
        return;
    char comment[160];
    snprintf(comment, sizeof comment, "%s", text);
    int64_t dur = 2 * 3600000, d;
    char *f = strstr(comment, " for ");
    if (f && parse_duration_ms(f + 5, &d) == 0 && d > 0) {
        dur = d;
        *f = '\0';
    }
    if (!comment[0]) {
        snprintf(v->status, sizeof v->status, "a silence needs a comment; nothing was added");
        return;
    }
    char matchers[300], err[300];
    snprintf(matchers, sizeof matchers, "rule=%s,queue=%s", v->t[v->tsel].col[1], v->t[v->tsel].col[2]);
    struct store *st = store_open(a->src.cfg->store_path, false, err, sizeof err);
    int64_t id, now = now_ms();
    if (!st || silence_add(st, matchers, silence_author(), comment, now, now + dur, &id, err,
                           sizeof err) != 0) {
        snprintf(v->status, sizeof v->status, "silence not added: %.200s", err);
    } else {
        char dd[32];
        format_duration(dur, dd, sizeof dd);
        snprintf(v->status, sizeof v->status, "silence %lld: %.120s for %s (bullwatch silence expire %lld ends it)",
                 (long long)id, matchers, dd, (long long)id);
    }
    store_close(st);
    data_table(&a->src, v);
}

/* move a selection within n rows, keeping it on screen */
static void
sel_move(int *sel, int *top, int n, int delta, int rows)
{
    int s = *sel + delta;
    if (s >= n)
        s = n - 1;
    if (s < 0)
        s = 0;
    *sel = s;
    if (s < *top)
        *top = s;
    if (s >= *top + rows)
        *top = s - rows + 1;
}

/* Every screen live, with cheap reads only: the queues' poll, the dead
 * jobs' count of new deaths (the rows stay under the cursor), the store's
 * tables again (alert values are current there: the agent writes them). */
static void
timer_refresh(struct app *a)
{
    struct view *v = &a->v;
    if (v->dialog.on || v->input_kind)
        return; /* nothing moves under a question */
    switch (v->scr) {
    case SCR_QUEUES:
        data_queues(&a->src, v, now_ms());
        break;
    case SCR_DEAD:
        if (!queue_is_dlq(a->src.cfg, v->queue))
            data_dead_new(&a->src, v);
        break;
    case SCR_ALERTS:
    case SCR_AUDIT:
    case SCR_DELIVERIES:
    case SCR_SIGS:
        data_table(&a->src, v);
        break;
    default:
        break;
    }
}

/* Ctrl-R, F5: read the current screen again now; the dead jobs keep the
 * selected job when it is still there */
static void
refresh_now(struct app *a)
{
    struct view *v = &a->v;
    int rows = view_list_rows(a->h);
    if (v->scr == SCR_DEAD) {
        char *id = v->nd ? xstrdup(v->d[v->dsel].id) : NULL;
        data_dead(&a->src, v, rows, false);
        for (int i = 0; id && i < v->nd; i++)
            if (!strcmp(v->d[i].id, id))
                v->dsel = i;
        free(id);
        view_keep_visible(v, rows);
    } else if (v->scr == SCR_JOB) {
        data_job(&a->src, v);
    } else {
        timer_refresh(a);
    }
    a->next_refresh = mono_ms() + (a->src.cfg->poll_every_ms > 500 ? a->src.cfg->poll_every_ms : 500);
}

/* A status message belongs to the screen it was written on and lasts
 * STATUS_MS: it is cleared when the screen changes or it is older (a
 * condition that persists, Redis down, is written again by the next read). */
#define STATUS_MS 8000
static void
status_track(struct app *a, int64_t now)
{
    if (strcmp(a->v.status, a->last_status) != 0) {
        snprintf(a->last_status, sizeof a->last_status, "%s", a->v.status);
        a->status_at = now;
        a->status_scr = a->v.scr;
    }
}

static void
status_expire(struct app *a, int64_t now)
{
    if (a->v.status[0] && (a->v.scr != a->status_scr || now - a->status_at > STATUS_MS))
        a->v.status[0] = '\0';
}

static void
key(struct app *a, int ch)
{
    struct view *v = &a->v;
    int rows = view_list_rows(a->h);
    if (v->help) {
        v->help = false;
        return;
    }
    if (v->dialog.on) {
        dialog_key(a, ch);
        return;
    }
    if (v->input_kind) { /* typing a / filter or a : command */
        size_t n = strlen(v->input);
        if (ch == 27) {
            v->input_kind = 0;
            v->input_label[0] = '\0';
        } else if (ch == '\n' || ch == KEY_ENTER || ch == '\r') {
            char kind = v->input_kind;
            v->input_kind = 0;
            v->input_label[0] = '\0';
            if (kind == ':') {
                command(a, v->input);
            } else if (kind == 's') {
                silence_selected(a, v->input);
            } else if (v->scr == SCR_DEAD) {
                struct dlq_filter f;
                char store[320];
                /* a rejected filter leaves the active one in force and shown */
                if (data_filter(v->input, &f, store, sizeof store, now_ms()) != 0) {
                    snprintf(v->status, sizeof v->status,
                             "bad filter '%.60s' (words: name:X, since:T, until:T, a signature, "
                             "failed-reason:X, text); still %s%.60s",
                             v->input, v->filter[0] ? "filtering by: " : "unfiltered", v->filter);
                } else {
                    snprintf(v->filter, sizeof v->filter, "%s", v->input);
                    data_dead(&a->src, v, rows, false);
                }
            }
        } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
            if (n)
                v->input[n - 1] = '\0';
        } else if (ch >= 0x20 && ch < 0x7f && n + 1 < sizeof v->input) {
            v->input[n] = (char)ch;
            v->input[n + 1] = '\0';
        }
        return;
    }
    int delta = 0;
    switch (ch) {
    case '?':
        v->help = true;
        return;
    case ':':
    case '/':
        if (ch == '/' && v->scr != SCR_DEAD) {
            snprintf(v->status, sizeof v->status, "/ filters the dead jobs of a queue");
            return;
        }
        v->input_kind = (char)ch;
        v->input[0] = '\0';
        return;
    case 'w':
        if (v->scr == SCR_JOB)
            view_job_toggle_wrap(v, a->w);
        return;
    case 'h':
    case 'l':
    case KEY_RIGHT:
        if (v->scr == SCR_JOB) { /* long lines: scroll sideways (wrap off) */
            if (!v->wrap)
                v->jleft = ch == 'h' ? (v->jleft > a->w / 2 ? v->jleft - a->w / 2 : 0)
                                     : v->jleft + a->w / 2;
            return;
        }
        if (ch != KEY_RIGHT)
            return;
        goto open_it;
    case 'q':
    case 27:
    case KEY_LEFT:
        if (ch == KEY_LEFT && v->scr == SCR_JOB && v->jleft > 0) {
            v->jleft = v->jleft > a->w / 2 ? v->jleft - a->w / 2 : 0;
            return;
        }
        if (v->scr == SCR_QUEUES) {
            if (ch == 'q')
                quit_requested = 1;
        } else if (v->scr == SCR_JOB || v->scr == SCR_SIGS) {
            v->scr = SCR_DEAD;
        } else {
            v->scr = SCR_QUEUES;
        }
        return;
    case 'j':
    case KEY_DOWN:
        delta = 1;
        break;
    case 'k':
    case KEY_UP:
        delta = -1;
        break;
    case ' ':
        if (v->scr == SCR_DEAD && v->nd) {
            if (!v->marked)
                v->marked = xcalloc((size_t)v->nd, sizeof *v->marked);
            v->marked[v->dsel] = !v->marked[v->dsel];
            v->nmarked += v->marked[v->dsel] ? 1 : -1;
            delta = 1;
            break;
        }
        delta = rows;
        break;
    case KEY_NPAGE:
        delta = rows;
        break;
    case KEY_PPAGE:
        delta = -rows;
        break;
    case 'g':
    case KEY_HOME:
        delta = -1000000000;
        break;
    case 'G':
    case KEY_END:
        delta = 1000000000;
        break;
    case '\n':
    case '\r':
    case KEY_ENTER:
    open_it:
        if (v->scr == SCR_QUEUES && v->nq)
            open_dead(a, v->q[v->qsel].name);
        else if (v->scr == SCR_SIGS && v->nt) {
            snprintf(v->filter, sizeof v->filter, "%s", v->t[v->tsel].col[1] ? v->t[v->tsel].col[1] : "");
            v->scr = SCR_DEAD;
            data_dead(&a->src, v, rows, false);
        } else if (v->scr == SCR_DEAD && v->nd) {
            free(v->job_id);
            v->job_id = xstrdup(v->d[v->dsel].id);
            v->raw = false;
            v->scr = SCR_JOB;
            data_job(&a->src, v);
        }
        return;
    case 'o':
        if (v->scr == SCR_QUEUES) {
            v->qsort = (v->qsort + 1) % 5;
            char *name = v->nq ? xstrdup(v->q[v->qsel].name) : NULL;
            view_sort_queues(v->q, v->nq, v->qsort);
            for (int i = 0; name && i < v->nq; i++)
                if (!strcmp(v->q[i].name, name))
                    v->qsel = i;
            free(name);
            v->qtop = v->qsel >= rows ? v->qsel - rows + 1 : 0;
        }
        return;
    case 'e':
        if (v->scr == SCR_QUEUES && a->cfg->nendpoints > 1)
            next_endpoint(a);
        return;
    case 'v':
        if (v->scr == SCR_DEAD) {
            v->scr = SCR_SIGS;
            v->tsel = v->ttop = 0;
            data_table(&a->src, v);
        }
        return;
    case 'y':
        if (v->scr == SCR_JOB) {
            v->raw = !v->raw;
            data_job(&a->src, v);
        }
        return;
    case 'r':
        action_start(a, DLQ_REPLAY, false);
        return;
    case 'R':
        action_start(a, DLQ_REPLAY, true);
        return;
    case 4: /* Ctrl-D */
        action_start(a, DLQ_PURGE, false);
        return;
    case 's':
        if (v->read_only) {
            snprintf(v->status, sizeof v->status, "read-only: no replay, purge or silence from here");
        } else if (v->scr != SCR_ALERTS || v->nt == 0) {
            snprintf(v->status, sizeof v->status, "s silences an alert: select one on :alerts");
        } else {
            v->input_kind = 's';
            v->input[0] = '\0';
            snprintf(v->input_label, sizeof v->input_label,
                     "silence rule=%.40s,queue=%.40s; comment (add 'for 30m'; default 2h): ",
                     v->t[v->tsel].col[1], v->t[v->tsel].col[2]);
        }
        return;
    case KEY_RESIZE:
        return;
    case 18: /* Ctrl-R */
    case KEY_F(5):
        refresh_now(a);
        return;
    default:
        return;
    }
    switch (v->scr) {
    case SCR_QUEUES:
        sel_move(&v->qsel, &v->qtop, v->nq, delta, rows);
        break;
    case SCR_DEAD:
        /* past the last loaded row of a full page: load the next page */
        if (v->dmore && v->dsel + delta >= v->nd)
            data_dead(&a->src, v, rows, true);
        sel_move(&v->dsel, &v->dtop, v->nd, delta, rows);
        break;
    case SCR_JOB: { /* scroll: the last page shows the last lines whole */
        int total = view_job_rows(v, a->w);
        int page = rows + 1, maxtop = total > page ? total - page : 0;
        int64_t t = (int64_t)v->jtop + delta;
        v->jtop = t < 0 ? 0 : t > maxtop ? maxtop : (int)t;
        break;
    }
    default:
        sel_move(&v->tsel, &v->ttop, v->nt, delta, rows);
        break;
    }
}

/* Benchmarks: BULLWATCH_TUI_FIRST_FRAME=FILE writes the ms from start to
 * the first drawn frame and the peak RSS then, and quits. */
static void
first_frame(int64_t started)
{
    const char *path = getenv("BULLWATCH_TUI_FIRST_FRAME");
    if (!path)
        return;
    FILE *f = fopen(path, "w");
    if (f) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(f, "{\"first_frame_ms\":%lld,\"peak_rss_kb\":%ld}\n",
                (long long)(mono_ms() - started), ru.ru_maxrss);
        fclose(f);
    }
    quit_requested = 1;
}

struct tui_args {
    bool read_only;
    const char *queue; /* --queue NAME opens that queue's dead jobs */
};

static int
on_opt(void *ud, int id, const char *v)
{
    struct tui_args *t = ud;
    if (id == 0)
        t->read_only = true;
    else
        t->queue = v;
    return 0;
}

/* Several endpoints and no --redis: ask which, on the terminal, before the
 * screen starts. 0 picked, -1 the user quit (or stdin closed). */
static int
choose_endpoint(struct config *cfg)
{
    char line[64], err[512];
    printf("%s watches %d Redis endpoints:\n", cfg->path, cfg->nendpoints);
    for (int i = 0; i < cfg->nendpoints; i++) {
        struct config v;
        config_endpoint(cfg, i, &v);
        printf("  %d) %-20s %s  prefix '%s'\n", i + 1, v.endpoint_name, v.endpoint_addr, v.prefix);
    }
    for (int tries = 0; tries < 10; tries++) {
        printf("which one (1-%d, or a name; q quits)? ", cfg->nendpoints);
        fflush(stdout);
        if (!fgets(line, sizeof line, stdin))
            return -1;
        line[strcspn(line, "\r\n")] = '\0';
        if (!strcmp(line, "q"))
            return -1;
        char *end;
        long n = strtol(line, &end, 10);
        char name[64];
        if (line[0] && !*end && n >= 1 && n <= cfg->nendpoints) {
            struct config v;
            config_endpoint(cfg, (int)n - 1, &v);
            snprintf(name, sizeof name, "%s", v.endpoint_name);
        } else {
            snprintf(name, sizeof name, "%s", line);
        }
        if (config_pick_endpoint(cfg, name, err, sizeof err) == 0)
            return 0;
        printf("%s\n", err);
    }
    return -1;
}

int
cmd_tui(int argc, char **argv)
{
    int64_t started = mono_ms();
    struct tui_args ta = {false, NULL};
    static const struct opt opts[] = {{"read-only", false, 0}, {"queue", true, 1}, {NULL, false, 0}};
    const char *path = NULL;
    char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
    int npos = 0;
    int prc = opts_parse("tui", argc, argv, opts, on_opt, &ta, &path, pos, &npos);
    if (prc == 0 && npos)
        fprintf(stderr, "bullwatch tui: unexpected argument '%s'\n", pos[0]);
    free(pos);
    if (prc != 0 || npos)
        return EXIT_USAGE;
    bool read_only = ta.read_only;
    const char *open_queue = ta.queue;
    struct config cfg;
    if (cmd_load_config(&cfg, path) != 0) {
        config_release(&cfg);
        return EXIT_USAGE;
    }
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "bullwatch tui: needs a terminal\n");
        config_release(&cfg);
        return EXIT_USAGE;
    }
    bool several = cfg.nendpoints > 1;
    if (several && !cfg.endpoint_picked && choose_endpoint(&cfg) != 0) {
        config_release(&cfg);
        return EXIT_USAGE;
    }
    log_set_level((enum log_level)(LOG_ERROR + 1)); /* nothing on the screen from the library */
    struct app a;
    memset(&a, 0, sizeof a);
    view_init(&a.v);
    a.v.read_only = read_only || cfg.read_only;
    a.cfg = &cfg;
    if (several)
        endpoint_title(&a);
    a.src.cfg = &cfg;
    a.src.rc = rconn_new(&cfg.ep, cfg.endpoint_addr, "tui", tui_timeout(&cfg));
    char err[512];
    a.src.st = store_open(cfg.store_path, true, err, sizeof err);
    setlocale(LC_ALL, "");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_quit;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGSEGV, on_fatal);
    signal(SIGABRT, on_fatal);
    signal(SIGBUS, on_fatal);
    signal(SIGFPE, on_fatal);
    signal(SIGPIPE, SIG_IGN);
    atexit(restore_terminal);
    initscr();
    curses_on = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    timeout(100);
    colours();
    struct grid g;
    getmaxyx(stdscr, a.h, a.w);
    grid_init(&g, a.w, a.h);
    if (!a.src.st)
        snprintf(a.v.status, sizeof a.v.status, "no audit store (%s): rates, alerts and audit need the agent",
                 cfg.store_path);
    a.h = a.h > 0 ? a.h : 24;
    if (open_queue) /* --queue NAME: as :dlq NAME (an unknown one says so) */
        dlq_command(&a, open_queue);
    bool drawn = false;
    while (!quit_requested) {
        int64_t now = mono_ms();
        status_track(&a, now); /* what a key wrote, on the screen it wrote it */
        if (now >= a.next_refresh) {
            status_expire(&a, now);
            if (!(open_queue && !drawn))
                timer_refresh(&a);
            a.next_refresh = now + (cfg.poll_every_ms > 500 ? cfg.poll_every_ms : 500);
        }
        status_track(&a, now);
        int h, w;
        getmaxyx(stdscr, h, w);
        if (h != a.h || w != a.w) {
            a.h = h;
            a.w = w;
            grid_free(&g);
            grid_init(&g, w, h);
            /* SIGWINCH (KEY_RESIZE): the columns are laid out again on the
             * draw; the selection stays and stays on the screen */
            view_keep_visible(&a.v, view_list_rows(h));
            clear();
        }
        a.g = &g;
        draw(&a);
        if (!drawn) {
            drawn = true;
            first_frame(started);
        }
        int ch = getch();
        if (ch == ERR) {
            if (terminal_gone())
                break; /* as on SIGHUP: nothing left to draw on */
            continue;
        }
        key(&a, ch);
    }
    restore_terminal();
    action_clear(&a);
    grid_free(&g);
    view_release(&a.v);
    rconn_free(a.src.rc);
    store_close(a.src.st);
    config_release(&cfg);
    return EXIT_OK;
}
