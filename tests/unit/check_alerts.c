/* Unit tests of alerts/expr.c and alerts/rule.c: the expression language
 * against a fake source with a fixed clock, every indicator kind and
 * function, and the state machine, flapping included; of alerts/sink.c:
 * escaping and cuts to the receivers' limits, message ids, secrets kept
 * out of stored bodies; of the engine's Alertmanager re-push. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>
#include <unistd.h>

#include "engine.h"
#include "outbox.h"
#include "sink.h"
#include "window.h"
#include "expr.h"
#include "ingest.h"
#include "rule.h"
#include "labels.h"
#include "silence.h"
#include "store.h"
#include "suites.h"

/* ---- a fake source: fixed values, a fixed clock ---- */

struct fake {
    double gauge[IND_N];
    double window[IND_N];
    int64_t last_window_ms;
    int64_t t[64];
    double v[64];
    int n;
};

static double
f_gauge(void *ud, enum ind i)
{
    return ((struct fake *)ud)->gauge[i];
}

static double
f_window(void *ud, enum ind i, int64_t w)
{
    struct fake *f = ud;
    f->last_window_ms = w;
    return f->window[i];
}

static int
f_samples(void *ud, enum ind i, int64_t w, const int64_t **t, const double **v)
{
    struct fake *f = ud;
    (void)i;
    f->last_window_ms = w;
    *t = f->t;
    *v = f->v;
    return f->n;
}

static struct fake F;
static struct expr_src S;

static void
setup(void)
{
    memset(&F, 0, sizeof F);
    for (int i = 0; i < IND_N; i++) {
        F.gauge[i] = NAN;
        F.window[i] = NAN;
    }
    S = (struct expr_src){&F, 1000000, f_gauge, f_window, f_samples, NULL};
}

static double
ev(const char *text, double *value, double *threshold)
{
    char err[200];
    int col;
    struct expr *e = expr_parse(text, err, sizeof err, &col);
    ck_assert_msg(e != NULL, "'%s' rejected at %d: %s", text, col, err);
    double r = expr_eval(e, &S, value, threshold);
    expr_free(e);
    return r;
}

#define EV(text) ev(text, NULL, NULL)

static void
expect_error(const char *text, int want_col, const char *want)
{
    char err[200];
    int col;
    struct expr *e = expr_parse(text, err, sizeof err, &col);
    ck_assert_msg(e == NULL, "'%s' accepted", text);
    ck_assert_msg(col == want_col, "'%s': error at column %d, wanted %d (%s)", text, col, want_col, err);
    ck_assert_msg(strstr(err, want) != NULL, "'%s': error '%s' lacks '%s'", text, err, want);
}

static void
expect_print(const char *text, const char *canon)
{
    char err[200];
    int col;
    struct expr *e = expr_parse(text, err, sizeof err, &col);
    ck_assert_msg(e != NULL, "'%s': %s", text, err);
    struct buf b;
    buf_init(&b, 0);
    expr_print(e, &b);
    ck_assert_str_eq(b.data, canon);
    /* the printed form parses to the same print */
    struct expr *e2 = expr_parse(b.data, err, sizeof err, &col);
    ck_assert_msg(e2 != NULL, "reprint '%s': %s", b.data, err);
    struct buf b2;
    buf_init(&b2, 0);
    expr_print(e2, &b2);
    ck_assert_str_eq(b2.data, canon);
    buf_release(&b);
    buf_release(&b2);
    expr_free(e);
    expr_free(e2);
}

START_TEST(gauges_and_comparisons)
{
    F.gauge[IND_WAITING] = 1500;
    F.gauge[IND_WORKERS] = 0;
    F.gauge[IND_OLDEST_WAITING_AGE] = 700; /* s */
    double v, t;
    ck_assert(expr_true(ev("waiting > 1000", &v, &t)));
    ck_assert(v == 1500 && t == 1000);
    ck_assert(!expr_true(EV("waiting > 1500")));
    ck_assert(expr_true(EV("waiting >= 1500")));
    ck_assert(expr_true(EV("waiting > 1000 and workers == 0")));
    ck_assert(!expr_true(EV("waiting > 1000 and workers >= 1")));
    ck_assert(expr_true(EV("waiting > 5000 or workers < 1")));
    ck_assert(expr_true(EV("oldest_waiting_age > 10m")));   /* 600 s */
    ck_assert(!expr_true(EV("oldest_waiting_age > 1h")));
    ck_assert(expr_true(EV("not (waiting < 10)")));
    ck_assert(expr_true(EV("waiting / 3 == 500")));
    ck_assert(expr_true(EV("-waiting + 2 * 1000 == 500")));
    /* a missing value is never true, whichever way it is compared */
    ck_assert(!expr_true(EV("active > 0")));
    ck_assert(!expr_true(EV("active <= 0")));
    ck_assert(!expr_true(EV("waiting / workers > 1"))); /* division by zero: no value */
}
END_TEST

START_TEST(windows_and_ratio)
{
    F.window[IND_FAILURES] = 12;
    F.window[IND_COMPLETIONS] = 100;
    F.window[IND_FAILURE_RATIO] = 0.107;
    F.window[IND_RUNTIME_P95] = 2.5;
    F.gauge[IND_COMPLETED] = 7; /* the completed set's depth */
    ck_assert(expr_true(EV("failures[5m] > 10")));
    ck_assert_int_eq(F.last_window_ms, 300000);
    ck_assert(expr_true(EV("completed[1h] == 100")));
    ck_assert_int_eq(F.last_window_ms, 3600000);
    ck_assert(expr_true(EV("completed == 7")));
    ck_assert(expr_true(EV("failure_ratio[15m] > 0.1")));
    ck_assert(expr_true(EV("runtime_p95[10m] > 2s")));
    /* rate of a counter: per second over the window */
    double v;
    ev("rate(failures[2m]) > 0", &v, NULL);
    ck_assert_double_eq_tol(v, 0.1, 1e-9);
    ck_assert(expr_true(EV("absent(retries[5m])")));
    ck_assert(!expr_true(EV("absent(failures[5m])")));
    ck_assert(expr_true(EV("absent(workers)")));
}
END_TEST

START_TEST(slope_predict_rate_of_gauges)
{
    /* waiting grows by 10 a minute: samples every 30 s up to now */
    S.now = 600000;
    F.n = 0;
    for (int64_t t = 0; t <= 600000; t += 30000) {
        F.t[F.n] = t;
        F.v[F.n++] = 100 + 10.0 * (double)t / 60000.0;
    }
    double v;
    ev("slope(waiting[10m]) > 5", &v, NULL);
    ck_assert_double_eq_tol(v, 10.0, 1e-9);
    ck_assert_int_eq(F.last_window_ms, 600000);
    /* at now: 200; in 30 min: 500 */
    ev("predict(waiting[10m], 30m) > 400", &v, NULL);
    ck_assert_double_eq_tol(v, 500.0, 1e-6);
    ck_assert(!expr_true(EV("predict(waiting[10m], 30m) > 600")));
    ev("rate(waiting[10m]) > 0", &v, NULL);
    ck_assert_double_eq_tol(v, 10.0 / 60.0, 1e-9);
    /* too few samples: no value, so false */
    F.n = 1;
    ck_assert(!expr_true(EV("slope(waiting[10m]) > -1000")));
    F.n = 0;
    ck_assert(!expr_true(EV("predict(waiting[10m], 30m) >= 0")));
}
END_TEST

START_TEST(fit_is_least_squares)
{
    /* noisy points around v = 2t + 1 */
    int64_t t[] = {0, 1, 2, 3};
    double v[] = {1.1, 2.9, 5.2, 6.8};
    double slope, at;
    ck_assert(expr_fit(t, v, 4, 4, &slope, &at));
    ck_assert_double_eq_tol(slope, 1.94, 1e-9);
    ck_assert_double_eq_tol(at, 1.09 + 1.94 * 4, 1e-9);
    int64_t same[] = {5, 5};
    ck_assert(!expr_fit(same, v, 2, 5, &slope, &at));
}
END_TEST

START_TEST(errors_point_at_the_column)
{
    expect_error("waiting >", 10, "unexpected end");
    expect_error("waitin > 5", 1, "unknown indicator or function 'waitin'");
    expect_error("failures > 0", 1, "needs a window");
    expect_error("failures[5] > 0", 10, "window");
    expect_error("failures[5x] > 0", 11, "unknown unit");
    expect_error("slope(failures[5m]) > 0", 7, "needs a gauge");
    expect_error("slope(waiting) > 0", 7, "needs an indicator with a window");
    expect_error("predict(waiting[5m]) > 0", 20, "predict takes");
    expect_error("(waiting > 1", 13, "expected ')'");
    expect_error("waiting > 5 andd active > 1", 13, "after the expression");
    expect_error("waiting $ 5", 9, "unexpected '$'");
}
END_TEST

START_TEST(canonical_print)
{
    expect_print("waiting>1000  and workers==0", "waiting > 1000 and workers == 0");
    expect_print("predict( waiting[30m] , 1800s ) > 1e4", "predict(waiting[30m], 30m) > 10000");
    expect_print("absent( workers )", "absent(workers)");
}
END_TEST

/* A literal too big for a double is refused: it would print as inf, which
 * does not parse back (a fuzzing finding). */
START_TEST(number_out_of_range)
{
    char err[256];
    int col = 0;
    ck_assert_ptr_null(expr_parse("waiting > 5E22111", err, sizeof err, &col));
    ck_assert_msg(strstr(err, "number out of range") != NULL, "%s", err);
    ck_assert_int_eq(col, 11);
    struct expr *e = expr_parse("waiting > 1e300", err, sizeof err, &col);
    ck_assert_ptr_nonnull(e);
    expr_free(e);
}
END_TEST

START_TEST(canonical_print_precedence)
{
    expect_print("(waiting - active) * 2 > 10 or not (failures[90s] > 0)",
                 "(waiting - active) * 2 > 10 or not failures[90s] > 0");
    expect_print("waiting - (active - delayed) > 0", "waiting - (active - delayed) > 0");
    /* comparisons do not chain: one inside another keeps its parentheses
     * (fuzzing found the print dropping them: it did not parse back) */
    expect_print("(waiting > 1) > 0", "(waiting > 1) > 0");
    expect_print("0 < (waiting > 1)", "0 < (waiting > 1)");
    expect_print("completed[1h] > 0", "completed[1h] > 0");
}
END_TEST

START_TEST(indicator_sets)
{
    char err[200];
    int col;
    struct expr *e = expr_parse("failures[5m] > 0 and waiting > 1", err, sizeof err, &col);
    uint32_t m = expr_inds(e);
    ck_assert(m & (1u << IND_FAILURES));
    ck_assert(m & (1u << IND_WAITING));
    ck_assert(!(m & (1u << IND_ACTIVE)));
    expr_free(e);
}
END_TEST

/* ---- the state machine, with a fixed clock ---- */

START_TEST(no_for_fires_at_once_and_resolves)
{
    struct alert a = {0};
    ck_assert_int_eq(alert_step(&a, false, 0, 0, 0), ALERT_SAME);
    ck_assert_int_eq(alert_step(&a, true, 1000, 0, 0), ALERT_TO_FIRING);
    ck_assert_int_eq(a.state, ALERT_FIRING);
    ck_assert_int_eq(alert_step(&a, true, 2000, 0, 0), ALERT_SAME);
    ck_assert_int_eq(alert_step(&a, false, 3000, 0, 0), ALERT_TO_RESOLVED);
    ck_assert_int_eq(a.state, ALERT_INACTIVE);
}
END_TEST

START_TEST(for_waits_in_pending)
{
    struct alert a = {0};
    const int64_t FOR = 60000;
    ck_assert_int_eq(alert_step(&a, true, 0, FOR, 0), ALERT_TO_PENDING);
    ck_assert_int_eq(alert_step(&a, true, 30000, FOR, 0), ALERT_SAME);
    ck_assert_int_eq(alert_step(&a, true, 59999, FOR, 0), ALERT_SAME);
    ck_assert_int_eq(a.state, ALERT_PENDING);
    ck_assert_int_eq(alert_step(&a, true, 60000, FOR, 0), ALERT_TO_FIRING);
    /* false while pending: back to inactive without firing */
    struct alert b = {0};
    ck_assert_int_eq(alert_step(&b, true, 0, FOR, 0), ALERT_TO_PENDING);
    ck_assert_int_eq(alert_step(&b, false, 50000, FOR, 0), ALERT_TO_INACTIVE);
    ck_assert_int_eq(alert_step(&b, true, 55000, FOR, 0), ALERT_TO_PENDING);
    /* the clock starts again: 60 s after 55 s, not after 0 */
    ck_assert_int_eq(alert_step(&b, true, 100000, FOR, 0), ALERT_SAME);
    ck_assert_int_eq(alert_step(&b, true, 115000, FOR, 0), ALERT_TO_FIRING);
}
END_TEST

/* A value flapping around the threshold every 10 s: without
 * keep_firing_for the alert resolves and fires again each flap; with 30 s
 * of keep_firing_for it fires once and resolves 30 s after the last true. */
START_TEST(flapping_with_and_without_keep_firing_for)
{
    struct alert a = {0}, k = {0};
    int fired_a = 0, resolved_a = 0, fired_k = 0, resolved_k = 0;
    for (int64_t t = 0; t <= 120000; t += 10000) {
        bool cond = (t / 10000) % 2 == 0;
        enum alert_change ca = alert_step(&a, cond, t, 0, 0);
        enum alert_change ck = alert_step(&k, cond, t, 0, 30000);
        fired_a += ca == ALERT_TO_FIRING;
        resolved_a += ca == ALERT_TO_RESOLVED;
        fired_k += ck == ALERT_TO_FIRING;
        resolved_k += ck == ALERT_TO_RESOLVED;
    }
    ck_assert_int_eq(fired_a, 7);
    ck_assert_int_eq(resolved_a, 6);
    ck_assert_int_eq(fired_k, 1);
    ck_assert_int_eq(resolved_k, 0);
    ck_assert_int_eq(k.state, ALERT_FIRING);
    /* then false for good: resolved once 30 s have passed since the last true (120 s) */
    ck_assert_int_eq(alert_step(&k, false, 130000, 0, 30000), ALERT_SAME);
    ck_assert_int_eq(alert_step(&k, false, 149999, 0, 30000), ALERT_SAME);
    ck_assert_int_eq(alert_step(&k, false, 150000, 0, 30000), ALERT_TO_RESOLVED);
}
END_TEST

/* flapping with `for`: a pending alert that drops never fires */
START_TEST(flapping_with_for)
{
    struct alert a = {0};
    int fired = 0;
    for (int64_t t = 0; t <= 300000; t += 10000)
        fired += alert_step(&a, (t / 10000) % 3 != 2, t, 30000, 0) == ALERT_TO_FIRING;
    ck_assert_int_eq(fired, 0);
}
END_TEST

/* ---- rules from config sections ---- */

static int
load(const char *ini, struct rules *rs, char *err, struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    if (config_parse(cfg, "t.ini", ini, err, 300) != 0)
        return -2;
    return rules_load(cfg, rs, err, 300);
}

START_TEST(rules_from_sections)
{
    struct config cfg;
    struct rules rs;
    char err[300];
    ck_assert_int_eq(load("[sink hook]\ntype = webhook\nurl = http://127.0.0.1:1/x\n"
                          "[rule backlog]\nqueues = orders*\nexpr = waiting > 10\nfor = 2m\n"
                          "keep_firing_for = 30s\nsinks = hook\nsummary = {queue} has {value} waiting (>{threshold})\n"
                          "[rule dead]\nexpr = failures[1m] > 0\nseverity = critical\nsend_resolved = false\n",
                          &rs, err, &cfg),
                     0);
    ck_assert_int_eq(rs.n, 2);
    ck_assert_str_eq(rs.v[0].name, "backlog");
    ck_assert_int_eq(rs.v[0].for_ms, 120000);
    ck_assert_int_eq(rs.v[0].keep_firing_for_ms, 30000);
    ck_assert(!rs.v[0].event_driven);
    ck_assert(rs.v[1].event_driven);
    ck_assert(!rs.v[1].send_resolved);
    ck_assert(rule_matches_queue(&rs.v[0], "orders-eu"));
    ck_assert(!rule_matches_queue(&rs.v[0], "email"));
    ck_assert(rule_matches_queue(&rs.v[1], "email"));
    free(rs.v[1].queues);
    rs.v[1].queues = strdup("*, !*-dlq, !dead-letter");
    ck_assert(rule_matches_queue(&rs.v[1], "email"));
    ck_assert(!rule_matches_queue(&rs.v[1], "email-dlq"));
    ck_assert(!rule_matches_queue(&rs.v[1], "dead-letter"));
    struct buf b;
    buf_init(&b, 0);
    rule_summary(&rs.v[0], "orders-eu", 1234, 10, &b);
    ck_assert_str_eq(b.data, "orders-eu has 1234 waiting (>10)");
    buf_release(&b);
    rules_release(&rs);
    config_release(&cfg);
}
END_TEST

START_TEST(rule_errors_name_line_and_column)
{
    struct config cfg;
    struct rules rs;
    char err[300];
    ck_assert_int_eq(load("[rule r]\nexpr =  waiting >> 3\n", &rs, err, &cfg), -1);
    ck_assert_msg(strncmp(err, "t.ini:2:18:", 11) == 0, "%s", err);
    config_release(&cfg);
    ck_assert_int_eq(load("[rule r]\nexpr = waiting > 3\nsinks = nowhere\n", &rs, err, &cfg), -1);
    ck_assert_msg(strstr(err, "t.ini:3:9:") && strstr(err, "no [sink nowhere]"), "%s", err);
    config_release(&cfg);
    ck_assert_int_eq(load("[rule r]\nexpr = waiting > 3\nfor = soon\n", &rs, err, &cfg), -1);
    ck_assert_msg(strstr(err, "t.ini:3:7:") && strstr(err, "duration"), "%s", err);
    config_release(&cfg);
    ck_assert_int_eq(load("[rule r]\nqueues = *\n", &rs, err, &cfg), -1);
    ck_assert_msg(strstr(err, "needs expr"), "%s", err);
    config_release(&cfg);
}
END_TEST

/* silence matchers over rule, queue and severity (labels endpoint, queue) */
static bool
match4(const char *m, const char *rule, const char *queue, const char *severity)
{
    struct labels l = {0};
    labels_set(&l, "queue", queue);
    labels_set(&l, "endpoint", "default");
    return labels_match(m, rule, severity, &l);
}

/* The label set is the alert's identity: canonical JSON with the keys in
 * order whatever the order they were set in, one fingerprint per set, and
 * the silences' matchers see every label. */
START_TEST(labels_identity)
{
    struct labels a = {0}, b = {0};
    labels_set(&a, "queue", "pay \"x\"");
    labels_set(&a, "endpoint", "default");
    labels_set(&b, "endpoint", "default");
    labels_set(&b, "queue", "pay \"x\"");
    struct buf ja, jb;
    buf_init(&ja, 0);
    buf_init(&jb, 0);
    labels_json(&a, &ja);
    labels_json(&b, &jb);
    ck_assert_str_eq(ja.data, "{\"endpoint\":\"default\",\"queue\":\"pay \\\"x\\\"\"}");
    ck_assert_str_eq(ja.data, jb.data);
    char fa[17], fb[17], fc[17];
    labels_fingerprint("dead", &a, fa);
    labels_fingerprint("dead", &b, fb);
    ck_assert_str_eq(fa, fb);
    labels_set(&b, "endpoint", "eu");
    labels_fingerprint("dead", &b, fc);
    ck_assert_str_ne(fa, fc); /* another endpoint: another alert */
    labels_fingerprint("backlog", &a, fc);
    ck_assert_str_ne(fa, fc);
    ck_assert(labels_match("endpoint=eu,queue=pay*", "dead", "critical", &b));
    ck_assert(!labels_match("endpoint=eu", "dead", "critical", &a));
    ck_assert_str_eq(labels_get(&b, "endpoint"), "eu");
    ck_assert_ptr_null(labels_get(&b, "signature"));
    buf_release(&ja);
    buf_release(&jb);
}
END_TEST

START_TEST(silence_matchers)
{
    ck_assert(match4("queue=orders*", "dead", "orders-eu", "critical"));
    ck_assert(!match4("queue=orders*", "dead", "emails", "critical"));
    ck_assert(match4("rule=dead,queue=q1", "dead", "q1", "warning"));
    ck_assert(!match4("rule=dead,queue=q1", "dead", "q2", "warning")); /* all must hold */
    ck_assert(!match4("rule=dead,queue=q1", "backlog", "q1", "warning"));
    ck_assert(match4("severity=warn*", "x", "y", "warning"));
    ck_assert(!match4("colour=red", "x", "y", "warning")); /* unknown key: no match */
    ck_assert(!match4("queue", "x", "y", "warning"));
}
END_TEST

/* ---- the engine on a real SQLite store (a temporary file) ---- */

static int
count_rows(struct store *st, const char *sql)
{
    sqlite3_stmt *s;
    int n = -1;
    ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* the temporary store's files and directory */
static void
remove_store(const char *dir, const char *path)
{
    char f[300];
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s%s", path, sfx[i]);
        unlink(f);
    }
    rmdir(dir);
}

/* A window reads what an earlier run counted (reloaded from the store) plus
 * what the ingest reports now; it slides with the clock. */
START_TEST(engine_window_survives_restart_and_slides)
{
    char dir[] = "/tmp/bw-ut-engine-XXXXXX", path[256], ini[512], err[300];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
    snprintf(ini, sizeof ini,
             "[store]\npath = %s\n[rule dead]\nexpr = failures[10m] >= 3\n"
             "[rule big]\nexpr = waiting > 100\n", path);
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    ck_assert_int_eq(config_parse(&cfg, "t.ini", ini, err, sizeof err), 0);
    struct store *st = store_open(path, false, err, sizeof err);
    ck_assert_msg(st != NULL, "%s", err);
    const int64_t now = 1800000000000LL, minute = now / 60000;
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO minute_counts (endpoint, queue, minute, failed) VALUES ('%s', 'q', %lld, 2)",
             cfg.endpoint_name, (long long)(minute - 3));
    ck_assert_int_eq(sqlite3_exec(store_db(st), sql, NULL, NULL, NULL), SQLITE_OK);
    struct window *w = window_new(st);
    struct engine *e = engine_new(&cfg, st, w, now, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    ck_assert_int_eq(engine_nrules(e), 2);
    /* one more failure, read now: 2 + 1 reaches the threshold */
    engine_count(e, "q", IC_FAILED, minute, 1);
    (void)engine_eval(e, now, false);
    ck_assert_int_eq(window_commit(w), 0);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'dead' "
                                    "AND queue = 'q' AND to_state = 'firing' AND value = 3 "
                                    "AND threshold = 3"), 1);
    /* an event-driven evaluation leaves the timer rules alone */
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'big'"), 0);
    /* gauges: a poll with 150 waiting fires `big` on the timer */
    struct queue_list l = {0};
    char *names[] = {(char *)"q"};
    l.names = names;
    l.n = 1;
    struct queue_depth d = {0};
    d.ok = true;
    d.waiting = 150;
    d.workers = 1;
    d.oldest_waiting_ms = -1;
    engine_depths(e, &l, &d, true, now);
    (void)engine_eval(e, now, true);
    ck_assert_int_eq(window_commit(w), 0);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'big' "
                                    "AND to_state = 'firing' AND value = 150"), 1);
    /* Redis unreachable: no gauge value, so `big` resolves */
    engine_depths(e, &l, &d, false, now + 1000);
    (void)engine_eval(e, now + 1000, true);
    ck_assert_int_eq(window_commit(w), 0);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'big' "
                                    "AND to_state = 'resolved'"), 1);
    /* eleven minutes on, the failures left the window: resolved */
    (void)engine_eval(e, now + 11 * 60000, true);
    ck_assert_int_eq(window_commit(w), 0);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'dead' "
                                    "AND to_state = 'resolved'"), 1);
    /* the state is kept for the next start */
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_state WHERE rule = 'dead' AND "
                                    "queue = 'q' AND state = 'inactive'"), 1);
    engine_free(e);
    window_free(w);
    store_close(st);
    config_release(&cfg);
    remove_store(dir, path);
}
END_TEST

/* Several endpoints: a queue of the same name on two endpoints is two alert
 * identities (label endpoint); counts come in per endpoint through the
 * observers, an endpoint that cannot be polled loses only its own gauges,
 * and a restart reloads each endpoint's windows. */
START_TEST(engine_endpoints_apart)
{
    char dir[] = "/tmp/bw-ut-engine-XXXXXX", path[256], ini[512], err[300];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
    snprintf(ini, sizeof ini,
             "[redis eu]\nurl = redis://127.0.0.1:1/0\n[redis us]\nurl = redis://127.0.0.1:2/0\n"
             "[store]\npath = %s\n[rule dead]\nexpr = failures[10m] >= 3\n"
             "[rule big]\nexpr = waiting > 100\n", path);
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    ck_assert_msg(config_parse(&cfg, "t.ini", ini, err, sizeof err) == 0, "%s", err);
    struct store *st = store_open(path, false, err, sizeof err);
    ck_assert_msg(st != NULL, "%s", err);
    const int64_t now = 1800000000000LL, minute = now / 60000;
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO minute_counts (endpoint, queue, minute, failed) VALUES "
             "('us', 'q', %lld, 2)", (long long)(minute - 2));
    ck_assert_int_eq(sqlite3_exec(store_db(st), sql, NULL, NULL, NULL), SQLITE_OK);
    struct window *w = window_new(st);
    struct engine *e = engine_new(&cfg, st, w, now, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    void *eu = engine_observer(e, 0), *us = engine_observer(e, 1);
    ck_assert_ptr_nonnull(eu);
    ck_assert_ptr_nonnull(us);
    ck_assert_ptr_null(engine_observer(e, 2));
    /* one failure on each: us had 2 before the restart, so only us fires */
    engine_count_obs(eu, "q", IC_FAILED, minute, 1);
    engine_count_obs(us, "q", IC_FAILED, minute, 1);
    (void)engine_eval(e, now, false);
    ck_assert_int_eq(window_commit(w), 0);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'dead' "
                                    "AND to_state = 'firing'"), 1);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'dead' "
                                    "AND to_state = 'firing' AND endpoint = 'us' AND queue = 'q' "
                                    "AND labels LIKE '%\"endpoint\":\"us\"%'"), 1);
    /* gauges per endpoint: both big; then eu cannot be polled: only eu's resolves */
    struct queue_list l = {0};
    char *names[] = {(char *)"q"};
    l.names = names;
    l.n = 1;
    struct queue_depth d = {0};
    d.ok = true;
    d.waiting = 150;
    d.workers = 1;
    d.oldest_waiting_ms = -1;
    engine_depths_at(e, "eu", &l, &d, true, now);
    engine_depths_at(e, "us", &l, &d, true, now);
    (void)engine_eval(e, now, true);
    ck_assert_int_eq(window_commit(w), 0);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'big' "
                                    "AND to_state = 'firing'"), 2);
    engine_depths_at(e, "eu", &l, &d, false, now + 1000);
    (void)engine_eval(e, now + 1000, true);
    ck_assert_int_eq(window_commit(w), 0);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'big' "
                                    "AND to_state = 'resolved'"), 1);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'big' "
                                    "AND to_state = 'resolved' AND endpoint = 'eu'"), 1);
    engine_free(e);
    window_free(w);
    store_close(st);
    config_release(&cfg);
    remove_store(dir, path);
}
END_TEST

/* A window that rolls back takes its counts and its transitions with it:
 * the same events read again are counted once, the transition is proposed
 * again and committed once, and a rule just above the real count never
 * fires (the store-full double count). */
/* An engine on a store of its own in a scratch dir, from the [rule]/[sink]
 * sections given. */
struct eng_fix {
    char dir[64], path[128];
    struct config cfg;
    struct store *st;
    struct window *w;
    struct engine *e;
};

static void
eng_open(struct eng_fix *f, const char *sections, int64_t now)
{
    char ini[1024], err[300];
    snprintf(f->dir, sizeof f->dir, "/tmp/bw-ut-engine-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    snprintf(ini, sizeof ini, "[store]\npath = %s\n%s", f->path, sections);
    memset(&f->cfg, 0, sizeof f->cfg);
    ck_assert_msg(config_parse(&f->cfg, "t.ini", ini, err, sizeof err) == 0, "%s", err);
    f->st = store_open(f->path, false, err, sizeof err);
    ck_assert_msg(f->st != NULL, "%s", err);
    f->w = window_new(f->st);
    f->e = engine_new(&f->cfg, f->st, f->w, now, err, sizeof err);
    ck_assert_msg(f->e != NULL, "%s", err);
}

static void
eng_close(struct eng_fix *f)
{
    engine_free(f->e);
    window_free(f->w);
    store_close(f->st);
    config_release(&f->cfg);
    remove_store(f->dir, f->path);
}

START_TEST(engine_rollback_counts_nothing_twice)
{
    struct eng_fix f;
    const int64_t now = 1800000000000LL, minute = now / 60000;
    eng_open(&f, "[rule exact]\nexpr = failures[30m] >= 5\n[rule above]\nexpr = failures[30m] > 5\n"
                 "[sink s]\ntype = slack\nurl = http://127.0.0.1:9/x\n", now);
    struct store *st = f.st;
    struct window *w = f.w;
    struct engine *e = f.e;
    /* five deaths read, evaluated, then the window rolls back, three times */
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 5; k++)
            engine_count(e, "q", IC_FAILED, minute, 1);
        ck_assert_int_eq(engine_eval(e, now + round, false), 1); /* one outbox row */
        ck_assert(window_is_open(w));
        window_abort(w);
        ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions"), 0);
        ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox"), 0);
    }
    /* read again, and this time committed */
    for (int k = 0; k < 5; k++)
        engine_count(e, "q", IC_FAILED, minute, 1);
    ck_assert_int_eq(engine_eval(e, now + 10, false), 1);
    ck_assert_int_eq(window_commit(w), 0);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'exact' "
                                    "AND to_state = 'firing' AND value = 5"), 1);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox WHERE rule = 'exact'"), 1);
    /* the timer sees 5, not 20: `above` never fires, `exact` is not sent again */
    ck_assert_int_eq(engine_eval(e, now + 20, true), 0);
    (void)window_commit(w);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM alert_transitions WHERE rule = 'above'"), 0);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox"), 1);
    eng_close(&f);
}
END_TEST

/* Every indicator reaches the engine's rules from its source: counters from
 * the ingest's observer, gauges from a poll (a rule per indicator, each
 * written to hold exactly for the values fed in). */
START_TEST(engine_every_indicator)
{
    static const char *const exprs[] = {
        "failures[5m] == 3", "retries[5m] == 4", "completed[5m] == 5", "stalled[5m] == 1",
        "added[5m] == 9", "events_lost[5m] == 1", "failure_ratio[5m] == 0.375",
        "waiting == 10", "active == 2", "delayed == 3", "prioritized == 4", "failed == 5",
        "completed == 6", "paused == 0", "waiting_children == 7", "dlq_size == 5",
        "oldest_waiting_age == 12.5", "workers == 1", "agent_lag == 1.5", "absent(runtime_p95[5m])",
        "dead_not_failed == 3",
        "rate(failures[1m]) == 0.05",
    };
    const int n = (int)(sizeof exprs / sizeof exprs[0]);
    char dir[] = "/tmp/bw-ut-ind-XXXXXX", path[256], err[300];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
    struct buf ini;
    buf_init(&ini, 0);
    buf_addf(&ini, "[store]\npath = %s\n", path);
    for (int i = 0; i < n; i++)
        buf_addf(&ini, "[rule r%d]\nexpr = %s\n", i, exprs[i]);
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    ck_assert_msg(config_parse(&cfg, "t.ini", ini.data, err, sizeof err) == 0, "%s", err);
    struct store *st = store_open(path, false, err, sizeof err);
    ck_assert_msg(st != NULL, "%s", err);
    const int64_t now = 1800000000000LL, minute = now / 60000;
    struct window *w = window_new(st);
    struct engine *e = engine_new(&cfg, st, w, now, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    static const struct {
        int what, n;
    } counts[] = {{IC_FAILED, 3}, {IC_RETRIES, 5}, {IC_COMPLETED, 5}, {IC_STALLED, 1},
                  {IC_ADDED, 9}, {IC_GAPS, 1}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        for (int k = 0; k < counts[i].n; k++)
            engine_count(e, "q", counts[i].what, minute, 1);
    engine_count(e, "q", IC_RETRIES, minute, -1); /* a stall's waiting was no retry */
    struct queue_list l = {0};
    char *names[] = {(char *)"q"};
    l.names = names;
    l.n = 1;
    struct queue_depth d = {0};
    d.ok = true;
    d.waiting = 10;
    d.active = 2;
    d.delayed = 3;
    d.prioritized = 4;
    d.failed = 5;
    d.completed = 6;
    d.waiting_children = 7;
    d.workers = 1;
    d.oldest_waiting_ms = 12500;
    d.agent_lag_ms = 1500;
    d.deferred = 2;
    d.orphaned = 1;
    engine_depths(e, &l, &d, true, now);
    (void)engine_eval(e, now, true);
    ck_assert_int_eq(window_commit(w), 0);
    for (int i = 0; i < n; i++) {
        char q[160];
        snprintf(q, sizeof q,
                 "SELECT count(*) FROM alert_transitions WHERE rule = 'r%d' AND to_state = 'firing'", i);
        ck_assert_msg(count_rows(st, q) == 1, "rule '%s' did not fire", exprs[i]);
    }
    engine_free(e);
    window_free(w);
    store_close(st);
    config_release(&cfg);
    buf_release(&ini);
    remove_store(dir, path);
}
END_TEST

/* ---- sinks ---- */

static const char *
text_of(const char *s, size_t max, bool slack)
{
    static struct buf b;
    buf_release(&b);
    buf_init(&b, 0);
    sink_text(&b, s, max, slack);
    return b.data;
}

START_TEST(sink_text_escapes_and_cuts_on_characters)
{
    /* Slack's three: & < > (a <!channel> must not ping) */
    ck_assert_str_eq(text_of("pay <!channel> & <b>x</b>", 100, true),
                     "pay &lt;!channel&gt; &amp; &lt;b&gt;x&lt;/b&gt;");
    ck_assert_str_eq(text_of("a<b", 100, false), "a<b"); /* only Slack escapes */
    /* cut on a character boundary, an ellipsis counted in the limit */
    ck_assert_str_eq(text_of("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3, false),
                     "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
    ck_assert_str_eq(text_of("\xc3\xa9\xc3\xa9\xc3\xa9", 3, false), "\xc3\xa9\xc3\xa9\xc3\xa9");
    /* never inside an entity: "&&&" is 15 characters escaped */
    ck_assert_str_eq(text_of("&&&", 7, true), "&amp;\xe2\x80\xa6");
    ck_assert_uint_eq(sink_chars(text_of("&&&", 7, true)), 6);
    /* invalid UTF-8 and control characters become U+FFFD and spaces */
    ck_assert_str_eq(text_of("a\xff" "b\x01" "c\nd", 100, false), "a\xef\xbf\xbd" "b c\nd");
    ck_assert_str_eq(text_of("a\xf0\x9f\x98" "b", 100, false), "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b");
    /* a character cut off at the end (a capped text from the store) is dropped */
    ck_assert_str_eq(text_of("ab\xf0\x9f\x98", 100, false), "ab");
    text_of("", 0, false);
}
END_TEST

START_TEST(sink_redacts_reasons)
{
    struct buf b;
    buf_init(&b, 0);
    sink_redact("login failed: password=hunter2 token: abc.def for https://bob:pw@db.example/x "
                "Authorization: Bearer eyJhbGciOi",
                300, &b);
    ck_assert_msg(!strstr(b.data, "hunter2") && !strstr(b.data, "abc.def") && !strstr(b.data, ":pw@") &&
                      !strstr(b.data, "eyJhbGciOi"),
                  "%s", b.data);
    ck_assert_msg(strstr(b.data, "password=[redacted]") && strstr(b.data, "https://[redacted]@db.example/x"),
                  "%s", b.data);
    buf_reset(&b);
    sink_redact("timeout after 30s", 300, &b);
    ck_assert_str_eq(b.data, "timeout after 30s");
    buf_release(&b);
}
END_TEST

static int
load_sinks(const char *ini, struct sinks *sk, char *err, struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    if (config_parse(cfg, "t.ini", ini, err, 300) != 0)
        return -2;
    return sinks_load(cfg, sk, err, 300);
}

static void
hostile_notice(struct notice *n, const char *summary)
{
    memset(n, 0, sizeof *n);
    n->rule = "dead";
    n->queue = "pay <!channel> & <b>x</b>";
    n->endpoint = "default";
    n->severity = "critical";
    n->summary = summary;
    n->runbook = "https://runbooks.example/x?a=<b>";
    n->expr = "dlq_size > 0";
    n->labels = "{\"endpoint\":\"default\",\"queue\":\"pay <!channel> & <b>x</b>\"}";
    memcpy(n->fingerprint, "0123456789abcdef", 17);
    n->value = 3;
    n->threshold = 0;
    n->starts_at = n->at = n->transition_at = 1800000000000LL;
}

START_TEST(sink_bodies_within_limits)
{
    struct config cfg;
    struct sinks sk;
    char err[300];
    setenv("BW_UT_PD_KEY", "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY32", 1);
    ck_assert_msg(load_sinks("[sink chat]\ntype = slack\nurl = https://hooks.slack.example/services/T/B/X\n"
                             "[sink pd]\ntype = pagerduty\nrouting_key_env = BW_UT_PD_KEY\n",
                             &sk, err, &cfg) == 0, "%s", err);
    struct buf sum, body, wire;
    buf_init(&sum, 0);
    buf_init(&body, 0);
    buf_init(&wire, 0);
    for (int i = 0; i < 1600; i++)
        buf_adds(&sum, "\xc3\xa9"); /* é */
    struct notice n;
    hostile_notice(&n, sum.data);
    sink_body(sinks_find(&sk, "chat"), &n, &body);
    ck_assert_msg(!strstr(body.data, "<!channel>") && strstr(body.data, "&lt;!channel&gt;"), "%s", body.data);
    ck_assert_ptr_nonnull(strstr(body.data, "value 3, threshold 0"));
    ck_assert_ptr_nonnull(strstr(body.data, "runbook: https://runbooks.example/x?a=&lt;b&gt;"));
    buf_reset(&body);
    sink_body(sinks_find(&sk, "pd"), &n, &body);
    /* no secret in what is stored; added on the wire */
    ck_assert_ptr_null(strstr(body.data, "R0UT1NGKEY"));
    sink_wire_body(sinks_find(&sk, "pd"), body.data, &wire);
    ck_assert_msg(!strncmp(wire.data, "{\"routing_key\":\"R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY32\",\"event_action\"", 64),
                  "%s", wire.data);
    const char *s = strstr(body.data, "\"summary\":\"");
    ck_assert_ptr_nonnull(s);
    s += 11;
    size_t len = strcspn(s, "\"");
    char *summary = strndup(s, len);
    ck_assert_uint_eq(sink_chars(summary), SINK_PD_SUMMARY_MAX);
    ck_assert_str_eq(summary + strlen(summary) - 3, "\xe2\x80\xa6");
    free(summary);
    buf_release(&sum);
    buf_release(&body);
    buf_release(&wire);
    sinks_release(&sk);
    config_release(&cfg);
}
END_TEST

START_TEST(sink_routing_keys_and_urls_checked)
{
    struct config cfg;
    struct sinks sk;
    char err[300];
    ck_assert_int_eq(load_sinks("[sink pd]\ntype = pagerduty\nrouting_key = abcde\n", &sk, err, &cfg), -1);
    ck_assert_msg(strstr(err, "t.ini:3:15:") && strstr(err, "expected 32 letters and digits") &&
                      !strstr(err, "abcde"), "%s", err);
    config_release(&cfg);
    ck_assert_int_eq(load_sinks("[sink h]\ntype = webhook\nsecret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
                                "url = http://a:1/x, http://b:1/x\n", &sk, err, &cfg), -1);
    ck_assert_msg(strstr(err, "several URLs only for alertmanager"), "%s", err);
    config_release(&cfg);
    ck_assert_int_eq(load_sinks("[sink am]\ntype = alertmanager\nmode = api\n"
                                "url = http://a:9093, http://b:9093/\ngenerator_url = ftp://x/\n", &sk, err, &cfg), -1);
    ck_assert_msg(strstr(err, "generator_url: expected an http"), "%s", err);
    config_release(&cfg);
    ck_assert_msg(load_sinks("[sink am]\ntype = alertmanager\nmode = api\nresend_interval = 30s\n"
                             "url = http://a:9093, http://b:9093/\n", &sk, err, &cfg) == 0, "%s", err);
    ck_assert_int_eq(sink_targets(&sk.v[0]), 2);
    ck_assert_int_eq(sk.v[0].resend_ms, 30000);
    ck_assert_str_eq(sk.v[0].urls[1], "http://b:9093/");
    sinks_release(&sk);
    config_release(&cfg);
}
END_TEST

START_TEST(sink_message_ids)
{
    char an[] = "hook", bn[] = "other";
    struct sink a = {.name = an}, b = {.name = bn};
    struct notice n;
    char x[SINK_MSG_ID_LEN], y[SINK_MSG_ID_LEN], k1[48], k2[48];
    hostile_notice(&n, "s");
    sink_msg_id(&a, &n, x);
    ck_assert_int_eq(strlen(x), 36);
    ck_assert(!strncmp(x, "msg_", 4));
    n.value = 99; /* the same transition sent again, another value: the same id */
    sink_msg_id(&a, &n, y);
    ck_assert_str_eq(x, y);
    sink_msg_id(&b, &n, y);
    ck_assert_str_ne(x, y);
    n.transition_at++; /* another transition */
    sink_msg_id(&a, &n, y);
    ck_assert_str_ne(x, y);
    n.transition_at--;
    n.seq = 1; /* a repeat */
    sink_msg_id(&a, &n, y);
    ck_assert_str_ne(x, y);
    /* PagerDuty: the trigger and the resolve of an episode share it */
    notice_dedup_key(&n, k1);
    n.kind = NOTICE_RESOLVED;
    n.resolved = true;
    n.ends_at = n.at = n.transition_at = n.starts_at + 5000;
    notice_dedup_key(&n, k2);
    ck_assert_str_eq(k1, k2);
    ck_assert_str_eq(k1, "bw-0123456789abcdef-1800000000000");
}
END_TEST

/* Alertmanager api: a firing alert is pushed again every resend_interval,
 * to each Alertmanager, and a push not yet sent is replaced by the newer
 * one (at most one pending per alert and Alertmanager). */
START_TEST(engine_repushes_and_coalesces)
{
    struct eng_fix f;
    const int64_t now = 1800000000000LL;
    eng_open(&f, "[rule dead]\nexpr = failures[30m] > 0\nrepeat_interval = 1h\n"
                 "[sink am]\ntype = alertmanager\nmode = api\nresend_interval = 5s\n"
                 "url = http://127.0.0.1:9, http://127.0.0.1:10\n"
                 "[sink hook]\ntype = slack\nurl = http://127.0.0.1:9/x\n", now);
    struct store *st = f.st;
    struct window *w = f.w;
    struct engine *e = f.e;
    engine_count(e, "q", IC_FAILED, now / 60000, 2);
    ck_assert_int_eq(engine_eval(e, now, false), 1);
    ck_assert_int_eq(window_commit(w), 0);
    /* the firing: one row per Alertmanager, one for slack */
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox WHERE kind = 'firing'"), 3);
    for (int64_t t = 1000; t <= 16000; t += 1000) {
        ck_assert_int_eq(engine_eval(e, now + t, true), 0); /* a push is not a notification */
        (void)window_commit(w);
    }
    /* due at +5 s, +10 s, +15 s: three pushes to each Alertmanager */
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox WHERE kind = 'repush' AND sink = 'am'"), 6);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox WHERE kind = 'repush' AND sink != 'am'"), 0);
    /* nothing was sent (no pump): each newer push replaced the older one */
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox WHERE state = 'pending' AND sink = 'am' "
                                    "AND target = 0"), 1);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox WHERE state = 'pending' AND sink = 'am' "
                                    "AND target = 1"), 1);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox WHERE state = 'superseded'"), 6);
    /* the slack firing is untouched; the latest push carries endsAt ahead */
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox WHERE sink = 'hook' AND state = 'pending'"), 1);
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox WHERE state = 'pending' AND sink = 'am' AND "
                                    "json_extract(body, '$[0].endsAt') = '2027-01-15T08:00:35.000Z'"), 2);
    /* ids are stored with the rows; the value in alert_state follows */
    ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM outbox WHERE msg_id LIKE 'msg_%'"), 9);
    eng_close(&f);
}
END_TEST

Suite *
alerts_suite(void)
{
    Suite *s = suite_create("alerts");
    TCase *tc = tcase_create("expr");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, gauges_and_comparisons);
    tcase_add_test(tc, windows_and_ratio);
    tcase_add_test(tc, slope_predict_rate_of_gauges);
    tcase_add_test(tc, fit_is_least_squares);
    tcase_add_test(tc, errors_point_at_the_column);
    tcase_add_test(tc, canonical_print);
    tcase_add_test(tc, canonical_print_precedence);
    tcase_add_test(tc, number_out_of_range);
    tcase_add_test(tc, indicator_sets);
    suite_add_tcase(s, tc);
    tc = tcase_create("state");
    tcase_add_test(tc, no_for_fires_at_once_and_resolves);
    tcase_add_test(tc, for_waits_in_pending);
    tcase_add_test(tc, flapping_with_and_without_keep_firing_for);
    tcase_add_test(tc, flapping_with_for);
    suite_add_tcase(s, tc);
    tc = tcase_create("engine");
    tcase_add_test(tc, engine_window_survives_restart_and_slides);
    tcase_add_test(tc, engine_endpoints_apart);
    tcase_add_test(tc, engine_every_indicator);
    tcase_add_test(tc, engine_rollback_counts_nothing_twice);
    tcase_add_test(tc, labels_identity);
    tcase_add_test(tc, silence_matchers);
    suite_add_tcase(s, tc);
    tc = tcase_create("rules");
    tcase_add_test(tc, rules_from_sections);
    tcase_add_test(tc, rule_errors_name_line_and_column);
    suite_add_tcase(s, tc);
    tc = tcase_create("sinks");
    tcase_add_test(tc, sink_text_escapes_and_cuts_on_characters);
    tcase_add_test(tc, sink_redacts_reasons);
    tcase_add_test(tc, sink_bodies_within_limits);
    tcase_add_test(tc, sink_routing_keys_and_urls_checked);
    tcase_add_test(tc, sink_message_ids);
    tcase_add_test(tc, engine_repushes_and_coalesces);
    suite_add_tcase(s, tc);
    return s;
}
