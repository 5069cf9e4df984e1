/*
 * buf: a growable byte buffer, always NUL-terminated. Text built from
 * untrusted input goes through here (never sprintf into fixed arrays).
 * A buf with max > 0 stops growing at max bytes and sets `truncated`.
 */
#ifndef AGENT_BUF_H
#define AGENT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 = unbounded */
    bool truncated;
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The output policy for untrusted text (job names, data, reasons, queue
 * names, anything read from Redis or the store), used by every writer:
 * table, CSV, log, TUI (tui/grid.c) and, as \u escapes, JSON. What never
 * reaches a terminal raw: C0 controls and DEL (ESC starts every escape
 * sequence), C1 controls (U+0080-009F; U+009B is a one-byte CSI), bidi
 * controls (U+202A-202E, U+2066-2069, U+200E/F, U+061C: they reorder what
 * is shown, "Trojan Source") and invalid UTF-8. Everything else, quotes
 * and non-ASCII text included, is kept as written. `--raw` (query) is the
 * only way to get the bytes as stored.
 */
/* Is cp a bidi control (see above)? */
bool utf8_cp_bidi(uint32_t cp);
/* Must cp be escaped before it reaches a terminal (control or bidi)? */
bool utf8_cp_unsafe(uint32_t cp);
/* Append s (n bytes) with control bytes, backslash, DEL and invalid UTF-8
 * escaped as \xNN / \n / \t / \\ and bidi controls as \uNNNN, so the
 * result is safe for a terminal or log line. Quotes are printable and kept
 * as they are. */
void buf_add_escaped(struct buf *b, const char *s, size_t n);
/* One code point of UTF-8 at s (at most n bytes): its length, or 0 when
 * the bytes there are not valid UTF-8 (truncated, overlong, surrogate). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Append s as a JSON string literal, quotes included: controls, C1 and
 * bidi controls as \uNNNN (valid JSON that still decodes to the same
 * text), invalid UTF-8 bytes as U+FFFD. Safe to print on a terminal. */
void buf_add_json_str(struct buf *b, const char *s, size_t n);
/* Give up the data; caller frees with free(). The buf is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
