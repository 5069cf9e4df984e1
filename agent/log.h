/*
 * log: levelled, timestamped lines on stderr (or a file for the TUI).
 * Untrusted text (job names, reasons, stream fields) must be passed through
 * log_esc() or buf_add_escaped() first: a log line never carries raw bytes.
 */
#ifndef AGENT_LOG_H
#define AGENT_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern int log_threshold; /* the one exception to "no globals": checked before formatting */

void log_set_level(enum log_level lvl);
int log_parse_level(const char *s, enum log_level *out);
const char *log_level_name(enum log_level lvl);
void log_set_file(FILE *f);
/* One JSON object a line instead of text (log_format = json). */
void log_set_json(bool json);
/* The endpoint the lines that follow are about (the agent with several
 * [redis NAME] sections sets it around each endpoint's work; NULL clears):
 * text lines start "[NAME] ", JSON lines carry "endpoint". Borrowed. */
void log_set_endpoint(const char *name);
void log_write(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Escape at most 200 bytes of s (n bytes) into a static ring slot; valid until
 * 8 further calls. For log arguments only. */
const char *log_esc(const char *s, size_t n);

#define log_msg(lvl, ...)                                                                         \
    do {                                                                                          \
        if ((int)(lvl) >= log_threshold)                                                          \
            log_write((lvl), __VA_ARGS__);                                                        \
    } while (0)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
