/*
 * rconn: one synchronous hiredis connection with connect/command timeouts,
 * AUTH (ACL user) and SELECT, reconnect with exponential backoff and jitter,
 * and state changes logged once (not once per retry).
 *
 * DESIGN: the agent runs one thread. The stream reader owns one rconn and
 * blocks in XREAD for at most `block` ms; everything else (discovery,
 * depths, job hashes) goes pipelined through a second rconn. A reply is
 * owned by the caller (freeReplyObject).
 * A rediss:// endpoint's link speaks TLS (tls.h): hiredis then only formats
 * commands and parses replies, rconn moves the bytes through OpenSSL on a
 * non-blocking descriptor (blocking calls poll() with their timeout), and
 * the TLS handshake of rconn_ensure_async goes on in steps without
 * blocking the loop. The same calls work on both kinds of link.
 */
#ifndef AGENT_RCONN_H
#define AGENT_RCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "config.h"

struct rconn;

/* ep is borrowed and must outlive the rconn. role names the link in logs
 * and in CLIENT SETNAME (bullwatch:<role>). */
struct rconn *rconn_new(const struct redis_endpoint *ep, const char *label, const char *role,
                        int64_t timeout_ms);
void rconn_free(struct rconn *rc);

/* Connect if down and the backoff allows. 0 when up, -1 otherwise. */
int rconn_ensure(struct rconn *rc);
/* The same without blocking (the agent's loop): a connect is started and
 * later calls see it finish (rconn_fd asks for POLLOUT while it is under
 * way); the handshake then runs with the command timeout. */
int rconn_ensure_async(struct rconn *rc);
/* Connect now, ignoring backoff (one-shot commands). */
int rconn_connect_now(struct rconn *rc);
bool rconn_is_up(const struct rconn *rc);
const char *rconn_errstr(const struct rconn *rc);
/* Milliseconds until the next reconnect attempt is allowed (0 if now). */
int64_t rconn_retry_in(const struct rconn *rc);

/* Run one command. NULL on I/O error (the link is then marked down).
 * An error reply is returned as a REDIS_REPLY_ERROR reply. */
redisReply *rconn_cmd(struct rconn *rc, int argc, const char **argv, const size_t *lens);
/* printf-style command (hiredis format). */
redisReply *rconn_cmdf(struct rconn *rc, const char *fmt, ...);
/* Pipelining: append commands, then read replies in order. */
void rconn_append(struct rconn *rc, int argc, const char **argv, const size_t *lens);
void rconn_appendf(struct rconn *rc, const char *fmt, ...);
/* Write appended commands to the socket now (without waiting for replies),
 * so that Redis works on them while the caller does something else. */
void rconn_flush(struct rconn *rc);
/* NULL on I/O error; the remaining replies of the pipeline are lost. */
redisReply *rconn_reply(struct rconn *rc);
/* Command timeout for the following calls (XREAD BLOCK needs block+grace). */
void rconn_set_timeout(struct rconn *rc, int64_t ms);
/* Report an I/O-level failure seen by the caller (e.g. a bad reply shape). */
void rconn_mark_down(struct rconn *rc, const char *why);

/* Driving a link from a poll() loop (the agent's stream link): the
 * descriptor and the events to wait for (POLLOUT while connecting or while
 * commands wait to be written), -1 when there is none. */
int rconn_fd(const struct rconn *rc, short *events);
/* Write what is buffered: 0 all written, 1 more to write, -1 link down. */
int rconn_write_some(struct rconn *rc);
/* Read what the socket has (call when poll() says readable). 0 / -1 down. */
int rconn_read_some(struct rconn *rc);
/* A whole reply from what was read: 1 (in *out), 0 not yet, -1 down. */
int rconn_take(struct rconn *rc, redisReply **out);

/* A cluster link has no descriptor to wait on: its replies are read when
 * asked for. True when a reply is waiting to be taken that way (call
 * rconn_take without poll()). Always false for one Redis. */
bool rconn_replies_ready(const struct rconn *rc);
/* Is this such a link (a cluster endpoint)? */
bool rconn_sync(const struct rconn *rc);

/* From the next (re)connection on, build every reply of this link in the
 * arena (see arena.h): callers then release replies with arena_reset()
 * instead of freeReplyObject(). The arena is borrowed. */
struct arena;
void rconn_use_arena(struct rconn *rc, struct arena *a);
/* Build the replies read until rconn_arena_end() in arena a (released by
 * the caller with arena_reset); for bursts such as a batch of HGETALLs. */
void rconn_arena_begin(struct rconn *rc, struct arena *a);
void rconn_arena_end(struct rconn *rc);
/* Release a reply of this link (freeReplyObject, or nothing in arena mode). */
void rconn_reply_free(struct rconn *rc, redisReply *r);

/* The nodes behind the link: 1 (the link itself) for one Redis, the
 * masters of a cluster endpoint (rcluster.h), for commands every node
 * must run (SCAN). rconn_node is NULL past the last. */
int rconn_nodes(const struct rconn *rc);
struct rconn *rconn_node(struct rconn *rc, int i);
/* Which of those nodes serves key (0 for one Redis). */
int rconn_node_for_key(const struct rconn *rc, const char *key, size_t len);
/* redis+sentinel:// links: the generation of the master's address this
 * link is connected to (see sentinel.h); links of one endpoint on the same
 * master have the same one. 0 for other endpoints. */
uint64_t rconn_master_gen(const struct rconn *rc);

/* Warn once if maxmemory-policy is not noeviction (BullMQ's own rule). */
void rconn_check_policy(struct rconn *rc);

#endif
