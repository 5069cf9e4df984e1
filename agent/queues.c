/* queues: see queues.h */
#include "queues.h"

#include <stdlib.h>
#include <string.h>

#include "bmq.h"
#include "buf.h"
#include "log.h"
#include "util.h"
#include "xmem.h"

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
queue_list_release(struct queue_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = 0;
}

int
queue_list_find(const struct queue_list *l, const char *name)
{
    return sorted_find(l->names, l->n, sizeof *l->names, 0, name);
}

bool
queue_is_dlq(const struct config *cfg, const char *name)
{
    return glob_list_match(cfg->dlq, name, false);
}

/* Escape glob metacharacters of the prefix for SCAN MATCH. */
static void
add_glob_literal(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '*' || *s == '?' || *s == '[' || *s == ']' || *s == '\\')
            buf_addc(b, '\\');
        buf_addc(b, *s);
    }
}

int
queues_discover(struct rconn *rc, const struct config *cfg, struct queue_list *out)
{
    struct buf pat;
    char cursor[32] = "0";
    int cap = 0;
    int scans = 0;
    out->names = NULL;
    out->n = 0;
    buf_init(&pat, 0);
    add_glob_literal(&pat, cfg->prefix);
    buf_adds(&pat, ":*:meta");
    /* every node holds its own keys: a cluster is scanned master by master */
    for (int node = 0; node < rconn_nodes(rc); node++) {
        struct rconn *nl = rconn_node(rc, node);
        snprintf(cursor, sizeof cursor, "0");
        scans = 0;
        do {
            const char *argv[] = {"SCAN", cursor, "MATCH", pat.data, "COUNT", "1000"};
            redisReply *r = nl ? rconn_cmd(nl, 6, argv, NULL) : NULL;
            if (!r && nl && rconn_is_up(rc) && !rconn_is_up(nl))
                rconn_mark_down(rc, rconn_errstr(nl)); /* the whole cluster link reconnects */
            if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
                if (r) {
                    log_warn("redis %s: SCAN failed: %s", cfg->endpoint_addr,
                             r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
                    freeReplyObject(r);
                }
                buf_release(&pat);
                queue_list_release(out);
                return -1;
            }
            snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
            redisReply *keys = r->element[1];
            for (size_t i = 0; i < keys->elements; i++) {
                redisReply *k = keys->element[i];
                if (k->type != REDIS_REPLY_STRING)
                    continue;
                /* as long as the key: a name of any length is a queue (a fixed
                 * 512-byte buffer once skipped longer ones without a word) */
                char *name = xmalloc(k->len + 1);
                if (!bmq_queue_from_meta_key(cfg->prefix, k->str, k->len, name, k->len + 1) ||
                    !glob_list_match(cfg->include, name, false) ||
                    glob_list_match(cfg->exclude, name, false)) {
                    free(name);
                    continue;
                }
                if (out->n == cap) {
                    cap = cap ? cap * 2 : 16;
                    out->names = xrealloc(out->names, sizeof *out->names * (size_t)cap);
                }
                out->names[out->n++] = name;
            }
            freeReplyObject(r);
            /* bounded: a keyspace of 100M keys is 100k SCAN calls */
        } while (strcmp(cursor, "0") != 0 && ++scans < 1000000);
    }
    buf_release(&pat);
    if (out->n > 1) {
        qsort(out->names, (size_t)out->n, sizeof *out->names, cmp_str);
        int w = 1;
        for (int i = 1; i < out->n; i++) {
            if (strcmp(out->names[i], out->names[w - 1]) == 0)
                free(out->names[i]);
            else
                out->names[w++] = out->names[i];
        }
        out->n = w;
    }
    return 0;
}

int
queue_name_distance(const char *a, const char *b)
{
    size_t la = strnlen(a, 255), lb = strnlen(b, 255);
    int row[256];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

void
queue_closest(const struct queue_list *l, const char *name, char *out, size_t len)
{
    int best[3] = {-1, -1, -1}, bd[3] = {0, 0, 0};
    for (int i = 0; i < l->n; i++) {
        int d = queue_name_distance(name, l->names[i]);
        /* a name that contains what was typed (or is contained) is close */
        if (strstr(l->names[i], name) || strstr(name, l->names[i]))
            d = d > 1 ? 1 : d;
        /* ties go to the name that starts the same way ("payments-dlq"
         * before "emails" for "paymnets") */
        int common = 0;
        while (common < 255 && name[common] && name[common] == l->names[i][common])
            common++;
        d = d * 256 - common;
        for (int k = 0; k < 3; k++) {
            if (best[k] < 0 || d < bd[k]) {
                for (int m = 2; m > k; m--) {
                    best[m] = best[m - 1];
                    bd[m] = bd[m - 1];
                }
                best[k] = i;
                bd[k] = d;
                break;
            }
        }
    }
    struct buf b;
    buf_init(&b, len ? len - 1 : 0);
    for (int k = 0; k < 3 && best[k] >= 0; k++) {
        const char *n = l->names[best[k]];
        buf_addf(&b, "%s'%s'", k ? ", " : "", log_esc(n, strlen(n)));
    }
    snprintf(out, len, "%s", b.data ? b.data : "");
    buf_release(&b);
}

int
queue_check(struct rconn *rc, const struct config *cfg, const char *name, char *msg, size_t len)
{
    static const char *const parts[] = {"meta", "id",      "events",      "failed", "wait",
                                        "active", "paused", "prioritized", "delayed", "completed"};
    enum { NPARTS = sizeof parts / sizeof parts[0] };
    /* one EXISTS a key, pipelined: in a cluster the keys of a queue without
     * a hash tag live in different slots (a multi-key EXISTS is CROSSSLOT) */
    struct buf k;
    buf_init(&k, 0);
    for (int i = 0; i < NPARTS; i++) {
        buf_reset(&k);
        bmq_key(&k, cfg->prefix, name, parts[i]);
        rconn_appendf(rc, "EXISTS %b", k.data, k.len);
    }
    buf_release(&k);
    long long found = 0;
    bool failed = false;
    char why[200] = "";
    for (int i = 0; i < NPARTS; i++) { /* every reply is read: the pipeline stays in step */
        redisReply *r = rconn_reply(rc);
        if (!r) { /* the link is down: no more replies come */
            snprintf(why, sizeof why, "%s", rconn_errstr(rc));
            failed = true;
            break;
        }
        if (r->type == REDIS_REPLY_INTEGER) {
            found += r->integer;
        } else if (!failed) {
            snprintf(why, sizeof why, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            failed = true;
        }
        freeReplyObject(r);
    }
    if (failed) {
        snprintf(msg, len, "redis %s: %s", cfg->endpoint_addr, why);
        return -1;
    }
    if (found > 0)
        return 1;
    struct queue_list l;
    if (queues_discover(rc, cfg, &l) != 0) {
        snprintf(msg, len, "redis %s: %s", cfg->endpoint_addr, rconn_errstr(rc));
        return -1;
    }
    char near[400];
    queue_closest(&l, name, near, sizeof near);
    char qn[200], pn[100];
    snprintf(qn, sizeof qn, "%s", log_esc(name, strlen(name)));
    snprintf(pn, sizeof pn, "%s", log_esc(cfg->prefix, strlen(cfg->prefix)));
    if (near[0])
        snprintf(msg, len, "no queue '%s' under prefix '%s' on %s (closest: %s)", qn, pn,
                 cfg->endpoint_addr, near);
    else
        snprintf(msg, len, "no queue '%s' under prefix '%s' on %s (no queue there at all)", qn, pn,
                 cfg->endpoint_addr);
    queue_list_release(&l);
    return 0;
}

static int
other_prefixes(struct rconn *rc, const char *prefix, struct buf *out)
{
    char cursor[32] = "0";
    int found = 0;
    size_t plen = strlen(prefix);
    /* bounded: 200 SCAN calls of 1000 keys (a keyspace of 200k keys) */
    for (int scans = 0; scans < 200; scans++) {
        const char *argv[] = {"SCAN", cursor, "MATCH", "*:meta", "COUNT", "1000"};
        redisReply *r = rconn_cmd(rc, 6, argv, NULL);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            if (r)
                freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements && found < 10; i++) {
            const redisReply *k = r->element[1]->element[i];
            /* "<p>:<queue>:meta": p is what comes before the second to last ':' */
            if (k->type != REDIS_REPLY_STRING || k->len < 7)
                continue;
            size_t end = k->len - 5, cut = end;
            while (cut > 0 && k->str[cut - 1] != ':')
                cut--;
            if (cut < 2 || cut - 1 == end)
                continue;
            size_t pl = cut - 1;
            if ((pl == plen && !memcmp(k->str, prefix, pl)) || memchr(k->str, '\n', pl))
                continue;
            struct buf one;
            buf_init(&one, 0);
            buf_add(&one, k->str, pl);
            buf_addc(&one, '\0');
            bool dup = false; /* out is "a, b, c" */
            for (const char *p = out->data; p && *p && !dup;) {
                size_t n = strcspn(p, ",");
                dup = n == pl && !memcmp(p, one.data, pl);
                p += n;
                while (*p == ',' || *p == ' ')
                    p++;
            }
            if (!dup) {
                if (out->len)
                    buf_adds(out, ", ");
                buf_adds(out, log_esc(one.data, pl));
                found++;
            }
            buf_release(&one);
        }
        freeReplyObject(r);
        if (!strcmp(cursor, "0") || found >= 10)
            break;
    }
    return found;
}

void
queues_none_hint(struct rconn *rc, const char *prefix, char *out, size_t len)
{
    struct buf o;
    buf_init(&o, 0);
    int n = other_prefixes(rc, prefix, &o);
    snprintf(out, len,
             "no queue found under prefix '%s'%s%s%s; BullMQ 6 fleets that keep their queues in "
             "PostgreSQL are not watched",
             log_esc(prefix, strlen(prefix)), n > 0 ? " (queues exist under: " : "",
             n > 0 ? o.data : "", n > 0 ? ")" : "");
    buf_release(&o);
}

static int64_t
int_reply(redisReply *r, bool *ok)
{
    if (r && r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    *ok = false;
    return 0;
}

/* The node serving a queue's keys (0 for one Redis). */
static int
queue_node(struct rconn *rc, const char *prefix, const char *queue)
{
    char key[1100];
    int n = snprintf(key, sizeof key, "%s:%s:events", prefix, queue);
    return rconn_node_for_key(rc, key, n > 0 && (size_t)n < sizeof key ? (size_t)n : 0);
}

/* The workers of each queue served by node `node` from its CLIENT LIST;
 * false when refused. */
static bool
count_node_workers(struct rconn *rc, int node, const char *prefix, const struct queue_list *l,
                   struct queue_depth *out)
{
    struct rconn *nl = rconn_node(rc, node);
    redisReply *r = nl ? rconn_cmdf(nl, "CLIENT LIST") : NULL;
    if (!r) {
        if (nl && nl != rc && rconn_is_up(rc))
            rconn_mark_down(rc, rconn_errstr(nl));
        return false;
    }
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) {
        freeReplyObject(r);
        return false;
    }
    const char *p = r->str;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *nm = NULL;
        for (const char *t = p; t + 6 <= p + len; t++) {
            if ((t == p || t[-1] == ' ') && strncmp(t, "name=", 5) == 0) {
                nm = t + 5;
                break;
            }
        }
        if (nm) {
            size_t n = strcspn(nm, " \r\n");
            /* sized from the client name: workers of long queue names count too */
            char *name = xmalloc(n + 1), *queue = xmalloc(n + 1);
            memcpy(name, nm, n);
            name[n] = '\0';
            if (bmq_worker_queue(prefix, name, queue, n + 1)) {
                int idx = queue_list_find(l, queue);
                /* in a cluster a Worker's connections may reach every
                 * node; its blocking one is on the queue's own */
                if (idx >= 0 && queue_node(rc, prefix, queue) == node)
                    out[idx].workers++;
            }
            free(name);
            free(queue);
        }
        p = eol ? eol + 1 : NULL;
    }
    freeReplyObject(r);
    return true;
}

/* workers per queue from every node's CLIENT LIST; false when refused */
static bool
count_workers(struct rconn *rc, const char *prefix, const struct queue_list *l,
              struct queue_depth *out)
{
    for (int i = 0; i < l->n; i++)
        out[i].workers = 0;
    for (int node = 0; node < rconn_nodes(rc); node++) {
        if (!count_node_workers(rc, node, prefix, l, out)) {
            for (int i = 0; i < l->n; i++)
                out[i].workers = -1; /* unknown, not none */
            return false;
        }
    }
    return true;
}

/*
 * Dead jobs that have not failed yet, where nothing will fail them: on a
 * queue with no live worker (or workers unknown), the stall limit's jobs
 * wait at the right end of `wait` (RPUSHed: they run next) with `defa`
 * set, and a crashed worker's jobs sit in `active` with no lock. Bounded:
 * DEAD_PENDING_JOBS ids at each end, DEAD_PENDING_QUEUES queues a poll
 * (starting at a place that moves with the clock), two pipelined rounds.
 */
static int
dead_pending(struct rconn *rc, const char *prefix, const struct queue_list *l,
             struct queue_depth *out, int64_t now)
{
    int *pick = xcalloc((size_t)(l->n ? l->n : 1), sizeof *pick);
    int np = 0, start = l->n ? (int)((now / 1000) % l->n) : 0;
    struct buf k;
    buf_init(&k, 0);
    for (int j = 0; j < l->n; j++) {
        int i = (start + j) % l->n;
        struct queue_depth *d = &out[i];
        d->deferred = d->orphaned = -1; /* not looked at: beyond this poll's share */
        if (!d->ok)
            continue;
        if (d->workers > 0 || (d->wait_list == 0 && d->active == 0)) {
            d->deferred = d->orphaned = 0; /* a live worker settles them (stall check) */
            continue;
        }
        if (np == DEAD_PENDING_QUEUES)
            continue;
        pick[np++] = i;
        buf_reset(&k);
        bmq_key(&k, prefix, l->names[i], "wait");
        rconn_appendf(rc, "LRANGE %b -%d -1", k.data, k.len, DEAD_PENDING_JOBS);
        buf_reset(&k);
        bmq_key(&k, prefix, l->names[i], "active");
        rconn_appendf(rc, "LRANGE %b 0 %d", k.data, k.len, DEAD_PENDING_JOBS - 1);
    }
    redisReply **ids = xcalloc((size_t)(2 * np + 1), sizeof *ids);
    int rc_ok = 0;
    for (int j = 0; j < 2 * np; j++)
        if (!(ids[j] = rconn_reply(rc)))
            rc_ok = -1;
    for (int j = 0; j < np && rc_ok == 0; j++) { /* round 2: defa and locks */
        for (int side = 0; side < 2; side++) {
            redisReply *r = ids[2 * j + side];
            for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e < r->elements; e++) {
                if (r->element[e]->type != REDIS_REPLY_STRING)
                    continue;
                buf_reset(&k);
                bmq_job_key(&k, prefix, l->names[pick[j]], r->element[e]->str, r->element[e]->len);
                if (side == 0) {
                    rconn_appendf(rc, "HEXISTS %b defa", k.data, k.len);
                } else {
                    buf_adds(&k, ":lock");
                    rconn_appendf(rc, "EXISTS %b", k.data, k.len);
                }
            }
        }
    }
    for (int j = 0; j < np && rc_ok == 0; j++) {
        struct queue_depth *d = &out[pick[j]];
        d->deferred = d->orphaned = 0;
        for (int side = 0; side < 2 && rc_ok == 0; side++) {
            redisReply *r = ids[2 * j + side];
            for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e < r->elements; e++) {
                if (r->element[e]->type != REDIS_REPLY_STRING)
                    continue;
                redisReply *x = rconn_reply(rc);
                if (!x) {
                    rc_ok = -1;
                    break;
                }
                if (x->type == REDIS_REPLY_INTEGER) {
                    if (side == 0 && x->integer == 1)
                        d->deferred++;
                    else if (side == 1 && x->integer == 0)
                        d->orphaned++;
                }
                freeReplyObject(x);
            }
        }
    }
    for (int j = 0; j < 2 * np; j++)
        if (ids[j])
            freeReplyObject(ids[j]);
    free(ids);
    free(pick);
    buf_release(&k);
    return rc_ok;
}

#define POLL_CMDS 11

/* Counts of every state and the oldest waiting job of the queues of l, in
 * one pipeline. 0 / -1. */
static int
poll_part(struct rconn *rc, const char *prefix, const struct queue_list *l,
          struct queue_depth *out, int64_t now)
{
    static const char *const lists[] = {"wait", "paused", "active"};
    static const char *const zsets[] = {"prioritized", "delayed", "completed", "failed",
                                        "waiting-children"};
    struct buf k;
    buf_init(&k, 0);
    for (int i = 0; i < l->n; i++) {
        for (int j = 0; j < 3; j++) {
            buf_reset(&k);
            bmq_key(&k, prefix, l->names[i], lists[j]);
            rconn_appendf(rc, "LLEN %b", k.data, k.len);
        }
        for (int j = 0; j < 5; j++) {
            buf_reset(&k);
            bmq_key(&k, prefix, l->names[i], zsets[j]);
            rconn_appendf(rc, "ZCARD %b", k.data, k.len);
        }
        buf_reset(&k);
        bmq_key(&k, prefix, l->names[i], "meta");
        rconn_appendf(rc, "HMGET %b paused version", k.data, k.len);
        buf_reset(&k);
        bmq_key(&k, prefix, l->names[i], "wait");
        rconn_appendf(rc, "LINDEX %b -1", k.data, k.len);
        buf_reset(&k);
        bmq_key(&k, prefix, l->names[i], "paused");
        rconn_appendf(rc, "LINDEX %b -1", k.data, k.len);
    }
    /* the next job of each queue, for the oldest-waiting age */
    char **next = xcalloc((size_t)(l->n ? l->n : 1), sizeof *next);
    size_t *nextlen = xcalloc((size_t)(l->n ? l->n : 1), sizeof *nextlen);
    int rc_ok = 0;
    for (int i = 0; i < l->n; i++) {
        struct queue_depth *d = &out[i];
        bool ok = true;
        redisReply *r[POLL_CMDS];
        for (int j = 0; j < POLL_CMDS; j++) {
            r[j] = rconn_reply(rc);
            if (!r[j]) {
                for (int m = 0; m < j; m++)
                    freeReplyObject(r[m]);
                rc_ok = -1;
                goto out;
            }
        }
        d->wait_list = int_reply(r[0], &ok);
        d->paused_list = int_reply(r[1], &ok);
        d->active = int_reply(r[2], &ok);
        d->prioritized = int_reply(r[3], &ok);
        d->delayed = int_reply(r[4], &ok);
        d->completed = int_reply(r[5], &ok);
        d->failed = int_reply(r[6], &ok);
        d->waiting_children = int_reply(r[7], &ok);
        d->waiting = d->wait_list + d->paused_list;
        if (r[8]->type == REDIS_REPLY_ARRAY && r[8]->elements == 2) {
            d->paused = r[8]->element[0]->type == REDIS_REPLY_STRING;
            if (r[8]->element[1]->type == REDIS_REPLY_STRING)
                snprintf(d->version, sizeof d->version, "%s", r[8]->element[1]->str);
        } else {
            ok = false; /* WRONGTYPE: a key that is not BullMQ's */
        }
        redisReply *tail = r[9]->type == REDIS_REPLY_STRING ? r[9] : r[10];
        if (tail->type == REDIS_REPLY_STRING) {
            next[i] = xmemdup(tail->str, tail->len);
            nextlen[i] = tail->len;
        }
        d->ok = ok;
        d->workers = -1;
        d->oldest_waiting_ms = -1;
        d->polled_at = now;
        for (int j = 0; j < POLL_CMDS; j++)
            freeReplyObject(r[j]);
    }
    for (int i = 0; i < l->n; i++) {
        if (!next[i])
            continue;
        buf_reset(&k);
        bmq_job_key(&k, prefix, l->names[i], next[i], nextlen[i]);
        rconn_appendf(rc, "HGET %b timestamp", k.data, k.len);
    }
    for (int i = 0; i < l->n; i++) {
        if (!next[i])
            continue;
        redisReply *r = rconn_reply(rc);
        int64_t ts;
        if (!r) {
            rc_ok = -1;
            goto out;
        }
        if (r->type == REDIS_REPLY_STRING && parse_int64(r->str, &ts) == 0)
            out[i].oldest_waiting_ms = now > ts ? now - ts : 0;
        freeReplyObject(r);
    }
out:
    for (int i = 0; i < l->n; i++)
        free(next[i]);
    free(next);
    free(nextlen);
    buf_release(&k);
    return rc_ok;
}

/* Pipelines of this many queues (11 commands each): the output buffer of
 * one poll of 10,000 queues would otherwise hold 5 MB of commands. */
#define POLL_PART 512

int
queues_poll(struct rconn *rc, const char *prefix, const struct queue_list *l,
            struct queue_depth *out, int64_t now)
{
    memset(out, 0, sizeof *out * (size_t)l->n);
    for (int i = 0; i < l->n; i++)
        out[i].agent_lag_ms = -1; /* the agent fills it in */
    for (int off = 0; off < l->n; off += POLL_PART) {
        struct queue_list part = {l->names + off, l->n - off < POLL_PART ? l->n - off : POLL_PART};
        if (poll_part(rc, prefix, &part, out + off, now) != 0)
            return -1;
    }
    if (!count_workers(rc, prefix, l, out) && !rconn_is_up(rc))
        return -1;
    return dead_pending(rc, prefix, l, out, now);
}
