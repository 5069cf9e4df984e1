/* lease: see lease.h */
#include "lease.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rconn.h"
#include "sqlembed.h"
#include "util.h"
#include "xmem.h"

/* a follower never waits less than this between tries (a holder whose
 * lease is about to end is asked again right after) */
#define LEASE_MIN_RETRY_MS 20

struct lease {
    struct rconn *rc;
    char *key, *id;
    char run[24];        /* this run's nonce: the lease is ours for this id and run */
    int64_t lease_ms;
    int64_t local_until; /* mono ms: leading before this */
    int64_t token;       /* ours while leading, else the holder's */
    int64_t next_at;
    int64_t clear;       /* the holder's watermark */
    char holder[LEASE_ID_MAX];
    bool was_leading;    /* for lease_changed */
    bool failing;        /* the last request failed (logged once) */
};

int64_t
lease_local_until(int64_t sent_mono, int64_t remaining_ms, int64_t lease_ms)
{
    int64_t drift = lease_ms / LEASE_DRIFT_DIV;
    if (drift < 50)
        drift = 50;
    return sent_mono + remaining_ms - drift;
}

void
lease_key(const char *prefix, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s:bullwatch:lease", prefix);
}

void
lease_default_id(char *out, size_t outlen)
{
    char host[64];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(out, outlen, "%s:%ld", host, (long)getpid());
}

void
lease_header_value(const char *id, int64_t token, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s;token=%lld", id, (long long)token);
}

static int
reply_int(const redisReply *r, int64_t *out)
{
    if (r->type == REDIS_REPLY_INTEGER) {
        *out = r->integer;
        return 0;
    }
    if (r->type == REDIS_REPLY_STRING) {
        char *end;
        long long v = strtoll(r->str, &end, 10);
        if (end == r->str || *end)
            return -1;
        *out = v;
        return 0;
    }
    return -1;
}

int
lease_parse_reply(const redisReply *r, struct lease_reply *out)
{
    int64_t held;
    memset(out, 0, sizeof *out);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 5)
        return -1;
    if (reply_int(r->element[0], &held) != 0 || (held != 0 && held != 1) ||
        reply_int(r->element[1], &out->token) != 0 ||
        reply_int(r->element[3], &out->remaining_ms) != 0 ||
        reply_int(r->element[4], &out->clear) != 0)
        return -1;
    const redisReply *h = r->element[2];
    if (h->type != REDIS_REPLY_STRING)
        return -1;
    size_t n = h->len < LEASE_ID_MAX - 1 ? h->len : LEASE_ID_MAX - 1;
    memcpy(out->holder, h->str, n);
    out->holder[n] = '\0';
    out->held = held == 1;
    return 0;
}

struct lease *
lease_new(struct rconn *rc, const char *key, const char *id, int64_t lease_ms)
{
    struct lease *l = xcalloc(1, sizeof *l);
    l->rc = rc;
    l->key = xstrdup(key);
    l->id = xstrdup(id);
    l->lease_ms = lease_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(l->run, sizeof l->run, "%lx%lx", (unsigned long)getpid(),
             (unsigned long)(ts.tv_sec * 1000000000L + ts.tv_nsec));
    return l;
}

void
lease_free(struct lease *l)
{
    if (!l)
        return;
    free(l->key);
    free(l->id);
    free(l);
}

/* One run of the script; 0 with *out, or -1 (logged once per change). */
static int
run_script(struct lease *l, const char *mode, int64_t clear, struct lease_reply *out)
{
    char ms[24], cl[24];
    snprintf(ms, sizeof ms, "%lld", (long long)l->lease_ms);
    snprintf(cl, sizeof cl, "%lld", (long long)clear);
    const char *argv[] = {"EVAL", sql_get("lua/lease"), "1", l->key, mode, l->id, ms, cl, l->run};
    redisReply *r = rconn_is_up(l->rc) ? rconn_cmd(l->rc, 9, argv, NULL) : NULL;
    int rc = r ? lease_parse_reply(r, out) : -1;
    if (rc != 0 && !l->failing)
        log_warn("ha: lease '%s': %s", l->key,
                 !r ? rconn_errstr(l->rc)
                 : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply to the lease script");
    else if (rc == 0 && l->failing)
        log_info("ha: lease '%s' answers again", l->key);
    l->failing = rc != 0;
    if (r)
        freeReplyObject(r);
    return rc;
}

void
lease_tick(struct lease *l, int64_t mono, int64_t clear)
{
    if (!l || mono < l->next_at)
        return;
    struct lease_reply rep;
    int64_t sent = mono_ms(), third = l->lease_ms / 3;
    if (run_script(l, "take", clear, &rep) != 0) {
        /* nothing changes before the local view expires; try again soon */
        l->next_at = mono_ms() + (third / 2 > 100 ? third / 2 : 100);
        if (l->local_until && mono_ms() >= l->local_until)
            l->local_until = 0; /* lapsed: the loop need not wake for it again */
        return;
    }
    snprintf(l->holder, sizeof l->holder, "%s", rep.holder);
    l->token = rep.token;
    l->clear = rep.clear;
    if (rep.held) {
        l->local_until = lease_local_until(sent, rep.remaining_ms, l->lease_ms);
        l->next_at = sent + third;
        return;
    }
    l->local_until = 0;
    /* ask again when the holder's lease would end, at most a third away */
    int64_t wait = rep.remaining_ms + 5;
    l->next_at = mono_ms() + (wait < LEASE_MIN_RETRY_MS ? LEASE_MIN_RETRY_MS
                              : wait > third        ? third
                                                    : wait);
}

int64_t
lease_next_at(const struct lease *l)
{
    if (!l)
        return INT64_MAX;
    return l->local_until > 0 && l->local_until < l->next_at ? l->local_until : l->next_at;
}

void
lease_release(struct lease *l)
{
    struct lease_reply rep;
    if (!l || !lease_leading(l, mono_ms()))
        return;
    l->local_until = 0;
    if (run_script(l, "release", l->clear, &rep) == 0)
        log_info("ha: lease '%s' released (token %lld)", l->key, (long long)l->token);
}

bool
lease_leading(const struct lease *l, int64_t mono)
{
    return l && mono < l->local_until;
}

int64_t
lease_token(const struct lease *l)
{
    return l ? l->token : 0;
}

const char *
lease_id(const struct lease *l)
{
    return l ? l->id : "";
}

const char *
lease_holder(const struct lease *l)
{
    return l ? l->holder : "";
}

int64_t
lease_holder_clear(const struct lease *l)
{
    return l ? l->clear : 0;
}

bool
lease_changed(struct lease *l)
{
    if (!l)
        return false;
    bool now = lease_leading(l, mono_ms());
    if (!now)
        l->local_until = 0; /* lapsed (lease_next_at no longer wakes the loop for it) */
    if (now == l->was_leading)
        return false;
    l->was_leading = now;
    if (now)
        log_info("ha: leading (lease '%s', token %lld): this agent sends the notifications",
                 l->key, (long long)l->token);
    else
        log_warn("ha: not leading (lease '%s'%s%s): notifications stay pending here", l->key,
                 l->holder[0] && strcmp(l->holder, l->id) ? ", held by " : "",
                 l->holder[0] && strcmp(l->holder, l->id) ? l->holder : "");
    return true;
}

int
lease_read(struct rconn *rc, const char *key, struct lease_view *out)
{
    memset(out, 0, sizeof *out);
    rconn_appendf(rc, "HMGET %s holder token until", key);
    rconn_appendf(rc, "TIME");
    redisReply *h = rconn_reply(rc), *t = h ? rconn_reply(rc) : NULL;
    int rc_ = -1;
    if (h && t && h->type == REDIS_REPLY_ARRAY && h->elements == 3 &&
        t->type == REDIS_REPLY_ARRAY && t->elements == 2) {
        rc_ = 0;
        int64_t now = strtoll(t->element[0]->str, NULL, 10) * 1000 +
                      strtoll(t->element[1]->str, NULL, 10) / 1000;
        if (h->element[0]->type == REDIS_REPLY_STRING) {
            int64_t until = 0;
            out->exists = true;
            snprintf(out->holder, sizeof out->holder, "%s", h->element[0]->str);
            (void)reply_int(h->element[1], &out->token);
            (void)reply_int(h->element[2], &until);
            out->remaining_ms = until - now;
            out->held = until > now;
        }
    }
    if (h)
        freeReplyObject(h);
    if (t)
        freeReplyObject(t);
    return rc_;
}

void
lease_view_line(const struct lease_view *v, char *out, size_t outlen)
{
    if (!v->exists)
        snprintf(out, outlen, "ha: no leader (the lease was never taken)");
    else if (v->held)
        snprintf(out, outlen, "ha: leader '%s' (token %lld, lease %.1f s left)",
                 log_esc(v->holder, strlen(v->holder)), (long long)v->token,
                 (double)v->remaining_ms / 1000.0);
    else
        snprintf(out, outlen, "ha: no leader (last '%s', token %lld, expired %.1f s ago)",
                 log_esc(v->holder, strlen(v->holder)), (long long)v->token,
                 (double)-v->remaining_ms / 1000.0);
}
