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
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"
#include "grid.h"
#include "log.h"
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
    bool colour = has_colors() && start_color() == OK;
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
    int h, w;
    int64_t next_refresh;
};

static void
open_dead(struct app *a, const char *queue)
{
    free(a->v.queue);
    a->v.queue = xstrdup(queue);
    a->v.filter[0] = '\0';
    a->v.scr = SCR_DEAD;
    data_dead(&a->src, &a->v, view_list_rows(a->h));
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
    if (!strcmp(c, "queues") || !strcmp(c, "q"))
        go(a, SCR_QUEUES);
    else if (!strncmp(c, "dlq ", 4) && c[4])
        open_dead(a, c + 4);
    else if (!strcmp(c, "alerts"))
        go(a, SCR_ALERTS);
    else if (!strcmp(c, "audit"))
        go(a, SCR_AUDIT);
    else if (!strcmp(c, "deliveries"))
        go(a, SCR_DELIVERIES);
    else if (!strcmp(c, "quit") || !strcmp(c, "q!"))
        quit_requested = 1;
    else
        snprintf(a->v.status, sizeof a->v.status, "unknown command ':%s' (:queues :dlq NAME :alerts "
                                                  ":audit :deliveries)", c);
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

static void
key(struct app *a, int ch)
{
    struct view *v = &a->v;
    int rows = view_list_rows(a->h);
    if (v->help) {
        v->help = false;
        return;
    }
    if (v->input_kind) { /* typing a / filter or a : command */
        size_t n = strlen(v->input);
        if (ch == 27) {
            v->input_kind = 0;
        } else if (ch == '\n' || ch == KEY_ENTER || ch == '\r') {
            char kind = v->input_kind;
            v->input_kind = 0;
            if (kind == ':') {
                command(a, v->input);
            } else if (v->scr == SCR_DEAD) {
                snprintf(v->filter, sizeof v->filter, "%s", v->input);
                data_dead(&a->src, v, rows);
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
    case 'q':
    case 27:
    case KEY_LEFT:
        if (v->scr == SCR_QUEUES) {
            if (ch == 'q')
                quit_requested = 1;
        } else if (v->scr == SCR_JOB) {
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
    case KEY_NPAGE:
    case ' ':
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
    case KEY_RIGHT:
        if (v->scr == SCR_QUEUES && v->nq)
            open_dead(a, v->q[v->qsel].name);
        else if (v->scr == SCR_DEAD && v->nd) {
            free(v->job_id);
            v->job_id = xstrdup(v->d[v->dsel].id);
            v->raw = false;
            v->scr = SCR_JOB;
            data_job(&a->src, v);
        }
        return;
    case 'y':
        if (v->scr == SCR_JOB) {
            v->raw = !v->raw;
            data_job(&a->src, v);
        }
        return;
    case 'r':
    case 'R':
    case 4: /* Ctrl-D */
    case 's':
        if (v->read_only)
            snprintf(v->status, sizeof v->status, "read-only: no replay, purge or silence from here");
        else
            snprintf(v->status, sizeof v->status,
                     "not in the TUI yet: use bullwatch dlq replay|purge %s (same code, audited) or "
                     "bullwatch silence add", v->queue ? v->queue : "QUEUE");
        return;
    case KEY_RESIZE:
        return;
    default:
        return;
    }
    switch (v->scr) {
    case SCR_QUEUES:
        sel_move(&v->qsel, &v->qtop, v->nq, delta, rows);
        break;
    case SCR_DEAD:
        sel_move(&v->dsel, &v->dtop, v->nd, delta, rows);
        break;
    case SCR_JOB: {
        int sel = v->jtop;
        int top = v->jtop;
        sel_move(&sel, &top, v->nlines, delta, 1);
        v->jtop = sel;
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

int
cmd_tui(int argc, char **argv)
{
    int64_t started = mono_ms();
    bool read_only = false;
    const char *open_queue = NULL;
    /* --queue NAME opens that queue's dead jobs; the rest as every command */
    char *rest[64];
    int n = 0;
    for (int i = 0; i < argc && n < 63; i++) {
        if (i > 0 && (!strcmp(argv[i], "--queue") || !strcmp(argv[i], "-q")) && i + 1 < argc)
            open_queue = argv[++i];
        else
            rest[n++] = argv[i];
    }
    rest[n] = NULL;
    static const char *const flags[] = {"--read-only", NULL};
    struct config cfg;
    if (cmd_setup(n, rest, "tui", flags, &read_only, &cfg) != 0)
        return EXIT_USAGE;
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "bullwatch tui: needs a terminal\n");
        config_release(&cfg);
        return EXIT_USAGE;
    }
    log_set_level((enum log_level)(LOG_ERROR + 1)); /* nothing on the screen from the library */
    struct app a;
    memset(&a, 0, sizeof a);
    view_init(&a.v);
    a.v.read_only = read_only || cfg.read_only;
    a.src.cfg = &cfg;
    a.src.rc = rconn_new(&cfg.ep, cfg.endpoint_name, "tui", cfg.connect_timeout_ms);
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
    if (open_queue)
        open_dead(&a, open_queue);
    bool drawn = false;
    while (!quit_requested) {
        int64_t now = mono_ms();
        if (now >= a.next_refresh) {
            if (a.v.scr == SCR_QUEUES && !(open_queue && !drawn))
                data_queues(&a.src, &a.v, now_ms());
            a.next_refresh = now + (cfg.poll_every_ms > 500 ? cfg.poll_every_ms : 500);
        }
        int h, w;
        getmaxyx(stdscr, h, w);
        if (h != a.h || w != a.w) {
            a.h = h;
            a.w = w;
            grid_free(&g);
            grid_init(&g, w, h);
            clear();
        }
        view_draw(&a.v, &g);
        blit(&g);
        refresh();
        if (!drawn) {
            drawn = true;
            first_frame(started);
        }
        int ch = getch();
        if (ch == ERR)
            continue;
        key(&a, ch);
    }
    restore_terminal();
    grid_free(&g);
    view_release(&a.v);
    rconn_free(a.src.rc);
    store_close(a.src.st);
    config_release(&cfg);
    return EXIT_OK;
}
