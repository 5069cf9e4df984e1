/*
 * engine: evaluates the alert rules inside the agent. Counters come from
 * the ingest (per queue, per minute, kept in memory for the longest window
 * and reloaded from the store at start, so a restart keeps its windows);
 * gauges from each depth poll (per-minute samples, also reloaded). Rules
 * reading a counter are evaluated right after the events that move it;
 * every rule on the poll timer. Transitions are stored, silences applied,
 * notifications queued in the outbox.
 */
#ifndef BW_ENGINE_H
#define BW_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "ingest.h"
#include "queues.h"
#include "store.h"

struct engine;

/* NULL (with err) only on a bad rule or sink, which config loading has
 * already refused. */
struct engine *engine_new(const struct config *cfg, struct store *st, int64_t now, char *err,
                          size_t errlen);
void engine_free(struct engine *e);
int engine_nrules(const struct engine *e);

/* The ingest's observer (ingest_set_observer): what is an enum
 * ingest_count. */
void engine_count(void *engine, const char *queue, int what, int64_t minute, int delta);

/* The latest poll; ok false when Redis could not be polled (gauges then
 * have no value, which `absent(waiting)` sees). */
void engine_depths(struct engine *e, const struct queue_list *l, const struct queue_depth *d,
                   bool ok, int64_t now);

/* Evaluate: every rule (timer), or the event-driven rules of queues whose
 * counters moved since the last call. Returns how many notifications were
 * queued. */
int engine_eval(struct engine *e, int64_t now, bool timer);

/* Move deliveries along; transfers in flight. */
void engine_pump(struct engine *e, int64_t now);
int engine_inflight(const struct engine *e);
bool engine_delivers(const struct engine *e); /* has sinks */

#endif
