/* cluster: hash slots, the slot map and redirections (see cluster.h). */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

/* CRC16-CCITT, polynomial 0x1021, initial value 0, no reflection (the
 * "XMODEM" variant Redis Cluster uses: its check value for "123456789" is
 * 0x31C3). Bitwise: a key is at most a few hundred bytes. */
static uint16_t
crc16(const unsigned char *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* The hash tag's bytes: [*at, *at + *n), or false when there is none. */
static bool
hash_tag(const char *key, size_t len, size_t *at, size_t *n)
{
    const char *open = memchr(key, '{', len);
    if (!open)
        return false;
    size_t s = (size_t)(open - key) + 1;
    const char *close = memchr(key + s, '}', len - s);
    if (!close || close == key + s) /* "{}" hashes the whole key */
        return false;
    *at = s;
    *n = (size_t)(close - (key + s));
    return true;
}

int
cluster_key_slot(const char *key, size_t len)
{
    size_t at, n;
    if (hash_tag(key, len, &at, &n))
        return crc16((const unsigned char *)key + at, n) & (CLUSTER_SLOTS - 1);
    return crc16((const unsigned char *)key, len) & (CLUSTER_SLOTS - 1);
}

bool
cluster_key_tagged(const char *key, size_t len)
{
    size_t at, n;
    return hash_tag(key, len, &at, &n);
}

int
cluster_queue_slot(const char *prefix, const char *queue)
{
    /* BullMQ's keys are PREFIX:QUEUE:SUFFIX; the first '{...}' decides,
     * and it is in the prefix or the name whatever the suffix */
    size_t pl = strlen(prefix), ql = strlen(queue);
    char *k = xmalloc(pl + ql + 9);
    memcpy(k, prefix, pl);
    k[pl] = ':';
    memcpy(k + pl + 1, queue, ql);
    memcpy(k + pl + 1 + ql, ":events", 8);
    size_t len = pl + ql + 8;
    size_t at, n;
    /* the tag must end before the suffix: "{bull" + ":q:events" has none,
     * and a '}' in the suffix never occurs */
    int slot = hash_tag(k, len, &at, &n) && at + n <= pl + 1 + ql ? cluster_key_slot(k, len) : -1;
    free(k);
    return slot;
}

/* ---- the slot map ---- */

static int
node_index(struct cluster_map *m, const char *host, int port, const char *id)
{
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].port == port && !strcmp(m->nodes[i].host, host))
            return i;
    m->nodes = xrealloc(m->nodes, (size_t)(m->nnodes + 1) * sizeof *m->nodes);
    struct cluster_node *n = &m->nodes[m->nnodes];
    memset(n, 0, sizeof *n);
    snprintf(n->host, sizeof n->host, "%s", host);
    n->port = port;
    snprintf(n->id, sizeof n->id, "%s", id);
    return m->nnodes++;
}

static bool
is_str(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

int
cluster_map_parse(struct cluster_map *m, const redisReply *r, const char *seed_host, char *err,
                  size_t errlen)
{
    memset(m, 0, sizeof *m);
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        m->owner[s] = -1;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "CLUSTER SLOTS: %s",
                 r && r->type == REDIS_REPLY_ERROR ? r->str : "not an array");
        return -1;
    }
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        /* [start, end, [host, port, id, ...], replicas...] */
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2 ||
            !(is_str(e->element[2]->element[0]) || e->element[2]->element[0]->type == REDIS_REPLY_NIL) ||
            e->element[2]->element[1]->type != REDIS_REPLY_INTEGER) {
            snprintf(err, errlen, "CLUSTER SLOTS: range %zu has an unexpected shape", i);
            cluster_map_release(m);
            return -1;
        }
        long long lo = e->element[0]->integer, hi = e->element[1]->integer;
        const redisReply *mn = e->element[2];
        long long port = mn->element[1]->integer;
        if (lo < 0 || hi >= CLUSTER_SLOTS || lo > hi || port <= 0 || port > 65535) {
            snprintf(err, errlen, "CLUSTER SLOTS: range %lld-%lld on port %lld is out of bounds",
                     lo, hi, port);
            cluster_map_release(m);
            return -1;
        }
        const char *host = is_str(mn->element[0]) && mn->element[0]->len > 0 &&
                                   strcmp(mn->element[0]->str, "?")
                               ? mn->element[0]->str
                               : seed_host;
        const char *id = mn->elements >= 3 && is_str(mn->element[2]) ? mn->element[2]->str : "";
        int k = node_index(m, host, (int)port, id);
        for (long long s = lo; s <= hi; s++)
            m->owner[s] = (int16_t)k;
    }
    return 0;
}

void
cluster_map_release(struct cluster_map *m)
{
    free(m->nodes);
    m->nodes = NULL;
    m->nnodes = 0;
}

int
cluster_map_unserved(const struct cluster_map *m)
{
    int n = 0;
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        n += m->owner[s] < 0;
    return n;
}

const struct cluster_node *
cluster_map_node(const struct cluster_map *m, int slot)
{
    if (slot < 0 || slot >= CLUSTER_SLOTS || m->owner[slot] < 0)
        return NULL;
    return &m->nodes[m->owner[slot]];
}

/* ---- redirections ---- */

int
cluster_redirect_parse(const char *err, size_t len, struct cluster_redirect *out)
{
    char buf[CLUSTER_HOST_LEN + 64];
    memset(out, 0, sizeof *out);
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, err, len);
    buf[len] = '\0';
    char *p;
    if (!strncmp(buf, "MOVED ", 6))
        p = buf + 6;
    else if (!strncmp(buf, "ASK ", 4))
        p = buf + 4, out->ask = true;
    else
        return -1;
    char *end;
    long slot = strtol(p, &end, 10);
    if (end == p || *end != ' ' || slot < 0 || slot >= CLUSTER_SLOTS)
        return -1;
    char *addr = end + 1;
    char *colon = strrchr(addr, ':'); /* the port follows the last ':' (IPv6) */
    if (!colon || colon == addr)
        return -1;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port <= 0 || port > 65535)
        return -1;
    *colon = '\0';
    if (addr[0] == '[' && colon[-1] == ']') { /* "[::1]:6381" */
        addr++;
        colon[-1] = '\0';
    }
    if (!addr[0] || strlen(addr) >= sizeof out->host)
        return -1;
    snprintf(out->host, sizeof out->host, "%s", addr);
    out->slot = (int)slot;
    out->port = (int)port;
    return 0;
}
