/* grid: see grid.h */
#include "grid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

void
grid_init(struct grid *g, int w, int h)
{
    g->w = w > 0 ? w : 1;
    g->h = h > 0 ? h : 1;
    g->c = xcalloc((size_t)g->w * (size_t)g->h, sizeof *g->c);
    grid_clear(g);
}

void
grid_free(struct grid *g)
{
    free(g->c);
    g->c = NULL;
}

void
grid_clear(struct grid *g)
{
    for (int i = 0; i < g->w * g->h; i++) {
        g->c[i].ch = L' ';
        g->c[i].attr = GA_NORMAL;
    }
}

void
grid_fill_row(struct grid *g, int y, uint8_t attr)
{
    if (y < 0 || y >= g->h)
        return;
    for (int x = 0; x < g->w; x++) {
        g->c[y * g->w + x].ch = L' ';
        g->c[y * g->w + x].attr = attr;
    }
}

/* Decode one code point; invalid input yields U+FFFD for one byte. */
static size_t
decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len = utf8_decode(s, n, cp);
    if (len == 0) {
        *cp = 0xfffd;
        return 1;
    }
    return len;
}

/* What a code point is shown as: itself, or an escape ("\x1b") for a
 * control character. Returns the number of cells in out (max 6). */
static int
glyphs(uint32_t cp, wchar_t out[6], int *width)
{
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
        char e[8];
        if (cp == '\n')
            snprintf(e, sizeof e, "\\n");
        else if (cp == '\t')
            snprintf(e, sizeof e, "\\t");
        else if (cp == '\r')
            snprintf(e, sizeof e, "\\r");
        else
            snprintf(e, sizeof e, "\\x%02x", (unsigned)cp);
        int n = (int)strlen(e);
        for (int i = 0; i < n; i++)
            out[i] = (wchar_t)e[i];
        *width = n;
        return n;
    }
    int w = wcwidth((wchar_t)cp);
    if (w < 0) { /* unprintable in this locale */
        out[0] = L'?';
        *width = 1;
        return 1;
    }
    out[0] = (wchar_t)cp;
    *width = w;
    return 1;
}

int
grid_put(struct grid *g, int x, int y, int maxw, uint8_t attr, const char *s, size_t n)
{
    if (y < 0 || y >= g->h || x >= g->w || !s)
        return 0;
    if (maxw < 0 || x + maxw > g->w)
        maxw = g->w - x;
    const unsigned char *p = (const unsigned char *)s;
    int used = 0;
    size_t i = 0;
    while (i < n && used < maxw) {
        uint32_t cp;
        i += decode(p + i, n - i, &cp);
        wchar_t gl[6];
        int width;
        int k = glyphs(cp, gl, &width);
        if (width == 0)
            continue; /* combining marks: dropped rather than mis-measured */
        if (used + width > maxw)
            break;
        bool esc = k > 1;
        for (int j = 0; j < k; j++) {
            struct gcell *c = &g->c[y * g->w + x + used];
            c->ch = gl[j];
            c->attr = esc ? GA_DIM : attr;
            used++;
            if (!esc && width == 2) {
                c[1].ch = 0;
                c[1].attr = attr;
                used++;
            }
        }
    }
    return used;
}

size_t
grid_fit(const char *s, size_t n, int maxw)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int used = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = decode(p + i, n - i, &cp);
        wchar_t gl[6];
        int width;
        glyphs(cp, gl, &width);
        if (used + width > maxw)
            return i ? i : (maxw > 0 ? len : 0);
        used += width;
        i += len;
    }
    return i;
}

int
grid_puts(struct grid *g, int x, int y, int maxw, uint8_t attr, const char *s)
{
    return grid_put(g, x, y, maxw, attr, s, s ? strlen(s) : 0);
}

int
grid_putf(struct grid *g, int x, int y, int maxw, uint8_t attr, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return grid_puts(g, x, y, maxw, attr, line);
}

int
grid_width(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    int w = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += decode(p + i, n - i, &cp);
        wchar_t gl[6];
        int width;
        (void)glyphs(cp, gl, &width);
        w += width;
    }
    return w;
}

void
grid_row(const struct grid *g, int y, struct buf *out)
{
    if (y < 0 || y >= g->h)
        return;
    size_t start = out->len;
    for (int x = 0; x < g->w; x++) {
        wchar_t ch = g->c[y * g->w + x].ch;
        if (ch == 0)
            continue;
        char mb[8];
        uint32_t v = (uint32_t)ch;
        if (v < 0x80) {
            buf_addc(out, (char)v);
        } else {
            int n;
            if (v < 0x800) {
                mb[0] = (char)(0xc0 | (v >> 6));
                mb[1] = (char)(0x80 | (v & 0x3f));
                n = 2;
            } else if (v < 0x10000) {
                mb[0] = (char)(0xe0 | (v >> 12));
                mb[1] = (char)(0x80 | ((v >> 6) & 0x3f));
                mb[2] = (char)(0x80 | (v & 0x3f));
                n = 3;
            } else {
                mb[0] = (char)(0xf0 | (v >> 18));
                mb[1] = (char)(0x80 | ((v >> 12) & 0x3f));
                mb[2] = (char)(0x80 | ((v >> 6) & 0x3f));
                mb[3] = (char)(0x80 | (v & 0x3f));
                n = 4;
            }
            buf_add(out, mb, (size_t)n);
        }
    }
    while (out->len > start && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
}
