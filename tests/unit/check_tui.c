/* Unit tests of tui/grid.c and tui/view.c: screens drawn into a character
 * grid and read back; untrusted text never reaches the grid raw. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "grid.h"
#include "suites.h"
#include "view.h"
#include "xmem.h"

static struct grid g;
static struct buf row;

static void
setup(void)
{
    setlocale(LC_ALL, "C.UTF-8"); /* wcwidth of wide characters */
    grid_init(&g, 120, 20);
    buf_init(&row, 0);
}

static void
teardown(void)
{
    grid_free(&g);
    buf_release(&row);
}

static const char *
row_text(int y)
{
    buf_reset(&row);
    grid_row(&g, y, &row);
    return row.data ? row.data : "";
}

START_TEST(controls_are_escaped)
{
    /* C0, DEL and a C1 control (U+009B, CSI, written as UTF-8) */
    const char evil[] = "a\x1b]0;pwned\x07\x1b[2Jb\xc2\x9b" "c\x7f";
    grid_put(&g, 0, 0, -1, GA_NORMAL, evil, sizeof evil - 1);
    ck_assert_str_eq(row_text(0), "a\\x1b]0;pwned\\x07\\x1b[2Jb\\x9bc\\x7f");
    for (int x = 0; x < g.w; x++)
        ck_assert_msg(g.c[x].ch >= 0x20 && g.c[x].ch != 0x7f && !(g.c[x].ch >= 0x80 && g.c[x].ch <= 0x9f),
                      "raw control %#x at column %d", (unsigned)g.c[x].ch, x);
}
END_TEST

START_TEST(invalid_utf8_and_widths)
{
    grid_put(&g, 0, 0, -1, GA_NORMAL, "x\xff\xc3(y", 5);
    ck_assert_str_eq(row_text(0), "x\xef\xbf\xbd\xef\xbf\xbd(y");
    /* wide characters take two columns; a cut never splits one */
    int used = grid_puts(&g, 0, 1, 5, GA_NORMAL, "日本語");
    ck_assert_int_eq(used, 4);
    ck_assert_str_eq(row_text(1), "日本");
    ck_assert_int_eq(grid_width("日本語", strlen("日本語")), 6);
    ck_assert_int_eq(grid_width("\x1b", 1), 4); /* shown as \x1b */
    /* nothing is written past the right edge */
    ck_assert_int_eq(grid_puts(&g, 118, 2, -1, GA_NORMAL, "abcdef"), 2);
}
END_TEST

static void
add_queue(struct view *v, const char *name, int64_t waiting, int64_t failed, int workers)
{
    v->q = xrealloc(v->q, sizeof *v->q * (size_t)(v->nq + 1));
    struct qrow *q = &v->q[v->nq++];
    memset(q, 0, sizeof *q);
    q->name = xstrdup(name);
    q->ok = true;
    q->waiting = waiting;
    q->failed = failed;
    q->workers = workers;
    for (int i = 0; i < 5; i++)
        q->spark[q->nspark++] = i * waiting / 4;
}

START_TEST(queues_screen)
{
    struct view v;
    view_init(&v);
    add_queue(&v, "orders", 1200, 7, 0);
    add_queue(&v, "emails", 0, 0, 3);
    view_draw(&v, &g);
    ck_assert_ptr_nonnull(strstr(row_text(0), "bullwatch queues"));
    ck_assert_ptr_nonnull(strstr(row_text(1), "WAITING"));
    const char *r = row_text(2);
    ck_assert_msg(strncmp(r, "orders ", 7) == 0 && strstr(r, " 1200 ") && strstr(r, " 7 "), "%s", r);
    ck_assert_msg(strstr(r, "NO WORKERS") != NULL, "no-workers badge missing: %s", r);
    ck_assert_msg(strstr(r, "▁") && strstr(r, "█"), "sparkline missing: %s", r);
    ck_assert_msg(strstr(row_text(3), "NO WORKERS") == NULL, "%s", row_text(3));
    /* the selected row is highlighted, the hint bar is always there */
    ck_assert_int_eq(g.c[2 * g.w].attr, GA_SELECTED);
    ck_assert_ptr_nonnull(strstr(row_text(g.h - 1), "? help"));
    view_release(&v);
}
END_TEST

START_TEST(dead_screen_and_filter)
{
    struct view v;
    view_init(&v);
    v.scr = SCR_DEAD;
    v.queue = xstrdup("orders");
    v.dtotal = 7;
    snprintf(v.filter, sizeof v.filter, "boom 3");
    v.d = xcalloc(1, sizeof *v.d);
    v.nd = 1;
    v.d[0].id = xstrdup("42");
    v.d[0].name = xstrdup("charge");
    v.d[0].reason = xstrdup("boom 3\x1b[2J");
    v.d[0].finished_on = 1795451984753LL;
    v.d[0].attempts_made = 2;
    v.d[0].attempts_allowed = 2;
    snprintf(v.d[0].signature, sizeof v.d[0].signature, "eed42159003a");
    view_draw(&v, &g);
    ck_assert_ptr_nonnull(strstr(row_text(0), "dead jobs of orders  (1 shown of 7 dead, filter: boom 3)"));
    const char *r = row_text(2);
    ck_assert_msg(strncmp(r, "42 ", 3) == 0 && strstr(r, "charge") && strstr(r, "2/2") &&
                      strstr(r, "eed42159003a") && strstr(r, "boom 3\\x1b[2J"),
                  "%s", r);
    /* read-only: the hint bar offers no action */
    v.read_only = true;
    view_draw(&v, &g);
    ck_assert_ptr_null(strstr(row_text(g.h - 1), "replay"));
    ck_assert_ptr_nonnull(strstr(row_text(0), "[read-only]"));
    view_release(&v);
}
END_TEST

START_TEST(small_terminal_and_help)
{
    struct view v;
    view_init(&v);
    for (int i = 0; i < 30; i++) {
        char n[16];
        snprintf(n, sizeof n, "q%02d", i);
        add_queue(&v, n, i, 0, 1);
    }
    grid_free(&g);
    grid_init(&g, 60, 15);
    view_draw(&v, &g);
    ck_assert_int_eq(view_list_rows(15), 11);
    ck_assert_ptr_nonnull(strstr(row_text(12), "q10")); /* the last row that fits */
    ck_assert_ptr_null(strstr(row_text(13), "q11"));
    ck_assert_ptr_nonnull(strstr(row_text(14), "Enter dead jobs"));
    v.help = true;
    view_draw(&v, &g);
    ck_assert_ptr_nonnull(strstr(row_text(2), "keys"));
    view_release(&v);
}
END_TEST

START_TEST(filter_words)
{
    struct dlq_filter f;
    char store[320];
    const int64_t now = 1800000000000LL;
    ck_assert_int_eq(data_filter("payment name:charge down since:2h", &f, store, sizeof store, now), 0);
    ck_assert_str_eq(f.name, "charge");
    ck_assert_str_eq(f.reason, "payment down");
    ck_assert_int_eq(f.since, now - 7200000);
    ck_assert_ptr_null(f.signature);
    ck_assert_int_eq(data_filter("eed42159003a until:1799999999000", &f, store, sizeof store, now), 0);
    ck_assert_str_eq(f.signature, "eed42159003a");
    ck_assert_int_eq(f.until, 1799999999000LL);
    ck_assert_ptr_null(f.reason);
    ck_assert_int_eq(data_filter("", &f, store, sizeof store, now), 0);
    ck_assert(!f.name && !f.reason && !f.signature && !f.since && !f.until);
    ck_assert_int_eq(data_filter("since:yesterdayish", &f, store, sizeof store, now), -1);
    /* the CLI's flag as a word: the same filter */
    ck_assert_int_eq(data_filter("failed-reason:timeout name:x", &f, store, sizeof store, now), 0);
    ck_assert_str_eq(f.reason, "timeout");
    ck_assert_str_eq(f.name, "x");
}
END_TEST

START_TEST(queues_sorted_and_help_per_screen)
{
    struct view v;
    view_init(&v);
    add_queue(&v, "a", 5, 1, 1);
    add_queue(&v, "b", 50, 0, 1);
    add_queue(&v, "c", 0, 9, 1);
    view_sort_queues(v.q, v.nq, 1); /* waiting */
    ck_assert_str_eq(v.q[0].name, "b");
    view_sort_queues(v.q, v.nq, 2); /* failed */
    ck_assert_str_eq(v.q[0].name, "c");
    view_sort_queues(v.q, v.nq, 0);
    ck_assert_str_eq(v.q[0].name, "a");
    v.help = true;
    view_draw(&v, &g);
    struct buf all;
    buf_init(&all, 0);
    for (int y = 0; y < g.h; y++) {
        buf_adds(&all, row_text(y));
        buf_addc(&all, '\n');
    }
    ck_assert_ptr_nonnull(strstr(all.data, "o                sort"));
    ck_assert_ptr_null(strstr(all.data, "raw JSON")); /* a job's key, not the queues' */
    buf_release(&all);
    view_release(&v);
}
END_TEST

/* the layout of the dead jobs' columns at literal widths (layout.h) */
START_TEST(layout_dead_jobs)
{
    struct layout L;
    enum { JOB, NAME, FIN, ATT, SIG, REASON };
    layout_columns(view_dead_cols, 6, 200, 1, &L);
    for (int i = 0; i < 6; i++)
        ck_assert(L.shown[i]);
    ck_assert_int_eq(L.w[JOB], 24);
    ck_assert_int_eq(L.w[NAME], 16);
    ck_assert_int_eq(L.x[REASON], 79);
    ck_assert_int_eq(L.w[REASON], 121); /* the spare width is REASON's */
    layout_columns(view_dead_cols, 6, 80, 1, &L);
    ck_assert(!L.shown[SIG]); /* dropped first: REASON reads 38, not 8 */
    ck_assert(L.shown[JOB] && L.shown[NAME] && L.shown[FIN] && L.shown[ATT] && L.shown[REASON]);
    ck_assert_int_eq(L.w[JOB], 9);
    ck_assert_int_eq(L.x[REASON], 42);
    ck_assert_int_eq(L.w[REASON], 38);
    ck_assert_int_eq(L.x[REASON] + L.w[REASON], 80);
    layout_columns(view_dead_cols, 6, 60, 1, &L);
    ck_assert(L.shown[JOB] && L.shown[FIN] && L.shown[REASON]);
    ck_assert(!L.shown[NAME] && !L.shown[ATT] && !L.shown[SIG]);
    ck_assert_int_eq(L.x[REASON], 25);
    ck_assert_int_eq(L.w[REASON], 35);
    ck_assert_int_eq(L.w[SIG], 0);
    /* narrower than what must stay: the identifying column whole, the text narrowed */
    layout_columns(view_dead_cols, 6, 20, 1, &L);
    ck_assert(L.shown[JOB] && L.shown[REASON] && !L.shown[FIN]);
    ck_assert_int_eq(L.w[JOB], 8);
    ck_assert_int_eq(L.w[REASON], 11);
    layout_columns(view_dead_cols, 6, 3, 1, &L);
    ck_assert_int_eq(L.w[REASON], 1);
}
END_TEST

START_TEST(layout_queues_and_tables)
{
    struct layout L;
    layout_columns(view_queue_cols, 11, 60, 1, &L);
    static const bool at60[11] = {true, true, true, false, false, true, false, false, false, true, true};
    for (int i = 0; i < 11; i++)
        ck_assert_int_eq(L.shown[i], at60[i]);
    ck_assert_int_eq(L.w[10], 18); /* the trend and the badges */
    layout_columns(view_queue_cols, 11, 140, 1, &L);
    for (int i = 0; i < 11; i++)
        ck_assert(L.shown[i]); /* every count at 140 columns */
    /* no flex column: what is left goes to the last shown one */
    static const struct layout_col two[] = {{"A", 4, 6, 0, 1, false, false},
                                            {"B", 4, 4, 1, 0, false, true}};
    layout_columns(two, 2, 20, 1, &L);
    ck_assert_int_eq(L.w[0], 6);
    ck_assert_int_eq(L.x[1], 7);
    ck_assert_int_eq(L.w[1], 13);
    layout_columns(two, 2, 5, 1, &L);
    ck_assert(L.shown[0] && !L.shown[1]);
    ck_assert_int_eq(L.w[0], 5);
}
END_TEST

/* the dead jobs at 80 columns, drawn: REASON's header where the layout puts
 * it and a long reason read far past the 8 characters of the fixed widths */
START_TEST(dead_jobs_drawn_at_80)
{
    struct view v;
    struct grid gr;
    struct buf b;
    view_init(&v);
    v.scr = SCR_DEAD;
    v.queue = xstrdup("payments");
    v.nd = 1;
    v.d = xcalloc(1, sizeof *v.d);
    v.d[0].id = xstrdup("1234");
    v.d[0].name = xstrdup("charge");
    v.d[0].reason = xstrdup("connection timeout after 30000 ms talking to the payments gateway");
    v.d[0].finished_on = 1800000000000LL;
    snprintf(v.d[0].signature, sizeof v.d[0].signature, "7b3d47c99c96");
    grid_init(&gr, 80, 24);
    view_draw(&v, &gr);
    buf_init(&b, 0);
    grid_row(&gr, 1, &b);
    ck_assert_ptr_nonnull(strstr(b.data, "REASON"));
    ck_assert_int_eq((int)(strstr(b.data, "REASON") - b.data), 42);
    ck_assert_ptr_null(strstr(b.data, "SIGNATURE"));
    buf_reset(&b);
    grid_row(&gr, 2, &b);
    ck_assert_ptr_nonnull(strstr(b.data, "connection timeout after 30000 ms"));
    buf_release(&b);
    grid_free(&gr);
    view_release(&v);
}
END_TEST

/* job detail: a 300-character reason is cut at 80 columns, scrolls
 * sideways, and wrapped reads whole; escapes count in the split */
START_TEST(job_detail_wraps_and_scrolls)
{
    struct view v;
    struct grid gr;
    struct buf b;
    view_init(&v);
    v.scr = SCR_JOB;
    v.queue = xstrdup("q");
    v.job_id = xstrdup("1");
    char reason[400];
    memset(reason, 'x', sizeof reason);
    memcpy(reason, "  failedReason ", 15);
    memcpy(reason + 15 + 290, "END", 4); /* 308 characters */
    v.nlines = 2;
    v.lines = xcalloc(2, sizeof *v.lines);
    v.lines[0] = xstrdup("#fields");
    v.lines[1] = xstrdup(reason);
    grid_init(&gr, 80, 24);
    buf_init(&b, 0);
    view_draw(&v, &gr);
    grid_row(&gr, 2, &b);
    ck_assert_int_eq((int)b.len, 80);
    ck_assert_ptr_null(strstr(b.data, "END"));
    ck_assert_int_eq(view_job_rows(&v, 80), 2);
    v.jleft = 240; /* three steps of half a screen: the end shows */
    view_draw(&v, &gr);
    buf_reset(&b);
    grid_row(&gr, 2, &b);
    ck_assert_str_eq(b.data + b.len - 3, "END");
    view_job_toggle_wrap(&v, 80);
    ck_assert(v.wrap);
    ck_assert_int_eq(v.jleft, 0);
    ck_assert_int_eq(view_job_rows(&v, 80), 1 + 4); /* 308 = 3 x 80 + 68 */
    view_draw(&v, &gr);
    buf_reset(&b);
    grid_row(&gr, 5, &b);
    ck_assert_int_eq((int)b.len, 68);
    ck_assert_str_eq(b.data + b.len - 3, "END");
    v.jtop = 3; /* scrolled by wrapped rows: the second line's third row first */
    view_job_toggle_wrap(&v, 80);
    ck_assert_int_eq(v.jtop, 1); /* back to one row a line: the same line */
    /* an escape takes its 4 columns in the split: \x1b is never cut in two */
    ck_assert_int_eq((int)grid_fit("ab\x1b" "cd", 5, 5), 2);
    ck_assert_int_eq((int)grid_fit("ab\x1b" "cd", 5, 6), 3);
    ck_assert_int_eq((int)grid_fit("ab\x1b" "cd", 5, 2), 2);
    ck_assert_int_eq((int)grid_fit("\x1b", 1, 2), 1); /* always moves on */
    buf_release(&b);
    grid_free(&gr);
    view_release(&v);
}
END_TEST

START_TEST(hints_fit_narrow_terminals)
{
    char out[256];
    const char *h = "Enter detail  / filter  v by signature  Space mark  r replay  Esc back  ? help";
    view_hints_fit(h, 200, out, sizeof out);
    ck_assert_str_eq(out, h);
    view_hints_fit(h, 40, out, sizeof out);
    ck_assert_str_eq(out, "Enter detail  / filter  ? help");
    ck_assert_int_le((int)strlen(out), 40);
    view_hints_fit(h, 10, out, sizeof out);
    ck_assert_str_eq(out, "? help");
    view_hints_fit("j/k move  q quit", 9, out, sizeof out);
    ck_assert_str_eq(out, "j/k move");
}
END_TEST

Suite *
tui_suite(void)
{
    Suite *s = suite_create("tui");
    TCase *tc = tcase_create("grid");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, controls_are_escaped);
    tcase_add_test(tc, invalid_utf8_and_widths);
    tcase_add_test(tc, queues_screen);
    tcase_add_test(tc, dead_screen_and_filter);
    tcase_add_test(tc, small_terminal_and_help);
    tcase_add_test(tc, filter_words);
    tcase_add_test(tc, layout_dead_jobs);
    tcase_add_test(tc, layout_queues_and_tables);
    tcase_add_test(tc, dead_jobs_drawn_at_80);
    tcase_add_test(tc, job_detail_wraps_and_scrolls);
    tcase_add_test(tc, hints_fit_narrow_terminals);
    tcase_add_test(tc, queues_sorted_and_help_per_screen);
    suite_add_tcase(s, tc);
    return s;
}
