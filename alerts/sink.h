/*
 * sink: [sink NAME] sections (webhook, slack, pagerduty, alertmanager), the
 * body each format posts for a notification, and Standard Webhooks
 * signing (HMAC-SHA256 from libcrypto). Pure apart from reading secrets
 * from the environment or a file at load time.
 */
#ifndef BW_SINK_H
#define BW_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

enum sink_type { SINK_WEBHOOK, SINK_SLACK, SINK_PAGERDUTY, SINK_ALERTMANAGER };

struct sink {
    char *name;
    enum sink_type type;
    char *url;
    unsigned char key[256]; /* webhook: the decoded whsec_ secret */
    size_t keylen;
    char *routing_key;      /* pagerduty */
    bool am_api;            /* alertmanager: push to /api/v2/alerts */
    int64_t timeout_ms;
};

struct sinks {
    struct sink *v;
    int n;
};

/* Read every [sink NAME]; -1 with "FILE:LINE:COLUMN: message". */
int sinks_load(const struct config *cfg, struct sinks *out, char *err, size_t errlen);
void sinks_release(struct sinks *s);
const struct sink *sinks_find(const struct sinks *s, const char *name);

/* One notification: a rule on a queue changed to firing or resolved. */
struct notice {
    const char *rule, *queue, *endpoint, *severity, *summary, *runbook, *expr;
    const char *labels; /* the alert's label set (labels_json) */
    char fingerprint[17];
    bool resolved;
    double value, threshold;
    int64_t starts_at, ends_at, at; /* ms; ends_at 0 while firing */
};

/* fingerprint: labels_fingerprint (labels.h) */

/* The body this sink posts for n. */
void sink_body(const struct sink *s, const struct notice *n, struct buf *out);

/* Standard Webhooks: the webhook-signature value ("v1,<base64>") for
 * id.timestamp.body under key. */
void webhook_sign(const unsigned char *key, size_t keylen, const char *id, int64_t ts_s,
                  const char *body, size_t bodylen, struct buf *out);

/* RFC 3339 UTC with milliseconds */
void iso_time(int64_t ms, char out[32]);

#endif
