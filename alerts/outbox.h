/*
 * outbox: notifications as SQLite rows (one per sink and target, written
 * before any attempt), delivered by libcurl's multi interface from the
 * agent's loop without ever blocking it. 2xx = delivered; 429, 5xx and no
 * answer retry with exponential backoff and jitter (at least Retry-After);
 * any other status gives up and records why. Only the oldest pending row of
 * a (sink, target, alert) is sent, so a resolved never overtakes its
 * firing. Rows still pending are sent after a restart.
 *
 * A row is fixed when it is created: its body (a retry posts the same
 * bytes), its message id (msg_id, the webhook-id: sink_msg_id), its target
 * (which URL of the sink). It names the sink, never its secrets: the
 * routing key and the signing key are taken from the sink's configuration
 * at send time (sink_wire_body, webhook_sign).
 *
 * Alertmanager api pushes coalesce: a new push of an alert supersedes the
 * pending ones of the same alert and target that are not in flight, so at
 * most one waits per alert and Alertmanager, and it carries the current
 * endsAt.
 */
#ifndef BW_OUTBOX_H
#define BW_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include <poll.h>

#include "sink.h"
#include "store.h"

struct outbox;
struct window;

/* The outbox writes its rows and attempt results into the agent's commit
 * window; an attempt's result stays in memory (its row is not sent again)
 * until the window that records it commits. */
struct outbox *outbox_new(struct store *st, struct window *win, const struct sinks *sinks);
void outbox_free(struct outbox *o);

/* One row per sink named in sink_list (comma-separated; empty = all) and
 * per target of each; a NOTICE_REPUSH only for the sinks that re-push
 * (sink_repushes). Written into the open window. 0 / -1. */
int outbox_add(struct outbox *o, const char *sink_list, const struct notice *n, int64_t now);

/* `bullwatch sink test`: one row (state 'test', which the agent never
 * sends) per target of sink k, their ids in ids[]; how many, or -1. Then
 * outbox_send_now() posts one through the same path as any notification
 * (body, secrets, signature, URL), once, without retry. */
int outbox_add_test(struct outbox *o, const struct sink *k, const struct notice *n, int64_t now,
                    int64_t ids[SINK_MAX_URLS]);
int outbox_send_now(struct outbox *o, int64_t id, int64_t now);
/* Called with each finished attempt: the row, the HTTP status (0: no
 * answer), the transport error or NULL, the start of the answer's body
 * (borrowed for the call). An outbox with a report function belongs to a
 * command: it sends only what outbox_send_now() starts. */
typedef void outbox_report_fn(void *ud, int64_t id, long status, const char *err,
                              const char *answer);
void outbox_set_report(struct outbox *o, outbox_report_fn *fn, void *ud);

/* Record finished attempts, start due ones (only while no window is open:
 * rows are sent once committed), move transfers along. Never blocks. now
 * is wall-clock ms. */
void outbox_pump(struct outbox *o, int64_t now);
/* The descriptors of transfers in flight, for the agent's poll() (at most
 * max); how long the loop may wait before the next pump (-1: no limit). */
int outbox_fds(struct outbox *o, struct pollfd *p, int max);
int64_t outbox_wait_ms(struct outbox *o, int64_t now);

/* Transfers in flight (the loop then wakes up often to move them). */
int outbox_inflight(const struct outbox *o);

/* ---- HA agents (agent/lease.h) ----
 * fn says whether this agent may send the rows of an endpoint now (it holds
 * that endpoint's lease) and who it is: *id (borrowed until the next loop
 * iteration) and *token, sent as X-Bullwatch-Leader and, in webhook
 * bodies, a "leader" member. Rows it may not send wait, pending. NULL fn
 * (HA off): every row is sent. */
typedef bool outbox_leader_fn(void *ud, const char *endpoint, const char **id, int64_t *token);
void outbox_set_leader(struct outbox *o, outbox_leader_fn *fn, void *ud);
/* Leadership changed: look at the pending rows again; when lost, cut every
 * transfer in flight at once (their rows stay pending, attempts unchanged,
 * for the next leader to send with the same message ids). */
void outbox_leadership(struct outbox *o, bool leading);
/* A follower's copies of what the leader has handled: pending rows of the
 * endpoint created before `before` become 'skipped' (last_error why), in
 * the open window. How many, or -1. */
int outbox_ha_skip(struct outbox *o, const char *endpoint, int64_t before, const char *why);
/* The leader's watermark: the creation time of its oldest pending row of
 * the endpoint (of a configured sink), or now when none is pending. */
int64_t outbox_ha_watermark(struct outbox *o, const char *endpoint, int64_t now);

/* Backoff before attempt n+1 after n failed ones (ms, without jitter). */
int64_t outbox_backoff_ms(int attempts);

#endif
