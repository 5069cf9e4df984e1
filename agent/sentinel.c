/* sentinel: see sentinel.h */
#include "sentinel.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <hiredis/sds.h>

#include "buf.h"
#include "log.h"
#include "util.h"
#include "xmem.h"

enum watch_state { WATCH_OFF, WATCH_CONNECTING, WATCH_IDLE, WATCH_WAITING };

struct sentinel {
    const struct redis_endpoint *ep;
    int refs;
    int64_t timeout_ms;
    int good; /* the sentinel that answered last: asked first */
    char host[256]; /* the master's last known address ("" before the first answer) */
    int port;
    uint64_t gen;
    /* the watch link */
    redisContext *wc;
    enum watch_state wstate;
    int widx;
    int wpending; /* replies still to read */
    bool wauthed;
    int64_t wdeadline, wnext;
    bool role_warned;
    struct sentinel *next;
};

/* Every endpoint's state, so that the links of one endpoint share it
 * without their owners wiring it (one per endpoint, a handful at most). */
static struct sentinel *registry;

static struct timeval
tv_of(int64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    return tv;
}

static const char *
ep_name(const struct sentinel *sn)
{
    return sn->ep->name ? sn->ep->name : "default";
}

/* "host:port", "[v6]:port" */
static void
fmt_addr(char *out, size_t outlen, const char *host, int port)
{
    if (strchr(host, ':'))
        snprintf(out, outlen, "[%s]:%d", host, port);
    else
        snprintf(out, outlen, "%s:%d", host, port);
}

struct sentinel *
sentinel_get(const struct redis_endpoint *ep, int64_t timeout_ms)
{
    for (struct sentinel *s = registry; s; s = s->next) {
        if (s->ep == ep) {
            s->refs++;
            return s;
        }
    }
    struct sentinel *sn = xcalloc(1, sizeof *sn);
    sn->ep = ep;
    sn->refs = 1;
    sn->timeout_ms = timeout_ms < SENTINEL_TIMEOUT_MS ? timeout_ms : SENTINEL_TIMEOUT_MS;
    sn->next = registry;
    registry = sn;
    return sn;
}

void
sentinel_put(struct sentinel *sn)
{
    if (!sn || --sn->refs > 0)
        return;
    for (struct sentinel **pp = &registry; *pp; pp = &(*pp)->next) {
        if (*pp == sn) {
            *pp = sn->next;
            break;
        }
    }
    if (sn->wc)
        redisFree(sn->wc);
    free(sn);
}

uint64_t
sentinel_gen(const struct sentinel *sn)
{
    return sn->gen;
}

int
sentinel_parse_addr(const redisReply *r, const char *master, char *host, size_t hostlen,
                    int *port, char *err, size_t errlen)
{
    int64_t p;
    if (r->type == REDIS_REPLY_NIL) {
        snprintf(err, errlen, "does not know master '%s'", master);
        return -1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "%s", r->str);
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[0]->len == 0 || r->element[0]->len >= hostlen ||
        parse_int64(r->element[1]->str, &p) != 0 || p < 1 || p > 65535) {
        snprintf(err, errlen, "unexpected reply to SENTINEL get-master-addr-by-name");
        return -1;
    }
    memcpy(host, r->element[0]->str, r->element[0]->len);
    host[r->element[0]->len] = '\0';
    *port = (int)p;
    return 0;
}

/* Sentinel i said the master is at host:port: log a first answer or a
 * switch once, and bump the generation so the other links follow. */
static void
note_master(struct sentinel *sn, int i, const char *host, int port)
{
    char from[300], to[300], by[300];
    if (sn->host[0] && !strcmp(sn->host, host) && sn->port == port)
        return;
    fmt_addr(to, sizeof to, host, port);
    fmt_addr(by, sizeof by, sn->ep->sentinel_hosts[i], sn->ep->sentinel_ports[i]);
    if (sn->host[0]) {
        fmt_addr(from, sizeof from, sn->host, sn->port);
        log_info("endpoint %s: master %s moved from %s to %s (sentinel %s)", ep_name(sn),
                 sn->ep->sentinel_master, from, to, by);
    } else {
        log_info("endpoint %s: master %s is at %s (sentinel %s)", ep_name(sn),
                 sn->ep->sentinel_master, to, by);
    }
    snprintf(sn->host, sizeof sn->host, "%s", host);
    sn->port = port;
    sn->gen++;
}

/* AUTH to a sentinel if the config gives a password (blocking context). */
static int
auth_blocking(struct sentinel *sn, redisContext *c, char *err, size_t errlen)
{
    redisReply *r;
    const struct redis_endpoint *ep = sn->ep;
    if (!ep->sentinel_password)
        return 0;
    if (ep->sentinel_username)
        r = redisCommand(c, "AUTH %s %s", ep->sentinel_username, ep->sentinel_password);
    else
        r = redisCommand(c, "AUTH %s", ep->sentinel_password);
    if (!r) {
        snprintf(err, errlen, "AUTH: %s", c->errstr[0] ? c->errstr : "no reply");
        return -1;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "AUTH refused: %s", r->str);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* One sentinel, blocking with short timeouts. */
static int
ask(struct sentinel *sn, int i, char *host, size_t hostlen, int *port, char *err, size_t errlen)
{
    struct timeval tv = tv_of(sn->timeout_ms);
    redisContext *c = redisConnectWithTimeout(sn->ep->sentinel_hosts[i], sn->ep->sentinel_ports[i],
                                              tv);
    if (!c || c->err) {
        snprintf(err, errlen, "cannot connect: %s", c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return -1;
    }
    redisSetTimeout(c, tv);
    int rc = auth_blocking(sn, c, err, errlen);
    if (rc == 0) {
        redisReply *r = redisCommand(c, "SENTINEL get-master-addr-by-name %s",
                                     sn->ep->sentinel_master);
        if (!r) {
            snprintf(err, errlen, "%s", c->errstr[0] ? c->errstr : "no reply");
            rc = -1;
        } else {
            rc = sentinel_parse_addr(r, sn->ep->sentinel_master, host, hostlen, port, err, errlen);
            freeReplyObject(r);
        }
    }
    redisFree(c);
    return rc;
}

int
sentinel_resolve(struct sentinel *sn, char *host, size_t hostlen, int *port, uint64_t *gen,
                 char *err, size_t errlen)
{
    const struct redis_endpoint *ep = sn->ep;
    struct buf why;
    buf_init(&why, 1024);
    for (int k = 0; k < ep->nsentinels; k++) {
        int i = (sn->good + k) % ep->nsentinels;
        char h[256], e[256], a[300];
        int p;
        if (ask(sn, i, h, sizeof h, &p, e, sizeof e) == 0) {
            sn->good = i;
            note_master(sn, i, h, p);
            snprintf(host, hostlen, "%s", h);
            *port = p;
            *gen = sn->gen;
            buf_release(&why);
            return 0;
        }
        fmt_addr(a, sizeof a, ep->sentinel_hosts[i], ep->sentinel_ports[i]);
        buf_addf(&why, "%ssentinel %s: %s", k ? "; " : "", a, e);
    }
    snprintf(err, errlen, "no sentinel gave the address of master '%s': %s", ep->sentinel_master,
             why.data ? why.data : "");
    buf_release(&why);
    return -1;
}

int
sentinel_check_role(redisContext *c, char *err, size_t errlen)
{
    redisReply *r = redisCommand(c, "ROLE");
    if (!r) {
        snprintf(err, errlen, "ROLE: %s", c->errstr[0] ? c->errstr : "no reply");
        return -1;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
        r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") != 0) {
        snprintf(err, errlen, "the node the sentinels named is a %s, not a master (a stale answer "
                 "during a failover?)", r->element[0]->str);
        rc = -1;
    } else if (r->type == REDIS_REPLY_ERROR) {
        /* an ACL without ROLE: trust the sentinels */
        log_debug("ROLE refused (%s): trusting the sentinels' answer", r->str);
    }
    freeReplyObject(r);
    return rc;
}

/* ---- the watch: one non-blocking link to one sentinel ---- */

static void
watch_fail(struct sentinel *sn, const char *why)
{
    char a[300];
    fmt_addr(a, sizeof a, sn->ep->sentinel_hosts[sn->widx], sn->ep->sentinel_ports[sn->widx]);
    log_debug("endpoint %s: sentinel watch on %s: %s", ep_name(sn), a, why);
    if (sn->wc)
        redisFree(sn->wc);
    sn->wc = NULL;
    sn->wstate = WATCH_OFF;
    sn->widx = (sn->widx + 1) % sn->ep->nsentinels;
    sn->wnext = mono_ms() + SENTINEL_WATCH_MS;
}

static bool
ready(int fd, short ev)
{
    struct pollfd p = {fd, ev, 0};
    return poll(&p, 1, 0) > 0;
}

static void
watch_connect(struct sentinel *sn, int64_t now)
{
    if (sn->wstate == WATCH_OFF) {
        if (now < sn->wnext)
            return;
        sn->widx = sn->good;
        sn->wc = redisConnectNonBlock(sn->ep->sentinel_hosts[sn->widx],
                                      sn->ep->sentinel_ports[sn->widx]);
        if (!sn->wc || sn->wc->err) {
            watch_fail(sn, sn->wc ? sn->wc->errstr : "out of memory");
            return;
        }
        sn->wstate = WATCH_CONNECTING;
        sn->wauthed = false;
        sn->wdeadline = now + sn->timeout_ms;
    }
    if (sn->wstate != WATCH_CONNECTING)
        return;
    if (!ready(sn->wc->fd, POLLOUT)) {
        if (now > sn->wdeadline)
            watch_fail(sn, "connect timed out");
        return;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(sn->wc->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err) {
        watch_fail(sn, strerror(err));
        return;
    }
    sn->wstate = WATCH_IDLE;
}

static void
watch_send(struct sentinel *sn, int64_t now)
{
    const struct redis_endpoint *ep = sn->ep;
    int done = 0;
    sn->wpending = 0;
    if (!sn->wauthed && ep->sentinel_password) {
        if (ep->sentinel_username)
            redisAppendCommand(sn->wc, "AUTH %s %s", ep->sentinel_username, ep->sentinel_password);
        else
            redisAppendCommand(sn->wc, "AUTH %s", ep->sentinel_password);
        sn->wpending++;
    }
    redisAppendCommand(sn->wc, "SENTINEL get-master-addr-by-name %s", ep->sentinel_master);
    sn->wpending++;
    if (redisBufferWrite(sn->wc, &done) != REDIS_OK) {
        watch_fail(sn, sn->wc->errstr);
        return;
    }
    sn->wstate = WATCH_WAITING;
    sn->wdeadline = now + sn->timeout_ms;
}

static void
watch_receive(struct sentinel *sn, int64_t now)
{
    int done = 0;
    if (sdslen(sn->wc->obuf) > 0 && redisBufferWrite(sn->wc, &done) != REDIS_OK) {
        watch_fail(sn, sn->wc->errstr);
        return;
    }
    if (ready(sn->wc->fd, POLLIN) && redisBufferRead(sn->wc) != REDIS_OK) {
        watch_fail(sn, sn->wc->errstr[0] ? sn->wc->errstr : "connection lost");
        return;
    }
    while (sn->wpending > 0) {
        void *v = NULL;
        if (redisGetReplyFromReader(sn->wc, &v) != REDIS_OK) {
            watch_fail(sn, "protocol error");
            return;
        }
        if (!v)
            break;
        redisReply *r = v;
        char h[256], e[256];
        int p;
        int rc = 0;
        if (sn->wpending == 2) { /* the AUTH reply */
            if (r->type == REDIS_REPLY_ERROR) {
                snprintf(e, sizeof e, "AUTH refused: %s", r->str);
                rc = -1;
            }
            sn->wauthed = rc == 0;
        } else if ((rc = sentinel_parse_addr(r, sn->ep->sentinel_master, h, sizeof h, &p, e,
                                             sizeof e)) == 0) {
            sn->wauthed = true;
            note_master(sn, sn->widx, h, p);
        }
        freeReplyObject(r);
        sn->wpending--;
        if (rc != 0) {
            watch_fail(sn, e);
            return;
        }
    }
    if (sn->wpending == 0) {
        sn->wstate = WATCH_IDLE;
        sn->wnext = now + SENTINEL_WATCH_MS;
    } else if (now > sn->wdeadline) {
        watch_fail(sn, "no reply in time");
    }
}

void
sentinel_watch(struct sentinel *sn)
{
    int64_t now = mono_ms();
    if (sn->wstate == WATCH_OFF || sn->wstate == WATCH_CONNECTING)
        watch_connect(sn, now);
    if (sn->wstate == WATCH_IDLE && now >= sn->wnext)
        watch_send(sn, now);
    if (sn->wstate == WATCH_WAITING)
        watch_receive(sn, now);
}
