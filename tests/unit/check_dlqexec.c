/* dlqexec: the parts of dlq_execute with literal input: batches and the
 * -9 parents held back, the range walk's bookkeeping over script replies
 * given as RESP bytes, and the recorder on a throwaway store (its rows,
 * counts and callbacks, and what it does once the store fails). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <sqlite3.h>

#include "audit.h"
#include "dlq.h"
#include "dlq_act.h"
#include "store.h"
#include "suites.h"

static struct dlq_batch b;
static struct dlq_ids again;
static struct dlq_walk w;

/* a fresh walk, no parents held, an empty batch of cap outcomes */
static void
walk_up(int cap)
{
    memset(&w, 0, sizeof w);
    memset(&again, 0, sizeof again);
    dlq_batch_init(&b, cap);
}

static void
walk_down(void)
{
    dlq_walk_release(&w);
    dlq_ids_release(&again);
    dlq_batch_release(&b);
}

START_TEST(hold_parents)
{
    walk_up(5);
    dlq_batch_add(&b, "1", DLQ_JOB_DONE);
    dlq_batch_add(&b, "2", DLQ_JOB_NOT_YET);
    dlq_batch_add(&b, "3", DLQ_JOB_LOCKED);
    dlq_batch_add(&b, "4", DLQ_JOB_NOT_YET);
    dlq_batch_add(&b, "5", DLQ_JOB_DONE)->later = true;
    dlq_hold_parents(&b, &again);
    /* the rest keep their order and flags; the parents are copies */
    ck_assert_int_eq(b.n, 3);
    ck_assert_str_eq(b.o[0].id, "1");
    ck_assert_str_eq(b.o[1].id, "3");
    ck_assert_int_eq(b.o[1].status, DLQ_JOB_LOCKED);
    ck_assert_str_eq(b.o[2].id, "5");
    ck_assert(b.o[2].later);
    ck_assert_int_eq(again.n, 2);
    ck_assert_str_eq(again.v[0], "2");
    ck_assert_str_eq(again.v[1], "4");
    walk_down();
}
END_TEST

START_TEST(walk_limit)
{
    walk_up(1);
    /* 250 frozen, a call of 100 */
    ck_assert_int_eq(dlq_walk_limit(&w, 250, 0, 100), 100);
    w.asked = 200; /* two calls in flight */
    ck_assert_int_eq(dlq_walk_limit(&w, 250, 0, 100), 50);
    ck_assert_int_eq(dlq_walk_limit(&w, 250, 50, 100), 0);
    w.asked = 0;
    w.npending = 1; /* a parent still losing its children counts as asked */
    ck_assert_int_eq(dlq_walk_limit(&w, 250, 240, 100), 9);
    w.exhausted = true;
    ck_assert_int_eq(dlq_walk_limit(&w, 250, 0, 100), 0);
    w.exhausted = false;
    w.walked = true;
    ck_assert_int_eq(dlq_walk_limit(&w, 250, 0, 100), 0);
    w.walked = false;
    /* the sweep lists the jobs left in place again: room for them */
    w.swept = true;
    w.n = 3;
    ck_assert_int_eq(dlq_walk_limit(&w, 250, 245, 100), 6);
    w.n = 0;
    walk_down();
}
END_TEST

START_TEST(walk_take)
{
    walk_up(100);
    /* a call at offset 0 for 3 jobs: 1 purged, 2 locked (left in place),
     * 3 a parent whose children are being removed (-9) */
    redisReply *r1 = RESP("*3\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
                          "*3\r\n:1\r\n:-2\r\n:-9\r\n*3\r\n:0\r\n:1\r\n:1\r\n");
    dlq_walk_take(&w, 0, 3, r1, &b);
    ck_assert_int_eq(b.n, 2); /* the parent is recorded once done */
    ck_assert_str_eq(b.o[0].id, "1");
    ck_assert_int_eq(b.o[0].status, DLQ_JOB_DONE);
    ck_assert(!b.o[0].later && !b.o[0].revised);
    ck_assert_str_eq(b.o[1].id, "2");
    ck_assert_int_eq(b.o[1].status, DLQ_JOB_LOCKED);
    ck_assert(b.o[1].later); /* told when the walk is over */
    ck_assert_ptr_eq(b.o[1].id, r1->element[0]->element[1]->str); /* borrowed */
    ck_assert_int_eq(w.offset, 2);
    ck_assert(w.careful && !w.exhausted);
    ck_assert_int_eq(w.n, 2);
    ck_assert_int_eq(w.npending, 1);
    /* the next call, sent at offset 0 before r1 was read, lists 2 and 3
     * again: 2 still locked (recorded once), 3 done now, then 4; it asked
     * for 5 and got 3: the window holds no more */
    redisReply *r2 = RESP("*3\r\n*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
                          "*3\r\n:-2\r\n:1\r\n:1\r\n*3\r\n:1\r\n:0\r\n:0\r\n");
    dlq_walk_take(&w, 0, 5, r2, &b);
    ck_assert_int_eq(b.n, 2);
    ck_assert_str_eq(b.o[0].id, "3");
    ck_assert_int_eq(b.o[0].status, DLQ_JOB_DONE);
    ck_assert(!b.o[0].revised); /* it was pending, not a recorded skip */
    ck_assert_str_eq(b.o[1].id, "4");
    ck_assert_int_eq(w.offset, 1);
    ck_assert(w.exhausted);
    ck_assert_int_eq(w.n, 1);
    ck_assert_int_eq(w.npending, 0);
    /* the sweep finds 2 gone from its place (its lock went, then it was
     * purged): the skip recorded before is replaced */
    redisReply *r3 = RESP("*3\r\n*1\r\n$1\r\n2\r\n*1\r\n:1\r\n*1\r\n:0\r\n");
    dlq_walk_take(&w, 0, 1, r3, &b);
    ck_assert_int_eq(b.n, 1);
    ck_assert_str_eq(b.o[0].id, "2");
    ck_assert(b.o[0].revised);
    ck_assert_int_eq(w.n, 0);
    freeReplyObject(r1);
    freeReplyObject(r2);
    freeReplyObject(r3);
    walk_down();
}
END_TEST

START_TEST(walk_pending_then_locked)
{
    walk_up(10);
    redisReply *r1 = RESP("*3\r\n*2\r\n$1\r\np\r\n$1\r\nq\r\n*2\r\n:-9\r\n:-9\r\n*2\r\n:1\r\n:1\r\n");
    dlq_walk_take(&w, 0, 2, r1, &b);
    ck_assert_int_eq(b.n, 0);
    ck_assert_int_eq(w.npending, 2);
    /* p: a child locked once part of its tree is gone (-2 becomes -10),
     * left in place and told later; q: still -9, nothing new */
    redisReply *r2 = RESP("*3\r\n*2\r\n$1\r\np\r\n$1\r\nq\r\n*2\r\n:-2\r\n:-9\r\n*2\r\n:1\r\n:1\r\n");
    dlq_walk_take(&w, 0, 2, r2, &b);
    ck_assert_int_eq(b.n, 1);
    ck_assert_str_eq(b.o[0].id, "p");
    ck_assert_int_eq(b.o[0].status, DLQ_JOB_CHILD_LOCKED);
    ck_assert(b.o[0].later);
    ck_assert_int_eq(w.npending, 1);
    /* the walk is over: q goes by id */
    dlq_walk_end(&w, &again);
    ck_assert(w.walked);
    ck_assert_int_eq(again.n, 1);
    ck_assert_str_eq(again.v[0], "q");
    freeReplyObject(r1);
    freeReplyObject(r2);
    walk_down();
}
END_TEST

START_TEST(reply_status_and_placement)
{
    /* a script says where it placed a job instead of 1; anything else it
     * does not say is bad data, never "done" */
    redisReply *r = RESP("*6\r\n:1\r\n:-2\r\n$4\r\nwait\r\n$6\r\npaused\r\n"
                         "$11\r\nprioritized\r\n$5\r\nwaitz\r\n");
    enum dlq_place p;
    ck_assert_int_eq(dlq_reply_status(r->element[0], &p), DLQ_JOB_DONE);
    ck_assert_int_eq(p, DLQ_PLACE_NONE);
    ck_assert_int_eq(dlq_reply_status(r->element[1], &p), DLQ_JOB_LOCKED);
    ck_assert_int_eq(p, DLQ_PLACE_NONE);
    ck_assert_int_eq(dlq_reply_status(r->element[2], &p), DLQ_JOB_DONE);
    ck_assert_int_eq(p, DLQ_PLACE_WAIT);
    ck_assert_int_eq(dlq_reply_status(r->element[3], &p), DLQ_JOB_DONE);
    ck_assert_int_eq(p, DLQ_PLACE_PAUSED);
    ck_assert_int_eq(dlq_reply_status(r->element[4], NULL), DLQ_JOB_DONE);
    ck_assert_int_eq(dlq_reply_status(r->element[5], &p), DLQ_JOB_BAD_DATA);
    ck_assert_int_eq(p, DLQ_PLACE_NONE);
    ck_assert_str_eq(dlq_place_name(DLQ_PLACE_PAUSED), "paused");
    ck_assert_ptr_null(dlq_place_name(DLQ_PLACE_NONE));
    freeReplyObject(r);
    /* the range walk reads the same: a replayed job's placement is kept */
    walk_up(10);
    redisReply *r1 = RESP("*3\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
                          "*2\r\n$6\r\npaused\r\n:-1\r\n*2\r\n:0\r\n:0\r\n");
    dlq_walk_take(&w, 0, 2, r1, &b);
    ck_assert_int_eq(b.n, 2);
    ck_assert_int_eq(b.o[0].status, DLQ_JOB_DONE);
    ck_assert_int_eq(b.o[0].place, DLQ_PLACE_PAUSED);
    ck_assert_int_eq(b.o[1].status, DLQ_JOB_GONE);
    ck_assert_int_eq(b.o[1].place, DLQ_PLACE_NONE);
    freeReplyObject(r1);
    walk_down();
}
END_TEST

/* ---- the recorder, on a store in a scratch directory ---- */

struct told {
    char lines[16][400];
    int n;
};

static void
told_add(struct told *t, const char *a, const char *rest)
{
    if (t->n < 16)
        snprintf(t->lines[t->n++], sizeof t->lines[0], "%s%s%s", a, rest ? ": " : "",
                 rest ? rest : "");
}

static void
on_skipped(void *ud, const char *id, const char *why)
{
    told_add(ud, id, why);
}

static void
on_note(void *ud, const char *msg)
{
    told_add(ud, "note", msg);
}

static char dir[64], path[96];
static struct store *st;
static int64_t action;
static struct told t;
static struct dlq_callbacks cb = {on_skipped, NULL, on_note, &t};
static struct dlq_request r;
static struct dlq_recorder rec;

/* a recorder of a `verb` on `queue`, on a fresh store, and a batch of 4 */
static void
rec_up(enum dlq_verb verb, const char *queue, bool wrappers)
{
    char err[256];
    memset(&t, 0, sizeof t);
    memset(&r, 0, sizeof r);
    r.verb = verb;
    r.queue = queue;
    snprintf(dir, sizeof dir, "/tmp/check_dlqexec.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/bw.db", dir);
    st = store_open(path, false, err, sizeof err);
    ck_assert_msg(st != NULL, "%s", err);
    struct audit_intent in = {"local", queue, dlq_verb_info(verb)->name, NULL, "{}", "{}", 1, 5};
    action = audit_begin(st, &in);
    ck_assert_int_ge(action, 1);
    dlq_recorder_init(&rec, st, action, &r, wrappers, &cb);
    dlq_batch_init(&b, 4);
}

static void
rec_down(void)
{
    dlq_batch_release(&b);
    store_close(st);
    char p[128];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* the action's rows as "id outcome detail target_queue/target_id" */
static int
rows(char out[][160], int max)
{
    sqlite3_stmt *q;
    int n = 0;
    ck_assert_int_eq(sqlite3_prepare_v2(store_db(st),
                                        "SELECT job_id, outcome, ifnull(detail, '-'), "
                                        "ifnull(target_queue, '-'), ifnull(target_job_id, '-') "
                                        "FROM action_jobs WHERE action_id = ?1 ORDER BY rowid",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(q, 1, action);
    while (n < max && sqlite3_step(q) == SQLITE_ROW)
        snprintf(out[n++], 160, "%s %s %s %s/%s", sqlite3_column_text(q, 0),
                 sqlite3_column_text(q, 1), sqlite3_column_text(q, 2), sqlite3_column_text(q, 3),
                 sqlite3_column_text(q, 4));
    sqlite3_finalize(q);
    return n;
}

START_TEST(recorder_rows_and_counts)
{
    char got[8][160];
    rec_up(DLQ_REPLAY, "orders", false);
    dlq_batch_add(&b, "a", DLQ_JOB_DONE);
    dlq_batch_add(&b, "b", DLQ_JOB_LOCKED);
    dlq_batch_add(&b, "c", DLQ_JOB_NOT_DEAD)->later = true; /* told by the walk, later */
    dlq_batch_add(&b, "d", DLQ_JOB_DONE)->revised = true; /* replaces a skip counted before */
    ck_assert_int_eq(dlq_record(&rec, &b), 0);
    ck_assert_int_eq(rec.done, 2);
    ck_assert_int_eq(rec.skipped, 1);
    ck_assert_int_eq(rows(got, 8), 4);
    ck_assert_str_eq(got[0], "a replayed - orders/a");
    ck_assert_str_eq(got[1], "b skipped locked by a worker -/-");
    ck_assert_str_eq(got[2], "c skipped no longer in the failed set -/-");
    ck_assert_str_eq(got[3], "d replayed - orders/d");
    ck_assert_int_eq(t.n, 1);
    ck_assert_str_eq(t.lines[0], "b: locked by a worker");
    /* an empty batch writes nothing and is no failure */
    b.n = 0;
    ck_assert_int_eq(dlq_record(&rec, &b), 0);
    rec_down();
}
END_TEST

START_TEST(recorder_wrappers)
{
    char got[4][160];
    rec_up(DLQ_REPLAY, "orders-dlq", true);
    struct dlq_outcome *o = dlq_batch_add(&b, "w1", DLQ_JOB_DONE);
    o->queue = "orders";
    snprintf(o->new_id, sizeof o->new_id, "12");
    dlq_batch_add(&b, "w2", DLQ_JOB_NOT_DEAD)->queue = "orders";
    ck_assert_int_eq(dlq_record(&rec, &b), 0);
    ck_assert_int_eq(rows(got, 4), 2);
    ck_assert_str_eq(got[0], "w1 replayed re-added to orders as job 12 orders/12");
    ck_assert_str_eq(got[1], "w2 skipped no longer waiting in the dead-letter queue -/-");
    ck_assert_str_eq(t.lines[0], "w2: no longer waiting in the dead-letter queue");
    rec_down();
}
END_TEST

START_TEST(recorder_store_fails)
{
    char got[8][160];
    sqlite3 *other;
    rec_up(DLQ_PURGE, "orders", false);
    /* another process holds the write lock; no waiting for it here */
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_busy_timeout(store_db(st), 0);
    dlq_batch_add(&b, "7", DLQ_JOB_DONE);
    dlq_batch_add(&b, "8", DLQ_JOB_SCHEDULER);
    ck_assert_int_eq(dlq_record(&rec, &b), -1);
    ck_assert(rec.broken);
    ck_assert_int_eq(t.n, 3);
    ck_assert_str_eq(t.lines[0], "note: audit store: cannot begin a transaction: database is "
                                 "locked; stopped before the next call to Redis; the outcomes "
                                 "below are not recorded");
    ck_assert_str_eq(t.lines[1], "note: not recorded: job 7 purged");
    ck_assert_str_eq(t.lines[2], "note: not recorded: job 8 skipped (current job of a job "
                                 "scheduler)");
    /* they happened: counted */
    ck_assert_int_eq(rec.done, 1);
    ck_assert_int_eq(rec.skipped, 1);
    /* once broken, always told, even with the lock gone */
    sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(other);
    b.n = 0;
    dlq_batch_add(&b, "9", DLQ_JOB_DONE);
    ck_assert_int_eq(dlq_record(&rec, &b), -1);
    ck_assert_int_eq(t.n, 4);
    ck_assert_str_eq(t.lines[3], "note: not recorded: job 9 purged");
    ck_assert_int_eq(rows(got, 8), 0);
    rec_down();
}
END_TEST

START_TEST(recorder_placement)
{
    rec_up(DLQ_PURGE, "orders", false);
    dlq_batch_add(&b, "a", DLQ_JOB_DONE)->place = DLQ_PLACE_PAUSED; /* released its parent */
    dlq_batch_add(&b, "b", DLQ_JOB_DONE);
    dlq_batch_add(&b, "c", DLQ_JOB_GONE);
    ck_assert_int_eq(dlq_record(&rec, &b), 0);
    char got[4][160];
    ck_assert_int_eq(rows(got, 4), 3);
    ck_assert_str_eq(got[0], "a purged released its parent to paused -/-");
    ck_assert_str_eq(got[1], "b purged - -/-");
    ck_assert_str_eq(got[2], "c skipped job hash was gone (its id, logs and children were removed) -/-");
    rec_down();
    /* a replay says where each job went; a re-added original too */
    rec_up(DLQ_REPLAY, "orders", false);
    dlq_batch_add(&b, "r", DLQ_JOB_DONE)->place = DLQ_PLACE_PRIORITIZED;
    struct dlq_outcome *o = dlq_batch_add(&b, "w", DLQ_JOB_DONE);
    o->queue = "mail";
    o->place = DLQ_PLACE_PAUSED;
    snprintf(o->new_id, sizeof o->new_id, "4");
    dlq_batch_add(&b, "x", DLQ_JOB_GONE);
    ck_assert_int_eq(dlq_record(&rec, &b), 0);
    ck_assert_int_eq(rows(got, 4), 3);
    ck_assert_str_eq(got[0], "r replayed placed in prioritized orders/r");
    ck_assert_str_eq(got[1], "w replayed re-added to mail as job 4, placed in paused mail/4");
    ck_assert_str_eq(got[2], "x skipped job hash is gone -/-");
    rec_down();
}
END_TEST

Suite *
dlqexec_suite(void)
{
    Suite *s = suite_create("dlqexec");
    TCase *tc = tcase_create("sources");
    tcase_add_test(tc, hold_parents);
    tcase_add_test(tc, walk_limit);
    tcase_add_test(tc, walk_take);
    tcase_add_test(tc, walk_pending_then_locked);
    tcase_add_test(tc, reply_status_and_placement);
    suite_add_tcase(s, tc);
    tc = tcase_create("recorder");
    tcase_add_test(tc, recorder_rows_and_counts);
    tcase_add_test(tc, recorder_wrappers);
    tcase_add_test(tc, recorder_store_fails);
    tcase_add_test(tc, recorder_placement);
    suite_add_tcase(s, tc);
    return s;
}
