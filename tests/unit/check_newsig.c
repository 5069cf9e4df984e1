/* New error signatures and baselines (issue 19), against a real SQLite
 * store with a fixed clock: the ingest's failure rows feed queue_signatures
 * (sigtab.c) in the commit window, the engine sees what is new
 * (new_signatures[w], one alert per signature, the summary past
 * max_new_signatures, silences on signature=), first-seen survives a
 * restart, a returning signature is not new, signature_retention forgets;
 * baseline(x[w], 7d) over 7 synthetic days with one day missing. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "expr.h"
#include "ingest_int.h"
#include "rule.h"
#include "signature.h"
#include "store.h"
#include "storeadmin.h"
#include "suites.h"
#include "util.h"
#include "window.h"

#define T0 1800000000000LL /* the fixed clock's start (ms) */

struct nf {
    char dir[64], path[128];
    char ini[2048];
    struct config cfg;
    struct store *st;
    struct window *w;
    struct ingest *ing;
    struct engine *e;
};

/* store, window, ingest watching "q" and the engine, as the agent wires them */
static void
nf_start(struct nf *f, int64_t now)
{
    char err[300];
    memset(&f->cfg, 0, sizeof f->cfg);
    ck_assert_msg(config_parse(&f->cfg, "t.ini", f->ini, err, sizeof err) == 0, "%s", err);
    f->st = store_open(f->path, false, err, sizeof err);
    ck_assert_msg(f->st != NULL, "%s", err);
    f->w = window_new(f->st);
    f->ing = ingest_new(&f->cfg, f->st, f->w, NULL);
    char *names[] = {(char *)"q"};
    struct queue_list l = {names, 1};
    ingest_set_queues(f->ing, &l);
    f->e = engine_new(&f->cfg, f->st, f->w, now, err, sizeof err);
    ck_assert_msg(f->e != NULL, "%s", err);
    ingest_set_observer(f->ing, engine_count, f->e);
    ingest_set_sig_observer(f->ing, engine_signature, f->e);
}

static void
nf_stop(struct nf *f)
{
    engine_free(f->e);
    ingest_free(f->ing);
    window_free(f->w);
    store_close(f->st);
    config_release(&f->cfg);
}

static void
nf_open(struct nf *f, const char *rules, int64_t now)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/bw-ut-newsig-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    snprintf(f->ini, sizeof f->ini,
             "[store]\npath = %s\n[sink hook]\ntype = webhook\nurl = http://127.0.0.1:9/x\n"
             "secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n%s",
             f->path, rules);
    nf_start(f, now);
}

static void
nf_close(struct nf *f)
{
    char p[200];
    nf_stop(f);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
        unlink(p);
    }
    rmdir(f->dir);
}

static int64_t
one(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t
one(struct store *st, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    sqlite3_stmt *s;
    int64_t v = -1;
    ck_assert_msg(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(store_db(st)));
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_type(s, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void
sig_of(const char *reason, char out[SIGNATURE_ID_LEN + 1])
{
    struct buf b;
    buf_init(&b, 0);
    signature_normalise(reason, strlen(reason), &b);
    signature_id(b.data ? b.data : "", b.len, out);
    buf_release(&b);
}

/* One death of job `job` on "q" finished at `at`, read from the stream
 * into the open window (no job hash: the event's reason is kept). */
static void
die(struct nf *f, const char *job, const char *reason, int64_t at)
{
    static int seq;
    char sid[32];
    snprintf(sid, sizeof sid, "%lld-%d", (long long)at, seq++);
    ck_assert_int_eq(window_open(f->w), 0);
    struct bstr j = {job, strlen(job)}, r = {reason, strlen(reason)};
    ck_assert_int_eq(failrec_write(f->ing, 0, j, sid, strlen(sid), at, r, NULL, false), 1);
    engine_count(f->e, "q", IC_FAILED, at / 60000, 1);
}

/* firing transitions of rule `new` for one signature's alert */
static int64_t
fired(struct nf *f, const char *sig)
{
    return one(f->st,
               "SELECT COUNT(*) FROM alert_transitions WHERE rule = 'new' AND to_state = 'firing' "
               "AND json_extract(labels, '$.signature') = '%s'",
               sig);
}

static const char *const RULE = "[rule new]\nexpr = new_signatures[10m] > 0\n";

START_TEST(first_seen_across_restarts_returning_not_new)
{
    struct nf f;
    const char *ea = "Error: timeout after 5000ms calling 10.0.0.7",
               *ea2 = "Error: timeout after 7000ms calling 10.0.0.9", /* same signature */
        *eb = "TypeError: cannot read properties of undefined (reading 'id')";
    char sa[SIGNATURE_ID_LEN + 1], sb[SIGNATURE_ID_LEN + 1], chk[SIGNATURE_ID_LEN + 1];
    sig_of(ea, sa);
    sig_of(eb, sb);
    sig_of(ea2, chk);
    ck_assert_str_eq(sa, chk);
    nf_open(&f, RULE, T0);
    /* the first death of A: new, fires within the same window's evaluation */
    die(&f, "j1", ea, T0);
    ck_assert_int_eq(engine_eval(f.e, T0, false), 1);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(fired(&f, sa), 1);
    ck_assert_int_eq(one(f.st, "SELECT first_seen - %lld FROM queue_signatures WHERE signature = "
                               "'%s' AND queue = 'q'", T0, sa), 0);
    /* its notice names the text, a job and the command */
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM outbox WHERE body LIKE '%%timeout after "
                               "<n>ms%%' AND body LIKE '%%\"id\":\"j1\"%%' AND body LIKE "
                               "'%%dlq list ''q'' --signature %s%%'", sa), 1);
    /* A again (another job): not new, no second alert; counted and sampled */
    die(&f, "j2", ea2, T0 + 60000);
    ck_assert_int_eq(engine_eval(f.e, T0 + 60000, false), 0);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(fired(&f, sa), 1);
    ck_assert_int_eq(one(f.st, "SELECT count FROM queue_signatures WHERE signature = '%s'", sa), 2);
    ck_assert_int_eq(one(f.st, "SELECT sample_job_id = 'j2' AND last_seen = %lld FROM "
                               "queue_signatures WHERE signature = '%s'", T0 + 60000, sa), 1);
    /* B, proposed and rolled back: neither the store nor the engine keeps it */
    die(&f, "j3", eb, T0 + 120000);
    ck_assert_int_eq(engine_eval(f.e, T0 + 120000, false), 1);
    window_abort(f.w);
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM queue_signatures WHERE signature = '%s'", sb), 0);
    ck_assert_int_eq(fired(&f, sb), 0);
    /* read again and committed: B's own alert, A's does not fire again */
    die(&f, "j3", eb, T0 + 120000);
    ck_assert_int_eq(engine_eval(f.e, T0 + 120000, false), 1);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(fired(&f, sb), 1);
    ck_assert_int_eq(fired(&f, sa), 1);
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM outbox"), 2);

    /* a restart within the window: both are still new, nothing fires again */
    nf_stop(&f);
    nf_start(&f, T0 + 5 * 60000);
    ck_assert_int_eq(engine_eval(f.e, T0 + 5 * 60000, true), 0);
    (void)window_commit(f.w);
    ck_assert_int_eq(fired(&f, sa), 1);
    ck_assert_int_eq(fired(&f, sb), 1);
    /* A leaves the window (first seen + 10m): resolved (sent), then B */
    ck_assert_int_eq(engine_eval(f.e, T0 + 10 * 60000 + 1, true), 1);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM alert_transitions WHERE to_state = 'resolved' "
                               "AND json_extract(labels, '$.signature') = '%s'", sa), 1);
    ck_assert_int_eq(one(f.st, "SELECT state = 'firing' FROM alert_state WHERE "
                               "json_extract(labels, '$.signature') = '%s'", sb), 1);
    /* a restart after both windows: B's open alert is reloaded and resolves */
    nf_stop(&f);
    nf_start(&f, T0 + 40 * 60000);
    (void)engine_eval(f.e, T0 + 40 * 60000, true);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM alert_state WHERE state != 'inactive'"), 0);
    /* A returns after a quiet spell, across the restart: not new */
    die(&f, "j4", ea, T0 + 41 * 60000);
    ck_assert_int_eq(engine_eval(f.e, T0 + 41 * 60000, false), 0);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(fired(&f, sa), 1);
    ck_assert_int_eq(one(f.st, "SELECT count FROM queue_signatures WHERE signature = '%s'", sa), 3);
    /* signature_retention: a signature not seen for longer is forgotten
     * (then new again); the failure rows keep their own retention */
    ck_assert_int_eq(window_open(f.w), 0);
    struct storeadmin_keep k = {0, T0 + 41 * 60000, 0};
    bool more;
    ck_assert_int_eq(storeadmin_retention_slice_keep(f.st, &k, T0 + 50 * 60000, &more), 0);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM queue_signatures"), 1); /* A stays */
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM failures"), 4);
    nf_close(&f);
}
END_TEST

/* More new signatures than max_new_signatures in one window: that many
 * notify on their own, the rest in one summary alert of the queue; a
 * silence on signature= holds one back. */
START_TEST(limit_summary_and_silence)
{
    struct nf f;
    nf_open(&f, "[rule new]\nexpr = new_signatures[10m] > 0\nmax_new_signatures = 2\n", T0);
    char s0[SIGNATURE_ID_LEN + 1];
    sig_of("Error: kind zero", s0);
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO silences (matchers, author, comment, created_at, expires_at) "
             "VALUES ('signature=%s', 't', 'known', %lld, %lld)",
             s0, T0 - 1000, T0 + 3600000);
    ck_assert_int_eq(sqlite3_exec(store_db(f.st), sql, NULL, NULL, NULL), SQLITE_OK);
    (void)engine_eval(f.e, T0, true); /* loads the silence */
    (void)window_commit(f.w);
    static const char *const kinds[] = {"zero", "one", "two", "three", "four", "five"};
    for (int i = 0; i < 6; i++) {
        char r[64], job[16];
        snprintf(r, sizeof r, "Error: kind %s", kinds[i]);
        snprintf(job, sizeof job, "j%d", i);
        die(&f, job, r, T0 + 1000 + i);
    }
    (void)engine_eval(f.e, T0 + 2000, false);
    ck_assert_int_eq(window_commit(f.w), 0);
    /* six alerts fire; the silenced one and three over the limit hold back */
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM alert_transitions WHERE to_state = 'firing' "
                               "AND json_extract(labels, '$.signature') IS NOT NULL"), 6);
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM alert_transitions WHERE to_state = 'firing' "
                               "AND silenced_by IS NOT NULL"), 1);
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM outbox WHERE json_extract(labels, "
                               "'$.signature') IS NOT NULL"), 2);
    /* the summary: the queue's own alert of the rule, once, naming three */
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM outbox WHERE json_extract(labels, "
                               "'$.signature') IS NULL AND body LIKE '%%3 more new error "
                               "signatures%%'"), 1);
    /* the next evaluation sends nothing more */
    ck_assert_int_eq(engine_eval(f.e, T0 + 3000, true), 0);
    (void)window_commit(f.w);
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM outbox"), 3);
    nf_close(&f);
}
END_TEST

static int64_t fired_rule(struct nf *f, const char *rule);

/* ---- retries due ---- */

static struct bmq_event
delayed_ev(enum bmq_ev type, const char *job, const char *delay, uint64_t ms)
{
    struct bmq_event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.id_ms = ms;
    e.job_id.p = job;
    e.job_id.n = strlen(job);
    if (delay) {
        e.delay.p = delay;
        e.delay.n = strlen(delay);
    }
    return e;
}

/* A literal set of delayed events: an add with a delay is no retry, a due
 * time already past is not due; out of order is fine; a rollback counts
 * nothing twice; the window moves with the clock. */
START_TEST(retries_due_from_a_literal_delayed_set)
{
    struct nf f;
    nf_open(&f, "[rule a]\nexpr = retries_due[1m] == 3\n[rule b]\nexpr = retries_due[2m] == 4\n"
                "[rule c]\nexpr = retries_due[1m] == 2\n", T0);
    ingest_set_retry_observer(f.ing, engine_retry, f.e);
    char due[6][24];
    static const int64_t at[6] = {5000, 10000, 30000, 90000, 50000, -1000};
    for (int i = 0; i < 6; i++)
        snprintf(due[i], sizeof due[i], "%lld", (long long)(T0 + at[i]));
    struct bmq_event es[] = {
        delayed_ev(BMQ_EV_ADDED, "1", NULL, T0),
        delayed_ev(BMQ_EV_DELAYED, "1", due[0], T0),     /* an add with a delay */
        delayed_ev(BMQ_EV_DELAYED, "2", due[1], T0),     /* +10 s */
        delayed_ev(BMQ_EV_DELAYED, "3", due[2], T0),     /* +30 s */
        delayed_ev(BMQ_EV_DELAYED, "4", due[3], T0),     /* +90 s */
        delayed_ev(BMQ_EV_DELAYED, "5", due[4], T0),     /* +50 s */
        delayed_ev(BMQ_EV_DELAYED, "6", due[5], T0),     /* already past */
        delayed_ev(BMQ_EV_DELAYED, "7", "soon", T0),     /* not a time: ignored */
    };
    const int n = (int)(sizeof es / sizeof es[0]);
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(window_open(f.w), 0);
        for (int i = 0; i < n; i++)
            counts_track(f.ing, 0, &es[i]);
        (void)engine_eval(f.e, T0, false);
        if (round == 0)
            window_abort(f.w);
        else
            ck_assert_int_eq(window_commit(f.w), 0);
    }
    ck_assert_int_eq(fired_rule(&f, "a"), 1); /* 10, 30, 50 s */
    ck_assert_int_eq(fired_rule(&f, "b"), 1); /* and 90 s */
    ck_assert_int_eq(fired_rule(&f, "c"), 0);
    /* 40 s on: 50 and 90 s are due within the minute, nothing more */
    (void)engine_eval(f.e, T0 + 40000, true);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(fired_rule(&f, "c"), 1);
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM alert_transitions WHERE to_state = 'resolved' "
                               "AND rule IN ('a', 'b')"), 2);
    nf_close(&f);
}
END_TEST

/* ---- baselines ---- */

static void
counts_at(struct store *st, const char *queue, int64_t minute, int failed, int completed)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO minute_counts (endpoint, queue, minute, failed, completed) "
             "VALUES ('default', '%s', %lld, %d, %d)",
             queue, (long long)minute, failed, completed);
    ck_assert_int_eq(sqlite3_exec(store_db(st), sql, NULL, NULL, NULL), SQLITE_OK);
}

static int64_t
fired_rule(struct nf *f, const char *rule)
{
    return one(f->st, "SELECT COUNT(*) FROM alert_transitions WHERE rule = '%s' AND "
                      "to_state = 'firing'", rule);
}

START_TEST(baseline_over_seven_days_one_missing)
{
    struct nf f;
    const int64_t now = T0 + 8 * 86400000LL;
    nf_open(&f,
            "[rule med]\nexpr = baseline(failures[15m], 7d) == 10.5\n"
            "[rule three_x]\nexpr = failures[15m] > 3 * baseline(failures[15m], 7d) and "
            "failures[15m] >= 20\n"
            "[rule ratio]\nexpr = baseline(failure_ratio[15m], 7d) == 0.5\n"
            "[rule other]\nqueues = other\nexpr = baseline(failures[15m], 7d) >= 0\n",
            now);
    /* q: days 1..7 back, day 3 has no data at all; each day's failures
     * spread over two minutes inside the 15 minutes before the same time,
     * plus a minute just outside the window that must not count */
    static const int per_day[8] = {0, 10, 12, 0, 8, 11, 9, 30};
    for (int d = 1; d <= 7; d++) {
        if (d == 3)
            continue;
        int64_t m = (now - d * 86400000LL) / 60000;
        counts_at(f.st, "q", m, per_day[d] / 2, per_day[d] / 2);
        counts_at(f.st, "q", m - 5, per_day[d] - per_day[d] / 2, per_day[d] - per_day[d] / 2);
        counts_at(f.st, "q", m - 16, 100, 0);
    }
    /* other: only 3 of the 7 days: not enough history */
    for (int d = 1; d <= 3; d++)
        counts_at(f.st, "other", (now - d * 86400000LL) / 60000, 1, 1);
    nf_stop(&f);
    nf_start(&f, now);
    struct queue_list l = {0};
    char *names[] = {(char *)"q", (char *)"other"};
    l.names = names;
    l.n = 2;
    struct queue_depth d[2];
    memset(d, 0, sizeof d);
    for (int i = 0; i < 2; i++) {
        d[i].ok = true;
        d[i].workers = 1;
        d[i].oldest_waiting_ms = -1;
    }
    engine_depths(f.e, &l, d, true, now);
    /* 31 failures now: not over 3 x 10.5 */
    for (int i = 0; i < 31; i++)
        engine_count(f.e, "q", IC_FAILED, now / 60000, 1);
    (void)engine_eval(f.e, now, true);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(fired_rule(&f, "med"), 1);   /* median of 8 9 10 11 12 30 */
    ck_assert_int_eq(fired_rule(&f, "ratio"), 1); /* as many failed as completed each day */
    ck_assert_int_eq(fired_rule(&f, "three_x"), 0);
    ck_assert_int_eq(fired_rule(&f, "other"), 0); /* missing history: false */
    /* one more: 32 > 31.5 */
    engine_count(f.e, "q", IC_FAILED, now / 60000, 1);
    (void)engine_eval(f.e, now + 1000, false);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(fired_rule(&f, "three_x"), 1);
    ck_assert_int_eq(one(f.st, "SELECT value = 32 AND threshold = 31.5 FROM alert_transitions "
                               "WHERE rule = 'three_x'"), 1);
    /* the counts are kept as long as the baselines reach */
    ck_assert_int_eq(engine_history_ms(f.e, 86400000), 7 * 86400000LL + 900000 + 3600000);
    ck_assert_int_eq(engine_history_ms(f.e, 30 * 86400000LL), 30 * 86400000LL);
    nf_close(&f);
}
END_TEST

START_TEST(baseline_parse_and_history)
{
    char err[200];
    int col;
    struct expr *e = expr_parse("failures[15m] > 3 * baseline(failures[15m], 7d)", err,
                                sizeof err, &col);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(expr_history_ms(e), 7 * 86400000LL + 900000);
    struct buf b;
    buf_init(&b, 0);
    expr_print(e, &b);
    ck_assert_str_eq(b.data, "failures[15m] > 3 * baseline(failures[15m], 7d)");
    buf_release(&b);
    expr_free(e);
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"baseline(waiting[5m], 7d) > 1", "baseline needs a counter"},
        {"baseline(failures[5m], 36h) > 1", "whole number of days"},
        {"baseline(failures[5m]) > 1", "baseline takes"},
        {"baseline(new_signatures[5m], 7d) > 1", "baseline needs a counter"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e = expr_parse(bad[i].text, err, sizeof err, &col);
        ck_assert_msg(e == NULL && strstr(err, bad[i].msg), "'%s': %s", bad[i].text, err);
    }
    /* check-config says how much history a rule needs */
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    ck_assert_int_eq(config_parse(&cfg, "t.ini",
                                  "[rule spike]\nexpr = failures[15m] > 3 * baseline(failures[15m], "
                                  "7d)\n[rule plain]\nexpr = failures[5m] > 0\n",
                                  err, sizeof err), 0);
    struct rules rs;
    ck_assert_int_eq(rules_load(&cfg, &rs, err, sizeof err), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&text, &len);
    rules_print(&rs, mf);
    fclose(mf);
    ck_assert_msg(strstr(text, "# rule spike (line 1)") &&
                      strstr(text, "needs 7 days and 15m of per-minute counts (baseline)"),
                  "%s", text);
    ck_assert_ptr_null(strstr(strstr(text, "# rule plain"), "needs"));
    free(text);
    rules_release(&rs);
    config_release(&cfg);
    e = expr_parse("new_signatures[10m] > 0 and failures[1h] > 2", err, sizeof err, &col);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(expr_ind_window(e, IND_NEW_SIGNATURES), 600000);
    ck_assert_int_eq(expr_history_ms(e), 0);
    expr_free(e);
}
END_TEST

Suite *
newsig_suite(void)
{
    Suite *s = suite_create("newsig");
    TCase *tc = tcase_create("signatures");
    tcase_add_test(tc, first_seen_across_restarts_returning_not_new);
    tcase_add_test(tc, limit_summary_and_silence);
    tcase_add_test(tc, retries_due_from_a_literal_delayed_set);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    tc = tcase_create("baseline");
    tcase_add_test(tc, baseline_over_seven_days_one_missing);
    tcase_add_test(tc, baseline_parse_and_history);
    suite_add_tcase(s, tc);
    return s;
}
