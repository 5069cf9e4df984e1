/*
 * util: small pure helpers shared by every command: clocks, durations,
 * glob lists, number parsing.
 */
#ifndef AGENT_UTIL_H
#define AGENT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall clock in ms since the epoch (BullMQ's clock for scores and fields). */
int64_t now_ms(void);
/* Monotonic clock in ms (timers). */
int64_t mono_ms(void);
int64_t mono_us(void);

/* "250ms", "2s", "30m", "2h", "30d", "1w", or a bare number of seconds.
 * 0 on success. */
int parse_duration_ms(const char *s, int64_t *out);
/* Format ms as "2h", "1.5s", "3d" into out. */
void format_duration(int64_t ms, char *out, unsigned outlen);
/* The same without rounding, in the largest unit that divides ms exactly
 * ("90s", "1500ms"), so that parse_duration_ms reads back the same value. */
void format_duration_exact(int64_t ms, char *out, unsigned outlen);
/* "10MB", "64k", "512" bytes. */
int parse_size(const char *s, int64_t *out);
int parse_int64(const char *s, int64_t *out);
int parse_bool(const char *s, bool *out);

/* A comma-separated list of globs ("*", "email-*"). Empty list matches
 * nothing. Case-sensitive unless nocase. */
bool glob_list_match(const char *list, const char *name, bool nocase);

/* Index of name in an array of n elements of `size` bytes, sorted by the
 * string whose pointer sits at offset `off` of each element; -1 when absent. */
int sorted_find(const void *base, int n, size_t size, size_t off, const char *name);

/* Parse a stream id "ms-seq" into its parts. 0 on success. */
int stream_id_parse(const char *id, uint64_t *ms, uint64_t *seq);
/* -1, 0, 1 comparing two stream ids (invalid ids compare as 0-0). */
int stream_id_cmp(const char *a, const char *b);
/* The agent's lag on a stream, the one definition status, the engine and
 * the TUI use: how far (ms of stream time) the newest entry is ahead of the
 * last one read (cursor); from the first entry (first, may be NULL) when
 * nothing was read yet (cursor "0-0"). 0 when caught up or the stream is
 * empty, at least 1 when behind. */
int64_t stream_lag_ms(const char *cursor, const char *newest, const char *first);



/* ms as UTC text with strftime's fmt ("%Y-%m-%dT%H:%M:%SZ"). */
void format_utc(int64_t ms, const char *fmt, char *out, size_t n);

/* The descriptors set in select()-style sets (libcurl's and libmicrohttpd's
 * fdsets, for the agent's poll()): at most max pollfds, how many. */
struct pollfd;
int fdsets_to_poll(const void *rset, const void *wset, const void *xset, int maxfd,
                   struct pollfd *p, int max);

/* A point in time for --since/--until: a duration back from now ("2h"),
 * epoch ms (13+ digits) or seconds (10 digits), or an ISO-8601 UTC
 * timestamp ("2026-11-23T10:00:00Z", "2026-11-23 10:00"). */
int parse_time_ms(const char *s, int64_t now, int64_t *out);
#endif
