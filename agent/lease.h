/*
 * lease: the HA leader lease of one endpoint, kept in that endpoint's Redis
 * ([agent] ha = on). Several agents watch the same Redis and all of them
 * ingest; the one holding the lease sends the notifications.
 *
 * The lease is one hash, <prefix>:bullwatch:lease, the only key bullwatch
 * ever writes without an operator's command:
 *   holder  the ha_id of the agent that holds (or last held) it
 *   run     a nonce of that run of the agent: the lease is ours for our
 *           ha_id and run only, so a restarted agent (or a second one given
 *           the same ha_id by mistake) waits for it like any other
 *   token   the fencing token: +1 each time the holder changes, so it
 *           survives expiry and only grows (the key has no TTL)
 *   until   when it expires, in Redis's own clock (TIME, ms)
 *   clear   the holder's delivery watermark: every notification the holder
 *           created before this time (its clock, ms) is delivered or given
 *           up (followers drop their copies of those rows)
 * One Lua script (agent/lua/lease.lua) takes it when free or expired,
 * renews it when ours, or answers who holds it and for how long; all times
 * come from the server, so the agents' clocks do not have to agree.
 *
 * DESIGN: fail safe. The agent may send only while lease_leading() says
 * so, and that is decided on the agent's monotonic clock from the moment
 * the renewing request was sent (an upper bound of when Redis stamped it),
 * minus a margin for clock drift: the local view expires before Redis's
 * does, never after. A renewal that fails (Redis down, a timeout, an error
 * reply) changes nothing until that local expiry, then the agent is a
 * follower, so two agents never both believe they lead. Renewals run from
 * the agent's loop timer every lease/3 on the command link (synchronous,
 * bounded by its command timeout); a follower tries again when the
 * holder's lease would expire, so a takeover happens within one lease time
 * after the leader stops. A clean shutdown releases the lease (until = 0).
 *
 * Pure parts (the reply decoder, the leader header) are separate functions
 * for the unit tests.
 */
#ifndef AGENT_LEASE_H
#define AGENT_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

struct rconn;

#define LEASE_ID_MAX 128
#define LEASE_HEADER_MAX (LEASE_ID_MAX + 32)
/* The local view ends this much before the lease (drift between the
 * agent's clock and Redis's, over one lease time): lease_ms / 20, at
 * least 50 ms. */
#define LEASE_DRIFT_DIV 20

struct lease;

/* rc (borrowed, outlives the lease) carries the commands; key is copied;
 * id is this agent's ha_id. */
struct lease *lease_new(struct rconn *rc, const char *key, const char *id, int64_t lease_ms);
void lease_free(struct lease *l);

/* Renew or try to take the lease when due (call from the loop's timers;
 * mono is the monotonic clock in ms, clear the delivery watermark to
 * publish while leading). Logs once per change of leader. */
void lease_tick(struct lease *l, int64_t mono, int64_t clear);
/* When the loop must look again (mono ms): the next tick, or the end of
 * the local view while leading, whichever is first. */
int64_t lease_next_at(const struct lease *l);
/* Give the lease up (clean shutdown): a follower takes it at its next try. */
void lease_release(struct lease *l);

/* Held now, by the local (safe) view. */
bool lease_leading(const struct lease *l, int64_t mono);
int64_t lease_token(const struct lease *l);
const char *lease_id(const struct lease *l);
/* The holder last seen ("" when none is known), its token, and its clear
 * watermark (0: none published). */
const char *lease_holder(const struct lease *l);
int64_t lease_holder_clear(const struct lease *l);
/* Leadership changed since the last call (either way): reset by the call. */
bool lease_changed(struct lease *l);

/* What the lease key says now (status; a one-shot, blocking read on rc):
 * 0, or -1 when Redis did not answer. exists false: no agent ever took it. */
struct lease_view {
    bool exists, held;       /* held: not expired */
    char holder[LEASE_ID_MAX];
    int64_t token, remaining_ms; /* remaining < 0: expired that long ago */
};
int lease_read(struct rconn *rc, const char *key, struct lease_view *out);
/* One line for `status`: "ha: leader 'ID' (token N, 8.4 s left)" etc. */
void lease_view_line(const struct lease_view *v, char *out, size_t outlen);

/* ---- pure parts ---- */

/* The script's reply: {held 0|1, token, holder, remaining ms, clear}. 0, or
 * -1 for another shape (an error reply, a script not ours). holder is
 * copied (at most LEASE_ID_MAX - 1 bytes). */
struct lease_reply {
    bool held;
    int64_t token, remaining_ms, clear;
    char holder[LEASE_ID_MAX];
};
int lease_parse_reply(const redisReply *r, struct lease_reply *out);
/* "ID;token=N": the X-Bullwatch-Leader header's value. */
void lease_header_value(const char *id, int64_t token, char *out, size_t outlen);
/* The key of an endpoint's lease: "<prefix>:bullwatch:lease". */
void lease_key(const char *prefix, char *out, size_t outlen);
/* A default ha_id: "<hostname>:<pid>" (stable for this run of the agent). */
void lease_default_id(char *out, size_t outlen);
/* Local validity after a renewal sent at sent_mono that Redis answered
 * with remaining ms: sent_mono + remaining - drift margin. */
int64_t lease_local_until(int64_t sent_mono, int64_t remaining_ms, int64_t lease_ms);

#endif
