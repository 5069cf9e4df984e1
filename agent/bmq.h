/*
 * bmq: BullMQ knowledge in one place: key names, event names, the job hash
 * fields we read. See shared/bullmq-internals.md for the facts.
 */
#ifndef AGENT_BMQ_H
#define AGENT_BMQ_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* X(enum, "stream name") for every event of bullmq-internals §3.1 */
#define BMQ_EVENTS(X)                                                                             \
    X(ADDED, "added")                                                                             \
    X(WAITING, "waiting")                                                                         \
    X(WAITING_CHILDREN, "waiting-children")                                                       \
    X(DELAYED, "delayed")                                                                         \
    X(ACTIVE, "active")                                                                           \
    X(PROGRESS, "progress")                                                                       \
    X(COMPLETED, "completed")                                                                     \
    X(FAILED, "failed")                                                                           \
    X(RETRIES_EXHAUSTED, "retries-exhausted")                                                     \
    X(STALLED, "stalled")                                                                         \
    X(REMOVED, "removed")                                                                         \
    X(DRAINED, "drained")                                                                         \
    X(PAUSED, "paused")                                                                           \
    X(RESUMED, "resumed")                                                                         \
    X(DUPLICATED, "duplicated")                                                                   \
    X(DEDUPLICATED, "deduplicated")                                                               \
    X(DEBOUNCED, "debounced")                                                                     \
    X(CLEANED, "cleaned")

enum bmq_ev {
#define X(e, s) BMQ_EV_##e,
    BMQ_EVENTS(X)
#undef X
    BMQ_EV_CUSTOM, /* an `event` field with a name we do not know (publishEvent) */
    BMQ_EV__COUNT
};

const char *bmq_ev_name(enum bmq_ev ev);
/* Look an event name up; BMQ_EV_CUSTOM when unknown. */
enum bmq_ev bmq_ev_lookup(const char *s, size_t n);

/* Key builders: "<prefix>:<queue>:<suffix>" appended to b. */
void bmq_key(struct buf *b, const char *prefix, const char *queue, const char *suffix);
/* Job hash key "<prefix>:<queue>:<id>" (id is binary-safe). */
void bmq_job_key(struct buf *b, const char *prefix, const char *queue, const char *id, size_t idlen);

/* Queue name from a "<prefix>:<name>:meta" key, or false when it is not a
 * queue (name empty, contains ':', or the key is under "<prefix>::"). */
bool bmq_queue_from_meta_key(const char *prefix, const char *key, size_t keylen, char *out,
                             size_t outlen);

/* Client name of a BullMQ worker for queue (prefix:base64(queue) optionally
 * followed by ":w:<name>"); false for QueueEvents (":qe") and others. On
 * success the decoded queue name is written to out. */
bool bmq_worker_queue(const char *prefix, const char *client_name, char *out, size_t outlen);

#endif
