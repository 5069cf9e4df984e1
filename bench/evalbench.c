/*
 * evalbench: what the rules of issue 19 cost the engine's evaluation,
 * through the agent's own code (engine.c). Prints one JSON line.
 *
 *   evalbench store STORE QUEUES
 *     On an existing store (bench/store.sh builds one): rules
 *     new_signatures[10m] > 0 and failures[15m] > 3 * baseline(failures[15m],
 *     7d) and failures[15m] >= 20 over the store's QUEUES queues
 *     (queue-0 ...). Per timer evaluation of every queue, median of 15:
 *     new_signatures with a new signature staged on every 5th queue;
 *     baseline at the first evaluation of a minute (7 days of
 *     minute_counts read per queue) and cached (the rest of the minute).
 *     Each evaluation's window is rolled back: the store is not changed.
 *   evalbench retries QUEUES PER_QUEUE
 *     A scratch store; rule retries_due[5m] > 1000; PER_QUEUE retries
 *     staged and committed on each of QUEUES queues (due over the next 10
 *     minutes): the cost per retry told, the timer evaluation of every
 *     queue (median of 15), and the memory added.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "window.h"

static double
us_now(void)
{
    return (double)mono_us();
}

static int
cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static long
rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

struct rig {
    struct config cfg;
    struct store *st;
    struct window *w;
    struct engine *e;
};

static int
rig_open(struct rig *r, const char *path, const char *rules, int64_t now)
{
    char ini[2048], err[300];
    snprintf(ini, sizeof ini, "[store]\npath = %s\n%s", path, rules);
    memset(&r->cfg, 0, sizeof r->cfg);
    if (config_parse(&r->cfg, "evalbench.ini", ini, err, sizeof err) != 0 ||
        !(r->st = store_open(path, false, err, sizeof err))) {
        fprintf(stderr, "evalbench: %s\n", err);
        return -1;
    }
    r->w = window_new(r->st);
    if (!(r->e = engine_new(&r->cfg, r->st, r->w, now, err, sizeof err))) {
        fprintf(stderr, "evalbench: %s\n", err);
        return -1;
    }
    return 0;
}

static void
rig_close(struct rig *r)
{
    engine_free(r->e);
    window_free(r->w);
    store_close(r->st);
    config_release(&r->cfg);
}

static void
poll_all(struct rig *r, int nq, int64_t now)
{
    char **names = calloc((size_t)nq, sizeof *names);
    struct queue_depth *d = calloc((size_t)nq, sizeof *d);
    for (int i = 0; i < nq; i++) {
        names[i] = malloc(32);
        snprintf(names[i], 32, "queue-%d", i);
        d[i].ok = true;
        d[i].workers = 1;
        d[i].oldest_waiting_ms = -1;
        d[i].agent_lag_ms = 0;
        d[i].deferred = -1;
    }
    struct queue_list l = {names, nq};
    engine_depths(r->e, &l, d, true, now);
    for (int i = 0; i < nq; i++)
        free(names[i]);
    free(names);
    free(d);
}

#define RUNS 15

static int
bench_store(const char *path, int nq)
{
    int64_t now = now_ms();
    struct rig r;
    if (rig_open(&r, path,
                 "[rule new_error_signature]\nexpr = new_signatures[10m] > 0\n"
                 "[rule failures_above_baseline]\nexpr = failures[15m] > 3 * "
                 "baseline(failures[15m], 7d) and failures[15m] >= 20\n",
                 now) != 0)
        return 1;
    double ns[RUNS], first[RUNS], cached[RUNS];
    for (int k = 0; k < RUNS; k++) {
        int64_t t = now + (int64_t)k * 60000; /* a new minute: the baselines read the store */
        poll_all(&r, nq, t);
        for (int i = 0; i < nq; i += 5) {
            char q[32], sig[16];
            snprintf(q, sizeof q, "queue-%d", i);
            snprintf(sig, sizeof sig, "%012x", 0xbe000 + k * 1000 + i);
            engine_signature(r.e, q, sig, t);
        }
        double a = us_now();
        (void)engine_eval(r.e, t, true);
        first[k] = us_now() - a;
        a = us_now();
        (void)engine_eval(r.e, t + 1000, true);
        cached[k] = us_now() - a;
        window_abort(r.w); /* leave the store as it was */
    }
    /* new_signatures alone: the same queues, a rule reading only it */
    rig_close(&r);
    if (rig_open(&r, path, "[rule new_error_signature]\nexpr = new_signatures[10m] > 0\n", now) != 0)
        return 1;
    for (int k = 0; k < RUNS; k++) {
        int64_t t = now + (int64_t)k * 60000;
        poll_all(&r, nq, t);
        for (int i = 0; i < nq; i += 5) {
            char q[32], sig[16];
            snprintf(q, sizeof q, "queue-%d", i);
            snprintf(sig, sizeof sig, "%012x", 0xbe000 + k * 1000 + i);
            engine_signature(r.e, q, sig, t);
        }
        double a = us_now();
        (void)engine_eval(r.e, t, true);
        ns[k] = us_now() - a;
        window_abort(r.w);
    }
    rig_close(&r);
    sqlite3 *db;
    long long rows = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, "SELECT MAX(id) FROM failure_log", -1, &s, NULL) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            rows = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    printf("{\"rows\":%lld,\"queues\":%d,\"new_signatures_eval_us\":%.0f,"
           "\"with_baseline_first_eval_us\":%.0f,\"with_baseline_cached_eval_us\":%.0f}\n",
           rows, nq, median(ns, RUNS), median(first, RUNS), median(cached, RUNS));
    return 0;
}

static int
bench_retries(int nq, int per)
{
    char dir[] = "/tmp/bw-evalbench-XXXXXX", path[128];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/e.db", dir);
    int64_t now = now_ms();
    struct rig r;
    if (rig_open(&r, path, "[rule retry_storm]\nexpr = retries_due[5m] > 1000\n", now) != 0)
        return 1;
    poll_all(&r, nq, now);
    long rss0 = rss_kb();
    double a = us_now();
    char q[32];
    for (int i = 0; i < nq; i++) {
        snprintf(q, sizeof q, "queue-%d", i);
        for (int k = 0; k < per; k++) /* a backoff from now, over 10 minutes, not in order */
            engine_retry(r.e, q, now + 1000 + (int64_t)((k * 7919) % per) * 600000 / per);
    }
    if (window_open(r.w) != 0 || window_commit(r.w) != 0)
        return 1;
    double told = us_now() - a;
    long rss1 = rss_kb();
    double ev[RUNS];
    for (int k = 0; k < RUNS; k++) {
        int64_t t = now + (int64_t)k * 20000; /* the window slides over them */
        poll_all(&r, nq, t);
        double b = us_now();
        (void)engine_eval(r.e, t, true);
        ev[k] = us_now() - b;
        window_abort(r.w);
    }
    printf("{\"queues\":%d,\"retries\":%lld,\"per_retry_ns\":%.0f,\"eval_us\":%.0f,"
           "\"eval_per_queue_us\":%.2f,\"rss_added_mb\":%.1f}\n",
           nq, (long long)nq * per, told * 1000.0 / ((double)nq * per), median(ev, RUNS),
           median(ev, RUNS) / nq, (double)(rss1 - rss0) / 1024.0);
    rig_close(&r);
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char f[160];
        snprintf(f, sizeof f, "%s%s", path, sfx[i]);
        unlink(f);
    }
    rmdir(dir);
    return 0;
}

int
main(int argc, char **argv)
{
    log_set_level(LOG_WARN); /* the alerts' lines are not the bench's output */
    if (argc == 4 && !strcmp(argv[1], "store"))
        return bench_store(argv[2], atoi(argv[3]));
    if (argc == 4 && !strcmp(argv[1], "retries"))
        return bench_retries(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: evalbench store STORE QUEUES | evalbench retries QUEUES PER_QUEUE\n");
    return 2;
}
