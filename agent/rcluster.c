/* rcluster: a Redis Cluster behind one rconn (see rcluster.h). */
#include "rcluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cluster.h"
#include "log.h"
#include "rconn.h"
#include "xmem.h"

/* A redirection followed at most this many times for one command (a
 * resharding in progress moves a slot once; more means a loop). */
#define MAX_REDIRECTS 5

/* One command appended and not yet answered: kept whole so that a MOVED
 * or ASK in a pipeline can be sent again to the right node. */
struct pend {
    int node;
    int argc;
    char **argv;
    size_t *lens;
};

struct rcluster {
    const struct redis_endpoint *ep;
    char *label, *role;
    int64_t timeout_ms;
    struct cluster_map map;
    /* one link per node met (the masters of the map, then any node a
     * redirection named); each endpoint is allocated on its own because
     * its rconn borrows it */
    struct redis_endpoint **neps;
    struct rconn **links;
    int n;
    bool up;
    char errstr[256];
    struct pend *q;
    size_t qhead, qlen, qcap;
    struct arena *arena; /* between arena_begin and arena_end */
    /* XREADs split by slot (rcluster_append), each waiting to be merged
     * back into one reply by rcluster_take: how many parts each has */
    int *merges;
    int mhead, mlen, mcap;
};

struct rcluster *
rcluster_new(const struct redis_endpoint *ep, const char *label, const char *role,
             int64_t timeout_ms)
{
    struct rcluster *cl = xcalloc(1, sizeof *cl);
    cl->ep = ep;
    cl->label = xstrdup(label);
    cl->role = xstrdup(role);
    cl->timeout_ms = timeout_ms;
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        cl->map.owner[s] = -1;
    snprintf(cl->errstr, sizeof cl->errstr, "not connected");
    return cl;
}

static void
pend_free(struct pend *p)
{
    for (int i = 0; i < p->argc; i++)
        free(p->argv[i]);
    free(p->argv);
    free(p->lens);
}

static void
drop_pending(struct rcluster *cl)
{
    cl->mhead = cl->mlen = 0;
    for (size_t i = cl->qhead; i < cl->qlen; i++)
        pend_free(&cl->q[i]);
    cl->qhead = cl->qlen = 0;
}

static void node_ep_free(struct redis_endpoint *n);

static void
drop_links(struct rcluster *cl)
{
    for (int i = 0; i < cl->n; i++) {
        rconn_free(cl->links[i]);
        node_ep_free(cl->neps[i]);
    }
    free(cl->links);
    free(cl->neps);
    cl->links = NULL;
    cl->neps = NULL;
    cl->n = 0;
}

void
rcluster_free(struct rcluster *cl)
{
    if (!cl)
        return;
    drop_pending(cl);
    free(cl->q);
    free(cl->merges);
    drop_links(cl);
    cluster_map_release(&cl->map);
    free(cl->label);
    free(cl->role);
    free(cl);
}

/* A plain endpoint for one node: the cluster's credentials, database 0. */
static struct redis_endpoint *
node_ep(const struct redis_endpoint *ep, const char *host, int port)
{
    struct redis_endpoint *n = xcalloc(1, sizeof *n);
    n->host = xstrdup(host);
    n->port = port;
    n->username = ep->username ? xstrdup(ep->username) : NULL;
    n->password = ep->password ? xstrdup(ep->password) : NULL;
    /* rediss+cluster://: every node over TLS with the endpoint's context
     * (borrowed: node_ep_free lets it be), so the name verified is
     * tls_server_name, or the first seed's host, for every node */
    n->tls = ep->tls;
    n->tls_verify = ep->tls_verify;
    n->tls_ctx = ep->tls_ctx;
    return n;
}

static void
node_ep_free(struct redis_endpoint *n)
{
    n->tls_ctx = NULL;
    redis_endpoint_release(n);
    free(n);
}

/* The link to host:port, made (and connected) when there is none yet. */
static int
link_for(struct rcluster *cl, const char *host, int port)
{
    for (int i = 0; i < cl->n; i++)
        if (cl->neps[i]->port == port && !strcmp(cl->neps[i]->host, host))
            return i;
    cl->neps = xrealloc(cl->neps, (size_t)(cl->n + 1) * sizeof *cl->neps);
    cl->links = xrealloc(cl->links, (size_t)(cl->n + 1) * sizeof *cl->links);
    cl->neps[cl->n] = node_ep(cl->ep, host, port);
    char label[CLUSTER_HOST_LEN + 64];
    snprintf(label, sizeof label, "%s node %s:%d", cl->label, host, port);
    cl->links[cl->n] = rconn_new(cl->neps[cl->n], label, cl->role, cl->timeout_ms);
    if (cl->arena)
        rconn_arena_begin(cl->links[cl->n], cl->arena);
    return cl->n++;
}

/* Split "h1:p1,h2:p2" and ask each in turn for the slot map. */
static int
read_map(struct rcluster *cl, const char *seeds, struct cluster_map *m)
{
    char *list = xstrdup(seeds), *save = NULL;
    int rc = -1;
    for (char *s = strtok_r(list, ",", &save); s && rc != 0; s = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(s, ':');
        if (!colon)
            continue;
        *colon = '\0';
        struct redis_endpoint *e = node_ep(cl->ep, s, atoi(colon + 1));
        struct rconn *t = rconn_new(e, cl->label, cl->role, cl->timeout_ms);
        if (rconn_connect_now(t) == 0) {
            redisReply *r = rconn_cmdf(t, "CLUSTER SLOTS");
            char err[256];
            if (r && cluster_map_parse(m, r, e->host, err, sizeof err) == 0) {
                if (m->nnodes == 0 || cluster_map_unserved(m) == CLUSTER_SLOTS) {
                    snprintf(cl->errstr, sizeof cl->errstr, "%.200s:%d serves no slots", s, e->port);
                    cluster_map_release(m);
                } else {
                    rc = 0;
                }
            } else {
                snprintf(cl->errstr, sizeof cl->errstr, "%.64s:%d: %.180s", s, e->port,
                         r ? err : rconn_errstr(t));
            }
            if (r)
                freeReplyObject(r);
        } else {
            snprintf(cl->errstr, sizeof cl->errstr, "seed %.64s:%d: %.180s", s, e->port,
                     rconn_errstr(t));
        }
        rconn_free(t);
        node_ep_free(e);
    }
    free(list);
    return rc;
}

int
rcluster_connect(struct rcluster *cl)
{
    struct cluster_map m;
    /* the nodes known from the last map first (a seed may be gone), then
     * the configured seeds */
    struct buf known;
    buf_init(&known, 0);
    for (int i = 0; i < cl->map.nnodes; i++)
        buf_addf(&known, "%s%s:%d", known.len ? "," : "", cl->map.nodes[i].host,
                 cl->map.nodes[i].port);
    int rc = known.len ? read_map(cl, known.data, &m) : -1;
    buf_release(&known);
    if (rc != 0 && read_map(cl, cl->ep->seeds, &m) != 0) {
        cl->up = false;
        return -1;
    }
    drop_pending(cl);
    drop_links(cl);
    cluster_map_release(&cl->map);
    cl->map = m;
    for (int i = 0; i < m.nnodes; i++)
        link_for(cl, m.nodes[i].host, m.nodes[i].port);
    for (int i = 0; i < cl->n; i++) {
        if (rconn_connect_now(cl->links[i]) != 0) {
            snprintf(cl->errstr, sizeof cl->errstr, "node %.64s:%d: %.180s", cl->neps[i]->host,
                     cl->neps[i]->port, rconn_errstr(cl->links[i]));
            cl->up = false;
            return -1;
        }
    }
    cl->up = true;
    cl->errstr[0] = '\0';
    return 0;
}

bool
rcluster_is_up(const struct rcluster *cl)
{
    if (!cl->up)
        return false;
    for (int i = 0; i < cl->n; i++)
        if (!rconn_is_up(cl->links[i]))
            return false;
    return true;
}

const char *
rcluster_errstr(const struct rcluster *cl)
{
    for (int i = 0; i < cl->n && !cl->errstr[0]; i++)
        if (!rconn_is_up(cl->links[i]))
            return rconn_errstr(cl->links[i]);
    return cl->errstr;
}

void
rcluster_mark_down(struct rcluster *cl, const char *why)
{
    for (int i = 0; i < cl->n; i++)
        if (rconn_is_up(cl->links[i]))
            rconn_mark_down(cl->links[i], why);
    drop_pending(cl);
    snprintf(cl->errstr, sizeof cl->errstr, "%s", why);
    cl->up = false;
}

/* ---- routing ---- */

static bool
is(const char *a, size_t n, const char *b)
{
    return strlen(b) == n && !strncasecmp(a, b, n);
}

int
rcluster_key_arg(int argc, const char **argv, const size_t *lens)
{
    if (argc < 2)
        return -1;
    const char *c = argv[0];
    size_t n = lens ? lens[0] : strlen(c);
    if (is(c, n, "EVAL") || is(c, n, "EVALSHA") || is(c, n, "EVAL_RO") ||
        is(c, n, "EVALSHA_RO") || is(c, n, "FCALL") || is(c, n, "FCALL_RO"))
        return argc > 3 && atoi(argv[2]) > 0 ? 3 : -1;
    if (is(c, n, "XREAD") || is(c, n, "XREADGROUP")) {
        for (int i = 1; i + 1 < argc; i++)
            if (is(argv[i], lens ? lens[i] : strlen(argv[i]), "STREAMS"))
                return i + 1;
        return -1;
    }
    if (is(c, n, "MEMORY") || is(c, n, "OBJECT") || is(c, n, "XINFO") || is(c, n, "XGROUP"))
        return argc > 2 ? 2 : -1;
    static const char *const keyless[] = {"SCAN",   "PING",     "INFO",   "CONFIG", "CLIENT",
                                          "ROLE",   "CLUSTER",  "SCRIPT", "TIME",   "DBSIZE",
                                          "SELECT", "AUTH",     "HELLO",  "ECHO",   "WAIT",
                                          "KEYS",   "FLUSHALL", "FLUSHDB", "COMMAND", NULL};
    for (int i = 0; keyless[i]; i++)
        if (is(c, n, keyless[i]))
            return -1;
    return 1;
}

static int
route(const struct rcluster *cl, int argc, const char **argv, const size_t *lens)
{
    int k = rcluster_key_arg(argc, argv, lens);
    if (k < 0)
        return 0;
    int slot = cluster_key_slot(argv[k], lens ? lens[k] : strlen(argv[k]));
    int o = cl->map.owner[slot];
    if (o < 0)
        return 0;
    /* links are made in the order of the map's nodes */
    return o;
}

static bool
redirect_of(const redisReply *r, struct cluster_redirect *d)
{
    return r && r->type == REDIS_REPLY_ERROR && cluster_redirect_parse(r->str, r->len, d) == 0;
}

static void
reply_free(struct rcluster *cl, redisReply *r)
{
    if (!cl->arena) /* in a burst the arena holds it until the caller resets it */
        freeReplyObject(r);
}

/* The reply r of node `node` was a redirection: send again where it says. */
static redisReply *
follow(struct rcluster *cl, redisReply *r, int argc, const char **argv, const size_t *lens)
{
    struct cluster_redirect d;
    for (int hop = 0; hop < MAX_REDIRECTS && redirect_of(r, &d); hop++) {
        reply_free(cl, r);
        int to = link_for(cl, d.host, d.port);
        if (!d.ask) { /* the slot moved for good: remember it */
            if (cl->map.owner[d.slot] != to)
                log_info("redis %s (%s link): slot %d moved to %s:%d", cl->label, cl->role,
                         d.slot, d.host, d.port);
            cl->map.owner[d.slot] = (int16_t)to;
        }
        struct rconn *l = cl->links[to];
        if (rconn_ensure(l) != 0) {
            rcluster_mark_down(cl, rconn_errstr(l));
            return NULL;
        }
        if (d.ask) {
            redisReply *a = rconn_cmdf(l, "ASKING");
            if (!a) {
                rcluster_mark_down(cl, rconn_errstr(l));
                return NULL;
            }
            reply_free(cl, a);
        }
        r = rconn_cmd(l, argc, argv, lens);
        if (!r) {
            rcluster_mark_down(cl, rconn_errstr(l));
            return NULL;
        }
    }
    return r;
}

/* SCRIPT LOAD goes to every master: an EVALSHA runs on whichever node
 * owns its keys. The first node's reply, or the first error. */
static redisReply *
load_everywhere(struct rcluster *cl, int argc, const char **argv, const size_t *lens)
{
    redisReply *first = NULL;
    for (int i = 0; i < cl->map.nnodes; i++) {
        redisReply *r = rconn_cmd(cl->links[i], argc, argv, lens);
        if (!r) {
            if (first)
                freeReplyObject(first);
            rcluster_mark_down(cl, rconn_errstr(cl->links[i]));
            return NULL;
        }
        if (!first || (r->type == REDIS_REPLY_ERROR && first->type != REDIS_REPLY_ERROR)) {
            if (first)
                freeReplyObject(first);
            first = r;
        } else {
            freeReplyObject(r);
        }
    }
    return first;
}

redisReply *
rcluster_cmd(struct rcluster *cl, int argc, const char **argv, const size_t *lens)
{
    if (!rcluster_is_up(cl))
        return NULL;
    if (argc >= 2 && is(argv[0], lens ? lens[0] : strlen(argv[0]), "SCRIPT") &&
        is(argv[1], lens ? lens[1] : strlen(argv[1]), "LOAD") && !cl->arena)
        return load_everywhere(cl, argc, argv, lens);
    struct rconn *l = cl->links[route(cl, argc, argv, lens)];
    redisReply *r = rconn_cmd(l, argc, argv, lens);
    if (!r) {
        rcluster_mark_down(cl, rconn_errstr(l));
        return NULL;
    }
    return follow(cl, r, argc, argv, lens);
}

static void append_one(struct rcluster *cl, int argc, const char **argv, const size_t *lens);

/* XREAD [COUNT n] [BLOCK ms] STREAMS k... id...: one XREAD per slot (keys
 * of different slots cannot share one), without BLOCK (several nodes
 * cannot block at once on one link: the caller paces empty rounds).
 * The parts are merged back by rcluster_take. */
static void
split_xread(struct rcluster *cl, int argc, const char **argv, const size_t *lens, int at)
{
    int n = (argc - at) / 2;
    const char **av = xmalloc(sizeof *av * (size_t)(at + 2 * n));
    size_t *lv = xmalloc(sizeof *lv * (size_t)(at + 2 * n));
    bool *done = xcalloc((size_t)(n ? n : 1), sizeof *done);
    int head = 0, parts = 0;
    for (int i = 0; i < at; i++) { /* XREAD COUNT n, then STREAMS: BLOCK dropped */
        size_t l = lens ? lens[i] : strlen(argv[i]);
        if (is(argv[i], l, "BLOCK") && i + 1 < at) {
            i++;
            continue;
        }
        av[head] = argv[i];
        lv[head++] = l;
    }
    for (int i = 0; i < n; i++) {
        if (done[i])
            continue;
        int slot = cluster_key_slot(argv[at + i], lens ? lens[at + i] : strlen(argv[at + i]));
        int m = 0;
        for (int j = i; j < n; j++)
            if (!done[j] &&
                cluster_key_slot(argv[at + j], lens ? lens[at + j] : strlen(argv[at + j])) == slot)
                done[j] = true, m++;
        /* the keys of this slot, then their ids, in the order given */
        int k = head;
        for (int j = i, c = 0; c < m; j++) {
            if (cluster_key_slot(argv[at + j], lens ? lens[at + j] : strlen(argv[at + j])) != slot)
                continue;
            av[k] = argv[at + j];
            lv[k] = lens ? lens[at + j] : strlen(argv[at + j]);
            av[k + m] = argv[at + n + j];
            lv[k + m] = lens ? lens[at + n + j] : strlen(argv[at + n + j]);
            k++;
            c++;
        }
        append_one(cl, head + 2 * m, av, lv);
        parts++;
    }
    free(done);
    free(av);
    free(lv);
    if (cl->mlen == cl->mcap) {
        if (cl->mhead > 0) {
            memmove(cl->merges, cl->merges + cl->mhead,
                    (size_t)(cl->mlen - cl->mhead) * sizeof *cl->merges);
            cl->mlen -= cl->mhead;
            cl->mhead = 0;
        }
        if (cl->mlen == cl->mcap) {
            cl->mcap = cl->mcap ? cl->mcap * 2 : 8;
            cl->merges = xrealloc(cl->merges, (size_t)cl->mcap * sizeof *cl->merges);
        }
    }
    cl->merges[cl->mlen++] = parts;
}

void
rcluster_append(struct rcluster *cl, int argc, const char **argv, const size_t *lens)
{
    if (!rcluster_is_up(cl))
        return;
    if (argc > 0 && is(argv[0], lens ? lens[0] : strlen(argv[0]), "XREAD")) {
        int at = rcluster_key_arg(argc, argv, lens);
        if (at > 0 && (argc - at) % 2 == 0) {
            split_xread(cl, argc, argv, lens, at);
            return;
        }
    }
    append_one(cl, argc, argv, lens);
}

static void
append_one(struct rcluster *cl, int argc, const char **argv, const size_t *lens)
{
    struct pend p = {route(cl, argc, argv, lens), argc, xcalloc((size_t)argc, sizeof(char *)),
                     xcalloc((size_t)argc, sizeof(size_t))};
    for (int i = 0; i < argc; i++) {
        p.lens[i] = lens ? lens[i] : strlen(argv[i]);
        p.argv[i] = xmalloc(p.lens[i] + 1);
        memcpy(p.argv[i], argv[i], p.lens[i]);
        p.argv[i][p.lens[i]] = '\0';
    }
    rconn_append(cl->links[p.node], argc, (const char **)p.argv, p.lens);
    if (cl->qlen == cl->qcap) {
        if (cl->qhead > 0) { /* slide the answered ones out */
            memmove(cl->q, cl->q + cl->qhead, (cl->qlen - cl->qhead) * sizeof *cl->q);
            cl->qlen -= cl->qhead;
            cl->qhead = 0;
        }
        if (cl->qlen == cl->qcap) {
            cl->qcap = cl->qcap ? cl->qcap * 2 : 64;
            cl->q = xrealloc(cl->q, cl->qcap * sizeof *cl->q);
        }
    }
    cl->q[cl->qlen++] = p;
}

void
rcluster_flush(struct rcluster *cl)
{
    for (int i = 0; i < cl->n; i++)
        rconn_flush(cl->links[i]);
}

redisReply *
rcluster_reply(struct rcluster *cl)
{
    if (cl->qhead == cl->qlen || !rcluster_is_up(cl))
        return NULL;
    struct pend p = cl->q[cl->qhead++];
    if (cl->qhead == cl->qlen)
        cl->qhead = cl->qlen = 0;
    struct rconn *l = cl->links[p.node];
    redisReply *r = rconn_reply(l);
    if (!r)
        rcluster_mark_down(cl, rconn_errstr(l));
    else
        r = follow(cl, r, p.argc, (const char **)p.argv, p.lens);
    pend_free(&p);
    return r;
}

void
rcluster_set_timeout(struct rcluster *cl, int64_t ms)
{
    for (int i = 0; i < cl->n; i++)
        rconn_set_timeout(cl->links[i], ms);
}

void
rcluster_arena_begin(struct rcluster *cl, struct arena *a)
{
    cl->arena = a;
    for (int i = 0; i < cl->n; i++)
        rconn_arena_begin(cl->links[i], a);
}

void
rcluster_arena_end(struct rcluster *cl)
{
    cl->arena = NULL;
    for (int i = 0; i < cl->n; i++)
        rconn_arena_end(cl->links[i]);
}

int
rcluster_nodes(const struct rcluster *cl)
{
    return cl->map.nnodes;
}

struct rconn *
rcluster_node(struct rcluster *cl, int i)
{
    return i >= 0 && i < cl->n ? cl->links[i] : NULL;
}

int
rcluster_node_for_key(const struct rcluster *cl, const char *key, size_t len)
{
    int o = cl->map.owner[cluster_key_slot(key, len)];
    return o >= 0 && o < cl->map.nnodes ? o : 0;
}

bool
rcluster_has_merge(const struct rcluster *cl)
{
    return cl->mhead < cl->mlen;
}

/* Read the parts of the oldest split XREAD and merge them: nil when every
 * part was nil, the first error if one failed, else one array of every
 * part's [key, entries] pairs (taken from the parts, which are freed). */
int
rcluster_take(struct rcluster *cl, redisReply **out)
{
    *out = NULL;
    if (cl->mhead == cl->mlen)
        return 0;
    int parts = cl->merges[cl->mhead++];
    redisReply **r = xcalloc((size_t)(parts ? parts : 1), sizeof *r);
    size_t total = 0;
    int err = -1, lost = 0;
    for (int i = 0; i < parts; i++) {
        if (!(r[i] = rcluster_reply(cl)))
            lost = 1;
        else if (r[i]->type == REDIS_REPLY_ERROR && err < 0)
            err = i;
        else if (r[i]->type == REDIS_REPLY_ARRAY)
            total += r[i]->elements;
    }
    redisReply *m = NULL;
    if (!lost && err >= 0) {
        m = r[err];
        r[err] = NULL;
    } else if (!lost && total == 0) {
        for (int i = 0; i < parts && !m; i++)
            if (r[i]->type == REDIS_REPLY_NIL || r[i]->type == REDIS_REPLY_ARRAY) {
                m = r[i];
                r[i] = NULL;
            }
    } else if (!lost) {
        m = xcalloc(1, sizeof *m);
        m->type = REDIS_REPLY_ARRAY;
        m->element = xcalloc(total, sizeof *m->element);
        for (int i = 0; i < parts; i++) {
            if (r[i]->type != REDIS_REPLY_ARRAY)
                continue;
            for (size_t e = 0; e < r[i]->elements; e++)
                m->element[m->elements++] = r[i]->element[e];
            free(r[i]->element);
            r[i]->element = NULL;
            r[i]->elements = 0;
        }
    }
    for (int i = 0; i < parts; i++)
        if (r[i])
            freeReplyObject(r[i]);
    free(r);
    if (cl->mhead == cl->mlen)
        cl->mhead = cl->mlen = 0;
    if (lost || !m)
        return -1;
    *out = m;
    return 1;
}

/* ---- printf-style commands ---- */

static long
num_line(const char **p, const char *end, char lead)
{
    if (*p >= end || **p != lead)
        return -1;
    char *e;
    long v = strtol(*p + 1, &e, 10);
    if (e + 1 >= end || e[0] != '\r' || e[1] != '\n' || v < 0)
        return -1;
    *p = e + 2;
    return v;
}

int
rcluster_split(const char *resp, size_t len, int *argc, const char ***argv, size_t **lens)
{
    const char *p = resp, *end = resp + len;
    long n = num_line(&p, end, '*');
    if (n <= 0 || n > 1 << 20)
        return -1;
    /* one block: the pointer array, the lengths, then the argument bytes
     * copied NUL-terminated */
    size_t head = (size_t)n * (sizeof(char *) + sizeof(size_t));
    char *blk = xmalloc(head + len + (size_t)n);
    const char **av = (const char **)blk;
    size_t *lv = (size_t *)(blk + (size_t)n * sizeof(char *));
    char *out = blk + head;
    for (long i = 0; i < n; i++) {
        long l = num_line(&p, end, '$');
        if (l < 0 || (size_t)(end - p) < (size_t)l + 2) {
            free(blk);
            return -1;
        }
        memcpy(out, p, (size_t)l);
        out[l] = '\0';
        av[i] = out;
        lv[i] = (size_t)l;
        out += l + 1;
        p += l + 2;
    }
    *argc = (int)n;
    *argv = av;
    *lens = lv;
    return 0;
}
