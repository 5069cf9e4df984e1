/*
 * endpoint: one watched Redis inside the agent, a [redis] or [redis NAME]
 * section: its own command and stream links, reply arena, ingest, queue
 * list, depths, pick state and timers. The agent's loop (cmd_agent.c)
 * drives each endpoint the same way and waits on all their links in one
 * poll(); the commit window, the store and the alert engine are shared.
 *
 * DESIGN: the struct is the loop's plain state and its one user is
 * cmd_agent.c, so its fields are open (like struct queue_depth). Its cfg is
 * a view of the agent's config (config_endpoint): the modules that take a
 * config (ingest, queues, links) read this endpoint's [redis] fields from
 * it and everything else from the shared sections. The struct is on the
 * heap and never moves: the links and the ingest keep pointers into cfg.
 */
#ifndef AGENT_ENDPOINT_H
#define AGENT_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "queues.h"

struct arena;
struct ingest;
struct rconn;
struct store;
struct window;

struct lease;

struct endpoint {
    struct config cfg; /* the view: borrowed strings of the agent's config */
    int index;         /* in the config's endpoints */
    char *label;       /* for messages: "NAME (host:port/db)", or the address alone if it is the only one */
    struct rconn *cmd, *srd;
    struct arena *arena;
    struct ingest *ing;
    struct queue_list ql;
    struct queue_depth *depths;
    bool *pick;      /* the queues this poll reads */
    int poll_cursor; /* where the next slice of the others starts */
    bool polled;     /* depths holds a poll */
    bool have_queues, had_queues, policy_checked, links_up;
    int64_t next_discover, next_poll, next_outage_eval;
    int64_t next_sync_read; /* a cluster's stream link: the next read after an empty one */
    struct lease *lease;    /* [agent] ha = on: the endpoint's leader lease (lease.h) */
    uint64_t master_gen;    /* Sentinel: the master the links are on (failover.h) */
    bool forget_due;        /* a switch seen: the old master's lost rows to drop */
    int64_t first_read, last_read; /* mono ms of the first and last entries read (--drain) */
};

/* Endpoint i of cfg (which must outlive it, or be handed to
 * endpoint_rebind before it goes). */
struct endpoint *endpoint_new(const struct config *cfg, int i, struct store *st,
                              struct window *win);
void endpoint_free(struct endpoint *ep);
/* The view again from a reloaded cfg (the [redis] fields are the same:
 * a change there takes a restart). */
void endpoint_rebind(struct endpoint *ep, const struct config *cfg);
/* Install a discovery's list (taken over): the depths of queues still there
 * carry over. Only with the window closed (the ingest's table changes). */
void endpoint_set_queues(struct endpoint *ep, struct queue_list *fresh);
/* Bring the links up without blocking (rconn_ensure_async), and notice a
 * stream link lost or an XREAD overdue. Sets links_up. */
void endpoint_links(struct endpoint *ep);

#endif
