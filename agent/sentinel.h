/*
 * sentinel: where the master of a redis+sentinel:// endpoint is, asked of
 * its sentinels, and noticing when it moves.
 *
 * Owns one shared state per endpoint (every rconn of that endpoint holds a
 * reference): the master's last known address, a generation number bumped
 * whenever that address changes, and a watch link to one sentinel asked once
 * a second. Must not: send data-node commands other than ROLE, keep replies,
 * or decide anything about reconnecting (rconn does, from the generation).
 *
 * DESIGN: at each (re)connect rconn calls sentinel_resolve() (the sentinels
 * in turn, starting with the one that answered last), connects to that
 * address and checks it with sentinel_check_role(): a replica there means a
 * stale answer mid-failover, and the link retries after its backoff. A link
 * that connected at generation g reconnects as soon as sentinel_gen() != g,
 * so both links of an endpoint follow a switch that either of them, or the
 * watch, noticed. Sentinel demotes an old master with CLIENT KILL, so links
 * usually drop at once; an old master demoted otherwise keeps connections
 * open and serves stale reads, which the watch (or a READONLY reply, see
 * rconn) catches within about a second. Each switch is logged once, here.
 *
 * What blocks, and for how long: sentinel_resolve() connects and waits for
 * each sentinel's reply with SENTINEL_TIMEOUT_MS (500 ms, or the connect
 * timeout if smaller) each, so when every sentinel hangs it blocks for up to
 * nsentinels x 2 x 500 ms; one answering sentinel costs one round trip.
 * sentinel_watch() never waits: it tries connect, write and read without
 * blocking and carries on at its next call.
 */
#ifndef AGENT_SENTINEL_H
#define AGENT_SENTINEL_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "config.h"

#define SENTINEL_TIMEOUT_MS 500
#define SENTINEL_WATCH_MS   1000

struct sentinel;

/* The shared state of endpoint ep (ep->sentinel_master must be set), made
 * at the first call, counted by reference. ep is borrowed and must outlive
 * every reference. timeout_ms caps SENTINEL_TIMEOUT_MS. */
struct sentinel *sentinel_get(const struct redis_endpoint *ep, int64_t timeout_ms);
/* Drop one reference; the last one frees the state. NULL is a no-op. */
void sentinel_put(struct sentinel *sn);

/* Ask the sentinels in turn for the master's address (blocking, see
 * above): 0 with host (hostlen bytes), *port and the generation of that
 * address in *gen; -1 with every sentinel's answer in err. */
int sentinel_resolve(struct sentinel *sn, char *host, size_t hostlen, int *port, uint64_t *gen,
                     char *err, size_t errlen) __attribute__((warn_unused_result));
/* The generation of the master's address (0 before the first answer). */
uint64_t sentinel_gen(const struct sentinel *sn);
/* The watch: at most one question every SENTINEL_WATCH_MS, never waits. A
 * different answer bumps the generation (and is logged). */
void sentinel_watch(struct sentinel *sn);

/* ROLE on a connected data node (blocking, with the context's timeout):
 * 0 if it is a master, -1 with the reason in err. NULL from hiredis (I/O)
 * is -1 too, with c->errstr. A refused ROLE (ACL) is accepted. */
int sentinel_check_role(redisContext *c, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Parse a SENTINEL get-master-addr-by-name reply: 0 with host and port;
 * -1 with the reason (unknown master, error reply, bad shape). Pure. */
int sentinel_parse_addr(const redisReply *r, const char *master, char *host, size_t hostlen,
                        int *port, char *err, size_t errlen);

#endif
