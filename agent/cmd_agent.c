/*
 * cmd_agent: the long-running agent. One thread, one loop:
 *   reconnect (backoff) -> discover (every discover_every) -> poll depths
 *   and check gaps (every poll_every) -> XREAD BLOCK (bounded by the next
 *   timer) -> commit rows + cursors -> repeat.
 * SIGTERM/SIGINT set a flag; the current batch finishes and commits, then
 * the agent exits 0. Only bad configuration at start-up makes it exit early.
 */
#include "cmd.h"

#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "audit.h"
#include "engine.h"
#include "ingest.h"
#include "log.h"
#include "queues.h"
#include "rconn.h"
#include "store.h"
#include "util.h"
#include "xmem.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void
sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms % 1000) * 1000000)};
    nanosleep(&ts, NULL);
}

static void
write_depths(struct store *st, const struct config *cfg, const struct queue_list *l,
             const struct queue_depth *d, int64_t now)
{
    if (store_begin(st) != 0)
        return;
    for (int i = 0; i < l->n; i++) {
        if (!d[i].ok)
            continue;
        for (int pass = 0; pass < 2; pass++) {
            sqlite3_stmt *s = store_stmt(st, pass ? "stmt/sample_upsert" : "stmt/depth_upsert");
            store_bind_str(s, ":endpoint", cfg->endpoint_name);
            store_bind_str(s, ":queue", l->names[i]);
            store_bind_int(s, ":now", now);
            store_bind_int(s, ":minute", now / 60000);
            store_bind_int(s, ":waiting", d[i].waiting);
            store_bind_int(s, ":active", d[i].active);
            store_bind_int(s, ":prioritized", d[i].prioritized);
            store_bind_int(s, ":delayed", d[i].delayed);
            store_bind_int(s, ":completed", d[i].completed);
            store_bind_int(s, ":failed", d[i].failed);
            store_bind_int(s, ":waiting_children", d[i].waiting_children);
            store_bind_int(s, ":paused", d[i].paused);
            if (d[i].workers >= 0)
                store_bind_int(s, ":workers", d[i].workers);
            if (d[i].oldest_waiting_ms >= 0)
                store_bind_int(s, ":oldest_waiting_ms", d[i].oldest_waiting_ms);
            store_bind_str(s, ":version", d[i].version[0] ? d[i].version : NULL);
            if (store_exec(st, s, "depths") != 0) {
                store_rollback(st);
                return;
            }
        }
    }
    (void)store_commit(st);
}

static double
tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* --drain: one JSON line with what the run cost (benchmarks, one-shot catch-up) */
static void
print_drain_stats(const struct ingest_stats *s, int64_t first_ms, int64_t last_ms)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double secs = last_ms > first_ms ? (double)(last_ms - first_ms) / 1000.0 : 0.0;
    printf("{\"entries\":%llu,\"failures\":%llu,\"reconciled\":%llu,\"malformed\":%llu,"
           "\"seconds\":%.3f,\"events_per_s\":%.0f,\"rows_per_s\":%.0f,\"cpu_s\":%.3f,"
           "\"peak_rss_kb\":%ld}\n",
           (unsigned long long)s->entries, (unsigned long long)s->failures,
           (unsigned long long)s->reconciled, (unsigned long long)s->malformed, secs,
           secs > 0 ? (double)s->entries / secs : 0.0,
           secs > 0 ? (double)s->failures / secs : 0.0, tv_s(ru.ru_utime) + tv_s(ru.ru_stime),
           ru.ru_maxrss);
    fflush(stdout);
}

int
cmd_agent(int argc, char **argv)
{
    static const char *const flags[] = {"--drain", NULL};
    bool drain = false;
    int64_t first_read = 0, last_read = 0;
    struct config cfg;
    char err[512];
    if (cmd_setup(argc, argv, "agent", flags, &drain, &cfg) != 0)
        return EXIT_USAGE;
    if (cfg.http[0])
        log_warn("[agent] http = %s: the metrics endpoint is not built yet in this version",
                 cfg.http);
    struct store *st = store_open(cfg.store_path, false, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bullwatch agent: %s\n", err);
        config_release(&cfg);
        return EXIT_USAGE;
    }

    int gone = audit_mark_interrupted(st);
    if (gone > 0)
        log_warn("%d operator action(s) left running by a process that is gone: marked interrupted",
                 gone);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct rconn *cmd = rconn_new(&cfg.ep, cfg.endpoint_name, "cmd", cfg.connect_timeout_ms);
    struct rconn *srd = rconn_new(&cfg.ep, cfg.endpoint_name, "stream", cfg.connect_timeout_ms);
    struct arena *arena = arena_new(1 << 20);
    rconn_use_arena(srd, arena); /* XREAD replies: no malloc per entry */
    struct ingest *ing = ingest_new(&cfg, st, cmd);
    struct engine *eng = engine_new(&cfg, st, now_ms(), err, sizeof err);
    if (!eng) { /* config loading checked the rules and sinks already */
        fprintf(stderr, "%s\n", err);
        return EXIT_USAGE;
    }
    if (engine_nrules(eng))
        ingest_set_observer(ing, engine_count, eng);
    int64_t next_pump = 0, next_outage_eval = 0;
    struct queue_list ql = {0};
    struct queue_depth *depths = NULL;
    int64_t next_discover = 0, next_poll = 0, next_retention = 0, next_stats = 0;
    bool policy_checked = false, have_queues = false;

    log_info("bullwatch agent starting: redis %s, prefix '%s', store %s", cfg.endpoint_name,
             cfg.prefix, cfg.store_path);

    while (!stop_requested) {
        int64_t now = mono_ms();
        if (rconn_ensure(cmd) != 0 || rconn_ensure(srd) != 0) {
            /* alerts go on while Redis is away: gauges have no value */
            if (now >= next_outage_eval) {
                engine_depths(eng, &ql, depths, false, now_ms());
                if (ingest_flush(ing) == 0)
                    engine_eval(eng, now_ms(), true);
                next_outage_eval = now + cfg.poll_every_ms;
            }
            if (ingest_flush(ing) == 0)
                engine_pump(eng, now_ms());
            int64_t wait = rconn_retry_in(rconn_is_up(cmd) ? srd : cmd);
            sleep_ms(wait < 10 ? 10 : wait > 200 ? 200 : wait);
            continue;
        }
        if (!policy_checked) {
            rconn_check_policy(cmd);
            policy_checked = true;
        }
        if (now >= next_discover) {
            struct queue_list fresh;
            if (queues_discover(cmd, &cfg, &fresh) == 0) {
                queue_list_release(&ql);
                ql = fresh;
                ingest_set_queues(ing, &ql);
                free(depths);
                depths = xcalloc((size_t)(ql.n ? ql.n : 1), sizeof *depths);
                if (!have_queues || ql.n == 0)
                    log_info("discovered %d queue(s) under prefix '%s'", ql.n, cfg.prefix);
                have_queues = true;
                next_poll = 0; /* check gaps of new queues right away */
            }
            next_discover = now + cfg.discover_every_ms;
        }
        if (now >= next_poll && have_queues) {
            int64_t wall = now_ms();
            bool polled = ingest_check_gaps(ing) == 0 &&
                          queues_poll(cmd, cfg.prefix, &ql, depths, wall) == 0;
            if (polled) {
                write_depths(st, &cfg, &ql, depths, wall);
                for (int i = 0; i < ql.n; i++)
                    depths[i].agent_lag_ms = ingest_lag_ms(ing, i);
            }
            engine_depths(eng, &ql, depths, polled, wall);
            if (ingest_flush(ing) == 0 && engine_eval(eng, now_ms(), true) > 0)
                next_pump = 0;
            next_poll = now + cfg.poll_every_ms;
        }
        if (now >= next_retention && ingest_flush(ing) == 0) {
            (void)store_run_script(st, "stmt/retention", ":cutoff", now_ms() - cfg.retention_ms);
            next_retention = now + 3600 * 1000;
        }
        if (now >= next_stats) {
            const struct ingest_stats *s = ingest_stats(ing);
            if (next_stats)
                log_info("stats: %d queues, %llu entries, %llu failures recorded (%llu reconciled), "
                         "%llu malformed, %llu custom, %llu gaps",
                         ingest_nqueues(ing), (unsigned long long)s->entries,
                         (unsigned long long)s->failures, (unsigned long long)s->reconciled,
                         (unsigned long long)s->malformed, (unsigned long long)s->custom,
                         (unsigned long long)s->gaps);
            next_stats = now + 60000;
        }
        if (stop_requested)
            break;
        /* deliveries: started and moved along between reads, never waited for */
        if (engine_delivers(eng) && (mono_ms() >= next_pump || engine_inflight(eng))) {
            if (ingest_flush(ing) == 0)
                engine_pump(eng, now_ms());
            next_pump = mono_ms() + 250;
        }
        int64_t block = cfg.block_ms;
        if (engine_inflight(eng) && block > 10)
            block = 10; /* transfers in flight: come back soon to move them */
        int64_t until = (next_poll < next_discover ? next_poll : next_discover) - mono_ms();
        if (until < block)
            block = until < 10 ? 10 : until;
        if (ingest_nqueues(ing) == 0) {
            sleep_ms(block);
            continue;
        }
        int n = ingest_read(ing, srd, block);
        if (n < 0) {
            sleep_ms(50); /* Redis or SQLite trouble: it was logged; retry soon */
        } else if (n > 0) {
            if (!first_read)
                first_read = mono_ms();
            last_read = mono_ms();
            /* event-driven rules right away; what they queue is committed
             * before it is sent */
            if (engine_eval(eng, now_ms(), false) > 0 && ingest_flush(ing) == 0) {
                engine_pump(eng, now_ms());
                next_pump = mono_ms() + 250;
            }
        } else if (drain) {
            /* every stream read to its end: reconcile what is due, then stop */
            if (ingest_check_gaps(ing) == 0)
                break;
        }
    }
    if (drain)
        print_drain_stats(ingest_stats(ing), first_read, last_read);
    (void)ingest_flush(ing);
    const struct ingest_stats *s = ingest_stats(ing);
    log_info("bullwatch agent stopping: %llu entries read, %llu failures recorded",
             (unsigned long long)s->entries, (unsigned long long)s->failures);
    engine_free(eng);
    ingest_free(ing);
    queue_list_release(&ql);
    free(depths);
    rconn_free(cmd);
    rconn_free(srd);
    arena_free(arena);
    store_close(st);
    config_release(&cfg);
    return EXIT_OK;
}
