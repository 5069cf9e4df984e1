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

/* name{queue="q"[,k="v"]} value */
static void
qline(struct buf *b, const char *name, const char *queue, const char *k, const char *v,
      double value)
{
    buf_addf(b, "%s{queue=\"", name);
    metrics_label(b, queue);
    buf_addc(b, '"');
    if (k) {
        buf_addf(b, ",%s=\"", k);
        metrics_label(b, v);
        buf_addc(b, '"');
    }
    buf_addf(b, "} %.17g\n", value);
}

static void
job_counts(const struct metrics_src *m, struct buf *b)
{
    head(b, "bullmq_job_count", "gauge", "Number of jobs in the queue by state");
    for (int i = 0; m->depths && i < m->ql->n; i++) {
        const struct queue_depth *d = &m->depths[i];
        const char *q = m->ql->names[i];
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
                qline(b, "bullmq_job_count", q, "state", s[k].state, (double)s[k].n);
    }
}

static void
queue_series(const struct metrics_src *m, struct buf *b)
{
    static const struct { int ic; const char *event; } ev[] = {
        {IC_ADDED, "added"},     {IC_COMPLETED, "completed"}, {IC_FAILED, "failed"},
        {IC_RETRIES, "retried"}, {IC_STALLED, "stalled"},
    };
    const int nq = m->ql->n;
    head(b, "bullwatch_stream_events_total", "counter",
         "Events read from the queue's stream, by kind (retried: retries scheduled)");
    for (int i = 0; i < nq; i++)
        for (size_t k = 0; k < sizeof ev / sizeof ev[0]; k++)
            qline(b, "bullwatch_stream_events_total", m->ql->names[i], "event", ev[k].event,
                  (double)ingest_totals(m->ing, i)->events[ev[k].ic]);
    head(b, "bullwatch_dead_jobs_recorded_total", "counter",
         "Dead jobs recorded in the audit store (from the stream and reconciled)");
    for (int i = 0; i < nq; i++)
        qline(b, "bullwatch_dead_jobs_recorded_total", m->ql->names[i], NULL, NULL,
              (double)ingest_totals(m->ing, i)->dead);
    head(b, "bullwatch_stream_gaps_total", "counter",
         "Stretches of the stream trimmed before the agent read them");
    for (int i = 0; i < nq; i++)
        qline(b, "bullwatch_stream_gaps_total", m->ql->names[i], NULL, NULL,
              (double)ingest_totals(m->ing, i)->events[IC_GAPS]);
    head(b, "bullwatch_agent_lag_seconds", "gauge",
         "How far the queue's newest stream entry is ahead of the last one the agent read");
    for (int i = 0; i < nq; i++)
        if (ingest_lag_ms(m->ing, i) >= 0)
            qline(b, "bullwatch_agent_lag_seconds", m->ql->names[i], NULL, NULL,
                  (double)ingest_lag_ms(m->ing, i) / 1000.0);
    if (!m->depths)
        return;
    head(b, "bullwatch_oldest_waiting_seconds", "gauge", "Age of the next job to run");
    for (int i = 0; i < nq; i++)
        if (m->depths[i].ok && m->depths[i].oldest_waiting_ms >= 0)
            qline(b, "bullwatch_oldest_waiting_seconds", m->ql->names[i], NULL, NULL,
                  (double)m->depths[i].oldest_waiting_ms / 1000.0);
    head(b, "bullwatch_workers", "gauge", "Workers connected (CLIENT LIST)");
    for (int i = 0; i < nq; i++)
        if (m->depths[i].ok && m->depths[i].workers >= 0)
            qline(b, "bullwatch_workers", m->ql->names[i], NULL, NULL, m->depths[i].workers);
    head(b, "bullwatch_dead_not_failed", "gauge",
         "Dead jobs not in failed yet that no live worker will fail (deferred, orphaned)");
    for (int i = 0; i < nq; i++)
        if (m->depths[i].ok && m->depths[i].deferred >= 0)
            qline(b, "bullwatch_dead_not_failed", m->ql->names[i], NULL, NULL,
                  (double)(m->depths[i].deferred + m->depths[i].orphaned));
}

/* label=value count rows of a committed query: name{k1="..",k2=".."} n */
static void
store_series(const struct metrics_src *m, struct buf *b, const char *name, const char *sql,
             const char *k1, const char *k2)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(store_db(m->st), sql, -1, &s, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(s, 1, m->cfg->endpoint_name, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *v1 = (const char *)sqlite3_column_text(s, 0);
        const char *v2 = k2 ? (const char *)sqlite3_column_text(s, 1) : NULL;
        buf_addf(b, "%s{%s=\"", name, k1);
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
    buf_adds(b, "bullwatch_redis_up{endpoint=\"");
    metrics_label(b, m->cfg->endpoint_name);
    buf_addf(b, "\"} %d\n", m->redis_up ? 1 : 0);
    if (m->ha) {
        head(b, "bullwatch_ha_leader", "gauge",
             "1 while this agent holds the endpoint's HA lease (it sends the notifications)");
        buf_adds(b, "bullwatch_ha_leader{endpoint=\"");
        metrics_label(b, m->cfg->endpoint_name);
        buf_addf(b, "\"} %d\n", m->ha_leader ? 1 : 0);
        head(b, "bullwatch_ha_token", "gauge", "The fencing token of the endpoint's lease last seen");
        buf_adds(b, "bullwatch_ha_token{endpoint=\"");
        metrics_label(b, m->cfg->endpoint_name);
        buf_addf(b, "\"} %lld\n", m->ha_token);
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
    buf_addf(b, "bullwatch_queues %d\n", m->ql->n);
    head(b, "bullwatch_build_info", "gauge", "The running build");
    buf_adds(b, "bullwatch_build_info{version=\"" BULLWATCH_VERSION "\"} 1\n");
}

void
metrics_write(const struct metrics_src *m, struct buf *out)
{
    job_counts(m, out);
    if (m->per_queue)
        queue_series(m, out);
    agent_series(m, out);
}
