/* dlq: see dlq.h */
#include "dlq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmq.h"
#include "buf.h"
#include "jobdata.h"
#include "sqlembed.h"
#include "util.h"
#include "xmem.h"

#define DLQ_PAGE 200 /* ids per ZREVRANGEBYSCORE, and HMGETs per pipeline */

static bool
reply_int(const redisReply *r, int64_t *out)
{
    return r && r->type == REDIS_REPLY_STRING && parse_int64(r->str, out) == 0;
}

/* case-sensitive substring over a length-delimited haystack */
static bool
contains(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    if (m == 0)
        return true;
    for (size_t i = 0; i + m <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

/* The walk passed a member of this score: the next read starts at that
 * score (inclusive) and skips the members of it already passed. */
static void
advance(char *max, size_t maxlen, int64_t *skip, const char *score)
{
    if (strcmp(max, score) == 0) {
        (*skip)++;
    } else {
        snprintf(max, maxlen, "%s", score);
        *skip = 1;
    }
}

/* A JSON number as epoch ms, or 0 when it is not one that fits (1e100,
 * -1, NaN): converting an out-of-range double to an integer is undefined.
 * The bound is the year 9999. */
static int64_t
ms_of(double v)
{
    if (!(v >= 0 && v <= 253402300799999.0))
        return 0;
    return (int64_t)v;
}

/* A score from Redis ("inf" and "-inf" are valid scores) as epoch ms. */
static int64_t
score_ms(const char *s)
{
    return ms_of(strtod(s, NULL));
}

int64_t
dlq_select(struct rconn *rc, const char *prefix, const char *queue, const struct dlq_filter *f,
           dlq_job_fn fn, void *ud, int64_t *total_out, char *err, size_t errlen)
{
    struct buf key, jk, sig;
    char max[32], min[32], off[32];
    int64_t matched = 0, offset = 0;
    buf_init(&key, 0);
    buf_init(&jk, 0);
    buf_init(&sig, 0);
    bmq_key(&key, prefix, queue, "failed");
    if (total_out) {
        redisReply *r = rconn_cmdf(rc, "ZCARD %b", key.data, key.len);
        if (!r || r->type != REDIS_REPLY_INTEGER) {
            snprintf(err, errlen, "ZCARD %s failed: %s", key.data,
                     r && r->type == REDIS_REPLY_ERROR ? r->str : rconn_errstr(rc));
            if (r)
                freeReplyObject(r);
            matched = -1;
            goto out;
        }
        *total_out = r->integer;
        freeReplyObject(r);
    }
    if (f->until > 0)
        snprintf(max, sizeof max, "(%lld", (long long)f->until);
    else
        snprintf(max, sizeof max, "+inf");
    if (f->since > 0)
        snprintf(min, sizeof min, "%lld", (long long)f->since);
    else
        snprintf(min, sizeof min, "-inf");
    if (f->pos && f->pos->max[0]) { /* resume where an earlier walk stopped */
        snprintf(max, sizeof max, "%s", f->pos->max);
        offset = f->pos->skip;
    }
    bool end = false;
    /*
     * Keyset paging, newest first: each page starts at the last score seen
     * (inclusive) and skips the members of that score already returned, so
     * a page costs O(log n + page) however deep it is (LIMIT offsets would
     * make a 100k walk quadratic). Bounded: 10M dead jobs is 50k pages.
     */
    for (int page = 0; page < 1000000; page++) {
        snprintf(off, sizeof off, "%lld", (long long)offset);
        const char *argv[] = {"ZREVRANGEBYSCORE", key.data, max, min, "WITHSCORES", "LIMIT", off,
                              "200"};
        redisReply *ids = rconn_cmd(rc, 8, argv, NULL);
        if (!ids || ids->type != REDIS_REPLY_ARRAY) {
            snprintf(err, errlen, "reading %s failed: %s", key.data,
                     ids && ids->type == REDIS_REPLY_ERROR ? ids->str : rconn_errstr(rc));
            if (ids)
                freeReplyObject(ids);
            matched = -1;
            goto out;
        }
        size_t n = ids->elements / 2;
        bool fields = !f->ids_only || f->name || f->reason || f->signature;
        if (!fields) {
            bool stop_ids = false;
            for (size_t i = 0; i < n && !stop_ids; i++) {
                struct dlq_job j;
                memset(&j, 0, sizeof j);
                j.id = ids->element[2 * i]->str;
                j.id_len = ids->element[2 * i]->len;
                j.finished_on = score_ms(ids->element[2 * i + 1]->str);
                j.attempts_made = -1;
                snprintf(j.signature, sizeof j.signature, "-");
                advance(max, sizeof max, &offset, ids->element[2 * i + 1]->str);
                matched++;
                if (!fn(&j, ud) || (f->limit > 0 && matched >= f->limit))
                    stop_ids = true;
            }
            freeReplyObject(ids);
            end = !stop_ids && n < DLQ_PAGE;
            if (stop_ids || n < DLQ_PAGE)
                break;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            redisReply *id = ids->element[2 * i];
            buf_reset(&jk);
            bmq_job_key(&jk, prefix, queue, id->str, id->len);
            rconn_appendf(rc, "HMGET %b name failedReason atm attemptsMade opts", jk.data, jk.len);
        }
        bool stop = false;
        for (size_t i = 0; i < n; i++) {
            redisReply *h = rconn_reply(rc);
            if (!h) {
                snprintf(err, errlen, "reading jobs of %s failed: %s", queue, rconn_errstr(rc));
                freeReplyObject(ids);
                matched = -1;
                goto out;
            }
            if (stop) { /* the rest of the page is read and dropped */
                freeReplyObject(h);
                continue;
            }
            advance(max, sizeof max, &offset, ids->element[2 * i + 1]->str);
            if (h->type != REDIS_REPLY_ARRAY || h->elements != 5) {
                freeReplyObject(h);
                continue;
            }
            struct dlq_job j;
            memset(&j, 0, sizeof j);
            j.id = ids->element[2 * i]->str;
            j.id_len = ids->element[2 * i]->len;
            j.finished_on = score_ms(ids->element[2 * i + 1]->str);
            redisReply **e = h->element;
            j.hash_missing = e[0]->type == REDIS_REPLY_NIL && e[1]->type == REDIS_REPLY_NIL &&
                             e[4]->type == REDIS_REPLY_NIL;
            j.name = e[0]->type == REDIS_REPLY_STRING ? e[0]->str : NULL;
            if (e[1]->type == REDIS_REPLY_STRING) {
                j.reason = e[1]->str;
                j.reason_len = e[1]->len;
            }
            if (!reply_int(e[2], &j.attempts_made) && !reply_int(e[3], &j.attempts_made))
                j.attempts_made = -1;
            j.attempts_allowed =
                e[4]->type == REDIS_REPLY_STRING ? jobdata_attempts(e[4]->str, e[4]->len) : 1;
            buf_reset(&sig);
            signature_normalise(j.reason ? j.reason : "", j.reason_len, &sig);
            signature_id(sig.data ? sig.data : "", sig.len, j.signature);
            bool ok = (!f->name || (j.name && strcmp(j.name, f->name) == 0)) &&
                      (!f->reason || (j.reason && contains(j.reason, j.reason_len, f->reason))) &&
                      (!f->signature || strcmp(j.signature, f->signature) == 0);
            if (ok) {
                matched++;
                if (!fn(&j, ud) || (f->limit > 0 && matched >= f->limit))
                    stop = true;
            }
            freeReplyObject(h);
        }
        freeReplyObject(ids);
        end = !stop && n < DLQ_PAGE;
        if (stop || n < DLQ_PAGE)
            break;
    }
    if (f->pos && matched >= 0) {
        snprintf(f->pos->max, sizeof f->pos->max, "%s", max);
        f->pos->skip = offset;
        f->pos->end = end;
    }
out:
    buf_release(&key);
    buf_release(&jk);
    buf_release(&sig);
    return matched;
}

/* SHA1s of the loaded scripts, by name */
static struct {
    const char *name;
    char sha[48];
} shas[8];

static char *
sha_slot(const char *name)
{
    for (int i = 0; i < (int)(sizeof shas / sizeof shas[0]); i++) {
        if (!shas[i].name || strcmp(shas[i].name, name) == 0) {
            shas[i].name = name;
            return shas[i].sha;
        }
    }
    return shas[3].sha;
}

static const char *const place_names[] = {NULL, "wait", "paused", "prioritized"};

const char *
dlq_place_name(enum dlq_place p)
{
    return (unsigned)p < sizeof place_names / sizeof place_names[0] ? place_names[p] : NULL;
}

int
dlq_reply_status(const redisReply *e, enum dlq_place *place)
{
    if (place)
        *place = DLQ_PLACE_NONE;
    if (e->type == REDIS_REPLY_INTEGER)
        return (int)e->integer;
    if (e->type != REDIS_REPLY_STRING)
        return DLQ_JOB_BAD_DATA;
    for (int p = DLQ_PLACE_WAIT; p <= DLQ_PLACE_PRIORITIZED; p++)
        if (strcmp(e->str, place_names[p]) == 0) {
            if (place)
                *place = (enum dlq_place)p;
            return DLQ_JOB_DONE;
        }
    return DLQ_JOB_BAD_DATA;
}

int
dlq_script_batch(struct rconn *rc, const char *script_name, const char *prefix, const char *queue,
                 bool reset, const char *const *ids, int n, int *status, enum dlq_place *place,
                 char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!sha_slot(script_name)[0] && dlq_script_load(rc, script_name, err, errlen) != 0)
            return -1;
        dlq_script_send(rc, script_name, prefix, queue, reset, ids, n);
        if (dlq_script_recv(rc, script_name, n, status, place, err, errlen) == 0)
            return 0;
        if (!strstr(err, "NOSCRIPT"))
            return -1;
        sha_slot(script_name)[0] = '\0'; /* flushed meanwhile: load again */
    }
    return -1;
}

bool
dlq_fleet_is_v5(struct rconn *rc, const char *prefix, const char *queue)
{
    struct buf k;
    bool v5 = false;
    buf_init(&k, 0);
    bmq_key(&k, prefix, queue, "meta");
    redisReply *r = rconn_cmdf(rc, "HGET %b version", k.data, k.len);
    if (r && r->type == REDIS_REPLY_STRING)
        v5 = strncmp(r->str, "bullmq:5", 8) == 0;
    if (r)
        freeReplyObject(r);
    buf_release(&k);
    return v5;
}

/* ---- dead-letter queues: wrapper jobs ---- */

static cJSON *
first_item(cJSON *o, const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        cJSON *it = cJSON_GetObjectItemCaseSensitive(o, names[i]);
        if (it && !cJSON_IsNull(it))
            return it;
    }
    return NULL;
}

static char *
item_text(cJSON *it)
{
    if (!it)
        return NULL;
    if (cJSON_IsString(it))
        return xstrdup(it->valuestring);
    if (cJSON_IsNumber(it)) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.0f", it->valuedouble);
        return xstrdup(tmp);
    }
    return NULL;
}

static char *
item_json(cJSON *it, const char *dflt)
{
    if (!it)
        return xstrdup(dflt);
    char *p = cJSON_PrintUnformatted(it);
    char *r = xstrdup(p ? p : dflt);
    cJSON_free(p);
    return r;
}

int
dlq_unpack(const char *json, size_t n, struct dlq_wrapper *w)
{
    static const char *const kq[] = {"originalQueue", "queue", "queueName", NULL};
    static const char *const kid[] = {"originalJobId", "jobId", "originalId", NULL};
    static const char *const kname[] = {"originalJobName", "jobName", "name", NULL};
    static const char *const kdata[] = {"originalJobData", "jobData", "data", NULL};
    static const char *const kopts[] = {"originalOpts", "opts", "jobOpts", NULL};
    static const char *const kwhy[] = {"failedReason", "errorMessage", "error", NULL};
    static const char *const kat[] = {"failedAt", "timestamp", NULL};
    memset(w, 0, sizeof *w);
    cJSON *o = jobdata_json_valid(json, n) ? cJSON_ParseWithLength(json, n) : NULL;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return -1;
    }
    w->queue = item_text(first_item(o, kq));
    w->id = item_text(first_item(o, kid));
    w->name = item_text(first_item(o, kname));
    w->data = item_json(first_item(o, kdata), "{}");
    cJSON *opts = first_item(o, kopts);
    if (cJSON_IsObject(opts)) {
        w->opts = item_json(opts, "{\"attempts\":0}");
    } else {
        cJSON *ma = cJSON_GetObjectItemCaseSensitive(o, "maxAttempts");
        char tmp[48];
        /* a count BullMQ could hold (an int32): 6666666660 or 1e100 is no
         * attempts count, and converting it to int is undefined */
        snprintf(tmp, sizeof tmp, "{\"attempts\":%d}",
                 cJSON_IsNumber(ma) && ma->valuedouble >= 1 && ma->valuedouble <= 2147483647.0
                     ? (int)ma->valuedouble
                     : 0);
        w->opts = xstrdup(tmp);
    }
    cJSON *why = first_item(o, kwhy);
    if (cJSON_IsObject(why))
        why = cJSON_GetObjectItemCaseSensitive(why, "message");
    w->reason = item_text(why);
    cJSON *at = first_item(o, kat);
    if (cJSON_IsNumber(at))
        w->failed_at = ms_of(at->valuedouble);
    cJSON_Delete(o);
    if (!w->queue || !w->queue[0] || strchr(w->queue, ':'))
        return -1;
    if (!w->name)
        w->name = xstrdup("replayed");
    return 0;
}

void
dlq_wrapper_release(struct dlq_wrapper *w)
{
    free(w->queue);
    free(w->id);
    free(w->name);
    free(w->data);
    free(w->opts);
    free(w->reason);
    memset(w, 0, sizeof *w);
}

int64_t
dlq_select_wrappers(struct rconn *rc, const char *prefix, const char *queue,
                    const struct dlq_filter *f, dlq_job_fn fn, void *ud, int64_t *total_out,
                    char *err, size_t errlen)
{
    static const char *const lists[] = {"wait", "paused"};
    struct buf key, jk, sig;
    int64_t matched = 0, total = 0;
    bool stop = false;
    buf_init(&key, 0);
    buf_init(&jk, 0);
    buf_init(&sig, 0);
    for (int l = 0; l < 2 && !stop; l++) {
        buf_reset(&key);
        bmq_key(&key, prefix, queue, lists[l]);
        for (int64_t start = 0; !stop && start < 100000000; start += DLQ_PAGE) {
            redisReply *ids = rconn_cmdf(rc, "LRANGE %b %lld %lld", key.data, key.len,
                                         (long long)start, (long long)(start + DLQ_PAGE - 1));
            if (!ids || ids->type != REDIS_REPLY_ARRAY) {
                snprintf(err, errlen, "reading %s failed: %s", key.data,
                         ids && ids->type == REDIS_REPLY_ERROR ? ids->str : rconn_errstr(rc));
                if (ids)
                    freeReplyObject(ids);
                matched = -1;
                goto out;
            }
            size_t n = ids->elements;
            total += (int64_t)n;
            for (size_t i = 0; i < n; i++) {
                buf_reset(&jk);
                bmq_job_key(&jk, prefix, queue, ids->element[i]->str, ids->element[i]->len);
                rconn_appendf(rc, "HMGET %b data timestamp", jk.data, jk.len);
            }
            for (size_t i = 0; i < n; i++) {
                redisReply *h = rconn_reply(rc);
                if (!h) {
                    snprintf(err, errlen, "reading jobs of %s failed: %s", queue, rconn_errstr(rc));
                    freeReplyObject(ids);
                    matched = -1;
                    goto out;
                }
                struct dlq_wrapper w;
                memset(&w, 0, sizeof w);
                bool ok = !stop && h->type == REDIS_REPLY_ARRAY && h->elements == 2 &&
                          h->element[0]->type == REDIS_REPLY_STRING &&
                          dlq_unpack(h->element[0]->str, h->element[0]->len, &w) == 0;
                if (ok) {
                    struct dlq_job j;
                    int64_t ts = 0;
                    memset(&j, 0, sizeof j);
                    j.id = ids->element[i]->str;
                    j.id_len = ids->element[i]->len;
                    if (!w.failed_at && h->element[1]->type == REDIS_REPLY_STRING)
                        (void)parse_int64(h->element[1]->str, &ts);
                    j.finished_on = w.failed_at ? w.failed_at : ts;
                    j.name = w.name;
                    j.reason = w.reason;
                    j.reason_len = w.reason ? strlen(w.reason) : 0;
                    j.attempts_made = -1;
                    j.attempts_allowed = jobdata_attempts(w.opts, strlen(w.opts));
                    j.wrapper = &w;
                    buf_reset(&sig);
                    signature_normalise(j.reason ? j.reason : "", j.reason_len, &sig);
                    signature_id(sig.data ? sig.data : "", sig.len, j.signature);
                    bool hit = (!f->name || strcmp(j.name, f->name) == 0) &&
                               (!f->reason || (j.reason && contains(j.reason, j.reason_len, f->reason))) &&
                               (!f->signature || strcmp(j.signature, f->signature) == 0) &&
                               (!f->since || j.finished_on >= f->since) &&
                               (!f->until || j.finished_on < f->until);
                    if (hit) {
                        matched++;
                        if (!fn(&j, ud) || (f->limit > 0 && matched >= f->limit))
                            stop = true;
                    }
                }
                dlq_wrapper_release(&w);
                freeReplyObject(h);
            }
            freeReplyObject(ids);
            if (n < DLQ_PAGE)
                break;
        }
    }
    if (total_out)
        *total_out = total;
out:
    buf_release(&key);
    buf_release(&jk);
    buf_release(&sig);
    return matched;
}

int
dlq_readd_batch(struct rconn *rc, const char *prefix, const char *dlq_queue,
                const char *orig_queue, struct dlq_wrapper *const *w,
                const char *const *wrapper_ids, int n, int *status, char (*new_ids)[32],
                enum dlq_place *place, char *err, size_t errlen)
{
    static const char *const okeys[] = {"id", "meta", "wait", "paused", "marker", "events",
                                        "active"};
    struct buf keys[9], op, dp;
    char ts[32];
    int rcode = -1;
    char *sha = sha_slot("lua/readd");
    buf_init(&op, 0);
    buf_init(&dp, 0);
    buf_addf(&op, "%s:%s:", prefix, orig_queue);
    buf_addf(&dp, "%s:%s:", prefix, dlq_queue);
    for (int k = 0; k < 9; k++) {
        buf_init(&keys[k], 0);
        if (k < 7)
            bmq_key(&keys[k], prefix, orig_queue, okeys[k]);
        else
            bmq_key(&keys[k], prefix, dlq_queue, k == 7 ? "events" : "meta");
    }
    snprintf(ts, sizeof ts, "%lld", (long long)now_ms());
    int argc = 3 + 9 + 4 + 4 * n;
    const char **argv = xmalloc(sizeof *argv * (size_t)argc);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!sha[0] && dlq_script_load(rc, "lua/readd", err, errlen) != 0)
            goto out;
        int a = 0;
        argv[a++] = "EVALSHA";
        argv[a++] = sha;
        argv[a++] = "9";
        for (int k = 0; k < 9; k++)
            argv[a++] = keys[k].data;
        argv[a++] = op.data;
        argv[a++] = dp.data;
        argv[a++] = "-"; /* unused: placement comes from the keys (lua/place) */
        argv[a++] = ts;
        for (int i = 0; i < n; i++) {
            argv[a++] = wrapper_ids[i];
            argv[a++] = w[i]->name;
            argv[a++] = w[i]->data;
            argv[a++] = w[i]->opts;
        }
        redisReply *r = rconn_cmd(rc, a, argv, NULL);
        if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
            freeReplyObject(r);
            sha[0] = '\0';
            continue;
        }
        /* per wrapper, then where the re-added jobs went */
        if (!r || r->type != REDIS_REPLY_ARRAY || (int)r->elements != n + 1) {
            snprintf(err, errlen, "lua/readd failed: %s",
                     r && r->type == REDIS_REPLY_ERROR ? r->str
                     : r                              ? "unexpected reply"
                                                      : rconn_errstr(rc));
            if (r)
                freeReplyObject(r);
            goto out;
        }
        for (int i = 0; i < n; i++) {
            redisReply *e = r->element[i];
            if (e->type == REDIS_REPLY_STRING) {
                status[i] = DLQ_JOB_DONE;
                snprintf(new_ids[i], 32, "%s", e->str);
            } else {
                status[i] = (int)e->integer;
                new_ids[i][0] = '\0';
            }
        }
        (void)dlq_reply_status(r->element[n], place);
        freeReplyObject(r);
        rcode = 0;
        break;
    }
out:
    free(argv);
    buf_release(&op);
    buf_release(&dp);
    for (int k = 0; k < 9; k++)
        buf_release(&keys[k]);
    return rcode;
}

int
dlq_script_load(struct rconn *rc, const char *script_name, char *err, size_t errlen)
{
    char *sha = sha_slot(script_name);
    /* the failed-set scripts share a prologue: how a call names its jobs;
     * the scripts that place jobs share the placement rule */
    struct buf text;
    buf_init(&text, 0);
    bool failed_set = strcmp(script_name, "lua/replay") == 0 || strcmp(script_name, "lua/purge") == 0;
    if (failed_set)
        buf_adds(&text, sql_get("lua/select"));
    if (failed_set || strcmp(script_name, "lua/readd") == 0)
        buf_adds(&text, sql_get("lua/place"));
    buf_adds(&text, sql_get(script_name));
    redisReply *r = rconn_cmdf(rc, "SCRIPT LOAD %b", text.data, text.len);
    buf_release(&text);
    if (!r || r->type != REDIS_REPLY_STRING) {
        snprintf(err, errlen, "SCRIPT LOAD failed: %s",
                 r && r->type == REDIS_REPLY_ERROR ? r->str : rconn_errstr(rc));
        if (r)
            freeReplyObject(r);
        return -1;
    }
    snprintf(sha, sizeof shas[0].sha, "%s", r->str);
    freeReplyObject(r);
    return 0;
}

/* EVALSHA of a failed-set script: the nine keys, then prefix, an unused
 * slot (it held the fleet's version; placement comes from the keys now),
 * reset, and the rest (job ids, or a range) */
static void
script_send(struct rconn *rc, const char *script_name, const char *prefix, const char *queue,
            bool reset, const char *const *rest, int n)
{
    static const char *const suffix[] = {"failed", "wait",   "paused", "meta",  "prioritized",
                                         "pc",     "marker", "events", "active"};
    struct buf keys[9], p;
    const char **argv = xmalloc(sizeof *argv * (size_t)(3 + 9 + 3 + n));
    int a = 0;
    buf_init(&p, 0);
    buf_addf(&p, "%s:%s:", prefix, queue);
    argv[a++] = "EVALSHA";
    argv[a++] = sha_slot(script_name);
    argv[a++] = "9";
    for (int k = 0; k < 9; k++) {
        buf_init(&keys[k], 0);
        bmq_key(&keys[k], prefix, queue, suffix[k]);
        argv[a++] = keys[k].data;
    }
    argv[a++] = p.data;
    argv[a++] = "-";
    argv[a++] = reset ? "1" : "0";
    for (int i = 0; i < n; i++)
        argv[a++] = rest[i];
    rconn_append(rc, a, argv, NULL);
    rconn_flush(rc);
    free(argv);
    buf_release(&p);
    for (int k = 0; k < 9; k++)
        buf_release(&keys[k]);
}

void
dlq_script_send(struct rconn *rc, const char *script_name, const char *prefix, const char *queue,
                bool reset, const char *const *ids, int n)
{
    script_send(rc, script_name, prefix, queue, reset, ids, n);
}

void
dlq_script_send_range(struct rconn *rc, const char *script_name, const char *prefix,
                      const char *queue, bool reset, const char *min, const char *max,
                      int64_t offset, int limit)
{
    char off[24], lim[24];
    snprintf(off, sizeof off, "%lld", (long long)offset);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *rest[] = {"", min, max, off, lim};
    script_send(rc, script_name, prefix, queue, reset, rest, 5);
}

redisReply *
dlq_script_recv_range(struct rconn *rc, const char *script_name, int *n, char *err, size_t errlen)
{
    redisReply *r = rconn_reply(rc);
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3;
    for (size_t k = 0; ok && k < 3; k++)
        ok = r->element[k]->type == REDIS_REPLY_ARRAY && r->element[k]->elements == r->element[0]->elements;
    for (size_t k = 0; ok && k < r->element[0]->elements; k++)
        ok = r->element[0]->element[k]->type == REDIS_REPLY_STRING &&
             (r->element[1]->element[k]->type == REDIS_REPLY_INTEGER ||
              r->element[1]->element[k]->type == REDIS_REPLY_STRING) &&
             r->element[2]->element[k]->type == REDIS_REPLY_INTEGER;
    if (!ok) {
        snprintf(err, errlen, "%s failed: %s", script_name,
                 r && r->type == REDIS_REPLY_ERROR ? r->str : r ? "unexpected reply" : rconn_errstr(rc));
        if (r)
            freeReplyObject(r);
        return NULL;
    }
    *n = (int)r->element[0]->elements;
    return r;
}

int
dlq_script_recv(struct rconn *rc, const char *script_name, int n, int *status,
                enum dlq_place *place, char *err, size_t errlen)
{
    redisReply *r = rconn_reply(rc);
    if (!r || r->type != REDIS_REPLY_ARRAY || (int)r->elements != n) {
        snprintf(err, errlen, "%s failed: %s", script_name,
                 r && r->type == REDIS_REPLY_ERROR ? r->str : rconn_errstr(rc));
        if (r)
            freeReplyObject(r);
        return -1;
    }
    for (int i = 0; i < n; i++)
        status[i] = dlq_reply_status(r->element[i], place ? &place[i] : NULL);
    freeReplyObject(r);
    return 0;
}
