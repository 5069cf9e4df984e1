/* jobdata: see jobdata.h */
#include "jobdata.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util.h"

void
jobdata_cut_utf8(struct buf *b, size_t max)
{
    if (b->len <= max)
        return;
    size_t n = max;
    /* back off continuation bytes so a sequence is never split */
    while (n > 0 && ((unsigned char)b->data[n] & 0xc0) == 0x80)
        n--;
    b->len = n;
    b->data[n] = '\0';
}

static cJSON *
parse_exact(const char *s, size_t n)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!j)
        return NULL;
    while (end && end < s + n && (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r'))
        end++;
    if (end != s + n) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int
redact_walk(cJSON *node, const char *globs, int depth)
{
    int count = 0;
    if (depth > 64)
        return 0;
    for (cJSON *c = node ? node->child : NULL; c; c = c->next) {
        if (c->string && cJSON_IsObject(node) && glob_list_match(globs, c->string, true)) {
            cJSON *rep = cJSON_CreateString(JOBDATA_REDACTED);
            cJSON_ReplaceItemViaPointer(node, c, rep);
            c = rep;
            count++;
            continue;
        }
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            count += redact_walk(c, globs, depth + 1);
    }
    return count;
}

void
jobdata_prepare(const char *data, size_t n, const char *redact, size_t max, struct buf *out,
                struct jobdata_result *res)
{
    memset(res, 0, sizeof *res);
    cJSON *j = parse_exact(data, n);
    size_t start = out->len;
    if (j) {
        res->is_json = true;
        if (redact && *redact)
            res->redacted = redact_walk(j, redact, 0);
        if (res->redacted) {
            char *p = cJSON_PrintUnformatted(j);
            if (p) {
                buf_adds(out, p);
                cJSON_free(p);
            }
        } else {
            buf_add(out, data, n); /* unchanged: keep the producer's bytes */
        }
        cJSON_Delete(j);
    } else {
        buf_add(out, data, n);
    }
    if (max && out->len - start > max) {
        struct buf tmp = *out;
        jobdata_cut_utf8(&tmp, start + max);
        out->len = tmp.len;
        res->truncated = true;
    }
}

void
jobdata_stack(const char *s, size_t n, size_t max, struct buf *out)
{
    cJSON *j = parse_exact(s, n);
    if (!j || !cJSON_IsArray(j) || (max == 0)) {
        if (j)
            cJSON_Delete(j);
        size_t start = out->len;
        buf_add(out, s, n);
        if (max && out->len - start > max)
            jobdata_cut_utf8(out, start + max);
        return;
    }
    if (n <= max) {
        buf_add(out, s, n);
        cJSON_Delete(j);
        return;
    }
    /* keep the newest entries that fit */
    int count = cJSON_GetArraySize(j);
    size_t budget = max > 16 ? max - 16 : max;
    int first = count;
    size_t used = 0;
    for (int i = count - 1; i >= 0; i--) {
        cJSON *e = cJSON_GetArrayItem(j, i);
        size_t len = cJSON_IsString(e) ? strlen(e->valuestring) + 4 : 8;
        if (used + len > budget && first < count)
            break;
        used += len;
        first = i;
        if (used > budget)
            break;
    }
    buf_addc(out, '[');
    for (int i = first; i < count; i++) {
        cJSON *e = cJSON_GetArrayItem(j, i);
        const char *v = cJSON_IsString(e) ? e->valuestring : "";
        size_t len = strlen(v);
        if (len > budget)
            len = budget;
        while (len > 0 && len < strlen(v) && ((unsigned char)v[len] & 0xc0) == 0x80)
            len--;
        if (i > first)
            buf_addc(out, ',');
        buf_add_json_str(out, v, len);
    }
    buf_addc(out, ']');
    cJSON_Delete(j);
}

int64_t
jobdata_attempts(const char *opts, size_t n)
{
    cJSON *j = parse_exact(opts, n);
    int64_t a = 1;
    if (j) {
        cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "attempts");
        if (cJSON_IsNumber(at) && at->valuedouble >= 1)
            a = (int64_t)at->valuedouble;
        cJSON_Delete(j);
    }
    return a;
}
