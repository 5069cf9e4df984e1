/* rule: see rule.h */
#include "rule.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xmem.h"

static bool
sink_exists(const struct config *cfg, const char *name, size_t n)
{
    for (int i = 0; i < cfg->nsections; i++)
        if (!strcmp(cfg->sections[i].kind, "sink") && strlen(cfg->sections[i].name) == n &&
            !strncmp(cfg->sections[i].name, name, n))
            return true;
    return false;
}

static int
load_one(const struct config *cfg, const struct config_section *s, struct rule *r, char *err,
         size_t errlen)
{
    const char *file = cfg->path ? cfg->path : "agent.ini";
    const struct config_kv *kv;
    memset(r, 0, sizeof *r);
    r->name = xstrdup(s->name);
    r->line = s->line;
    r->send_resolved = true;
    kv = config_section_get(s, "queues");
    r->queues = xstrdup(kv && *kv->value ? kv->value : "*");
    kv = config_section_get(s, "expr");
    if (!kv || !*kv->value) {
        snprintf(err, errlen, "%s:%d: [rule %s] needs expr = ...", file, s->line, s->name);
        return -1;
    }
    char msg[200];
    int col;
    r->expr_text = xstrdup(kv->value);
    r->expr = expr_parse(kv->value, msg, sizeof msg, &col);
    if (!r->expr) {
        snprintf(err, errlen, "%s:%d:%d: [rule %s] expr: %s", file, kv->line, kv->col + col - 1,
                 s->name, msg);
        return -1;
    }
    /* counters move with events: such rules are evaluated as events arrive */
    r->event_driven = (expr_inds(r->expr) >> IND_NGAUGES) != 0;
    r->signature_window_ms = expr_ind_window(r->expr, IND_NEW_SIGNATURES);
    r->per_signature = r->signature_window_ms > 0;
    r->history_ms = expr_history_ms(r->expr);
    r->max_new_signatures = 5;
    kv = config_section_get(s, "max_new_signatures");
    if (kv) {
        int64_t n;
        if (parse_int64(kv->value, &n) != 0 || n < 1 || n > 1000) {
            snprintf(err, errlen, "%s:%d:%d: [rule %s] max_new_signatures: expected 1 to 1000, "
                                  "got '%s'",
                     file, kv->line, kv->col, s->name, kv->value);
            return -1;
        }
        if (!r->per_signature) {
            snprintf(err, errlen, "%s:%d:%d: [rule %s] max_new_signatures: the expr does not read "
                                  "new_signatures[w]",
                     file, kv->line, kv->col, s->name);
            return -1;
        }
        r->max_new_signatures = (int)n;
    }
    static const struct {
        const char *key;
        size_t off;
    } durs[] = {{"for", offsetof(struct rule, for_ms)},
                {"keep_firing_for", offsetof(struct rule, keep_firing_for_ms)},
                {"repeat_interval", offsetof(struct rule, repeat_interval_ms)}};
    r->repeat_interval_ms = 4 * 3600000; /* Alertmanager's default */
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        kv = config_section_get(s, durs[i].key);
        if (!kv)
            continue;
        int64_t *dst = (int64_t *)(void *)((char *)r + durs[i].off);
        if (parse_duration_ms(kv->value, dst) != 0 || *dst < 0) {
            snprintf(err, errlen, "%s:%d:%d: [rule %s] %s: expected a duration such as 5m, got '%s'",
                     file, kv->line, kv->col, s->name, durs[i].key, kv->value);
            return -1;
        }
    }
    kv = config_section_get(s, "severity");
    r->severity = xstrdup(kv ? kv->value : "warning");
    if (strcmp(r->severity, "critical") && strcmp(r->severity, "warning") &&
        strcmp(r->severity, "info")) {
        snprintf(err, errlen, "%s:%d:%d: [rule %s] severity: expected critical, warning or info",
                 file, kv->line, kv->col, s->name);
        return -1;
    }
    kv = config_section_get(s, "summary");
    r->summary = xstrdup(kv ? kv->value : "{rule} on {queue}: {value} (threshold {threshold})");
    kv = config_section_get(s, "runbook");
    r->runbook = xstrdup(kv ? kv->value : "");
    kv = config_section_get(s, "send_resolved");
    if (kv && parse_bool(kv->value, &r->send_resolved) != 0) {
        snprintf(err, errlen, "%s:%d:%d: [rule %s] send_resolved: expected true or false", file,
                 kv->line, kv->col, s->name);
        return -1;
    }
    kv = config_section_get(s, "sinks");
    r->sinks = xstrdup(kv ? kv->value : "");
    if (kv) {
        const char *p = kv->value;
        while (*p) {
            while (*p == ',' || *p == ' ')
                p++;
            size_t n = strcspn(p, ", ");
            if (n && !sink_exists(cfg, p, n)) {
                snprintf(err, errlen, "%s:%d:%d: [rule %s] sinks: no [sink %.*s] in the config",
                         file, kv->line, kv->col + (int)(p - kv->value), s->name, (int)n, p);
                return -1;
            }
            p += n;
        }
    }
    return 0;
}

static void
rule_release(struct rule *r)
{
    free(r->name);
    free(r->queues);
    free(r->expr_text);
    expr_free(r->expr);
    free(r->severity);
    free(r->summary);
    free(r->runbook);
    free(r->sinks);
}

struct rules_loading {
    struct rules *out;
    char *err;
    size_t errlen;
};

static int
load_each_rule(const struct config *cfg, const struct config_section *s, void *ud)
{
    struct rules_loading *l = ud;
    l->out->v = xrealloc(l->out->v, sizeof *l->out->v * (size_t)(l->out->n + 1));
    if (load_one(cfg, s, &l->out->v[l->out->n], l->err, l->errlen) != 0) {
        rule_release(&l->out->v[l->out->n]);
        return -1;
    }
    l->out->n++;
    return 0;
}

int
rules_load(const struct config *cfg, struct rules *out, char *err, size_t errlen)
{
    struct rules_loading l = {out, err, errlen};
    memset(out, 0, sizeof *out);
    if (config_each_section(cfg, "rule", load_each_rule, &l) != 0) {
        rules_release(out);
        return -1;
    }
    return 0;
}

void
rules_release(struct rules *r)
{
    for (int i = 0; i < r->n; i++)
        rule_release(&r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

void
rules_print(const struct rules *rs, FILE *out)
{
    struct buf b;
    buf_init(&b, 0);
    for (int i = 0; i < rs->n; i++) {
        const struct rule *r = &rs->v[i];
        char f[32], k[32], rep[32];
        format_duration_exact(r->for_ms, f, sizeof f);
        format_duration_exact(r->keep_firing_for_ms, k, sizeof k);
        format_duration_exact(r->repeat_interval_ms, rep, sizeof rep);
        buf_reset(&b);
        expr_print(r->expr, &b);
        fprintf(out, "# rule %s (line %d): %s, %s\n#   when %s\n#   for %s, keep_firing_for %s, "
                     "repeat_interval %s, send_resolved %s, queues %s, sinks %s\n",
                r->name, r->line, r->severity, r->event_driven ? "on events" : "on the timer",
                b.data, f, k, rep, r->send_resolved ? "true" : "false", r->queues,
                *r->sinks ? r->sinks : "(all)");
        if (r->per_signature) {
            format_duration_exact(r->signature_window_ms, f, sizeof f);
            fprintf(out, "#   one alert per new error signature (first seen within %s), at most "
                         "%d notified per queue in %s, the rest in one summary\n",
                    f, r->max_new_signatures, f);
        }
        if (r->history_ms) {
            int64_t days = r->history_ms / 86400000;
            format_duration_exact(r->history_ms % 86400000, f, sizeof f);
            fprintf(out, "#   needs %lld days and %s of per-minute counts (baseline), kept that long "
                         "whatever [store] retention says; with fewer than half of those days its "
                         "baseline has no value and the comparison is false\n",
                    (long long)days, f);
        }
    }
    buf_release(&b);
}

bool
rule_matches_queue(const struct rule *r, const char *queue)
{
    /* "*, !*-dlq": any glob matches and no !glob does */
    bool any = false, positive = false;
    char pat[256];
    for (const char *p = r->queues; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n > 0 && n < sizeof pat) {
            bool neg = p[0] == '!';
            memcpy(pat, p + neg, n - neg);
            pat[n - neg] = '\0';
            if (neg && glob_list_match(pat, queue, false))
                return false;
            if (!neg) {
                positive = true;
                any |= glob_list_match(pat, queue, false);
            }
        }
        p += strcspn(p, ",");
    }
    return any || !positive;
}

const char *
alert_state_name(enum alert_state s)
{
    static const char *const n[] = {"inactive", "pending", "firing"};
    return s <= ALERT_FIRING ? n[s] : "?";
}

const char *
alert_change_name(enum alert_change c)
{
    static const char *const n[] = {"same", "pending", "firing", "resolved", "inactive"};
    return c <= ALERT_TO_INACTIVE ? n[c] : "?";
}

enum alert_change
alert_step(struct alert *a, bool cond, int64_t now, int64_t for_ms, int64_t keep_ms)
{
    if (cond)
        a->last_true = now;
    switch (a->state) {
    case ALERT_INACTIVE:
        if (!cond)
            return ALERT_SAME;
        a->since = now;
        if (for_ms <= 0) {
            a->state = ALERT_FIRING;
            return ALERT_TO_FIRING;
        }
        a->state = ALERT_PENDING;
        return ALERT_TO_PENDING;
    case ALERT_PENDING:
        if (!cond) {
            a->state = ALERT_INACTIVE;
            a->since = now;
            return ALERT_TO_INACTIVE;
        }
        if (now - a->since >= for_ms) {
            a->state = ALERT_FIRING;
            a->since = now;
            return ALERT_TO_FIRING;
        }
        return ALERT_SAME;
    case ALERT_FIRING:
        if (cond || (keep_ms > 0 && now - a->last_true < keep_ms))
            return ALERT_SAME;
        a->state = ALERT_INACTIVE;
        a->since = now;
        return ALERT_TO_RESOLVED;
    }
    return ALERT_SAME;
}

static void
add_value(struct buf *out, double v)
{
    if (isnan(v))
        buf_adds(out, "n/a");
    else if (v == floor(v) && fabs(v) < 1e15)
        buf_addf(out, "%.0f", v);
    else
        buf_addf(out, "%.3g", v);
}

void
rule_summary(const struct rule *r, const char *queue, double value, double threshold,
             struct buf *out)
{
    for (const char *p = r->summary; *p;) {
        if (!strncmp(p, "{queue}", 7)) {
            buf_adds(out, queue);
            p += 7;
        } else if (!strncmp(p, "{value}", 7)) {
            add_value(out, value);
            p += 7;
        } else if (!strncmp(p, "{threshold}", 11)) {
            add_value(out, threshold);
            p += 11;
        } else if (!strncmp(p, "{rule}", 6)) {
            buf_adds(out, r->name);
            p += 6;
        } else {
            buf_addc(out, *p++);
        }
    }
}
