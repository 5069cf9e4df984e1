/* failover: see failover.h */
#include "failover.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bmq.h"
#include "buf.h"
#include "log.h"
#include "util.h"
#include "xmem.h"

struct cand {
    int64_t id;
    char sid[48];
};

/* The first entry's id of the stream, "" when it is empty or absent. */
static int
first_id(struct rconn *cmd, const struct buf *key, char *out, size_t outlen)
{
    redisReply *r = rconn_cmdf(cmd, "XRANGE %b - + COUNT 1", key->data, key->len);
    out[0] = '\0';
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements >= 1 &&
        r->element[0]->element[0]->type == REDIS_REPLY_STRING)
        snprintf(out, outlen, "%s", r->element[0]->element[0]->str);
    freeReplyObject(r);
    return 0;
}

/* Candidates of one queue: rows since `since` at or after stream id first. */
static int
candidates(struct store *st, const struct config *cfg, const char *queue, int64_t since,
           const char *first, struct cand **out, int *n)
{
    sqlite3_stmt *s = store_stmt(st, "stmt/failover_recent");
    int cap = 0, rc;
    *out = NULL;
    *n = 0;
    store_bind_str(s, ":endpoint", cfg->endpoint_name);
    store_bind_str(s, ":queue", queue);
    store_bind_int(s, ":since", since);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *sid = (const char *)sqlite3_column_text(s, 1);
        if (!sid || strlen(sid) >= sizeof (*out)->sid || stream_id_cmp(sid, first) < 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *out = xrealloc(*out, sizeof **out * (size_t)cap);
        }
        (*out)[*n].id = sqlite3_column_int64(s, 0);
        snprintf((*out)[*n].sid, sizeof (*out)[*n].sid, "%s", sid);
        (*n)++;
    }
    if (rc != SQLITE_DONE) {
        store_note_error(st, "failover candidates");
        return -1;
    }
    return 0;
}

static int
forget(struct store *st, int64_t id)
{
    sqlite3_stmt *s = store_stmt(st, "stmt/failover_hour_sub");
    store_bind_int(s, ":id", id);
    if (store_exec(st, s, "failover hour summary") != 0)
        return -1;
    s = store_stmt(st, "stmt/failover_forget");
    store_bind_int(s, ":id", id);
    return store_exec(st, s, "failover forget");
}

/* One queue: rows removed, or -1. */
static int
one_queue(struct rconn *cmd, struct store *st, const struct config *cfg, const char *queue,
          int64_t since)
{
    struct buf key;
    char first[64];
    struct cand *c = NULL;
    int n = 0, removed = 0;
    buf_init(&key, 0);
    bmq_key(&key, cfg->prefix, queue, "events");
    int err = FAILOVER_REDIS;
    if (first_id(cmd, &key, first, sizeof first) != 0)
        goto fail;
    if (!first[0]) /* no stream there (obliterated, or nothing yet): nothing to compare */
        goto out;
    err = FAILOVER_STORE;
    if (candidates(st, cfg, queue, since, first, &c, &n) != 0)
        goto fail;
    for (int b = 0; b < n; b += FAILOVER_BATCH) {
        int e = b + FAILOVER_BATCH < n ? b + FAILOVER_BATCH : n;
        for (int i = b; i < e; i++)
            rconn_appendf(cmd, "XRANGE %b %s %s", key.data, key.len, c[i].sid, c[i].sid);
        for (int i = b; i < e; i++) {
            redisReply *r = rconn_reply(cmd);
            err = FAILOVER_REDIS;
            if (!r)
                goto fail;
            bool lost = r->type == REDIS_REPLY_ARRAY && r->elements == 0;
            freeReplyObject(r);
            if (lost) {
                err = FAILOVER_STORE;
                if (forget(st, c[i].id) != 0)
                    goto fail;
                removed++;
            }
        }
    }
    if (removed)
        log_warn("endpoint %s: %d failure row(s) of queue '%s' read from the old master are not "
                 "on the new master (lost in the failover by Redis): removed from the store",
                 cfg->endpoint_name, removed, queue);
out:
    free(c);
    buf_release(&key);
    return removed;
fail:
    free(c);
    buf_release(&key);
    return err;
}

int
failover_forget_lost(struct rconn *cmd, struct store *st, const struct config *cfg,
                     const struct queue_list *l, int64_t now)
{
    int total = 0;
    for (int i = 0; i < l->n; i++) {
        int r = one_queue(cmd, st, cfg, l->names[i], now - FAILOVER_LOOKBACK_MS);
        if (r < 0)
            return r;
        total += r;
    }
    return total;
}
