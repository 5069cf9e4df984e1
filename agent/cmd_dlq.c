/*
 * cmd_dlq: `bullwatch dlq list|show|replay|purge` over a queue's failed set
 * (the native dead-letter store of BullMQ). Untrusted text (names, reasons,
 * data, stack traces) is escaped before it reaches the terminal. Actions
 * freeze their selection, confirm, write the audit intent before touching
 * Redis, and run one Lua script per batch of at most 200 jobs. Queues named
 * by `[queues] dlq` hold wrapper jobs: replay re-adds each original to its
 * own queue (lua/readd), purge removes the wrappers (lua/purgewait).
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include <signal.h>
#include <unistd.h>

#include "audit.h"
#include "bmq.h"
#include "buf.h"
#include "dlq.h"
#include "jobdata.h"
#include "log.h"
#include "queues.h"
#include "rconn.h"
#include "store.h"
#include "util.h"
#include "xmem.h"

struct dlq_args {
    const char *config;
    const char *queue;
    const char *job_id;
    bool json;
    struct dlq_filter f;
    /* replay / purge */
    bool mutating;
    const char **ids;
    int nids;
    bool all, dry_run, yes, keep_attempts, read_only, filtered;
    double rate;
    double refail_pct; /* --stop-if-refail PCT */
    int64_t snapshot; /* --snapshot: act on the selection a dry run froze */
    const char *why; /* --reason of a mutation: the audit comment */
};

static void
dlq_usage(void)
{
    fputs("usage: bullwatch dlq list QUEUE [--name N] [--reason TEXT] [--signature ID]\n"
          "                          [--since T] [--until T] [--limit N] [--json] [-c FILE]\n"
          "       bullwatch dlq show QUEUE JOB_ID [--json] [-c FILE]\n"
          "       bullwatch dlq replay QUEUE (JOB_ID... | --all | filters) [--dry-run]\n"
          "                 [--rate N] [--stop-if-refail PCT] [--yes] [--reason WHY]\n"
          "                 [--keep-attempts] [--read-only]\n"
          "                 [--snapshot MS] [--json] [-c FILE]\n"
          "  filters: --name N, --failed-reason TEXT (--reason in list), --signature ID,\n"
          "           --since T, --until T, --limit N\n"
          "       bullwatch dlq purge QUEUE (JOB_ID... | --all | filters) [--dry-run] [--yes]\n"
          "                 [--reason WHY] [--read-only] [--snapshot MS] [--json] [-c FILE]\n",
          stderr);
}

static int
parse_args(int argc, char **argv, bool want_id, bool mutating, struct dlq_args *a)
{
    int64_t now = now_ms();
    memset(a, 0, sizeof *a);
    a->mutating = mutating;
    a->f.limit = mutating ? 0 : 100;
    a->ids = xcalloc((size_t)argc, sizeof *a->ids);
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r = cmd_config_opt(argc, argv, &i, &a->config);
        if (r < 0)
            return -1;
        if (r == 1)
            continue;
        if (!strcmp(o, "--json")) {
            a->json = true;
            continue;
        }
        if (mutating && (!strcmp(o, "--all") || !strcmp(o, "--dry-run") || !strcmp(o, "--yes") ||
                         !strcmp(o, "--keep-attempts") || !strcmp(o, "--read-only"))) {
            bool *flag = !strcmp(o, "--all")       ? &a->all
                         : !strcmp(o, "--dry-run") ? &a->dry_run
                         : !strcmp(o, "--yes")     ? &a->yes
                         : !strcmp(o, "--keep-attempts") ? &a->keep_attempts
                                                         : &a->read_only;
            *flag = true;
            continue;
        }
        if (o[0] == '-' && o[1]) {
            if (!v) {
                fprintf(stderr, "bullwatch dlq: %s needs a value\n", o);
                return -1;
            }
            i++;
            if (!strcmp(o, "--name")) {
                a->f.name = v;
            } else if (!strcmp(o, "--reason") && mutating) {
                a->why = v; /* the audit comment of a mutation */
            } else if (!strcmp(o, "--reason") || !strcmp(o, "--failed-reason")) {
                a->f.reason = v;
            } else if (mutating && !strcmp(o, "--snapshot")) {
                if (parse_int64(v, &a->snapshot) != 0 || a->snapshot <= 0) {
                    fprintf(stderr, "bullwatch dlq: bad --snapshot '%s': the ms a --dry-run "
                                    "printed\n", v);
                    return -1;
                }
            } else if (mutating && !strcmp(o, "--stop-if-refail")) {
                char *end;
                a->refail_pct = strtod(v, &end);
                if (*end == '%')
                    end++;
                if (*end || a->refail_pct <= 0 || a->refail_pct > 100) {
                    fprintf(stderr, "bullwatch dlq: bad --stop-if-refail '%s': a percentage "
                                    "1..100\n", v);
                    return -1;
                }
            } else if (mutating && !strcmp(o, "--rate")) {
                char *end;
                a->rate = strtod(v, &end);
                if (*end || a->rate <= 0) {
                    fprintf(stderr, "bullwatch dlq: bad --rate '%s': jobs per second\n", v);
                    return -1;
                }
            } else if (!strcmp(o, "--signature")) {
                a->f.signature = v;
            } else if (!strcmp(o, "--since") || !strcmp(o, "--until")) {
                int64_t t;
                if (parse_time_ms(v, now, &t) != 0) {
                    fprintf(stderr, "bullwatch dlq: bad %s '%s': expected a duration (2h), epoch "
                                    "ms or 2026-11-23T10:00:00Z\n", o, v);
                    return -1;
                }
                *(o[2] == 's' ? &a->f.since : &a->f.until) = t;
            } else if (!strcmp(o, "--limit")) {
                if (parse_int64(v, &a->f.limit) != 0 || a->f.limit < 0) {
                    fprintf(stderr, "bullwatch dlq: bad --limit '%s'\n", v);
                    return -1;
                }
            } else {
                fprintf(stderr, "bullwatch dlq: unknown option '%s'\n", o);
                return -1;
            }
            continue;
        }
        if (!a->queue)
            a->queue = o;
        else if (want_id && !a->job_id)
            a->job_id = o;
        else if (mutating)
            a->ids[a->nids++] = o;
        else {
            fprintf(stderr, "bullwatch dlq: unexpected argument '%s'\n", o);
            return -1;
        }
    }
    if (!a->queue || (want_id && !a->job_id)) {
        dlq_usage();
        return -1;
    }
    a->filtered = a->f.name || a->f.reason || a->f.signature || a->f.since || a->f.until ||
                  (mutating && a->f.limit > 0);
    if (mutating && a->nids == 0 && !a->all && !a->filtered) {
        fprintf(stderr, "bullwatch dlq: say which jobs: JOB_ID..., --all, or filters\n");
        return -1;
    }
    if (mutating && a->nids > 0 && (a->all || a->filtered)) {
        fprintf(stderr, "bullwatch dlq: give job ids, or --all, or filters: not both\n");
        return -1;
    }
    if (strchr(a->queue, ':')) {
        fprintf(stderr, "bullwatch dlq: '%s' is not a queue name (queue names have no ':')\n",
                a->queue);
        return -1;
    }
    return 0;
}

static void
fmt_time(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

struct list_ctx {
    bool json;
    struct buf out;
    int64_t n;
};

static bool
list_row(const struct dlq_job *j, void *ud)
{
    struct list_ctx *c = ud;
    struct buf *b = &c->out;
    if (c->json) {
        buf_adds(b, c->n ? ",\n{\"id\":" : "\n{\"id\":");
        buf_add_json_str(b, j->id, j->id_len);
        buf_addf(b, ",\"finished_on\":%lld,\"name\":", (long long)j->finished_on);
        if (j->name)
            buf_add_json_str(b, j->name, strlen(j->name));
        else
            buf_adds(b, "null");
        buf_adds(b, ",\"failed_reason\":");
        if (j->reason)
            buf_add_json_str(b, j->reason, j->reason_len);
        else
            buf_adds(b, "null");
        buf_addf(b, ",\"attempts_made\":%lld,\"attempts_allowed\":%lld,\"signature\":\"%s\","
                    "\"hash_missing\":%s",
                 (long long)j->attempts_made, (long long)j->attempts_allowed, j->signature,
                 j->hash_missing ? "true" : "false");
        if (j->wrapper) {
            buf_adds(b, ",\"original\":{\"queue\":");
            buf_add_json_str(b, j->wrapper->queue, strlen(j->wrapper->queue));
            buf_adds(b, ",\"id\":");
            if (j->wrapper->id)
                buf_add_json_str(b, j->wrapper->id, strlen(j->wrapper->id));
            else
                buf_adds(b, "null");
            buf_adds(b, ",\"data\":");
            buf_adds(b, j->wrapper->data); /* JSON printed by cJSON */
            buf_adds(b, "}");
        }
        buf_adds(b, "}");
    } else {
        char when[32], att[32];
        fmt_time(j->finished_on, when, sizeof when);
        if (j->attempts_made >= 0)
            snprintf(att, sizeof att, "%lld/%lld", (long long)j->attempts_made,
                     (long long)j->attempts_allowed);
        else
            snprintf(att, sizeof att, "?/%lld", (long long)j->attempts_allowed);
        struct buf e;
        buf_init(&e, 0);
        buf_add_escaped(&e, j->id, j->id_len);
        buf_addf(b, "%-24s %-20s %-8s ", e.data ? e.data : "", when, att);
        buf_reset(&e);
        if (j->name)
            buf_add_escaped(&e, j->name, strlen(j->name));
        buf_addf(b, "%-14.14s %s  ", e.data ? e.data : "-", j->signature);
        buf_reset(&e);
        if (j->wrapper) {
            buf_adds(&e, "[from ");
            buf_add_escaped(&e, j->wrapper->queue, strlen(j->wrapper->queue));
            if (j->wrapper->id) {
                buf_addc(&e, '/');
                buf_add_escaped(&e, j->wrapper->id, strlen(j->wrapper->id));
            }
            buf_adds(&e, "] ");
        }
        if (j->hash_missing)
            buf_adds(&e, "(job hash gone)");
        else if (j->reason)
            buf_add_escaped(&e, j->reason, j->reason_len > 200 ? 200 : j->reason_len);
        buf_addf(b, "%.80s\n", e.data ? e.data : "");
        buf_release(&e);
    }
    c->n++;
    return true;
}

static int
dlq_list(struct dlq_args *a, struct config *cfg, struct rconn *rc)
{
    struct list_ctx c = {a->json, {0}, 0};
    char err[512];
    int64_t total = 0;
    buf_init(&c.out, 0);
    if (!a->json)
        buf_addf(&c.out, "%-24s %-20s %-8s %-14s %-12s  %s\n", "JOB ID", "FINISHED", "ATTEMPTS",
                 "NAME", "SIGNATURE", "REASON");
    else
        buf_adds(&c.out, "{\"jobs\":[");
    int64_t n = queue_is_dlq(cfg, a->queue)
                    ? dlq_select_wrappers(rc, cfg->prefix, a->queue, &a->f, list_row, &c, &total,
                                          err, sizeof err)
                    : dlq_select(rc, cfg->prefix, a->queue, &a->f, list_row, &c, &total, err,
                                 sizeof err);
    if (n < 0) {
        fprintf(stderr, "bullwatch dlq list: redis %s: %s\n", cfg->endpoint_name, err);
        buf_release(&c.out);
        return EXIT_RUNTIME;
    }
    if (a->json) {
        buf_addf(&c.out, "%s],\"queue\":", c.n ? "\n" : "");
        buf_add_json_str(&c.out, a->queue, strlen(a->queue));
        buf_addf(&c.out, ",\"dead_total\":%lld,\"shown\":%lld,\"limit\":%lld}\n", (long long)total,
                 (long long)n, (long long)a->f.limit);
    } else {
        buf_addf(&c.out, "(%lld shown; %lld dead in '%s'%s)\n", (long long)n, (long long)total,
                 log_esc(a->queue, strlen(a->queue)),
                 a->f.limit && n >= a->f.limit ? "; --limit reached" : "");
    }
    fwrite(c.out.data, 1, c.out.len, stdout);
    buf_release(&c.out);
    return EXIT_OK;
}

/* Escape text for the terminal line by line, indenting each line. */
static void
add_block(struct buf *b, const char *s, size_t n, const char *indent)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '\n') {
            buf_adds(b, indent);
            buf_add_escaped(b, s + start, i - start);
            buf_addc(b, '\n');
            start = i + 1;
        }
    }
}

static void
add_json_block(struct buf *b, const char *s, size_t n, const char *indent)
{
    cJSON *j = jobdata_json_valid(s, n) ? cJSON_ParseWithLength(s, n) : NULL;
    char *p = j ? cJSON_Print(j) : NULL;
    if (p) {
        struct buf t; /* cJSON indents with tabs: two spaces read better */
        buf_init(&t, 0);
        for (char *c = p; *c; c++)
            if (*c == '\t')
                buf_adds(&t, "  ");
            else
                buf_addc(&t, *c);
        add_block(b, t.data ? t.data : "", t.len, indent);
        buf_release(&t);
    }
    else
        add_block(b, s, n, indent);
    if (p)
        cJSON_free(p);
    cJSON_Delete(j);
}

static int
dlq_show(struct dlq_args *a, struct config *cfg, struct rconn *rc)
{
    struct buf k, b;
    buf_init(&k, 0);
    buf_init(&b, 0);
    bmq_job_key(&k, cfg->prefix, a->queue, a->job_id, strlen(a->job_id));
    rconn_appendf(rc, "HGETALL %b", k.data, k.len);
    buf_reset(&k);
    bmq_key(&k, cfg->prefix, a->queue, "failed");
    rconn_appendf(rc, "ZSCORE %b %s", k.data, k.len, a->job_id);
    redisReply *h = rconn_reply(rc);
    redisReply *score = h ? rconn_reply(rc) : NULL;
    int rcode = EXIT_OK;
    if (!h || !score) {
        fprintf(stderr, "bullwatch dlq show: redis %s: %s\n", cfg->endpoint_name,
                rconn_errstr(rc));
        rcode = EXIT_RUNTIME;
        goto out;
    }
    if (h->type != REDIS_REPLY_ARRAY || h->elements == 0) {
        fprintf(stderr, "bullwatch dlq show: no job '%s' in queue '%s'%s\n",
                log_esc(a->job_id, strlen(a->job_id)), log_esc(a->queue, strlen(a->queue)),
                score->type == REDIS_REPLY_STRING ? " (it is in the failed set, but its hash is gone)"
                                                  : "");
        rcode = EXIT_RUNTIME;
        goto out;
    }
    const char *state = score->type == REDIS_REPLY_STRING ? "failed" : "not in the failed set";
    if (a->json) {
        buf_adds(&b, "{\"queue\":");
        buf_add_json_str(&b, a->queue, strlen(a->queue));
        buf_adds(&b, ",\"id\":");
        buf_add_json_str(&b, a->job_id, strlen(a->job_id));
        buf_addf(&b, ",\"dead\":%s,\"fields\":{", score->type == REDIS_REPLY_STRING ? "true" : "false");
        for (size_t i = 0; i + 1 < h->elements; i += 2) {
            if (i)
                buf_addc(&b, ',');
            buf_add_json_str(&b, h->element[i]->str, h->element[i]->len);
            buf_addc(&b, ':');
            buf_add_json_str(&b, h->element[i + 1]->str, h->element[i + 1]->len);
        }
        buf_adds(&b, "}}\n");
    } else {
        buf_addf(&b, "job %s of queue %s: %s\n", log_esc(a->job_id, strlen(a->job_id)),
                 log_esc(a->queue, strlen(a->queue)), state);
        static const char *const order[] = {"name", "timestamp", "processedOn", "finishedOn",
                                            "atm", "ats", "stc", "pb", "failedReason", "opts",
                                            "data", "stacktrace", NULL};
        for (int o = 0; order[o]; o++) {
            for (size_t i = 0; i + 1 < h->elements; i += 2) {
                redisReply *fk = h->element[i], *fv = h->element[i + 1];
                if (strcmp(fk->str, order[o]) != 0)
                    continue;
                int64_t ms;
                if ((!strcmp(order[o], "timestamp") || !strcmp(order[o], "processedOn") ||
                     !strcmp(order[o], "finishedOn")) && parse_int64(fv->str, &ms) == 0) {
                    char when[32];
                    fmt_time(ms, when, sizeof when);
                    buf_addf(&b, "%-13s %s (%lld)\n", order[o], when, (long long)ms);
                } else if (!strcmp(order[o], "opts") || !strcmp(order[o], "data")) {
                    buf_addf(&b, "%s:\n", order[o]);
                    add_json_block(&b, fv->str, fv->len, "  ");
                } else if (!strcmp(order[o], "stacktrace")) {
                    cJSON *st = cJSON_ParseWithLength(fv->str, fv->len);
                    int n = cJSON_IsArray(st) ? cJSON_GetArraySize(st) : 0;
                    buf_addf(&b, "stacktrace (%d attempt%s):\n", n, n == 1 ? "" : "s");
                    for (int t = 0; t < n; t++) {
                        cJSON *e = cJSON_GetArrayItem(st, t);
                        if (!cJSON_IsString(e))
                            continue;
                        buf_addf(&b, "  [%d]\n", t + 1);
                        add_block(&b, e->valuestring, strlen(e->valuestring), "    ");
                    }
                    cJSON_Delete(st);
                } else {
                    struct buf e;
                    buf_init(&e, 0);
                    buf_add_escaped(&e, fv->str, fv->len);
                    buf_addf(&b, "%-13s %s\n", order[o], e.data ? e.data : "");
                    buf_release(&e);
                }
            }
        }
    }
    fwrite(b.data, 1, b.len, stdout);
out:
    if (h)
        freeReplyObject(h);
    if (score)
        freeReplyObject(score);
    buf_release(&k);
    buf_release(&b);
    return rcode;
}

/* ---- replay ---- */

struct sel {
    char **ids;
    struct dlq_wrapper *wrappers; /* DLQ-queue mode: owned copies, parallel to ids */
    int n, cap;
    struct sigc {
        char sig[SIGNATURE_ID_LEN + 1];
        char *sample; /* one reason of this signature */
        int64_t n;
    } *sigs;
    int nsigs;
};

static bool
sel_add(const struct dlq_job *j, void *ud)
{
    struct sel *s = ud;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->ids = xrealloc(s->ids, sizeof *s->ids * (size_t)s->cap);
        s->wrappers = xrealloc(s->wrappers, sizeof *s->wrappers * (size_t)s->cap);
    }
    struct dlq_wrapper *w = &s->wrappers[s->n];
    memset(w, 0, sizeof *w);
    if (j->wrapper) {
        w->queue = xstrdup(j->wrapper->queue);
        w->id = j->wrapper->id ? xstrdup(j->wrapper->id) : NULL;
        w->name = xstrdup(j->wrapper->name);
        w->data = xstrdup(j->wrapper->data);
        w->opts = xstrdup(j->wrapper->opts);
    }
    s->ids[s->n++] = xmemdup(j->id, j->id_len);
    int k = 0;
    while (k < s->nsigs && strcmp(s->sigs[k].sig, j->signature) != 0)
        k++;
    if (k == s->nsigs) {
        s->sigs = xrealloc(s->sigs, sizeof *s->sigs * (size_t)(s->nsigs + 1));
        memcpy(s->sigs[k].sig, j->signature, sizeof s->sigs[k].sig);
        s->sigs[k].sample = j->reason ? xmemdup(j->reason, j->reason_len > 120 ? 120 : j->reason_len)
                                      : xstrdup("");
        s->sigs[k].n = 0;
        s->nsigs++;
    }
    s->sigs[k].n++;
    return true;
}

static void
sel_release(struct sel *s)
{
    /* range mode counts the selection without listing it */
    for (int i = 0; s->ids && i < s->n; i++) {
        free(s->ids[i]);
        dlq_wrapper_release(&s->wrappers[i]);
    }
    free(s->wrappers);
    for (int i = 0; i < s->nsigs; i++)
        free(s->sigs[i].sample);
    free(s->ids);
    free(s->sigs);
}

static void
selection_json(const struct dlq_args *a, struct buf *b)
{
    buf_adds(b, "{");
    if (a->nids) {
        buf_adds(b, "\"ids\":[");
        for (int i = 0; i < a->nids; i++) {
            if (i)
                buf_addc(b, ',');
            buf_add_json_str(b, a->ids[i], strlen(a->ids[i]));
        }
        buf_adds(b, "]");
    } else {
        buf_addf(b, "\"all\":%s", a->all ? "true" : "false");
        const char *k[] = {"name", "failed_reason", "signature"};
        const char *v[] = {a->f.name, a->f.reason, a->f.signature};
        for (int i = 0; i < 3; i++)
            if (v[i]) {
                buf_addf(b, ",\"%s\":", k[i]);
                buf_add_json_str(b, v[i], strlen(v[i]));
            }
        if (a->f.since)
            buf_addf(b, ",\"since\":%lld", (long long)a->f.since);
        if (a->f.until)
            buf_addf(b, ",\"until\":%lld", (long long)a->f.until);
        if (a->f.limit)
            buf_addf(b, ",\"limit\":%lld", (long long)a->f.limit);
    }
    buf_adds(b, "}");
}

static int
confirm_typed(const char *verb, const char *queue, int64_t n, int64_t snapshot)
{
    char when[32], line[64];
    fmt_time(snapshot, when, sizeof when);
    fprintf(stderr, "%s %lld dead job%s of queue '%s' (selection frozen at %s).\n"
                    "Type %lld to confirm, anything else cancels: ",
            verb, (long long)n, n == 1 ? "" : "s", log_esc(queue, strlen(queue)), when, (long long)n);
    fflush(stderr);
    if (!fgets(line, sizeof line, stdin))
        return -1;
    line[strcspn(line, "\r\n")] = '\0';
    int64_t typed;
    return parse_int64(line, &typed) == 0 && typed == n ? 0 : -1;
}

static void
sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

struct verb {
    const char *name;   /* replay */
    const char *title;  /* Replay */
    const char *past;   /* replayed */
    const char *script; /* lua/replay */
};
static const struct verb verbs[] = {
    {"replay", "Replay", "replayed", "lua/replay"},
    {"purge", "Purge", "purged", "lua/purge"},
};

static const char *
skip_reason(int status, bool wrapper)
{
    if (wrapper && status == -3)
        return "no longer waiting in the dead-letter queue";
    switch (status) {
    case -1:
        return "job hash is gone";
    case -2:
        return "locked by a worker";
    case -3:
        return "no longer in the failed set";
    case -8:
        return "current job of a job scheduler";
    default:
        return "refused";
    }
}

static int
dlq_act(struct dlq_args *a, struct config *cfg, struct rconn *rc, const struct verb *vb)
{
    char err[512];
    struct sel s = {0};
    struct buf b;
    int code = EXIT_OK;
    struct store *st = NULL;
    int64_t action = -1;
    buf_init(&b, 0);
    if (a->read_only || cfg->read_only) {
        fprintf(stderr, "bullwatch dlq %s: refused: read-only (%s)\n", vb->name,
                a->read_only ? "--read-only" : "read_only = true in the config");
        return EXIT_USAGE;
    }
    /* freeze the selection: jobs that die after this instant are left alone */
    int64_t snapshot = a->snapshot ? a->snapshot : now_ms();
    bool wrappers = queue_is_dlq(cfg, a->queue);
    /* wrapper jobs wait in the dead-letter queue: a purge removes them
     * there, a replay re-adds the original to its own queue */
    const char *script = wrappers && vb == &verbs[1] ? "lua/purgewait" : vb->script;
    bool readd = wrappers && vb == &verbs[0];
    /* --all or a time window over the failed set, unpaced: the script takes
     * the oldest jobs of the window itself, so no id list is read first */
    bool range = !wrappers && !a->nids && !a->dry_run && !a->f.name && !a->f.reason &&
                 !a->f.signature && !a->f.limit && a->rate <= 0 && a->refail_pct <= 0;
    char rmin[24] = "-inf", rmax[24];
    if (a->f.since)
        snprintf(rmin, sizeof rmin, "%lld", (long long)a->f.since);
    snprintf(rmax, sizeof rmax, "(%lld",
             (long long)(a->f.until && a->f.until < snapshot + 1 ? a->f.until : snapshot + 1));
    if (wrappers && a->nids) {
        fprintf(stderr, "bullwatch dlq %s: select wrapper jobs of a dead-letter queue with --all or "
                        "filters\n", vb->name);
        return EXIT_USAGE;
    }
    if (wrappers) {
        struct dlq_filter f = a->f;
        if (dlq_select_wrappers(rc, cfg->prefix, a->queue, &f, sel_add, &s, NULL, err,
                                sizeof err) < 0) {
            fprintf(stderr, "bullwatch dlq %s: redis %s: %s\n", vb->name, cfg->endpoint_name, err);
            code = EXIT_RUNTIME;
            goto out;
        }
    } else if (a->nids) {
        for (int i = 0; i < a->nids; i++) {
            struct dlq_job j;
            memset(&j, 0, sizeof j);
            j.id = a->ids[i];
            j.id_len = strlen(a->ids[i]);
            snprintf(j.signature, sizeof j.signature, "-");
            sel_add(&j, &s);
        }
    } else if (range) {
        /* the frozen selection is the window itself: count it now, and let
         * the script take the jobs from the failed set batch by batch */
        struct buf fk;
        buf_init(&fk, 0);
        bmq_key(&fk, cfg->prefix, a->queue, "failed");
        redisReply *r = rconn_cmdf(rc, "ZCOUNT %b %s %s", fk.data, fk.len, rmin, rmax);
        buf_release(&fk);
        if (!r || r->type != REDIS_REPLY_INTEGER) {
            fprintf(stderr, "bullwatch dlq %s: redis %s: counting the failed set failed: %s\n",
                    vb->name, cfg->endpoint_name,
                    r && r->type == REDIS_REPLY_ERROR ? r->str : rconn_errstr(rc));
            if (r)
                freeReplyObject(r);
            code = EXIT_RUNTIME;
            goto out;
        }
        s.n = (int)r->integer;
        freeReplyObject(r);
    } else {
        struct dlq_filter f = a->f;
        if (!f.until || f.until > snapshot + 1)
            f.until = snapshot + 1;
        f.ids_only = !a->dry_run; /* the dry run shows reasons and signatures */
        if (dlq_select(rc, cfg->prefix, a->queue, &f, sel_add, &s, NULL, err, sizeof err) < 0) {
            fprintf(stderr, "bullwatch dlq %s: redis %s: %s\n", vb->name, cfg->endpoint_name, err);
            code = EXIT_RUNTIME;
            goto out;
        }
    }
    if (a->dry_run) {
        if (a->json) {
            buf_adds(&b, "{\"dry_run\":true,\"queue\":");
            buf_add_json_str(&b, a->queue, strlen(a->queue));
            buf_addf(&b, ",\"snapshot_at\":%lld,\"count\":%d,\"sample\":[", (long long)snapshot, s.n);
            for (int i = 0; i < s.n && i < 10; i++) {
                if (i)
                    buf_addc(&b, ',');
                buf_add_json_str(&b, s.ids[i], strlen(s.ids[i]));
            }
            buf_adds(&b, "],\"by_signature\":[");
            for (int i = 0; i < s.nsigs; i++) {
                buf_addf(&b, "%s{\"signature\":\"%s\",\"count\":%lld,\"sample_reason\":", i ? "," : "",
                         s.sigs[i].sig, (long long)s.sigs[i].n);
                buf_add_json_str(&b, s.sigs[i].sample, strlen(s.sigs[i].sample));
                buf_adds(&b, "}");
            }
            buf_adds(&b, "]}\n");
        } else {
            buf_addf(&b, "dry run: %d dead job%s of '%s' would be %s\n", s.n, s.n == 1 ? "" : "s",
                     log_esc(a->queue, strlen(a->queue)), vb->past);
            buf_adds(&b, "sample:");
            for (int i = 0; i < s.n && i < 10; i++)
                buf_addf(&b, " %s", log_esc(s.ids[i], strlen(s.ids[i])));
            buf_adds(&b, s.n > 10 ? " ...\nby signature:\n" : "\nby signature:\n");
            for (int i = 0; i < s.nsigs; i++)
                buf_addf(&b, "  %8lld  %s  %s\n", (long long)s.sigs[i].n, s.sigs[i].sig,
                         log_esc(s.sigs[i].sample, strlen(s.sigs[i].sample)));
            buf_addf(&b, "to act on exactly this selection, run the same command without "
                         "--dry-run and with --snapshot %lld\n",
                     (long long)snapshot);
        }
        fwrite(b.data, 1, b.len, stdout);
        goto out;
    }
    if (s.n == 0) {
        printf("nothing to %s in '%s'\n", vb->name, log_esc(a->queue, strlen(a->queue)));
        goto out;
    }
    /* bulk actions, and every purge, are confirmed */
    bool confirm = s.n > 1 || a->all || a->filtered || vb == &verbs[1];
    if (confirm && !a->yes) {
        if (!isatty(0)) {
            fprintf(stderr, "bullwatch dlq %s: %s %d job%s needs --yes when not run from a "
                            "terminal (try --dry-run first)\n",
                    vb->name, vb->name, s.n, s.n == 1 ? "" : "s");
            code = EXIT_USAGE;
            goto out;
        }
        if (confirm_typed(vb->title, a->queue, s.n, snapshot) != 0) {
            fprintf(stderr, "cancelled; nothing was changed\n");
            code = EXIT_USAGE;
            goto out;
        }
    }
    /* the intent row comes before any change in Redis */
    st = store_open(cfg->store_path, false, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bullwatch dlq %s: %s; refusing to act without an audit record\n",
                vb->name, err);
        code = EXIT_RUNTIME;
        goto out;
    }
    audit_mark_interrupted(st);
    {
        struct buf sel, opt;
        buf_init(&sel, 0);
        buf_init(&opt, 0);
        selection_json(a, &sel);
        buf_addf(&opt, "{\"keep_attempts\":%s,\"rate\":%g}", a->keep_attempts ? "true" : "false",
                 a->rate);
        struct audit_intent in = {cfg->endpoint_name, a->queue, vb->name, a->why, sel.data,
                                  opt.data, snapshot, s.n};
        action = audit_begin(st, &in);
        buf_release(&sel);
        buf_release(&opt);
    }
    if (action >= 0 && getenv("BULLWATCH_TEST_DIE_AFTER_INTENT"))
        raise(SIGKILL); /* tests: the intent row must survive a crash right here */
    if (action < 0) {
        fprintf(stderr, "bullwatch dlq %s: cannot write the audit record; nothing was changed\n",
                vb->name);
        code = EXIT_RUNTIME;
        goto out;
    }
    bool v5 = dlq_fleet_is_v5(rc, cfg->prefix, a->queue);
    /* about 1.2-1.5 ms of Redis time a call (measured on 100k jobs), within
     * the 5 ms budget: a purge deletes a job's keys, a replay moves it */
    int batch = vb == &verbs[1] || readd ? 100 : 200;
    if (a->rate > 0 && a->rate < batch)
        batch = a->rate < 1 ? 1 : (int)a->rate;
    int64_t done = 0, skipped = 0;
    int *status = xcalloc((size_t)batch, sizeof *status);
    /* failed-set actions are pipelined: batch k+1 is on its way to Redis
     * while the audit rows of batch k are written */
    bool piped = !readd && a->rate <= 0 && a->refail_pct <= 0;
    /* --stop-if-refail: the last REFAIL_RING replayed jobs are watched in
     * the failed set of the queue they were replayed into */
#define REFAIL_RING 2000
    struct watched {
        char *failed_key, *id;
    } *ring = a->refail_pct > 0 ? xcalloc(REFAIL_RING, sizeof *ring) : NULL;
    int64_t ringn = 0, refailed = 0;
    bool breaker = false;
    if (!readd && dlq_script_load(rc, script, err, sizeof err) != 0) {
        fprintf(stderr, "bullwatch dlq %s: redis %s: %s\n", vb->name, cfg->endpoint_name, err);
        audit_finish(st, action, "failed", 0, 0, -1);
        free(status);
        code = EXIT_RUNTIME;
        goto out;
    }
    if (range)
        dlq_script_send_range(rc, script, cfg->prefix, a->queue, v5, !a->keep_attempts, rmin, rmax,
                              0, batch);
    else if (piped)
        dlq_script_send(rc, script, cfg->prefix, a->queue, v5, !a->keep_attempts,
                        (const char *const *)s.ids, s.n < batch ? s.n : batch);
    bool progress = isatty(2) && !a->json && s.n > batch;
    int64_t t0 = mono_ms();
    int64_t offset = 0; /* range mode: jobs of the window left in the set */
    const char **ids = xcalloc((size_t)batch, sizeof *ids);
    redisReply *rr = NULL;
    bool last = false; /* range mode: no further call was sent */
    buf_adds(&b, "");
    for (int i = 0, n = 0; i < s.n; i += n) {
        n = s.n - i < batch ? s.n - i : batch;
        char (*new_ids)[32] = NULL;
        if (range) {
            int left;
            rr = dlq_script_recv_range(rc, script, &n, &left, err, sizeof err);
            if (!rr) {
                fprintf(stderr, "\nbullwatch dlq %s: redis %s: %s; stopped after %lld %s\n",
                        vb->name, cfg->endpoint_name, err, (long long)done, vb->past);
                code = EXIT_PARTIAL;
                break;
            }
            if (n == 0)
                break; /* the window is empty: jobs removed meanwhile */
            offset += left;
            for (int k = 0; k < n; k++) {
                ids[k] = rr->element[0]->element[k]->str;
                status[k] = (int)rr->element[1]->element[k]->integer;
            }
            last = !(n == batch && i + n < s.n);
            if (!last)
                dlq_script_send_range(rc, script, cfg->prefix, a->queue, v5, !a->keep_attempts,
                                      rmin, rmax, offset, s.n - i - n < batch ? s.n - i - n : batch);
        } else {
            for (int k = 0; k < n; k++)
                ids[k] = s.ids[i + k];
        }
        if (readd) {
            /* one script call per original queue within the batch */
            new_ids = xcalloc((size_t)n, sizeof *new_ids);
            bool failed = false, handled[100] = {false};
            for (int k = 0; k < n && !failed; k++) {
                if (handled[k])
                    continue;
                const char *oq = s.wrappers[i + k].queue;
                struct dlq_wrapper *ws[100];
                const char *wid[100];
                int idx[100], m = 0, st2[100];
                char nid[100][32];
                for (int t = k; t < n; t++)
                    if (!handled[t] && strcmp(s.wrappers[i + t].queue, oq) == 0) {
                        ws[m] = &s.wrappers[i + t];
                        wid[m] = ids[t];
                        idx[m++] = t;
                        handled[t] = true;
                    }
                bool ov5 = dlq_fleet_is_v5(rc, cfg->prefix, oq);
                if (dlq_readd_batch(rc, cfg->prefix, a->queue, oq, ov5, ws, wid, m, st2, nid, err,
                                    sizeof err) != 0) {
                    failed = true;
                    break;
                }
                for (int t = 0; t < m; t++) {
                    status[idx[t]] = st2[t];
                    snprintf(new_ids[idx[t]], 32, "%s", nid[t]);
                }
            }
            if (failed) {
                fprintf(stderr, "\nbullwatch dlq %s: redis %s: %s; stopped after %lld %s\n",
                        vb->name, cfg->endpoint_name, err, (long long)done, vb->past);
                free(new_ids);
                code = EXIT_PARTIAL;
                break;
            }
        } else if (range) {
            /* statuses came with the ids */
        } else if (piped ? dlq_script_recv(rc, script, n, status, err, sizeof err) != 0
                         : dlq_script_batch(rc, script, cfg->prefix, a->queue, v5,
                                            !a->keep_attempts, (const char *const *)s.ids + i, n,
                                            status, err, sizeof err) != 0) {
            fprintf(stderr, "\nbullwatch dlq %s: redis %s: %s; stopped after %lld %s\n", vb->name,
                    cfg->endpoint_name, err, (long long)done, vb->past);
            code = EXIT_PARTIAL;
            break;
        }
        if (piped && !range && i + n < s.n)
            dlq_script_send(rc, script, cfg->prefix, a->queue, v5, !a->keep_attempts,
                            (const char *const *)s.ids + i + n,
                            s.n - i - n < batch ? s.n - i - n : batch);
        (void)store_begin(st);
        for (int k = 0; k < n; k++) {
            char as[320];
            const char *why = status[k] == 1 ? NULL : skip_reason(status[k], wrappers);
            if (status[k] == 1 && new_ids) {
                snprintf(as, sizeof as, "re-added to %s as job %s", s.wrappers[i + k].queue,
                         new_ids[k]);
                why = as;
            }
            const char *tq = NULL, *tid = NULL;
            if (status[k] == 1 && vb == &verbs[0]) {
                tq = new_ids ? s.wrappers[i + k].queue : a->queue;
                tid = new_ids ? new_ids[k] : ids[k];
            }
            audit_job(st, action, ids[k], status[k] == 1 ? vb->past : "skipped", why, tq,
                      tid);
            if (status[k] == 1) {
                done++;
            } else {
                skipped++;
                if (!a->json)
                    fprintf(stderr, "%sskipped %s: %s\n", progress ? "\n" : "",
                            log_esc(ids[k], strlen(ids[k])), why);
            }
        }
        (void)store_commit(st);
        if (ring) {
            for (int k = 0; k < n; k++) {
                if (status[k] != 1)
                    continue;
                struct watched *w = &ring[ringn++ % REFAIL_RING];
                free(w->failed_key);
                free(w->id);
                struct buf fk;
                buf_init(&fk, 0);
                bmq_key(&fk, cfg->prefix, new_ids ? s.wrappers[i + k].queue : a->queue, "failed");
                w->failed_key = buf_detach(&fk, NULL);
                w->id = xstrdup(new_ids ? new_ids[k] : ids[k]);
            }
            /* which of the watched jobs died again since the snapshot */
            int64_t m = ringn < REFAIL_RING ? ringn : REFAIL_RING;
            for (int64_t t = 0; t < m; t++)
                if (ring[t].id)
                    rconn_appendf(rc, "ZSCORE %s %s", ring[t].failed_key, ring[t].id);
            for (int64_t t = 0; t < m; t++) {
                if (!ring[t].id)
                    continue;
                redisReply *r = rconn_reply(rc);
                if (!r)
                    break;
                if (r->type == REDIS_REPLY_STRING && strtod(r->str, NULL) > (double)snapshot) {
                    refailed++;
                    free(ring[t].id); /* counted once */
                    ring[t].id = NULL;
                }
                freeReplyObject(r);
            }
            if (done >= 20 && (double)refailed * 100.0 >= a->refail_pct * (double)done) {
                fprintf(stderr, "%sbullwatch dlq %s: stopped: %lld of %lld replayed jobs failed "
                                "again (--stop-if-refail %g%%)\n",
                        progress ? "\n" : "", vb->name, (long long)refailed, (long long)done,
                        a->refail_pct);
                breaker = true;
                free(new_ids);
                break;
            }
        }
        free(new_ids);
        if (rr) {
            freeReplyObject(rr);
            rr = NULL;
        }
        if (progress)
            fprintf(stderr, "\r%s %lld/%d", vb->past, (long long)done, s.n);
        if (last)
            break;
        if (a->rate > 0 && i + n < s.n) {
            double due = (double)(i + n) / a->rate, spent = (double)(mono_ms() - t0) / 1000.0;
            if (due > spent)
                sleep_s(due - spent);
        }
    }
    if (rr)
        freeReplyObject(rr);
    free(ids);
    free(status);
    for (int t = 0; ring && t < REFAIL_RING; t++) {
        free(ring[t].failed_key);
        free(ring[t].id);
    }
    free(ring);
    if (progress)
        fputc('\n', stderr);
    int64_t left = -1;
    {
        struct buf k;
        buf_init(&k, 0);
        bmq_key(&k, cfg->prefix, a->queue, "failed");
        redisReply *r = rconn_cmdf(rc, "ZCOUNT %b %lld +inf", k.data, k.len, (long long)(snapshot + 1));
        if (r && r->type == REDIS_REPLY_INTEGER)
            left = r->integer;
        if (r)
            freeReplyObject(r);
        buf_release(&k);
    }
    if (code == EXIT_OK && (skipped || breaker))
        code = EXIT_PARTIAL;
    audit_finish(st, action, breaker ? "stopped" : code == EXIT_OK ? "done" : "partial", done,
                 skipped, left);
    if (a->json) {
        buf_addf(&b, "{\"action\":%lld,\"queue\":", (long long)action);
        buf_add_json_str(&b, a->queue, strlen(a->queue));
        buf_addf(&b, ",\"verb\":\"%s\",\"frozen\":%d,\"%s\":%lld,\"skipped\":%lld,"
                     "\"left_alone\":%lld,\"fleet\":\"%s\"}\n",
                 vb->name, s.n, vb->past, (long long)done, (long long)skipped, (long long)left,
                 v5 ? "5.x" : "6.x");
    } else {
        buf_addf(&b, "%s %lld of %d dead job%s of '%s' (action %lld)", vb->past, (long long)done,
                 s.n, s.n == 1 ? "" : "s", log_esc(a->queue, strlen(a->queue)), (long long)action);
        if (skipped)
            buf_addf(&b, ", %lld skipped", (long long)skipped);
        if (left > 0)
            buf_addf(&b, "; %lld newer dead job%s arrived after the snapshot and were left alone",
                     (long long)left, left == 1 ? "" : "s");
        buf_adds(&b, "\n");
    }
    fwrite(b.data, 1, b.len, stdout);
out:
    store_close(st);
    sel_release(&s);
    buf_release(&b);
    return code;
}

int
cmd_dlq(int argc, char **argv)
{
    struct dlq_args a;
    struct config cfg;
    if (argc < 2) {
        dlq_usage();
        return EXIT_USAGE;
    }
    const char *verb = argv[1];
    bool show = !strcmp(verb, "show");
    const struct verb *act = !strcmp(verb, "replay") ? &verbs[0]
                             : !strcmp(verb, "purge") ? &verbs[1]
                                                      : NULL;
    bool replay = act != NULL;
    if (!show && !replay && strcmp(verb, "list") != 0) {
        fprintf(stderr, "bullwatch dlq: unknown action '%s'\n", verb);
        dlq_usage();
        return EXIT_USAGE;
    }
    if (parse_args(argc, argv, show, replay, &a) != 0) {
        free(a.ids);
        return EXIT_USAGE;
    }
    if (cmd_load_config(&cfg, a.config) != 0) {
        config_release(&cfg);
        return EXIT_USAGE;
    }
    log_set_level(LOG_ERROR);
    struct rconn *rc = rconn_new(&cfg.ep, cfg.endpoint_name, "dlq", cfg.connect_timeout_ms);
    int code;
    if (rconn_connect_now(rc) != 0) {
        fprintf(stderr, "bullwatch dlq: redis %s: %s\n", cfg.endpoint_name, rconn_errstr(rc));
        code = EXIT_RUNTIME;
    } else {
        code = show ? dlq_show(&a, &cfg, rc) : act ? dlq_act(&a, &cfg, rc, act) : dlq_list(&a, &cfg, rc);
    }
    rconn_free(rc);
    config_release(&cfg);
    free(a.ids);
    return code;
}
