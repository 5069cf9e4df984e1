/*
 * engine: evaluates the alert rules inside the agent. Counters come from
 * the ingest (per queue, per minute, kept in memory for the longest window
 * and reloaded from the store at start, so a restart keeps its windows);
 * gauges from each depth poll (per-minute samples, also reloaded). Rules
 * reading a counter are evaluated right after the events that move it;
 * every rule on the poll timer. Transitions are stored, silences applied,
 * notifications queued in the outbox.
 *
 * DESIGN: the engine proposes, the commit window decides. Counts arrive
 * staged (evaluations see them), transitions, alert state and outbox rows
 * are written into the agent's commit window, and the alert slots they
 * change keep their committed copy: when the window commits the counts join
 * the windows and the slots stay; when it rolls back both go back to what
 * the store has, and the next evaluation proposes the same transitions
 * again. Nothing is counted twice and no notification is marked sent
 * unless its outbox row is committed.
 *
 * Alertmanager api sinks are pushed to again while an alert fires: the
 * timer evaluation (never the per-event one) adds a 'repush' outbox row
 * every resend_interval (the rule's shortest), with the current value and
 * endsAt ahead, in the same window as everything else; the outbox
 * coalesces them. The push time lives in the slot (rolled back with it)
 * and not in the store: after a restart the first timer evaluation pushes.
 * While an alert fires its current value reaches alert_state at most every
 * 10 s (the TUI shows it). Notices of rules on failures, retries, failed
 * or dlq_size carry a context read from the store at the send (top
 * signatures, newest dead jobs, the `bullwatch dlq list` command).
 *
 * A rule reading new_signatures[w] is one alert per new error signature
 * (labels endpoint, queue, signature): the ingest tells the engine of each
 * signature the store's queue_signatures never had, staged like a count;
 * those first seen within the rule's window are kept per queue (reloaded
 * at start). At most max_new_signatures of them notify per queue within
 * the window; the rest are held and the queue's own alert of the rule is
 * their summary. baseline(x[w], Nd) reads the store's minute_counts of the
 * previous days (cached per queue for the minute).
 */
#ifndef BW_ENGINE_H
#define BW_ENGINE_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "ingest.h"
#include "queues.h"
#include "store.h"

struct engine;
struct window;

/* NULL (with err) only on a bad rule or sink, which config loading has
 * already refused. */
struct engine *engine_new(const struct config *cfg, struct store *st, struct window *win,
                          int64_t now, char *err, size_t errlen);
void engine_free(struct engine *e);
int engine_nrules(const struct engine *e);

/* The ingest's observer (ingest_set_observer): what is an enum
 * ingest_count. */
void engine_count(void *engine, const char *queue, int what, int64_t minute, int delta);
/* Several endpoints: the observer of endpoint i's ingest is engine_count_obs
 * with ud engine_observer(e, i) (valid while e lives). engine_count counts
 * for the first endpoint. Queues of two endpoints are two alert identities
 * (label endpoint). */
void engine_count_obs(void *obs, const char *queue, int what, int64_t minute, int delta);
void *engine_observer(struct engine *e, int endpoint);
/* The ingest's signature observer (ingest_set_sig_observer): a signature
 * the store never saw on the queue, staged until the window commits. */
void engine_signature(void *engine, const char *queue, const char *signature,
                      int64_t first_seen);
/* The ingest's retry observer (ingest_set_retry_observer): a retry due at
 * due_ms, staged until the window commits. Kept in memory (a restart
 * reads the stream on from its committed cursor, so only the retries
 * scheduled before that are not known to the next agent). */
void engine_retry(void *engine, const char *queue, int64_t due_ms);
/* How long the per-minute counts must be kept: the store's retention, or
 * longer when a rule's baseline reaches further back (ms). */
int64_t engine_history_ms(const struct engine *e, int64_t retention_ms);
/* The same for endpoint i's ingest (ud engine_observer(e, i)). */
void engine_signature_obs(void *obs, const char *queue, const char *signature,
                          int64_t first_seen);
void engine_retry_obs(void *obs, const char *queue, int64_t due_ms);

/* The latest poll; ok false when Redis could not be polled (gauges then
 * have no value, which `absent(waiting)` sees). */
void engine_depths(struct engine *e, const struct queue_list *l, const struct queue_depth *d,
                   bool ok, int64_t now);
/* The same for the endpoint called endpoint (engine_depths: the first). */
void engine_depths_at(struct engine *e, const char *endpoint, const struct queue_list *l,
                      const struct queue_depth *d, bool ok, int64_t now);

/* Evaluate: every rule (timer), or the event-driven rules of queues whose
 * counters moved since the last call. Returns how many notifications were
 * queued in the window, or -1 when a write failed (the caller drops the
 * window with window_failed). */
int engine_eval(struct engine *e, int64_t now, bool timer);

/* Move deliveries along (finished ones are recorded in the window; new
 * ones start only from committed rows: call with the window closed);
 * transfers in flight. */
void engine_pump(struct engine *e, int64_t now);
int engine_inflight(const struct engine *e);
/* The deliveries' descriptors and timer, for the agent's poll(). */
int engine_fds(struct engine *e, struct pollfd *p, int max);
int64_t engine_wait_ms(struct engine *e, int64_t now);
bool engine_delivers(const struct engine *e); /* has sinks */
/* The outbox (NULL without sinks), for the agent's HA hooks (outbox.h). */
struct outbox *engine_outbox(struct engine *e);

#endif
