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
/* What stored data starts with when redaction could not read it: the rest
 * says why and how many bytes there were, never what they were. */
#define JOBDATA_WITHHELD "[withheld: "

struct jobdata_result {
    bool is_json;    /* false: data was not strict JSON (kept as text, or read leniently) */
    bool truncated;  /* cut to max bytes */
    bool lax;        /* read by the lenient parser (BOM, NaN, trailing bytes, ...) */
    bool withheld;   /* redact is set and (part of) it no parser reads: a placeholder stored */
    int redacted;    /* number of values replaced */
};

/* Write data (n bytes) to out, redacted when `redact` (the [store] redact
 * list) is set: the values of keys that match (case-insensitive; a bare
 * word anywhere in the key, a glob over the whole key; whitespace around
 * items ignored; keys of any length, spelt with any JSON escape) are
 * replaced by "[redacted]" at any depth. A leading BOM is dropped. Data
 * that is not strict JSON is read leniently (NaN, Infinity, raw control
 * bytes in strings, trailing commas, bytes after the value); what could
 * hold a configured key and no parser reads is replaced by a
 * JOBDATA_WITHHELD placeholder (res->withheld): redaction fails closed.
 * Then cut to max bytes (0 = no cap) at a UTF-8 boundary. */
void jobdata_prepare(const char *data, size_t n, const char *redact, size_t max, struct buf *out,
                     struct jobdata_result *res);

/* The stacktrace JSON array capped to max bytes, keeping the newest
 * entries (each entry cut if it alone is too long). Non-JSON is cut. */
void jobdata_stack(const char *s, size_t n, size_t max, struct buf *out);

/* opts.attempts, at least 1; 1 when missing or unreadable. */
int64_t jobdata_attempts(const char *opts, size_t n);

/* Does a (decoded) key of n bytes match the redact list? */
bool jobdata_key_redacted(const char *redact, const char *key, size_t n);

/* Is s (n bytes) one valid JSON text? Allocates nothing. */
bool jobdata_json_valid(const char *s, size_t n);

/* Cut b to at most max bytes without splitting a UTF-8 sequence. */
void jobdata_cut_utf8(struct buf *b, size_t max);

#endif
