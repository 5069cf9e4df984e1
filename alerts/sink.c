/* sink: see sink.h */
#include "sink.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "util.h"
#include "xmem.h"

/* a value given directly, through an environment variable, or a file */
static char *
secret_value(const struct config_section *s, const char *key, const char *file, char *err,
             size_t errlen, const struct config_kv **where)
{
    char k[64];
    const struct config_kv *kv = config_section_get(s, key);
    *where = kv;
    if (kv)
        return xstrdup(kv->value);
    snprintf(k, sizeof k, "%s_env", key);
    if ((kv = config_section_get(s, k)) != NULL) {
        *where = kv;
        const char *v = getenv(kv->value);
        if (!v || !*v) {
            snprintf(err, errlen, "%s:%d:%d: [sink %s] %s: environment variable %s is not set",
                     file, kv->line, kv->col, s->name, k, kv->value);
            return NULL;
        }
        return xstrdup(v);
    }
    snprintf(k, sizeof k, "%s_file", key);
    if ((kv = config_section_get(s, k)) != NULL) {
        *where = kv;
        FILE *f = fopen(kv->value, "r");
        char line[1024];
        if (!f || !fgets(line, sizeof line, f)) {
            snprintf(err, errlen, "%s:%d:%d: [sink %s] %s: cannot read %s", file, kv->line,
                     kv->col, s->name, k, kv->value);
            if (f)
                fclose(f);
            return NULL;
        }
        fclose(f);
        line[strcspn(line, "\r\n")] = '\0';
        return xstrdup(line);
    }
    return xstrdup("");
}

static int
load_one(const struct config *cfg, const struct config_section *s, struct sink *k, char *err,
         size_t errlen)
{
    const char *file = cfg->path ? cfg->path : "agent.ini";
    const struct config_kv *kv = config_section_get(s, "type"), *where;
    memset(k, 0, sizeof *k);
    k->name = xstrdup(s->name);
    k->timeout_ms = 10000;
    static const char *const types[] = {"webhook", "slack", "pagerduty", "alertmanager"};
    int t = -1;
    for (int i = 0; kv && i < 4; i++)
        if (!strcmp(kv->value, types[i]))
            t = i;
    if (t < 0) {
        if (kv)
            snprintf(err, errlen, "%s:%d:%d: [sink %s] type: expected webhook, slack, pagerduty or "
                                  "alertmanager, got '%s'", file, kv->line, kv->col, s->name, kv->value);
        else
            snprintf(err, errlen, "%s:%d: [sink %s] needs type = webhook | slack | pagerduty | "
                                  "alertmanager", file, s->line, s->name);
        return -1;
    }
    k->type = (enum sink_type)t;
    k->url = secret_value(s, "url", file, err, errlen, &where);
    if (!k->url)
        return -1;
    if (!*k->url && k->type == SINK_PAGERDUTY) {
        free(k->url);
        k->url = xstrdup("https://events.pagerduty.com/v2/enqueue");
    }
    if (!*k->url) {
        snprintf(err, errlen, "%s:%d: [sink %s] needs url (or url_env)", file, s->line, s->name);
        return -1;
    }
    if (strncmp(k->url, "http://", 7) && strncmp(k->url, "https://", 8)) {
        snprintf(err, errlen, "%s:%d:%d: [sink %s] url: expected http:// or https://", file,
                 where ? where->line : s->line, where ? where->col : 1, s->name);
        return -1;
    }
    if ((kv = config_section_get(s, "timeout")) != NULL &&
        (parse_duration_ms(kv->value, &k->timeout_ms) != 0 || k->timeout_ms < 100)) {
        snprintf(err, errlen, "%s:%d:%d: [sink %s] timeout: expected a duration of at least 100ms",
                 file, kv->line, kv->col, s->name);
        return -1;
    }
    if (k->type == SINK_WEBHOOK) {
        char *sec = secret_value(s, "secret", file, err, errlen, &where);
        if (!sec)
            return -1;
        if (strncmp(sec, "whsec_", 6) != 0) {
            snprintf(err, errlen, "%s:%d: [sink %s] webhook needs secret (or secret_env, "
                                  "secret_file) = whsec_<base64>",
                     file, where ? where->line : s->line, s->name);
            free(sec);
            return -1;
        }
        size_t n = strlen(sec + 6);
        int len = n && n % 4 == 0 && n / 4 * 3 <= sizeof k->key
                      ? EVP_DecodeBlock(k->key, (const unsigned char *)sec + 6, (int)n)
                      : -1;
        if (len > 0) { /* EVP_DecodeBlock counts the padding */
            while (n > 0 && sec[6 + n - 1] == '=') {
                n--;
                len--;
            }
        }
        free(sec);
        if (len <= 0) {
            snprintf(err, errlen, "%s:%d: [sink %s] secret: whsec_ must be followed by base64",
                     file, where ? where->line : s->line, s->name);
            return -1;
        }
        k->keylen = (size_t)len;
    }
    if (k->type == SINK_PAGERDUTY) {
        k->routing_key = secret_value(s, "routing_key", file, err, errlen, &where);
        if (!k->routing_key)
            return -1;
        if (!*k->routing_key) {
            snprintf(err, errlen, "%s:%d: [sink %s] pagerduty needs routing_key (or "
                                  "routing_key_env)", file, s->line, s->name);
            return -1;
        }
    }
    if ((kv = config_section_get(s, "mode")) != NULL) {
        if (k->type != SINK_ALERTMANAGER || (strcmp(kv->value, "webhook") && strcmp(kv->value, "api"))) {
            snprintf(err, errlen, "%s:%d:%d: [sink %s] mode: only for alertmanager, webhook or api",
                     file, kv->line, kv->col, s->name);
            return -1;
        }
        k->am_api = !strcmp(kv->value, "api");
    }
    return 0;
}

static void
sink_release(struct sink *k)
{
    free(k->name);
    free(k->url);
    free(k->routing_key);
    memset(k->key, 0, sizeof k->key);
}

struct sinks_loading {
    struct sinks *out;
    char *err;
    size_t errlen;
};

static int
load_each_sink(const struct config *cfg, const struct config_section *s, void *ud)
{
    struct sinks_loading *l = ud;
    l->out->v = xrealloc(l->out->v, sizeof *l->out->v * (size_t)(l->out->n + 1));
    if (load_one(cfg, s, &l->out->v[l->out->n], l->err, l->errlen) != 0) {
        sink_release(&l->out->v[l->out->n]);
        return -1;
    }
    l->out->n++;
    return 0;
}

int
sinks_load(const struct config *cfg, struct sinks *out, char *err, size_t errlen)
{
    struct sinks_loading l = {out, err, errlen};
    memset(out, 0, sizeof *out);
    if (config_each_section(cfg, "sink", load_each_sink, &l) != 0) {
        sinks_release(out);
        return -1;
    }
    return 0;
}

void
sinks_release(struct sinks *s)
{
    for (int i = 0; i < s->n; i++)
        sink_release(&s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

const struct sink *
sinks_find(const struct sinks *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].name, name))
            return &s->v[i];
    return NULL;
}

void
iso_time(int64_t ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

static void
add_num(cJSON *o, const char *k, double v)
{
    if (isnan(v) || isinf(v))
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, v);
}

static void
add_time(cJSON *o, const char *k, int64_t ms)
{
    char t[32];
    iso_time(ms, t);
    cJSON_AddStringToObject(o, k, t);
}

static cJSON *
labels(const struct notice *n)
{
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "alertname", n->rule);
    cJSON_AddStringToObject(l, "queue", n->queue);
    cJSON_AddStringToObject(l, "endpoint", n->endpoint);
    cJSON_AddStringToObject(l, "severity", n->severity);
    return l;
}

static cJSON *
annotations(const struct notice *n)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "summary", n->summary);
    if (n->runbook && *n->runbook)
        cJSON_AddStringToObject(a, "runbook_url", n->runbook);
    return a;
}

static cJSON *
am_alert(const struct notice *n, bool with_status)
{
    cJSON *a = cJSON_CreateObject();
    if (with_status)
        cJSON_AddStringToObject(a, "status", n->resolved ? "resolved" : "firing");
    cJSON_AddItemToObject(a, "labels", labels(n));
    cJSON_AddItemToObject(a, "annotations", annotations(n));
    add_time(a, "startsAt", n->starts_at);
    if (n->resolved)
        add_time(a, "endsAt", n->ends_at ? n->ends_at : n->at);
    else if (with_status)
        cJSON_AddStringToObject(a, "endsAt", "0001-01-01T00:00:00Z");
    cJSON_AddStringToObject(a, "generatorURL", "");
    if (with_status)
        cJSON_AddStringToObject(a, "fingerprint", n->fingerprint);
    return a;
}

void
sink_body(const struct sink *s, const struct notice *n, struct buf *out)
{
    cJSON *root = NULL;
    const char *status = n->resolved ? "resolved" : "firing";
    char line[1024];
    switch (s->type) {
    case SINK_WEBHOOK: {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "type", n->resolved ? "alert.resolved" : "alert.firing");
        add_time(root, "timestamp", n->at);
        cJSON *d = cJSON_AddObjectToObject(root, "data");
        cJSON_AddStringToObject(d, "rule", n->rule);
        cJSON_AddStringToObject(d, "queue", n->queue);
        cJSON_AddStringToObject(d, "endpoint", n->endpoint);
        cJSON_AddStringToObject(d, "status", status);
        cJSON_AddStringToObject(d, "severity", n->severity);
        cJSON_AddStringToObject(d, "summary", n->summary);
        cJSON_AddStringToObject(d, "expr", n->expr);
        add_num(d, "value", n->value);
        add_num(d, "threshold", n->threshold);
        cJSON_AddStringToObject(d, "runbook", n->runbook ? n->runbook : "");
        cJSON_AddStringToObject(d, "fingerprint", n->fingerprint);
        add_time(d, "starts_at", n->starts_at);
        if (n->resolved)
            add_time(d, "ends_at", n->ends_at ? n->ends_at : n->at);
        break;
    }
    case SINK_SLACK: {
        root = cJSON_CreateObject();
        snprintf(line, sizeof line, "[%s] %s", n->resolved ? "RESOLVED" : "FIRING", n->summary);
        cJSON_AddStringToObject(root, "text", line);
        cJSON *blocks = cJSON_AddArrayToObject(root, "blocks");
        cJSON *sec = cJSON_CreateObject();
        cJSON_AddStringToObject(sec, "type", "section");
        cJSON *t = cJSON_AddObjectToObject(sec, "text");
        cJSON_AddStringToObject(t, "type", "mrkdwn");
        char v[64], th[64];
        snprintf(v, sizeof v, "%g", n->value);
        snprintf(th, sizeof th, "%g", n->threshold);
        snprintf(line, sizeof line, "*[%s] %s* on `%s` (%s, %s)\n%s\nvalue %s, threshold %s%s%s",
                 n->resolved ? "RESOLVED" : "FIRING", n->rule, n->queue, n->severity, n->endpoint,
                 n->summary, v, th, n->runbook && *n->runbook ? "\nrunbook: " : "",
                 n->runbook ? n->runbook : "");
        cJSON_AddStringToObject(t, "text", line);
        cJSON_AddItemToArray(blocks, sec);
        break;
    }
    case SINK_PAGERDUTY: {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "routing_key", s->routing_key);
        cJSON_AddStringToObject(root, "event_action", n->resolved ? "resolve" : "trigger");
        cJSON_AddStringToObject(root, "dedup_key", n->fingerprint);
        if (!n->resolved) {
            cJSON *p = cJSON_AddObjectToObject(root, "payload");
            cJSON_AddStringToObject(p, "summary", n->summary);
            snprintf(line, sizeof line, "%s/%s", n->endpoint, n->queue);
            cJSON_AddStringToObject(p, "source", line);
            cJSON_AddStringToObject(p, "severity", n->severity);
            add_time(p, "timestamp", n->at);
            cJSON_AddStringToObject(p, "component", n->queue);
            cJSON_AddStringToObject(p, "group", n->rule);
            cJSON *cd = cJSON_AddObjectToObject(p, "custom_details");
            cJSON_AddStringToObject(cd, "expr", n->expr);
            add_num(cd, "value", n->value);
            add_num(cd, "threshold", n->threshold);
            if (n->runbook && *n->runbook) {
                cJSON *links = cJSON_AddArrayToObject(root, "links");
                cJSON *l = cJSON_CreateObject();
                cJSON_AddStringToObject(l, "href", n->runbook);
                cJSON_AddStringToObject(l, "text", "runbook");
                cJSON_AddItemToArray(links, l);
            }
        }
        break;
    }
    case SINK_ALERTMANAGER:
        if (s->am_api) {
            root = cJSON_CreateArray();
            cJSON_AddItemToArray(root, am_alert(n, false));
            break;
        }
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "version", "4");
        snprintf(line, sizeof line, "{}:{alertname=\"%s\", queue=\"%s\"}", n->rule, n->queue);
        cJSON_AddStringToObject(root, "groupKey", line);
        cJSON_AddNumberToObject(root, "truncatedAlerts", 0);
        cJSON_AddStringToObject(root, "status", status);
        cJSON_AddStringToObject(root, "receiver", s->name);
        cJSON *g = cJSON_AddObjectToObject(root, "groupLabels");
        cJSON_AddStringToObject(g, "alertname", n->rule);
        cJSON_AddStringToObject(g, "queue", n->queue);
        cJSON_AddItemToObject(root, "commonLabels", labels(n));
        cJSON_AddItemToObject(root, "commonAnnotations", annotations(n));
        cJSON_AddStringToObject(root, "externalURL", "");
        cJSON *alerts = cJSON_AddArrayToObject(root, "alerts");
        cJSON_AddItemToArray(alerts, am_alert(n, true));
        break;
    }
    char *text = cJSON_PrintUnformatted(root);
    buf_adds(out, text);
    free(text);
    cJSON_Delete(root);
}

void
webhook_sign(const unsigned char *key, size_t keylen, const char *id, int64_t ts_s,
             const char *body, size_t bodylen, struct buf *out)
{
    struct buf msg;
    buf_init(&msg, 0);
    buf_addf(&msg, "%s.%lld.", id, (long long)ts_s);
    buf_add(&msg, body, bodylen);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg.data, msg.len, mac, &maclen);
    buf_release(&msg);
    unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    EVP_EncodeBlock(b64, mac, (int)maclen);
    buf_adds(out, "v1,");
    buf_adds(out, (const char *)b64);
}
