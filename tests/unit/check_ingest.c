/* The ingest's pieces and the commit window, against a real SQLite store:
 * what is staged moves only when the window commits, and a rollback takes
 * it all back (window.c, counts.c, lineage.c, stream_lag_ms). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ingest_int.h"
#include "store.h"
#include "suites.h"
#include "util.h"
#include "window.h"

/* ---- a scratch store, a config and an ingest watching queue "q" ---- */

struct fx {
    char dir[64], path[128];
    struct config cfg;
    struct store *st;
    struct window *w;
    struct ingest *ing;
};

static void
fx_open(struct fx *f)
{
    char ini[256], err[300];
    snprintf(f->dir, sizeof f->dir, "/tmp/bw-ut-ingest-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    snprintf(ini, sizeof ini, "[store]\npath = %s\n", f->path);
    memset(&f->cfg, 0, sizeof f->cfg);
    ck_assert_msg(config_parse(&f->cfg, "t.ini", ini, err, sizeof err) == 0, "%s", err);
    f->st = store_open(f->path, false, err, sizeof err);
    ck_assert_msg(f->st != NULL, "%s", err);
    f->w = window_new(f->st);
    f->ing = ingest_new(&f->cfg, f->st, f->w, NULL);
    char *names[] = {(char *)"q"};
    struct queue_list l = {names, 1};
    ingest_set_queues(f->ing, &l);
}

static void
fx_close(struct fx *f)
{
    char p[200];
    ingest_free(f->ing);
    window_free(f->w);
    store_close(f->st);
    config_release(&f->cfg);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
        unlink(p);
    }
    rmdir(f->dir);
}

static int64_t
one(struct store *st, const char *sql)
{
    sqlite3_stmt *s;
    int64_t v = -1;
    ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_type(s, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static struct bmq_event
ev(enum bmq_ev type, const char *job, const char *prev, uint64_t ms)
{
    struct bmq_event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.id_ms = ms;
    e.job_id.p = job;
    e.job_id.n = strlen(job);
    if (prev) {
        e.prev.p = prev;
        e.prev.n = strlen(prev);
    }
    return e;
}

/* ---- the window ---- */

static char calls[64];

static int
p_flush(void *ud)
{
    strcat(calls, (const char *)ud);
    strcat(calls, "f ");
    return strcmp((const char *)ud, "bad") == 0 ? -1 : 0;
}

static void
p_commit(void *ud)
{
    strcat(calls, (const char *)ud);
    strcat(calls, "c ");
}

static void
p_abort(void *ud)
{
    strcat(calls, (const char *)ud);
    strcat(calls, "a ");
}

START_TEST(window_parties_in_order)
{
    struct fx f;
    fx_open(&f);
    struct window_party a = {"a", p_flush, p_commit, p_abort, (void *)"A"};
    struct window_party b = {"b", p_flush, p_commit, p_abort, (void *)"B"};
    window_join(f.w, &a);
    window_join(f.w, &b);
    calls[0] = '\0';
    ck_assert_int_eq(window_commit(f.w), 0); /* nothing open: nobody is called */
    ck_assert_str_eq(calls, "");
    ck_assert_int_eq(window_open(f.w), 0);
    ck_assert(window_is_open(f.w));
    ck_assert(!window_due(f.w));
    window_add(f.w, WINDOW_MAX_ENTRIES);
    ck_assert(window_due(f.w)); /* full */
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_str_eq(calls, "Af Bf Ac Bc ");
    ck_assert(!window_is_open(f.w));
    ck_assert_int_eq(window_backoff_ms(f.w), 0);
    /* urgent: due at once */
    ck_assert_int_eq(window_open(f.w), 0);
    window_urgent(f.w);
    ck_assert(window_due(f.w));
    window_abort(f.w); /* a plain abort (Redis failed): no backoff */
    ck_assert_int_eq(window_backoff_ms(f.w), 0);
    window_leave(f.w, (void *)"A");
    window_leave(f.w, (void *)"B");
    /* a flush that fails rolls back every party and backs off */
    struct window_party bad = {"bad", p_flush, p_commit, p_abort, (void *)"bad"};
    window_join(f.w, &a);
    window_join(f.w, &bad);
    calls[0] = '\0';
    ck_assert_int_eq(window_open(f.w), 0);
    ck_assert_int_eq(window_commit(f.w), -1);
    ck_assert_str_eq(calls, "Af badf Aa bada ");
    ck_assert(!window_is_open(f.w));
    ck_assert_int_gt(window_backoff_ms(f.w), 0);
    window_leave(f.w, (void *)"A");
    window_leave(f.w, (void *)"bad");
    fx_close(&f);
}
END_TEST

/* ---- counting ---- */

static int seen[IC__N];

static void
observer(void *ud, const char *queue, int what, int64_t minute, int delta)
{
    (void)ud;
    (void)queue;
    (void)minute;
    seen[what] += delta;
}

START_TEST(counts_tell_retries_and_roll_back)
{
    struct fx f;
    fx_open(&f);
    memset(seen, 0, sizeof seen);
    ingest_set_observer(f.ing, observer, NULL);
    const uint64_t ms = 1800000000000ULL;
    struct bmq_event es[] = {
        ev(BMQ_EV_ADDED, "1", NULL, ms),
        ev(BMQ_EV_DELAYED, "1", NULL, ms),            /* an add with a delay: no retry */
        ev(BMQ_EV_DELAYED, "2", NULL, ms + 1),        /* a retry with backoff */
        ev(BMQ_EV_WAITING, "3", "active", ms + 2),    /* looks like a retry ... */
        ev(BMQ_EV_STALLED, "3", NULL, ms + 3),        /* ... but was a stall */
        ev(BMQ_EV_WAITING, "4", "active", ms + 4),    /* a retry */
        ev(BMQ_EV_COMPLETED, "5", NULL, ms + 5),
        ev(BMQ_EV_FAILED, "6", NULL, ms + 60000),     /* the next minute */
    };
    ck_assert_int_eq(window_open(f.w), 0);
    for (size_t i = 0; i < sizeof es / sizeof es[0]; i++)
        counts_track(f.ing, 0, &es[i]);
    ck_assert_int_eq(seen[IC_ADDED], 1);
    ck_assert_int_eq(seen[IC_RETRIES], 2);
    ck_assert_int_eq(seen[IC_STALLED], 1);
    ck_assert_int_eq(seen[IC_COMPLETED], 1);
    ck_assert_int_eq(seen[IC_FAILED], 1);
    ck_assert_int_eq(f.ing->ncnt, 2); /* two minutes */
    /* rolled back: nothing reaches minute_counts, the previous entry is
     * forgotten (the next entry is not taken for the delayed add's twin) */
    window_abort(f.w);
    ck_assert_int_eq(f.ing->ncnt, 0);
    ck_assert_int_eq(f.ing->q[0].prev.type, BMQ_EV__COUNT);
    ck_assert_int_eq(one(f.st, "SELECT COUNT(*) FROM minute_counts"), 0);
    /* read again and committed: counted once */
    ck_assert_int_eq(window_open(f.w), 0);
    for (size_t i = 0; i < sizeof es / sizeof es[0]; i++)
        counts_track(f.ing, 0, &es[i]);
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(one(f.st, "SELECT SUM(retries) FROM minute_counts"), 2);
    ck_assert_int_eq(one(f.st, "SELECT SUM(stalled) + SUM(added) + SUM(completed) + SUM(failed) "
                                "FROM minute_counts"), 4);
    ck_assert_int_eq(one(f.st, "SELECT failed FROM minute_counts WHERE minute = 30000001"), 1);
    ck_assert_int_eq(f.ing->q[0].prev_committed.type, BMQ_EV_FAILED);
    fx_close(&f);
}
END_TEST

/* ---- lineage ---- */

START_TEST(lineage_result_waits_for_the_commit)
{
    struct fx f;
    fx_open(&f);
    sqlite3 *db = store_db(f.st);
    ck_assert_int_eq(sqlite3_exec(db,
        "INSERT INTO actions (id, endpoint, queue, verb, os_user, pid, selection, snapshot_at, "
        "frozen_count, started_at) VALUES (7, 'default', 'q', 'replay', 'u', 1, '{}', 1, 1, 1);"
        "INSERT INTO action_jobs (action_id, job_id, outcome, at, target_queue, target_job_id) "
        "VALUES (7, '42', 'replayed', strftime('%s','now') * 1000, 'q', '42');",
        NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(lineage_load(f.ing), 0);
    ck_assert(!window_is_open(f.w)); /* nothing staged by the load */
    struct bmq_event done = ev(BMQ_EV_COMPLETED, "42", NULL, 1800000000000ULL);
    ck_assert_int_eq(window_open(f.w), 0);
    lineage_observe(f.ing, &f.ing->q[0], &done);
    window_abort(f.w); /* rolled back: the replayed job waits again */
    ck_assert_int_eq(one(f.st, "SELECT result IS NULL FROM action_jobs"), 1);
    ck_assert_int_eq(window_open(f.w), 0);
    lineage_observe(f.ing, &f.ing->q[0], &done); /* read again */
    ck_assert_int_eq(window_commit(f.w), 0);
    ck_assert_int_eq(one(f.st, "SELECT result = 'completed' AND result_at = 1800000000000 "
                                "FROM action_jobs"), 1);
    fx_close(&f);
}
END_TEST

/* ---- lag ---- */

START_TEST(lag_one_definition)
{
    ck_assert_int_eq(stream_lag_ms("100-0", "", NULL), 0);          /* empty stream */
    ck_assert_int_eq(stream_lag_ms("100-5", "100-5", NULL), 0);     /* caught up */
    ck_assert_int_eq(stream_lag_ms("100-5", "100-4", NULL), 0);     /* ahead (trimmed) */
    ck_assert_int_eq(stream_lag_ms("100-5", "350-0", NULL), 250);
    ck_assert_int_eq(stream_lag_ms("100-5", "100-9", NULL), 1);     /* behind within a ms */
    ck_assert_int_eq(stream_lag_ms("0-0", "900-0", "600-0"), 300);  /* nothing read yet */
    ck_assert_int_eq(stream_lag_ms("0-0", "900-0", NULL), 1);
}
END_TEST

Suite *
ingest_suite(void)
{
    Suite *s = suite_create("ingest");
    TCase *tc = tcase_create("window");
    tcase_add_test(tc, window_parties_in_order);
    tcase_add_test(tc, counts_tell_retries_and_roll_back);
    tcase_add_test(tc, lineage_result_waits_for_the_commit);
    tcase_add_test(tc, lag_one_definition);
    suite_add_tcase(s, tc);
    return s;
}
