/*
 * cluster: the pure part of Redis Cluster support: which hash slot a key
 * lives in, the slot map read from CLUSTER SLOTS, MOVED/ASK redirections,
 * and whether a BullMQ queue's keys can live in a cluster at all.
 *
 * DESIGN: no I/O here. Whoever holds the links (a router of one link per
 * master) asks this module where a key goes and what a redirection says;
 * the module answers from literal inputs, so all of it is unit-tested.
 * BullMQ's cluster layouts (bullmq-internals.md): the prefix carries the
 * hash tag ("{bull}": every queue in one slot, so on one node) or each
 * queue name does ("{pay}": every key of one queue in one slot, queues
 * spread over the nodes). A queue with neither cannot run in a cluster:
 * its scripts touch keys of several slots (CROSSSLOT).
 */
#ifndef AGENT_CLUSTER_H
#define AGENT_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#define CLUSTER_SLOTS 16384
#define CLUSTER_HOST_LEN 256

/* The slot of a key: CRC16 (XMODEM) of the key, or of its hash tag (the
 * bytes between the first '{' and the next '}' when there are any),
 * modulo 16384: Redis's own rule. */
int cluster_key_slot(const char *key, size_t len);

/* Does this key have a non-empty hash tag? */
bool cluster_key_tagged(const char *key, size_t len);

/* The slot every key of queue `queue` under `prefix` lives in, or -1 when
 * the keys would be spread over slots (neither the prefix nor the name
 * carries a hash tag). */
int cluster_queue_slot(const char *prefix, const char *queue);

struct cluster_node {
    char host[CLUSTER_HOST_LEN];
    int port;
    char id[48]; /* the node id (40 hex) or "" when the reply had none */
};

/* Which master serves each slot. */
struct cluster_map {
    struct cluster_node *nodes; /* the masters, in order of first appearance */
    int nnodes;
    int16_t owner[CLUSTER_SLOTS]; /* index into nodes, -1 for an unserved slot */
};

/* Fill m from a CLUSTER SLOTS reply; an empty or missing host (a node that
 * does not know its own address) is `seed_host`, the address we asked.
 * 0, or -1 with a message in err when the reply is not CLUSTER SLOTS's shape. */
int cluster_map_parse(struct cluster_map *m, const redisReply *r, const char *seed_host,
                      char *err, size_t errlen);
void cluster_map_release(struct cluster_map *m);
/* How many slots no master serves. */
int cluster_map_unserved(const struct cluster_map *m);
/* The node serving slot, or NULL. */
const struct cluster_node *cluster_map_node(const struct cluster_map *m, int slot);

/* A MOVED or ASK error reply ("MOVED 3999 127.0.0.1:6381", an IPv6 host
 * as "::1:6381" or "[::1]:6381"). ask tells which. 0, or -1 when the
 * text is neither. */
struct cluster_redirect {
    bool ask;
    int slot;
    char host[CLUSTER_HOST_LEN];
    int port;
};
int cluster_redirect_parse(const char *err, size_t len, struct cluster_redirect *out);

#endif
