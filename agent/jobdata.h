/*
 * jobdata: turning untrusted job hash values into what the audit store
 * keeps: JSON data with configured keys redacted and a size cap, stack
 * traces capped, attempts read from opts. Pure (no I/O).
 */
#ifndef AGENT_JOBDATA_H
#define AGENT_JOBDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JOBDATA_REDACTED "[redacted]"

struct jobdata_result {
    bool is_json;    /* false: data was not valid JSON and is kept as text */
    bool truncated;  /* cut to max bytes */
    int redacted;    /* number of values replaced */
};

/* Write data (n bytes) to out: when JSON, with the values of keys matching
 * the redact globs (case-insensitive, any depth) replaced by "[redacted]";
 * then cut to max bytes (0 = no cap) at a UTF-8 boundary. */
void jobdata_prepare(const char *data, size_t n, const char *redact, size_t max, struct buf *out,
                     struct jobdata_result *res);

/* The stacktrace JSON array capped to max bytes, keeping the newest
 * entries (each entry cut if it alone is too long). Non-JSON is cut. */
void jobdata_stack(const char *s, size_t n, size_t max, struct buf *out);

/* opts.attempts, at least 1; 1 when missing or unreadable. */
int64_t jobdata_attempts(const char *opts, size_t n);

/* Is s (n bytes) one valid JSON text? Allocates nothing. */
bool jobdata_json_valid(const char *s, size_t n);

/* Cut b to at most max bytes without splitting a UTF-8 sequence. */
void jobdata_cut_utf8(struct buf *b, size_t max);

#endif
