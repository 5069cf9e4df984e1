/* metrics: see metrics.h */
#include "metrics.h"

#include <string.h>

#include "util.h"
#include "version.h"

void
metrics_label(struct buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode(p + i, n - i, &cp);
        if (k == 0) { /* not UTF-8: the replacement character */
            buf_adds(out, "\xef\xbf\xbd");
            i++;
            continue;
        }
        if (cp == '\\')
            buf_adds(out, "\\\\");
        else if (cp == '"')
            buf_adds(out, "\\\"");
        else if (cp == '\n')
            buf_adds(out, "\\n");
        else
            buf_add(out, p + i, k);
        i += k;
    }
}

static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{[endpoint="e",]queue="q"[,k="v"]} value; ep NULL: no endpoint label */
static void
qline(struct buf *b, const char *name, const char *ep, const char *queue, const char *k,
      const char *v, double value)
{
    buf_addf(b, "%s{", name);
    if (ep) {
        buf_adds(b, "endpoint=\"");
        metrics_label(b, ep);
        buf_adds(b, "\",");
    }
    buf_adds(b, "queue=\"");
    metrics_label(b, queue);
    buf_addc(b, '"');
    if (k) {
        buf_addf(b, ",%s=\"", k);
        metrics_label(b, v);
        buf_addc(b, '"');
    }
    buf_addf(b, "} %.17g\n", value);
}

/* the endpoint label of m's series: none with a single endpoint */
static const char *
eplab(const struct metrics_src *m, const struct metrics_ep *x)
{
    return m->nep > 1 ? x->cfg->endpoint_name : NULL;
}

static void
job_counts(const struct metrics_src *m, const struct metrics_ep *x, struct buf *b)
{
    for (int i = 0; x->depths && i < x->ql->n; i++) {
        const struct queue_depth *d = &x->depths[i];
        const char *q = x->ql->names[i];
        if (!d->ok)
            continue;
        /* getJobCounts(): waiting is LLEN wait in both versions; 5.x adds paused */
        bool v5 = !strncmp(d->version, "bullmq:5", 8);
        struct { const char *state; int64_t n; } s[] = {
            {"active", d->active},     {"completed", d->completed},
            {"delayed", d->delayed},   {"failed", d->failed},
            {"paused", d->paused_list}, {"prioritized", d->prioritized},
            {"waiting", d->wait_list}, {"waiting-children", d->waiting_children},
        };
        for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
            if (strcmp(s[k].state, "paused") != 0 || v5 || d->paused_list > 0)
                qline(b, "bullmq_job_count", eplab(m, x), q, "state", s[k].state, (double)s[k].n);
    }
}

#define EACH_Q(m, x, i)                                                                        \
    for (const struct metrics_ep *x = (m)->ep; x < (m)->ep + (m)->nep; x++)                      \
        for (int i = 0; i < x->ql->n; i++)

static void
queue_series(const struct metrics_src *m, struct buf *b)
{
    static const struct { int ic; const char *event; } ev[] = {
        {IC_ADDED, "added"},     {IC_COMPLETED, "completed"}, {IC_FAILED, "failed"},
        {IC_RETRIES, "retried"}, {IC_STALLED, "stalled"},
    };
    head(b, "bullwatch_stream_events_total", "counter",
         "Events read from the queue's stream, by kind (retried: retries scheduled)");
    EACH_Q(m, x, i)
        for (size_t k = 0; k < sizeof ev / sizeof ev[0]; k++)
            qline(b, "bullwatch_stream_events_total", eplab(m, x), x->ql->names[i], "event",
                  ev[k].event, (double)ingest_totals(x->ing, i)->events[ev[k].ic]);
    head(b, "bullwatch_dead_jobs_recorded_total", "counter",
         "Dead jobs recorded in the audit store (from the stream and reconciled)");
    EACH_Q(m, x, i)
        qline(b, "bullwatch_dead_jobs_recorded_total", eplab(m, x), x->ql->names[i], NULL, NULL,
              (double)ingest_totals(x->ing, i)->dead);
    head(b, "bullwatch_stream_gaps_total", "counter",
         "Stretches of the stream trimmed before the agent read them");
    EACH_Q(m, x, i)
        qline(b, "bullwatch_stream_gaps_total", eplab(m, x), x->ql->names[i], NULL, NULL,
              (double)ingest_totals(x->ing, i)->events[IC_GAPS]);
    head(b, "bullwatch_agent_lag_seconds", "gauge",
         "How far the queue's newest stream entry is ahead of the last one the agent read");
    EACH_Q(m, x, i)
        if (ingest_lag_ms(x->ing, i) >= 0)
            qline(b, "bullwatch_agent_lag_seconds", eplab(m, x), x->ql->names[i], NULL, NULL,
                  (double)ingest_lag_ms(x->ing, i) / 1000.0);
    bool any = false;
    for (int e = 0; e < m->nep; e++)
        any |= m->ep[e].depths != NULL;
    if (!any)
        return;
    head(b, "bullwatch_oldest_waiting_seconds", "gauge", "Age of the next job to run");
    EACH_Q(m, x, i)
        if (x->depths && x->depths[i].ok && x->depths[i].oldest_waiting_ms >= 0)
            qline(b, "bullwatch_oldest_waiting_seconds", eplab(m, x), x->ql->names[i], NULL, NULL,
                  (double)x->depths[i].oldest_waiting_ms / 1000.0);
    head(b, "bullwatch_workers", "gauge", "Workers connected (CLIENT LIST)");
    EACH_Q(m, x, i)
        if (x->depths && x->depths[i].ok && x->depths[i].workers >= 0)
            qline(b, "bullwatch_workers", eplab(m, x), x->ql->names[i], NULL, NULL,
                  x->depths[i].workers);
    head(b, "bullwatch_dead_not_failed", "gauge",
         "Dead jobs not in failed yet that no live worker will fail (deferred, orphaned)");
    EACH_Q(m, x, i)
        if (x->depths && x->depths[i].ok && x->depths[i].deferred >= 0)
            qline(b, "bullwatch_dead_not_failed", eplab(m, x), x->ql->names[i], NULL, NULL,
                  (double)(x->depths[i].deferred + x->depths[i].orphaned));
}

/* label=value count rows of a committed query: name{k1="..",k2=".."} n */
static void
store_series(const struct metrics_src *m, struct buf *b, const char *name, const char *sql,
             const char *k1, const char *k2)
{
    for (int e = 0; e < m->nep; e++) {
        sqlite3_stmt *s;
        const char *ep = eplab(m, &m->ep[e]);
        if (sqlite3_prepare_v2(store_db(m->st), sql, -1, &s, NULL) != SQLITE_OK)
            return;
        sqlite3_bind_text(s, 1, m->ep[e].cfg->endpoint_name, -1, SQLITE_STATIC);
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *v1 = (const char *)sqlite3_column_text(s, 0);
            const char *v2 = k2 ? (const char *)sqlite3_column_text(s, 1) : NULL;
            buf_addf(b, "%s{", name);
            if (ep) {
                buf_adds(b, "endpoint=\"");
                metrics_label(b, ep);
                buf_adds(b, "\",");
            }
            buf_addf(b, "%s=\"", k1);
            metrics_label(b, v1 ? v1 : "");
            buf_addc(b, '"');
            if (k2) {
                buf_addf(b, ",%s=\"", k2);
                metrics_label(b, v2 ? v2 : "");
                buf_addc(b, '"');
            }
            buf_addf(b, "} %lld\n", (long long)sqlite3_column_int64(s, k2 ? 2 : 1));
        }
        sqlite3_finalize(s);
    }
}

static void
agent_series(const struct metrics_src *m, struct buf *b)
{
    head(b, "bullwatch_alerts", "gauge", "Alerts by rule and state (pending, firing)");
    store_series(m, b, "bullwatch_alerts",
                 "SELECT rule, state, COUNT(*) FROM alert_state WHERE endpoint = ?1 AND "
                 "state != 'inactive' GROUP BY rule, state ORDER BY rule, state",
                 "rule", "state");
    head(b, "bullwatch_outbox_pending", "gauge", "Notifications waiting to be delivered");
    store_series(m, b, "bullwatch_outbox_pending",
                 "SELECT sink, COUNT(*) FROM outbox WHERE state = 'pending' AND "
                 "COALESCE(endpoint, ?1) = ?1 GROUP BY sink ORDER BY sink",
                 "sink", NULL);
    head(b, "bullwatch_deliveries_total", "counter",
         "Delivery attempts by sink and outcome (delivered: 2xx; failed: anything else)");
    store_series(m, b, "bullwatch_deliveries_total",
                 "SELECT o.sink, CASE WHEN d.http_status BETWEEN 200 AND 299 THEN 'delivered' "
                 "ELSE 'failed' END, COUNT(*) FROM deliveries d JOIN outbox o ON o.id = "
                 "d.outbox_id WHERE COALESCE(o.endpoint, ?1) = ?1 GROUP BY 1, 2 ORDER BY 1, 2",
                 "sink", "outcome");
    head(b, "bullwatch_redis_up", "gauge", "1 when the agent's links to the endpoint are up");
    for (int e = 0; e < m->nep; e++) {
        buf_adds(b, "bullwatch_redis_up{endpoint=\"");
        metrics_label(b, m->ep[e].cfg->endpoint_name);
        buf_addf(b, "\"} %d\n", m->ep[e].redis_up ? 1 : 0);
    }
    for (int k = 0; k < 2 && m->nep > 0 && m->ep[0].ha; k++) {
        if (k == 0)
            head(b, "bullwatch_ha_leader", "gauge",
                 "1 while this agent holds the endpoint's HA lease (it sends the notifications)");
        else
            head(b, "bullwatch_ha_token", "gauge",
                 "The fencing token of the endpoint's lease last seen");
        for (int e = 0; e < m->nep; e++) {
            buf_adds(b, k == 0 ? "bullwatch_ha_leader{endpoint=\"" : "bullwatch_ha_token{endpoint=\"");
            metrics_label(b, m->ep[e].cfg->endpoint_name);
            if (k == 0)
                buf_addf(b, "\"} %d\n", m->ep[e].ha_leader ? 1 : 0);
            else
                buf_addf(b, "\"} %lld\n", m->ep[e].ha_token);
        }
    }
    const struct window_hist *h = window_commit_hist(m->win);
    head(b, "bullwatch_store_commit_seconds", "histogram",
         "How long each commit of the agent's window took");
    for (int i = 0; i < WINDOW_NBUCKETS; i++)
        buf_addf(b, "bullwatch_store_commit_seconds_bucket{le=\"%g\"} %llu\n", window_buckets[i],
                 (unsigned long long)h->le[i]);
    buf_addf(b, "bullwatch_store_commit_seconds_bucket{le=\"+Inf\"} %llu\n",
             (unsigned long long)h->count);
    buf_addf(b, "bullwatch_store_commit_seconds_sum %.9f\n", h->sum);
    buf_addf(b, "bullwatch_store_commit_seconds_count %llu\n", (unsigned long long)h->count);
    head(b, "bullwatch_store_commit_failures_total", "counter", "Windows rolled back");
    buf_addf(b, "bullwatch_store_commit_failures_total %llu\n", (unsigned long long)h->failed);
    head(b, "bullwatch_queues", "gauge", "Queues watched");
    for (int e = 0; e < m->nep; e++) {
        if (m->nep > 1) {
            buf_adds(b, "bullwatch_queues{endpoint=\"");
            metrics_label(b, m->ep[e].cfg->endpoint_name);
            buf_addf(b, "\"} %d\n", m->ep[e].ql->n);
        } else {
            buf_addf(b, "bullwatch_queues %d\n", m->ep[e].ql->n);
        }
    }
    head(b, "bullwatch_build_info", "gauge", "The running build");
    buf_adds(b, "bullwatch_build_info{version=\"" BULLWATCH_VERSION "\"} 1\n");
}

void
metrics_write(const struct metrics_src *m, struct buf *out)
{
    head(out, "bullmq_job_count", "gauge", "Number of jobs in the queue by state");
    for (int e = 0; e < m->nep; e++)
        job_counts(m, &m->ep[e], out);
    if (m->per_queue)
        queue_series(m, out);
    agent_series(m, out);
}
