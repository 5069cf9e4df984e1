/*
 * cmd_agent: the long-running agent. One thread, one loop that owns every
 * write (Redis's ae.c + beforeSleep shape):
 *
 *   links    the command and stream links connect without blocking, and
 *            are probed at least every 0.8 s while Redis is away
 *   timers   discovery, depth poll + gap check + rule evaluation,
 *            retention, statistics: each writes into the commit window
 *   read     the stream link's XREAD replies are staged in the window
 *            (rows, counts, cursor moves); event-driven rules evaluate
 *            right after, proposing transitions and outbox rows
 *   commit   when the window is full, old or urgent, and always before the
 *            loop waits: BEGIN ... COMMIT, then every party applies what it
 *            staged (window.h); on failure everything rolls back and is
 *            read again from the committed cursors
 *   send     new outbox rows go to libcurl only once committed
 *   wait     poll() on the stream link, connecting links and libcurl's
 *            sockets, up to the nearest timer
 *
 * The transaction never spans a wait in poll(): the CLI and the TUI write
 * audit rows into the same store. It can span the short pipelined round
 * trips of a batch on the command link (job hashes, a reconciliation
 * page), bounded by the command timeout. Errors climb one tier: modules
 * return them, the loop drops the window, logs once per change of state
 * (window.c, rconn.c) and retries. SIGTERM/SIGINT set a flag: the window
 * is committed and the agent exits 0. Only bad configuration at start-up
 * makes it exit early.
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "audit.h"
#include "engine.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "queues.h"
#include "rconn.h"
#include "store.h"
#include "storeadmin.h"
#include "util.h"
#include "window.h"
#include "xmem.h"

#define MAX_FDS 24
#define RETENTION_EVERY_MS (3600 * 1000)
#define RETENTION_MAX_SLICES 8 /* per loop iteration, while a backlog lasts */
#define RETENTION_BUDGET_MS 40

static volatile sig_atomic_t stop_requested, reload_requested;

static void
on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

struct agent {
    struct config cfg;
    struct store *st;
    struct window *win;
    struct rconn *cmd, *srd;
    struct arena *arena;
    struct ingest *ing;
    struct engine *eng;
    struct http *http;
    struct queue_list ql;
    struct queue_depth *depths;
    bool polled;     /* depths holds a poll */
    bool *pick;      /* the queues this poll reads (pick_queues) */
    int poll_cursor; /* where the next slice of the others starts */
    int http_at, nhttp; /* where gather() put the HTTP descriptors */
    bool drain, have_queues, had_queues, policy_checked, links_up;
    int64_t next_discover, next_poll, next_retention, next_stats, next_outage_eval;
    int64_t first_read, last_read;
    int64_t next_sync_read; /* a cluster's stream link: the next read after an empty one */
};

/* ---- the window ---- */

/* A module failed: INGEST_STORE (or any store failure) reports the store
 * and backs off; a Redis failure only drops the window (read again). Both
 * tell every party, window open or not: a batch stages its counts before
 * it opens the window. */
static void
dropped(struct agent *a, int rc, const char *what)
{
    if (rc == INGEST_REDIS)
        window_abort(a->win);
    else
        window_failed(a->win, what);
}

/* Commit what is open, then start sending what it committed. */
static void
commit(struct agent *a)
{
    if (window_is_open(a->win))
        (void)window_commit(a->win);
    if (!window_is_open(a->win))
        engine_pump(a->eng, now_ms());
}

/* ---- timers ---- */

/* The polled queues' depths (and a sample a minute) into the window. */
static int
write_depths(struct agent *a, const struct queue_list *l, const struct queue_depth *dd,
             int64_t now)
{
    if (l->n == 0)
        return 0;
    if (window_open(a->win) != 0)
        return -1;
    for (int i = 0; i < l->n; i++) {
        const struct queue_depth *d = &dd[i];
        if (!d->ok)
            continue;
        for (int pass = 0; pass < 2; pass++) {
            sqlite3_stmt *s = store_stmt(a->st, pass ? "stmt/sample_upsert" : "stmt/depth_upsert");
            store_bind_str(s, ":endpoint", a->cfg.endpoint_name);
            store_bind_str(s, ":queue", l->names[i]);
            store_bind_int(s, ":now", now);
            store_bind_int(s, ":minute", now / 60000);
            store_bind_int(s, ":waiting", d->waiting);
            store_bind_int(s, ":active", d->active);
            store_bind_int(s, ":prioritized", d->prioritized);
            store_bind_int(s, ":delayed", d->delayed);
            store_bind_int(s, ":completed", d->completed);
            store_bind_int(s, ":failed", d->failed);
            store_bind_int(s, ":waiting_children", d->waiting_children);
            store_bind_int(s, ":paused", d->paused);
            if (d->workers >= 0)
                store_bind_int(s, ":workers", d->workers);
            if (d->oldest_waiting_ms >= 0)
                store_bind_int(s, ":oldest_waiting_ms", d->oldest_waiting_ms);
            store_bind_str(s, ":version", d->version[0] ? d->version : NULL);
            if (store_exec(a->st, s, "depths") != 0)
                return -1;
        }
    }
    return 0;
}

static void
discover(struct agent *a, int64_t now)
{
    struct queue_list fresh;
    a->next_discover = now + a->cfg.discover_every_ms;
    commit(a); /* the ingest's queue table changes only between windows */
    if (window_is_open(a->win) || queues_discover(a->cmd, &a->cfg, &fresh) != 0)
        return;
    /* the depths of queues still there carry over (both lists are sorted) */
    struct queue_depth *nd = xcalloc((size_t)(fresh.n ? fresh.n : 1), sizeof *nd);
    for (int i = 0, j = 0; i < fresh.n && j < a->ql.n;) {
        int c = strcmp(fresh.names[i], a->ql.names[j]);
        if (c == 0)
            nd[i++] = a->depths[j++];
        else if (c < 0)
            i++;
        else
            j++;
    }
    queue_list_release(&a->ql);
    a->ql = fresh;
    ingest_set_queues(a->ing, &a->ql);
    free(a->depths);
    a->depths = nd;
    free(a->pick);
    a->pick = xcalloc((size_t)(a->ql.n ? a->ql.n : 1), sizeof *a->pick);
    a->poll_cursor = 0;
    if (a->ql.n == 0 && (!a->have_queues || a->had_queues)) {
        char hint[600];
        queues_none_hint(a->cmd, a->cfg.prefix, hint, sizeof hint);
        log_info("%s (looking again every %llds)", hint,
                 (long long)(a->cfg.discover_every_ms / 1000));
    } else if (!a->have_queues || !a->had_queues) {
        log_info("discovered %d queue(s) under prefix '%s'", a->ql.n, a->cfg.prefix);
    }
    a->had_queues = a->ql.n > 0;
    a->have_queues = true;
    a->next_poll = 0; /* check gaps of new queues right away */
}

/*
 * Which queues this poll reads: every queue whose stream moved since the
 * last poll (no event, no change: BullMQ writes an event for every move of
 * a job), every queue never polled, every queue with active jobs (a lock
 * can expire with no event), and a slice of the rest in turn, so
 * that each is read at least every FULL_POLL_MS (a stream trimmed by hand,
 * the stall limit's silent moves). The others keep their values, the age
 * of their oldest waiting job moving on with the clock. An idle fleet of
 * 10,000 queues then costs a few hundred queues a poll, not 10,000.
 */
#define FULL_POLL_MS 60000

static int
pick_queues(struct agent *a, int64_t wall, struct queue_list *sub, struct queue_depth **subd)
{
    int n = a->ql.n, k = 0;
    int64_t slice = ((int64_t)n * a->cfg.poll_every_ms + FULL_POLL_MS - 1) / FULL_POLL_MS;
    for (int i = 0; i < n; i++) {
        const struct queue_depth *d = &a->depths[i];
        /* active jobs can die silently (their worker gone, the lock expires
         * with no event), and dead-not-failed ones must be seen to go */
        a->pick[i] = ingest_moved(a->ing, i) || d->polled_at == 0 || !d->ok || d->active > 0 ||
                     d->deferred > 0 || d->orphaned > 0;
    }
    for (int64_t j = 0; j < slice && n > 0; j++)
        a->pick[(a->poll_cursor + j) % n] = true;
    if (n > 0)
        a->poll_cursor = (int)((a->poll_cursor + slice) % n);
    int np = 0;
    for (int i = 0; i < n; i++)
        np += a->pick[i];
    sub->names = xcalloc((size_t)(np ? np : 1), sizeof *sub->names);
    *subd = xcalloc((size_t)(np ? np : 1), sizeof **subd);
    for (int i = 0; i < n; i++) {
        if (a->pick[i]) {
            sub->names[k++] = a->ql.names[i]; /* borrowed, still sorted */
        } else if (a->depths[i].oldest_waiting_ms >= 0) {
            a->depths[i].oldest_waiting_ms += wall - a->depths[i].polled_at;
            a->depths[i].polled_at = wall;
        }
    }
    sub->n = k;
    return k;
}

/* Depths, gaps and every rule, on the poll timer. */
static void
poll_timer(struct agent *a, int64_t now)
{
    a->next_poll = now + a->cfg.poll_every_ms;
    if (window_backoff_ms(a->win) > 0)
        return;
    int64_t wall = now_ms();
    struct queue_list sub;
    struct queue_depth *subd;
    pick_queues(a, wall, &sub, &subd);
    int rc = ingest_check_gaps(a->ing, a->pick);
    bool polled = rc == 0 && queues_poll(a->cmd, a->cfg.prefix, &sub, subd, wall) == 0;
    if (polled) {
        for (int i = 0, k = 0; i < a->ql.n; i++)
            if (a->pick[i])
                a->depths[i] = subd[k++];
        a->polled = true;
        if (write_depths(a, &sub, subd, wall) != 0)
            rc = INGEST_STORE;
        for (int i = 0; i < a->ql.n; i++)
            a->depths[i].agent_lag_ms = ingest_lag_ms(a->ing, i);
    }
    free(sub.names);
    free(subd);
    if (sub.n > 1000)
        malloc_trim(0); /* a burst: read every queue (the first poll, a rediscovery) */
    if (rc != 0) {
        dropped(a, rc, rc == INGEST_STORE ? "depths" : "gaps");
        return;
    }
    engine_depths(a->eng, &a->ql, a->depths, polled, wall);
    if (engine_eval(a->eng, now_ms(), true) < 0)
        dropped(a, INGEST_STORE, "alerts");
}

/* Retention in slices (storeadmin.c: at most STOREADMIN_SLICE rows per
 * table, from indexes), whether Redis is up or not. Each slice is one of a
 * window's writes and the window is committed right after it, so the write
 * lock is never held longer than one window; while a backlog is left, a few
 * slices run per loop iteration (RETENTION_BUDGET_MS), the loop reads and
 * waits between iterations, and the next slices are due at the next one;
 * otherwise retention looks again in an hour. */
static void
retention(struct agent *a, int64_t now)
{
    a->next_retention = now + RETENTION_EVERY_MS;
    for (int k = 0; k < RETENTION_MAX_SLICES; k++) {
        bool more = false;
        if (window_backoff_ms(a->win) > 0 || window_open(a->win) != 0) {
            a->next_retention = now + 1000;
            return;
        }
        int64_t wall = now_ms();
        struct storeadmin_keep keep = {wall - a->cfg.retention_ms,
                                       wall - a->cfg.signature_retention_ms,
                                       wall - engine_history_ms(a->eng, a->cfg.retention_ms)};
        if (storeadmin_retention_slice_keep(a->st, &keep, wall, &more) != 0) {
            dropped(a, INGEST_STORE, "retention");
            a->next_retention = now + 1000;
            return;
        }
        commit(a);
        if (!more)
            return;
        a->next_retention = now; /* the next loop iteration */
        if (mono_ms() - now >= RETENTION_BUDGET_MS)
            return;
    }
}

static void
stats(struct agent *a, int64_t now)
{
    malloc_trim(0); /* bursts (a first read of 10,000 streams) leave free heap behind */
    const struct ingest_stats *s = ingest_stats(a->ing);
    if (a->next_stats)
        log_info("stats: %d queues, %llu entries, %llu failures recorded (%llu reconciled), "
                 "%llu malformed, %llu custom, %llu gaps",
                 ingest_nqueues(a->ing), (unsigned long long)s->entries,
                 (unsigned long long)s->failures, (unsigned long long)s->reconciled,
                 (unsigned long long)s->malformed, (unsigned long long)s->custom,
                 (unsigned long long)s->gaps);
    a->next_stats = now + 60000;
}

static void
timers(struct agent *a, int64_t now)
{
    if (!a->links_up) {
        /* alerts go on while Redis is away: gauges have no value */
        if (now >= a->next_outage_eval && window_backoff_ms(a->win) == 0) {
            engine_depths(a->eng, &a->ql, a->depths, false, now_ms());
            if (engine_eval(a->eng, now_ms(), true) < 0)
                dropped(a, INGEST_STORE, "alerts");
            a->next_outage_eval = now + a->cfg.poll_every_ms;
        }
    } else {
        if (!a->policy_checked) {
            rconn_check_policy(a->cmd);
            a->policy_checked = true;
        }
        if (now >= a->next_discover)
            discover(a, now);
        if (now >= a->next_poll && a->have_queues)
            poll_timer(a, now);
        if (ingest_has_work(a->ing) && window_backoff_ms(a->win) == 0) {
            int rc = ingest_step(a->ing);
            if (rc < 0)
                dropped(a, rc, "reconciliation");
        }
    }
    if (now >= a->next_retention && window_backoff_ms(a->win) == 0)
        retention(a, now);
    if (now >= a->next_stats)
        stats(a, now);
}

/* ---- the stream link ---- */

static void
on_replies(struct agent *a)
{
    redisReply *r;
    while (rconn_take(a->srd, &r) == 1) {
        int n = ingest_on_reply(a->ing, a->srd, r);
        if (n < 0) {
            dropped(a, n, "ingest");
            continue;
        }
        if (n > 0) {
            if (!a->first_read)
                a->first_read = mono_ms();
            a->last_read = mono_ms();
            /* event-driven rules right away; what they queue is committed
             * (the window is urgent then) before it is sent */
            if (engine_eval(a->eng, now_ms(), false) < 0)
                dropped(a, INGEST_STORE, "alerts");
        }
        if (window_due(a->win))
            commit(a);
    }
}

/* How long XREAD may block: [agent] block. The loop does not wait for it:
 * timers run on the command link while the XREAD is in flight, and
 * deliveries have their own descriptors in poll(). */
static int64_t
block_for(const struct agent *a)
{
    return a->cfg.block_ms;
}

/* A cluster's stream link has no descriptor and no BLOCK (rcluster.h):
 * its XREADs are answered at once, read right here, and a round that found
 * nothing new waits SYNC_IDLE_MS before the next. */
#define SYNC_IDLE_MS 100

static void
send_read(struct agent *a)
{
    if (!rconn_is_up(a->srd) || !ingest_wants_read(a->ing) || window_backoff_ms(a->win) > 0)
        return;
    if (rconn_sync(a->srd) && ingest_caught_up(a->ing) && mono_ms() < a->next_sync_read)
        return;
    if (ingest_send(a->ing, a->srd, block_for(a)) == 1 && rconn_replies_ready(a->srd)) {
        on_replies(a);
        if (ingest_caught_up(a->ing))
            a->next_sync_read = mono_ms() + SYNC_IDLE_MS;
    }
}

/* ---- the HTTP endpoint (served with the window closed: committed rows) ---- */

static int
on_http(void *ud, const char *path, struct buf *out, const char **ctype)
{
    struct agent *a = ud;
    if (!strcmp(path, "/metrics")) {
        struct metrics_src m = {&a->cfg, &a->ql,   a->polled ? a->depths : NULL, a->ing, a->st,
                                a->win,  a->links_up, a->cfg.metrics_per_queue};
        *ctype = "text/plain; version=0.0.4; charset=utf-8";
        metrics_write(&m, out);
        return 200;
    }
    if (!strcmp(path, "/livez")) { /* answered from the loop: the loop is alive */
        buf_adds(out, "ok\n");
        return 200;
    }
    if (!strcmp(path, "/readyz")) {
        if (!a->links_up)
            buf_addf(out, "not ready: redis %s unreachable: %s\n", a->cfg.endpoint_addr,
                     rconn_errstr(rconn_is_up(a->cmd) ? a->srd : a->cmd));
        else if (window_failing(a->win))
            buf_adds(out, "not ready: the audit store cannot be written\n");
        else
            buf_adds(out, "ready\n");
        return out->data && !strncmp(out->data, "ready", 5) ? 200 : 503;
    }
    buf_adds(out, "not found: /metrics, /livez, /readyz\n");
    return 404;
}

/* ---- waiting ---- */

static int
gather(struct agent *a, struct pollfd *p)
{
    int n = 0;
    short ev;
    int fd = rconn_fd(a->srd, &ev);
    if (fd >= 0) {
        p[n].fd = fd;
        p[n].events = ev;
        p[n++].revents = 0;
    }
    fd = rconn_fd(a->cmd, &ev);
    if (fd >= 0 && !rconn_is_up(a->cmd)) { /* connecting: wake up when it is done */
        p[n].fd = fd;
        p[n].events = ev;
        p[n++].revents = 0;
    }
    a->nhttp = http_fds(a->http, p + n, MAX_FDS - n);
    a->http_at = n;
    n += a->nhttp;
    return n + engine_fds(a->eng, p + n, MAX_FDS - n);
}

static int64_t
wait_ms(const struct agent *a, int64_t now)
{
    int64_t t = 1000, x;
    if (a->links_up) {
        x = (a->next_poll < a->next_discover ? a->next_poll : a->next_discover) - now;
        t = x < t ? x : t;
        if (ingest_has_work(a->ing))
            t = 0;
        if (ingest_inflight(a->ing) && (x = ingest_overdue_at(a->ing) - now) < t)
            t = x;
        if (rconn_sync(a->srd) && (x = a->next_sync_read - now) < t)
            t = x;
    } else {
        x = rconn_retry_in(rconn_is_up(a->cmd) ? a->srd : a->cmd);
        t = x < t ? x : t;
        x = a->next_outage_eval - now;
        t = x < t ? x : t;
    }
    x = engine_wait_ms(a->eng, now_ms());
    if (x >= 0 && x < t)
        t = x;
    x = window_backoff_ms(a->win);
    if (x > 0 && x < t)
        t = x;
    x = http_wait_ms(a->http);
    if (x >= 0 && x < t)
        t = x;
    return t < 0 ? 0 : t;
}

static void
wait_and_read(struct agent *a)
{
    struct pollfd p[MAX_FDS];
    int n = gather(a, p);
    int ready = poll(p, (nfds_t)n, 0);
    if (ready == 0) {
        commit(a); /* never wait with the window open */
        /* what committed may make streams readable (a new queue's first
         * read): ask before waiting, not after the next timer */
        if (a->links_up && a->have_queues)
            send_read(a);
        n = gather(a, p);
        ready = poll(p, (nfds_t)n, (int)wait_ms(a, mono_ms()));
    }
    if (ready < 0 && errno != EINTR)
        log_warn("poll: %s", strerror(errno));
    bool curl = false, web = false;
    for (int i = 0; i < n && ready > 0; i++) {
        if (!p[i].revents)
            continue;
        if (i >= a->http_at && i < a->http_at + a->nhttp) {
            web = true;
            continue;
        }
        short ev;
        if (rconn_is_up(a->srd) && p[i].fd == rconn_fd(a->srd, &ev)) {
            if (p[i].revents & POLLOUT)
                (void)rconn_write_some(a->srd);
            if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) && rconn_read_some(a->srd) == 0)
                on_replies(a);
        } else {
            curl = true; /* a transfer moved, or a link finished connecting */
        }
    }
    if (curl || engine_inflight(a->eng))
        engine_pump(a->eng, now_ms());
    if (a->http) {
        if (web)
            commit(a); /* a request reads committed rows only */
        if (!window_is_open(a->win))
            http_run(a->http, p + a->http_at, a->nhttp);
    }
}

/* ---- SIGHUP: read agent.ini again ---- */

/* What a reload cannot change under a running agent: NULL, or its name. */
static const char *
restart_needed(const struct config *a, const struct config *b)
{
    if (strcmp(a->redis_url, b->redis_url) || strcmp(a->prefix, b->prefix) ||
        strcmp(a->redis_username, b->redis_username) ||
        strcmp(a->redis_password, b->redis_password) ||
        strcmp(a->redis_password_env, b->redis_password_env) ||
        strcmp(a->redis_password_file, b->redis_password_file) ||
        strcmp(a->redis_tls_ca_file, b->redis_tls_ca_file) ||
        strcmp(a->redis_tls_ca_dir, b->redis_tls_ca_dir) ||
        strcmp(a->redis_tls_cert_file, b->redis_tls_cert_file) ||
        strcmp(a->redis_tls_key_file, b->redis_tls_key_file) ||
        strcmp(a->redis_tls_server_name, b->redis_tls_server_name) ||
        a->redis_tls_verify != b->redis_tls_verify)
        return "[redis]";
    if (strcmp(a->store_path, b->store_path))
        return "[store] path";
    if (strcmp(a->http, b->http))
        return "[agent] http";
    return NULL;
}

/* Rules, sinks, queues, intervals, limits and the log level from the file
 * again; the state stays (alert states and windows are reloaded from the
 * store by the new engine). A file that does not load keeps the running
 * configuration and says why, with FILE:LINE. */
static void
reload(struct agent *a)
{
    struct config nc;
    char err[CONFIG_ERR_LEN];
    const char *why;
    memset(&nc, 0, sizeof nc);
    reload_requested = 0;
    if (cmd_read_config(&nc, a->cfg.path, err, sizeof err) != 0) {
        log_error("reload: %s; keeping the running configuration", err);
        config_release(&nc);
        return;
    }
    if ((why = restart_needed(&a->cfg, &nc)) != NULL) {
        log_warn("reload: %s changed, which takes a restart; keeping the running configuration",
                 why);
        config_release(&nc);
        return;
    }
    commit(a); /* the engine changes only between windows */
    engine_free(a->eng);
    struct config old = a->cfg;
    a->cfg = nc; /* the links, the ingest and the handler point at a->cfg */
    config_release(&old);
    a->eng = engine_new(&a->cfg, a->st, a->win, now_ms(), err, sizeof err);
    ingest_set_observer(a->ing, engine_nrules(a->eng) ? engine_count : NULL, a->eng);
    ingest_set_sig_observer(a->ing, engine_nrules(a->eng) ? engine_signature : NULL, a->eng);
    ingest_set_retry_observer(a->ing, engine_nrules(a->eng) ? engine_retry : NULL, a->eng);
    a->next_discover = 0; /* include/exclude at once */
    log_info("reload: %s: %d rule(s); state kept", a->cfg.path, engine_nrules(a->eng));
}

/* ---- the loop ---- */

static void
links(struct agent *a)
{
    bool was_up = rconn_is_up(a->srd);
    a->links_up = rconn_ensure_async(a->cmd) == 0 && rconn_ensure_async(a->srd) == 0;
    if (was_up && !rconn_is_up(a->srd))
        ingest_link_lost(a->ing);
    if (ingest_inflight(a->ing) && mono_ms() > ingest_overdue_at(a->ing)) {
        rconn_mark_down(a->srd, "no reply to XREAD within its block time");
        ingest_link_lost(a->ing);
    }
    if (!rconn_is_up(a->srd))
        ingest_link_lost(a->ing);
}

static void
run(struct agent *a)
{
    while (!stop_requested) {
        if (reload_requested)
            reload(a);
        links(a);
        timers(a, mono_ms());
        if (stop_requested)
            break;
        if (a->links_up && a->have_queues)
            send_read(a);
        wait_and_read(a);
        if (a->drain && ingest_caught_up(a->ing) && !ingest_has_work(a->ing)) {
            /* every stream read to its end: reconcile what is due, then stop */
            commit(a);
            if (ingest_check_gaps(a->ing, NULL) == 0) {
                while (ingest_has_work(a->ing) && ingest_step(a->ing) > 0)
                    ;
                commit(a);
                if (!ingest_has_work(a->ing))
                    break;
            }
        }
    }
    commit(a);
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

/* One agent per store: an flock()ed file beside it holding the agent's pid
 * (an SQLite lock would also stop the CLI and the TUI). The descriptor
 * stays open for the agent's life; the kernel drops the lock when it dies,
 * however it dies. -1 (with a message) when another agent holds it. */
static int
lock_store(const char *store, char *err, size_t errlen)
{
    char path[4096 + 8];
    snprintf(path, sizeof path, "%s.lock", store);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the lock file %.300s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        snprintf(err, errlen, "another agent (pid %s) is running on the store %.300s; one agent per "
                 "store (the CLI and the TUI can still use it)", pid[0] ? pid : "?", store);
        close(fd);
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
        log_warn("cannot write the pid into %s: %s", path, strerror(errno));
    return fd;
}

static void
signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void
teardown(struct agent *a)
{
    http_stop(a->http);
    engine_free(a->eng);
    ingest_free(a->ing);
    window_free(a->win);
    queue_list_release(&a->ql);
    free(a->depths);
    free(a->pick);
    rconn_free(a->cmd);
    rconn_free(a->srd);
    arena_free(a->arena);
    store_close(a->st);
    config_release(&a->cfg);
}

int
cmd_agent(int argc, char **argv)
{
    static const char *const flags[] = {"--drain", NULL};
    struct agent a;
    char err[512];
    memset(&a, 0, sizeof a);
    if (cmd_setup(argc, argv, "agent", flags, &a.drain, &a.cfg) != 0)
        return EXIT_USAGE;
    int lock = lock_store(a.cfg.store_path, err, sizeof err);
    if (lock < 0) {
        fprintf(stderr, "bullwatch agent: %s\n", err);
        config_release(&a.cfg);
        return EXIT_USAGE;
    }
    a.st = store_open(a.cfg.store_path, false, err, sizeof err);
    if (!a.st) {
        fprintf(stderr, "bullwatch agent: %s\n", err);
        config_release(&a.cfg);
        return EXIT_USAGE;
    }
    int renamed = store_rename_endpoint(a.st, a.cfg.endpoint_addr, a.cfg.endpoint_name);
    if (renamed > 0)
        log_info("store: %d rows of %s now name it by its endpoint name '%s'", renamed,
                 a.cfg.endpoint_addr, a.cfg.endpoint_name);
    int gone = audit_mark_interrupted(a.st);
    if (gone > 0)
        log_warn("%d operator action(s) left running by a process that is gone: marked interrupted",
                 gone);
    signals();
    config_warn_insecure(&a.cfg);
    /* blocks of 256 KiB and more (reply arenas, command buffers) are mapped
     * and unmapped: glibc would otherwise raise the threshold after the
     * first and keep every burst's memory in the heap */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    a.win = window_new(a.st);
    a.cmd = rconn_new(&a.cfg.ep, a.cfg.endpoint_addr, "cmd", a.cfg.connect_timeout_ms);
    a.srd = rconn_new(&a.cfg.ep, a.cfg.endpoint_addr, "stream", a.cfg.connect_timeout_ms);
    a.arena = arena_new(1 << 20);
    rconn_use_arena(a.srd, a.arena); /* XREAD replies: no malloc per entry */
    a.ing = ingest_new(&a.cfg, a.st, a.win, a.cmd);
    a.eng = engine_new(&a.cfg, a.st, a.win, now_ms(), err, sizeof err);
    if (!a.eng) { /* config loading checked the rules and sinks already */
        fprintf(stderr, "%s\n", err);
        return EXIT_USAGE;
    }
    if (engine_nrules(a.eng)) {
        ingest_set_observer(a.ing, engine_count, a.eng);
        ingest_set_sig_observer(a.ing, engine_signature, a.eng);
        ingest_set_retry_observer(a.ing, engine_retry, a.eng);
    }
    if (a.cfg.http[0]) {
        a.http = http_start(a.cfg.http, on_http, &a, err, sizeof err);
        if (!a.http) {
            fprintf(stderr, "bullwatch agent: [agent] http: %s\n", err);
            teardown(&a);
            return EXIT_USAGE;
        }
        log_info("serving /metrics, /livez and /readyz on %s (port %d)", a.cfg.http,
                 http_port(a.http));
    }
    log_info("bullwatch agent starting: redis %s, prefix '%s', store %s", a.cfg.endpoint_addr,
             a.cfg.prefix, a.cfg.store_path);
    run(&a);
    if (a.drain)
        print_drain_stats(ingest_stats(a.ing), a.first_read, a.last_read);
    const struct ingest_stats *s = ingest_stats(a.ing);
    log_info("bullwatch agent stopping: %llu entries read, %llu failures recorded",
             (unsigned long long)s->entries, (unsigned long long)s->failures);
    teardown(&a);
    close(lock);
    return EXIT_OK;
}
