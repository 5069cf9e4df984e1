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
#include <sys/ioctl.h>
#include <unistd.h>

#include "audit.h"
#include "bmq.h"
#include "buf.h"
#include "dlq.h"
#include "dlq_act.h"
#include "jobdata.h"
#include "log.h"
#include "opts.h"
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
    const char *why; /* --comment of a mutation: the audit comment */
};

static void
dlq_usage(void)
{
    fputs("usage: bullwatch dlq list QUEUE [filters] [--json] [-c FILE]\n"
          "       bullwatch dlq show QUEUE JOB_ID [--json] [-c FILE]\n"
          "       bullwatch dlq replay QUEUE (JOB_ID... | --all | filters) [--dry-run]\n"
          "                 [--rate N] [--stop-if-refail PCT] [--yes] [--comment WHY]\n"
          "                 [--keep-attempts] [--read-only]\n"
          "                 [--snapshot MS] [--json] [-c FILE]\n"
          "       bullwatch dlq purge QUEUE (JOB_ID... | --all | filters) [--dry-run] [--yes]\n"
          "                 [--comment WHY] [--read-only] [--snapshot MS] [--json] [-c FILE]\n"
          "  filters: --name N, --failed-reason TEXT, --signature ID, --since T, --until T,\n"
          "           --limit N (dlq list also takes --reason TEXT for --failed-reason)\n",
          stderr);
}

enum {
    O_JSON, O_ALL, O_DRY_RUN, O_YES, O_KEEP_ATTEMPTS, O_READ_ONLY, O_NAME, O_REASON,
    O_FAILED_REASON, O_SNAPSHOT, O_STOP_IF_REFAIL, O_RATE, O_SIGNATURE, O_SINCE, O_UNTIL, O_LIMIT,
    O_COMMENT,
};

static const struct opt list_opts[] = {
    {"json", false, O_JSON},           {"name", true, O_NAME},
    {"reason", true, O_REASON},        {"failed-reason", true, O_FAILED_REASON},
    {"signature", true, O_SIGNATURE},  {"since", true, O_SINCE},
    {"until", true, O_UNTIL},          {"limit", true, O_LIMIT},
    {NULL, false, 0},
};

static const struct opt act_opts[] = {
    {"json", false, O_JSON},           {"all", false, O_ALL},
    {"dry-run", false, O_DRY_RUN},     {"yes", false, O_YES},
    {"keep-attempts", false, O_KEEP_ATTEMPTS}, {"read-only", false, O_READ_ONLY},
    {"name", true, O_NAME},            {"reason", true, O_REASON},
    {"failed-reason", true, O_FAILED_REASON}, {"snapshot", true, O_SNAPSHOT},
    {"stop-if-refail", true, O_STOP_IF_REFAIL}, {"rate", true, O_RATE},
    {"signature", true, O_SIGNATURE},  {"since", true, O_SINCE},
    {"until", true, O_UNTIL},          {"limit", true, O_LIMIT},
    {"comment", true, O_COMMENT},
    {NULL, false, 0},
};

/* One option of dlq list|show|replay|purge. */
static int
on_opt(void *ud, int id, const char *v)
{
    struct dlq_args *a = ud;
    char *end;
    int64_t t;
    switch (id) {
    case O_JSON: a->json = true; return 0;
    case O_ALL: a->all = true; return 0;
    case O_DRY_RUN: a->dry_run = true; return 0;
    case O_YES: a->yes = true; return 0;
    case O_KEEP_ATTEMPTS: a->keep_attempts = true; return 0;
    case O_READ_ONLY: a->read_only = true; return 0;
    case O_NAME: a->f.name = v; return 0;
    case O_SIGNATURE: a->f.signature = v; return 0;
    case O_FAILED_REASON: a->f.reason = v; return 0;
    case O_REASON:
        /* It once meant the audit comment here and the filter in list: a
         * list command line edited into a replay would have widened the
         * selection to every death. Refused, naming the two flags. */
        if (a->mutating) {
            fprintf(stderr, "bullwatch dlq: --reason is refused in replay and purge: filter by the "
                            "failure reason with --failed-reason TEXT, give the audit comment with "
                            "--comment TEXT\n");
            return -1;
        }
        a->f.reason = v;
        return 0;
    case O_COMMENT:
        a->why = v;
        return 0;
    case O_SNAPSHOT:
        if (parse_int64(v, &a->snapshot) != 0 || a->snapshot <= 0) {
            fprintf(stderr, "bullwatch dlq: bad --snapshot '%s': the ms a --dry-run printed\n", v);
            return -1;
        }
        return 0;
    case O_STOP_IF_REFAIL:
        a->refail_pct = strtod(v, &end);
        if (*end == '%')
            end++;
        if (*end || a->refail_pct <= 0 || a->refail_pct > 100) {
            fprintf(stderr, "bullwatch dlq: bad --stop-if-refail '%s': a percentage 1..100\n", v);
            return -1;
        }
        return 0;
    case O_RATE:
        a->rate = strtod(v, &end);
        if (*end || a->rate <= 0) {
            fprintf(stderr, "bullwatch dlq: bad --rate '%s': jobs per second\n", v);
            return -1;
        }
        return 0;
    case O_SINCE:
    case O_UNTIL:
        if (parse_time_ms(v, now_ms(), &t) != 0) {
            fprintf(stderr, "bullwatch dlq: bad --%s '%s': expected a duration (2h), epoch ms or "
                            "2026-11-23T10:00:00Z\n", id == O_SINCE ? "since" : "until", v);
            return -1;
        }
        *(id == O_SINCE ? &a->f.since : &a->f.until) = t;
        return 0;
    case O_LIMIT:
        if (parse_int64(v, &a->f.limit) != 0 || a->f.limit < 0) {
            fprintf(stderr, "bullwatch dlq: bad --limit '%s'\n", v);
            return -1;
        }
        return 0;
    }
    return 0;
}

static int
parse_args(int argc, char **argv, bool want_id, bool mutating, struct dlq_args *a)
{
    memset(a, 0, sizeof *a);
    a->mutating = mutating;
    a->f.limit = mutating ? 0 : 100;
    a->ids = xcalloc((size_t)argc, sizeof *a->ids);
    char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
    int npos = 0;
    /* argv[1] is the verb: it stands where getopt expects the program name */
    if (opts_parse("dlq", argc - 1, argv + 1, mutating ? act_opts : list_opts, on_opt, a,
                   &a->config, pos, &npos) != 0) {
        free(pos);
        return -1;
    }
    for (int i = 0; i < npos; i++) {
        const char *o = pos[i];
        if (!a->queue)
            a->queue = o;
        else if (want_id && !a->job_id)
            a->job_id = o;
        else if (mutating)
            a->ids[a->nids++] = o;
        else {
            fprintf(stderr, "bullwatch dlq: unexpected argument '%s'\n", o);
            free(pos);
            return -1;
        }
    }
    free(pos);
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
        buf_adds(b, c->n ? ",\n{\"job_id\":" : "\n{\"job_id\":");
        buf_add_json_str(b, j->id, j->id_len);
        buf_addf(b, ",\"finished_at\":%lld,\"name\":", (long long)j->finished_on);
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
            buf_adds(b, ",\"job_id\":");
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
        format_utc(j->finished_on, "%Y-%m-%dT%H:%M:%SZ", when, sizeof when);
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
        fprintf(stderr, "bullwatch dlq list: redis %s: %s\n", cfg->endpoint_addr, err);
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
        fprintf(stderr, "bullwatch dlq show: redis %s: %s\n", cfg->endpoint_addr,
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
        buf_adds(&b, ",\"job_id\":");
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
                    format_utc(ms, "%Y-%m-%dT%H:%M:%SZ", when, sizeof when);
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

/* ---- replay and purge (agent/dlq_act.c does the work) ---- */

static int
confirm_typed(const char *verb, const char *queue, int64_t n, int64_t snapshot)
{
    char when[32], line[64];
    format_utc(snapshot, "%Y-%m-%dT%H:%M:%SZ", when, sizeof when);
    FILE *tty = cmd_prompt_stream(); /* stderr, also under --json */
    fprintf(tty, "%s %lld dead job%s of queue '%s' (selection frozen at %s).\n"
                 "Type %lld to confirm, anything else cancels: ",
            verb, (long long)n, n == 1 ? "" : "s", log_esc(queue, strlen(queue)), when, (long long)n);
    fflush(tty);
    if (!fgets(line, sizeof line, stdin))
        return -1;
    line[strcspn(line, "\r\n")] = '\0';
    int64_t typed;
    return parse_int64(line, &typed) == 0 && typed == n ? 0 : -1;
}

struct cli_out {
    const char *verb;
    bool json, progress, mid_line;
    enum dlq_verb v;
    int64_t started, drawn; /* mono ms */
};

static void
cli_skipped(void *ud, const char *id, const char *why)
{
    struct cli_out *o = ud;
    if (!o->json)
        fprintf(stderr, "%sskipped %s: %s\n", o->mid_line ? "\n" : "", log_esc(id, strlen(id)), why);
    o->mid_line = false;
}

static void
cli_progress(void *ud, int64_t handled, int frozen)
{
    struct cli_out *o = ud;
    int64_t now = mono_ms();
    if (!o->progress || (now - o->drawn < 100 && handled < frozen))
        return; /* a terminal, ten times a second at most */
    o->drawn = now;
    struct winsize ws;
    int width = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col - 1 : 79;
    char line[256];
    dlq_progress_line(line, sizeof line, o->v, handled, frozen, now - o->started, width);
    fprintf(stderr, "\r\033[K%s", line);
    o->mid_line = true;
}

static void
cli_note(void *ud, const char *msg)
{
    struct cli_out *o = ud;
    fprintf(stderr, "%sbullwatch dlq %s: %s\n", o->mid_line ? "\n" : "", o->verb, msg);
    o->mid_line = false;
}

static void
on_stop(int sig)
{
    (void)sig;
    dlq_stop_requested = 1;
}

/* The library's result as the exit code documented in cmd.h. */
static int
exit_code(enum dlq_rc rc)
{
    switch (rc) {
    case DLQ_OK:
        return EXIT_OK;
    case DLQ_PARTIAL:
        return EXIT_PARTIAL;
    case DLQ_FAILED:
    case DLQ_STORE_FAILED:
        break;
    }
    return EXIT_RUNTIME;
}

static int
dlq_act(struct dlq_args *a, struct config *cfg, struct rconn *rc, enum dlq_verb verb)
{
    const struct dlq_verb_info *vb = dlq_verb_info(verb);
    char err[512];
    struct dlq_selection s;
    struct buf b;
    int code = EXIT_OK;
    if (a->read_only || cfg->read_only) {
        fprintf(stderr, "bullwatch dlq %s: refused: read-only (%s)\n", vb->name,
                a->read_only ? "--read-only" : "read_only = true in the config");
        return EXIT_USAGE;
    }
    struct dlq_request r = {verb,          a->queue,        (const char *const *)a->ids, a->nids,
                            a->all,        a->f,            a->keep_attempts,           a->rate,
                            a->refail_pct, a->snapshot,     a->why,                     NULL};
    int fr = dlq_freeze(cfg, rc, &r, a->dry_run, &s, err, sizeof err);
    if (fr != 0) {
        if (fr == -2)
            fprintf(stderr, "bullwatch dlq %s: %s\n", vb->name, err);
        else
            fprintf(stderr, "bullwatch dlq %s: redis %s: %s\n", vb->name, cfg->endpoint_addr, err);
        dlq_selection_release(&s);
        return fr == -2 ? EXIT_USAGE : EXIT_RUNTIME;
    }
    buf_init(&b, 0);
    if (a->dry_run) {
        if (a->json) {
            buf_adds(&b, "{\"dry_run\":true,\"queue\":");
            buf_add_json_str(&b, a->queue, strlen(a->queue));
            buf_addf(&b, ",\"snapshot_at\":%lld,\"count\":%d,\"sample_job_ids\":[", (long long)s.snapshot, s.n);
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
                     (long long)s.snapshot);
        }
        fwrite(b.data, 1, b.len, stdout);
        goto out;
    }
    if (s.n == 0) {
        printf("nothing to %s in '%s'\n", vb->name, log_esc(a->queue, strlen(a->queue)));
        goto out;
    }
    /* bulk actions, and every purge, are confirmed */
    bool confirm = s.n > 1 || a->all || a->filtered || verb == DLQ_PURGE;
    if (confirm && !a->yes) {
        if (!isatty(0)) {
            fprintf(stderr, "bullwatch dlq %s: %s %d job%s needs --yes when not run from a "
                            "terminal (try --dry-run first)\n",
                    vb->name, vb->name, s.n, s.n == 1 ? "" : "s");
            code = EXIT_USAGE;
            goto out;
        }
        if (confirm_typed(vb->title, a->queue, s.n, s.snapshot) != 0) {
            fprintf(stderr, "cancelled; nothing was changed\n");
            code = EXIT_USAGE;
            goto out;
        }
    }
    struct cli_out o = {vb->name, a->json, isatty(2) && !a->json && s.n > 200, false, verb,
                        mono_ms(), 0};
    struct dlq_callbacks cb = {cli_skipped, cli_progress, cli_note, &o};
    struct dlq_result res;
    /* Ctrl-C or SIGTERM: the calls on their way finish, are recorded, and
     * the action ends "stopped" (a second Ctrl-C kills as usual) */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    code = exit_code(dlq_execute(cfg, rc, &r, &s, &cb, &res));
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (o.mid_line)
        fputc('\n', stderr);
    if (res.action < 0)
        goto out;
    if (a->json) {
        buf_addf(&b, "{\"action_id\":%lld,\"queue\":", (long long)res.action);
        buf_add_json_str(&b, a->queue, strlen(a->queue));
        buf_addf(&b, ",\"verb\":\"%s\",\"frozen\":%d,\"%s\":%lld,\"skipped\":%lld,"
                     "\"left_alone\":%lld,\"fleet\":\"%s\"}\n",
                 vb->name, s.n, vb->past, (long long)res.done, (long long)res.skipped,
                 (long long)res.left, res.v5 ? "5.x" : "6.x");
    } else {
        buf_addf(&b, "%s %lld of %d dead job%s of '%s' (action %lld)", vb->past, (long long)res.done,
                 s.n, s.n == 1 ? "" : "s", log_esc(a->queue, strlen(a->queue)), (long long)res.action);
        if (res.skipped)
            buf_addf(&b, ", %lld skipped", (long long)res.skipped);
        if (res.left > 0)
            buf_addf(&b, "; %lld newer dead job%s arrived after the snapshot and were left alone",
                     (long long)res.left, res.left == 1 ? "" : "s");
        buf_adds(&b, "\n");
    }
    fwrite(b.data, 1, b.len, stdout);
out:
    dlq_selection_release(&s);
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
    bool is_replay = !strcmp(verb, "replay"), is_purge = !strcmp(verb, "purge");
    bool replay = is_replay || is_purge;
    if (!show && !replay && strcmp(verb, "list") != 0) {
        fprintf(stderr, "bullwatch dlq: unknown action '%s'\n", verb);
        dlq_usage();
        return EXIT_USAGE;
    }
    if (parse_args(argc, argv, show, replay, &a) != 0) {
        free(a.ids);
        return EXIT_USAGE;
    }
    if (cmd_load_config(&cfg, a.config) != 0 || cmd_one_endpoint(&cfg, "dlq") != 0) {
        config_release(&cfg);
        free(a.ids);
        return EXIT_USAGE;
    }
    log_set_level(LOG_ERROR);
    struct rconn *rc = rconn_new(&cfg.ep, cfg.endpoint_addr, "dlq", cfg.connect_timeout_ms);
    int code, qc;
    char qmsg[700];
    if (rconn_connect_now(rc) != 0) {
        fprintf(stderr, "bullwatch dlq: redis %s: %s\n", cfg.endpoint_addr, rconn_errstr(rc));
        code = EXIT_RUNTIME;
    } else if (!show && (qc = queue_check(rc, &cfg, a.queue, qmsg, sizeof qmsg)) <= 0) {
        /* an unknown queue is an error, not "0 dead": a typo must not look
         * like an empty dead-letter set */
        fprintf(stderr, "bullwatch dlq %s: %s\n", verb, qmsg);
        code = EXIT_RUNTIME;
    } else {
        code = show     ? dlq_show(&a, &cfg, rc)
               : replay ? dlq_act(&a, &cfg, rc, is_purge ? DLQ_PURGE : DLQ_REPLAY)
                        : dlq_list(&a, &cfg, rc);
    }
    rconn_free(rc);
    config_release(&cfg);
    free(a.ids);
    return code;
}
