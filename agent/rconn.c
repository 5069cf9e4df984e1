/* rconn: see rconn.h */
#include "rconn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <hiredis/sds.h>

#include "arena.h"
#include "log.h"
#include "rcluster.h"
#include "util.h"
#include "xmem.h"

#define BACKOFF_MIN_MS 100
/* Reconnect attempts at least every 0.8 s (jittered from 0.4 s): a probe
 * is one non-blocking connect, so it costs nothing while Redis is away, and
 * when Redis answers again the agent reads within a second. */
#define BACKOFF_MAX_MS 800

struct rconn {
    const struct redis_endpoint *ep;
    char *label;
    char *role;
    redisContext *c;
    int64_t timeout_ms;
    int64_t cur_timeout_ms;
    bool up;
    bool connecting; /* a non-blocking connect under way (rconn_ensure) */
    int64_t connect_deadline;
    bool ever_up;
    bool down_logged;
    int64_t next_try;
    int64_t backoff_ms;
    char errstr[256];
    struct arena *arena;
    redisReplyObjectFunctions *saved_fn; /* during rconn_arena_begin/end */
    struct rcluster *cl; /* a cluster endpoint: every call is handed over (rcluster.h) */
};

static struct timeval
tv_of(int64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    return tv;
}

struct rconn *
rconn_new(const struct redis_endpoint *ep, const char *label, const char *role, int64_t timeout_ms)
{
    struct rconn *rc = xcalloc(1, sizeof *rc);
    rc->ep = ep;
    rc->label = xstrdup(label);
    rc->role = xstrdup(role);
    rc->timeout_ms = timeout_ms;
    rc->backoff_ms = BACKOFF_MIN_MS;
    if (ep->cluster)
        rc->cl = rcluster_new(ep, label, role, timeout_ms);
    return rc;
}

void
rconn_free(struct rconn *rc)
{
    if (!rc)
        return;
    rcluster_free(rc->cl);
    if (rc->c)
        redisFree(rc->c);
    free(rc->label);
    free(rc->role);
    free(rc);
}

bool
rconn_is_up(const struct rconn *rc)
{
    if (rc->cl)
        return rcluster_is_up(rc->cl);
    return rc->up;
}

const char *
rconn_errstr(const struct rconn *rc)
{
    if (rc->cl)
        return rcluster_errstr(rc->cl);
    return rc->errstr;
}

int64_t
rconn_retry_in(const struct rconn *rc)
{
    int64_t d = rc->next_try - mono_ms();
    return d > 0 ? d : 0;
}

static void
schedule_retry(struct rconn *rc)
{
    /* full jitter over [backoff/2, backoff] */
    int64_t b = rc->backoff_ms;
    int64_t wait = b / 2 + (int64_t)(rand() % (int)(b / 2 + 1));
    rc->next_try = mono_ms() + wait;
    rc->backoff_ms = b * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b * 2;
}

void
rconn_mark_down(struct rconn *rc, const char *why)
{
    if (rc->cl) {
        rcluster_mark_down(rc->cl, why);
        schedule_retry(rc);
        return;
    }
    if (rc->c) {
        if (rc->saved_fn) {
            rc->c->reader->fn = rc->saved_fn; /* the reader frees its reply with it */
            rc->saved_fn = NULL;
        }
        redisFree(rc->c);
        rc->c = NULL;
    }
    snprintf(rc->errstr, sizeof rc->errstr, "%s", why);
    rc->connecting = false;
    if (rc->up || !rc->down_logged) {
        log_warn("redis %s (%s link): %s; retrying with backoff", rc->label, rc->role, why);
        rc->down_logged = true;
    }
    rc->up = false;
    schedule_retry(rc);
}

static int
handshake(struct rconn *rc)
{
    redisReply *r;
    if (rc->ep->password) {
        if (rc->ep->username)
            r = redisCommand(rc->c, "AUTH %s %s", rc->ep->username, rc->ep->password);
        else
            r = redisCommand(rc->c, "AUTH %s", rc->ep->password);
        if (!r) {
            snprintf(rc->errstr, sizeof rc->errstr, "AUTH: %s", rc->c->errstr);
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            snprintf(rc->errstr, sizeof rc->errstr, "AUTH refused: %s", r->str);
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    if (rc->ep->db) {
        r = redisCommand(rc->c, "SELECT %d", rc->ep->db);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(rc->errstr, sizeof rc->errstr, "SELECT %d: %s", rc->ep->db,
                     r ? r->str : rc->c->errstr);
            if (r)
                freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    r = redisCommand(rc->c, "CLIENT SETNAME bullwatch:%s", rc->role);
    if (!r)
        return -1;
    freeReplyObject(r); /* refused CLIENT is fine */
    return 0;
}

/* The socket is connected: the handshake, then up. */
static int
connected(struct rconn *rc)
{
    struct timeval tv = tv_of(rc->timeout_ms);
    rc->connecting = false;
    redisSetTimeout(rc->c, tv);
    rc->cur_timeout_ms = rc->timeout_ms;
    if (handshake(rc) != 0) {
        char why[256];
        snprintf(why, sizeof why, "%s", rc->errstr);
        rconn_mark_down(rc, why);
        return -1;
    }
    /* keep the read buffer between replies instead of freeing it each time */
    rc->c->reader->maxbuf = 0;
    if (rc->arena) {
        rc->c->reader->fn = &arena_reply_fns;
        rc->c->reader->privdata = rc->arena;
    }
    if (rc->ever_up && rc->down_logged)
        log_info("redis %s (%s link): connection restored", rc->label, rc->role);
    else if (!rc->ever_up)
        log_info("redis %s (%s link): connected", rc->label, rc->role);
    rc->up = true;
    rc->ever_up = true;
    rc->down_logged = false;
    rc->backoff_ms = BACKOFF_MIN_MS;
    rc->errstr[0] = '\0';
    return 0;
}

int
rconn_connect_now(struct rconn *rc)
{
    if (rc->cl) {
        if (rcluster_is_up(rc->cl))
            return 0;
        if (rcluster_connect(rc->cl) != 0) {
            if (!rc->down_logged)
                log_warn("redis %s (%s link): %s; retrying with backoff", rc->label, rc->role,
                         rcluster_errstr(rc->cl));
            rc->down_logged = true;
            schedule_retry(rc);
            return -1;
        }
        if (rc->down_logged || !rc->ever_up)
            log_info("redis %s (%s link): cluster of %d master(s) %s", rc->label, rc->role,
                     rcluster_nodes(rc->cl), rc->ever_up ? "reachable again" : "connected");
        rc->ever_up = true;
        rc->down_logged = false;
        rc->backoff_ms = BACKOFF_MIN_MS;
        return 0;
    }
    if (rc->up)
        return 0;
    if (rc->c) { /* a non-blocking attempt under way: start over */
        redisFree(rc->c);
        rc->c = NULL;
        rc->connecting = false;
    }
    struct timeval tv = tv_of(rc->timeout_ms);
    if (rc->ep->socket)
        rc->c = redisConnectUnixWithTimeout(rc->ep->socket, tv);
    else
        rc->c = redisConnectWithTimeout(rc->ep->host, rc->ep->port, tv);
    if (!rc->c || rc->c->err) {
        char why[256];
        snprintf(why, sizeof why, "cannot connect: %s", rc->c ? rc->c->errstr : "out of memory");
        rconn_mark_down(rc, why);
        return -1;
    }
    return connected(rc);
}

/* A non-blocking connect finished (or not yet): 0 connected, 1 still
 * under way, -1 failed (marked down). */
static int
connect_progress(struct rconn *rc)
{
    struct pollfd p = {rc->c->fd, POLLOUT, 0};
    if (poll(&p, 1, 0) == 0) {
        if (mono_ms() < rc->connect_deadline)
            return 1;
        rconn_mark_down(rc, "cannot connect: timed out");
        return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(rc->c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err) {
        char why[256];
        snprintf(why, sizeof why, "cannot connect: %s", strerror(err));
        rconn_mark_down(rc, why);
        return -1;
    }
    /* connected: the handshake and the commands after it run with timeouts */
    int fl = fcntl(rc->c->fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(rc->c->fd, F_SETFL, fl & ~O_NONBLOCK);
    rc->c->flags |= REDIS_BLOCK;
    return connected(rc) == 0 ? 0 : -1;
}

int
rconn_ensure(struct rconn *rc)
{
    if (rconn_is_up(rc))
        return 0;
    if (mono_ms() < rc->next_try)
        return -1;
    return rconn_connect_now(rc);
}

int
rconn_ensure_async(struct rconn *rc)
{
    if (rc->cl) /* a cluster connects its nodes in turn, each bounded by the timeout */
        return rconn_ensure(rc);
    if (rc->up)
        return 0;
    if (rc->connecting)
        return connect_progress(rc) == 0 ? 0 : -1;
    if (mono_ms() < rc->next_try)
        return -1;
    /* a non-blocking connect: an unreachable host never stalls the caller */
    if (rc->ep->socket)
        rc->c = redisConnectUnixNonBlock(rc->ep->socket);
    else
        rc->c = redisConnectNonBlock(rc->ep->host, rc->ep->port);
    if (!rc->c || rc->c->err) {
        char why[256];
        snprintf(why, sizeof why, "cannot connect: %s", rc->c ? rc->c->errstr : "out of memory");
        rconn_mark_down(rc, why);
        return -1;
    }
    rc->connecting = true;
    rc->connect_deadline = mono_ms() + rc->timeout_ms;
    return connect_progress(rc) == 0 ? 0 : -1;
}

int
rconn_fd(const struct rconn *rc, short *events)
{
    if (rc->cl)
        return -1; /* read synchronously: rconn_replies_ready */
    if (!rc->c || (!rc->up && !rc->connecting))
        return -1;
    *events = rc->connecting ? POLLOUT : POLLIN;
    if (rc->up && rc->c->obuf && sdslen(rc->c->obuf) > 0)
        *events |= POLLOUT;
    return rc->c->fd;
}

int
rconn_write_some(struct rconn *rc)
{
    if (rc->cl) {
        rcluster_flush(rc->cl);
        return rcluster_is_up(rc->cl) ? 0 : -1;
    }
    int done = 0;
    if (!rc->up)
        return -1;
    if (redisBufferWrite(rc->c, &done) != REDIS_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", rc->c->errstr);
        rconn_mark_down(rc, why[0] ? why : "write failed");
        return -1;
    }
    return done ? 0 : 1;
}

int
rconn_read_some(struct rconn *rc)
{
    if (rc->cl)
        return rcluster_is_up(rc->cl) ? 0 : -1;
    if (!rc->up)
        return -1;
    if (redisBufferRead(rc->c) != REDIS_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", rc->c->errstr);
        rconn_mark_down(rc, why[0] ? why : "connection lost");
        return -1;
    }
    return 0;
}

int
rconn_take(struct rconn *rc, redisReply **out)
{
    if (rc->cl)
        return rcluster_take(rc->cl, out);
    void *r = NULL;
    *out = NULL;
    if (!rc->up)
        return -1;
    if (redisGetReplyFromReader(rc->c, &r) != REDIS_OK) {
        char why[256];
        snprintf(why, sizeof why, "protocol error: %s", rc->c->errstr);
        rconn_mark_down(rc, why);
        return -1;
    }
    *out = r;
    return r ? 1 : 0;
}

void
rconn_set_timeout(struct rconn *rc, int64_t ms)
{
    if (rc->cl) {
        rcluster_set_timeout(rc->cl, ms);
        return;
    }
    if (rc->c && ms != rc->cur_timeout_ms) {
        redisSetTimeout(rc->c, tv_of(ms));
        rc->cur_timeout_ms = ms;
    }
}

static redisReply *
check_io(struct rconn *rc, void *r)
{
    if (!r) {
        char why[256];
        snprintf(why, sizeof why, "%s", rc->c ? rc->c->errstr : "not connected");
        rconn_mark_down(rc, why[0] ? why : "connection lost");
    }
    return r;
}

/* A printf-style command on a cluster: formatted as hiredis does, split
 * back into arguments, routed by its key. */
static redisReply *
cluster_vcmd(struct rconn *rc, bool now, const char *fmt, va_list ap)
{
    char *cmd = NULL;
    int len = redisvFormatCommand(&cmd, fmt, ap);
    int argc;
    const char **argv;
    size_t *lens;
    redisReply *r = NULL;
    if (len > 0 && rcluster_split(cmd, (size_t)len, &argc, &argv, &lens) == 0) {
        if (now)
            r = rcluster_cmd(rc->cl, argc, argv, lens);
        else
            rcluster_append(rc->cl, argc, argv, lens);
        free((void *)argv);
    }
    free(cmd);
    return r;
}

redisReply *
rconn_cmd(struct rconn *rc, int argc, const char **argv, const size_t *lens)
{
    if (rc->cl)
        return rcluster_cmd(rc->cl, argc, argv, lens);
    if (!rc->up)
        return NULL;
    return check_io(rc, redisCommandArgv(rc->c, argc, argv, lens));
}

redisReply *
rconn_cmdf(struct rconn *rc, const char *fmt, ...)
{
    va_list ap;
    if (rc->cl) {
        va_start(ap, fmt);
        redisReply *r = cluster_vcmd(rc, true, fmt, ap);
        va_end(ap);
        return r;
    }
    if (!rc->up)
        return NULL;
    va_start(ap, fmt);
    void *r = redisvCommand(rc->c, fmt, ap);
    va_end(ap);
    return check_io(rc, r);
}

void
rconn_append(struct rconn *rc, int argc, const char **argv, const size_t *lens)
{
    if (rc->cl) {
        rcluster_append(rc->cl, argc, argv, lens);
        return;
    }
    if (rc->up)
        redisAppendCommandArgv(rc->c, argc, argv, lens);
}

void
rconn_appendf(struct rconn *rc, const char *fmt, ...)
{
    va_list ap;
    if (rc->cl) {
        va_start(ap, fmt);
        (void)cluster_vcmd(rc, false, fmt, ap);
        va_end(ap);
        return;
    }
    if (!rc->up)
        return;
    va_start(ap, fmt);
    redisvAppendCommand(rc->c, fmt, ap);
    va_end(ap);
}

void
rconn_flush(struct rconn *rc)
{
    if (rc->cl) {
        rcluster_flush(rc->cl);
        return;
    }
    int done = 0;
    while (rc->up && !done) {
        if (redisBufferWrite(rc->c, &done) != REDIS_OK) {
            char why[256];
            snprintf(why, sizeof why, "%s", rc->c->errstr);
            rconn_mark_down(rc, why);
        }
    }
}

redisReply *
rconn_reply(struct rconn *rc)
{
    if (rc->cl)
        return rcluster_reply(rc->cl);
    void *r = NULL;
    if (!rc->up)
        return NULL;
    if (redisGetReply(rc->c, &r) != REDIS_OK)
        r = NULL;
    return check_io(rc, r);
}

void
rconn_use_arena(struct rconn *rc, struct arena *a)
{
    if (rc->cl)
        return; /* merged cluster replies are malloc'ed (rcluster_take) */
    rc->arena = a;
}

void
rconn_arena_begin(struct rconn *rc, struct arena *a)
{
    if (rc->cl) {
        rcluster_arena_begin(rc->cl, a);
        return;
    }
    if (rc->c && !rc->arena && !rc->saved_fn) {
        rc->saved_fn = rc->c->reader->fn;
        rc->c->reader->fn = &arena_reply_fns;
        rc->c->reader->privdata = a;
    }
}

void
rconn_arena_end(struct rconn *rc)
{
    if (rc->cl) {
        rcluster_arena_end(rc->cl);
        return;
    }
    if (rc->c && rc->saved_fn) {
        rc->c->reader->fn = rc->saved_fn;
        rc->c->reader->privdata = NULL;
    }
    rc->saved_fn = NULL;
}

void
rconn_reply_free(struct rconn *rc, redisReply *r)
{
    if (!r)
        return;
    if (rc->arena && !rc->cl)
        arena_reset(rc->arena);
    else
        freeReplyObject(r);
}

void
rconn_check_policy(struct rconn *rc)
{
    char policy[64] = "";
    redisReply *r = rconn_cmdf(rc, "CONFIG GET maxmemory-policy");
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_STRING)
        snprintf(policy, sizeof policy, "%s", r->element[1]->str);
    if (r)
        freeReplyObject(r);
    if (!policy[0]) {
        r = rconn_cmdf(rc, "INFO memory");
        if (r && r->type == REDIS_REPLY_STRING) {
            const char *p = strstr(r->str, "maxmemory_policy:");
            if (p) {
                p += strlen("maxmemory_policy:");
                size_t n = strcspn(p, "\r\n");
                snprintf(policy, sizeof policy, "%.*s", (int)n, p);
            }
        }
        if (r)
            freeReplyObject(r);
    }
    if (policy[0] && strcmp(policy, "noeviction") != 0)
        log_warn("redis %s: maxmemory-policy is '%s'; BullMQ needs 'noeviction' or Redis may "
                 "evict job keys",
                 rc->label, policy);
}

int
rconn_nodes(const struct rconn *rc)
{
    return rc->cl ? rcluster_nodes(rc->cl) : 1;
}

struct rconn *
rconn_node(struct rconn *rc, int i)
{
    if (rc->cl)
        return rcluster_node(rc->cl, i);
    return i == 0 ? rc : NULL;
}

int
rconn_node_for_key(const struct rconn *rc, const char *key, size_t len)
{
    return rc->cl ? rcluster_node_for_key(rc->cl, key, len) : 0;
}

bool
rconn_replies_ready(const struct rconn *rc)
{
    return rc->cl && rcluster_has_merge(rc->cl);
}

bool
rconn_sync(const struct rconn *rc)
{
    return rc->cl != NULL;
}
