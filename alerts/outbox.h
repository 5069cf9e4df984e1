/*
 * outbox: notifications as SQLite rows (one per sink, written before any
 * attempt), delivered by libcurl's multi interface from the agent's loop
 * without ever blocking it. 2xx = delivered; 429, 5xx and no answer retry
 * with exponential backoff and jitter (at least Retry-After); any other
 * status gives up and records why. Only the oldest pending row of a
 * (sink, alert) is sent, so a resolved never overtakes its firing. Rows
 * still pending are sent after a restart.
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

/* One row per sink named in sink_list (comma-separated; empty = all). */
int outbox_add(struct outbox *o, const char *sink_list, const struct notice *n, int64_t now);

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

/* Backoff before attempt n+1 after n failed ones (ms, without jitter). */
int64_t outbox_backoff_ms(int attempts);

#endif
