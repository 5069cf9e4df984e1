/*
 * cmd_status: one shot. Live depths from Redis for every discovered queue,
 * dead jobs recorded in the last hour and agent lag (stored cursor vs the
 * stream's newest entry) from the audit store when there is one. With
 * several endpoints ([redis NAME]) and no --redis, every endpoint in turn:
 * one that cannot be reached is listed as down and the exit code is 3.
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmq.h"
#include "buf.h"
#include "log.h"
#include "queues.h"
#include "lease.h"
#include "rconn.h"
#include "store.h"
#include "storeadmin.h"
#include "util.h"
#include "xmem.h"

/* The note for jobs in a queue's legacy `paused` list (BullMQ 5.x's place
 * for a paused queue's jobs, and where bullwatch replays into a paused
 * queue: lua/place.lua), or "" when it has none. */
static void
legacy_paused_note(const struct queue_depth *q, char *out, size_t n)
{
    out[0] = '\0';
    if (q->paused_list <= 0)
        return;
    snprintf(out, n,
             "%lld job%s wait%s in the legacy 'paused' list; %s",
             (long long)q->paused_list, q->paused_list == 1 ? "" : "s",
             q->paused_list == 1 ? "s" : "",
             q->paused ? "resume() of BullMQ 5.x or 6.x moves them to 'wait' (6.x counts show "
                         "them only then)"
                       : "the queue is not paused: no worker takes them until a resume() moves "
                         "them to 'wait'");
}

struct qextra {
    char last_id[48];
    char first_id[48];
    char cursor[48];
    bool has_cursor;
    int64_t dead_1h; /* -1 unknown */
    int64_t lag_ms;  /* -1 unknown */
};

/* Failure rows of the last 24 h whose job data redaction could not read
 * (a placeholder was stored instead); -1 unknown. */
static int64_t data_withheld = -1;
/* [agent] ha = on, or a lease left in Redis: who leads the endpoint */
static bool ha_shown;
static struct lease_view ha_view;

static void
print_json(struct buf *out, const struct config *cfg, const struct queue_list *l,
           const struct queue_depth *d, const struct qextra *x, bool have_store, int64_t now,
           const char *hint)
{
    struct buf b;
    buf_init(&b, 0);
    buf_addf(&b, "{\"endpoint\":");
    buf_add_json_str(&b, cfg->endpoint_name, strlen(cfg->endpoint_name));
    buf_addf(&b, ",\"address\":");
    buf_add_json_str(&b, cfg->endpoint_addr, strlen(cfg->endpoint_addr));
    buf_addf(&b, ",\"prefix\":");
    buf_add_json_str(&b, cfg->prefix, strlen(cfg->prefix));
    buf_addf(&b, ",\"polled_at\":%lld,\"reachable\":true,\"store\":%s,\"data_withheld_24h\":%lld,\"queues\":[",
             (long long)now, have_store ? "true" : "false", (long long)data_withheld);
    for (int i = 0; i < l->n; i++) {
        const struct queue_depth *q = &d[i];
        if (i)
            buf_addc(&b, ',');
        buf_adds(&b, "{\"name\":");
        buf_add_json_str(&b, l->names[i], strlen(l->names[i]));
        buf_addf(&b,
                 ",\"dlq\":%s,\"ok\":%s,\"counts\":{\"waiting\":%lld,\"active\":%lld,"
                 "\"prioritized\":%lld,\"delayed\":%lld,\"completed\":%lld,\"failed\":%lld,"
                 "\"waiting_children\":%lld},\"wait_list\":%lld,\"paused_list\":%lld,"
                 "\"paused\":%s,",
                 queue_is_dlq(cfg, l->names[i]) ? "true" : "false", q->ok ? "true" : "false",
                 (long long)q->waiting, (long long)q->active, (long long)q->prioritized,
                 (long long)q->delayed, (long long)q->completed, (long long)q->failed,
                 (long long)q->waiting_children, (long long)q->wait_list,
                 (long long)q->paused_list, q->paused ? "true" : "false");
        if (q->workers >= 0)
            buf_addf(&b, "\"workers\":%d,", q->workers);
        else
            buf_adds(&b, "\"workers\":null,");
        if (q->oldest_waiting_ms >= 0)
            buf_addf(&b, "\"oldest_waiting_ms\":%lld,", (long long)q->oldest_waiting_ms);
        else
            buf_adds(&b, "\"oldest_waiting_ms\":null,");
        char note[200];
        legacy_paused_note(q, note, sizeof note);
        buf_adds(&b, "\"notes\":[");
        if (note[0])
            buf_add_json_str(&b, note, strlen(note));
        buf_adds(&b, "],\"version\":");
        if (q->version[0])
            buf_add_json_str(&b, q->version, strlen(q->version));
        else
            buf_adds(&b, "null");
        /* dead but not failed yet: null where not looked at this time */
        buf_adds(&b, ",\"dead_not_failed\":");
        if (q->deferred >= 0)
            buf_addf(&b, "{\"deferred\":%lld,\"orphaned\":%lld}", (long long)q->deferred,
                     (long long)q->orphaned);
        else
            buf_adds(&b, "null");
        if (x[i].dead_1h >= 0)
            buf_addf(&b, ",\"dead_last_hour\":%lld", (long long)x[i].dead_1h);
        else
            buf_adds(&b, ",\"dead_last_hour\":null");
        buf_adds(&b, ",\"agent\":");
        if (x[i].has_cursor) {
            buf_adds(&b, "{\"cursor\":");
            buf_add_json_str(&b, x[i].cursor, strlen(x[i].cursor));
            buf_adds(&b, ",\"last_id\":");
            if (x[i].last_id[0])
                buf_add_json_str(&b, x[i].last_id, strlen(x[i].last_id));
            else
                buf_adds(&b, "null");
            buf_addf(&b, ",\"lag_ms\":%lld,\"caught_up\":%s}", (long long)x[i].lag_ms,
                     x[i].lag_ms == 0 ? "true" : "false");
        } else {
            buf_adds(&b, "null");
        }
        buf_addc(&b, '}');
    }
    buf_adds(&b, "]");
    if (ha_shown) {
        buf_addf(&b, ",\"ha\":{\"on\":%s,\"leader\":", cfg->ha ? "true" : "false");
        if (ha_view.held)
            buf_add_json_str(&b, ha_view.holder, strlen(ha_view.holder));
        else
            buf_adds(&b, "null");
        buf_adds(&b, ",\"last_holder\":");
        if (ha_view.exists)
            buf_add_json_str(&b, ha_view.holder, strlen(ha_view.holder));
        else
            buf_adds(&b, "null");
        buf_addf(&b, ",\"token\":%lld,\"remaining_ms\":%lld}", (long long)ha_view.token,
                 (long long)ha_view.remaining_ms);
    }
    if (hint[0]) {
        buf_adds(&b, ",\"hint\":");
        buf_add_json_str(&b, hint, strlen(hint));
    }
    buf_addc(&b, '}');
    buf_add(out, b.data, b.len);
    buf_release(&b);
}

/* An endpoint that could not be read: marked down, with why. */
static void
print_down(struct buf *out, const struct config *cfg, const char *why, bool json, bool multi)
{
    if (!json) {
        if (multi)
            printf("redis %s  [%s]  prefix '%s'  DOWN: %s\n", cfg->endpoint_addr,
                   cfg->endpoint_name, cfg->prefix, why);
        else
            fprintf(stderr, "bullwatch status: redis %s: %s\n", cfg->endpoint_addr, why);
        return;
    }
    /* one endpoint or several: an object saying so on stdout (a monitor
     * reading it learns why there are no queues), the reason on stderr */
    if (!multi)
        fprintf(stderr, "bullwatch status: redis %s: %s\n", cfg->endpoint_addr, why);
    buf_addf(out, "{\"endpoint\":");
    buf_add_json_str(out, cfg->endpoint_name, strlen(cfg->endpoint_name));
    buf_addf(out, ",\"address\":");
    buf_add_json_str(out, cfg->endpoint_addr, strlen(cfg->endpoint_addr));
    buf_addf(out, ",\"prefix\":");
    buf_add_json_str(out, cfg->prefix, strlen(cfg->prefix));
    buf_addf(out, ",\"polled_at\":%lld,\"reachable\":false,\"error\":", (long long)now_ms());
    buf_add_json_str(out, why, strlen(why));
    buf_adds(out, ",\"queues\":[]}");
}

static void
print_table(const struct config *cfg, const struct queue_list *l, const struct queue_depth *d,
            const struct qextra *x, bool have_store, const char *hint, bool multi)
{
    int w = 5;
    for (int i = 0; i < l->n; i++) {
        int n = (int)strlen(log_esc(l->names[i], strlen(l->names[i])));
        if (n > w)
            w = n;
    }
    if (w > 40)
        w = 40;
    char named[300] = "";
    if (multi)
        snprintf(named, sizeof named, "  [%s]", cfg->endpoint_name);
    printf("redis %s%s  prefix '%s'  %d queue(s)%s\n\n", cfg->endpoint_addr, named, cfg->prefix,
           l->n, have_store ? "" : "  (no audit store yet: agent lag and dead/1h unknown)");
    if (ha_shown) {
        char line[LEASE_ID_MAX + 128];
        lease_view_line(&ha_view, line, sizeof line);
        printf("%s\n\n", line);
    }
    if (hint[0]) {
        printf("%s\n", hint);
        return;
    }
    printf("%-*s %8s %7s %6s %7s %7s %9s %7s %6s %7s %7s %8s\n", w, "QUEUE", "WAITING", "ACTIVE",
           "PRIO", "DELAYED", "FAILED", "COMPLETED", "W-CHILD", "PAUSED", "WORKERS", "DEAD/1H",
           "LAG");
    for (int i = 0; i < l->n; i++) {
        const struct queue_depth *q = &d[i];
        char workers[24], dead[24], lag[24];
        if (q->workers >= 0)
            snprintf(workers, sizeof workers, "%d", q->workers);
        else
            snprintf(workers, sizeof workers, "?");
        if (x[i].dead_1h >= 0)
            snprintf(dead, sizeof dead, "%lld", (long long)x[i].dead_1h);
        else
            snprintf(dead, sizeof dead, "-");
        if (!x[i].has_cursor)
            snprintf(lag, sizeof lag, "-");
        else if (x[i].lag_ms == 0)
            snprintf(lag, sizeof lag, "0");
        else
            format_duration(x[i].lag_ms, lag, sizeof lag);
        printf("%-*.*s %8lld %7lld %6lld %7lld %7lld %9lld %7lld %6s %7s %7s %8s%s\n", w, w,
               log_esc(l->names[i], strlen(l->names[i])), (long long)q->waiting,
               (long long)q->active, (long long)q->prioritized, (long long)q->delayed,
               (long long)q->failed, (long long)q->completed, (long long)q->waiting_children,
               q->paused ? "yes" : "no", workers, dead, lag,
               queue_is_dlq(cfg, l->names[i]) ? "  [dlq]" : "");
        if (q->deferred > 0 || q->orphaned > 0)
            printf("%-*s   ^ dead, not failed yet (no worker will fail them): %lld in wait past "
                   "the stall limit, %lld in active with no lock\n",
                   w, "", (long long)q->deferred, (long long)q->orphaned);
    }
    bool noted = false;
    for (int i = 0; i < l->n; i++) {
        char note[200];
        legacy_paused_note(&d[i], note, sizeof note);
        if (!note[0])
            continue;
        printf("%snote: %s: %s\n", noted ? "" : "\n", log_esc(l->names[i], strlen(l->names[i])),
               note);
        noted = true;
    }
    if (data_withheld > 0)
        printf("\njob data withheld (redact is set and it could not be read) in %lld failure "
               "row%s of the last 24h: see `bullwatch store`\n",
               (long long)data_withheld, data_withheld == 1 ? "" : "s");
}

/* One endpoint's part: its JSON object into jout, or its table on stdout. */
static int
status_one(const struct config *view, bool json, bool multi, struct buf *jout)
{
    struct config cfg = *view; /* borrowed: never released here */
    char err[512], why[700];
    ha_shown = false; /* this endpoint's lease, read below */
    struct rconn *rc = rconn_new(&cfg.ep, cfg.endpoint_addr, "status", cfg.connect_timeout_ms);
    if (rconn_connect_now(rc) != 0) {
        print_down(jout, &cfg, rconn_errstr(rc), json, multi);
        rconn_free(rc);
        return EXIT_RUNTIME;
    }
    struct queue_list l;
    int64_t now = now_ms();
    if (queues_discover(rc, &cfg, &l) != 0) {
        snprintf(why, sizeof why, "queue discovery failed: %s", rconn_errstr(rc));
        print_down(jout, &cfg, why, json, multi);
        rconn_free(rc);
        return EXIT_RUNTIME;
    }
    {
        char key[512];
        lease_key(cfg.prefix, key, sizeof key);
        ha_shown = lease_read(rc, key, &ha_view) == 0 && (cfg.ha || ha_view.exists);
    }
    char hint[600] = "";
    if (l.n == 0)
        queues_none_hint(rc, cfg.prefix, hint, sizeof hint);
    struct queue_depth *d = xcalloc((size_t)(l.n ? l.n : 1), sizeof *d);
    struct qextra *x = xcalloc((size_t)(l.n ? l.n : 1), sizeof *x);
    int rcode = EXIT_OK;
    if (queues_poll(rc, cfg.prefix, &l, d, now) != 0) {
        snprintf(why, sizeof why, "depth poll failed: %s", rconn_errstr(rc));
        print_down(jout, &cfg, why, json, multi);
        rcode = EXIT_RUNTIME;
        goto out;
    }
    /* newest stream entry of each queue */
    {
        struct buf k;
        buf_init(&k, 0);
        for (int i = 0; i < l.n; i++) {
            buf_reset(&k);
            bmq_key(&k, cfg.prefix, l.names[i], "events");
            rconn_appendf(rc, "XREVRANGE %b + - COUNT 1", k.data, k.len);
            rconn_appendf(rc, "XRANGE %b - + COUNT 1", k.data, k.len);
        }
        buf_release(&k);
        for (int i = 0; i < l.n; i++) {
            x[i].dead_1h = -1;
            x[i].lag_ms = -1;
            for (int part = 0; part < 2; part++) {
                redisReply *r = rconn_reply(rc);
                if (!r) {
                    snprintf(why, sizeof why, "reading the streams failed: %s", rconn_errstr(rc));
                    print_down(jout, &cfg, why, json, multi);
                    rcode = EXIT_RUNTIME;
                    goto out;
                }
                char *id = part == 0 ? x[i].last_id : x[i].first_id;
                if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
                    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2)
                    snprintf(id, sizeof x[i].last_id, "%s", r->element[0]->element[0]->str);
                freeReplyObject(r);
            }
        }
    }
    struct store *st = store_open(cfg.store_path, true, err, sizeof err);
    if (!st && strstr(err, "schema version"))
        fprintf(stderr, "bullwatch status: %s\n", err);
    if (st && store_version(st) > 0) {
        for (int i = 0; i < l.n; i++) {
            sqlite3_stmt *s = store_stmt(st, "stmt/cursor_get");
            store_bind_str(s, ":endpoint", cfg.endpoint_name);
            store_bind_str(s, ":queue", l.names[i]);
            if (sqlite3_step(s) == SQLITE_ROW) {
                snprintf(x[i].cursor, sizeof x[i].cursor, "%s",
                         (const char *)sqlite3_column_text(s, 0));
                x[i].has_cursor = true;
                x[i].lag_ms = stream_lag_ms(x[i].cursor, x[i].last_id, x[i].first_id);
            }
            sqlite3_reset(s);
            s = store_stmt(st, "stmt/dead_recent");
            store_bind_str(s, ":endpoint", cfg.endpoint_name);
            store_bind_str(s, ":queue", l.names[i]);
            store_bind_int(s, ":since", now - 3600 * 1000);
            if (sqlite3_step(s) == SQLITE_ROW)
                x[i].dead_1h = sqlite3_column_int64(s, 0);
            sqlite3_reset(s);
        }
        sqlite3_stmt *s = store_stmt(st, "stmt/data_withheld");
        if (s) {
            store_bind_int(s, ":since", now - 24 * 3600 * 1000);
            if (sqlite3_step(s) == SQLITE_ROW)
                data_withheld = sqlite3_column_int64(s, 0);
            sqlite3_reset(s);
        }
    }
    bool have_store = st != NULL;
    char ret_line[200] = ""; /* retention's progress (storeadmin.h), text output only */
    struct storeadmin_retention ret;
    if (st && storeadmin_retention_get(st, &ret) == 0)
        storeadmin_retention_line(&ret, now, ret_line, sizeof ret_line);
    store_close(st);
    if (json)
        print_json(jout, &cfg, &l, d, x, have_store, now, hint);
    else
        print_table(&cfg, &l, d, x, have_store, hint, multi);
    if (!json && ret_line[0])
        printf("%s\n", ret_line);
out:
    free(d);
    free(x);
    queue_list_release(&l);
    rconn_free(rc);
    return rcode;
}

int
cmd_status(int argc, char **argv)
{
    static const char *const flags[] = {"--json", NULL};
    bool json = false;
    struct config cfg;
    if (cmd_setup(argc, argv, "status", flags, &json, &cfg) != 0)
        return EXIT_USAGE;
    log_set_level(LOG_ERROR);
    /* --redis NAME (or a single endpoint): that one, as before; else all */
    bool multi = cfg.nendpoints > 1 && !cfg.endpoint_picked;
    int n = multi ? cfg.nendpoints : 1, down = 0, code = EXIT_OK;
    struct buf j;
    buf_init(&j, 0);
    if (json && multi)
        buf_adds(&j, "{\"endpoints\":[");
    for (int e = 0; e < n; e++) {
        struct config v;
        config_endpoint(&cfg, e, &v);
        if (json && multi && e)
            buf_addc(&j, ',');
        if (!json && e)
            printf("\n");
        int rc = status_one(&v, json, multi, &j);
        if (rc != EXIT_OK) {
            down++;
            code = rc;
        }
    }
    if (json && multi)
        buf_adds(&j, "]}");
    if (json && j.len) {
        buf_addc(&j, '\n');
        fwrite(j.data, 1, j.len, stdout);
    }
    buf_release(&j);
    config_release(&cfg);
    if (multi && down)
        return down == n ? EXIT_RUNTIME : EXIT_PARTIAL;
    return code;
}
