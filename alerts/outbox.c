/* outbox: see outbox.h */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lease.h"
#include "log.h"
#include "util.h"
#include "window.h"
#include "xmem.h"

#define MAX_INFLIGHT 16
#define BACKOFF_BASE_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)

struct xfer {
    CURL *easy;
    struct curl_slist *headers;
    int64_t id;
    char *body;          /* as posted: the stored body plus what the sink adds */
    bool coalesce;       /* an alertmanager push: a newer one replaces it on retry */
    bool once;           /* `sink test`: no retry */
    int64_t started;     /* mono ms */
    int64_t retry_after; /* s, -1 none */
    int attempts;        /* before this one (from the due row) */
    char *endpoint;      /* HA: whose lease it is sent under (NULL: none) */
    char answer[256];    /* the start of the response body, for errors */
    size_t answer_len;
    char what[200];      /* "sink 'ops' rule 'backlog' queue 'q'", for the log */
};

/* a finished attempt, until the window that records it commits */
struct result {
    int64_t id, next_at, now, ms;
    long status;
    const char *state;
    bool coalesce;
    char err[400];
};

struct outbox {
    struct store *st;
    struct window *win;
    const struct sinks *sinks;
    CURLM *multi;
    struct xfer x[MAX_INFLIGHT];
    int n;
    int64_t next_check; /* wall ms: no due row before this */
    struct result *res; /* recorded in the open window, or waiting for one */
    int nres, capres;
    bool added;         /* rows added in the open window */
    outbox_report_fn *report;
    void *report_ud;
    bool manual;        /* a command's outbox: sends only what outbox_send_now starts */
    outbox_leader_fn *leader; /* HA: may this agent send an endpoint's rows (NULL: yes) */
    void *leader_ud;
};

static int
flush_results(void *ud)
{
    struct outbox *o = ud;
    for (int i = 0; i < o->nres; i++) {
        struct result *r = &o->res[i];
        sqlite3_stmt *s = store_stmt(o->st, "stmt/outbox_result");
        store_bind_int(s, ":id", r->id);
        store_bind_str(s, ":state", r->state);
        store_bind_int(s, ":next_at", r->next_at);
        store_bind_int(s, ":status", r->status);
        store_bind_str(s, ":error", r->err[0] ? r->err : NULL);
        store_bind_int(s, ":now", r->now);
        store_bind_int(s, ":coalesce", r->coalesce);
        if (store_exec(o->st, s, "outbox result") != 0)
            return -1;
        s = store_stmt(o->st, "stmt/delivery_insert");
        store_bind_int(s, ":id", r->id);
        store_bind_int(s, ":now", r->now);
        store_bind_int(s, ":status", r->status);
        store_bind_str(s, ":error", r->err[0] ? r->err : NULL);
        store_bind_int(s, ":ms", r->ms);
        if (store_exec(o->st, s, "delivery") != 0)
            return -1;
    }
    return 0;
}

static void
results_committed(void *ud)
{
    struct outbox *o = ud;
    if (o->nres || o->added)
        o->next_check = 0; /* look for due rows again */
    o->nres = 0;
    o->added = false;
}

/* Rolled back: the results wait for the next window (their rows are not
 * sent again meanwhile); rows added are gone with the window. */
static void
results_kept(void *ud)
{
    struct outbox *o = ud;
    o->added = false;
}

struct outbox *
outbox_new(struct store *st, struct window *win, const struct sinks *sinks)
{
    static bool global;
    if (!global) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global = true;
    }
    struct outbox *o = xcalloc(1, sizeof *o);
    o->st = st;
    o->win = win;
    o->sinks = sinks;
    o->multi = curl_multi_init();
    srand((unsigned)now_ms() ^ (unsigned)getpid()); /* backoff jitter */
    struct window_party p = {"deliveries", flush_results, results_committed, results_kept, o};
    window_join(win, &p);
    return o;
}

static void
xfer_release(struct outbox *o, struct xfer *x)
{
    curl_multi_remove_handle(o->multi, x->easy);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    free(x->endpoint);
    memset(x, 0, sizeof *x);
}

void
outbox_free(struct outbox *o)
{
    if (!o)
        return;
    window_leave(o->win, o);
    for (int i = 0; i < o->n; i++)
        xfer_release(o, &o->x[i]);
    curl_multi_cleanup(o->multi);
    free(o->res);
    free(o);
}

int
outbox_inflight(const struct outbox *o)
{
    return o ? o->n : 0;
}

int64_t
outbox_backoff_ms(int attempts)
{
    int64_t d = BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && d < BACKOFF_MAX_MS; i++)
        d *= 2;
    return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

static bool
busy(const struct outbox *o, int64_t id)
{
    for (int i = 0; i < o->n; i++)
        if (o->x[i].id == id)
            return true;
    for (int i = 0; i < o->nres; i++) /* its result is not committed yet */
        if (o->res[i].id == id)
            return true;
    return false;
}

/* Rows still pending for this alert and target are replaced by a newer
 * push (alertmanager api: the newest push says everything Alertmanager
 * needs). A row in flight, or whose result waits for its window, is left
 * alone: the new row waits behind it, and if it fails it gives way then
 * (outbox_result's :coalesce). */
static int
supersede(struct outbox *o, const struct sink *k, int target, const char *fp)
{
    int64_t ids[16];
    int n = 0, rc = 0;
    sqlite3_stmt *s = store_stmt(o->st, "stmt/outbox_pending_of");
    store_bind_str(s, ":sink", k->name);
    store_bind_int(s, ":target", target);
    store_bind_str(s, ":fingerprint", fp);
    while (sqlite3_step(s) == SQLITE_ROW && n < 16)
        ids[n++] = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    for (int i = 0; i < n; i++) {
        if (busy(o, ids[i]))
            continue;
        s = store_stmt(o->st, "stmt/outbox_supersede");
        store_bind_int(s, ":id", ids[i]);
        if (store_exec(o->st, s, "outbox supersede") != 0)
            rc = -1;
    }
    return rc;
}

static int
add_rows(struct outbox *o, const struct sink *k, const struct notice *n, int64_t now,
         int64_t *ids)
{
    struct buf body;
    char msg_id[SINK_MSG_ID_LEN];
    int rc = 0;
    buf_init(&body, 0);
    sink_body(k, n, &body);
    sink_msg_id(k, n, msg_id);
    for (int t = 0; t < sink_targets(k) && rc == 0; t++) {
        if (sink_repushes(k) && n->kind != NOTICE_TEST && supersede(o, k, t, n->fingerprint) != 0)
            rc = -1;
        sqlite3_stmt *s = store_stmt(o->st, "stmt/outbox_insert");
        store_bind_str(s, ":sink", k->name);
        store_bind_int(s, ":target", t);
        store_bind_str(s, ":fingerprint", n->fingerprint);
        store_bind_str(s, ":rule", n->rule);
        store_bind_str(s, ":labels", n->labels);
        store_bind_str(s, ":endpoint", n->endpoint);
        store_bind_str(s, ":queue", n->queue);
        store_bind_str(s, ":kind", notice_kind_name(n->kind));
        store_bind_text(s, ":body", body.data, body.len);
        store_bind_str(s, ":msg_id", msg_id);
        /* a test row is sent by the command that made it, never by the agent */
        store_bind_str(s, ":state", n->kind == NOTICE_TEST ? "test" : "pending");
        store_bind_int(s, ":now", now);
        if (rc == 0 && store_exec(o->st, s, "outbox") != 0)
            rc = -1;
        if (rc == 0 && ids)
            ids[t] = sqlite3_last_insert_rowid(store_db(o->st));
    }
    buf_release(&body);
    return rc;
}

int
outbox_add(struct outbox *o, const char *sink_list, const struct notice *n, int64_t now)
{
    int rc = 0, rows = 0;
    for (int i = 0; i < o->sinks->n && rc == 0; i++) {
        const struct sink *k = &o->sinks->v[i];
        if (!sink_listed(sink_list, k->name))
            continue;
        /* a re-push goes to the sinks that are pushed to, only */
        if (n->kind == NOTICE_REPUSH && !sink_repushes(k))
            continue;
        if (add_rows(o, k, n, now, NULL) != 0)
            rc = -1;
        rows++;
    }
    if (rows)
        o->added = true; /* look for due rows once they are committed */
    return rc;
}

int
outbox_add_test(struct outbox *o, const struct sink *k, const struct notice *n, int64_t now,
                int64_t ids[SINK_MAX_URLS])
{
    return add_rows(o, k, n, now, ids) == 0 ? sink_targets(k) : -1;
}

void
outbox_set_report(struct outbox *o, outbox_report_fn *fn, void *ud)
{
    o->report = fn;
    o->report_ud = ud;
    o->manual = true;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb, room = sizeof x->answer - 1 - x->answer_len;
    memcpy(x->answer + x->answer_len, p, n < room ? n : room);
    x->answer_len += n < room ? n : room;
    return n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (n > 12 && !strncasecmp(p, "retry-after:", 12)) {
        char v[64];
        size_t k = n - 12 < sizeof v - 1 ? n - 12 : sizeof v - 1;
        memcpy(v, p + 12, k);
        v[k] = '\0';
        char *end;
        long s = strtol(v, &end, 10);
        if (end != v && s >= 0)
            x->retry_after = s;
        else { /* an HTTP date */
            time_t t = curl_getdate(v, NULL);
            if (t > 0)
                x->retry_after = (int64_t)t - now_ms() / 1000 > 0 ? (int64_t)t - now_ms() / 1000 : 0;
        }
    }
    return n;
}

static void
start(struct outbox *o, const struct sink *k, int64_t id, int attempts, const char *stored,
      const char *msg_id, int target, const char *endpoint, const char *leader, int64_t token,
      int64_t now, const char *rule, const char *queue)
{
    struct xfer *x = &o->x[o->n];
    struct buf wire;
    memset(x, 0, sizeof *x);
    x->id = id;
    x->endpoint = leader && endpoint ? xstrdup(endpoint) : NULL;
    /* a failure in the log says which sink and which rule, not only the row */
    snprintf(x->what, sizeof x->what, "sink '%s' rule '%s' queue '%s'", log_esc(k->name, strlen(k->name)),
             rule ? log_esc(rule, strlen(rule)) : "?", queue ? log_esc(queue, strlen(queue)) : "?");
    x->attempts = attempts;
    x->coalesce = sink_repushes(k);
    buf_init(&wire, 0);
    sink_wire_body(k, stored, &wire); /* the routing key joins here, in memory only */
    if (leader && k->type == SINK_WEBHOOK) { /* who sent it: known at send time only */
        struct buf lw;
        buf_init(&lw, 0);
        sink_add_leader(wire.data, leader, token, &lw);
        buf_release(&wire);
        wire = lw;
    }
    x->body = buf_detach(&wire, NULL);
    x->retry_after = -1;
    x->started = mono_ms();
    x->easy = curl_easy_init();
    x->headers = curl_slist_append(NULL, "Content-Type: application/json");
    x->headers = curl_slist_append(x->headers, "User-Agent: bullwatch");
    x->headers = curl_slist_append(x->headers, "Expect:");
    if (leader) {
        char h[LEASE_HEADER_MAX + 32], v[LEASE_HEADER_MAX];
        lease_header_value(leader, token, v, sizeof v);
        snprintf(h, sizeof h, "X-Bullwatch-Leader: %s", v);
        x->headers = curl_slist_append(x->headers, h);
    }
    if (k->type == SINK_WEBHOOK) {
        char h[256];
        struct buf sig;
        snprintf(h, sizeof h, "webhook-id: %s", msg_id);
        x->headers = curl_slist_append(x->headers, h);
        snprintf(h, sizeof h, "webhook-timestamp: %lld", (long long)(now / 1000));
        x->headers = curl_slist_append(x->headers, h);
        buf_init(&sig, 0);
        webhook_sign(k->key, k->keylen, msg_id, now / 1000, x->body, strlen(x->body), &sig);
        snprintf(h, sizeof h, "webhook-signature: %s", sig.data);
        buf_release(&sig);
        x->headers = curl_slist_append(x->headers, h);
    }
    struct buf url;
    buf_init(&url, 0);
    buf_adds(&url, k->urls[target >= 0 && target < k->nurls ? target : 0]);
    if (k->type == SINK_ALERTMANAGER && k->am_api) {
        while (url.len && url.data[url.len - 1] == '/')
            url.data[--url.len] = '\0';
        if (url.len < 14 || strcmp(url.data + url.len - 14, "/api/v2/alerts") != 0)
            buf_adds(&url, "/api/v2/alerts");
    }
    curl_easy_setopt(x->easy, CURLOPT_URL, url.data);
    buf_release(&url);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(k->timeout_ms < 5000 ? k->timeout_ms : 5000));
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)k->timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_multi_add_handle(o->multi, x->easy);
    o->n++;
}

static void
record(struct outbox *o, struct xfer *x, CURLcode res, int64_t now)
{
    long status = 0;
    if (res == CURLE_OK)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    int64_t ms = mono_ms() - x->started;
    char err[400];
    const char *state;
    int64_t next = now;
    if (res != CURLE_OK) {
        snprintf(err, sizeof err, "%s", curl_easy_strerror(res));
    } else if (status < 200 || status >= 300) {
        x->answer[x->answer_len] = '\0';
        snprintf(err, sizeof err, "HTTP %ld: %s", status, log_esc(x->answer, x->answer_len));
    } else {
        err[0] = '\0';
    }
    int attempts = x->attempts + 1;
    if (res == CURLE_OK && status >= 200 && status < 300) {
        state = "delivered";
    } else if (x->once) {
        state = "gave_up"; /* a test is not retried */
    } else if (res != CURLE_OK || status == 429 || status >= 500) {
        state = "pending";
        int64_t d = outbox_backoff_ms(attempts);
        d = d / 2 + (int64_t)(rand() % (int)(d + 1)); /* jitter: 0.5x to 1.5x */
        if (x->retry_after >= 0 && x->retry_after * 1000 > d)
            d = x->retry_after * 1000;
        next = now + d;
    } else {
        state = "gave_up";
    }
    if (o->nres == o->capres) {
        o->capres = o->capres ? o->capres * 2 : 16;
        o->res = xrealloc(o->res, sizeof *o->res * (size_t)o->capres);
    }
    struct result *r = &o->res[o->nres++];
    r->id = x->id;
    r->state = state;
    r->next_at = next;
    r->status = status;
    r->now = now;
    r->ms = ms;
    r->coalesce = x->coalesce;
    snprintf(r->err, sizeof r->err, "%s", err);
    if (o->report) {
        x->answer[x->answer_len] = '\0';
        o->report(o->report_ud, x->id, status, res == CURLE_OK ? NULL : err, x->answer);
    }
    if (strcmp(state, "delivered") != 0)
        log_warn("alert notification %lld (%s): %s (attempt %d)%s", (long long)x->id, x->what, err,
                 attempts, !strcmp(state, "gave_up") ? ": gave up" : "");
}

/* HA: a transfer whose lease has lapsed goes no further, whether or not
 * the agent's loop has noticed yet (it may have been held up by a Redis
 * command): its row stays pending for the next leader. */
static void
stand_down_lapsed(struct outbox *o)
{
    const char *id;
    int64_t token;
    for (int i = 0; o->leader && i < o->n;) {
        if (!o->x[i].endpoint || o->leader(o->leader_ud, o->x[i].endpoint, &id, &token)) {
            i++;
            continue;
        }
        xfer_release(o, &o->x[i]);
        o->x[i] = o->x[o->n - 1];
        memset(&o->x[o->n - 1], 0, sizeof o->x[0]);
        o->n--;
    }
}

void
outbox_pump(struct outbox *o, int64_t now)
{
    if (!o)
        return;
    int running = 0;
    stand_down_lapsed(o);
    curl_multi_perform(o->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(o->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        for (int i = 0; i < o->n; i++) {
            if (o->x[i].easy != m->easy_handle)
                continue;
            record(o, &o->x[i], m->data.result, now);
            xfer_release(o, &o->x[i]);
            o->x[i] = o->x[o->n - 1];
            memset(&o->x[o->n - 1], 0, sizeof o->x[0]);
            o->n--;
            break;
        }
    }
    /* results go into the window (it is committed before the loop waits);
     * with the store failing they wait in memory and their rows stay put */
    if (o->nres && !window_is_open(o->win) && window_backoff_ms(o->win) == 0)
        (void)window_open(o->win);
    /* rows the open window added are not committed: send from the store's
     * committed rows only */
    if (o->manual || window_is_open(o->win) || o->n >= MAX_INFLIGHT ||
        (o->next_check && now < o->next_check))
        return;
    sqlite3_stmt *s = store_stmt(o->st, "stmt/outbox_due");
    int64_t soonest = 0;
    bool started = false;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0), next_at = sqlite3_column_int64(s, 4);
        if (busy(o, id))
            continue;
        if (next_at > now) {
            if (!soonest || next_at < soonest)
                soonest = next_at;
            continue;
        }
        if (o->n >= MAX_INFLIGHT)
            continue;
        const struct sink *k = sinks_find(o->sinks, (const char *)sqlite3_column_text(s, 1));
        if (!k)
            continue; /* a sink removed from the config: left pending */
        const char *leader = NULL;
        int64_t token = 0;
        if (o->leader && !o->leader(o->leader_ud, (const char *)sqlite3_column_text(s, 8), &leader,
                                    &token))
            continue; /* HA: not leading this endpoint; the row waits (outbox_leadership) */
        const char *msg_id = (const char *)sqlite3_column_text(s, 5);
        char old_id[32];
        if (!msg_id) { /* cannot happen after 0005; keep the old shape */
            snprintf(old_id, sizeof old_id, "msg_%lld", (long long)id);
            msg_id = old_id;
        }
        start(o, k, id, sqlite3_column_int(s, 3), (const char *)sqlite3_column_text(s, 2), msg_id,
              sqlite3_column_int(s, 6), (const char *)sqlite3_column_text(s, 8), leader, token,
              now, (const char *)sqlite3_column_text(s, 9), (const char *)sqlite3_column_text(s, 10));
        started = true;
    }
    sqlite3_reset(s);
    /* with transfers in flight, look again when one ends */
    o->next_check = o->n ? INT64_MAX : soonest ? soonest : now + 60000;
    if (started)
        curl_multi_perform(o->multi, &running);
}

int
outbox_send_now(struct outbox *o, int64_t id, int64_t now)
{
    int rc = -1;
    sqlite3_stmt *s = store_stmt(o->st, "stmt/outbox_row");
    store_bind_int(s, ":id", id);
    if (sqlite3_step(s) == SQLITE_ROW && o->n < MAX_INFLIGHT) {
        const struct sink *k = sinks_find(o->sinks, (const char *)sqlite3_column_text(s, 1));
        if (k) {
            start(o, k, id, sqlite3_column_int(s, 3), (const char *)sqlite3_column_text(s, 2),
                  (const char *)sqlite3_column_text(s, 5), sqlite3_column_int(s, 6), NULL, NULL, 0,
                  now, (const char *)sqlite3_column_text(s, 11),
                  (const char *)sqlite3_column_text(s, 12));
            o->x[o->n - 1].once = true;
            rc = 0;
        }
    }
    sqlite3_reset(s);
    if (rc == 0) {
        int running;
        curl_multi_perform(o->multi, &running);
    }
    return rc;
}

int
outbox_fds(struct outbox *o, struct pollfd *p, int max)
{
    fd_set r, w, x;
    int maxfd = -1;
    if (!o || o->n == 0)
        return 0;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    if (curl_multi_fdset(o->multi, &r, &w, &x, &maxfd) != CURLM_OK)
        return 0;
    return fdsets_to_poll(&r, &w, &x, maxfd, p, max);
}

int64_t
outbox_wait_ms(struct outbox *o, int64_t now)
{
    if (!o)
        return -1;
    long t = -1;
    if (o->n)
        curl_multi_timeout(o->multi, &t);
    if (o->n && t < 0)
        t = 100; /* libcurl has no timer but transfers run: look again soon */
    int64_t due = o->next_check == 0 ? 0 : o->next_check == INT64_MAX ? -1 : o->next_check - now;
    if (o->nres)
        due = 0;
    if (due >= 0 && (t < 0 || due < t))
        t = due < 0 ? 0 : (long)due;
    return t;
}

/* ---- HA (agent/lease.h) ---- */

void
outbox_set_leader(struct outbox *o, outbox_leader_fn *fn, void *ud)
{
    if (!o)
        return;
    o->leader = fn;
    o->leader_ud = ud;
}

void
outbox_leadership(struct outbox *o, bool leading)
{
    if (!o)
        return;
    o->next_check = 0; /* look at the pending rows again */
    if (leading)
        return;
    /* fail safe: nothing goes out without the lease. A transfer cut here
     * records nothing: its row stays pending with its attempts, and the
     * next leader sends it with the same message id. Only the transfers
     * under a lease now lapsed are cut (each endpoint has its own). */
    stand_down_lapsed(o);
}

int
outbox_ha_skip(struct outbox *o, const char *endpoint, int64_t before, const char *why)
{
    if (!o)
        return 0;
    sqlite3_stmt *s = store_stmt(o->st, "stmt/outbox_ha_skip");
    store_bind_str(s, ":endpoint", endpoint);
    store_bind_int(s, ":before", before);
    store_bind_str(s, ":why", why);
    if (store_exec(o->st, s, "outbox ha skip") != 0)
        return -1;
    return sqlite3_changes(store_db(o->st));
}

int64_t
outbox_ha_watermark(struct outbox *o, const char *endpoint, int64_t now)
{
    int64_t w = now;
    if (!o)
        return w;
    sqlite3_stmt *s = store_stmt(o->st, "stmt/outbox_ha_oldest");
    store_bind_str(s, ":endpoint", endpoint);
    while (sqlite3_step(s) == SQLITE_ROW) {
        /* a sink no longer configured is never sent: it holds nothing back */
        if (!sinks_find(o->sinks, (const char *)sqlite3_column_text(s, 0)))
            continue;
        int64_t t = sqlite3_column_int64(s, 1);
        if (t < w)
            w = t;
    }
    sqlite3_reset(s);
    return w;
}
