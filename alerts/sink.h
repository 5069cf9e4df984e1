/*
 * sink: [sink NAME] sections (webhook, slack, pagerduty, alertmanager), the
 * body each format posts for a notification, the message ids, Standard
 * Webhooks signing (HMAC-SHA256 from libcrypto). (check-config's masking
 * of sink secrets is config_print's.) Pure apart from reading secrets from the
 * environment or a file at load time.
 *
 * Secrets never leave this module in a stored body: the body sink_body()
 * builds is what the outbox keeps; sink_wire_body() adds what only the
 * configuration knows (the PagerDuty routing key) at send time, and the
 * outbox signs webhook bodies at send time with the sink's key.
 *
 * Every text of a notification that comes from outside (queue names, job
 * reasons, summaries filled with them) is made valid UTF-8 and cut on
 * character boundaries to each receiver's published limits:
 *   Slack      & < > escaped (Slack's formatting rules), each section's text
 *              <= SINK_SLACK_SECTION_MAX characters, the value and runbook in
 *              their own section so a long summary never drops them;
 *   PagerDuty  payload.summary <= SINK_PD_SUMMARY_MAX characters, source,
 *              component and group <= 255, the context in custom_details;
 *   the rest   summaries and reasons capped (SINK_TEXT_MAX, SINK_REASON_MAX).
 */
#ifndef BW_SINK_H
#define BW_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "config.h"

enum sink_type { SINK_WEBHOOK, SINK_SLACK, SINK_PAGERDUTY, SINK_ALERTMANAGER };

#define SINK_MAX_URLS 8
#define SINK_SLACK_SECTION_MAX 3000 /* Block Kit: a section's text */
#define SINK_SLACK_TEXT_MAX 3000    /* the top-level fallback text */
#define SINK_PD_SUMMARY_MAX 1024    /* Events API v2: payload.summary */
#define SINK_PD_ROUTING_KEY_LEN 32  /* an integration's routing key */
#define SINK_TEXT_MAX 2000          /* summaries in the other formats */
#define SINK_REASON_MAX 300         /* one job's reason, one signature in a context */
#define SINK_RESEND_DEFAULT_MS 60000
#define SINK_MSG_ID_LEN 37          /* "msg_" + 32 hex + NUL */

struct sink {
    char *name;
    enum sink_type type;
    char *url;                   /* the first of urls */
    char *urls[SINK_MAX_URLS];   /* alertmanager api: an HA cluster, each gets every push */
    int nurls;
    unsigned char key[256];      /* webhook: the decoded whsec_ secret */
    size_t keylen;
    char *routing_key;           /* pagerduty: added to the body at send time only */
    bool am_api;                 /* alertmanager: push to /api/v2/alerts */
    int64_t resend_ms;           /* alertmanager api: re-push a firing alert this often */
    char *generator_url;         /* alertmanager: generatorURL's base ("": omitted) */
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
/* How many targets a sink has: its URLs for an alertmanager api push, 1
 * for the rest. The outbox keeps one row per target. */
int sink_targets(const struct sink *s);
/* Is name in list (sink names, comma-separated; an empty list names all)? */
bool sink_listed(const char *list, const char *name);
/* Is this a push that is re-sent while the alert fires (alertmanager api)? */
bool sink_repushes(const struct sink *s);

/* What a failure or dead-letter alert says about what died (borrowed). */
#define NOTICE_MAX_SIGS 3
#define NOTICE_MAX_JOBS 3
struct notice_context {
    int nsigs, njobs;
    struct {
        const char *text;  /* the signature's normalised text */
        int64_t count;
    } sigs[NOTICE_MAX_SIGS];
    struct {
        const char *id, *reason;
    } jobs[NOTICE_MAX_JOBS];
    int64_t failures;        /* over the context's window */
    const char *dlq_command; /* "bullwatch dlq list ..." */
    const char *new_signature; /* the id, when the alert is one new error signature */
};

enum notice_kind {
    NOTICE_FIRING,   /* a firing notification (the transition, a repeat) */
    NOTICE_RESOLVED,
    NOTICE_REPUSH,   /* alertmanager api: the firing alert again, endsAt ahead */
    NOTICE_TEST,     /* `bullwatch sink test` */
};
const char *notice_kind_name(enum notice_kind k); /* the outbox's `kind` */

/* One notification: a rule on a queue changed to firing or resolved, a
 * repeat, a re-push. Strings are borrowed. */
struct notice {
    const char *rule, *queue, *endpoint, *severity, *summary, *runbook, *expr;
    const char *labels; /* the alert's label set (labels_json) */
    char fingerprint[17];
    enum notice_kind kind;
    bool resolved;
    double value, threshold;
    int64_t starts_at, ends_at, at; /* ms; ends_at 0 while firing */
    /* the transition this message is about (starts_at for a firing, ends_at
     * for a resolved) and the repeat's number (0: the transition's own) */
    int64_t transition_at;
    int seq;
    /* HA agents: the ids (message id, PagerDuty's dedup_key) take the times
     * above rounded down to a multiple of this, so that agents whose clocks
     * and reads differ a little give a transition the same id (0: exact) */
    int64_t id_quantum_ms;
    const struct notice_context *ctx; /* NULL: none */
};

/* The message id of n for sink s: "msg_" + 32 hex digits of SHA-256 over
 * the sink's name, the rule, the label set, the kind, the transition's time
 * and the repeat's number. The same transition sent again gives the same
 * id (whichever agent or store sends it); another transition another. */
/* t rounded down to a multiple of q (q <= 0: t). */
int64_t sink_id_time(int64_t t, int64_t q);
void sink_msg_id(const struct sink *s, const struct notice *n, char out[SINK_MSG_ID_LEN]);
/* PagerDuty's dedup_key: the alert (fingerprint) and the transition that
 * opened its episode, so its trigger, repeats and resolve share it and the
 * next episode does not. */
void notice_dedup_key(const struct notice *n, char out[48]);

/* The body this sink posts for n, as stored (no secrets). An alertmanager
 * api push of a firing alert has endsAt = n->at + 4 resend intervals, a
 * resolved one endsAt = the resolve time. */
void sink_body(const struct sink *s, const struct notice *n, struct buf *out);
/* The bytes to post for a stored body: the body with what the
 * configuration adds at send time (pagerduty: routing_key). */
void sink_wire_body(const struct sink *s, const char *stored, struct buf *out);

/* HA: body (a JSON object) with "leader":{"id":ID,"token":N} as its first
 * member: which agent sent it under which fencing token. Anything else is
 * copied as it is. */
void sink_add_leader(const char *body, const char *id, int64_t token, struct buf *out);

/* Standard Webhooks: the webhook-signature value ("v1,<base64>") for
 * id.timestamp.body under key. */
void webhook_sign(const unsigned char *key, size_t keylen, const char *id, int64_t ts_s,
                  const char *body, size_t bodylen, struct buf *out);

/* RFC 3339 UTC with milliseconds */
void iso_time(int64_t ms, char out[32]);

/* Text made valid UTF-8 (invalid bytes as U+FFFD, control characters but
 * newline as spaces) and cut to at most max characters on a character
 * boundary, an ellipsis marking the cut. Slack: & < > escaped as Slack asks
 * (&amp; &lt; &gt;), never cut inside an entity; max counts the escaped
 * characters. Returns the characters appended. */
size_t sink_text(struct buf *out, const char *s, size_t max, bool slack);
/* Characters (code points) of valid UTF-8 s. */
size_t sink_chars(const char *s);

/* PagerDuty routing keys are SINK_PD_ROUTING_KEY_LEN letters and digits. */
bool sink_routing_key_valid(const char *key);

/* A job's failed reason fit to be sent: the values of password=, token:,
 * secret, api_key, authorization/bearer and of URL user info replaced by
 * [redacted], made valid UTF-8, cut to max characters. */
void sink_redact(const char *s, size_t max, struct buf *out);

#endif
