/* jobdata: redaction at any depth, byte-for-byte copies, size caps at UTF-8
 * boundaries, stack trace caps, attempts from opts, the JSON checker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "jobdata.h"
#include "suites.h"

static const char *const REDACT = "password, token, *secret*";

static struct buf b;
static struct jobdata_result r;

static void
setup(void)
{
    buf_init(&b, 0);
    memset(&r, 0, sizeof r);
}

static void
teardown(void)
{
    buf_release(&b);
}

static void
prepare(const char *in, const char *redact, size_t max)
{
    buf_reset(&b);
    jobdata_prepare(in, strlen(in), redact, max, &b, &r);
}

#define utf8_valid(s, n) ut_utf8_valid((s), (n), false)

/* true when needle does not occur in h (NUL bytes included) */
static bool
memmem_ok(const char *h, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(h + i, needle, k))
            return false;
    return true;
}

/* ---- redaction ---- */

START_TEST(redaction_any_depth_any_case)
{
    const char *in = "{\"user\":{\"Password\":\"pw-Xx1\",\"apiSecretKey\":\"sk-Yy2\",\"n\":[1,2]},"
                     "\"items\":[{\"token\":\"tk-Zz3\"}],\"keep\":\"ok\"}";
    prepare(in, REDACT, 0);
    ck_assert(r.is_json);
    ck_assert(!r.truncated);
    ck_assert_int_eq(r.redacted, 3);
    ck_assert_ptr_null(strstr(b.data, "pw-Xx1"));
    ck_assert_ptr_null(strstr(b.data, "sk-Yy2"));
    ck_assert_ptr_null(strstr(b.data, "tk-Zz3"));
    ck_assert_str_eq(b.data, "{\"user\":{\"Password\":\"[redacted]\",\"apiSecretKey\":\"[redacted]\",\"n\":[1,2]},"
                             "\"items\":[{\"token\":\"[redacted]\"}],\"keep\":\"ok\"}");
    cJSON *j = cJSON_Parse(b.data);
    ck_assert_ptr_nonnull(j);
    cJSON *user = cJSON_GetObjectItemCaseSensitive(j, "user");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(user, "Password")->valuestring, JOBDATA_REDACTED);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(user, "apiSecretKey")->valuestring, JOBDATA_REDACTED);
    cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "items"), 0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(item, "token")->valuestring, JOBDATA_REDACTED);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "keep")->valuestring, "ok");
    cJSON_Delete(j);
}
END_TEST

START_TEST(redaction_of_any_value_type)
{
    prepare("{ \"token\" : {\"deep\":\"zz-9\",\"n\":[1]} , \"PASSWORD\": 12345, \"x_secret_y\":[\"a\",\"b\"],"
            "\"TOKEN\":null,\"ok\":true}",
            REDACT, 0);
    ck_assert(r.is_json);
    ck_assert_int_eq(r.redacted, 4);
    ck_assert_ptr_null(strstr(b.data, "zz-9"));
    ck_assert_ptr_null(strstr(b.data, "12345"));
    /* everything around the replaced values is kept as written */
    ck_assert_str_eq(b.data, "{ \"token\" : \"[redacted]\" , \"PASSWORD\": \"[redacted]\", "
                             "\"x_secret_y\":\"[redacted]\",\"TOKEN\":\"[redacted]\",\"ok\":true}");
    cJSON *j = cJSON_Parse(b.data);
    ck_assert_ptr_nonnull(j);
    cJSON_Delete(j);
}
END_TEST

START_TEST(redaction_matches_keys_not_values)
{
    /* a bare word matches anywhere in a key, never in a value */
    prepare("{\"note\":\"password\",\"tokens_left\":3,\"passwords\":1,\"tok\":\"token\"}", REDACT, 0);
    ck_assert(r.is_json);
    ck_assert_int_eq(r.redacted, 2);
    ck_assert_str_eq(b.data, "{\"note\":\"password\",\"tokens_left\":\"[redacted]\","
                             "\"passwords\":\"[redacted]\",\"tok\":\"token\"}");
}
END_TEST

/* issue 14: a bare word matches anywhere in the key, case-insensitively;
 * globs keep their meaning; whitespace around items never changes what
 * matches; keys of any length */
START_TEST(redaction_key_matching)
{
    static const char *const hit[] = {"token", "api_token", "X-Token", "TOKEN", "refreshTokenV2",
                                      "password", "DB_PASSWORD", "my secret", "secret", "clientSecret"};
    static const char *const miss[] = {"tok", "passwd", "user", "secre", "to ken"};
    static const char *const lists[] = {"password, token, *secret*", "password,token,*secret*",
                                        " password ,\ttoken\t, *secret*\n",
                                        "\npassword\n,\ntoken\n,\n*secret*\n",
                                        "password,\r\n token,\t\t*secret*,,"};
    for (size_t l = 0; l < sizeof lists / sizeof *lists; l++) {
        for (size_t i = 0; i < sizeof hit / sizeof *hit; i++)
            ck_assert_msg(jobdata_key_redacted(lists[l], hit[i], strlen(hit[i])), "'%s' with list %zu",
                          hit[i], l);
        for (size_t i = 0; i < sizeof miss / sizeof *miss; i++)
            ck_assert_msg(!jobdata_key_redacted(lists[l], miss[i], strlen(miss[i])), "'%s' with list %zu",
                          miss[i], l);
        char in[256];
        snprintf(in, sizeof in, "{\"X-Token\":\"v1-Aa\",\"a\":{\"api_token\":\"v2-Bb\"},\"DbSecretKey\":\"v3-Cc\"}");
        prepare(in, lists[l], 0);
        ck_assert_int_eq(r.redacted, 3);
        ck_assert_ptr_null(strstr(b.data, "v1-Aa"));
        ck_assert_ptr_null(strstr(b.data, "v2-Bb"));
        ck_assert_ptr_null(strstr(b.data, "v3-Cc"));
    }
    /* globs keep their meaning: anchored over the whole key */
    ck_assert(jobdata_key_redacted("c?v", "cvv", 3));
    ck_assert(!jobdata_key_redacted("c?v", "xcvv", 4));
    ck_assert(jobdata_key_redacted("k[a-z]", "KQ", 2));
    ck_assert(!jobdata_key_redacted("", "password", 8));
    ck_assert(!jobdata_key_redacted(NULL, "password", 8));
    /* keys of 255 bytes and more */
    for (size_t len = 250; len < 5000; len += 97) {
        struct buf in;
        buf_init(&in, 0);
        buf_adds(&in, "{\"");
        for (size_t i = 0; i < len; i++)
            buf_addc(&in, 'x');
        buf_adds(&in, "_password\":\"long-Kk9\",\"");
        for (size_t i = 0; i < len; i++)
            buf_addc(&in, 'y');
        buf_adds(&in, "\":1}");
        buf_reset(&b);
        jobdata_prepare(in.data, in.len, REDACT, 0, &b, &r);
        ck_assert_msg(strstr(b.data, "long-Kk9") == NULL, "key of %zu bytes", len + 9);
        ck_assert_int_eq(r.redacted, 1);
        ck_assert(r.is_json);
        buf_release(&in);
    }
    /* many items, long items: none dropped */
    struct buf list;
    buf_init(&list, 0);
    for (int i = 0; i < 100; i++)
        buf_addf(&list, "item%03d, ", i);
    for (int i = 0; i < 200; i++)
        buf_addc(&list, 'z');
    ck_assert(jobdata_key_redacted(list.data, "xitem099x", 9));
    char longkey[201];
    memset(longkey, 'Z', 200);
    longkey[200] = '\0';
    ck_assert(jobdata_key_redacted(list.data, longkey, 200));
    buf_release(&list);
}
END_TEST

/* What real clients write that is not strict JSON is read and redacted:
 * NaN and Infinity (Python's json.dumps, the Python BullMQ client), a
 * leading BOM, bytes after the value, raw control bytes, trailing commas,
 * \u escapes for every character, surrogate pairs */
START_TEST(redaction_lenient_spellings)
{
    static const struct {
        const char *in;
        size_t n;
    } in[] = {
#define S(x) {x, sizeof(x) - 1}
        S("{\"password\": \"nan-Pw1\", \"score\": NaN, \"hi\": Infinity, \"lo\": -Infinity}"),
        S("{\"score\": NaN, \"password\": \"nan-Pw1\"}"),
        S("\xef\xbb\xbf{\"password\":\"nan-Pw1\"}"),
        S("{\"password\":\"nan-Pw1\"}\n\ntrailing junk"),
        S("{\"password\":\"nan-Pw1\"}\0"),
        S("{\"password\":\"nan-Pw1\"} {\"token\":\"nan-Pw1\"}"),
        S("{\"password\":\"nan-Pw1\"}{\"token\":\"nan-Pw1\"}"),
        S("{\"password\":\"nan-Pw1\tline\nbreak\",}"),
        S("[{\"password\":\"nan-Pw1\"},]"),
        S("{\"\\u0070\\u0061\\u0073\\u0073\\u0077\\u006f\\u0072\\u0064\":\"nan-Pw1\"}"),
        S("{\"\\ud83d\\ude00token\":\"nan-Pw1\"}"),
        S("{\"PASS\\u0057ORD\":\"nan-Pw1\", \"x\": NaN}"),
        S("{\"a\\/b\":1,\"pass\\u0077ord\":\"nan-Pw1\"}"),
        S("\xef\xbb\xbf{\"score\":-Infinity,\"nested\":{\"Api-Token\":[\"nan-Pw1\"]}}\0\0"),
#undef S
    };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        buf_reset(&b);
        jobdata_prepare(in[i].in, in[i].n, REDACT, 0, &b, &r);
        ck_assert_msg(memmem_ok(b.data, b.len, "nan-Pw1"), "case %zu leaked: %s", i, b.data);
        ck_assert_msg(r.redacted >= 1 && !r.withheld, "case %zu: redacted %d withheld %d: %s", i,
                      r.redacted, r.withheld, b.data);
    }
    /* a BOM alone in front of strict JSON: dropped, and the rest is JSON */
    prepare("\xef\xbb\xbf{\"a\":1}", REDACT, 0);
    ck_assert(r.is_json);
    ck_assert_str_eq(b.data, "{\"a\":1}");
    /* found by fuzz_redact: two BOMs (a second pass dropped the second) */
    prepare("\xef\xbb\xbf\xef\xbb\xbf{\"a\":1}", REDACT, 0);
    ck_assert(r.is_json);
    ck_assert_str_eq(b.data, "{\"a\":1}");
    /* the NaN is kept as written, the key redacted */
    prepare("{\"score\": NaN, \"token\": \"t\"}", REDACT, 0);
    ck_assert_str_eq(b.data, "{\"score\": NaN, \"token\": \"[redacted]\"}");
    ck_assert(!r.is_json);
    ck_assert(r.lax);
    /* trailing bytes that may hold a key are withheld, others kept */
    prepare("{\"a\":1} password=hunter2", REDACT, 0);
    ck_assert_ptr_null(strstr(b.data, "hunter2"));
    ck_assert_ptr_nonnull(strstr(b.data, JOBDATA_WITHHELD));
    ck_assert_ptr_nonnull(strstr(b.data, "16 bytes"));
    ck_assert(r.withheld);
    prepare("{\"token\":1} tail", REDACT, 0);
    ck_assert_str_eq(b.data, "{\"token\":\"[redacted]\"} tail");
}
END_TEST

/* Only when redact is set and no parser reads the data: a placeholder
 * saying why and how big, never the text */
START_TEST(redaction_fails_closed)
{
    static const char *const in[] = {
        "password=hunter2&user=bob",
        "{\"password\": \"unterminated",
        "{'password': 'hunter2'}",
        "{\"password\" \"hunter2\"}",
        "TOKEN: hunter2",
        "{\"\\u0070assword\":hunter2}",
    };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        prepare(in[i], REDACT, 0);
        ck_assert_msg(strstr(b.data, "hunter2") == NULL, "case %zu leaked: %s", i, b.data);
        ck_assert(r.withheld);
        ck_assert(!r.is_json);
        ck_assert_int_eq(strncmp(b.data, JOBDATA_WITHHELD, strlen(JOBDATA_WITHHELD)), 0);
        char size[32];
        snprintf(size, sizeof size, "; %zu bytes]", strlen(in[i]));
        ck_assert_msg(strstr(b.data, size) != NULL, "%s", b.data);
    }
    /* no redact list: kept as text */
    prepare("password=hunter2", "", 0);
    ck_assert(!r.withheld);
    ck_assert_str_eq(b.data, "password=hunter2");
    /* no configured key can be in it: kept as text */
    prepare("this is {not json", REDACT, 0);
    ck_assert(!r.withheld);
    ck_assert_str_eq(b.data, "this is {not json");
    /* "*" may match anything: any unreadable text is withheld */
    prepare("this is {not json", "*", 0);
    ck_assert(r.withheld);
}
END_TEST

/* Property: every spelling of every configured key, at any depth, in
 * strict and lenient JSON; no value survives */
START_TEST(redaction_property_every_spelling)
{
    static const char *const keys[] = {
        "password", "Password", "PASSWORD", "db_password", "X-Password", "p\\u0061ssword",
        "\\u0050ASSWORD", "token", "api_token", "X-Token", "authToken", "t\\u006fken", "secret",
        "clientSecret", "SECRET_KEY", "my-secret-2", "s\\u0065cret",
    };
    static const char *const wraps[] = {"{\"%s\":%s}", "{\"a\":1,\"%s\":%s,\"b\":NaN}",
                                        "\xef\xbb\xbf[{\"x\":{\"%s\":%s}}]", "{\"%s\" : %s}\0",
                                        "{\"k\":[1,{\"%s\":%s},]} more bytes"};
    static const char *const vals[] = {"\"LEAK-1\"", "[\"LEAK-1\",2]", "{\"in\":\"LEAK-1\"}",
                                       "\"LEAK-1\\u0000\"", "\"\\u004cEAK-1\""};
    char in[512];
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        for (size_t w = 0; w < sizeof wraps / sizeof *wraps; w++)
            for (size_t v = 0; v < sizeof vals / sizeof *vals; v++) {
                int n = snprintf(in, sizeof in, wraps[w], keys[k], vals[v]);
                if (w == 3)
                    n++; /* the NUL terminator */
                buf_reset(&b);
                jobdata_prepare(in, (size_t)n, REDACT, 0, &b, &r);
                ck_assert_msg(memmem_ok(b.data, b.len, "LEAK-1") && memmem_ok(b.data, b.len, "EAK-1"),
                              "leaked: %s -> %s", in, b.data);
                ck_assert_msg(r.redacted == 1, "%s -> %d", in, r.redacted);
            }
}
END_TEST

START_TEST(redaction_other_globs)
{
    prepare("{\"card\":\"4111\",\"cvv\":\"123\",\"name\":\"bob\"}", "card, c?v", 0);
    ck_assert_int_eq(r.redacted, 2);
    ck_assert_str_eq(b.data, "{\"card\":\"[redacted]\",\"cvv\":\"[redacted]\",\"name\":\"bob\"}");
    prepare("{\"password\":\"x\"}", "", 0);
    ck_assert_int_eq(r.redacted, 0);
    ck_assert_str_eq(b.data, "{\"password\":\"x\"}");
    prepare("{\"password\":\"x\"}", NULL, 0);
    ck_assert_int_eq(r.redacted, 0);
    ck_assert_str_eq(b.data, "{\"password\":\"x\"}");
    prepare("{\"a\":1,\"b\":[2,3]}", "*", 0);
    ck_assert_int_eq(r.redacted, 2);
    ck_assert_str_eq(b.data, "{\"a\":\"[redacted]\",\"b\":\"[redacted]\"}");
}
END_TEST

/* A key spelled with a JSON escape is the same key: "p\u0061ssword" is
 * "password" and its value must be redacted. */
START_TEST(redaction_escaped_key)
{
    prepare("{\"p\\u0061ssword\":\"esc-Hunter2\"}", REDACT, 0);
    ck_assert(r.is_json);
    ck_assert_msg(strstr(b.data, "esc-Hunter2") == NULL, "escaped key not redacted: %s", b.data);
    ck_assert_int_eq(r.redacted, 1);
}
END_TEST

/* The redact list is globs (fnmatch): a bracket expression must match like
 * it does everywhere else. "k[a-z]" matches the key "kq". */
START_TEST(redaction_bracket_glob)
{
    prepare("{\"kq\":\"br-S3cret\",\"k1\":\"keep\"}", "k[a-z]", 0);
    ck_assert(r.is_json);
    ck_assert_msg(strstr(b.data, "br-S3cret") == NULL, "bracket glob not applied: %s", b.data);
    ck_assert_int_eq(r.redacted, 1);
    ck_assert_ptr_nonnull(strstr(b.data, "\"k1\":\"keep\""));
}
END_TEST

/* A matching key inside the value of a matching key: the outer value is
 * replaced as a whole. */
START_TEST(redaction_nested_matches)
{
    prepare("{\"secrets\":{\"password\":\"in-Xx\",\"token\":\"in-Yy\"},\"ok\":1}", REDACT, 0);
    ck_assert(r.is_json);
    ck_assert_ptr_null(strstr(b.data, "in-Xx"));
    ck_assert_ptr_null(strstr(b.data, "in-Yy"));
    ck_assert_ptr_nonnull(strstr(b.data, "\"ok\":1"));
    cJSON *j = cJSON_Parse(b.data);
    ck_assert_msg(j != NULL, "not JSON: %s", b.data);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "secrets")->valuestring, JOBDATA_REDACTED);
    cJSON_Delete(j);
    /* "*" matches the inner keys too */
    prepare("{\"a\":1,\"b\":{\"c\":2}}", "*", 0);
    ck_assert_str_eq(b.data, "{\"a\":\"[redacted]\",\"b\":\"[redacted]\"}");
}
END_TEST

/* ---- kept as written ---- */

START_TEST(json_kept_byte_for_byte)
{
    static const char *const in[] = {
        " { \"a\" : 1.50, \"b\":[true,null] } ",
        "{\"s\":\"\\u00e9\\n\\\"q\\\"\",\"e\":1E+2,\"z\":-0.0}",
        "[1,2,3]",
        "\"just a string\"",
        "42",
        "{\"name\":\"caf\xc3\xa9 \xe6\xbc\xa2\"}",
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        prepare(in[i], REDACT, 0);
        ck_assert_msg(r.is_json, "'%s' not seen as JSON", in[i]);
        ck_assert_int_eq(r.redacted, 0);
        ck_assert(!r.truncated);
        ck_assert_str_eq(b.data, in[i]);
        ck_assert_uint_eq(b.len, strlen(in[i]));
    }
}
END_TEST

START_TEST(non_json_kept_as_text)
{
    prepare("not {json", REDACT, 0);
    ck_assert(!r.is_json);
    ck_assert_int_eq(r.redacted, 0);
    ck_assert_str_eq(b.data, "not {json");
    prepare("{\"password\":\"x\",}", REDACT, 0); /* trailing comma: read leniently */
    ck_assert(!r.is_json);
    ck_assert_str_eq(b.data, "{\"password\":\"[redacted]\",}");
    prepare("", REDACT, 0);
    ck_assert(!r.is_json);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(binary_with_nul_bytes)
{
    static const char in[] = "a\0b\xff\x00{\"k\":1}";
    buf_reset(&b);
    jobdata_prepare(in, sizeof in - 1, REDACT, 0, &b, &r);
    ck_assert(!r.is_json);
    ck_assert(!r.truncated);
    ck_assert_uint_eq(b.len, sizeof in - 1);
    ck_assert_int_eq(memcmp(b.data, in, sizeof in - 1), 0);
    /* a NUL inside a JSON string is not JSON */
    static const char in2[] = "{\"a\":\"x\0y\"}";
    buf_reset(&b);
    jobdata_prepare(in2, sizeof in2 - 1, REDACT, 0, &b, &r);
    ck_assert(!r.is_json);
    ck_assert_uint_eq(b.len, sizeof in2 - 1);
}
END_TEST

START_TEST(appends_after_existing_content)
{
    buf_reset(&b);
    buf_adds(&b, "HEAD");
    jobdata_prepare("{\"a\":\"0123456789\"}", 18, REDACT, 8, &b, &r);
    ck_assert(r.truncated);
    ck_assert_uint_eq(b.len, 4 + 8);
    ck_assert_str_eq(b.data, "HEAD{\"a\":\"01");
}
END_TEST

/* ---- caps ---- */

/* A 5 MB JSON document {"s":"<chars>"} of `width`-byte characters. */
static char *
big_json(size_t total, const char *ch, size_t *len)
{
    size_t w = strlen(ch);
    char *in = malloc(total + 8);
    ck_assert_ptr_nonnull(in);
    memcpy(in, "{\"s\":\"", 6);
    size_t i = 6;
    while (i + w + 2 <= total) {
        memcpy(in + i, ch, w);
        i += w;
    }
    in[i++] = '"';
    in[i++] = '}';
    in[i] = '\0';
    *len = i;
    return in;
}

START_TEST(big_payload_capped_at_utf8_boundary)
{
    static const char *const chars[] = {"\xc3\xa9", "\xe6\xbc\xa2", "\xf0\x9f\x98\x80"};
    size_t len;
    for (size_t c = 0; c < 3; c++) {
        char *in = big_json(5 * 1024 * 1024, chars[c], &len);
        ck_assert(jobdata_json_valid(in, len));
        /* caps landing on every offset within a character */
        for (size_t max = 65536; max < 65536 + 4; max++) {
            buf_reset(&b);
            jobdata_prepare(in, len, REDACT, max, &b, &r);
            ck_assert(r.is_json);
            ck_assert(r.truncated);
            ck_assert_uint_le(b.len, max);
            ck_assert_uint_ge(b.len, max - 3);
            ck_assert_uint_eq(strlen(b.data), b.len);
            ck_assert_int_eq(memcmp(b.data, in, b.len), 0);
            ck_assert_msg(utf8_valid((const unsigned char *)b.data, b.len),
                          "split sequence: width %zu max %zu len %zu", strlen(chars[c]), max, b.len);
        }
        free(in);
    }
}
END_TEST

START_TEST(big_payload_capped_when_redacting)
{
    size_t len;
    char *in = big_json(5 * 1024 * 1024, "\xe6\xbc\xa2", &len);
    /* turn it into {"token":"..."} after the first key: {"t":1,"token":"x","s":"..."} */
    const char *head = "{\"t\":1,\"token\":\"tk-Qq\",";
    size_t hl = strlen(head);
    char *doc = malloc(len + hl + 1);
    ck_assert_ptr_nonnull(doc);
    memcpy(doc, head, hl);
    memcpy(doc + hl, in + 1, len - 1);
    doc[hl + len - 1] = '\0';
    free(in);
    buf_reset(&b);
    jobdata_prepare(doc, strlen(doc), REDACT, 100001, &b, &r);
    ck_assert(r.is_json);
    ck_assert(r.truncated);
    ck_assert_int_eq(r.redacted, 1);
    ck_assert_uint_le(b.len, 100001);
    ck_assert_ptr_null(strstr(b.data, "tk-Qq"));
    ck_assert(strncmp(b.data, "{\"t\":1,\"token\":\"[redacted]\",\"s\":\"", 33) == 0);
    ck_assert(utf8_valid((const unsigned char *)b.data, b.len));
    free(doc);
}
END_TEST

START_TEST(non_json_capped)
{
    size_t n = 5 * 1024 * 1024;
    char *in = malloc(n + 1);
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i + 2 <= n; i += 2)
        memcpy(in + i, "\xc3\xa9", 2);
    in[0] = '<'; /* not JSON, and the rest stays 2-byte aligned from 2 on */
    in[1] = '!';
    buf_reset(&b);
    jobdata_prepare(in, n, REDACT, 1001, &b, &r);
    ck_assert(!r.is_json);
    ck_assert(r.truncated);
    ck_assert_uint_eq(b.len, 1000);
    ck_assert(utf8_valid((const unsigned char *)b.data, b.len));
    free(in);
}
END_TEST

START_TEST(cap_not_reached)
{
    prepare("{\"a\":\"b\"}", REDACT, 9);
    ck_assert(!r.truncated);
    ck_assert_str_eq(b.data, "{\"a\":\"b\"}");
    prepare("{\"a\":\"bc\"}", REDACT, 9);
    ck_assert(r.truncated);
    ck_assert_uint_eq(b.len, 9);
}
END_TEST

START_TEST(cut_utf8)
{
    buf_reset(&b);
    buf_adds(&b, "ab\xe6\xbc\xa2" "cd");
    jobdata_cut_utf8(&b, 4); /* inside the 3-byte character */
    ck_assert_uint_eq(b.len, 2);
    ck_assert_str_eq(b.data, "ab");
    buf_reset(&b);
    buf_adds(&b, "ab\xe6\xbc\xa2" "cd");
    jobdata_cut_utf8(&b, 5); /* right after it */
    ck_assert_str_eq(b.data, "ab\xe6\xbc\xa2");
    jobdata_cut_utf8(&b, 100); /* longer than the data: unchanged */
    ck_assert_uint_eq(b.len, 5);
}
END_TEST

/* ---- JSON checker ---- */

START_TEST(json_validity)
{
    static const char *const ok[] = {
        "{}", "[]", " [1, -2.5e3, \"a\\u00e9\", {\"k\":false}] ", "null", "0", "-0.5", "\"\\/\\b\\f\"",
        "{\"a\":{\"b\":[[]]}}",
    };
    static const char *const bad[] = {
        "", "{\"a\":}", "[1,]", "01", "\"a\x01\"", "{} {}", "{'a':1}", "[1 2]", "tru", "nul", "-", "1.",
        "1e", "\"\\x\"", "\"\\u12G4\"", "{\"a\" 1}", "[", "\"open", "NaN", "{\"a\":1,}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ck_assert_msg(jobdata_json_valid(ok[i], strlen(ok[i])), "rejected %s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!jobdata_json_valid(bad[i], strlen(bad[i])), "accepted %s", bad[i]);
    /* length-bounded: the bytes after n are not looked at */
    ck_assert(jobdata_json_valid("[1]garbage", 3));
}
END_TEST

/* ---- stack traces ---- */

START_TEST(stack_fits_kept)
{
    const char *st = "[\"Error: one\\n at a\",\"Error: two\\n at b\"]";
    buf_reset(&b);
    jobdata_stack(st, strlen(st), 1000, &b);
    ck_assert_str_eq(b.data, st);
    buf_reset(&b);
    jobdata_stack(st, strlen(st), 0, &b);
    ck_assert_str_eq(b.data, st);
}
END_TEST

START_TEST(stack_keeps_newest)
{
    char st[1024] = "[";
    for (int i = 0; i < 10; i++) {
        char e[64];
        snprintf(e, sizeof e, "%s\"Error: entry-%d at f%d\"", i ? "," : "", i, i);
        strcat(st, e);
    }
    strcat(st, "]");
    for (size_t max = 40; max <= 200; max += 20) {
        buf_reset(&b);
        jobdata_stack(st, strlen(st), max, &b);
        ck_assert_msg(b.len <= max, "max %zu: %zu bytes: %s", max, b.len, b.data);
        cJSON *j = cJSON_Parse(b.data);
        ck_assert_msg(j != NULL, "max %zu: not JSON: %s", max, b.data);
        ck_assert(cJSON_IsArray(j));
        int n = cJSON_GetArraySize(j);
        ck_assert_int_ge(n, 1);
        /* a suffix of the entries: entry-(10-n) .. entry-9 */
        for (int k = 0; k < n; k++) {
            char want[64];
            snprintf(want, sizeof want, "Error: entry-%d at f%d", 10 - n + k, 10 - n + k);
            ck_assert_str_eq(cJSON_GetArrayItem(j, k)->valuestring, want);
        }
        ck_assert_ptr_null(strstr(b.data, "entry-0"));
        cJSON_Delete(j);
    }
}
END_TEST

START_TEST(stack_single_long_entry_cut)
{
    static char st[4096];
    strcpy(st, "[\"old\",\"");
    for (int i = 0; i < 1000; i++)
        strcat(st, "\xc3\xa9"); /* é */
    strcat(st, "\"]");
    buf_reset(&b);
    jobdata_stack(st, strlen(st), 101, &b);
    ck_assert_uint_le(b.len, 101);
    cJSON *j = cJSON_Parse(b.data);
    ck_assert_msg(j != NULL, "not JSON: %s", b.data);
    ck_assert_int_eq(cJSON_GetArraySize(j), 1);
    const char *v = cJSON_GetArrayItem(j, 0)->valuestring;
    ck_assert_uint_gt(strlen(v), 0);
    ck_assert(utf8_valid((const unsigned char *)v, strlen(v)));
    ck_assert_ptr_null(strstr(b.data, "old"));
    cJSON_Delete(j);
}
END_TEST

/* Real stack traces are mostly newlines and quotes, which take two bytes
 * each once JSON-escaped: the capped array must still fit in max. */
START_TEST(stack_escaped_entries_fit)
{
    static char st[8192];
    strcpy(st, "[");
    for (int i = 0; i < 3; i++) {
        strcat(st, i ? ",\"" : "\"");
        strcat(st, "Error: \\\"boom\\\"");
        for (int k = 0; k < 20; k++)
            strcat(st, "\\n    at f (/a.js:1:2)");
        strcat(st, "\"");
    }
    strcat(st, "]");
    ck_assert(jobdata_json_valid(st, strlen(st)));
    for (size_t max = 100; max <= 1600; max += 50) {
        buf_reset(&b);
        jobdata_stack(st, strlen(st), max, &b);
        ck_assert_msg(b.len <= max, "max %zu: got %zu bytes", max, b.len);
        cJSON *j = cJSON_Parse(b.data);
        ck_assert_msg(j != NULL, "not JSON: %s", b.data);
        cJSON_Delete(j);
    }
}
END_TEST

START_TEST(stack_non_json_cut)
{
    static char st[600];
    memset(st, 0, sizeof st);
    strcpy(st, "Error: plain text stack ");
    while (strlen(st) + 3 < sizeof st)
        strcat(st, "\xe6\xbc\xa2");
    buf_reset(&b);
    jobdata_stack(st, strlen(st), 100, &b);
    ck_assert_uint_le(b.len, 100);
    ck_assert_uint_ge(b.len, 98);
    ck_assert_int_eq(memcmp(b.data, st, b.len), 0);
    ck_assert(utf8_valid((const unsigned char *)b.data, b.len));
}
END_TEST

/* ---- attempts ---- */

#define ATT(s) jobdata_attempts(s, strlen(s))

START_TEST(attempts_from_opts)
{
    ck_assert_int_eq(ATT("{\"attempts\":3}"), 3);
    ck_assert_int_eq(ATT("{\"attempts\":3,\"backoff\":{\"delay\":200}}"), 3);
    ck_assert_int_eq(ATT("{\"backoff\":{\"attempts\":9},\"attempts\":2}"), 2);
    ck_assert_int_eq(ATT("{\"delay\":5, \"attempts\": 12}"), 12);
    ck_assert_int_eq(ATT("{\"attempts\":0}"), 1);
    ck_assert_int_eq(ATT("{\"attempts\":-4}"), 1);
    ck_assert_int_eq(ATT("{}"), 1);
    ck_assert_int_eq(ATT("{\"backoff\":{\"attempts\":9}}"), 1);
    ck_assert_int_eq(ATT("garbage"), 1);
    ck_assert_int_eq(ATT(""), 1);
    ck_assert_int_eq(ATT("{\"attempts\":\"3\"}"), 1);
    ck_assert_int_eq(jobdata_attempts(NULL, 0), 1);
}
END_TEST

/* The text "attempts" as a VALUE is not the attempts key. */
START_TEST(attempts_value_named_attempts)
{
    ck_assert_int_eq(ATT("{\"jobId\":\"attempts\",\"attempts\":4}"), 4);
    ck_assert_int_eq(ATT("{\"name\":\"x\\\"attempts\",\"attempts\":5}"), 5);
}
END_TEST

#undef ATT

Suite *
jobdata_suite(void)
{
    Suite *s = suite_create("jobdata");
    TCase *tc = tcase_create("redact");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, redaction_any_depth_any_case);
    tcase_add_test(tc, redaction_of_any_value_type);
    tcase_add_test(tc, redaction_matches_keys_not_values);
    tcase_add_test(tc, redaction_other_globs);
    tcase_add_test(tc, redaction_escaped_key);
    tcase_add_test(tc, redaction_bracket_glob);
    tcase_add_test(tc, redaction_nested_matches);
    tcase_add_test(tc, redaction_key_matching);
    tcase_add_test(tc, redaction_lenient_spellings);
    tcase_add_test(tc, redaction_fails_closed);
    tcase_add_test(tc, redaction_property_every_spelling);
    suite_add_tcase(s, tc);

    tc = tcase_create("kept");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, json_kept_byte_for_byte);
    tcase_add_test(tc, non_json_kept_as_text);
    tcase_add_test(tc, binary_with_nul_bytes);
    tcase_add_test(tc, appends_after_existing_content);
    tcase_add_test(tc, json_validity);
    suite_add_tcase(s, tc);

    tc = tcase_create("caps");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, big_payload_capped_at_utf8_boundary);
    tcase_add_test(tc, big_payload_capped_when_redacting);
    tcase_add_test(tc, non_json_capped);
    tcase_add_test(tc, cap_not_reached);
    tcase_add_test(tc, cut_utf8);
    suite_add_tcase(s, tc);

    tc = tcase_create("stack");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, stack_fits_kept);
    tcase_add_test(tc, stack_keeps_newest);
    tcase_add_test(tc, stack_single_long_entry_cut);
    tcase_add_test(tc, stack_escaped_entries_fit);
    tcase_add_test(tc, stack_non_json_cut);
    suite_add_tcase(s, tc);

    tc = tcase_create("attempts");
    tcase_add_test(tc, attempts_from_opts);
    tcase_add_test(tc, attempts_value_named_attempts);
    suite_add_tcase(s, tc);
    return s;
}
