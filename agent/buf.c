/* buf: see buf.h */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

void
buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->truncated = false;
}

void
buf_release(struct buf *b)
{
    free(b->data);
    buf_init(b, b->max);
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    b->truncated = false;
    if (b->data)
        b->data[0] = '\0';
}

static void
grow(struct buf *b, size_t need)
{
    if (need + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->max && b->len + n > b->max) {
        n = b->max > b->len ? b->max - b->len : 0;
        b->truncated = true;
    }
    grow(b, b->len + n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        buf_add(b, small, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_add(b, big, (size_t)n);
    free(big);
}

size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *out)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
        *out = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *out = cp;
    return len;
}

bool
utf8_cp_bidi(uint32_t cp)
{
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
           cp == 0x200f || cp == 0x061c;
}

bool
utf8_cp_unsafe(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || utf8_cp_bidi(cp);
}

/* Length of a valid UTF-8 sequence at s (max n bytes) that may reach a
 * terminal as it is, or 0: invalid, or a code point that utf8_cp_unsafe()
 * names (C1 controls act as terminal escapes, bidi controls reorder what
 * is shown around them). *cp is set when the bytes decode. */
static size_t
utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    *cp = 0;
    size_t len = utf8_decode(s, n, cp);
    if (len == 0 || utf8_cp_unsafe(*cp))
        return 0;
    return len;
}

void
buf_add_escaped(struct buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == '\n') {
            buf_add(b, "\\n", 2);
            i++;
        } else if (c == '\t') {
            buf_add(b, "\\t", 2);
            i++;
        } else if (c == '\r') {
            buf_add(b, "\\r", 2);
            i++;
        } else if (c == '\\') {
            buf_add(b, "\\\\", 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            buf_addf(b, "\\x%02x", c);
            i++;
        } else {
            uint32_t cp;
            size_t l = utf8_seq(s + i, n - i, &cp);
            if (l == 0 && utf8_cp_bidi(cp)) {
                /* a bidi control: named by its code point, so the text around
                 * it stays in order and a reader sees it was there */
                buf_addf(b, "\\u%04x", (unsigned)cp);
                i += utf8_decode(s + i, n - i, &cp);
            } else if (l == 0) {
                buf_addf(b, "\\x%02x", c);
                i++;
            } else {
                buf_add(b, s + i, l);
                i += l;
            }
        }
        if (b->truncated)
            return;
    }
}

void
buf_add_json_str(struct buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    buf_addc(b, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            buf_addc(b, '\\');
            buf_addc(b, (char)c);
            i++;
        } else if (c == '\n') {
            buf_add(b, "\\n", 2);
            i++;
        } else if (c == '\t') {
            buf_add(b, "\\t", 2);
            i++;
        } else if (c == '\r') {
            buf_add(b, "\\r", 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            buf_addf(b, "\\u%04x", c);
            i++;
        } else {
            uint32_t cp;
            size_t l = utf8_seq(s + i, n - i, &cp);
            if (l == 0) {
                /* a C1 or bidi control: \u escape (the JSON still means the
                 * same text); an invalid byte: U+FFFD */
                size_t dl = utf8_decode(s + i, n - i, &cp);
                if (dl > 0) {
                    buf_addf(b, "\\u%04x", (unsigned)cp);
                    i += dl;
                } else {
                    buf_adds(b, "\xef\xbf\xbd");
                    i++;
                }
            } else {
                buf_add(b, s + i, l);
                i += l;
            }
        }
    }
    buf_addc(b, '"');
}

char *
buf_detach(struct buf *b, size_t *len)
{
    char *p = b->data ? b->data : xstrdup("");
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->truncated = false;
    return p;
}
