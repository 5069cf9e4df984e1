/* Unit tests of the audit store at scale, on a real SQLite file: every
 * canned query and every named statement (the agent's, the TUI's) is
 * answered from an index (EXPLAIN QUERY PLAN: no full scan of a table that
 * grows with time); migration 0008 keeps every row of a store made by the
 * release before and gives whole rows through the view; retention trims in
 * bounded slices; a new store returns freed pages (auto_vacuum). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sqlembed.h"
#include "store.h"
#include "storeadmin.h"
#include "suites.h"

static char path[64];

static void
setup(void)
{
    snprintf(path, sizeof path, "/tmp/check_store.%d.db", (int)getpid());
    unlink(path);
}

static void
teardown(void)
{
    char p[80];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/*
 * Full scans that are accepted, each with its reason. Anything else that
 * EXPLAIN QUERY PLAN calls "SCAN t" without an index fails the test.
 */
static const struct {
    const char *stmt, *detail, *why;
} allowed[] = {
    {"queries/actions", "SCAN actions", "newest first by rowid, stopped by LIMIT (operator actions)"},
    {"queries/alert_history", "SCAN alert_transitions", "newest first by rowid, stopped by LIMIT"},
    {"queries/replay_outcomes", "SCAN a", "actions: operator actions, a few a day"},
    {"stmt/tui_audit", "SCAN actions", "newest first by rowid, stopped by LIMIT 500"},
    {"stmt/tui_deliveries", "SCAN outbox", "newest first by rowid, stopped by LIMIT 500"},
    {"stmt/silences_active", "SCAN silences", "silences: a handful, expired ones trimmed"},
    {"stmt/store_summary", "SCAN failure_hours",
     "`bullwatch store` only: queues x signatures x hours kept, not rows (~20 ms at 10M rows)"},
    {"stmt/tui_signatures", "SCAN recent", "a CTE of the queue's newest 5,000 rows (LIMIT)"},
    {"stmt/tui_signatures", "SCAN w", "a CTE: those 5,000 rows grouped by signature"},
    {NULL, NULL, NULL},
};

/* Tables and aliases that never grow with time: one row per rule and
 * queue, per queue, constant rows and subqueries. */
static bool
bounded(const char *stmt, const char *what)
{
    static const char *const fixed[] = {"alert_state", "queue_depths", "cursors",
                                        "queue_counters", "queue_names", "endpoints", "CONSTANT ROW", "p", "x", NULL};
    for (int i = 0; fixed[i]; i++)
        if (!strcmp(what, fixed[i]))
            return true;
    if (!strncmp(what, "(subquery", 9) || !strncmp(what, "(join", 5) ||
        !strncmp(what, "pragma_", 7))
        return true;
    /* tui_alerts' alias a is alert_state; failure_insert's f and j are one
     * row each (the finish time and job id); the failures query's k is its
     * LIMIT of ids */
    return (!strcmp(stmt, "stmt/tui_alerts") && !strcmp(what, "a")) ||
           (!strcmp(stmt, "stmt/failure_insert") && (!strcmp(what, "f") || !strcmp(what, "j"))) ||
           (!strcmp(stmt, "queries/failures") && !strcmp(what, "k"));
}

static bool
is_allowed(const char *stmt, const char *detail)
{
    for (int i = 0; allowed[i].stmt; i++)
        if (!strcmp(allowed[i].stmt, stmt) && !strcmp(allowed[i].detail, detail))
            return true;
    return false;
}

/* EXPLAIN QUERY PLAN of every statement in text; count the bad scans. */
static int
plan_check(sqlite3 *db, const char *name, const char *text)
{
    int bad = 0;
    const char *tail = text;
    while (tail && *tail) {
        sqlite3_stmt *s = NULL;
        const char *next = NULL;
        ck_assert_msg(sqlite3_prepare_v2(db, tail, -1, &s, &next) == SQLITE_OK,
                      "%s does not prepare: %s", name, sqlite3_errmsg(db));
        if (!s)
            break;
        const char *sql = sqlite3_sql(s);
        char *eqp = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
        sqlite3_finalize(s);
        sqlite3_stmt *e = NULL;
        ck_assert_msg(sqlite3_prepare_v2(db, eqp, -1, &e, NULL) == SQLITE_OK, "%s: %s", name,
                      sqlite3_errmsg(db));
        sqlite3_free(eqp);
        while (sqlite3_step(e) == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(e, 3);
            if (strncmp(d, "SCAN ", 5) != 0 || strstr(d, " USING "))
                continue;
            if (bounded(name, d + 5) || is_allowed(name, d))
                continue;
            fprintf(stderr, "check_store: %s: full scan: %s\n", name, d);
            bad++;
        }
        sqlite3_finalize(e);
        tail = next;
    }
    return bad;
}

START_TEST(every_read_from_an_index)
{
    char err[256];
    struct store *st = store_open(path, false, err, sizeof err);
    ck_assert_msg(st != NULL, "%s", err);
    int bad = 0, n = 0;
    for (int i = 0; sql_texts[i].name; i++) {
        const char *nm = sql_texts[i].name;
        if (strncmp(nm, "queries/", 8) && strncmp(nm, "stmt/", 5))
            continue;
        bad += plan_check(store_db(st), nm, sql_texts[i].text);
        n++;
    }
    ck_assert_int_gt(n, 40);
    ck_assert_msg(bad == 0, "%d full scans of growing tables (see stderr)", bad);
    store_close(st);
}
END_TEST

static int64_t
one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    int64_t v = -1;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s", msg ? msg : "?");
}

/* a store as the release before 0008 made it, with n failure rows */
static void
old_store(int n, int64_t t0)
{
    sqlite3 *db;
    ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
    for (int i = 0; sql_texts[i].name; i++)
        if (!strncmp(sql_texts[i].name, "schema/", 7) && atoi(sql_texts[i].name + 7) <= 5)
            exec_ok(db, sql_texts[i].text);
    exec_ok(db, "PRAGMA user_version = 5; BEGIN");
    sqlite3_stmt *s;
    ck_assert(sqlite3_prepare_v2(db,
                                 "INSERT INTO failures (endpoint, queue, job_id, stream_id, "
                                 "event_time, failed_reason, signature, signature_text, data, "
                                 "opts, stacktrace, finished_on, recorded_at) VALUES ('default', "
                                 "'q' || (?1 % 3), ?1, ?1 || '-0', ?2, 'boom ' || (?1 % 5), "
                                 "'sig' || (?1 % 5), 'boom N', '{\"i\":' || ?1 || '}', "
                                 "'{\"attempts\":3}', '[\"at f (x.js:' || (?1 % 2) || ')\"]', "
                                 "CASE WHEN ?1 % 7 = 0 THEN NULL ELSE ?2 + 1 END, 1)",
                                 -1, &s, NULL) == SQLITE_OK);
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int(s, 1, i);
        sqlite3_bind_int64(s, 2, t0 + (int64_t)i * 1000);
        ck_assert(sqlite3_step(s) == SQLITE_DONE);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    exec_ok(db, "COMMIT");
    sqlite3_close(db);
}

START_TEST(migration_keeps_every_row)
{
    char err[256];
    int64_t t0 = 1700000000000LL;
    old_store(3000, t0);
    sqlite3 *db;
    ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
    /* the rows as the old release shows them, hashed in one string */
    const char *whole = "SELECT group_concat(id || endpoint || queue || job_id || stream_id || "
                        "event_time || failed_reason || signature || signature_text || data || "
                        "opts || stacktrace || COALESCE(finished_on, 'n'), '|') FROM "
                        "(SELECT * FROM failures ORDER BY id)";
    sqlite3_stmt *s;
    ck_assert(sqlite3_prepare_v2(db, whole, -1, &s, NULL) == SQLITE_OK);
    ck_assert(sqlite3_step(s) == SQLITE_ROW);
    char *before = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);

    struct store *st = store_open(path, false, err, sizeof err);
    ck_assert_msg(st != NULL, "%s", err);
    db = store_db(st);
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM failures"), 3000);
    ck_assert(sqlite3_prepare_v2(db, whole, -1, &s, NULL) == SQLITE_OK);
    ck_assert(sqlite3_step(s) == SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), before);
    sqlite3_finalize(s);
    free(before);
    /* stack traces and opts once per distinct value */
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM texts"), 3);
    /* the summary matches the rows */
    ck_assert_int_eq(one_int(db, "SELECT SUM(failures) FROM failure_hours"), 3000);
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM failures WHERE finished_at = "
                                 "COALESCE(finished_on, event_time)"),
                     3000);
    /* plain SQL through the view: insert, update, delete */
    exec_ok(db, "INSERT INTO failures (endpoint, queue, job_id, event_time, stacktrace, "
                "recorded_at) VALUES ('default', 'qv', 'v1', 5, '[\"at f (x.js:0)\"]', 1)");
    /* plain SQL does not look texts up (no index on them): one more */
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM texts"), 4);
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM failures WHERE queue = 'qv' AND "
                                 "stacktrace = '[\"at f (x.js:0)\"]'"),
                     1);
    exec_ok(db, "UPDATE failures SET endpoint = 'other' WHERE queue = 'qv'");
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM failures WHERE endpoint = 'other'"), 1);
    exec_ok(db, "DELETE FROM failures WHERE queue = 'qv'");
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM failures"), 3000);
    store_close(st);
}
END_TEST

START_TEST(retention_in_slices)
{
    char err[256];
    int64_t t0 = 1700000000000LL;
    old_store(5000, t0);
    struct store *st = store_open(path, false, err, sizeof err);
    ck_assert_msg(st != NULL, "%s", err);
    sqlite3 *db = store_db(st);
    int64_t cutoff = t0 + 4500 * 1000LL; /* 4,500 rows due */
    bool more = true;
    int slices = 0;
    while (more) {
        ck_assert_int_eq(store_begin(st), 0);
        int64_t left = one_int(db, "SELECT COUNT(*) FROM failures");
        ck_assert_int_eq(storeadmin_retention_slice(st, cutoff, t0 + 10000000, &more), 0);
        ck_assert_int_le(left - one_int(db, "SELECT COUNT(*) FROM failures"), STOREADMIN_SLICE);
        ck_assert_int_eq(store_commit(st), 0);
        slices++;
        ck_assert_int_lt(slices, 50);
    }
    ck_assert_int_ge(slices, 3);
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM failures"), 500);
    ck_assert_int_eq(one_int(db, "SELECT MIN(finished_at) >= " "1700004500000" " FROM failures"), 1);
    /* the texts the remaining rows refer to are kept */
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM failures WHERE stacktrace IS NULL OR opts IS "
                                 "NULL"),
                     0);
    struct storeadmin_retention r;
    ck_assert_int_eq(storeadmin_retention_get(st, &r), 0);
    ck_assert_int_eq(r.backlog_since, 0);
    ck_assert_int_eq(r.trimmed >= 4500, 1);
    ck_assert_int_eq(r.cutoff, cutoff);
    /* once no row is left, neither are their texts */
    more = true;
    while (more) {
        ck_assert_int_eq(store_begin(st), 0);
        ck_assert_int_eq(storeadmin_retention_slice(st, t0 + 10000 * 1000LL + 7200000,
                                                    t0 + 10000000, &more),
                         0);
        ck_assert_int_eq(store_commit(st), 0);
    }
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM failures"), 0);
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM texts"), 0);
    store_close(st);
}
END_TEST

START_TEST(new_store_vacuums_incrementally)
{
    char err[256];
    struct store *st = store_open(path, false, err, sizeof err);
    ck_assert_msg(st != NULL, "%s", err);
    ck_assert_int_eq(one_int(store_db(st), "PRAGMA auto_vacuum"), 2);
    ck_assert_int_eq(storeadmin_integrity(st, false, NULL, 0), 0);
    store_close(st);
}
END_TEST

START_TEST(vacuum_converts_only_without_an_agent)
{
    char err[256] = "", lock[80];
    old_store(2000, 1700000000000LL); /* auto_vacuum none, as the release made it */
    snprintf(lock, sizeof lock, "%s.lock", path);
    int fd = open(lock, O_RDWR | O_CREAT, 0600);
    ck_assert(fd >= 0 && flock(fd, LOCK_EX) == 0); /* an agent */
    FILE *out = fopen("/dev/null", "w");
    ck_assert_int_eq(storeadmin_vacuum(path, false, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "an agent holds") != NULL, "%s", err);
    close(fd);
    ck_assert_int_eq(storeadmin_vacuum(path, false, out, err, sizeof err), 0);
    fclose(out);
    unlink(lock);
    sqlite3 *db;
    ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
    ck_assert_int_eq(one_int(db, "PRAGMA auto_vacuum"), 2);
    ck_assert_int_eq(one_int(db, "SELECT COUNT(*) FROM failures"), 2000);
    sqlite3_close(db);
}
END_TEST

Suite *
store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, every_read_from_an_index);
    tcase_add_test(tc, migration_keeps_every_row);
    tcase_add_test(tc, retention_in_slices);
    tcase_add_test(tc, new_store_vacuums_incrementally);
    tcase_add_test(tc, vacuum_converts_only_without_an_agent);
    suite_add_tcase(s, tc);
    return s;
}
