/* jobdata: see jobdata.h */
#include "jobdata.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util.h"
#include "xmem.h"

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
    bool redact;
    struct buf *out;
    const unsigned char *copied; /* input copied to out up to here */
    int redacted;
    /* lax: also what real clients write that RFC 8259 does not allow:
     * NaN, Infinity, -Infinity (Python's json.dumps, as the Python BullMQ
     * client writes it), raw control bytes inside strings, a trailing comma */
    bool lax;
};

/* ---- the redact list ---- */

/* The redact list split once (per distinct list text): items trimmed of
 * any whitespace (spaces, tabs, newlines) and lower-cased. An item without
 * glob characters is a bare word that matches anywhere in a key ("token"
 * matches "api_token", "X-Token"); an item with * ? or [ is a glob over
 * the whole key (fnmatch), so "*secret*" and "c?v" keep their meaning. */
struct pat {
    char *text;
    bool word;
    char *lit; /* longest literal run, for the quick check */
    size_t litn;
};
static struct {
    char *text;
    struct pat *p;
    int n;
} compiled;

static bool
is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* Longest run of the pattern that any matching key contains literally (as
 * written in the JSON text, apart from \u escapes): outside [...] classes,
 * without glob characters, and without the characters JSON may spell with
 * an escape other than \u (quote, backslash, slash, controls). */
static void
longest_literal(struct pat *pt)
{
    const char *p = pt->text, *e = p + strlen(p);
    pt->lit = NULL;
    pt->litn = 0;
    for (const char *q = p; q < e;) {
        if (*q == '[' && !pt->word) {
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
        while (q + lit < e && (unsigned char)q[lit] >= 0x20 &&
               !strchr(pt->word ? "\"\\/" : "*?[]\"\\/", q[lit]))
            lit++;
        if (lit > pt->litn) {
            pt->lit = (char *)q;
            pt->litn = lit;
        }
        q += lit ? lit : 1;
    }
}

static void
compile_globs(const char *globs)
{
    if (compiled.text && strcmp(compiled.text, globs) == 0)
        return;
    for (int i = 0; i < compiled.n; i++)
        free(compiled.p[i].text);
    free(compiled.p);
    free(compiled.text);
    compiled.text = xstrdup(globs);
    compiled.p = NULL;
    compiled.n = 0;
    int cap = 0;
    const char *p = globs;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *a = p, *z = p + len;
        while (a < z && isspace((unsigned char)*a))
            a++;
        while (z > a && isspace((unsigned char)z[-1]))
            z--;
        if (z > a) {
            if (compiled.n == cap) {
                cap = cap ? cap * 2 : 8;
                compiled.p = xrealloc(compiled.p, sizeof *compiled.p * (size_t)cap);
            }
            struct pat *pt = &compiled.p[compiled.n++];
            pt->text = xstrndup(a, (size_t)(z - a));
            for (char *c = pt->text; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            pt->word = !is_glob(pt->text);
            longest_literal(pt);
        }
        p += len;
        if (*p == ',')
            p++;
    }
}

static bool
contains(const char *h, size_t hn, const char *w, size_t wn)
{
    if (wn == 0)
        return true;
    for (size_t i = 0; i + wn <= hn; i++)
        if (h[i] == w[0] && !memcmp(h + i, w, wn))
            return true;
    return false;
}

bool
jobdata_key_redacted(const char *redact, const char *key, size_t n)
{
    if (!redact || !*redact)
        return false;
    compile_globs(redact);
    char small[256];
    char *low = n < sizeof small ? small : xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)key[i]);
    low[n] = '\0';
    bool hit = false;
    for (int i = 0; i < compiled.n && !hit; i++) {
        const struct pat *pt = &compiled.p[i];
        if (pt->word)
            hit = contains(low, n, pt->text, strlen(pt->text));
        else
            hit = fnmatch(pt->text, low, 0) == 0 ||
                  /* a key with a NUL (\u0000) is matched up to it by fnmatch:
                   * also try the rest so no part escapes */
                  (strlen(low) < n && fnmatch(pt->text, low + strlen(low) + 1, 0) == 0);
    }
    if (low != small)
        free(low);
    return hit;
}

static unsigned
hex4(const unsigned char *h)
{
    unsigned cp = 0;
    for (int d = 0; d < 4; d++)
        cp = cp * 16 + (unsigned)(isdigit(h[d]) ? h[d] - '0' : (tolower(h[d]) - 'a' + 10));
    return cp;
}

static void
add_utf8(struct buf *b, unsigned cp)
{
    char u[4];
    if (cp < 0x80) {
        buf_addc(b, (char)cp);
        return;
    }
    if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        buf_add(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        buf_add(b, u, 3);
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        buf_add(b, u, 4);
    }
}

/* Does the key (raw text between its quotes, any length) match the redact
 * list? JSON escapes are decoded first ("p\u0061ssword" is "password";
 * surrogate pairs become the character they stand for). */
static bool
key_matches(const char *globs, const unsigned char *k, size_t n)
{
    /* decoded, a key is never longer than as written: short keys are
     * decoded on the stack */
    char small[256];
    struct buf key;
    buf_init(&key, 0);
    if (n < sizeof small) {
        key.data = small;
        key.cap = sizeof small;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = k[i];
        if (c == '\\' && i + 1 < n) {
            c = k[++i];
            if (c == 'u' && i + 4 < n) {
                unsigned cp = hex4(k + i + 1);
                i += 4;
                if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < n && k[i + 1] == '\\' &&
                    k[i + 2] == 'u') {
                    unsigned lo = hex4(k + i + 3);
                    if (lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        i += 6;
                    }
                }
                add_utf8(&key, cp);
                continue;
            }
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c == 'r')
                c = '\r';
            else if (c == 'b')
                c = '\b';
            else if (c == 'f')
                c = '\f';
            /* else \" \\ \/ stand for themselves */
        }
        buf_addc(&key, (char)c);
    }
    bool hit = jobdata_key_redacted(globs, key.data ? key.data : "", key.len);
    if (key.data != small)
        buf_release(&key);
    return hit;
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
        if (c < 0x20 && !v->lax)
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
    if (v->lax && (size_t)(v->end - v->p) >= 8 && !memcmp(v->p, "Infinity", 8)) {
        v->p += 8;
        return true;
    }
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
            if (v->lax && v->p < v->end && *v->p == '}') { /* {"a":1,} */
                v->p++;
                return true;
            }
            if (v->p >= v->end || *v->p != '"')
                return false;
            const unsigned char *ks = v->p + 1;
            if (!jv_string(v))
                return false;
            bool redact = v->redact && key_matches(compiled.text, ks, (size_t)(v->p - 1 - ks));
            jv_ws(v);
            if (v->p >= v->end || *v->p++ != ':')
                return false;
            jv_ws(v);
            const unsigned char *vs = v->p;
            /* inside a value that is replaced as a whole, nothing more is
             * redacted: the copy position must not move past vs */
            bool outer = v->redact;
            if (redact)
                v->redact = false;
            bool ok = jv_value(v, depth + 1);
            v->redact = outer;
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
            jv_ws(v);
            if (v->lax && v->p < v->end && *v->p == ']') { /* [1,] */
                v->p++;
                return true;
            }
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
    case 'N':
        return v->lax && jv_lit(v, "NaN");
    case 'I':
        return v->lax && jv_lit(v, "Infinity");
    default:
        return jv_number(v);
    }
}

bool
jobdata_json_valid(const char *s, size_t n)
{
    struct jv v = {(const unsigned char *)s, (const unsigned char *)s + n, false, NULL, NULL, 0,
                   false};
    if (!jv_value(&v, 0))
        return false;
    jv_ws(&v);
    return v.p == v.end;
}

/* Could a key matching the redact list occur in data? Each item's longest
 * literal run must occur, case-insensitively; an item without one ("*")
 * always may, and so may any data with a \u escape, as a key may be spelt
 * with them. Lets the common case skip the redaction pass, and decides
 * whether text no parser reads may hold a redacted value. */
static bool
redact_may_match(const char *data, size_t n, const char *globs)
{
    compile_globs(globs);
    for (size_t i = 0; i + 1 < n; i++)
        if (data[i] == '\\' && data[i + 1] == 'u')
            return true;
    for (int g = 0; g < compiled.n; g++) {
        const char *best = compiled.p[g].lit;
        size_t bestn = compiled.p[g].litn;
        if (bestn == 0)
            return true;
        unsigned char f0 = (unsigned char)best[0]; /* lower-cased already */
        for (size_t i = 0; i + bestn <= n; i++) {
            if ((unsigned char)tolower((unsigned char)data[i]) != f0)
                continue;
            size_t k = 1;
            while (k < bestn && tolower((unsigned char)data[i + k]) == (unsigned char)best[k])
                k++;
            if (k == bestn)
                return true;
        }
    }
    return false;
}

static void
withhold(struct buf *out, size_t start, size_t n, const char *why, struct jobdata_result *res)
{
    out->len = start;
    if (out->data)
        out->data[start] = '\0';
    buf_addf(out, JOBDATA_WITHHELD "%s; %zu bytes]", why, n);
    res->is_json = false;
    res->withheld = true;
    res->redacted = 0;
}

void
jobdata_prepare(const char *data, size_t n, const char *redact, size_t max, struct buf *out,
                struct jobdata_result *res)
{
    memset(res, 0, sizeof *res);
    size_t start = out->len;
    size_t orig = n;
    /* a leading UTF-8 byte order mark (.NET, PowerShell, some editors) is
     * not part of the text; nor are more of them (a text re-encoded with
     * one each time), so that redacting the result again changes nothing */
    while (n >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
        data += 3;
        n -= 3;
        res->lax = true;
    }
    /* unchanged data is copied only up to the cap (+4 to notice the cut) */
    size_t copy = max && n > max + 4 ? max + 4 : n;
    bool redacting = redact && *redact;
    if (redacting)
        compile_globs(redact);
    if (jobdata_json_valid(data, n)) {
        res->is_json = true;
        if (!redacting || !redact_may_match(data, n, redact)) {
            buf_add(out, data, copy);
        } else {
            /* one pass over the text: values of matching keys are replaced,
             * everything else is copied byte for byte */
            struct jv v = {(const unsigned char *)data, (const unsigned char *)data + n, true, out,
                           (const unsigned char *)data, 0, false};
            (void)jv_value(&v, 0);
            buf_add(out, v.copied, (size_t)((const unsigned char *)data + n - v.copied));
            res->redacted = v.redacted;
        }
    } else if (!redacting || !redact_may_match(data, n, redact)) {
        /* not JSON, and no configured key can be in it: kept as text */
        buf_add(out, data, copy);
    } else {
        /* What real clients write beyond RFC 8259: NaN/Infinity, raw control
         * bytes in strings, trailing commas, more values or other bytes
         * after the value (a C client's NUL terminator, NDJSON). Each value
         * is redacted; bytes after the last one that might hold a key are
         * withheld. Text no parser reads is withheld whole: redaction fails
         * closed. */
        res->lax = true;
        struct jv v = {(const unsigned char *)data, (const unsigned char *)data + n, true, out,
                       (const unsigned char *)data, 0, true};
        int values = 0;
        const unsigned char *good = v.p;
        for (;;) {
            jv_ws(&v);
            while (v.p < v.end && *v.p == '\0') /* NUL terminators */
                v.p++, jv_ws(&v);
            good = v.p;
            if (v.p >= v.end)
                break;
            size_t mark = out->len;
            const unsigned char *copied = v.copied;
            int red = v.redacted;
            if (!jv_value(&v, 0)) {
                /* undo what this failed value staged */
                out->len = mark;
                if (out->data)
                    out->data[mark] = '\0';
                v.copied = copied;
                v.redacted = red;
                v.p = good;
                break;
            }
            values++;
        }
        if (values == 0) {
            withhold(out, start, orig, "not JSON that redaction can read, and redact is set", res);
            return;
        }
        buf_add(out, v.copied, (size_t)(good - v.copied));
        size_t rest = (size_t)(v.end - good);
        if (rest && redact_may_match((const char *)good, rest, redact)) {
            res->withheld = true;
            buf_addf(out, JOBDATA_WITHHELD "bytes after the JSON value that redaction can "
                          "not read; %zu bytes]",
                     rest);
        } else {
            buf_add(out, good, rest);
        }
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
