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
#include "endpoint.h"
#include "engine.h"
#include "failover.h"
#include "http.h"
#include "ingest.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "queues.h"
#include "rconn.h"
#include "store.h"
#include "storeadmin.h"
#include "util.h"
#include "window.h"
#include "xmem.h"

#define MAX_ENDPOINTS 16 /* two descriptors each in poll() */
#define MAX_FDS (22 + 2 * MAX_ENDPOINTS) /* + HTTP clients and deliveries, as before */
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

/*
 * Several endpoints ([redis NAME]) each have their own links, ingest,
 * queues and timers (endpoint.h); the loop runs every endpoint's timers
 * and waits on every endpoint's links in the one poll(). A connect never
 * blocks (rconn_ensure_async), and its handshake waits for a PING's answer
 * in poll() first, so a Redis that accepts connections but answers nothing
 * (SIGSTOP, a blocked event loop) costs the loop nothing on reconnect.
 * What can still block the loop for one endpoint: the synchronous round
 * trips on its command link once it is up (discovery's SCAN pages, a depth
 * poll, job hashes, a reconciliation page), each bounded by that
 * endpoint's connect_timeout (2 s by default); the first one that times
 * out marks the link down, and from then on the endpoint is only probed.
 * So a Redis that stops answering costs the others one timeout, once
 * (tests/it/t_multi_endpoint.sh measures it).
 */
struct agent {
    struct config cfg;
    struct store *st;
    struct window *win;
    struct endpoint *ep[MAX_ENDPOINTS];
    int nep;
    struct engine *eng;
    struct http *http;
    int http_at, nhttp; /* where gather() put the HTTP descriptors */
    bool drain;
    int64_t next_retention, next_stats;
    int64_t first_read, last_read;
};

/* What follows is about endpoint ep (NULL: none): log lines name it when
 * there are several. */
static void
on(const struct agent *a, const struct endpoint *ep)
{
    log_set_endpoint(ep && a->nep > 1 ? ep->cfg.endpoint_name : NULL);
}

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
write_depths(struct agent *a, const struct endpoint *ep, const struct queue_list *l,
             const struct queue_depth *dd, int64_t now)
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
            store_bind_str(s, ":endpoint", ep->cfg.endpoint_name);
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
discover(struct agent *a, struct endpoint *ep, int64_t now)
{
    struct queue_list fresh;
    ep->next_discover = now + a->cfg.discover_every_ms;
    commit(a); /* the ingest's queue table changes only between windows */
    if (window_is_open(a->win) || queues_discover(ep->cmd, &ep->cfg, &fresh) != 0)
        return;
    endpoint_set_queues(ep, &fresh);
    if (ep->ql.n == 0 && (!ep->have_queues || ep->had_queues)) {
        char hint[600];
        queues_none_hint(ep->cmd, ep->cfg.prefix, hint, sizeof hint);
        log_info("%s (looking again every %llds)", hint,
                 (long long)(a->cfg.discover_every_ms / 1000));
    } else if (!ep->have_queues || !ep->had_queues) {
        log_info("discovered %d queue(s) under prefix '%s'", ep->ql.n, ep->cfg.prefix);
    }
    ep->had_queues = ep->ql.n > 0;
    ep->have_queues = true;
    ep->next_poll = 0; /* check gaps of new queues right away */
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
pick_queues(struct endpoint *a, int64_t wall, struct queue_list *sub, struct queue_depth **subd)
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
poll_timer(struct agent *a, struct endpoint *ep, int64_t now)
{
    int64_t wall = now_ms(), step = a->cfg.poll_every_ms;
    /* HA: every agent polls on the same wall-clock grid (multiples of
     * poll_every), so their timer rules see Redis at the same instants and
     * time a transition alike (message ids, alerts/engine.c); the poll a
     * discovery asks for at once (next_poll 0) is off the grid: it reads
     * depths and gaps, and the rules wait for the grid's next tick */
    bool off_grid = a->cfg.ha && ep->next_poll == 0;
    if (a->cfg.ha && (step -= wall % a->cfg.poll_every_ms) < a->cfg.poll_every_ms / 4)
        step += a->cfg.poll_every_ms;
    ep->next_poll = now + step;
    if (window_backoff_ms(a->win) > 0)
        return;
    struct queue_list sub;
    struct queue_depth *subd;
    pick_queues(ep, wall, &sub, &subd);
    int rc = ingest_check_gaps(ep->ing, ep->pick);
    bool polled = rc == 0 && queues_poll(ep->cmd, ep->cfg.prefix, &sub, subd, wall) == 0;
    if (polled) {
        for (int i = 0, k = 0; i < ep->ql.n; i++)
            if (ep->pick[i])
                ep->depths[i] = subd[k++];
        ep->polled = true;
        if (write_depths(a, ep, &sub, subd, wall) != 0)
            rc = INGEST_STORE;
        for (int i = 0; i < ep->ql.n; i++)
            ep->depths[i].agent_lag_ms = ingest_lag_ms(ep->ing, i);
    }
    free(sub.names);
    free(subd);
    if (sub.n > 1000)
        malloc_trim(0); /* a burst: read every queue (the first poll, a rediscovery) */
    if (rc != 0) {
        dropped(a, rc, rc == INGEST_STORE ? "depths" : "gaps");
        return;
    }
    engine_depths_at(a->eng, ep->cfg.endpoint_name, &ep->ql, ep->depths, polled, wall);
    if (!off_grid && engine_eval(a->eng, now_ms(), true) < 0)
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
    for (int e = 0; e < a->nep && a->next_stats; e++) {
        const struct ingest_stats *s = ingest_stats(a->ep[e]->ing);
        on(a, a->ep[e]);
        log_info("stats: %d queues, %llu entries, %llu failures recorded (%llu reconciled), "
                 "%llu malformed, %llu custom, %llu gaps",
                 ingest_nqueues(a->ep[e]->ing),
                 (unsigned long long)s->entries, (unsigned long long)s->failures,
                 (unsigned long long)s->reconciled, (unsigned long long)s->malformed,
                 (unsigned long long)s->custom, (unsigned long long)s->gaps);
        on(a, NULL);
    }
    a->next_stats = now + 60000;
}

/* ---- HA: the leader lease of each endpoint (agent/lease.h) ---- */

/* outbox_leader_fn: a row is sent under the lease of its endpoint (a row
 * of none, such as a sink test, under the first endpoint's) */
static bool
may_send(void *ud, const char *endpoint, const char **id, int64_t *token)
{
    struct agent *a = ud;
    const struct endpoint *ep = a->ep[0];
    for (int e = 0; endpoint && e < a->nep; e++)
        if (!strcmp(a->ep[e]->cfg.endpoint_name, endpoint))
            ep = a->ep[e];
    if (!lease_leading(ep->lease, mono_ms()))
        return false;
    *id = lease_id(ep->lease);
    *token = lease_token(ep->lease);
    return true;
}

/* A follower drops its copies of what the leader has handled: rows created
 * before the leader's watermark less one lease and one poll (the two
 * agents create their rows of a transition at slightly different times). */
static void
ha_skip(struct agent *a, struct endpoint *ep)
{
    struct outbox *o = engine_outbox(a->eng);
    int64_t clear = lease_holder_clear(ep->lease);
    const char *holder = lease_holder(ep->lease);
    if (!o || clear <= 0 || !holder[0] || !strcmp(holder, lease_id(ep->lease)) ||
        window_backoff_ms(a->win) > 0 || window_open(a->win) != 0)
        return;
    char why[LEASE_ID_MAX + 64];
    snprintf(why, sizeof why, "ha: left to the leader %s (token %lld)", holder,
             (long long)lease_token(ep->lease));
    int n = outbox_ha_skip(o, ep->cfg.endpoint_name,
                           clear - a->cfg.ha_lease_ms - a->cfg.poll_every_ms, why);
    if (n < 0)
        dropped(a, INGEST_STORE, "outbox");
    else if (n > 0)
        log_debug("ha: %d notification(s) left to the leader %s", n, holder);
}

static void
ha_timer(struct agent *a, struct endpoint *ep, int64_t now)
{
    if (!ep->lease)
        return;
    if (now >= lease_next_at(ep->lease)) {
        struct outbox *o = engine_outbox(a->eng);
        bool was = lease_leading(ep->lease, now);
        lease_tick(ep->lease, now, outbox_ha_watermark(o, ep->cfg.endpoint_name, now_ms()));
        if (!lease_leading(ep->lease, mono_ms()) && !was)
            ha_skip(a, ep);
    }
    if (lease_changed(ep->lease))
        outbox_leadership(engine_outbox(a->eng), lease_leading(ep->lease, mono_ms()));
}

/* [agent] ha = on: a lease in each endpoint's Redis, under its prefix */
static void
ha_start(struct agent *a)
{
    char id[LEASE_ID_MAX];
    if (a->cfg.ha_id[0])
        snprintf(id, sizeof id, "%s", a->cfg.ha_id);
    else
        lease_default_id(id, sizeof id);
    for (int e = 0; e < a->nep; e++) {
        struct endpoint *ep = a->ep[e];
        char key[512];
        lease_key(ep->cfg.prefix, key, sizeof key);
        ep->lease = lease_new(ep->cmd, key, id, a->cfg.ha_lease_ms);
        on(a, ep);
        log_info("ha: on as '%s': the holder of '%s' (lease %lld ms) sends the notifications", id,
                 key, (long long)a->cfg.ha_lease_ms);
    }
    on(a, NULL);
    outbox_set_leader(engine_outbox(a->eng), may_send, a);
}

static void
endpoint_timers(struct agent *a, struct endpoint *ep, int64_t now)
{
    if (!ep->links_up) {
        /* alerts go on while this Redis is away: its gauges have no value */
        if (now >= ep->next_outage_eval && window_backoff_ms(a->win) == 0) {
            engine_depths_at(a->eng, ep->cfg.endpoint_name, &ep->ql, ep->depths, false, now_ms());
            if (engine_eval(a->eng, now_ms(), true) < 0)
                dropped(a, INGEST_STORE, "alerts");
            ep->next_outage_eval = now + a->cfg.poll_every_ms;
        }
        return;
    }
    if (!ep->policy_checked) {
        rconn_check_policy(ep->cmd);
        ep->policy_checked = true;
    }
    if (now >= ep->next_discover)
        discover(a, ep, now);
    if (now >= ep->next_poll && ep->have_queues)
        poll_timer(a, ep, now);
    if (ingest_has_work(ep->ing) && window_backoff_ms(a->win) == 0) {
        int rc = ingest_step(ep->ing);
        if (rc < 0)
            dropped(a, rc, "reconciliation");
    }
}

static void
timers(struct agent *a, int64_t now)
{
    for (int e = 0; e < a->nep; e++) {
        on(a, a->ep[e]);
        ha_timer(a, a->ep[e], now);
        endpoint_timers(a, a->ep[e], mono_ms());
    }
    on(a, NULL);
    if (now >= a->next_retention && window_backoff_ms(a->win) == 0)
        retention(a, now);
    if (now >= a->next_stats)
        stats(a, now);
}

/* ---- the stream link ---- */

static void
on_replies(struct agent *a, struct endpoint *ep)
{
    redisReply *r;
    while (rconn_take(ep->srd, &r) == 1) {
        int n = ingest_on_reply(ep->ing, ep->srd, r);
        if (n < 0) {
            dropped(a, n, "ingest");
            continue;
        }
        if (n > 0) {
            if (!a->first_read)
                a->first_read = mono_ms();
            a->last_read = mono_ms();
            if (!ep->first_read)
                ep->first_read = a->last_read;
            ep->last_read = a->last_read;
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
send_read(struct agent *a, struct endpoint *ep)
{
    if (!ep->links_up || !ep->have_queues || !rconn_is_up(ep->srd) ||
        !ingest_wants_read(ep->ing) || window_backoff_ms(a->win) > 0)
        return;
    if (rconn_sync(ep->srd) && ingest_caught_up(ep->ing) && mono_ms() < ep->next_sync_read)
        return;
    if (ingest_send(ep->ing, ep->srd, block_for(a)) == 1 && rconn_replies_ready(ep->srd)) {
        on_replies(a, ep);
        if (ingest_caught_up(ep->ing))
            ep->next_sync_read = mono_ms() + SYNC_IDLE_MS;
    }
}

static void
send_reads(struct agent *a)
{
    for (int e = 0; e < a->nep; e++) {
        on(a, a->ep[e]);
        send_read(a, a->ep[e]);
    }
    on(a, NULL);
}

/* ---- the HTTP endpoint (served with the window closed: committed rows) ---- */

static bool
all_up(const struct agent *a)
{
    for (int e = 0; e < a->nep; e++)
        if (!a->ep[e]->links_up)
            return false;
    return true;
}

static int
on_http(void *ud, const char *path, struct buf *out, const char **ctype)
{
    struct agent *a = ud;
    if (!strcmp(path, "/metrics")) {
        struct metrics_ep me[MAX_ENDPOINTS];
        for (int e = 0; e < a->nep; e++) {
            const struct endpoint *ep = a->ep[e];
            me[e] = (struct metrics_ep){&ep->cfg,       &ep->ql,
                                        ep->polled ? ep->depths : NULL,
                                        ep->ing,        ep->links_up,
                                        ep->lease != NULL, lease_leading(ep->lease, mono_ms()),
                                        lease_token(ep->lease)};
        }
        struct metrics_src m = {&a->cfg, me, a->nep, a->st, a->win, a->cfg.metrics_per_queue};
        *ctype = "text/plain; version=0.0.4; charset=utf-8";
        metrics_write(&m, out);
        return 200;
    }
    if (!strcmp(path, "/livez")) { /* answered from the loop: the loop is alive */
        buf_adds(out, "ok\n");
        return 200;
    }
    if (!strcmp(path, "/readyz")) {
        /* ready: every endpoint's links up and the store writable; else
         * one line for each endpoint that is away */
        for (int e = 0; e < a->nep; e++) {
            const struct endpoint *ep = a->ep[e];
            if (!ep->links_up)
                buf_addf(out, "not ready: redis %s unreachable: %s\n", ep->label,
                         rconn_errstr(rconn_is_up(ep->cmd) ? ep->srd : ep->cmd));
        }
        if (window_failing(a->win))
            buf_adds(out, "not ready: the audit store cannot be written\n");
        else if (all_up(a))
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
    for (int e = 0; e < a->nep; e++) {
        const struct endpoint *ep = a->ep[e];
        int fd = rconn_fd(ep->srd, &ev);
        if (fd >= 0) {
            p[n].fd = fd;
            p[n].events = ev;
            p[n++].revents = 0;
        }
        fd = rconn_fd(ep->cmd, &ev);
        if (fd >= 0 && !rconn_is_up(ep->cmd)) { /* connecting: wake up when it is done */
            p[n].fd = fd;
            p[n].events = ev;
            p[n++].revents = 0;
        }
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
    for (int e = 0; e < a->nep; e++) {
        const struct endpoint *ep = a->ep[e];
        if (ep->links_up) {
            x = (ep->next_poll < ep->next_discover ? ep->next_poll : ep->next_discover) - now;
            t = x < t ? x : t;
            if (ingest_has_work(ep->ing))
                t = 0;
            if (ingest_inflight(ep->ing) && (x = ingest_overdue_at(ep->ing) - now) < t)
                t = x;
            if (rconn_sync(ep->srd) && (x = ep->next_sync_read - now) < t)
                t = x;
        } else {
            x = rconn_retry_in(rconn_is_up(ep->cmd) ? ep->srd : ep->cmd);
            t = x < t ? x : t;
            x = ep->next_outage_eval - now;
            t = x < t ? x : t;
        }
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
    for (int e = 0; e < a->nep; e++)
        if (a->ep[e]->lease && (x = lease_next_at(a->ep[e]->lease) - now) < t)
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
        send_reads(a);
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
        struct endpoint *ep = NULL;
        for (int e = 0; e < a->nep && !ep; e++)
            if (rconn_is_up(a->ep[e]->srd) && p[i].fd == rconn_fd(a->ep[e]->srd, &ev))
                ep = a->ep[e];
        if (ep) {
            on(a, ep);
            if (p[i].revents & POLLOUT)
                (void)rconn_write_some(ep->srd);
            if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) && rconn_read_some(ep->srd) == 0)
                on_replies(a, ep);
            on(a, NULL);
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
    if (a->nendpoints != b->nendpoints)
        return "the number of [redis] sections";
    for (int i = 0; i < a->nendpoints; i++) {
        struct config x, y;
        config_endpoint(a, i, &x);
        config_endpoint(b, i, &y);
        if (strcmp(x.endpoint_name, y.endpoint_name) || config_redis_differs(&x, &y))
            return "[redis]";
    }
    if (strcmp(a->store_path, b->store_path))
        return "[store] path";
    if (strcmp(a->http, b->http))
        return "[agent] http";
    if (a->ha != b->ha || a->ha_lease_ms != b->ha_lease_ms || strcmp(a->ha_id, b->ha_id))
        return "[agent] ha";
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
    for (int e = 0; e < a->nep; e++) {
        struct ingest *ing = a->ep[e]->ing;
        void *obs = engine_observer(a->eng, e);
        bool any = engine_nrules(a->eng) > 0;
        endpoint_rebind(a->ep[e], &a->cfg);
        ingest_set_observer(ing, any ? engine_count_obs : NULL, obs);
        ingest_set_sig_observer(ing, any ? engine_signature_obs : NULL, obs);
        ingest_set_retry_observer(ing, any ? engine_retry_obs : NULL, obs);
        a->ep[e]->next_discover = 0; /* include/exclude at once */
    }
    if (a->cfg.ha)
        outbox_set_leader(engine_outbox(a->eng), may_send, a);
    log_info("reload: %s: %d rule(s); state kept", a->cfg.path, engine_nrules(a->eng));
}

/* ---- the loop ---- */

/* A Sentinel master switch of endpoint ep (both links on the new master):
 * the rows read from the old master that the new one lacks go
 * (failover.h). */
static void
failover(struct agent *a, struct endpoint *ep)
{
    uint64_t g = rconn_master_gen(ep->cmd);
    if (!ep->links_up || g != rconn_master_gen(ep->srd))
        return;
    if (g != ep->master_gen) {
        ep->forget_due = ep->master_gen != 0;
        ep->master_gen = g;
    }
    if (!ep->forget_due || window_backoff_ms(a->win) > 0)
        return;
    /* in a window of its own, so that a later rollback cannot undo it
     * after forget_due is cleared */
    commit(a);
    if (window_is_open(a->win) || window_open(a->win) != 0)
        return;
    int rc = failover_forget_lost(ep->cmd, a->st, &ep->cfg, &ep->ql, now_ms());
    if (rc < 0)
        dropped(a, rc == FAILOVER_REDIS ? INGEST_REDIS : INGEST_STORE, "failover");
    else if (window_commit(a->win) == 0)
        ep->forget_due = false;
}

static bool
drained(const struct agent *a){
    for (int e = 0; e < a->nep; e++)
        if (!ingest_caught_up(a->ep[e]->ing) || ingest_has_work(a->ep[e]->ing))
            return false;
    return true;
}

/* --drain: every stream of every endpoint read to its end: reconcile what
 * is due, then stop (true). */
static bool
drain_done(struct agent *a)
{
    commit(a);
    bool done = true;
    for (int e = 0; e < a->nep; e++) {
        struct ingest *ing = a->ep[e]->ing;
        if (ingest_check_gaps(ing, NULL) != 0) {
            done = false;
            continue;
        }
        while (ingest_has_work(ing) && ingest_step(ing) > 0)
            ;
        commit(a);
        done = done && !ingest_has_work(ing);
    }
    return done;}

static void
run(struct agent *a)
{
    while (!stop_requested) {
        if (reload_requested)
            reload(a);
        for (int e = 0; e < a->nep; e++) {
            on(a, a->ep[e]);
            endpoint_links(a->ep[e]);
            failover(a, a->ep[e]);
        }
        on(a, NULL);
        timers(a, mono_ms());
        if (stop_requested)
            break;
        send_reads(a);
        wait_and_read(a);
        if (a->drain && drained(a) && drain_done(a))
            break;
    }
    commit(a);
}

static double
tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* --drain: one JSON line with what the run cost (benchmarks, one-shot
 * catch-up); with several endpoints, "endpoints" has each one's share. */
static void
print_drain_stats(const struct agent *a, const struct ingest_stats *s)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    int64_t first_ms = a->first_read, last_ms = a->last_read;
    double secs = last_ms > first_ms ? (double)(last_ms - first_ms) / 1000.0 : 0.0;
    if (a->nep > 1) {
        printf("{\"endpoints\":[");
        for (int e = 0; e < a->nep; e++) {
            const struct endpoint *ep = a->ep[e];
            const struct ingest_stats *es = ingest_stats(ep->ing);
            double es_s = ep->last_read > ep->first_read
                              ? (double)(ep->last_read - ep->first_read) / 1000.0 : 0.0;
            printf("%s{\"name\":\"%s\",\"entries\":%llu,\"failures\":%llu,\"seconds\":%.3f,"
                   "\"events_per_s\":%.0f}", e ? "," : "", ep->cfg.endpoint_name,
                   (unsigned long long)es->entries, (unsigned long long)es->failures, es_s,
                   es_s > 0 ? (double)es->entries / es_s : 0.0);
        }
        printf("],");
    } else {
        printf("{");
    }
    printf("\"entries\":%llu,\"failures\":%llu,\"reconciled\":%llu,\"malformed\":%llu,"
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
    for (int e = 0; e < a->nep; e++) {
        lease_free(a->ep[e]->lease);
        endpoint_free(a->ep[e]);
    }
    window_free(a->win);
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
    if (a.cfg.nendpoints > MAX_ENDPOINTS) {
        fprintf(stderr, "bullwatch agent: %s: %d [redis NAME] sections; one agent watches at most "
                "%d\n", a.cfg.path, a.cfg.nendpoints, MAX_ENDPOINTS);
        store_close(a.st);
        config_release(&a.cfg);
        return EXIT_USAGE;
    }
    for (int e = 0; e < a.cfg.nendpoints; e++) {
        struct config v;
        config_endpoint(&a.cfg, e, &v);
        int renamed = store_rename_endpoint(a.st, v.endpoint_addr, v.endpoint_name);
        if (renamed > 0)
            log_info("store: %d rows of %s now name it by its endpoint name '%s'", renamed,
                     v.endpoint_addr, v.endpoint_name);
    }
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
    a.nep = a.cfg.nendpoints;
    for (int e = 0; e < a.nep; e++)
        a.ep[e] = endpoint_new(&a.cfg, e, a.st, a.win);
    a.eng = engine_new(&a.cfg, a.st, a.win, now_ms(), err, sizeof err);
    if (!a.eng) { /* config loading checked the rules and sinks already */
        fprintf(stderr, "%s\n", err);
        return EXIT_USAGE;
    }
    for (int e = 0; e < a.nep && engine_nrules(a.eng); e++) {
        void *obs = engine_observer(a.eng, e);
        ingest_set_observer(a.ep[e]->ing, engine_count_obs, obs);
        ingest_set_sig_observer(a.ep[e]->ing, engine_signature_obs, obs);
        ingest_set_retry_observer(a.ep[e]->ing, engine_retry_obs, obs);
    }
    if (a.cfg.ha)
        ha_start(&a);
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
    for (int e = 0; e < a.nep; e++)
        log_info("bullwatch agent starting: redis %s, prefix '%s', store %s", a.ep[e]->label,
                 a.ep[e]->cfg.prefix, a.cfg.store_path);
    run(&a);
    for (int e = 0; e < a.nep; e++) /* a clean stop: the next agent takes over at its next try */
        lease_release(a.ep[e]->lease);
    struct ingest_stats sum = {0};
    for (int e = 0; e < a.nep; e++) {
        const struct ingest_stats *s = ingest_stats(a.ep[e]->ing);
        sum.entries += s->entries;
        sum.failures += s->failures;
        sum.reconciled += s->reconciled;
        sum.malformed += s->malformed;
    }
    if (a.drain)
        print_drain_stats(&a, &sum);
    log_info("bullwatch agent stopping: %llu entries read, %llu failures recorded",
             (unsigned long long)sum.entries, (unsigned long long)sum.failures);
    teardown(&a);
    close(lock);
    return EXIT_OK;
}
