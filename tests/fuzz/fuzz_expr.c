/* Rule expressions (alerts/expr.c): parse any text; what parses evaluates
 * against a source of arbitrary numbers (NaN, inf, 1e308) and prints, and
 * the print (what check-config shows) parses again to the same print (it
 * once dropped the parentheses of a comparison inside a comparison). */
#include <math.h>
#include <stdio.h>

#include "buf.h"
#include "expr.h"
#include "fuzz_util.h"

static const uint8_t *g_data;
static size_t g_size, g_at;

static double
next_num(void)
{
    if (!g_size)
        return 0;
    uint8_t b = g_data[g_at++ % g_size];
    static const double special[] = {0, 1, -1, 1e308, -1e308, NAN, INFINITY, -INFINITY, 0.5, 1e-300};
    return b < 10 ? special[b] : (double)(int)(b - 128) * 3.7;
}

static double
gauge(void *ud, enum ind i)
{
    (void)ud;
    (void)i;
    return next_num();
}

static double
window(void *ud, enum ind i, int64_t w)
{
    (void)ud;
    (void)i;
    (void)w;
    return next_num();
}

static int
samples(void *ud, enum ind i, int64_t w, const int64_t **t, const double **v)
{
    static int64_t ts[8];
    static double vs[8];
    (void)ud;
    (void)i;
    int n = g_size ? g_data[g_at++ % g_size] % 9 : 0;
    for (int k = 0; k < n; k++) {
        ts[k] = 1000000 - w + k * (w / 8 + 1);
        vs[k] = next_num();
    }
    *t = ts;
    *v = vs;
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = fuzz_cstr(data, size);
    char err[256];
    int col = 0;
    struct expr *e = expr_parse(text, err, sizeof err, &col);
    if (e) {
        struct buf p1, p2;
        buf_init(&p1, 0);
        buf_init(&p2, 0);
        expr_print(e, &p1);
        /* the canonical form must parse (print dropped the parentheses
         * around a comparison inside a comparison: fixed, now checked) */
        const int roundtrip = 1;
        struct expr *e2 = expr_parse(p1.data ? p1.data : "", err, sizeof err, &col);
        if (!e2 && roundtrip)
            abort(); /* the canonical form must parse */
        if (e2)
            expr_print(e2, &p2);
        if (e2 && (p1.len != p2.len || memcmp(p1.data, p2.data, p1.len) != 0))
            abort(); /* and print the same */
        g_data = data;
        g_size = size;
        g_at = 0;
        struct expr_src src = {NULL, 1000000, gauge, window, samples};
        double value, threshold;
        (void)expr_eval(e, &src, &value, &threshold);
        (void)expr_inds(e);
        (void)expr_max_window(e);
        expr_free(e2);
        expr_free(e);
        buf_release(&p1);
        buf_release(&p2);
    } else if (col < 0 || (size_t)col > size + 1) {
        abort(); /* the column lies inside the text (or just past it) */
    }
    free(text);
    return 0;
}
