/* Job-data redaction (agent/jobdata.c jobdata_prepare) with a property
 * check: no value of a configured key survives, in any spelling.
 *  - an independent oracle: when the output is JSON (cJSON decodes every
 *    escape its own way), every key that contains a listed word (ASCII
 *    case folded) or matches the glob has "[redacted]" as its value;
 *  - a fixed point: redacting the output again changes nothing (a value
 *    the first pass missed would be caught by the second);
 *  - withheld data never carries the input's bytes, only the placeholder.
 * The first byte picks the redact list spelling (whitespace, case). */
#include <ctype.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fuzz_util.h"
#include "jobdata.h"

static const char *const lists[] = {
    "password, token, *secret*",
    " password ,\ttoken\t,\n*secret*\n",
    "PASSWORD,Token,*SECRET*",
    "\r\npassword\r\n,token,,*secret*,",
};

static bool
oracle_match(const char *k)
{
    size_t n = strlen(k);
    char *low = malloc(n + 1);
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)k[i]);
    bool hit = strstr(low, "password") || strstr(low, "token") || strstr(low, "secret");
    free(low);
    return hit;
}

static void
walk(const cJSON *j)
{
    for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(j) && c->string && oracle_match(c->string)) {
            if (!cJSON_IsString(c) || strcmp(c->valuestring, JOBDATA_REDACTED) != 0) {
                fprintf(stderr, "value of key '%s' survived\n", c->string);
                abort();
            }
            continue;
        }
        walk(c);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256 * 1024)
        return 0;
    const char *redact = lists[data[0] % 4];
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    struct buf out, again;
    struct jobdata_result r, r2;
    buf_init(&out, 0);
    buf_init(&again, 0);
    jobdata_prepare(in, n, redact, 0, &out, &r);
    const char *o = out.data ? out.data : "";
    if (r.withheld && strncmp(o, JOBDATA_WITHHELD, strlen(JOBDATA_WITHHELD)) == 0 &&
        !strstr(o, "bytes]"))
        abort();
    cJSON *j = cJSON_ParseWithLength(o, out.len);
    if (j)
        walk(j);
    cJSON_Delete(j);
    jobdata_prepare(o, out.len, redact, 0, &again, &r2);
    if (again.len != out.len || memcmp(again.data ? again.data : "", o, out.len) != 0) {
        fprintf(stderr, "not a fixed point:\n%.*s\n%.*s\n", (int)out.len, o, (int)again.len,
                again.data ? again.data : "");
        abort();
    }
    buf_release(&out);
    buf_release(&again);
    return 0;
}
