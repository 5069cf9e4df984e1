/*
 * labels: the identity of an alert is its rule plus a label set (today
 * `endpoint` and `queue`; later ones add e.g. `signature`). One set, kept
 * sorted by key, is what the alert state, its transitions, silences,
 * fingerprints and message ids are made from, so they always agree.
 * Values are borrowed. Pure.
 */
#ifndef BW_LABELS_H
#define BW_LABELS_H

#include <stdbool.h>

#include "buf.h"

#define LABELS_MAX 8

struct labels {
    int n;
    const char *k[LABELS_MAX], *v[LABELS_MAX]; /* sorted by key, keys unique */
};

/* Set (or replace) key = value. Ignored past LABELS_MAX. */
void labels_set(struct labels *l, const char *key, const char *value);
/* The value of key, NULL when not set. */
const char *labels_get(const struct labels *l, const char *key);
/* The canonical text: a JSON object with the keys in order,
 * {"endpoint":"default","queue":"payments"}; what the store keeps. */
void labels_json(const struct labels *l, struct buf *out);
/* 16 hex digits of SHA-256 over the rule and every key and value. */
void labels_fingerprint(const char *rule, const struct labels *l, char out[17]);
/* Silence matchers "KEY=GLOB,KEY=GLOB": all must hold. `rule` and
 * `severity` are matched as if they were labels; an unknown key or a
 * malformed matcher matches nothing. */
bool labels_match(const char *matchers, const char *rule, const char *severity,
                  const struct labels *l);

#endif
