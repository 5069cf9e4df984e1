/*
 * rule: [rule NAME] sections read into rules, and the state of one rule on
 * one queue (inactive -> pending -> firing -> resolved, with `for` and
 * `keep_firing_for` as in Prometheus and Grafana). Pure: the clock is an
 * argument.
 */
#ifndef BW_RULE_H
#define BW_RULE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "config.h"
#include "expr.h"

struct rule {
    char *name;
    char *queues;  /* globs, comma-separated ("*" by default); !glob excludes */
    char *expr_text;
    struct expr *expr;
    int64_t for_ms, keep_firing_for_ms, repeat_interval_ms;
    char *severity; /* critical | warning | info */
    char *summary;  /* template: {queue} {value} {threshold} {rule} */
    char *runbook;
    char *sinks;    /* sink names, comma-separated; empty = every sink */
    bool send_resolved;
    bool event_driven; /* reads an event counter: evaluated as events arrive */
    /* reads new_signatures: one alert per new signature (labels + signature),
     * at most max_new_signatures notified per queue within the window
     * (new_signatures' longest), the rest in one summary */
    bool per_signature;
    int64_t signature_window_ms;
    int max_new_signatures;
    int64_t history_ms; /* how far back its baselines read the counts (0: none) */
    int line;
};

struct rules {
    struct rule *v;
    int n;
};

/* Read every [rule NAME] of cfg. -1 with "FILE:LINE:COLUMN: message" in err
 * (the column points into the offending value). Sink names must exist. */
int rules_load(const struct config *cfg, struct rules *out, char *err, size_t errlen);
void rules_release(struct rules *r);
/* Each rule as parsed (check-config). */
void rules_print(const struct rules *r, FILE *out);
/* Does the rule watch this queue? */
bool rule_matches_queue(const struct rule *r, const char *queue);

enum alert_state { ALERT_INACTIVE, ALERT_PENDING, ALERT_FIRING };
const char *alert_state_name(enum alert_state s);

/* One rule on one queue. */
struct alert {
    enum alert_state state;
    int64_t since;      /* when the current state began */
    int64_t last_true;  /* last evaluation with the condition true */
    double value, threshold;
};

enum alert_change {
    ALERT_SAME,
    ALERT_TO_PENDING,
    ALERT_TO_FIRING,
    ALERT_TO_RESOLVED, /* firing -> inactive */
    ALERT_TO_INACTIVE, /* pending -> inactive, never fired */
};
const char *alert_change_name(enum alert_change c);

/* Advance with the condition's value at now. */
enum alert_change alert_step(struct alert *a, bool cond, int64_t now, int64_t for_ms,
                             int64_t keep_firing_for_ms);

/* The summary template filled in. */
void rule_summary(const struct rule *r, const char *queue, double value, double threshold,
                  struct buf *out);

#endif
