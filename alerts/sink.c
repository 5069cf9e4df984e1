/* sink: see sink.h */
#include "sink.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

static bool
is_http_url(const char *u)
{
    return (!strncmp(u, "http://", 7) && u[7]) || (!strncmp(u, "https://", 8) && u[8]);
}

/* url = one URL, or (alertmanager api) several separated by commas */
static int
load_urls(struct sink *k, const char *file, const struct config_section *s,
          const struct config_kv *where, char *err, size_t errlen)
{
    int line = where ? where->line : s->line, col = where ? where->col : 1;
    for (const char *p = k->url; *p;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, ", \t");
        if (!n)
            break;
        if (k->nurls == SINK_MAX_URLS) {
            snprintf(err, errlen, "%s:%d:%d: [sink %s] url: at most %d URLs", file, line, col,
                     s->name, SINK_MAX_URLS);
            return -1;
        }
        k->urls[k->nurls] = xstrndup(p, n);
        if (!is_http_url(k->urls[k->nurls])) {
            k->nurls++;
            snprintf(err, errlen, "%s:%d:%d: [sink %s] url: expected http:// or https://", file,
                     line, col, s->name);
            return -1;
        }
        k->nurls++;
        p += n;
    }
    if (k->nurls == 0) {
        snprintf(err, errlen, "%s:%d: [sink %s] needs url (or url_env)", file, s->line, s->name);
        return -1;
    }
    if (k->nurls > 1 && !(k->type == SINK_ALERTMANAGER && k->am_api)) {
        snprintf(err, errlen, "%s:%d:%d: [sink %s] url: several URLs only for alertmanager with "
                              "mode = api (an HA cluster)", file, line, col, s->name);
        return -1;
    }
    free(k->url);
    k->url = xstrdup(k->urls[0]);
    return 0;
}

bool
sink_routing_key_valid(const char *key)
{
    size_t n = 0;
    for (; key[n]; n++)
        if (!isalnum((unsigned char)key[n]))
            return false;
    return n == SINK_PD_ROUTING_KEY_LEN;
}

static int
load_one(const struct config *cfg, const struct config_section *s, struct sink *k, char *err,
         size_t errlen)
{
    const char *file = cfg->path ? cfg->path : "agent.ini";
    const struct config_kv *kv = config_section_get(s, "type"), *where, *url_where;
    memset(k, 0, sizeof *k);
    k->name = xstrdup(s->name);
    k->timeout_ms = 10000;
    k->resend_ms = SINK_RESEND_DEFAULT_MS;
    k->generator_url = xstrdup("");
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
    if ((kv = config_section_get(s, "mode")) != NULL) {
        if (k->type != SINK_ALERTMANAGER || (strcmp(kv->value, "webhook") && strcmp(kv->value, "api"))) {
            snprintf(err, errlen, "%s:%d:%d: [sink %s] mode: only for alertmanager, webhook or api",
                     file, kv->line, kv->col, s->name);
            return -1;
        }
        k->am_api = !strcmp(kv->value, "api");
    }
    k->url = secret_value(s, "url", file, err, errlen, &url_where);
    if (!k->url)
        return -1;
    if (!*k->url && k->type == SINK_PAGERDUTY) {
        free(k->url);
        k->url = xstrdup("https://events.pagerduty.com/v2/enqueue");
    }
    if (load_urls(k, file, s, url_where, err, errlen) != 0)
        return -1;
    if ((kv = config_section_get(s, "timeout")) != NULL &&
        (parse_duration_ms(kv->value, &k->timeout_ms) != 0 || k->timeout_ms < 100)) {
        snprintf(err, errlen, "%s:%d:%d: [sink %s] timeout: expected a duration of at least 100ms",
                 file, kv->line, kv->col, s->name);
        return -1;
    }
    if ((kv = config_section_get(s, "resend_interval")) != NULL) {
        if (!k->am_api) {
            snprintf(err, errlen, "%s:%d:%d: [sink %s] resend_interval: only for alertmanager "
                                  "with mode = api", file, kv->line, kv->col, s->name);
            return -1;
        }
        /* Alertmanager resolves an alert not pushed again within its
         * resolve_timeout (5 min by default): stay well inside it */
        if (parse_duration_ms(kv->value, &k->resend_ms) != 0 || k->resend_ms < 1000 ||
            k->resend_ms > 120000) {
            snprintf(err, errlen, "%s:%d:%d: [sink %s] resend_interval: expected a duration from "
                                  "1s to 2m (Alertmanager's resolve_timeout is 5m by default)",
                     file, kv->line, kv->col, s->name);
            return -1;
        }
    }
    if ((kv = config_section_get(s, "generator_url")) != NULL) {
        if (k->type != SINK_ALERTMANAGER) {
            snprintf(err, errlen, "%s:%d:%d: [sink %s] generator_url: only for alertmanager", file,
                     kv->line, kv->col, s->name);
            return -1;
        }
        if (*kv->value && !is_http_url(kv->value)) {
            snprintf(err, errlen, "%s:%d:%d: [sink %s] generator_url: expected an http:// or "
                                  "https:// URL (Alertmanager refuses anything else)",
                     file, kv->line, kv->col, s->name);
            return -1;
        }
        free(k->generator_url);
        k->generator_url = xstrdup(kv->value);
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
        memset(sec, 0, strlen(sec));
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
        if (!sink_routing_key_valid(k->routing_key)) {
            /* the key itself is never printed, only its length */
            snprintf(err, errlen, "%s:%d:%d: [sink %s] routing_key: expected %d letters and "
                                  "digits (an Events API v2 integration key), got %zu characters",
                     file, where ? where->line : s->line, where ? where->col : 1, s->name,
                     SINK_PD_ROUTING_KEY_LEN, strlen(k->routing_key));
            return -1;
        }
    }
    return 0;
}

static void
sink_release(struct sink *k)
{
    free(k->name);
    free(k->url);
    for (int i = 0; i < k->nurls; i++)
        free(k->urls[i]);
    if (k->routing_key)
        memset(k->routing_key, 0, strlen(k->routing_key));
    free(k->routing_key);
    free(k->generator_url);
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

int
sink_targets(const struct sink *s)
{
    return s->type == SINK_ALERTMANAGER && s->am_api && s->nurls > 0 ? s->nurls : 1;
}

bool
sink_listed(const char *list, const char *name)
{
    if (!list || !*list)
        return true;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t k = strcspn(p, ", ");
        if (k == n && !strncmp(p, name, n))
            return true;
        p += k;
    }
    return false;
}

bool
sink_repushes(const struct sink *s)
{
    return s->type == SINK_ALERTMANAGER && s->am_api;
}

/* ---- text ---- */

size_t
sink_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

/* The next unit of s at *i: its bytes to emit in out (an entity for Slack,
 * U+FFFD for an invalid byte, a space for a control character, nothing for
 * a character cut off at the very end) and its length in characters. */
static size_t
text_unit(const unsigned char *s, size_t n, size_t *i, bool slack, const char **emit,
          size_t *emitlen)
{
    static const char fffd[] = "\xef\xbf\xbd";
    unsigned char c = s[*i];
    uint32_t cp;
    if (slack && (c == '&' || c == '<' || c == '>')) {
        *emit = c == '&' ? "&amp;" : c == '<' ? "&lt;" : "&gt;";
        *emitlen = strlen(*emit);
        (*i)++;
        return *emitlen;
    }
    if (c == '\n') {
        *emit = "\n";
        *emitlen = 1;
        (*i)++;
        return 1;
    }
    if (c < 0x20 || c == 0x7f) {
        *emit = " ";
        *emitlen = 1;
        (*i)++;
        return 1;
    }
    size_t l = utf8_decode(s + *i, n - *i, &cp);
    size_t want = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (l == 0 && want > n - *i) { /* a character cut off at the end (a capped text): dropped */
        bool tail = true;
        for (size_t k = *i + 1; k < n; k++)
            tail &= (s[k] & 0xc0) == 0x80;
        if (tail) {
            *emit = "";
            *emitlen = 0;
            *i = n;
            return 0;
        }
    }
    if (l == 0) {
        *emit = fffd;
        *emitlen = 3;
        (*i)++;
        return 1;
    }
    *emit = (const char *)s + *i;
    *emitlen = l;
    *i += l;
    return 1;
}

size_t
sink_text(struct buf *out, const char *str, size_t max, bool slack)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t n = strlen((const char *)s), i = 0, total = 0;
    const char *e;
    size_t el;
    while (i < n) /* does it fit whole? */
        total += text_unit(s, n, &i, slack, &e, &el);
    bool cut = total > max;
    size_t budget = cut ? (max > 0 ? max - 1 : 0) : max, used = 0; /* 1 for the ellipsis */
    i = 0;
    while (i < n) {
        size_t j = i, c = text_unit(s, n, &j, slack, &e, &el);
        if (used + c > budget)
            break;
        buf_add(out, e, el);
        used += c;
        i = j;
    }
    if (cut && max > 0) {
        buf_adds(out, "\xe2\x80\xa6"); /* … */
        used++;
    }
    if (!out->data)
        buf_adds(out, "");
    return used;
}

static bool
key_matches(const char *p, const char *const *keys, size_t *klen)
{
    for (int k = 0; keys[k]; k++) {
        size_t n = strlen(keys[k]);
        if (!strncasecmp(p, keys[k], n)) {
            *klen = n;
            return true;
        }
    }
    return false;
}

void
sink_redact(const char *s, size_t max, struct buf *out)
{
    static const char *const keys[] = {"password", "passwd", "pwd", "token", "secret", "api_key",
                                       "apikey",   "api-key", "authorization", "bearer", NULL};
    struct buf r;
    buf_init(&r, 0);
    buf_adds(&r, "");
    for (const char *p = s ? s : ""; *p;) {
        size_t kl;
        /* user info in a URL: scheme://user:pass@host */
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            const char *h = p + 3, *at = NULL;
            for (const char *t = h; *t && !strchr("/ \t\"'", *t); t++)
                if (*t == '@')
                    at = t;
            if (at) {
                buf_adds(&r, "://[redacted]@");
                p = at + 1;
                continue;
            }
        }
        if ((p == s || !isalnum((unsigned char)p[-1])) && key_matches(p, keys, &kl)) {
            const char *v = p + kl;
            while (isalnum((unsigned char)*v) || *v == '_' || *v == '-')
                v++; /* password_hash, secretKey ... */
            const char *sep = v;
            while (*sep == ' ' || *sep == '"' || *sep == '\'')
                sep++;
            if (*sep == '=' || *sep == ':' || !strncasecmp(p, "bearer", 6)) {
                if (*sep == '=' || *sep == ':')
                    sep++;
                while (*sep == ' ' || *sep == '"' || *sep == '\'')
                    sep++;
                /* "Authorization: Bearer xyz": the scheme word goes too */
                if (!strncasecmp(sep, "bearer ", 7) || !strncasecmp(sep, "basic ", 6))
                    sep += strcspn(sep, " ") + 1;
                const char *end = sep + strcspn(sep, " ,;&\"'\t\n)}]");
                if (end > sep) {
                    buf_add(&r, p, (size_t)(sep - p));
                    buf_adds(&r, "[redacted]");
                    p = end;
                    continue;
                }
            }
        }
        buf_addc(&r, *p++);
    }
    sink_text(out, r.data, max, false);
    buf_release(&r);
}

/* ---- ids ---- */

static void
hash_hex(const char *const *parts, int n, char *out, size_t hexlen)
{
    struct buf b;
    unsigned char md[SHA256_DIGEST_LENGTH];
    buf_init(&b, 0);
    for (int i = 0; i < n; i++)
        buf_add(&b, parts[i], strlen(parts[i]) + 1); /* the NUL separates */
    SHA256((const unsigned char *)b.data, b.len, md);
    buf_release(&b);
    for (size_t i = 0; i < hexlen / 2 && i < sizeof md; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

const char *
notice_kind_name(enum notice_kind k)
{
    static const char *const n[] = {"firing", "resolved", "repush", "test"};
    return k <= NOTICE_TEST ? n[k] : "?";
}

void
sink_msg_id(const struct sink *s, const struct notice *n, char out[SINK_MSG_ID_LEN])
{
    char at[32], seq[16];
    snprintf(at, sizeof at, "%lld", (long long)sink_id_time(n->transition_at, n->id_quantum_ms));
    snprintf(seq, sizeof seq, "%d", n->seq);
    const char *parts[] = {"bullwatch-msg-1", s->name, n->rule, n->labels ? n->labels : "",
                           notice_kind_name(n->kind), at, seq};
    memcpy(out, "msg_", 4);
    hash_hex(parts, 7, out + 4, 32);
    out[36] = '\0';
}

void
notice_dedup_key(const struct notice *n, char out[48])
{
    /* readable: the alert's fingerprint and its episode's start */
    snprintf(out, 48, "bw-%s-%lld", n->fingerprint,
             (long long)sink_id_time(n->starts_at, n->id_quantum_ms));
}

int64_t
sink_id_time(int64_t t, int64_t q)
{
    if (q <= 0)
        return t;
    int64_t r = t % q;
    return t - (r < 0 ? r + q : r);
}

/* ---- bodies ---- */

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

/* a string member made valid UTF-8 and capped */
static void
add_text(cJSON *o, const char *k, const char *v, size_t max)
{
    struct buf b;
    buf_init(&b, 0);
    sink_text(&b, v ? v : "", max, false);
    cJSON_AddStringToObject(o, k, b.data);
    buf_release(&b);
}

static void
fmt_value(double v, char out[64])
{
    if (isnan(v) || isinf(v))
        snprintf(out, 64, "n/a");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(out, 64, "%.0f", v);
    else
        snprintf(out, 64, "%.4g", v);
}

/* the context as JSON: {failures, top_errors: [{signature, count}], jobs:
 * [{id, reason}], dlq_command} */
static cJSON *
context_json(const struct notice_context *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "failures", (double)c->failures);
    cJSON *sigs = cJSON_AddArrayToObject(o, "top_errors");
    for (int i = 0; i < c->nsigs; i++) {
        cJSON *x = cJSON_CreateObject();
        add_text(x, "signature", c->sigs[i].text, SINK_REASON_MAX);
        cJSON_AddNumberToObject(x, "count", (double)c->sigs[i].count);
        cJSON_AddItemToArray(sigs, x);
    }
    cJSON *jobs = cJSON_AddArrayToObject(o, "jobs");
    for (int i = 0; i < c->njobs; i++) {
        cJSON *x = cJSON_CreateObject();
        add_text(x, "id", c->jobs[i].id, 128);
        add_text(x, "reason", c->jobs[i].reason, SINK_REASON_MAX);
        cJSON_AddItemToArray(jobs, x);
    }
    if (c->dlq_command)
        add_text(o, "dlq_command", c->dlq_command, 1024);
    if (c->new_signature)
        add_text(o, "new_signature", c->new_signature, 64);
    return o;
}

/* the context as plain lines (Alertmanager annotations) */
static void
context_lines(const struct notice_context *c, struct buf *sigs, struct buf *jobs)
{
    for (int i = 0; i < c->nsigs; i++) {
        buf_addf(sigs, "%s%lld x ", i ? "\n" : "", (long long)c->sigs[i].count);
        sink_text(sigs, c->sigs[i].text, SINK_REASON_MAX, false);
    }
    for (int i = 0; i < c->njobs; i++) {
        if (i)
            buf_addc(jobs, '\n');
        sink_text(jobs, c->jobs[i].id, 128, false);
        buf_adds(jobs, ": ");
        sink_text(jobs, c->jobs[i].reason, SINK_REASON_MAX, false);
    }
    buf_adds(sigs, "");
    buf_adds(jobs, "");
}

/* Alertmanager labels: the alert's identity (its label set) plus alertname
 * and severity. Alertmanager identifies an alert by its labels and tells
 * its episodes apart by startsAt/endsAt, so the labels carry the identity
 * and not the transition: a resend, a re-push, and another agent's push of
 * the same alert (a takeover with a store of its own, whose transition has
 * another time) all land on the one Alertmanager alert instead of opening
 * a second one; startsAt is the transition's time. */
static cJSON *
am_labels(const struct notice *n)
{
    cJSON *l = cJSON_CreateObject();
    add_text(l, "alertname", n->rule, 256);
    cJSON *set = n->labels ? cJSON_Parse(n->labels) : NULL;
    cJSON *it;
    cJSON_ArrayForEach(it, set)
    {
        if (cJSON_IsString(it) && strcmp(it->string, "alertname") && strcmp(it->string, "severity"))
            add_text(l, it->string, it->valuestring, 1024);
    }
    cJSON_Delete(set);
    if (!cJSON_GetObjectItemCaseSensitive(l, "queue"))
        add_text(l, "queue", n->queue, 1024);
    if (!cJSON_GetObjectItemCaseSensitive(l, "endpoint"))
        add_text(l, "endpoint", n->endpoint, 256);
    cJSON_AddStringToObject(l, "severity", n->severity);
    return l;
}

static cJSON *
am_annotations(const struct notice *n)
{
    cJSON *a = cJSON_CreateObject();
    char v[64];
    add_text(a, "summary", n->summary, SINK_TEXT_MAX);
    if (n->runbook && *n->runbook)
        add_text(a, "runbook_url", n->runbook, 1024);
    fmt_value(n->value, v);
    cJSON_AddStringToObject(a, "value", v);
    fmt_value(n->threshold, v);
    cJSON_AddStringToObject(a, "threshold", v);
    if (n->ctx) {
        struct buf sigs, jobs;
        buf_init(&sigs, 0);
        buf_init(&jobs, 0);
        context_lines(n->ctx, &sigs, &jobs);
        if (sigs.len)
            cJSON_AddStringToObject(a, "top_errors", sigs.data);
        if (jobs.len)
            cJSON_AddStringToObject(a, "jobs", jobs.data);
        if (n->ctx->dlq_command)
            add_text(a, "dlq_command", n->ctx->dlq_command, 1024);
        buf_release(&sigs);
        buf_release(&jobs);
    }
    return a;
}

static void
url_escape(struct buf *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p))
            buf_addc(out, (char)*p);
        else
            buf_addf(out, "%%%02X", *p);
    }
}

/* generatorURL: the configured base with the rule and queue, or nothing */
static void
am_generator(const struct sink *s, const struct notice *n, cJSON *a, bool always)
{
    if (!s->generator_url || !*s->generator_url) {
        if (always) /* the v4 webhook body always has the member */
            cJSON_AddStringToObject(a, "generatorURL", "");
        return;
    }
    struct buf u;
    buf_init(&u, 0);
    buf_adds(&u, s->generator_url);
    buf_adds(&u, strchr(s->generator_url, '?') ? "&rule=" : "?rule=");
    url_escape(&u, n->rule);
    buf_adds(&u, "&queue=");
    url_escape(&u, n->queue);
    cJSON_AddStringToObject(a, "generatorURL", u.data);
    buf_release(&u);
}

static cJSON *
am_alert(const struct sink *s, const struct notice *n, bool with_status)
{
    cJSON *a = cJSON_CreateObject();
    if (with_status)
        cJSON_AddStringToObject(a, "status", n->resolved ? "resolved" : "firing");
    cJSON_AddItemToObject(a, "labels", am_labels(n));
    cJSON_AddItemToObject(a, "annotations", am_annotations(n));
    add_time(a, "startsAt", n->starts_at);
    if (n->resolved)
        add_time(a, "endsAt", n->ends_at ? n->ends_at : n->at);
    else if (!with_status) /* a push: still firing a few resend intervals from now */
        add_time(a, "endsAt", n->at + (n->kind == NOTICE_TEST ? 60000 : 4 * s->resend_ms));
    else
        cJSON_AddStringToObject(a, "endsAt", "0001-01-01T00:00:00Z");
    am_generator(s, n, a, with_status);
    if (with_status)
        cJSON_AddStringToObject(a, "fingerprint", n->fingerprint);
    return a;
}

static const char *
headline(const struct notice *n)
{
    return n->kind == NOTICE_TEST ? "TEST" : n->resolved ? "RESOLVED" : "FIRING";
}

#define SLACK_CTX_REASON 200

/* a Block Kit section of mrkdwn text */
static void
slack_section(cJSON *blocks, const char *text)
{
    cJSON *sec = cJSON_CreateObject();
    cJSON_AddStringToObject(sec, "type", "section");
    cJSON *t = cJSON_AddObjectToObject(sec, "text");
    cJSON_AddStringToObject(t, "type", "mrkdwn");
    cJSON_AddStringToObject(t, "text", text);
    cJSON_AddItemToArray(blocks, sec);
}

static void
slack_body(const struct notice *n, cJSON *root)
{
    struct buf b;
    char v[64], th[64];
    buf_init(&b, 0);
    /* the fallback text (notifications, old clients) */
    buf_addf(&b, "[%s] ", headline(n));
    sink_text(&b, n->summary, SINK_SLACK_TEXT_MAX - sink_chars(b.data), true);
    cJSON_AddStringToObject(root, "text", b.data);
    cJSON *blocks = cJSON_AddArrayToObject(root, "blocks");
    /* 1: what and where, then the summary in what is left of the section */
    buf_reset(&b);
    buf_addf(&b, "*[%s] ", headline(n));
    sink_text(&b, n->rule, 200, true);
    buf_adds(&b, "* on `");
    sink_text(&b, n->queue, 300, true);
    buf_adds(&b, "` (");
    sink_text(&b, n->severity, 20, true);
    buf_adds(&b, ", ");
    sink_text(&b, n->endpoint, 100, true);
    buf_adds(&b, ")\n");
    sink_text(&b, n->summary, SINK_SLACK_SECTION_MAX - sink_chars(b.data), true);
    slack_section(blocks, b.data);
    /* 2: the value and the runbook, whatever the summary's length */
    buf_reset(&b);
    fmt_value(n->value, v);
    fmt_value(n->threshold, th);
    buf_addf(&b, "value %s, threshold %s", v, th);
    if (n->runbook && *n->runbook) {
        buf_adds(&b, "\nrunbook: ");
        sink_text(&b, n->runbook, 1000, true);
    }
    slack_section(blocks, b.data);
    /* 3: what died. Each part is capped so that the section stays within
     * its limit: 3 x (200 + 10) + 3 x (100 + 203) + 500 + 20 < 3,000 */
    const struct notice_context *c = n->ctx;
    if (c && (c->nsigs || c->njobs || c->dlq_command)) {
        buf_reset(&b);
        if (c->nsigs)
            buf_adds(&b, "*Top errors*");
        for (int i = 0; i < c->nsigs; i++) {
            buf_addf(&b, "\n%lld \xc3\x97 ", (long long)c->sigs[i].count);
            sink_text(&b, c->sigs[i].text, SLACK_CTX_REASON, true);
        }
        if (c->njobs)
            buf_adds(&b, b.len ? "\n*Jobs*" : "*Jobs*");
        for (int i = 0; i < c->njobs; i++) {
            buf_adds(&b, "\n");
            sink_text(&b, c->jobs[i].id, 100, true);
            buf_adds(&b, ": ");
            sink_text(&b, c->jobs[i].reason, SLACK_CTX_REASON, true);
        }
        if (c->dlq_command) {
            buf_adds(&b, b.len ? "\n" : "");
            sink_text(&b, c->dlq_command, 500, true);
        }
        slack_section(blocks, b.data);
    }
    buf_release(&b);
}

static void
pagerduty_body(const struct notice *n, cJSON *root)
{
    char key[48];
    struct buf b;
    notice_dedup_key(n, key);
    /* routing_key: added at send time (sink_wire_body), never stored */
    cJSON_AddStringToObject(root, "event_action", n->resolved ? "resolve" : "trigger");
    cJSON_AddStringToObject(root, "dedup_key", key);
    if (n->resolved)
        return;
    cJSON *p = cJSON_AddObjectToObject(root, "payload");
    buf_init(&b, 0);
    buf_adds(&b, "");
    if (n->kind == NOTICE_TEST)
        buf_adds(&b, "[TEST] ");
    sink_text(&b, n->summary, SINK_PD_SUMMARY_MAX - sink_chars(b.data), false);
    cJSON_AddStringToObject(p, "summary", b.data);
    buf_reset(&b);
    buf_adds(&b, n->endpoint);
    buf_addc(&b, '/');
    buf_adds(&b, n->queue);
    add_text(p, "source", b.data, 255);
    buf_release(&b);
    cJSON_AddStringToObject(p, "severity", n->severity);
    add_time(p, "timestamp", n->at);
    add_text(p, "component", n->queue, 255);
    add_text(p, "group", n->rule, 255);
    cJSON *cd = cJSON_AddObjectToObject(p, "custom_details");
    add_text(cd, "rule", n->rule, 256);
    add_text(cd, "queue", n->queue, 1024);
    add_text(cd, "endpoint", n->endpoint, 256);
    add_text(cd, "expr", n->expr, 1024);
    add_num(cd, "value", n->value);
    add_num(cd, "threshold", n->threshold);
    add_time(cd, "starts_at", n->starts_at);
    if (sink_chars(n->summary ? n->summary : "") > SINK_PD_SUMMARY_MAX)
        add_text(cd, "summary", n->summary, SINK_TEXT_MAX);
    if (n->runbook && *n->runbook)
        add_text(cd, "runbook", n->runbook, 1024);
    if (n->ctx)
        cJSON_AddItemToObject(cd, "context", context_json(n->ctx));
    if (n->runbook && *n->runbook && is_http_url(n->runbook)) {
        cJSON *links = cJSON_AddArrayToObject(root, "links");
        cJSON *l = cJSON_CreateObject();
        add_text(l, "href", n->runbook, 1024);
        cJSON_AddStringToObject(l, "text", "runbook");
        cJSON_AddItemToArray(links, l);
    }
}

static void
webhook_body(const struct notice *n, cJSON *root)
{
    const char *type = n->kind == NOTICE_TEST ? "alert.test"
                       : n->resolved          ? "alert.resolved"
                                              : "alert.firing";
    cJSON_AddStringToObject(root, "type", type);
    add_time(root, "timestamp", n->at);
    cJSON *d = cJSON_AddObjectToObject(root, "data");
    add_text(d, "rule", n->rule, 256);
    add_text(d, "queue", n->queue, 1024);
    add_text(d, "endpoint", n->endpoint, 256);
    cJSON_AddStringToObject(d, "status", n->kind == NOTICE_TEST ? "test"
                                         : n->resolved          ? "resolved"
                                                                : "firing");
    cJSON_AddStringToObject(d, "severity", n->severity);
    add_text(d, "summary", n->summary, SINK_TEXT_MAX);
    add_text(d, "expr", n->expr, 1024);
    add_num(d, "value", n->value);
    add_num(d, "threshold", n->threshold);
    add_text(d, "runbook", n->runbook ? n->runbook : "", 1024);
    cJSON_AddStringToObject(d, "fingerprint", n->fingerprint);
    cJSON *lab = n->labels ? cJSON_Parse(n->labels) : NULL;
    if (lab)
        cJSON_AddItemToObject(d, "labels", lab);
    add_time(d, "starts_at", n->starts_at);
    if (n->resolved)
        add_time(d, "ends_at", n->ends_at ? n->ends_at : n->at);
    if (n->seq > 0)
        cJSON_AddNumberToObject(d, "repeat", n->seq);
    if (n->ctx)
        cJSON_AddItemToObject(d, "context", context_json(n->ctx));
}

static void
alertmanager_body(const struct sink *s, const struct notice *n, cJSON *root)
{
    char line[1024];
    cJSON_AddStringToObject(root, "version", "4");
    snprintf(line, sizeof line, "{}:{alertname=\"%.200s\", queue=\"%.600s\"}", n->rule, n->queue);
    add_text(root, "groupKey", line, 1024);
    cJSON_AddNumberToObject(root, "truncatedAlerts", 0);
    cJSON_AddStringToObject(root, "status", n->resolved ? "resolved" : "firing");
    cJSON_AddStringToObject(root, "receiver", s->name);
    cJSON *g = cJSON_AddObjectToObject(root, "groupLabels");
    add_text(g, "alertname", n->rule, 256);
    add_text(g, "queue", n->queue, 1024);
    cJSON_AddItemToObject(root, "commonLabels", am_labels(n));
    cJSON_AddItemToObject(root, "commonAnnotations", am_annotations(n));
    cJSON_AddStringToObject(root, "externalURL", s->generator_url ? s->generator_url : "");
    cJSON *alerts = cJSON_AddArrayToObject(root, "alerts");
    cJSON_AddItemToArray(alerts, am_alert(s, n, true));
}

void
sink_body(const struct sink *s, const struct notice *n, struct buf *out)
{
    cJSON *root;
    if (s->type == SINK_ALERTMANAGER && s->am_api) {
        root = cJSON_CreateArray();
        cJSON_AddItemToArray(root, am_alert(s, n, false));
    } else {
        root = cJSON_CreateObject();
        switch (s->type) {
        case SINK_WEBHOOK:
            webhook_body(n, root);
            break;
        case SINK_SLACK:
            slack_body(n, root);
            break;
        case SINK_PAGERDUTY:
            pagerduty_body(n, root);
            break;
        case SINK_ALERTMANAGER:
            alertmanager_body(s, n, root);
            break;
        }
    }
    char *text = cJSON_PrintUnformatted(root);
    buf_adds(out, text);
    free(text);
    cJSON_Delete(root);
}

void
sink_wire_body(const struct sink *s, const char *stored, struct buf *out)
{
    if (s->type != SINK_PAGERDUTY || !s->routing_key || stored[0] != '{') {
        buf_adds(out, stored);
        return;
    }
    /* {"routing_key":"...", then the stored members; a body stored before
     * the keys were kept out (0005 scrubs them) would carry its own */
    buf_adds(out, "{\"routing_key\":");
    buf_add_json_str(out, s->routing_key, strlen(s->routing_key));
    const char *rest = stored + 1;
    while (*rest == ' ')
        rest++;
    if (*rest != '}')
        buf_addc(out, ',');
    buf_adds(out, rest);
}

void
sink_add_leader(const char *body, const char *id, int64_t token, struct buf *out)
{
    if (body[0] != '{') {
        buf_adds(out, body);
        return;
    }
    buf_adds(out, "{\"leader\":{\"id\":");
    buf_add_json_str(out, id, strlen(id));
    buf_addf(out, ",\"token\":%lld}", (long long)token);
    const char *rest = body + 1;
    while (*rest == ' ')
        rest++;
    if (*rest != '}')
        buf_addc(out, ',');
    buf_adds(out, rest);
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
