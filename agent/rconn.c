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
#include "tls.h"
#include "sentinel.h"
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
    char errstr[512];
    struct tls_conn *tls; /* rediss://: the session over c->fd */
    bool tls_handshaking; /* connecting: the TCP part is done, TLS is not */
    bool probing;         /* connecting: a PING sent, its answer awaited (probe_progress) */
    int tls_want;         /* TLS_WANT_READ/WRITE the last TLS call stopped on, or 0 */
    char ioerr[384];      /* why the last TLS I/O failed (c->errstr for plain links) */
    struct arena *arena;
    redisReplyObjectFunctions *saved_fn; /* during rconn_arena_begin/end */
    struct rcluster *cl; /* a cluster endpoint: every call is handed over (rcluster.h) */
    /* redis+sentinel:// only: the endpoint's shared state, the generation
     * of the master's address this link connected to, that address, and
     * whether a READONLY reply said this node is no longer the master */
    struct sentinel *sn;
    uint64_t sn_gen;
    char sn_host[256];
    int sn_port;
    bool sn_stale;
};

static void io_close(struct rconn *rc);

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
    if (ep->sentinel_master)
        rc->sn = sentinel_get(ep, timeout_ms);
    return rc;
}

void
rconn_free(struct rconn *rc)
{
    if (!rc)
        return;
    rcluster_free(rc->cl);
    io_close(rc);
    sentinel_put(rc->sn);
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

/* ---- the transport: hiredis's own socket I/O on plain links, tls.c on
 * rediss:// links (hiredis then only formats commands and parses replies) ---- */

static const char *
io_errstr(const struct rconn *rc)
{
    if (!rc->c)
        return "not connected";
    return rc->tls ? rc->ioerr : rc->c->errstr;
}

static void
io_close(struct rconn *rc)
{
    tls_conn_free(rc->tls);
    rc->tls = NULL;
    rc->tls_handshaking = false;
    rc->tls_want = 0;
    rc->probing = false;
    if (rc->c)
        redisFree(rc->c); /* closes the descriptor */
    rc->c = NULL;
}

/* Wait until the descriptor is ready for what TLS asked (want) or the
 * deadline passes: 0 ready, -1 timed out or failed (reason in ioerr). */
static int
io_wait(struct rconn *rc, int want, int64_t deadline)
{
    struct pollfd p = {rc->c->fd, want == TLS_WANT_WRITE ? POLLOUT : POLLIN, 0};
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            snprintf(rc->ioerr, sizeof rc->ioerr, "timed out");
            return -1;
        }
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR) {
            snprintf(rc->ioerr, sizeof rc->ioerr, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

/* Write what is buffered without waiting: REDIS_OK (*done when all of it
 * went) or REDIS_ERR. */
static int
io_write(struct rconn *rc, int *done)
{
    if (!rc->tls)
        return redisBufferWrite(rc->c, done);
    *done = 0;
    rc->tls_want = 0;
    while (sdslen(rc->c->obuf) > 0) {
        ssize_t n = tls_write(rc->tls, rc->c->obuf, sdslen(rc->c->obuf), rc->ioerr,
                              sizeof rc->ioerr);
        if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
            rc->tls_want = (int)n;
            return REDIS_OK;
        }
        if (n < 0)
            return REDIS_ERR;
        sdsrange(rc->c->obuf, n, -1);
    }
    *done = 1;
    return REDIS_OK;
}

/* Read what has arrived into the reply reader without waiting. On a TLS
 * link this goes on until OpenSSL holds no decrypted byte (poll() could
 * not see those), and stops at a cap so that one busy link cannot keep
 * the loop: what is left stays in the socket, where poll() sees it.
 * tls_want says whether it stopped for lack of data (WANT_*) or at the cap (0). */
static int
io_read(struct rconn *rc)
{
    if (!rc->tls)
        return redisBufferRead(rc->c);
    char buf[16 * 1024];
    size_t total = 0;
    rc->tls_want = 0;
    for (;;) {
        ssize_t n = tls_read(rc->tls, buf, sizeof buf, rc->ioerr, sizeof rc->ioerr);
        if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
            rc->tls_want = (int)n;
            return REDIS_OK;
        }
        if (n < 0)
            return REDIS_ERR;
        if (redisReaderFeed(rc->c->reader, buf, (size_t)n) != REDIS_OK) {
            snprintf(rc->ioerr, sizeof rc->ioerr, "protocol error: %s", rc->c->reader->errstr);
            return REDIS_ERR;
        }
        total += (size_t)n;
        if (total >= 256 * 1024 && tls_pending(rc->tls) == 0)
            return REDIS_OK;
    }
}

/* Everything buffered written, waiting up to the command timeout. */
static int
io_flush(struct rconn *rc, int64_t deadline)
{
    int done = 0;
    while (!done) {
        if (io_write(rc, &done) != REDIS_OK)
            return REDIS_ERR;
        if (!done && rc->tls && io_wait(rc, rc->tls_want, deadline) != 0)
            return REDIS_ERR;
    }
    return REDIS_OK;
}

/* The next reply, blocking (redisGetReply's contract on both kinds of link). */
static int
io_get_reply(struct rconn *rc, void **r)
{
    if (!rc->tls)
        return redisGetReply(rc->c, r);
    int64_t deadline = mono_ms() + rc->cur_timeout_ms;
    *r = NULL;
    if (redisGetReplyFromReader(rc->c, r) != REDIS_OK)
        goto protocol;
    if (*r)
        return REDIS_OK;
    if (io_flush(rc, deadline) != REDIS_OK)
        return REDIS_ERR;
    for (;;) {
        if (io_read(rc) != REDIS_OK)
            return REDIS_ERR;
        if (redisGetReplyFromReader(rc->c, r) != REDIS_OK)
            goto protocol;
        if (*r)
            return REDIS_OK;
        if (rc->tls_want && io_wait(rc, rc->tls_want, deadline) != 0)
            return REDIS_ERR;
    }
protocol:
    snprintf(rc->ioerr, sizeof rc->ioerr, "protocol error: %s", rc->c->errstr);
    return REDIS_ERR;
}

/* A command during the handshake (AUTH, SELECT, CLIENT SETNAME). */
static redisReply *
io_command(struct rconn *rc, const char *fmt, ...)
{
    va_list ap;
    void *r = NULL;
    va_start(ap, fmt);
    int rv = redisvAppendCommand(rc->c, fmt, ap);
    va_end(ap);
    if (rv != REDIS_OK || io_get_reply(rc, &r) != REDIS_OK)
        return NULL;
    return r;
}

/* TLS over the connected descriptor: the session, then one handshake step
 * (start) or every step until done (deadline > 0). 0 done, 1 under way,
 * -1 failed (reason in ioerr). */
static int
tls_step(struct rconn *rc, int64_t deadline)
{
    if (!rc->tls) {
        int fl = fcntl(rc->c->fd, F_GETFL);
        if (fl >= 0) /* a TLS link's descriptor stays non-blocking: see tls.h */
            (void)fcntl(rc->c->fd, F_SETFL, fl | O_NONBLOCK);
        rc->tls = tls_conn_new(rc->ep->tls_ctx, rc->c->fd, rc->ioerr, sizeof rc->ioerr);
        if (!rc->tls)
            return -1;
        rc->tls_handshaking = true;
    }
    for (;;) {
        int st = tls_handshake(rc->tls, rc->ioerr, sizeof rc->ioerr);
        if (st == TLS_OK) {
            rc->tls_handshaking = false;
            rc->tls_want = 0;
            return 0;
        }
        if (st != TLS_WANT_READ && st != TLS_WANT_WRITE)
            return -1;
        rc->tls_want = st;
        if (deadline <= 0)
            return 1;
        if (io_wait(rc, st, deadline) != 0) {
            snprintf(rc->ioerr, sizeof rc->ioerr, "TLS handshake timed out");
            return -1;
        }
    }
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
    }
    io_close(rc);
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
            r = io_command(rc, "AUTH %s %s", rc->ep->username, rc->ep->password);
        else
            r = io_command(rc, "AUTH %s", rc->ep->password);
        if (!r) {
            snprintf(rc->errstr, sizeof rc->errstr, "AUTH: %s", io_errstr(rc));
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
        r = io_command(rc, "SELECT %d", rc->ep->db);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(rc->errstr, sizeof rc->errstr, "SELECT %d: %s", rc->ep->db,
                     r ? r->str : io_errstr(rc));
            if (r)
                freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    r = io_command(rc, "CLIENT SETNAME bullwatch:%s", rc->role);
    if (!r) {
        snprintf(rc->errstr, sizeof rc->errstr, "%s", io_errstr(rc));
        return -1;
    }
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
        char why[sizeof rc->errstr];
        snprintf(why, sizeof why, "%s", rc->errstr);
        rconn_mark_down(rc, why);
        return -1;
    }
    if (rc->sn && sentinel_check_role(rc->c, rc->errstr, sizeof rc->errstr) != 0) {
        char why[1024];
        snprintf(why, sizeof why, "%s:%d: %s", rc->sn_host, rc->sn_port, rc->errstr);
        rconn_mark_down(rc, why);
        return -1;
    }
    /* keep the read buffer between replies instead of freeing it each time */
    rc->c->reader->maxbuf = 0;
    if (rc->arena) {
        rc->c->reader->fn = &arena_reply_fns;
        rc->c->reader->privdata = rc->arena;
    }
    char how[160] = "";
    if (rc->tls) {
        char d[128];
        tls_describe(rc->tls, d, sizeof d);
        snprintf(how, sizeof how, " over TLS (%s)", d);
    }
    if (rc->ever_up && rc->down_logged)
        log_info("redis %s (%s link): connection restored%s", rc->label, rc->role, how);
    else if (!rc->ever_up)
        log_info("redis %s (%s link): connected%s", rc->label, rc->role, how);
    if (rc->sn)
        log_debug("redis %s (%s link): on master %s:%d", rc->label, rc->role, rc->sn_host,
                  rc->sn_port);
    rc->up = true;
    rc->ever_up = true;
    rc->down_logged = false;
    rc->backoff_ms = BACKOFF_MIN_MS;
    rc->errstr[0] = '\0';
    return 0;
}

/* Where to connect: the URL's address, or for a sentinel endpoint the
 * master the sentinels name now (blocking for a bounded time, see
 * sentinel.h). -1 when no sentinel answered (marked down). */
static int
target(struct rconn *rc, const char **host, int *port)
{
    char err[1024];
    if (!rc->sn) {
        *host = rc->ep->host;
        *port = rc->ep->port;
        return 0;
    }
    if (sentinel_resolve(rc->sn, rc->sn_host, sizeof rc->sn_host, &rc->sn_port, &rc->sn_gen, err,
                         sizeof err) != 0) {
        rconn_mark_down(rc, err);
        return -1;
    }
    *host = rc->sn_host;
    *port = rc->sn_port;
    return 0;
}

/* A sentinel endpoint's link that is up but no longer on the master (the
 * address moved, or a READONLY reply): down now, and the reconnect that
 * follows at once asks the sentinels again. */
static void
follow_master(struct rconn *rc)
{
    if (!rc->sn || !rc->up)
        return;
    sentinel_watch(rc->sn);
    if (!rc->sn_stale && sentinel_gen(rc->sn) == rc->sn_gen)
        return;
    rconn_mark_down(rc, rc->sn_stale ? "READONLY: this node is no longer the master"
                                     : "the master moved");
    rc->sn_stale = false;
    rc->next_try = 0;
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
        io_close(rc);
        rc->connecting = false;
    }
    struct timeval tv = tv_of(rc->timeout_ms);
    const char *host;
    int port;
    if (rc->ep->socket)
        rc->c = redisConnectUnixWithTimeout(rc->ep->socket, tv);
    else if (target(rc, &host, &port) != 0)
        return -1;
    else
        rc->c = redisConnectWithTimeout(host, port, tv);
    if (!rc->c || rc->c->err) {
        char why[256];
        snprintf(why, sizeof why, "cannot connect: %s", rc->c ? rc->c->errstr : "out of memory");
        rconn_mark_down(rc, why);
        return -1;
    }
    if (rc->ep->tls && tls_step(rc, mono_ms() + rc->timeout_ms) != 0) {
        char why[sizeof rc->ioerr];
        snprintf(why, sizeof why, "%s", rc->ioerr);
        rconn_mark_down(rc, why);
        return -1;
    }
    return connected(rc);
}

/* A Redis that accepts connections but does not answer (stopped with
 * SIGSTOP, swapping, a blocked event loop: the kernel completes the TCP
 * handshake for it) would hold the blocking handshake of connected() for
 * the whole command timeout, and with it the agent's loop and every other
 * endpoint. So the non-blocking connect first sends a PING and waits for
 * any answer in poll() (even -NOAUTH proves the server is alive), within
 * the connect timeout; only then does the handshake run, against a Redis
 * that has just answered. 0 connected, 1 under way, -1 down. */
static int
probe_progress(struct rconn *rc)
{
    int done = 0;
    if (io_write(rc, &done) != REDIS_OK)
        goto failed;
    if (done) {
        struct pollfd p = {rc->c->fd, POLLIN, 0};
        bool ready = poll(&p, 1, 0) > 0 || (rc->tls && tls_pending(rc->tls) > 0);
        void *r = NULL;
        if (ready && (io_read(rc) != REDIS_OK || redisGetReplyFromReader(rc->c, &r) != REDIS_OK))
            goto failed;
        if (r) {
            freeReplyObject(r);
            rc->probing = false;
            if (!rc->tls) { /* plain links run the commands after it with timeouts */
                int fl = fcntl(rc->c->fd, F_GETFL);
                if (fl >= 0)
                    (void)fcntl(rc->c->fd, F_SETFL, fl & ~O_NONBLOCK);
            }
            rc->c->flags |= REDIS_BLOCK;
            return connected(rc) == 0 ? 0 : -1;
        }
    }
    if (mono_ms() < rc->connect_deadline)
        return 1;
    rconn_mark_down(rc, "connected, but no answer to PING within the connect timeout (Redis "
                        "stopped or overloaded?)");
    return -1;
failed: {
    char why[sizeof rc->ioerr];
    snprintf(why, sizeof why, "%s", io_errstr(rc));
    rconn_mark_down(rc, why[0] ? why : "connection lost");
    return -1;
}
}

static int
start_probe(struct rconn *rc)
{
    rc->probing = true;
    rc->connect_deadline = mono_ms() + rc->timeout_ms;
    (void)redisAppendCommand(rc->c, "PING");
    return probe_progress(rc);
}

/* The TLS handshake of a non-blocking connect: one step each time the
 * loop asks, within the connect timeout; then the PING probe and the
 * Redis handshake. */
static int
tls_progress(struct rconn *rc)
{
    int st = tls_step(rc, 0);
    if (st == 1 && mono_ms() >= rc->connect_deadline) {
        snprintf(rc->ioerr, sizeof rc->ioerr, "TLS handshake timed out");
        st = -1;
    }
    if (st == 1)
        return 1;
    if (st < 0) {
        char why[sizeof rc->ioerr];
        snprintf(why, sizeof why, "%s", rc->ioerr);
        rconn_mark_down(rc, why);
        return -1;
    }
    return start_probe(rc);
}

/* A non-blocking connect finished (or not yet): 0 connected, 1 still
 * under way, -1 failed (marked down). */
static int
connect_progress(struct rconn *rc)
{
    if (rc->probing)
        return probe_progress(rc);
    if (rc->tls_handshaking)
        return tls_progress(rc);
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
    if (rc->ep->tls) { /* the TLS handshake goes on without blocking the loop */
        rc->c->flags |= REDIS_BLOCK;
        return tls_progress(rc);
    }
    /* connected: is anybody there? (then the handshake, with timeouts) */
    return start_probe(rc);
}

int
rconn_ensure(struct rconn *rc)
{
    follow_master(rc);
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
    follow_master(rc);
    if (rc->up)
        return 0;
    if (rc->connecting)
        return connect_progress(rc) == 0 ? 0 : -1;
    if (mono_ms() < rc->next_try)
        return -1;
    /* a non-blocking connect: an unreachable host never stalls the caller
     * (asking the sentinels first does, for a bounded time: sentinel.h) */
    const char *host;
    int port;
    if (rc->ep->socket)
        rc->c = redisConnectUnixNonBlock(rc->ep->socket);
    else if (target(rc, &host, &port) != 0)
        return -1;
    else
        rc->c = redisConnectNonBlock(host, port);
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
    if (rc->connecting && rc->tls_handshaking)
        *events = rc->tls_want == TLS_WANT_WRITE ? POLLOUT : POLLIN;
    if (rc->connecting && rc->probing)
        *events = sdslen(rc->c->obuf) > 0 ? POLLIN | POLLOUT : POLLIN;
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
    if (io_write(rc, &done) != REDIS_OK) {
        char why[sizeof rc->ioerr];
        snprintf(why, sizeof why, "%s", io_errstr(rc));
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
    if (io_read(rc) != REDIS_OK) {
        char why[sizeof rc->ioerr];
        snprintf(why, sizeof why, "%s", io_errstr(rc));
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
        if (!rc->tls) /* TLS links poll() with cur_timeout_ms */
            redisSetTimeout(rc->c, tv_of(ms));
        rc->cur_timeout_ms = ms;
    }
}

static redisReply *
check_io(struct rconn *rc, void *r)
{
    const redisReply *e = r;
    if (rc->sn && e && e->type == REDIS_REPLY_ERROR && !strncmp(e->str, "READONLY", 8))
        rc->sn_stale = true; /* a demoted master: rconn_ensure* reconnect */
    if (!r) {
        char why[sizeof rc->ioerr];
        snprintf(why, sizeof why, "%s", io_errstr(rc));
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
    void *r = NULL;
    if (!rc->up)
        return NULL;
    if (redisAppendCommandArgv(rc->c, argc, argv, lens) != REDIS_OK ||
        io_get_reply(rc, &r) != REDIS_OK)
        r = NULL;
    return check_io(rc, r);
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
    void *r = NULL;
    va_start(ap, fmt);
    int rv = redisvAppendCommand(rc->c, fmt, ap);
    va_end(ap);
    if (rv != REDIS_OK || io_get_reply(rc, &r) != REDIS_OK)
        r = NULL;
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
    if (rc->up && io_flush(rc, mono_ms() + rc->cur_timeout_ms) != REDIS_OK) {
        char why[sizeof rc->ioerr];
        snprintf(why, sizeof why, "%s", io_errstr(rc));
        rconn_mark_down(rc, why);
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
    if (io_get_reply(rc, &r) != REDIS_OK)
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

uint64_t
rconn_master_gen(const struct rconn *rc)
{
    return rc->sn ? rc->sn_gen : 0;
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
