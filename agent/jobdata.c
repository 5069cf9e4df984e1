/* jobdata: see jobdata.h */
#include "jobdata.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
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

/* ---- a JSON syntax check that allocates nothing (RFC 8259) ---- */

struct jv {
    const unsigned char *p, *end;
    /* redaction (optional): values of matching keys are replaced in out */
    const char *globs;
    struct buf *out;
    const unsigned char *copied; /* input copied to out up to here */
    int redacted;
};

/* Does the raw key (between its quotes) match one of the globs,
 * case-insensitively? */
/* The redact list split and lower-cased once (per distinct list text). */
#define MAX_GLOBS 32
static struct {
    char text[1024];
    char pat[MAX_GLOBS][128];
    int n;
} compiled;

static void
compile_globs(const char *globs)
{
    if (strcmp(compiled.text, globs) == 0 && compiled.text[0])
        return;
    snprintf(compiled.text, sizeof compiled.text, "%s", globs);
    compiled.n = 0;
    const char *p = globs;
    while (*p && compiled.n < MAX_GLOBS) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        size_t len = strcspn(p, ",");
        size_t t = len;
        while (t > 0 && isspace((unsigned char)p[t - 1]))
            t--;
        if (t > 0 && t < sizeof compiled.pat[0]) {
            for (size_t i = 0; i < t; i++)
                compiled.pat[compiled.n][i] = (char)tolower((unsigned char)p[i]);
            compiled.pat[compiled.n][t] = '\0';
            compiled.n++;
        }
        p += len;
    }
}

/* Does the key (raw text between its quotes) match one of the globs,
 * case-insensitively? JSON escapes are decoded first, so "p\u0061ss"
 * is the key "pass"; a key with an escape for a non-ASCII character is
 * compared with that character as '?'. */
static bool
key_matches(const char *globs, const unsigned char *k, size_t n)
{
    char low[256];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 1 >= sizeof low)
            return false;
        unsigned char c = k[i];
        if (c == '\\' && i + 1 < n) {
            c = k[++i];
            if (c == 'u' && i + 4 < n) {
                unsigned cp = 0;
                for (int d = 1; d <= 4; d++) {
                    unsigned char h = k[i + (size_t)d];
                    cp = cp * 16 + (unsigned)(isdigit(h) ? h - '0' : (tolower(h) - 'a' + 10));
                }
                i += 4;
                c = cp < 0x80 ? (unsigned char)cp : '?';
            } else if (c == 'n') {
                c = '\n';
            } else if (c == 't') {
                c = '\t';
            } else if (c == 'r') {
                c = '\r';
            } else if (c == 'b') {
                c = '\b';
            } else if (c == 'f') {
                c = '\f';
            } /* else \" \\ \/ stand for themselves */
        }
        low[o++] = (char)tolower(c);
    }
    low[o] = '\0';
    compile_globs(globs);
    for (int i = 0; i < compiled.n; i++)
        if (fnmatch(compiled.pat[i], low, 0) == 0)
            return true;
    return false;
}

static void
jv_ws(struct jv *v)
{
    while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
        v->p++;
}

static bool jv_value(struct jv *v, int depth);

static bool
jv_string(struct jv *v)
{
    v->p++; /* opening quote */
    while (v->p < v->end) {
        unsigned char c = *v->p++;
        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (v->p >= v->end)
                return false;
            c = *v->p++;
            if (c == 'u') {
                for (int i = 0; i < 4; i++, v->p++)
                    if (v->p >= v->end || !isxdigit(*v->p))
                        return false;
            } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
                return false;
            }
        }
    }
    return false;
}

static bool
jv_number(struct jv *v)
{
    const unsigned char *st = v->p;
    if (v->p < v->end && *v->p == '-')
        v->p++;
    if (v->p >= v->end || !isdigit(*v->p))
        return false;
    if (*v->p == '0')
        v->p++;
    else
        while (v->p < v->end && isdigit(*v->p))
            v->p++;
    if (v->p < v->end && *v->p == '.') {
        v->p++;
        if (v->p >= v->end || !isdigit(*v->p))
            return false;
        while (v->p < v->end && isdigit(*v->p))
            v->p++;
    }
    if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
        v->p++;
        if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
            v->p++;
        if (v->p >= v->end || !isdigit(*v->p))
            return false;
        while (v->p < v->end && isdigit(*v->p))
            v->p++;
    }
    return v->p > st;
}

static bool
jv_lit(struct jv *v, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(v->end - v->p) < n || memcmp(v->p, lit, n) != 0)
        return false;
    v->p += n;
    return true;
}

static bool
jv_value(struct jv *v, int depth)
{
    if (depth > 512)
        return false;
    jv_ws(v);
    if (v->p >= v->end)
        return false;
    switch (*v->p) {
    case '{':
        v->p++;
        jv_ws(v);
        if (v->p < v->end && *v->p == '}') {
            v->p++;
            return true;
        }
        for (;;) {
            jv_ws(v);
            if (v->p >= v->end || *v->p != '"')
                return false;
            const unsigned char *ks = v->p + 1;
            if (!jv_string(v))
                return false;
            bool redact = v->globs && key_matches(v->globs, ks, (size_t)(v->p - 1 - ks));
            jv_ws(v);
            if (v->p >= v->end || *v->p++ != ':')
                return false;
            jv_ws(v);
            const unsigned char *vs = v->p;
            /* inside a value that is replaced as a whole, nothing more is
             * redacted: the copy position must not move past vs */
            const char *globs = v->globs;
            if (redact)
                v->globs = NULL;
            bool ok = jv_value(v, depth + 1);
            v->globs = globs;
            if (!ok)
                return false;
            if (redact) {
                buf_add(v->out, v->copied, (size_t)(vs - v->copied));
                buf_adds(v->out, "\"" JOBDATA_REDACTED "\"");
                v->copied = v->p;
                v->redacted++;
            }
            jv_ws(v);
            if (v->p >= v->end)
                return false;
            if (*v->p == ',') {
                v->p++;
                continue;
            }
            if (*v->p++ == '}')
                return true;
            return false;
        }
    case '[':
        v->p++;
        jv_ws(v);
        if (v->p < v->end && *v->p == ']') {
            v->p++;
            return true;
        }
        for (;;) {
            if (!jv_value(v, depth + 1))
                return false;
            jv_ws(v);
            if (v->p >= v->end)
                return false;
            if (*v->p == ',') {
                v->p++;
                continue;
            }
            if (*v->p++ == ']')
                return true;
            return false;
        }
    case '"':
        return jv_string(v);
    case 't':
        return jv_lit(v, "true");
    case 'f':
        return jv_lit(v, "false");
    case 'n':
        return jv_lit(v, "null");
    default:
        return jv_number(v);
    }
}

bool
jobdata_json_valid(const char *s, size_t n)
{
    struct jv v = {(const unsigned char *)s, (const unsigned char *)s + n, NULL, NULL, NULL, 0};
    if (!jv_value(&v, 0))
        return false;
    jv_ws(&v);
    return v.p == v.end;
}

/* Could a key matching one of the globs occur in data? Each glob's longest
 * literal run (outside [...] classes) must occur, case-insensitively; a glob
 * without one ("*") always may, and so may any data with a \u escape, as a
 * key may be spelt with them. Lets the common case skip the redaction pass. */
static bool
redact_may_match(const char *data, size_t n, const char *globs)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (data[i] == '\\' && data[i + 1] == 'u')
            return true;
    const char *p = globs;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p)
            break;
        const char *e = p + strcspn(p, ",");
        const char *best = NULL;
        size_t bestn = 0;
        for (const char *q = p; q < e;) {
            if (*q == '[') { /* a class: skip to its closing ] */
                const char *c = q + 1;
                if (c < e && (*c == '!' || *c == '^'))
                    c++;
                if (c < e && *c == ']')
                    c++;
                while (c < e && *c != ']')
                    c++;
                q = c < e ? c + 1 : e;
                continue;
            }
            size_t lit = 0;
            while (q + lit < e && !strchr("*?[] \\", q[lit]))
                lit++;
            if (lit > bestn) {
                best = q;
                bestn = lit;
            }
            q += lit ? lit : 1;
        }
        if (bestn == 0)
            return true;
        unsigned char f0 = (unsigned char)tolower((unsigned char)best[0]);
        for (size_t i = 0; i + bestn <= n; i++) {
            if ((unsigned char)tolower((unsigned char)data[i]) != f0)
                continue;
            size_t k = 1;
            while (k < bestn && tolower((unsigned char)data[i + k]) == tolower((unsigned char)best[k]))
                k++;
            if (k == bestn)
                return true;
        }
        p = e;
    }
    return false;
}

void
jobdata_prepare(const char *data, size_t n, const char *redact, size_t max, struct buf *out,
                struct jobdata_result *res)
{
    memset(res, 0, sizeof *res);
    size_t start = out->len;
    /* unchanged data is copied only up to the cap (+4 to notice the cut) */
    size_t copy = max && n > max + 4 ? max + 4 : n;
    if (!jobdata_json_valid(data, n)) {
        buf_add(out, data, copy);
    } else if (!redact || !*redact || !redact_may_match(data, n, redact)) {
        res->is_json = true;
        buf_add(out, data, copy);
    } else {
        /* one pass over the text: values of matching keys are replaced,
         * everything else is copied byte for byte */
        struct jv v = {(const unsigned char *)data, (const unsigned char *)data + n, redact, out,
                       (const unsigned char *)data, 0};
        (void)jv_value(&v, 0);
        buf_add(out, v.copied, (size_t)((const unsigned char *)data + n - v.copied));
        res->is_json = true;
        res->redacted = v.redacted;
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
    if (max == 0 || n <= max) {
        buf_add(out, s, n); /* fits: kept as written */
        return;
    }
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
    /* keep the newest entries that fit, measured as written (escapes
     * included), with the brackets and commas */
    int count = cJSON_GetArraySize(j);
    size_t budget = max > 2 ? max - 2 : 0;
    struct buf enc;
    buf_init(&enc, 0);
    int first = count;
    size_t used = 0;
    for (int i = count - 1; i >= 0; i--) {
        cJSON *e = cJSON_GetArrayItem(j, i);
        const char *v = cJSON_IsString(e) ? e->valuestring : "";
        buf_reset(&enc);
        buf_add_json_str(&enc, v, strlen(v));
        size_t sz = enc.len + (first < count ? 1 : 0);
        if (used + sz > budget)
            break;
        used += sz;
        first = i;
    }
    buf_addc(out, '[');
    if (first == count && count > 0 && budget > 2) {
        /* the newest entry alone is too long: keep its start */
        cJSON *e = cJSON_GetArrayItem(j, count - 1);
        const char *v = cJSON_IsString(e) ? e->valuestring : "";
        size_t full = strlen(v), len = full < budget ? full : budget;
        for (;;) {
            while (len > 0 && len < full && ((unsigned char)v[len] & 0xc0) == 0x80)
                len--;
            buf_reset(&enc);
            buf_add_json_str(&enc, v, len);
            if (enc.len <= budget || len == 0)
                break;
            size_t shorter = len * budget / enc.len;
            len = shorter < len ? shorter : len - 1;
        }
        buf_add(out, enc.data, enc.len);
    }
    for (int i = first; i < count; i++) {
        cJSON *e = cJSON_GetArrayItem(j, i);
        const char *v = cJSON_IsString(e) ? e->valuestring : "";
        if (i > first)
            buf_addc(out, ',');
        buf_add_json_str(out, v, strlen(v));
    }
    buf_addc(out, ']');
    buf_release(&enc);
    cJSON_Delete(j);
}

int64_t
jobdata_attempts(const char *opts, size_t n)
{
    /* BullMQ writes opts with cjson: a top-level "attempts":N. Scan for it
     * rather than building a tree for every failure. */
    static const char key[] = "\"attempts\"";
    const size_t kl = sizeof key - 1;
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = opts[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == '"') {
            size_t k = i + kl;
            while (k < n && opts[k] == ' ')
                k++;
            /* the key "attempts", not a string value spelt so */
            if (depth == 1 && n - i >= kl && memcmp(opts + i, key, kl) == 0 && k < n && opts[k] == ':') {
                k++;
                while (k < n && opts[k] == ' ')
                    k++;
                int64_t v = 0;
                bool digits = false;
                while (k < n && opts[k] >= '0' && opts[k] <= '9' && v < 1000000000) {
                    v = v * 10 + (opts[k++] - '0');
                    digits = true;
                }
                return digits && v >= 1 ? v : 1;
            }
            in_str = true;
        }
    }
    return 1;
}
