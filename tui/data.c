/* data: see data.h */
#include "data.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "bmq.h"
#include "dlq.h"
#include "queues.h"
#include "sqlembed.h"
#include "labels.h"
#include "silence.h"
#include "util.h"
#include "xmem.h"

/* ---- queues ---- */

static int64_t
old_spark(const struct view *v, const char *name, int64_t *spark, int *n)
{
    for (int i = 0; i < v->nq; i++)
        if (!strcmp(v->q[i].name, name)) {
            memcpy(spark, v->q[i].spark, sizeof v->q[i].spark);
            *n = v->q[i].nspark;
            return 1;
        }
    *n = 0;
    return 0;
}

void
data_queues(struct tui_src *s, struct view *v, int64_t now)
{
    struct queue_list l;
    if (rconn_ensure(s->rc) != 0) {
        snprintf(v->status, sizeof v->status, "Redis %s unreachable: %s (showing the last known values)",
                 s->cfg->endpoint_addr, rconn_errstr(s->rc));
        for (int i = 0; i < v->nq; i++)
            v->q[i].ok = false;
        return;
    }
    if (queues_discover(s->rc, s->cfg, &l) != 0) {
        snprintf(v->status, sizeof v->status, "Redis %s: discovery failed: %s", s->cfg->endpoint_addr,
                 rconn_errstr(s->rc));
        return;
    }
    if (l.n == 0)
        queues_none_hint(s->rc, s->cfg->prefix, v->status, sizeof v->status);
    struct queue_depth *d = xcalloc((size_t)(l.n ? l.n : 1), sizeof *d);
    bool polled = queues_poll(s->rc, s->cfg->prefix, &l, d, now) == 0;
    struct qrow *q = xcalloc((size_t)(l.n ? l.n : 1), sizeof *q);
    for (int i = 0; i < l.n; i++) {
        q[i].name = xstrdup(l.names[i]);
        q[i].ok = polled && d[i].ok;
        q[i].waiting = d[i].waiting;
        q[i].active = d[i].active;
        q[i].delayed = d[i].delayed;
        q[i].prioritized = d[i].prioritized;
        q[i].failed = d[i].failed;
        q[i].completed = d[i].completed;
        q[i].waiting_children = d[i].waiting_children;
        q[i].paused = d[i].paused;
        q[i].workers = d[i].workers;
        q[i].dead_not_failed = d[i].deferred >= 0 ? d[i].deferred + d[i].orphaned : -1;
        q[i].paused_list = d[i].paused_list;
        old_spark(v, l.names[i], q[i].spark, &q[i].nspark);
        if (q[i].ok) {
            if (q[i].nspark == SPARK_N) {
                memmove(q[i].spark, q[i].spark + 1, sizeof q[i].spark[0] * (SPARK_N - 1));
                q[i].nspark--;
            }
            q[i].spark[q[i].nspark++] = d[i].waiting;
        }
    }
    /* rates of the last full minute and firing alerts, from the store */
    if (s->st) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(store_db(s->st),
                               sql_get("stmt/tui_minute"), -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, s->cfg->endpoint_name, -1, SQLITE_STATIC);
            int64_t full = now / 60000 - 1;
            sqlite3_bind_int64(st, 2, full);
            /* the last full minute; a queue without one (the agent or the
             * queue is younger than that) shows the minute under way as a
             * rate, instead of 0 for the first minute or two */
            bool *have_full = xcalloc((size_t)(l.n ? l.n : 1), sizeof *have_full);
            int64_t into = now % 60000 > 10000 ? now % 60000 : 10000; /* ms of the minute so far */
            while (sqlite3_step(st) == SQLITE_ROW) {
                int i = queue_list_find(&l, (const char *)sqlite3_column_text(st, 0));
                if (i < 0)
                    continue;
                int64_t minute = sqlite3_column_int64(st, 1);
                int64_t done = sqlite3_column_int64(st, 2), fail = sqlite3_column_int64(st, 3);
                if (minute == full) {
                    have_full[i] = true;
                    q[i].done_per_min = done;
                    q[i].failed_per_min = fail;
                } else if (!have_full[i]) {
                    q[i].done_per_min = done * 60000 / into;
                    q[i].failed_per_min = fail * 60000 / into;
                }
            }
            free(have_full);
            sqlite3_finalize(st);
        }
        if (sqlite3_prepare_v2(store_db(s->st),
                               sql_get("stmt/tui_firing"), -1, &st, NULL) == SQLITE_OK) {
            while (sqlite3_step(st) == SQLITE_ROW) {
                int i = queue_list_find(&l, (const char *)sqlite3_column_text(st, 0));
                if (i >= 0)
                    q[i].firing = true;
            }
            sqlite3_finalize(st);
        }
    }
    view_sort_queues(q, l.n, v->qsort);
    char *selected = v->nq && v->qsel < v->nq ? xstrdup(v->q[v->qsel].name) : NULL;
    view_clear_queues(v);
    v->q = q;
    v->nq = l.n;
    v->qsel = 0;
    for (int i = 0; selected && i < l.n; i++)
        if (!strcmp(q[i].name, selected))
            v->qsel = i; /* the selection stays on its queue */
    free(selected);
    if (v->qsel >= v->nq)
        v->qsel = v->nq ? v->nq - 1 : 0;
    if (!polled)
        snprintf(v->status, sizeof v->status, "Redis %s: depth poll failed: %s", s->cfg->endpoint_addr,
                 rconn_errstr(s->rc));
    else if (!strncmp(v->status, "Redis", 5))
        v->status[0] = '\0'; /* recovered */
    if (polled)
        v->as_of = now;
    free(d);
    queue_list_release(&l);
}

/* ---- dead jobs ---- */

static bool
is_signature(const char *s)
{
    if (strlen(s) != SIGNATURE_ID_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

int
data_filter(const char *text, struct dlq_filter *f, char *store, size_t storelen, int64_t now)
{
    /* words: name:X, since:T, until:T (2h, epoch, ISO time), a 12-hex signature,
     * failed-reason:X (the CLI's flag); the other words together are a reason
     * substring too */
    memset(f, 0, sizeof *f);
    char words[160];
    snprintf(words, sizeof words, "%s", text);
    size_t used = 0;
    char rtext[160] = "";
    for (char *save = NULL, *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        int64_t t;
        if (!strncmp(w, "since:", 6) || !strncmp(w, "until:", 6)) {
            if (parse_time_ms(w + 6, now, &t) != 0)
                return -1;
            if (w[0] == 's')
                f->since = t;
            else
                f->until = t;
        } else if (!strncmp(w, "name:", 5) || is_signature(w)) {
            size_t l = strlen(w) + 1;
            if (used + l > storelen)
                return -1;
            bool name = !strncmp(w, "name:", 5);
            memcpy(store + used, name ? w + 5 : w, l - (name ? 5 : 0));
            if (name)
                f->name = store + used;
            else
                f->signature = store + used;
            used += l;
        } else {
            if (!strncmp(w, "failed-reason:", 14))
                w += 14;
            size_t rl = strlen(rtext);
            snprintf(rtext + rl, sizeof rtext - rl, "%s%s", rl ? " " : "", w);
        }
    }
    if (rtext[0]) { /* the other words joined back: "payment down" */
        size_t l = strlen(rtext) + 1;
        if (used + l > storelen)
            return -1;
        memcpy(store + used, rtext, l);
        f->reason = store + used;
    }
    return 0;
}

static bool
add_dead(const struct dlq_job *j, void *ud)
{
    struct view *v = ud;
    v->d = xrealloc(v->d, sizeof *v->d * (size_t)(v->nd + 1));
    struct drow *r = &v->d[v->nd++];
    memset(r, 0, sizeof *r);
    r->id = xstrndup(j->id, j->id_len);
    r->name = xstrdup(j->wrapper ? j->wrapper->name : j->name ? j->name : "");
    r->reason = j->reason ? xstrndup(j->reason, j->reason_len > 300 ? 300 : j->reason_len)
                          : xstrdup(j->hash_missing ? "(job hash is gone)" : "");
    r->finished_on = j->finished_on;
    r->attempts_made = j->attempts_made;
    r->attempts_allowed = j->attempts_allowed;
    snprintf(r->signature, sizeof r->signature, "%s", j->signature);
    return true;
}

/* the newest score of the queue's failed set, -1 when empty or unknown */
static int64_t
top_score(struct tui_src *s, const char *queue)
{
    struct buf k;
    buf_init(&k, 0);
    bmq_key(&k, s->cfg->prefix, queue, "failed");
    redisReply *r = rconn_cmdf(s->rc, "ZREVRANGE %b 0 0 WITHSCORES", k.data, k.len);
    buf_release(&k);
    int64_t top = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->str)
        top = (int64_t)strtoll(r->element[1]->str, NULL, 10);
    if (r)
        freeReplyObject(r);
    return top;
}

void
data_dead_new(struct tui_src *s, struct view *v)
{
    if (!v->queue || rconn_ensure(s->rc) != 0)
        return;
    struct buf k;
    char min[32];
    buf_init(&k, 0);
    bmq_key(&k, s->cfg->prefix, v->queue, "failed");
    snprintf(min, sizeof min, "(%lld", (long long)v->dtop_score);
    redisReply *r = rconn_cmdf(s->rc, "ZCOUNT %b %s +inf", k.data, k.len,
                               v->dtop_score < 0 ? "-inf" : min);
    buf_release(&k);
    if (r && r->type == REDIS_REPLY_INTEGER) {
        v->dnew = r->integer;
        v->as_of = now_ms();
    }
    if (r)
        freeReplyObject(r);
}

void
data_dead(struct tui_src *s, struct view *v, int page_rows, bool append)
{
    struct dlq_filter f;
    char err[256], store[320];
    if (data_filter(v->filter, &f, store, sizeof store, now_ms()) != 0) {
        snprintf(v->status, sizeof v->status, "bad filter: words are name:X, since:T, until:T (2h, "
                                              "an epoch, an ISO time), a signature, "
                                              "failed-reason:X or reason text");
        return;
    }
    /* one page more than the screen, newest first: never the whole set */
    f.limit = page_rows * 4 > 200 ? page_rows * 4 : 200;
    bool more = v->nd > 0 && append;
    if (!more) {
        view_clear_dead(v);
        v->dsel = v->dtop = 0;
        memset(&v->dpos, 0, sizeof v->dpos);
    }
    bool wrappers = queue_is_dlq(s->cfg, v->queue);
    if (!wrappers)
        f.pos = &v->dpos; /* the next page continues where this one stops */
    int before = v->nd;
    if (rconn_ensure(s->rc) != 0) {
        snprintf(v->status, sizeof v->status, "Redis %s unreachable: %s", s->cfg->endpoint_addr,
                 rconn_errstr(s->rc));
        return;
    }
    int64_t n = wrappers
                    ? dlq_select_wrappers(s->rc, s->cfg->prefix, v->queue, &f, add_dead, v, &v->dtotal,
                                          err, sizeof err)
                    : dlq_select(s->rc, s->cfg->prefix, v->queue, &f, add_dead, v, &v->dtotal, err,
                                 sizeof err);
    if (n < 0)
        snprintf(v->status, sizeof v->status, "Redis %.40s: %.200s", s->cfg->endpoint_addr, err);
    v->dmore = n >= 0 && !wrappers && !v->dpos.end;
    if (!more && n >= 0) {
        v->dloaded_at = v->as_of = now_ms();
        v->dnew = 0;
        v->dtop_score = top_score(s, v->queue);
    }
    if (more && v->marked) {
        v->marked = xrealloc(v->marked, sizeof *v->marked * (size_t)(v->nd ? v->nd : 1));
        for (int i = before; i < v->nd; i++)
            v->marked[i] = false;
    }
}

/* ---- one job ---- */

static void
add_line(struct view *v, const char *s, size_t n)
{
    v->lines = xrealloc(v->lines, sizeof *v->lines * (size_t)(v->nlines + 1));
    v->lines[v->nlines++] = xstrndup(s, n);
}

/* text split at newlines, tabs expanded to 4-column stops (the raw view's
 * indentation, a stack trace's); every other control character stays for
 * the grid to show escaped */
static void
add_text(struct view *v, const char *indent, const char *s, size_t n)
{
    size_t il = strlen(indent);
    for (size_t i = 0; i <= n;) {
        size_t e = i;
        while (e < n && s[e] != '\n')
            e++;
        struct buf b;
        buf_init(&b, 0);
        buf_add(&b, indent, il);
        for (size_t k = i; k < e; k++) {
            if (s[k] != '\t') {
                buf_addc(&b, s[k]);
                continue;
            }
            do
                buf_addc(&b, ' ');
            while ((b.len - il) % 4 != 0);
        }
        add_line(v, b.data, b.len);
        buf_release(&b);
        i = e + 1;
    }
}

/* JSON pretty-printed when it parses, else the text as it is */
static void
add_json(struct view *v, const char *s, size_t n)
{
    cJSON *j = n < 64 * 1024 * 1024 ? cJSON_ParseWithLength(s, n) : NULL;
    if (j) {
        char *p = cJSON_Print(j);
        struct buf b; /* cJSON indents with tabs: two spaces read better */
        buf_init(&b, 0);
        for (const char *c = p; *c; c++) {
            if (*c == '\t')
                buf_adds(&b, "  ");
            else
                buf_addc(&b, *c);
        }
        add_text(v, "  ", b.data, b.len);
        buf_release(&b);
        free(p);
        cJSON_Delete(j);
    } else {
        add_text(v, "  ", s, n);
    }
}

/* the job's story in the audit store: each recorded death, each action */
static void
timeline(struct tui_src *s, struct view *v)
{
    if (!s->st)
        return;
    sqlite3_stmt *st;
    const char *sql = sql_get("stmt/tui_timeline");
    if (sqlite3_prepare_v2(store_db(s->st), sql, -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, s->cfg->endpoint_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, v->queue, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, v->job_id, -1, SQLITE_STATIC);
    bool any = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!any) {
            add_line(v, "#timeline (audit store)", 23);
            any = true;
        }
        int64_t ms = sqlite3_column_int64(st, 0);
        char t[40];
        time_t sec = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&sec, &tm);
        strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S", &tm);
        struct buf b;
        buf_init(&b, 0);
        const unsigned char *what = sqlite3_column_text(st, 1);
        buf_addf(&b, "  %s  %s", t, what ? (const char *)what : "");
        add_line(v, b.data, b.len);
        buf_release(&b);
    }
    sqlite3_finalize(st);
}

void
data_job(struct tui_src *s, struct view *v)
{
    view_clear_job(v);
    v->jtop = 0;
    v->jleft = 0;
    if (rconn_ensure(s->rc) != 0) {
        snprintf(v->status, sizeof v->status, "Redis %s unreachable: %s", s->cfg->endpoint_addr,
                 rconn_errstr(s->rc));
        return;
    }
    struct buf k;
    buf_init(&k, 0);
    bmq_job_key(&k, s->cfg->prefix, v->queue, v->job_id, strlen(v->job_id));
    redisReply *r = rconn_cmdf(s->rc, "HGETALL %b", k.data, k.len);
    v->as_of = now_ms();
    buf_release(&k);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        snprintf(v->status, sizeof v->status, "Redis %s: reading job %s failed: %s",
                 s->cfg->endpoint_addr, v->job_id, r && r->type == REDIS_REPLY_ERROR ? r->str : rconn_errstr(s->rc));
        if (r)
            freeReplyObject(r);
        return;
    }
    if (r->elements == 0) {
        add_line(v, "#the job hash is gone (removed, or evicted by removeOnFail)", 60);
        freeReplyObject(r);
        return;
    }
    if (v->raw) {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i + 1 < r->elements; i += 2)
            cJSON_AddItemToObject(o, r->element[i]->str,
                                  cJSON_CreateString(r->element[i + 1]->str ? r->element[i + 1]->str : ""));
        char *p = cJSON_Print(o);
        add_text(v, "", p, strlen(p));
        free(p);
        cJSON_Delete(o);
        freeReplyObject(r);
        return;
    }
    static const char *const order[] = {"name",        "timestamp", "processedOn", "finishedOn",
                                        "atm",         "ats",       "attemptsMade", "failedReason",
                                        "processedBy", "parentKey", NULL};
    add_line(v, "#fields", 7);
    for (int o = 0; order[o]; o++)
        for (size_t i = 0; i + 1 < r->elements; i += 2)
            if (!strcmp(r->element[i]->str, order[o])) {
                struct buf b;
                buf_init(&b, 0);
                buf_addf(&b, "  %-14s ", order[o]);
                const char *val = r->element[i + 1]->str;
                size_t vl = r->element[i + 1]->len;
                int64_t ms;
                if ((!strcmp(order[o], "timestamp") || !strcmp(order[o], "processedOn") ||
                     !strcmp(order[o], "finishedOn")) && parse_int64(val, &ms) == 0) {
                    char iso[40];
                    time_t t = (time_t)(ms / 1000);
                    struct tm tm;
                    gmtime_r(&t, &tm);
                    strftime(iso, sizeof iso, "%Y-%m-%d %H:%M:%S UTC", &tm);
                    buf_addf(&b, "%s (%s)", val, iso);
                } else {
                    buf_add(&b, val, vl > 2000 ? 2000 : vl);
                }
                add_line(v, b.data, b.len);
                buf_release(&b);
            }
    static const char *const blocks[] = {"data", "opts", "returnvalue", NULL};
    for (int o = 0; blocks[o]; o++)
        for (size_t i = 0; i + 1 < r->elements; i += 2)
            if (!strcmp(r->element[i]->str, blocks[o])) {
                char h[32];
                snprintf(h, sizeof h, "#%s", blocks[o]);
                add_line(v, h, strlen(h));
                add_json(v, r->element[i + 1]->str, r->element[i + 1]->len);
            }
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        if (strcmp(r->element[i]->str, "stacktrace") != 0)
            continue;
        cJSON *st = cJSON_ParseWithLength(r->element[i + 1]->str, r->element[i + 1]->len);
        int n = cJSON_IsArray(st) ? cJSON_GetArraySize(st) : 0;
        char h[64];
        snprintf(h, sizeof h, "#errors of each attempt (%d stack trace%s, oldest first)", n, n == 1 ? "" : "s");
        add_line(v, h, strlen(h));
        for (int a = 0; a < n; a++) {
            cJSON *e = cJSON_GetArrayItem(st, a);
            char t[32];
            snprintf(t, sizeof t, "  attempt %d:", a + 1);
            add_line(v, t, strlen(t));
            if (cJSON_IsString(e))
                add_text(v, "    ", e->valuestring, strlen(e->valuestring));
        }
        if (!st)
            add_text(v, "  ", r->element[i + 1]->str, r->element[i + 1]->len);
        cJSON_Delete(st);
    }
    freeReplyObject(r);
    timeline(s, v);
}

/* ---- tables from the store ---- */

/* the matchers of the active silences (caller frees each and the array) */
static char **
active_silences(struct tui_src *s, int *n)
{
    sqlite3_stmt *st;
    char **m = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(store_db(s->st), sql_get("stmt/tui_silences"), -1,
                           &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64(st, 1, now_ms());
    while (sqlite3_step(st) == SQLITE_ROW) {
        m = xrealloc(m, sizeof *m * (size_t)(*n + 1));
        m[(*n)++] = xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return m;
}

/* A signature first seen on the queue within this long is marked NEW. */
#define TUI_NEW_SIGNATURE_MS 86400000LL

void
data_table(struct tui_src *s, struct view *v)
{
    view_clear_table(v);
    /* name, min, want, prio (0 never dropped), share, flex, right: layout.h */
    static const struct layout_col alert_cols[] = {
        {"STATE", 8, 18, 0, 1, false, false},       {"RULE", 10, 24, 0, 2, false, false},
        {"QUEUE", 10, 24, 1, 2, false, false},      {"SINCE (UTC)", 14, 16, 3, 1, false, false},
        {"VALUE", 6, 12, 2, 1, false, true},        {"THRESHOLD", 9, 12, 4, 1, false, true}};
    static const struct layout_col audit_cols[] = {
        {"ACTION", 6, 8, 0, 0, false, true},        {"QUEUE", 8, 22, 1, 2, false, false},
        {"VERB", 6, 8, 2, 0, false, false},         {"USER", 6, 12, 5, 1, false, false},
        {"STATE", 8, 12, 3, 1, false, false},       {"DONE", 5, 8, 4, 0, false, true},
        {"SKIPPED", 7, 8, 6, 0, false, true},       {"REASON", 16, 0, 0, 4, true, false}};
    static const struct layout_col deliv_cols[] = {
        {"ROW", 5, 8, 0, 0, false, true},           {"SINK", 6, 16, 2, 1, false, false},
        {"QUEUE", 8, 22, 1, 2, false, false},       {"KIND", 7, 8, 5, 0, false, false},
        {"STATE", 8, 10, 3, 0, false, false},       {"ATTEMPTS", 8, 8, 6, 0, false, true},
        {"STATUS", 6, 6, 4, 0, false, true},        {"ERROR", 16, 0, 0, 4, true, false}};
    static const struct layout_col sig_cols[] = {
        {"FAILURES", 8, 8, 2, 0, false, false},      {"SIGNATURE", 12, 13, 0, 0, false, false},
        {"NEW", 3, 4, 1, 0, false, false},
        {"FIRST SEEN (UTC)", 16, 16, 5, 0, false, false},
        {"LAST SEEN (UTC)", 16, 16, 4, 0, false, false},
        {"WORKERS", 8, 24, 3, 1, false, false},
        {"SAMPLE REASON", 20, 0, 0, 4, true, false}};
    const char *sql;
    if (v->scr == SCR_ALERTS) {
        v->tspec = alert_cols;
        v->ntcols = 6;
        sql = sql_get("stmt/tui_alerts");
    } else if (v->scr == SCR_AUDIT) {
        v->tspec = audit_cols;
        v->ntcols = 8;
        sql = sql_get("stmt/tui_audit");
    } else if (v->scr == SCR_SIGS) {
        v->tspec = sig_cols;
        v->ntcols = 7;
        sql = sql_get("stmt/tui_signatures");
    } else {
        v->tspec = deliv_cols;
        v->ntcols = 8;
        sql = sql_get("stmt/tui_deliveries");
    }
    if (!s->st) {
        snprintf(v->status, sizeof v->status, "no audit store at %s (has the agent run?)",
                 s->cfg->store_path);
        return;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s->st), sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(v->status, sizeof v->status, "audit store: %s", sqlite3_errmsg(store_db(s->st)));
        return;
    }
    if (v->scr == SCR_SIGS) {
        sqlite3_bind_text(st, 1, s->cfg->endpoint_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, v->queue ? v->queue : "", -1, SQLITE_STATIC);
        /* NEW: first seen within the day (as far back as signature_retention knows) */
        sqlite3_bind_int64(st, 3, now_ms() - TUI_NEW_SIGNATURE_MS);
    }
    int nsil = 0;
    char **sil = v->scr == SCR_ALERTS ? active_silences(s, &nsil) : NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        v->t = xrealloc(v->t, sizeof *v->t * (size_t)(v->nt + 1));
        struct trow *r = &v->t[v->nt++];
        memset(r, 0, sizeof *r);
        for (int k = 0; k < v->ntcols; k++) {
            const unsigned char *c = sqlite3_column_text(st, k);
            r->col[k] = xstrdup(c ? (const char *)c : "");
        }
        if (v->scr == SCR_ALERTS) { /* the agent's own matching decides "silenced" */
            const unsigned char *sev = sqlite3_column_text(st, 6);
            bool silenced = false;
            struct labels lab = {0};
            labels_set(&lab, "endpoint", s->cfg->endpoint_name);
            labels_set(&lab, "queue", r->col[2]);
            for (int k = 0; k < nsil && !silenced; k++)
                silenced = labels_match(sil[k], r->col[1], sev ? (const char *)sev : "", &lab);
            if (silenced) {
                char *x = xmalloc(strlen(r->col[0]) + 12);
                sprintf(x, "%s (silenced)", r->col[0]);
                free(r->col[0]);
                r->col[0] = x;
            }
        }
    }
    sqlite3_finalize(st);
    for (int k = 0; k < nsil; k++)
        free(sil[k]);
    free(sil);
    v->as_of = now_ms();
    /* a refresh keeps the selection's place, within the new rows */
    if (v->tsel >= v->nt)
        v->tsel = v->nt ? v->nt - 1 : 0;
    if (v->ttop > v->tsel)
        v->ttop = v->tsel;
}
