/* expr: see expr.h */
#include "expr.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xmem.h"

static const char *const ind_names[IND_N] = {
    [IND_WAITING] = "waiting",
    [IND_ACTIVE] = "active",
    [IND_DELAYED] = "delayed",
    [IND_PRIORITIZED] = "prioritized",
    [IND_FAILED] = "failed",
    [IND_COMPLETED] = "completed",
    [IND_PAUSED] = "paused",
    [IND_WAITING_CHILDREN] = "waiting_children",
    [IND_DLQ_SIZE] = "dlq_size",
    [IND_OLDEST_WAITING_AGE] = "oldest_waiting_age",
    [IND_WORKERS] = "workers",
    [IND_DEAD_NOT_FAILED] = "dead_not_failed",
    [IND_AGENT_LAG] = "agent_lag",
    [IND_FAILURES] = "failures",
    [IND_RETRIES] = "retries",
    [IND_COMPLETIONS] = "completed",
    [IND_STALLED] = "stalled",
    [IND_ADDED] = "added",
    [IND_EVENTS_LOST] = "events_lost",
    [IND_FAILURE_RATIO] = "failure_ratio",
    [IND_RUNTIME_P95] = "runtime_p95",
    [IND_NEW_SIGNATURES] = "new_signatures",
    [IND_RETRIES_DUE] = "retries_due",
};

const char *
ind_name(enum ind i)
{
    return i >= 0 && i < IND_N ? ind_names[i] : "?";
}

enum op { OP_NUM, OP_IND, OP_FN, OP_NEG, OP_NOT, OP_ADD, OP_SUB, OP_MUL, OP_DIV,
          OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE, OP_AND, OP_OR };
enum fn { FN_RATE, FN_SLOPE, FN_PREDICT, FN_ABSENT, FN_VALUE, FN_BASELINE };
static const char *const fn_names[] = {"rate", "slope", "predict", "absent", "value",
                                       "baseline"};
static const char *const op_text[] = {[OP_ADD] = "+", [OP_SUB] = "-", [OP_MUL] = "*",
                                      [OP_DIV] = "/", [OP_GT] = ">",  [OP_GE] = ">=",
                                      [OP_LT] = "<",  [OP_LE] = "<=", [OP_EQ] = "==",
                                      [OP_NE] = "!=", [OP_AND] = "and", [OP_OR] = "or"};

struct expr {
    enum op op;
    double num;        /* OP_NUM */
    bool duration;     /* OP_NUM written as a duration */
    enum ind ind;      /* OP_IND */
    int64_t window_ms; /* OP_IND: 0 = none */
    enum fn fn;        /* OP_FN */
    struct expr *a, *b;
};

/* ---- parsing ---- */

struct parser {
    const char *text, *p;
    char *err;
    size_t errlen;
    int col;
    bool failed;
};

static struct expr *
node(enum op op, struct expr *a, struct expr *b)
{
    struct expr *e = xcalloc(1, sizeof *e);
    e->op = op;
    e->a = a;
    e->b = b;
    return e;
}

void
expr_free(struct expr *e)
{
    if (!e)
        return;
    expr_free(e->a);
    expr_free(e->b);
    free(e);
}

static struct expr *
fail(struct parser *ps, const char *at, const char *fmt, const char *arg)
{
    if (!ps->failed) {
        ps->failed = true;
        ps->col = (int)(at - ps->text) + 1;
        snprintf(ps->err, ps->errlen, fmt, arg);
    }
    return NULL;
}

static void
ws(struct parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

/* the next token is this word (not a prefix of a longer identifier) */
static bool
word(struct parser *ps, const char *w)
{
    ws(ps);
    size_t n = strlen(w);
    if (strncmp(ps->p, w, n) != 0 || isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_')
        return false;
    ps->p += n;
    return true;
}

static bool
punct(struct parser *ps, const char *t)
{
    ws(ps);
    size_t n = strlen(t);
    if (strncmp(ps->p, t, n) != 0)
        return false;
    ps->p += n;
    return true;
}

/* a number, or a duration ("5m"): seconds */
static bool
number(struct parser *ps, double *out, bool *duration)
{
    ws(ps);
    const char *st = ps->p;
    if (!isdigit((unsigned char)*st) && !(*st == '.' && isdigit((unsigned char)st[1])))
        return false;
    char *end;
    double v = strtod(st, &end);
    *duration = false;
    if (!isfinite(v)) { /* 5e22111: it would print as inf, which does not parse */
        fail(ps, st, "number out of range%s", "");
        return false;
    }
    if (isalpha((unsigned char)*end)) {
        const char *u = end;
        while (isalpha((unsigned char)*end))
            end++;
        char tok[64];
        size_t n = (size_t)(end - st);
        if (n >= sizeof tok) {
            fail(ps, u, "bad duration unit '%s'", "?");
            return false;
        }
        memcpy(tok, st, n);
        tok[n] = '\0';
        int64_t ms;
        if (parse_duration_ms(tok, &ms) != 0) {
            char unit[16];
            snprintf(unit, sizeof unit, "%.*s", (int)(end - u) > 8 ? 8 : (int)(end - u), u);
            fail(ps, u, "unknown unit '%s' (use ms, s, m, h, d, w)", unit);
            return false;
        }
        v = (double)ms / 1000.0;
        *duration = true;
    }
    ps->p = end;
    *out = v;
    return true;
}

static struct expr *parse_or(struct parser *ps);

static bool
window(struct parser *ps, int64_t *ms)
{
    const char *at = ps->p;
    double v;
    bool dur;
    if (!number(ps, &v, &dur) || !dur || v <= 0) {
        fail(ps, at, "expected a window such as [5m]%s", "");
        return false;
    }
    *ms = (int64_t)(v * 1000.0 + 0.5);
    if (!punct(ps, "]")) {
        fail(ps, ps->p, "expected ']'%s", "");
        return false;
    }
    return true;
}

static struct expr *
indicator(struct parser *ps, const char *name, size_t n, const char *at)
{
    int found = -1;
    for (int i = 0; i < IND_N; i++)
        if (strlen(ind_names[i]) == n && strncmp(ind_names[i], name, n) == 0) {
            found = i;
            break;
        }
    if (found < 0) {
        char w[48];
        snprintf(w, sizeof w, "%.*s", (int)(n > 40 ? 40 : n), name);
        return fail(ps, at, "unknown indicator or function '%s'", w);
    }
    struct expr *e = node(OP_IND, NULL, NULL);
    e->ind = (enum ind)found;
    if (punct(ps, "[")) {
        if (!window(ps, &e->window_ms)) {
            expr_free(e);
            return NULL;
        }
        if (e->ind == IND_COMPLETED)
            e->ind = IND_COMPLETIONS;
    } else if (!ind_is_gauge(e->ind)) {
        char w[48];
        snprintf(w, sizeof w, "%s", ind_names[e->ind]);
        expr_free(e);
        return fail(ps, at, "'%s' needs a window, as in failures[5m]", w);
    }
    return e;
}

static struct expr *
call(struct parser *ps, enum fn fn, const char *at)
{
    if (!punct(ps, "(")) {
        return fail(ps, ps->p, "expected '(' after %s", fn_names[fn]);
    }
    struct expr *e = node(OP_FN, NULL, NULL);
    e->fn = fn;
    const char *argat = (ws(ps), ps->p);
    e->a = parse_or(ps);
    if (!e->a)
        goto bad;
    if (fn == FN_PREDICT || fn == FN_BASELINE) {
        if (!punct(ps, ",")) {
            fail(ps, ps->p, fn == FN_PREDICT ? "predict takes (gauge[window], horizon)%s"
                                             : "baseline takes (counter[window], days), as in "
                                               "baseline(failures[15m], 7d)%s",
                 "");
            goto bad;
        }
        const char *bat = (ws(ps), ps->p);
        e->b = parse_or(ps);
        if (!e->b)
            goto bad;
        if (fn == FN_BASELINE) {
            double d = e->b->op == OP_NUM && e->b->duration ? e->b->num / 86400.0 : -1;
            if (d < 1 || d > 28 || d != (double)(int)d) {
                fail(ps, bat, "baseline reaches back a whole number of days, 1d to 28d%s", "");
                goto bad;
            }
        }
    }
    if (!punct(ps, ")")) {
        fail(ps, ps->p, "expected ')'%s", "");
        goto bad;
    }
    /* what each function can read */
    if (fn == FN_RATE || fn == FN_SLOPE || fn == FN_PREDICT) {
        if (e->a->op != OP_IND || !e->a->window_ms) {
            fail(ps, argat, "%s needs an indicator with a window, as in slope(waiting[10m])",
                 fn_names[fn]);
            goto bad;
        }
        if (fn != FN_RATE && !ind_is_gauge(e->a->ind)) {
            fail(ps, argat, "%s needs a gauge (a depth, age or count of workers)", fn_names[fn]);
            goto bad;
        }
    }
    if (fn == FN_BASELINE &&
        (e->a->op != OP_IND || !e->a->window_ms || ind_is_gauge(e->a->ind) ||
         e->a->ind == IND_NEW_SIGNATURES || e->a->ind == IND_RETRIES_DUE ||
         e->a->ind == IND_RUNTIME_P95 ||
         e->a->ind == IND_EVENTS_LOST)) {
        fail(ps, argat, "baseline needs a counter of the per-minute counts with a window "
                        "(failures, retries, completed, stalled, added, failure_ratio)%s", "");
        goto bad;
    }
    if (fn == FN_ABSENT && e->a->op != OP_IND) {
        fail(ps, argat, "absent needs an indicator%s", "");
        goto bad;
    }
    (void)at;
    return e;
bad:
    expr_free(e);
    return NULL;
}

static struct expr *
primary(struct parser *ps)
{
    ws(ps);
    const char *at = ps->p;
    double v;
    bool dur;
    if (number(ps, &v, &dur)) {
        struct expr *e = node(OP_NUM, NULL, NULL);
        e->num = v;
        e->duration = dur;
        return e;
    }
    if (ps->failed)
        return NULL;
    if (punct(ps, "(")) {
        struct expr *e = parse_or(ps);
        if (e && !punct(ps, ")")) {
            expr_free(e);
            return fail(ps, ps->p, "expected ')'%s", "");
        }
        return e;
    }
    if (isalpha((unsigned char)*at) || *at == '_') {
        const char *q = at;
        while (isalnum((unsigned char)*q) || *q == '_')
            q++;
        size_t n = (size_t)(q - at);
        ps->p = q;
        for (size_t f = 0; f < sizeof fn_names / sizeof fn_names[0]; f++)
            if (strlen(fn_names[f]) == n && strncmp(fn_names[f], at, n) == 0)
                return call(ps, (enum fn)f, at);
        return indicator(ps, at, n, at);
    }
    if (!*at)
        return fail(ps, at, "unexpected end of expression%s", "");
    char c[2] = {*at, '\0'};
    return fail(ps, at, "unexpected '%s'", c);
}

static struct expr *
unary(struct parser *ps)
{
    if (punct(ps, "-")) {
        struct expr *a = unary(ps);
        return a ? node(OP_NEG, a, NULL) : NULL;
    }
    return primary(ps);
}

/* a left-associative level: next (op next)* */
struct binop {
    const char *t;
    enum op op;
    bool is_word; /* and / or: not a prefix of a longer name */
};
static const struct binop mul_ops[] = {{"*", OP_MUL, false}, {"/", OP_DIV, false}, {NULL, OP_NUM, false}};
static const struct binop add_ops[] = {{"+", OP_ADD, false}, {"-", OP_SUB, false}, {NULL, OP_NUM, false}};
static const struct binop and_ops[] = {{"and", OP_AND, true}, {NULL, OP_NUM, false}};
static const struct binop or_ops[] = {{"or", OP_OR, true}, {NULL, OP_NUM, false}};

static struct expr *
left_assoc(struct parser *ps, struct expr *(*next)(struct parser *), const struct binop *ops)
{
    struct expr *l = next(ps);
    while (l) {
        const struct binop *o = ops;
        while (o->t && !(o->is_word ? word(ps, o->t) : punct(ps, o->t)))
            o++;
        if (!o->t)
            break;
        struct expr *r = next(ps);
        if (!r) {
            expr_free(l);
            return NULL;
        }
        l = node(o->op, l, r);
    }
    return l;
}

static struct expr *
term(struct parser *ps)
{
    return left_assoc(ps, unary, mul_ops);
}

static struct expr *
sum(struct parser *ps)
{
    return left_assoc(ps, term, add_ops);
}

static struct expr *
cmp(struct parser *ps)
{
    struct expr *l = sum(ps);
    if (!l)
        return NULL;
    static const struct {
        const char *t;
        enum op op;
    } ops[] = {{">=", OP_GE}, {"<=", OP_LE}, {"==", OP_EQ}, {"!=", OP_NE}, {">", OP_GT}, {"<", OP_LT}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (punct(ps, ops[i].t)) {
            struct expr *r = sum(ps);
            if (!r) {
                expr_free(l);
                return NULL;
            }
            return node(ops[i].op, l, r);
        }
    return l;
}

static struct expr *
not_(struct parser *ps)
{
    if (word(ps, "not")) {
        struct expr *a = not_(ps);
        return a ? node(OP_NOT, a, NULL) : NULL;
    }
    return cmp(ps);
}

static struct expr *
parse_and(struct parser *ps)
{
    return left_assoc(ps, not_, and_ops);
}

static struct expr *
parse_or(struct parser *ps)
{
    return left_assoc(ps, parse_and, or_ops);
}

struct expr *
expr_parse(const char *text, char *err, size_t errlen, int *col)
{
    struct parser ps = {text, text, err, errlen, 0, false};
    err[0] = '\0';
    *col = 0;
    struct expr *e = parse_or(&ps);
    if (e) {
        ws(&ps);
        if (*ps.p) {
            char c[2] = {*ps.p, '\0'};
            fail(&ps, ps.p, "unexpected '%s' after the expression", c);
            expr_free(e);
            e = NULL;
        }
    }
    if (!e) {
        if (!ps.failed)
            fail(&ps, ps.p, "bad expression%s", "");
        *col = ps.col;
    }
    return e;
}

/* ---- evaluation ---- */

bool
expr_true(double v)
{
    return !isnan(v) && v != 0.0;
}

bool
expr_fit(const int64_t *t, const double *v, int n, int64_t t0, double *slope, double *at_t0)
{
    if (n < 2)
        return false;
    /* relative to the first time, so squares stay small */
    double st = 0, sv = 0;
    for (int i = 0; i < n; i++) {
        st += (double)(t[i] - t[0]);
        sv += v[i];
    }
    double mt = st / n, mv = sv / n, sxy = 0, sxx = 0;
    for (int i = 0; i < n; i++) {
        double dx = (double)(t[i] - t[0]) - mt;
        sxy += dx * (v[i] - mv);
        sxx += dx * dx;
    }
    if (sxx <= 0)
        return false;
    *slope = sxy / sxx;
    *at_t0 = mv + *slope * ((double)(t0 - t[0]) - mt);
    return true;
}

static double
ind_value(const struct expr *e, const struct expr_src *s)
{
    if (e->window_ms && !ind_is_gauge(e->ind))
        return s->window ? s->window(s->ud, e->ind, e->window_ms) : NAN;
    /* a gauge with a window outside a function: its latest value */
    return s->gauge ? s->gauge(s->ud, e->ind) : NAN;
}

static double
eval(const struct expr *e, const struct expr_src *s, double *value, double *threshold, bool *seen)
{
    double a, b;
    switch (e->op) {
    case OP_NUM:
        return e->num;
    case OP_IND:
        return ind_value(e, s);
    case OP_NEG:
        return -eval(e->a, s, value, threshold, seen);
    case OP_NOT:
        a = eval(e->a, s, value, threshold, seen);
        return isnan(a) ? NAN : a == 0.0 ? 1.0 : 0.0;
    case OP_FN: {
        const struct expr *x = e->a;
        if (e->fn == FN_VALUE)
            return eval(x, s, value, threshold, seen);
        if (e->fn == FN_ABSENT)
            return isnan(ind_value(x, s)) ? 1.0 : 0.0;
        if (e->fn == FN_BASELINE)
            return s->baseline ? s->baseline(s->ud, x->ind, x->window_ms,
                                             (int)(e->b->num / 86400.0 + 0.5))
                               : NAN;
        if (e->fn == FN_RATE && !ind_is_gauge(x->ind)) {
            double c = ind_value(x, s);
            return c / ((double)x->window_ms / 1000.0);
        }
        const int64_t *t = NULL;
        const double *v = NULL;
        int n = s->samples ? s->samples(s->ud, x->ind, x->window_ms, &t, &v) : 0;
        if (e->fn == FN_RATE) {
            if (n < 2 || t[n - 1] <= t[0])
                return NAN;
            return (v[n - 1] - v[0]) / ((double)(t[n - 1] - t[0]) / 1000.0);
        }
        double slope, at;
        if (!expr_fit(t, v, n, s->now, &slope, &at))
            return NAN;
        if (e->fn == FN_SLOPE)
            return slope * 60000.0;
        double h = eval(e->b, s, value, threshold, seen);
        return at + slope * h * 1000.0;
    }
    case OP_AND:
    case OP_OR: {
        a = eval(e->a, s, value, threshold, seen);
        b = eval(e->b, s, value, threshold, seen);
        bool ta = expr_true(a), tb = expr_true(b);
        return (e->op == OP_AND ? (ta && tb) : (ta || tb)) ? 1.0 : 0.0;
    }
    default:
        break;
    }
    a = eval(e->a, s, value, threshold, seen);
    b = eval(e->b, s, value, threshold, seen);
    switch (e->op) {
    case OP_ADD:
        return a + b;
    case OP_SUB:
        return a - b;
    case OP_MUL:
        return a * b;
    case OP_DIV:
        return b == 0.0 ? NAN : a / b;
    default:
        break;
    }
    if (!*seen) { /* the first comparison names the value and threshold */
        *seen = true;
        *value = a;
        *threshold = b;
    }
    if (isnan(a) || isnan(b))
        return 0.0;
    switch (e->op) {
    case OP_GT:
        return a > b;
    case OP_GE:
        return a >= b;
    case OP_LT:
        return a < b;
    case OP_LE:
        return a <= b;
    case OP_EQ:
        return a == b;
    case OP_NE:
        return a != b;
    default:
        return NAN;
    }
}

double
expr_eval(const struct expr *e, const struct expr_src *src, double *value, double *threshold)
{
    bool seen = false;
    double v = NAN, t = NAN;
    double r = eval(e, src, &v, &t, &seen);
    if (!seen)
        v = r;
    if (value)
        *value = v;
    if (threshold)
        *threshold = t;
    return r;
}

/* ---- printing ---- */

static int
prec(enum op op)
{
    switch (op) {
    case OP_OR:
        return 1;
    case OP_AND:
        return 2;
    case OP_NOT:
        return 3;
    case OP_GT: case OP_GE: case OP_LT: case OP_LE: case OP_EQ: case OP_NE:
        return 4;
    case OP_ADD: case OP_SUB:
        return 5;
    case OP_MUL: case OP_DIV:
        return 6;
    case OP_NEG:
        return 7;
    default:
        return 8;
    }
}

static void
print_num(double v, bool duration, struct buf *out)
{
    if (duration) {
        char d[32];
        format_duration_exact((int64_t)(v * 1000.0 + 0.5), d, sizeof d);
        buf_adds(out, d);
    } else {
        buf_addf(out, "%.15g", v);
    }
}

static void
print(const struct expr *e, struct buf *out, int parent)
{
    int p = prec(e->op);
    bool paren = p < parent;
    if (paren)
        buf_addc(out, '(');
    switch (e->op) {
    case OP_NUM:
        print_num(e->num, e->duration, out);
        break;
    case OP_IND:
        buf_adds(out, ind_names[e->ind]);
        if (e->window_ms) {
            char d[32];
            format_duration_exact(e->window_ms, d, sizeof d);
            buf_addf(out, "[%s]", d);
        }
        break;
    case OP_FN:
        buf_addf(out, "%s(", fn_names[e->fn]);
        print(e->a, out, 0);
        if (e->b) {
            buf_adds(out, ", ");
            print(e->b, out, 0);
        }
        buf_addc(out, ')');
        break;
    case OP_NEG:
        buf_addc(out, '-');
        print(e->a, out, p);
        break;
    case OP_NOT:
        buf_adds(out, "not ");
        print(e->a, out, p);
        break;
    default:
        /* left-associative: the right side binds tighter; comparisons do
         * not chain (a > b > c does not parse), so a comparison on either
         * side of one is parenthesised (a fuzzing finding) */
        print(e->a, out, p == prec(OP_GT) ? p + 1 : p);
        buf_addf(out, " %s ", op_text[e->op]);
        print(e->b, out, p + 1);
        break;
    }
    if (paren)
        buf_addc(out, ')');
}

void
expr_print(const struct expr *e, struct buf *out)
{
    print(e, out, 0);
}

uint32_t
expr_inds(const struct expr *e)
{
    if (!e)
        return 0;
    uint32_t m = expr_inds(e->a) | expr_inds(e->b);
    if (e->op == OP_IND)
        m |= 1u << e->ind;
    return m;
}

int64_t
expr_max_window(const struct expr *e)
{
    if (!e)
        return 0;
    int64_t a = expr_max_window(e->a), b = expr_max_window(e->b);
    int64_t m = a > b ? a : b;
    return e->op == OP_IND && e->window_ms > m ? e->window_ms : m;
}

int64_t
expr_ind_window(const struct expr *e, enum ind i)
{
    if (!e)
        return 0;
    int64_t a = expr_ind_window(e->a, i), b = expr_ind_window(e->b, i);
    int64_t m = a > b ? a : b;
    return e->op == OP_IND && e->ind == i && e->window_ms > m ? e->window_ms : m;
}

int64_t
expr_history_ms(const struct expr *e)
{
    if (!e)
        return 0;
    int64_t a = expr_history_ms(e->a), b = expr_history_ms(e->b);
    int64_t m = a > b ? a : b;
    if (e->op == OP_FN && e->fn == FN_BASELINE) {
        int64_t h = (int64_t)(e->b->num * 1000.0 + 0.5) + e->a->window_ms;
        if (h > m)
            m = h;
    }
    return m;
}
