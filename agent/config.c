/*
 * config: see config.h.
 * The option table below is the single source of truth: the parser, the
 * defaults, check-config and the test of the shipped agent.ini all read it.
 */
#include "config.h"
#include "http.h"
#include "tls.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "util.h"
#include "xmem.h"

enum opt_type { OPT_STR, OPT_BOOL, OPT_DURATION, OPT_SIZE, OPT_INT, OPT_LEVEL, OPT_SECRET };

struct option {
    const char *section;
    const char *key;
    enum opt_type type;
    size_t offset;
    const char *def;
    int64_t min, max;
    const char *help;
};

#define OFF(f) offsetof(struct config, f)
static const struct option options[] = {
    {"redis", "url", OPT_STR, OFF(redis_url), "redis://127.0.0.1:6379/0", 0, 0,
     "redis://[user:pass@]host:port/db, rediss://... (TLS), unix:///path/to/redis.sock?db=N or "
     "redis+sentinel://[user:pass@]host:26379,host2:26379/MASTERNAME/db"},
    {"redis", "username", OPT_STR, OFF(redis_username), "", 0, 0, "ACL user (AUTH user pass)"},
    {"redis", "password", OPT_SECRET, OFF(redis_password), "", 0, 0, "password (prefer password_env)"},
    {"redis", "password_env", OPT_STR, OFF(redis_password_env), "", 0, 0,
     "name of an environment variable holding the password"},
    {"redis", "password_file", OPT_STR, OFF(redis_password_file), "", 0, 0,
     "file whose first line is the password"},
    {"redis", "sentinel_username", OPT_STR, OFF(sentinel_username), "", 0, 0,
     "ACL user for the sentinels of a redis+sentinel:// url"},
    {"redis", "sentinel_password", OPT_SECRET, OFF(sentinel_password), "", 0, 0,
     "the sentinels' password (prefer sentinel_password_env)"},
    {"redis", "sentinel_password_env", OPT_STR, OFF(sentinel_password_env), "", 0, 0,
     "name of an environment variable holding the sentinels' password"},
    {"redis", "sentinel_password_file", OPT_STR, OFF(sentinel_password_file), "", 0, 0,
     "file whose first line is the sentinels' password"},
    {"redis", "prefix", OPT_STR, OFF(prefix), "bull", 0, 0, "BullMQ key prefix"},
    {"redis", "connect_timeout", OPT_DURATION, OFF(connect_timeout_ms), "2s", 100, 60000,
     "connect and command timeout"},
    {"redis", "tls_ca_file", OPT_STR, OFF(redis_tls_ca_file), "", 0, 0,
     "rediss://: PEM file of the CA(s) that signed the server's certificate (empty: system store)"},
    {"redis", "tls_ca_dir", OPT_STR, OFF(redis_tls_ca_dir), "", 0, 0,
     "rediss://: directory of hashed CA certificates (c_rehash)"},
    {"redis", "tls_cert_file", OPT_STR, OFF(redis_tls_cert_file), "", 0, 0,
     "rediss://: client certificate (PEM) for servers that require one"},
    {"redis", "tls_key_file", OPT_STR, OFF(redis_tls_key_file), "", 0, 0,
     "rediss://: the client certificate's private key (PEM, unencrypted)"},
    {"redis", "tls_server_name", OPT_STR, OFF(redis_tls_server_name), "", 0, 0,
     "rediss://: SNI and the name the certificate must carry (empty: the url's host)"},
    {"redis", "tls_verify", OPT_BOOL, OFF(redis_tls_verify), "true", 0, 0,
     "rediss://: verify the server's certificate and name (false: warned about, insecure)"},
    {"queues", "include", OPT_STR, OFF(include), "*", 0, 0, "comma-separated globs of queue names"},
    {"queues", "exclude", OPT_STR, OFF(exclude), "", 0, 0, "globs removed from include"},
    {"queues", "dlq", OPT_STR, OFF(dlq), "dead-letter, *-dlq", 0, 0,
     "globs of queues that are dead-letter queues"},
    {"queues", "discover_every", OPT_DURATION, OFF(discover_every_ms), "30s", 1000, 86400000,
     "how often to SCAN for queues"},
    {"queues", "poll_every", OPT_DURATION, OFF(poll_every_ms), "2s", 100, 3600000,
     "how often to poll depths"},
    {"store", "path", OPT_STR, OFF(store_path), "bullwatch.db", 0, 0, "SQLite audit store"},
    {"store", "retention", OPT_DURATION, OFF(retention_ms), "30d", 3600000, 3650LL * 86400000,
     "rows older than this are deleted"},
    {"store", "signature_retention", OPT_DURATION, OFF(signature_retention_ms), "365d", 3600000,
     3650LL * 86400000,
     "a queue's error signature not seen for this long is forgotten (\"never seen\" reaches back this far)"},
    {"store", "capture_data", OPT_BOOL, OFF(capture_data), "true", 0, 0,
     "store job data with each failure"},
    {"store", "redact", OPT_STR, OFF(redact), "password, token, *secret*", 0, 0,
     "globs of JSON keys whose values are replaced before storing"},
    {"store", "group", OPT_STR, OFF(store_group), "", 0, 0,
     "OS group the store files are shared with (0660); empty: owner only (0600)"},
    {"store", "data_max", OPT_SIZE, OFF(data_max_bytes), "64k", 0, 16 * 1024 * 1024,
     "job data kept per failure; longer data is cut and flagged"},
    {"store", "stack_max", OPT_SIZE, OFF(stack_max_bytes), "16k", 0, 16 * 1024 * 1024,
     "stack traces kept per failure"},
    {"agent", "log_level", OPT_LEVEL, OFF(log_level), "info", 0, 0, "debug, info, warn, error"},
    {"agent", "log_format", OPT_STR, OFF(log_format), "text", 0, 0,
     "text, or json (one object a line: time, level, msg; for journald or Loki)"},
    {"agent", "http", OPT_STR, OFF(http), "", 0, 0,
     "numeric host:port serving /metrics, /livez and /readyz (empty: off)"},
    {"agent", "metrics_per_queue", OPT_BOOL, OFF(metrics_per_queue), "true", 0, 0,
     "bullwatch_* series per queue in /metrics (false: only bullmq_job_count per queue)"},
    {"agent", "read_count", OPT_INT, OFF(read_count), "1000", 1, 100000,
     "stream entries per XREAD (COUNT)"},
    {"agent", "block", OPT_DURATION, OFF(block_ms), "1s", 10, 10000, "XREAD BLOCK timeout"},
    {"agent", "read_only", OPT_BOOL, OFF(read_only), "false", 0, 0,
     "refuse every mutation (replay, purge, silence)"},
    {"agent", "ha", OPT_BOOL, OFF(ha), "off", 0, 0,
     "on: several agents, one leader sends notifications (lease <prefix>:bullwatch:lease)"},
    {"agent", "ha_lease", OPT_DURATION, OFF(ha_lease_ms), "10s", 500, 600000,
     "the leader lease: renewed every third of it; a takeover within one lease"},
    {"agent", "ha_id", OPT_STR, OFF(ha_id), "", 0, 0,
     "this agent's name in the lease and notifications (empty: <hostname>:<pid>)"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static const char *const rule_keys[] = {"queues", "expr", "for", "keep_firing_for", "severity",
                                        "summary", "runbook", "sinks", "repeat_interval",
                                        "send_resolved", "max_new_signatures", NULL};
static const char *const sink_keys[] = {"type", "url", "url_env", "secret", "secret_env",
                                        "secret_file", "routing_key", "routing_key_env",
                                        "timeout", "mode", "resend_interval",
                                        "generator_url", NULL};

static char **
slot_str(struct config *cfg, const struct option *o)
{
    return (char **)((char *)cfg + o->offset);
}

static int
set_option(struct config *cfg, const struct option *o, const char *v, char *msg, size_t msglen)
{
    int64_t n;
    bool b;
    enum log_level lvl;
    switch (o->type) {
    case OPT_STR:
    case OPT_SECRET:
    case OPT_LEVEL:
        if (o->type == OPT_LEVEL && log_parse_level(v, &lvl) != 0) {
            snprintf(msg, msglen, "bad value '%s' for %s: expected debug, info, warn or error", v,
                     o->key);
            return -1;
        }
        free(*slot_str(cfg, o));
        *slot_str(cfg, o) = xstrdup(v);
        return 0;
    case OPT_BOOL:
        if (parse_bool(v, &b) != 0) {
            snprintf(msg, msglen, "bad value '%s' for %s: expected true or false", v, o->key);
            return -1;
        }
        *(bool *)((char *)cfg + o->offset) = b;
        return 0;
    case OPT_DURATION:
        if (parse_duration_ms(v, &n) != 0) {
            snprintf(msg, msglen, "bad value '%s' for %s: expected a duration like 500ms, 2s, 5m, 30d",
                     v, o->key);
            return -1;
        }
        break;
    case OPT_SIZE:
        if (parse_size(v, &n) != 0) {
            snprintf(msg, msglen, "bad value '%s' for %s: expected a size like 512, 64k, 10MB", v,
                     o->key);
            return -1;
        }
        break;
    case OPT_INT:
        if (parse_int64(v, &n) != 0) {
            snprintf(msg, msglen, "bad value '%s' for %s: expected a whole number", v, o->key);
            return -1;
        }
        break;
    }
    if (n < o->min || n > o->max) {
        char a[32], c[32];
        if (o->type == OPT_DURATION) {
            format_duration(o->min, a, sizeof a);
            format_duration(o->max, c, sizeof c);
        } else {
            snprintf(a, sizeof a, "%lld", (long long)o->min);
            snprintf(c, sizeof c, "%lld", (long long)o->max);
        }
        snprintf(msg, msglen, "value '%s' for %s out of range [%s, %s]", v, o->key, a, c);
        return -1;
    }
    *(int64_t *)((char *)cfg + o->offset) = n;
    return 0;
}

void
config_defaults(struct config *cfg)
{
    char msg[256];
    memset(cfg, 0, sizeof *cfg);
    cfg->nendpoints = 1;
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (set_option(cfg, &options[i], options[i].def, msg, sizeof msg) != 0) {
            fprintf(stderr, "bullwatch: bad built-in default: %s\n", msg);
            abort();
        }
    }
}

void
redis_endpoint_release(struct redis_endpoint *ep)
{
    free(ep->host);
    free(ep->socket);
    free(ep->username);
    free(ep->password);
    free(ep->seeds);
    free(ep->tls_ca_file);
    free(ep->tls_ca_dir);
    free(ep->tls_cert_file);
    free(ep->tls_key_file);
    free(ep->tls_server_name);
    tls_ctx_free(ep->tls_ctx);
    for (int i = 0; i < ep->nsentinels; i++)
        free(ep->sentinel_hosts[i]);
    free(ep->sentinel_hosts);
    free(ep->sentinel_ports);
    free(ep->sentinel_master);
    free(ep->sentinel_username);
    free(ep->sentinel_password);
    memset(ep, 0, sizeof *ep);
}

/* Percent-decoding for user and password in URLs. */
static char *
pct_decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n + 0 && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            out[j++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

/* "[user:]pass@" before end (the host part of a URL): into ep, decoded;
 * returns where the host starts. The last '@' counts (a password may hold
 * one unencoded). */
static const char *
url_userinfo(struct redis_endpoint *ep, const char *p, const char *end)
{
    const char *at = NULL;
    for (const char *t = p; t < end; t++)
        if (*t == '@')
            at = t;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p)
                ep->username = pct_decode(p, (size_t)(colon - p));
            ep->password = pct_decode(colon + 1, (size_t)(at - colon - 1));
        } else {
            ep->password = pct_decode(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    return p;
}


/* url with the password replaced by ****; the credentials end at the last
 * '@' before the path, as redis_url_parse reads them. */
static void
mask_url(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    const char *slash = p ? strchr(p + 3, '/') : NULL;
    const char *at = NULL;
    for (const char *t = p ? p + 3 : url; p && *t && (!slash || t < slash); t++)
        if (*t == '@')
            at = t;
    if (!at) {
        snprintf(out, outlen, "%s", url);
        return;
    }
    const char *colon = memchr(p + 3, ':', (size_t)(at - (p + 3)));
    if (colon)
        snprintf(out, outlen, "%.*s:****%s", (int)(colon - url), url, at);
    else
        snprintf(out, outlen, "%.*s****%s", (int)(p + 3 - url), url, at);
}

/* redis+cluster://[user:pass@]host:port[,host:port...][/0]: each seed is
 * checked as a redis:// URL would be (rediss+cluster://: as rediss://);
 * the first gives host and port. */
static int
cluster_url_parse(const char *url, const char *shown, struct redis_endpoint *ep, char *err,
                  size_t errlen)
{
    const bool tls = url[5] == 's';
    const char *p = url + (tls ? 17 : 16);
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    if (slash && slash[1] && strcmp(slash, "/0") != 0) {
        snprintf(err, errlen, "bad redis url '%s': a cluster has only database 0", shown);
        return -1;
    }
    const char *at = NULL;
    for (const char *t = p; t < end; t++)
        if (*t == '@')
            at = t;
    const char *hosts = at ? at + 1 : p;
    struct buf seeds;
    buf_init(&seeds, 0);
    int rc = 0;
    bool first = true;
    for (const char *h = hosts; h < end && rc == 0;) {
        const char *comma = memchr(h, ',', (size_t)(end - h));
        const char *he = comma ? comma : end;
        char one[1024];
        struct redis_endpoint tmp;
        snprintf(one, sizeof one, "%s://%.*s%.*s", tls ? "rediss" : "redis",
                 at ? (int)(at + 1 - p) : 0, p, (int)(he - h), h);
        if (he == h || redis_url_parse(one, &tmp, err, errlen) != 0) {
            if (he == h)
                snprintf(err, errlen, "bad redis url '%s': an empty seed in the host list", shown);
            else
                snprintf(err + strlen(err), errlen - strlen(err), " (in the cluster url '%s')",
                         shown);
            rc = -1;
            break;
        }
        buf_addf(&seeds, "%s%s:%d", seeds.len ? "," : "", tmp.host, tmp.port);
        if (first) {
            *ep = tmp;
            first = false;
        } else {
            redis_endpoint_release(&tmp);
        }
        h = comma ? comma + 1 : end;
    }
    if (rc == 0 && first) {
        snprintf(err, errlen, "bad redis url '%s': missing host", shown);
        rc = -1;
    }
    if (rc != 0) {
        if (!first)
            redis_endpoint_release(ep);
        buf_release(&seeds);
        return -1;
    }
    ep->cluster = true;
    ep->seeds = xstrdup(seeds.data);
    buf_release(&seeds);
    return 0;
}

/* One "host[:port]" or "[v6]:port" of s..e into *host / *port. */
static int
parse_hostport(const char *s, const char *e, int defport, char **host, int *port,
               const char *shown, char *err, size_t errlen)
{
    const char *hs = s, *he, *portp = NULL;
    if (s < e && *s == '[') {
        he = memchr(s, ']', (size_t)(e - s));
        if (!he) {
            snprintf(err, errlen, "bad redis url '%s': unclosed '['", shown);
            return -1;
        }
        hs = s + 1;
        if (he + 1 < e) {
            if (he[1] != ':') {
                snprintf(err, errlen, "bad redis url '%s': expected ':' after ']'", shown);
                return -1;
            }
            portp = he + 2;
        }
    } else {
        he = memchr(s, ':', (size_t)(e - s));
        if (he)
            portp = he + 1;
        else
            he = e;
    }
    if (he == hs) {
        snprintf(err, errlen, "bad redis url '%s': missing host", shown);
        return -1;
    }
    *port = defport;
    if (portp) {
        char tmp[16];
        size_t n = (size_t)(e - portp);
        int64_t v;
        if (n == 0 || n >= sizeof tmp) {
            snprintf(err, errlen, "bad redis url '%s': bad port", shown);
            return -1;
        }
        memcpy(tmp, portp, n);
        tmp[n] = '\0';
        if (parse_int64(tmp, &v) != 0 || v < 1 || v > 65535) {
            snprintf(err, errlen, "bad redis url '%s': bad port '%s'", shown, tmp);
            return -1;
        }
        *port = (int)v;
    }
    *host = xstrndup(hs, (size_t)(he - hs));
    return 0;
}

#define SENTINEL_SCHEME "redis+sentinel://"
#define SENTINEL_MAX 16

/* redis+sentinel://[user:pass@]h1[:26379],h2[:26379]/MASTERNAME[/db]: user
 * and password are the data nodes' (as in redis://); the sentinels' own
 * auth comes from [redis] sentinel_* keys. */
static int
sentinel_url_parse(const char *url, struct redis_endpoint *ep, const char *shown, char *err,
                   size_t errlen)
{
    const char *p = url + strlen(SENTINEL_SCHEME);
    const char *slash = strchr(p, '/');
    if (!slash || !slash[1] || slash[1] == '/') {
        snprintf(err, errlen, "bad redis url '%s': expected "
                 "redis+sentinel://host:26379[,host:26379...]/MASTERNAME[/db]", shown);
        return -1;
    }
    p = url_userinfo(ep, p, slash);
    while (p <= slash) {
        const char *e = memchr(p, ',', (size_t)(slash - p));
        if (!e)
            e = slash;
        if (ep->nsentinels == SENTINEL_MAX) {
            snprintf(err, errlen, "bad redis url '%s': more than %d sentinels", shown,
                     SENTINEL_MAX);
            goto fail;
        }
        ep->sentinel_hosts = xrealloc(ep->sentinel_hosts,
                                      sizeof *ep->sentinel_hosts * (size_t)(ep->nsentinels + 1));
        ep->sentinel_ports = xrealloc(ep->sentinel_ports,
                                      sizeof *ep->sentinel_ports * (size_t)(ep->nsentinels + 1));
        if (parse_hostport(p, e, 26379, &ep->sentinel_hosts[ep->nsentinels],
                           &ep->sentinel_ports[ep->nsentinels], shown, err, errlen) != 0)
            goto fail;
        ep->nsentinels++;
        p = e + 1;
    }
    const char *name = slash + 1;
    const char *dbs = strchr(name, '/');
    size_t n = dbs ? (size_t)(dbs - name) : strlen(name);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)name[i] <= ' ' || name[i] == '?' || name[i] == '#') {
            snprintf(err, errlen, "bad redis url '%s': bad character in the master name", shown);
            goto fail;
        }
    }
    ep->sentinel_master = xstrndup(name, n);
    if (dbs && dbs[1]) {
        int64_t db;
        if (parse_int64(dbs + 1, &db) != 0 || db < 0 || db > 15) {
            snprintf(err, errlen, "bad redis url '%s': database must be a number 0..15", shown);
            goto fail;
        }
        ep->db = (int)db;
    }
    ep->port = 0;
    return 0;
fail:
    redis_endpoint_release(ep);
    return -1;
}

int
redis_url_parse(const char *url, struct redis_endpoint *ep, char *err, size_t errlen)
{
    char shown[1024];
    mask_url(url, shown, sizeof shown);
    memset(ep, 0, sizeof *ep);
    ep->port = 6379;
    if (strncmp(url, SENTINEL_SCHEME, strlen(SENTINEL_SCHEME)) == 0)
        return sentinel_url_parse(url, ep, shown, err, errlen);
    if (strncmp(url, "unix://", 7) == 0 || strncmp(url, "unix:", 5) == 0) {
        const char *p = url + (strncmp(url, "unix://", 7) == 0 ? 7 : 5);
        const char *q = strchr(p, '?');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 0 || p[0] != '/') {
            snprintf(err, errlen, "bad redis url '%s': unix socket path must be absolute", shown);
            return -1;
        }
        ep->socket = xstrndup(p, n);
        if (q) {
            int64_t db;
            if (strncmp(q, "?db=", 4) != 0 || parse_int64(q + 4, &db) != 0 || db < 0 || db > 15) {
                snprintf(err, errlen, "bad redis url '%s': expected ?db=N with N in 0..15", shown);
                redis_endpoint_release(ep);
                return -1;
            }
            ep->db = (int)db;
        }
        return 0;
    }
    if (strncmp(url, "redis+cluster://", 16) == 0 || strncmp(url, "rediss+cluster://", 17) == 0)
        return cluster_url_parse(url, shown, ep, err, errlen);
    const bool tls = strncmp(url, "rediss://", 9) == 0;
    if (!tls && strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen,
                 "bad redis url '%s': expected redis://host:port/db, rediss://host:port/db, "
                 "unix:///path or redis+sentinel://host:26379/MASTERNAME",
                 shown);
        return -1;
    }
    const char *p = url + (tls ? 9 : 8);
    const char *slash = strchr(p, '/');
    const char *hostend = slash ? slash : p + strlen(p);
    p = url_userinfo(ep, p, hostend);
    const char *hs = p, *he;
    const char *portp = NULL;
    if (*p == '[') {
        he = memchr(p, ']', (size_t)(hostend - p));
        if (!he) {
            snprintf(err, errlen, "bad redis url '%s': unclosed '['", shown);
            goto fail;
        }
        hs = p + 1;
        if (he + 1 < hostend && he[1] == ':')
            portp = he + 2;
    } else {
        he = memchr(p, ':', (size_t)(hostend - p));
        if (he)
            portp = he + 1;
        else
            he = hostend;
    }
    if (he == hs) {
        snprintf(err, errlen, "bad redis url '%s': missing host", shown);
        goto fail;
    }
    ep->host = xstrndup(hs, (size_t)(he - hs));
    if (portp) {
        char tmp[16];
        size_t n = (size_t)(hostend - portp);
        int64_t port;
        if (n == 0 || n >= sizeof tmp) {
            snprintf(err, errlen, "bad redis url '%s': bad port", shown);
            goto fail;
        }
        memcpy(tmp, portp, n);
        tmp[n] = '\0';
        if (parse_int64(tmp, &port) != 0 || port < 1 || port > 65535) {
            snprintf(err, errlen, "bad redis url '%s': bad port '%s'", shown, tmp);
            goto fail;
        }
        ep->port = (int)port;
    }
    if (slash && slash[1]) {
        int64_t db;
        if (parse_int64(slash + 1, &db) != 0 || db < 0 || db > 15) {
            snprintf(err, errlen, "bad redis url '%s': database must be a number 0..15", shown);
            goto fail;
        }
        ep->db = (int)db;
    }
    ep->tls = tls;
    return 0;
fail:
    redis_endpoint_release(ep);
    return -1;
}

static const char *
nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

int
redis_endpoint_set_tls(struct redis_endpoint *ep, const char *ca_file, const char *ca_dir,
                       const char *cert_file, const char *key_file, const char *server_name,
                       bool verify, const char **bad_key, char *err, size_t errlen)
{
    static const char *const keys[] = {"tls_ca_file", "tls_ca_dir", "tls_cert_file",
                                       "tls_key_file", "tls_server_name"};
    const char *vals[] = {ca_file, ca_dir, cert_file, key_file, server_name};
    *bad_key = NULL;
    if (!ep->tls) {
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
            if (nonempty(vals[i])) {
                *bad_key = keys[i];
                snprintf(err, errlen, "%s is set but the url is not rediss:// (TLS)", keys[i]);
                return -1;
            }
        ep->tls_verify = verify;
        return 0;
    }
    ep->tls_ca_file = nonempty(ca_file) ? xstrdup(ca_file) : NULL;
    ep->tls_ca_dir = nonempty(ca_dir) ? xstrdup(ca_dir) : NULL;
    ep->tls_cert_file = nonempty(cert_file) ? xstrdup(cert_file) : NULL;
    ep->tls_key_file = nonempty(key_file) ? xstrdup(key_file) : NULL;
    ep->tls_server_name = xstrdup(nonempty(server_name) ? server_name : ep->host);
    ep->tls_verify = verify;
    struct tls_opts o = {ep->tls_ca_file, ep->tls_ca_dir,      ep->tls_cert_file,
                         ep->tls_key_file, ep->tls_server_name, verify};
    ep->tls_ctx = tls_ctx_new(&o, err, errlen);
    if (!ep->tls_ctx) {
        /* the message starts with the key it is about, or names it */
        *bad_key = "url";
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strstr(err, keys[i]))
                *bad_key = keys[i];
        return -1;
    }
    return 0;
}

void
config_warn_insecure(const struct config *cfg)
{
    for (int i = 0; i < cfg->nendpoints; i++) {
        const struct config *c = i ? &cfg->more[i - 1] : cfg; /* every endpoint */
        if (c->ep.tls && !c->ep.tls_verify)
            log_warn("redis %s: tls_verify = false: the server's certificate is not checked, so "
                     "anyone on the path can pose as this Redis and read its traffic",
                     c->endpoint_addr);
    }
}

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Remove an inline comment: " ;" or " #" preceded by white space. */
static void
strip_inline_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if ((*p == ';' || *p == '#') && p > s && isspace((unsigned char)p[-1])) {
            *p = '\0';
            return;
        }
    }
}

static bool
key_in(const char *const *list, const char *key)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

/* The line where section/key was set, else fallback (its section's header) */
static int
line_or(const int *lines, const char *section, const char *key, int fallback)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (!strcmp(options[i].section, section) && !strcmp(options[i].key, key))
            return lines[i] ? lines[i] : fallback;
    return fallback;
}

static int
line_of(const int *lines, const char *section, const char *key)
{
    return line_or(lines, section, key, 1);
}

/* A password named by an environment variable or a file (keys KEY_env,
 * KEY_file of [redis]) replaces *out; hdr is the section's line. */
static int
resolve_secret(const char *env, const char *file, const char *key, char **out, const char *name,
               const int *lines, int hdr, char *err, size_t errlen)
{
    char k[64];
    if (env[0]) {
        const char *v = getenv(env);
        if (!v) {
            snprintf(k, sizeof k, "%s_env", key);
            snprintf(err, errlen, "%s:%d: %s names '%s', which is not set", name,
                     line_or(lines, "redis", k, hdr), k, env);
            return -1;
        }
        free(*out);
        *out = xstrdup(v);
    } else if (file[0]) {
        FILE *f = fopen(file, "r");
        char line[1024];
        if (!f) {
            snprintf(k, sizeof k, "%s_file", key);
            snprintf(err, errlen, "%s:%d: cannot read %s '%s': %s", name,
                     line_or(lines, "redis", k, hdr), k, file, strerror(errno));
            return -1;
        }
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
        line[strcspn(line, "\r\n")] = '\0';
        free(*out);
        *out = xstrdup(line);
    }
    return 0;
}

static int
resolve_secrets(struct config *cfg, const char *name, const int *lines, int hdr, char *err,
                size_t errlen)
{
    if (resolve_secret(cfg->redis_password_env, cfg->redis_password_file, "password",
                       &cfg->redis_password, name, lines, hdr, err, errlen) != 0)
        return -1;
    return resolve_secret(cfg->sentinel_password_env, cfg->sentinel_password_file,
                          "sentinel_password", &cfg->sentinel_password, name, lines, hdr, err,
                          errlen);
}

/* [redis] sentinel_* keys: only with a redis+sentinel:// url, and a user
 * needs a password (as for the data nodes). */
static int
sentinel_keys(struct config *cfg, const char *name, const int *lines, int hdr, char *err,
              size_t errlen)
{
    static const char *const keys[] = {"sentinel_username", "sentinel_password",
                                       "sentinel_password_env", "sentinel_password_file"};
    if (!cfg->ep.sentinel_master) {
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            for (size_t o = 0; o < NOPTIONS; o++)
                if (lines[o] && !strcmp(options[o].section, "redis") &&
                    !strcmp(options[o].key, keys[i]) && (*slot_str(cfg, &options[o]))[0]) {
                    snprintf(err, errlen,
                             "%s:%d: %s is set but url is not a redis+sentinel:// url", name,
                             lines[o], keys[i]);
                    return -1;
                }
        }
        return 0;
    }
    if (cfg->sentinel_username[0])
        cfg->ep.sentinel_username = xstrdup(cfg->sentinel_username);
    if (cfg->sentinel_password[0])
        cfg->ep.sentinel_password = xstrdup(cfg->sentinel_password);
    if (cfg->ep.sentinel_username && !cfg->ep.sentinel_password) {
        snprintf(err, errlen, "%s:%d: a sentinel_username needs a sentinel_password", name,
                 line_or(lines, "redis", "sentinel_username", hdr));
        return -1;
    }
    return 0;
}

/* [store] group of the configuration parsed last (see config.h) */
static char last_store_group[256];

const char *
config_store_group(void)
{
    return last_store_group;
}

/* ---- several endpoints (config.h) ---- */

static size_t
opt_size(const struct option *o)
{
    switch (o->type) {
    case OPT_STR:
    case OPT_SECRET:
    case OPT_LEVEL:
        return sizeof(char *);
    case OPT_BOOL:
        return sizeof(bool);
    default:
        return sizeof(int64_t);
    }
}

/* Swap (or copy, when copy is set) the [redis] fields of a and b: every
 * option of the table's "redis" section, whatever it is, plus what is
 * derived from them. Nothing else is per endpoint. */
static void
redis_fields_move(struct config *a, struct config *b, bool copy)
{
    unsigned char tmp[sizeof(int64_t) > sizeof(char *) ? sizeof(int64_t) : sizeof(char *)];
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (strcmp(options[i].section, "redis"))
            continue;
        size_t n = opt_size(&options[i]), off = options[i].offset;
        memcpy(tmp, (char *)a + off, n);
        memcpy((char *)a + off, (char *)b + off, n);
        if (!copy)
            memcpy((char *)b + off, tmp, n);
    }
    struct redis_endpoint ep = a->ep;
    char *nm = a->endpoint_name, *ad = a->endpoint_addr;
    a->ep = b->ep;
    a->endpoint_name = b->endpoint_name;
    a->endpoint_addr = b->endpoint_addr;
    if (!copy) {
        b->ep = ep;
        b->endpoint_name = nm;
        b->endpoint_addr = ad;
    }
}

const char *
config_redis_differs(const struct config *a, const struct config *b)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct option *o = &options[i];
        if (strcmp(o->section, "redis"))
            continue;
        const void *x = (const char *)a + o->offset, *y = (const char *)b + o->offset;
        bool str = o->type == OPT_STR || o->type == OPT_SECRET || o->type == OPT_LEVEL;
        if (str ? strcmp(*(char *const *)x, *(char *const *)y) != 0 : memcmp(x, y, opt_size(o)) != 0)
            return o->key;
    }
    return NULL;
}

void
config_endpoint(const struct config *cfg, int i, struct config *view)
{
    *view = *cfg;
    if (i > 0 && i < cfg->nendpoints)
        redis_fields_move(view, &cfg->more[i - 1], true);
}

int
config_endpoint_index(const struct config *cfg, const char *name)
{
    for (int i = 0; i < cfg->nendpoints; i++) {
        const char *n = i ? cfg->more[i - 1].endpoint_name : cfg->endpoint_name;
        if (n && !strcmp(n, name))
            return i;
    }
    return -1;
}

const char *
config_endpoint_name_at(const struct config *cfg, int k)
{
    if (k < 0 || k >= cfg->nendpoints)
        return NULL;
    /* in file order: a pick swapped the first and the picked one */
    int i = k == 0 ? cfg->picked_from : k == cfg->picked_from ? 0 : k;
    return i ? cfg->more[i - 1].endpoint_name : cfg->endpoint_name;
}

void
config_endpoint_names(const struct config *cfg, char *out, size_t outlen)
{
    size_t len = 0;
    out[0] = '\0';
    for (int k = 0; k < cfg->nendpoints && len < outlen; k++)
        len += (size_t)snprintf(out + len, outlen - len, "%s%s", k ? ", " : "",
                                config_endpoint_name_at(cfg, k));
}

int
config_pick_endpoint(struct config *cfg, const char *name, char *err, size_t errlen)
{
    int i = config_endpoint_index(cfg, name);
    if (i < 0) {
        char names[512];
        config_endpoint_names(cfg, names, sizeof names);
        snprintf(err, errlen, "no redis endpoint '%s' in %s (there are: %s)", name, cfg->path,
                 names);
        return -1;
    }
    if (cfg->picked_from) { /* picked before: back to file order first */
        redis_fields_move(cfg, &cfg->more[cfg->picked_from - 1], false);
        i = config_endpoint_index(cfg, name);
    }
    if (i > 0)
        redis_fields_move(cfg, &cfg->more[i - 1], false);
    cfg->picked_from = i;
    cfg->endpoint_picked = true;
    return 0;
}

static bool
endpoint_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
            return false;
    return true;
}

/* The derived [redis] fields of one endpoint and their checks; hdr is its
 * section's line (the fallback for keys not set). */
static int
finish_endpoint(struct config *c, const char *name, const int *lines, int hdr, char *err,
                size_t errlen)
{
    char msg[384];
    if (redis_url_parse(c->redis_url, &c->ep, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s:%d: %s", name, line_or(lines, "redis", "url", hdr), msg);
        return -1;
    }
    if (!c->prefix[0]) {
        snprintf(err, errlen, "%s:%d: prefix must not be empty", name,
                 line_or(lines, "redis", "prefix", hdr));
        return -1;
    }
    if (resolve_secrets(c, name, lines, hdr, err, errlen) != 0)
        return -1;
    if (c->redis_username[0] && !c->ep.username)
        c->ep.username = xstrdup(c->redis_username);
    if (c->redis_password[0] && !c->ep.password)
        c->ep.password = xstrdup(c->redis_password);
    const char *bad_key;
    if (redis_endpoint_set_tls(&c->ep, c->redis_tls_ca_file, c->redis_tls_ca_dir,
                               c->redis_tls_cert_file, c->redis_tls_key_file,
                               c->redis_tls_server_name, c->redis_tls_verify, &bad_key, msg,
                               sizeof msg) != 0) {
        if (c->endpoint_name)
            snprintf(err, errlen, "%s:%d: [redis %s] %s", name,
                     line_or(lines, "redis", bad_key, hdr), c->endpoint_name, msg);
        else
            snprintf(err, errlen, "%s:%d: [redis] %s", name, line_or(lines, "redis", bad_key, hdr),
                     msg);
        return -1;
    }
    if (c->ep.username && !c->ep.password) {
        snprintf(err, errlen, "%s:%d: a redis username needs a password", name,
                 line_or(lines, "redis", "username", hdr));
        return -1;
    }
    if (sentinel_keys(c, name, lines, hdr, err, errlen) != 0)
        return -1;
    struct buf b;
    buf_init(&b, 0);
    if (c->ep.sentinel_master) {
        buf_adds(&b, "sentinel:");
        for (int i = 0; i < c->ep.nsentinels; i++)
            if (strchr(c->ep.sentinel_hosts[i], ':'))
                buf_addf(&b, "%s[%s]:%d", i ? "," : "", c->ep.sentinel_hosts[i],
                         c->ep.sentinel_ports[i]);
            else
                buf_addf(&b, "%s%s:%d", i ? "," : "", c->ep.sentinel_hosts[i],
                         c->ep.sentinel_ports[i]);
        buf_addf(&b, "/%s/%d", c->ep.sentinel_master, c->ep.db);
    } else if (c->ep.socket)
        buf_addf(&b, "unix:%s/%d", c->ep.socket, c->ep.db);
    else if (strchr(c->ep.host, ':'))
        buf_addf(&b, "[%s]:%d/%d", c->ep.host, c->ep.port, c->ep.db);
    else
        buf_addf(&b, "%s:%d/%d", c->ep.host, c->ep.port, c->ep.db);
    c->endpoint_addr = buf_detach(&b, NULL);
    /* the plain [redis] section is the endpoint "default": rows and
     * alert labels name it so, whatever its address */
    if (!c->endpoint_name)
        c->endpoint_name = xstrdup("default");
    c->ep.name = c->endpoint_name; /* sentinel.c names the endpoint in its log lines */
    return 0;
}

/* Every endpoint's derived fields; two watching the same Redis and prefix
 * would record every dead job twice under two names. */
static int
finish_endpoints(struct config *cfg, const char *name, const int *lines, const int *elines,
                 const int *hdrs, char *err, size_t errlen)
{
    for (int i = 0; i < cfg->nendpoints; i++) {
        struct config *c = i ? &cfg->more[i - 1] : cfg;
        if (finish_endpoint(c, name, i ? elines + (size_t)(i - 1) * NOPTIONS : lines, hdrs[i],
                            err, errlen) != 0)
            return -1;
        for (int j = 0; j < i; j++) {
            const struct config *o = j ? &cfg->more[j - 1] : cfg;
            if (!strcmp(o->endpoint_addr, c->endpoint_addr) && !strcmp(o->prefix, c->prefix)) {
                snprintf(err, errlen, "%s:%d: [redis %s] watches the same Redis (%s) and prefix "
                         "'%s' as [redis %s]", name, hdrs[i], c->endpoint_name, c->endpoint_addr,
                         c->prefix, o->endpoint_name);
                return -1;
            }
        }
    }
    return 0;
}

/* A [redis NAME] header: the section's keys go to *tgt from now on. */
static int
redis_section(struct config *cfg, const char *name, int lineno, const char *nm, int plain_line,
              int **elines, int **hdrs, struct config **tgt, int **tlines, int *lines, char *err,
              size_t errlen)
{
    if (!endpoint_name_ok(nm)) {
        snprintf(err, errlen, "%s:%d: bad endpoint name '%s' in [redis NAME]: letters, digits, "
                 "'_', '.' and '-' only", name, lineno, nm);
        return -1;
    }
    if (plain_line) {
        snprintf(err, errlen, "%s:%d: [redis %s] and a plain [redis] (line %d) cannot be mixed: "
                 "name every endpoint ([redis default] for the plain one)", name, lineno, nm,
                 plain_line);
        return -1;
    }
    int i = config_endpoint_index(cfg, nm);
    if (i >= 0 && cfg->endpoint_name) {
        snprintf(err, errlen, "%s:%d: [redis %s] defined twice (first at line %d)", name, lineno,
                 nm, (*hdrs)[i]);
        return -1;
    }
    if (!cfg->endpoint_name) { /* the first: the config's own [redis] fields */
        cfg->endpoint_name = xstrdup(nm);
        (*hdrs)[0] = lineno;
        *tgt = cfg;
        *tlines = lines;
        return 0;
    }
    int k = cfg->nendpoints++;
    cfg->more = xrealloc(cfg->more, sizeof *cfg->more * (size_t)k);
    config_defaults(&cfg->more[k - 1]);
    cfg->more[k - 1].endpoint_name = xstrdup(nm);
    *elines = xrealloc(*elines, sizeof **elines * NOPTIONS * (size_t)k);
    memset(*elines + (size_t)(k - 1) * NOPTIONS, 0, sizeof **elines * NOPTIONS);
    *hdrs = xrealloc(*hdrs, sizeof **hdrs * (size_t)(k + 1));
    (*hdrs)[k] = lineno;
    *tgt = &cfg->more[k - 1];
    *tlines = *elines + (size_t)(k - 1) * NOPTIONS;
    return 0;
}

/* config_parse with the line bookkeeping of every endpoint: lines (the
 * config's own options, the first endpoint's included), elines (NOPTIONS
 * per more[] endpoint), hdrs (each endpoint's header line), freed by the
 * caller whatever happens. */
static int
parse_text(struct config *cfg, const char *name, const char *text, char *err, size_t errlen,
           int *lines, int **elines, int **hdrs)
{
    int *tlines = lines, plain_line = 0;
    struct config *tgt = cfg; /* where the current section's keys go */
    char section[128] = "";
    struct config_section *cur = NULL;
    char msg[384];
    int lineno = 0;
    const char *p = text;
    config_defaults(cfg);
    cfg->path = xstrdup(name);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xstrndup(p, n);
        char *s;
        lineno++;
        p = nl ? nl + 1 : p + n;
        if (memchr(line, '\0', n) != NULL && strlen(line) != n) {
            snprintf(err, errlen, "%s:%d: NUL byte in line", name, lineno);
            free(line);
            return -1;
        }
        s = trim(line);
        if (*s == '\0' || *s == ';' || *s == '#') {
            free(line);
            continue;
        }
        if (*s == '[') {
            char *e = strchr(s, ']');
            const char *rest = e ? trim(e + 1) : NULL;
            if (!e || (rest[0] != '\0' && rest[0] != ';' && rest[0] != '#')) {
                snprintf(err, errlen, "%s:%d: malformed section header", name, lineno);
                free(line);
                return -1;
            }
            *e = '\0';
            char *sec = trim(s + 1);
            cur = NULL;
            tgt = cfg;
            tlines = lines;
            if (strncmp(sec, "redis", 5) == 0 && isspace((unsigned char)sec[5])) {
                int r = redis_section(cfg, name, lineno, trim(sec + 6), plain_line, elines, hdrs,
                                      &tgt, &tlines, lines, err, errlen);
                free(line);
                if (r != 0)
                    return -1;
                snprintf(section, sizeof section, "redis");
                continue;
            }
            if (!strcmp(sec, "redis")) {
                if (cfg->endpoint_name) {
                    snprintf(err, errlen, "%s:%d: a plain [redis] and [redis %s] (line %d) cannot "
                             "be mixed: name every endpoint ([redis default] for the plain one)",
                             name, lineno, cfg->endpoint_name, (*hdrs)[0]);
                    free(line);
                    return -1;
                }
                plain_line = plain_line ? plain_line : lineno;
                (*hdrs)[0] = plain_line;
            }
            if (!strcmp(sec, "rule") || !strcmp(sec, "sink")) {
                snprintf(err, errlen, "%s:%d: [%s] needs a name, as in [%s NAME]", name, lineno,
                         sec, sec);
                free(line);
                return -1;
            }
            if (strncmp(sec, "rule ", 5) == 0 || strncmp(sec, "sink ", 5) == 0) {
                char *nm = trim(sec + 5);
                if (!*nm) {
                    snprintf(err, errlen, "%s:%d: [%.4s] needs a name, as in [%.4s NAME]", name,
                             lineno, sec, sec);
                    free(line);
                    return -1;
                }
                sec[4] = '\0';
                for (int i = 0; i < cfg->nsections; i++) {
                    if (!strcmp(cfg->sections[i].kind, sec) && !strcmp(cfg->sections[i].name, nm)) {
                        snprintf(err, errlen, "%s:%d: [%s %s] defined twice (first at line %d)",
                                 name, lineno, sec, nm, cfg->sections[i].line);
                        free(line);
                        return -1;
                    }
                }
                cfg->sections = xrealloc(cfg->sections,
                                         sizeof *cfg->sections * (size_t)(cfg->nsections + 1));
                cur = &cfg->sections[cfg->nsections++];
                memset(cur, 0, sizeof *cur);
                cur->kind = xstrdup(sec);
                cur->name = xstrdup(nm);
                cur->line = lineno;
                snprintf(section, sizeof section, "%s", sec);
            } else {
                bool known = false;
                for (size_t i = 0; i < NOPTIONS; i++)
                    if (!strcmp(options[i].section, sec))
                        known = true;
                if (!known) {
                    snprintf(err, errlen,
                             "%s:%d: unknown section [%s] (known: redis, queues, store, agent, "
                             "rule NAME, sink NAME)",
                             name, lineno, sec);
                    free(line);
                    return -1;
                }
                snprintf(section, sizeof section, "%s", sec);
            }
            free(line);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", name, lineno);
            free(line);
            return -1;
        }
        *eq = '\0';
        char *key = trim(s);
        char *val = eq + 1;
        strip_inline_comment(val);
        val = trim(val);
        if (!section[0]) {
            snprintf(err, errlen, "%s:%d: key '%s' outside any section", name, lineno, key);
            free(line);
            return -1;
        }
        if (cur) {
            const char *const *allowed = strcmp(cur->kind, "rule") == 0 ? rule_keys : sink_keys;
            if (!key_in(allowed, key)) {
                snprintf(err, errlen, "%s:%d: unknown key '%s' in [%s %s]", name, lineno, key,
                         cur->kind, cur->name);
                free(line);
                return -1;
            }
            cur->kv = xrealloc(cur->kv, sizeof *cur->kv * (size_t)(cur->nkv + 1));
            cur->kv[cur->nkv].key = xstrdup(key);
            cur->kv[cur->nkv].value = xstrdup(val);
            cur->kv[cur->nkv].line = lineno;
            cur->kv[cur->nkv].col = (int)(val - line) + 1;
            cur->nkv++;
            free(line);
            continue;
        }
        size_t i;
        for (i = 0; i < NOPTIONS; i++)
            if (!strcmp(options[i].section, section) && !strcmp(options[i].key, key))
                break;
        char shown[300];
        if (tgt->endpoint_name && !strcmp(section, "redis"))
            snprintf(shown, sizeof shown, "redis %s", tgt->endpoint_name);
        else
            snprintf(shown, sizeof shown, "%s", section);
        if (i == NOPTIONS) {
            snprintf(err, errlen, "%s:%d: unknown key '%s' in [%s]", name, lineno, key, shown);
            free(line);
            return -1;
        }
        if (tlines[i]) {
            snprintf(err, errlen, "%s:%d: '%s' set twice in [%s] (first at line %d)", name, lineno,
                     key, shown, tlines[i]);
            free(line);
            return -1;
        }
        if (set_option(tgt, &options[i], val, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "%s:%d: %s", name, lineno, msg);
            free(line);
            return -1;
        }
        tlines[i] = lineno;
        free(line);
    }

    /* cross-field validation */
    {
        if (!(*hdrs)[0])
            (*hdrs)[0] = 1; /* no [redis] section: the defaults */
        if (finish_endpoints(cfg, name, lines, *elines, *hdrs, err, errlen) != 0)
            return -1;
        if (!cfg->store_path[0]) {
            snprintf(err, errlen, "%s:%d: [store] path must not be empty", name,
                     line_of(lines, "store", "path"));
            return -1;
        }
        if (strcmp(cfg->log_format, "text") != 0 && strcmp(cfg->log_format, "json") != 0) {
            snprintf(err, errlen, "%s:%d: [agent] log_format must be text or json, not '%s'", name,
                     line_of(lines, "agent", "log_format"), cfg->log_format);
            return -1;
        }
        /* ha_id goes into an HTTP header and the lease: a short printable
         * name, no ';' (the header's separator) */
        size_t idlen = strlen(cfg->ha_id);
        bool id_ok = idlen < 100;
        for (size_t k = 0; k < idlen && id_ok; k++)
            id_ok = cfg->ha_id[k] > ' ' && cfg->ha_id[k] < 0x7f && cfg->ha_id[k] != ';';
        if (!id_ok) {
            snprintf(err, errlen, "%s:%d: [agent] ha_id: at most 99 printable ASCII characters "
                     "without spaces or ';'", name, line_of(lines, "agent", "ha_id"));
            return -1;
        }
        char host[64];
        int port;
        if (cfg->http[0] && http_parse_addr(cfg->http, host, sizeof host, &port, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "%s:%d: [agent] http = %s", name, line_of(lines, "agent", "http"),
                     msg);
            return -1;
        }
        if (cfg->store_group[0] && !getgrnam(cfg->store_group)) {
            snprintf(err, errlen, "%s:%d: [store] group '%s': no such group", name,
                     line_of(lines, "store", "group"), cfg->store_group);
            return -1;
        }
        snprintf(last_store_group, sizeof last_store_group, "%s", cfg->store_group);
    }
    for (int i = 0; i < cfg->nsections; i++) {
        struct config_section *sec = &cfg->sections[i];
        for (int a = 0; a < sec->nkv; a++)
            for (int c = a + 1; c < sec->nkv; c++)
                if (!strcmp(sec->kv[a].key, sec->kv[c].key)) {
                    snprintf(err, errlen, "%s:%d: '%s' set twice in [%s %s]", name, sec->kv[c].line,
                             sec->kv[c].key, sec->kind, sec->name);
                    return -1;
                }
    }
    enum log_level lvl;
    if (log_parse_level(cfg->log_level, &lvl) == 0)
        log_set_level(lvl);
    log_set_json(!strcmp(cfg->log_format, "json"));
    return 0;
}

int
config_parse(struct config *cfg, const char *name, const char *text, char *err, size_t errlen)
{
    int lines[NOPTIONS] = {0};
    int *elines = NULL, *hdrs = xcalloc(1, sizeof *hdrs);
    int rc = parse_text(cfg, name, text, err, errlen, lines, &elines, &hdrs);
    free(elines);
    free(hdrs);
    return rc;
}

/* A relative [store] path is relative to the config file's directory, not
 * to wherever the command runs (an agent started from / wrote /bullwatch.db).
 * A store found at the old, cwd-relative place and none at the new one is
 * pointed out. */
static void
resolve_store_path(struct config *cfg, const char *config_path)
{
    const char *slash = strrchr(config_path, '/');
    if (cfg->store_path[0] == '/' || !slash)
        return;
    struct buf b;
    buf_init(&b, 0);
    buf_add(&b, config_path, (size_t)(slash - config_path) + 1);
    buf_adds(&b, cfg->store_path);
    if (access(b.data, F_OK) != 0 && access(cfg->store_path, F_OK) == 0)
        log_warn("[store] path = %s is relative to the config file's directory: the store is "
                 "%s; a store exists at ./%s (the old, working-directory place): move it there "
                 "or give an absolute path",
                 cfg->store_path, b.data, cfg->store_path);
    free(cfg->store_path);
    cfg->store_path = buf_detach(&b, NULL);
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[4096];
    size_t n;
    if (!f) {
        int e = errno; /* config_defaults may change it */
        config_defaults(cfg);
        snprintf(err, errlen, "%s: cannot open config file: %s", path, strerror(e));
        return -1;
    }
    buf_init(&b, 4 * 1024 * 1024);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    /* a directory opens but does not read (EISDIR): say so, with the errno,
     * rather than run on an empty config */
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr) {
        config_defaults(cfg);
        snprintf(err, errlen, "%s: cannot read config file: %s", path, strerror(rerr));
        buf_release(&b);
        return -1;
    }
    if (b.truncated) {
        config_defaults(cfg);
        snprintf(err, errlen, "%s:0: config file larger than 4 MB", path);
        buf_release(&b);
        return -1;
    }
    if (b.len != strlen(b.data ? b.data : "")) {
        config_defaults(cfg);
        snprintf(err, errlen, "%s:0: config file contains NUL bytes", path);
        buf_release(&b);
        return -1;
    }
    int rc = config_parse(cfg, path, b.data ? b.data : "", err, errlen);
    buf_release(&b);
    if (rc == 0)
        resolve_store_path(cfg, path);
    return rc;
}

void
config_release(struct config *cfg)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (options[i].type == OPT_STR || options[i].type == OPT_SECRET ||
            options[i].type == OPT_LEVEL)
            free(*slot_str(cfg, &options[i]));
    }
    for (int i = 0; i < cfg->nsections; i++) {
        for (int k = 0; k < cfg->sections[i].nkv; k++) {
            free(cfg->sections[i].kv[k].key);
            free(cfg->sections[i].kv[k].value);
        }
        free(cfg->sections[i].kv);
        free(cfg->sections[i].kind);
        free(cfg->sections[i].name);
    }
    free(cfg->sections);
    free(cfg->path);
    free(cfg->endpoint_name);
    free(cfg->endpoint_addr);
    redis_endpoint_release(&cfg->ep);
    for (int i = 0; i + 1 < cfg->nendpoints && cfg->more; i++)
        config_release(&cfg->more[i]);
    free(cfg->more);
    memset(cfg, 0, sizeof *cfg);
}

const char *
config_choose_path(const char *cli_path)
{
    if (cli_path)
        return cli_path;
    const char *e = getenv("BULLWATCH_CONFIG");
    if (e && *e)
        return e;
    return "agent.ini";
}

void
config_each_option(void (*fn)(const char *section, const char *key, const char *def,
                              const char *help, void *ud),
                   void *ud)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        fn(options[i].section, options[i].key, options[i].def, options[i].help, ud);
}

static void
print_masked_url(const char *url, FILE *out)
{
    char shown[1024];
    mask_url(url, shown, sizeof shown);
    fputs(shown, out);
}

static bool
looks_like_token(const char *p, size_t n)
{
    bool digit = false, alpha = false;
    for (size_t i = 0; i < n; i++) {
        digit |= isdigit((unsigned char)p[i]) != 0;
        alpha |= isalpha((unsigned char)p[i]) != 0;
    }
    return n >= 32 || (n >= 12 && digit && alpha) || !strncmp(p, "whsec_", n < 6 ? n : 6);
}

/* A sink's url (a comma-separated list for an Alertmanager cluster) as
 * check-config shows it: user info masked, and the path of a Slack webhook
 * (its secret), the query, and any path segment that looks like a token. */
static void
print_sink_urls(const char *v, bool slack, FILE *out)
{
    bool first = true;
    for (const char *u = v; *u;) {
        u += strspn(u, ", \t");
        size_t n = strcspn(u, ", \t");
        if (!n)
            break;
        fputs(first ? "" : ", ", out);
        first = false;
        const char *p = strstr(u, "://");
        if (!p || p > u + n) {
            fputs("****", out);
            u += n;
            continue;
        }
        p += 3;
        const char *end = u + n, *q = p;
        while (q < end && !strchr("/?#", *q))
            q++;
        const char *at = NULL;
        for (const char *t = p; t < q; t++)
            if (*t == '@')
                at = t;
        fprintf(out, "%.*s%s%.*s", (int)(p - u), u, at ? "****@" : "",
                (int)(q - (at ? at + 1 : p)), at ? at + 1 : p);
        if (q < end && *q == '/' && slack) {
            fputs(q + 1 < end ? "/****" : "/", out);
            q = end;
        }
        while (q < end && *q == '/') {
            const char *seg = ++q;
            while (q < end && !strchr("/?#", *q))
                q++;
            fputc('/', out);
            if (looks_like_token(seg, (size_t)(q - seg)))
                fputs("****", out);
            else
                fprintf(out, "%.*s", (int)(q - seg), seg);
        }
        if (q < end)
            fputs(*q == '?' ? "?****" : "#****", out);
        u = end;
    }
}

static void
print_option(const struct option *o, const struct config *cfg, FILE *out)
{
    char *const *sp = (char *const *)((const char *)cfg + o->offset);
    fprintf(out, "%s = ", o->key);
    switch (o->type) {
    case OPT_SECRET:
        fputs((*sp && **sp) ? "****" : "", out);
        break;
    case OPT_STR:
    case OPT_LEVEL:
        if (!strcmp(o->key, "url"))
            print_masked_url(*sp, out);
        else
            fputs(*sp, out);
        break;
    case OPT_BOOL:
        fputs(*(const bool *)((const char *)cfg + o->offset) ? "true" : "false", out);
        break;
    case OPT_DURATION: {
        char d[32];
        format_duration_exact(*(const int64_t *)((const char *)cfg + o->offset), d, sizeof d);
        fputs(d, out);
        break;
    }
    case OPT_SIZE:
    case OPT_INT:
        fprintf(out, "%lld", (long long)*(const int64_t *)((const char *)cfg + o->offset));
        break;
    }
    fprintf(out, "    ; %s\n", o->help);
}

/* [redis], or one [redis NAME] per endpoint */
static void
print_endpoints(const struct config *cfg, FILE *out)
{
    bool named = cfg->nendpoints > 1 || strcmp(cfg->endpoint_name, "default");
    for (int e = 0; e < cfg->nendpoints; e++) {
        struct config v;
        config_endpoint(cfg, e, &v);
        if (named)
            fprintf(out, "\n[redis %s]\n", v.endpoint_name);
        else
            fputs("\n[redis]\n", out);
        for (size_t i = 0; i < NOPTIONS; i++)
            if (!strcmp(options[i].section, "redis"))
                print_option(&options[i], &v, out);
        if (v.redis_password && v.redis_password[0] &&
            (v.redis_password_env[0] || v.redis_password_file[0]))
            fprintf(out, "; redis password resolved from %s (****)\n",
                    v.redis_password_env[0] ? "the environment" : "password_file");
    }
}

void
config_print(const struct config *cfg, FILE *out)
{
    const char *sec = "";
    bool redis_done = false;
    fprintf(out, "# effective configuration from %s (secrets masked)\n", cfg->path);
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct option *o = &options[i];
        if (!strcmp(o->section, "redis")) {
            if (!redis_done)
                print_endpoints(cfg, out);
            redis_done = true;
            sec = "redis";
            continue;
        }
        if (strcmp(sec, o->section)) {
            sec = o->section;
            fprintf(out, "\n[%s]\n", sec);
        }
        print_option(o, cfg, out);
    }
    for (int i = 0; i < cfg->nsections; i++) {
        const struct config_section *s = &cfg->sections[i];
        const struct config_kv *type = config_section_get(s, "type");
        bool slack = type && !strcmp(type->value, "slack");
        fprintf(out, "\n[%s %s]\n", s->kind, s->name);
        for (int k = 0; k < s->nkv; k++) {
            const struct config_kv *kv = &s->kv[k];
            bool named = strstr(kv->key, "_env") || strstr(kv->key, "_file");
            bool secret = !named && (strstr(kv->key, "secret") || !strcmp(kv->key, "routing_key") ||
                                     !strncmp(kv->value, "whsec_", 6));
            fprintf(out, "%s = ", kv->key);
            if (secret)
                fputs("****", out);
            else if (!named && !strcmp(s->kind, "sink") &&
                     (!strcmp(kv->key, "url") || !strcmp(kv->key, "generator_url")))
                print_sink_urls(kv->value, slack && !strcmp(kv->key, "url"), out);
            else
                fputs(kv->value, out);
            fputc('\n', out);
        }
    }
}

const struct config_kv *
config_section_get(const struct config_section *s, const char *key)
{
    for (int i = 0; i < s->nkv; i++)
        if (!strcmp(s->kv[i].key, key))
            return &s->kv[i];
    return NULL;
}

int
config_each_section(const struct config *cfg, const char *kind,
                    int (*fn)(const struct config *cfg, const struct config_section *s, void *ud),
                    void *ud)
{
    for (int i = 0; i < cfg->nsections; i++) {
        if (strcmp(cfg->sections[i].kind, kind) != 0)
            continue;
        int rc = fn(cfg, &cfg->sections[i], ud);
        if (rc)
            return rc;
    }
    return 0;
}
