/*
 * queues: discovery (SCAN <prefix>:*:meta, include/exclude globs) and the
 * pipelined depth poll of every state, shared by the agent and `status`.
 */
#ifndef AGENT_QUEUES_H
#define AGENT_QUEUES_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "rconn.h"

struct queue_list {
    char **names; /* sorted, unique */
    int n;
};

struct queue_depth {
    bool ok;
    int64_t wait_list, paused_list; /* LLEN wait, LLEN paused */
    int64_t waiting;                /* wait + paused: getJobCounts().waiting (+paused on 5.x) */
    int64_t active, prioritized, delayed, completed, failed, waiting_children;
    bool paused; /* HEXISTS meta paused */
    int workers; /* -1 when CLIENT LIST is refused */
    int64_t oldest_waiting_ms; /* age of the next job in wait/paused; -1 none */
    char version[40];          /* meta version ("bullmq:5.71.0") */
    int64_t agent_lag_ms;      /* filled by the agent from its ingest; -1 unknown */
    int64_t polled_at;         /* wall ms of the poll */
    /* dead but not failed yet (-1: not looked at this poll; 0 where a live
     * worker settles them), looked for where none can (no live worker, or
     * workers unknown):
     * jobs the stall limit sent back to wait with `defa` set (they fail
     * when a worker picks them up), and jobs in active whose lock is gone */
    int64_t deferred, orphaned;
};

/* How many jobs at the end of wait and the head of active are looked at
 * per queue, and how many queues per poll (the rest on later polls). */
#define DEAD_PENDING_JOBS 20
#define DEAD_PENDING_QUEUES 25

/* SCAN for queues. 0 with the sorted list in out (free with
 * queue_list_release), -1 when Redis failed. */
int queues_discover(struct rconn *rc, const struct config *cfg, struct queue_list *out);
void queue_list_release(struct queue_list *l);
/* index of name in l, or -1 */
int queue_list_find(const struct queue_list *l, const char *name);
bool queue_is_dlq(const struct config *cfg, const char *name);

/* Edit distance between a and b (bytes; each compared up to 255 bytes, so
 * the cost stays bounded whatever the names). Pure. */
int queue_name_distance(const char *a, const char *b);
/* The (at most) 3 names of l closest to name, "'a', 'b'" escaped for a
 * terminal, into out ("" when l is empty). Pure. */
void queue_closest(const struct queue_list *l, const char *name, char *out, size_t len);

/* Does queue name have any BullMQ key under the prefix (meta, id, events, a
 * state)? 1 yes; 0 no, with "no queue 'x' under prefix 'p' (closest: ...)"
 * in msg (the names from a discovery); -1 when Redis failed (msg says so).
 * One EXISTS, and a SCAN only when the queue is unknown. For dlq and the TUI. */
int queue_check(struct rconn *rc, const struct config *cfg, const char *name, char *msg,
                size_t len);

/* When no queue is found under the prefix: one line saying so, the other
 * prefixes that do have BullMQ queues ("<p>:<queue>:meta", at most 10,
 * a bounded part of the keyspace scanned), and that fleets kept in
 * PostgreSQL (BullMQ 6) are not watched. For status, the agent, the TUI. */
void queues_none_hint(struct rconn *rc, const char *prefix, char *out, size_t len);

/* Poll depths of every queue in l, pipelined. out has l->n entries.
 * 0, or -1 when Redis failed. */
int queues_poll(struct rconn *rc, const char *prefix, const struct queue_list *l,
                struct queue_depth *out, int64_t now);

#endif
