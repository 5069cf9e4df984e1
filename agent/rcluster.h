/*
 * rcluster: one rconn (rconn.h) that speaks to a Redis Cluster: a link per
 * master, each command sent to the master serving its key's slot, MOVED
 * and ASK followed (the map read again after a MOVED), replies handed back
 * in the order the commands were appended.
 *
 * DESIGN: rconn.c hands every call on a cluster endpoint (ep->cluster)
 * over to this module, so the CLI, the TUI and the agent's command link use
 * a cluster as they use one Redis. Each node link is itself a plain rconn
 * (its auth, timeouts, backoff and logging). What a caller must know:
 * a command without a key (SCAN, INFO, CONFIG, ROLE, ...) goes to the first
 * master: scanning every master is the caller's loop over rconn_nodes();
 * a command whose keys span slots gets Redis's CROSSSLOT error.
 * Not driven from poll(): a cluster link has no one descriptor; the
 * agent's stream link reads it synchronously (rconn_replies_ready): its
 * XREAD is split by slot and merged back (rcluster_take), so the ingest
 * sees one reply as from one Redis.
 */
#ifndef AGENT_RCLUSTER_H
#define AGENT_RCLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "config.h"

struct rconn;
struct rcluster;
struct arena;

struct rcluster *rcluster_new(const struct redis_endpoint *ep, const char *label, const char *role,
                              int64_t timeout_ms);
void rcluster_free(struct rcluster *cl);

/* Read the slot map from a seed (or a known node) and connect every
 * master. 0 when all are up, -1 with the reason in errstr. */
int rcluster_connect(struct rcluster *cl);
bool rcluster_is_up(const struct rcluster *cl);
const char *rcluster_errstr(const struct rcluster *cl);
void rcluster_mark_down(struct rcluster *cl, const char *why);

redisReply *rcluster_cmd(struct rcluster *cl, int argc, const char **argv, const size_t *lens);
void rcluster_append(struct rcluster *cl, int argc, const char **argv, const size_t *lens);
void rcluster_flush(struct rcluster *cl);
redisReply *rcluster_reply(struct rcluster *cl);
void rcluster_set_timeout(struct rcluster *cl, int64_t ms);
void rcluster_arena_begin(struct rcluster *cl, struct arena *a);
void rcluster_arena_end(struct rcluster *cl);

/* An XREAD appended on a cluster is split into one XREAD per slot, sent
 * without BLOCK; rcluster_take reads the parts of the oldest one and
 * hands back one reply (1), or 0 when none is pending, -1 when a link
 * failed. The caller calls it without waiting in poll() (no descriptor)
 * and paces rounds that came back empty. */
bool rcluster_has_merge(const struct rcluster *cl);
int rcluster_take(struct rcluster *cl, redisReply **out);

/* The masters' links (after a connect), for commands every node must run. */
int rcluster_nodes(const struct rcluster *cl);
struct rconn *rcluster_node(struct rcluster *cl, int i);
int rcluster_node_for_key(const struct rcluster *cl, const char *key, size_t len);

/* Which argument of a command is its (first) key, or -1 for none: the
 * routing rule, exposed for the tests. */
int rcluster_key_arg(int argc, const char **argv, const size_t *lens);

/* A RESP command as redisFormatCommand writes it, back into arguments
 * (for the printf-style calls). *argv and *lens point into a fresh
 * allocation the caller frees with free(*argv); -1 when it is no command. */
int rcluster_split(const char *resp, size_t len, int *argc, const char ***argv, size_t **lens);

#endif
