/*
 * grid: a character grid the TUI draws into, apart from the terminal, so
 * screens can be unit tested. Text put into it is untrusted: control
 * characters (C0, DEL, C1, so every escape sequence) are shown escaped,
 * invalid UTF-8 as U+FFFD, and widths come from wcwidth.
 */
#ifndef BW_GRID_H
#define BW_GRID_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "buf.h"

enum gattr { GA_NORMAL, GA_HEADER, GA_SELECTED, GA_OK, GA_WARN, GA_BAD, GA_DIM, GA_HINT, GA__N };

struct gcell {
    wchar_t ch; /* 0: the right half of a wide character */
    uint8_t attr;
};

struct grid {
    int w, h;
    struct gcell *c;
};

void grid_init(struct grid *g, int w, int h);
void grid_free(struct grid *g);
void grid_clear(struct grid *g);
/* A whole row in one attribute (blanks). */
void grid_fill_row(struct grid *g, int y, uint8_t attr);
/* Put n bytes of untrusted UTF-8 at (x, y), at most maxw columns (< 0: to
 * the right edge); returns the columns used. */
int grid_put(struct grid *g, int x, int y, int maxw, uint8_t attr, const char *s, size_t n);
int grid_puts(struct grid *g, int x, int y, int maxw, uint8_t attr, const char *s);
int grid_putf(struct grid *g, int x, int y, int maxw, uint8_t attr, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Bytes of s (n bytes) that fill at most maxw columns by grid_put's rules
 * (escapes included); at least one character when maxw > 0 and n > 0, so a
 * loop that splits a line always moves on. */
size_t grid_fit(const char *s, size_t n, int maxw);
/* Columns the text would take (same rules as grid_put). */
int grid_width(const char *s, size_t n);
/* Row y as UTF-8, trailing blanks dropped (tests). */
void grid_row(const struct grid *g, int y, struct buf *out);

#endif
