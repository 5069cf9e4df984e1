/* jobdata: redaction, caps, JSON validity, attempts */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "jobdata.h"
#include "unit.h"

static const char *const REDACT = "password, token, *secret*";

START_TEST(redaction)
{
    const char *in = "{\"user\":{\"Password\":\"x1\",\"apiSecretKey\":\"y2\",\"n\":[1,2]},"
                     "\"items\":[{\"token\":{\"deep\":\"z3\"}}],\"keep\":\"ok\"}";
    struct buf b;
    struct jobdata_result r;
    buf_init(&b, 0);
    jobdata_prepare(in, strlen(in), REDACT, 0, &b, &r);
    ck_assert(r.is_json);
    ck_assert_int_eq(r.redacted, 3);
    ck_assert_ptr_null(strstr(b.data, "x1"));
    ck_assert_ptr_null(strstr(b.data, "y2"));
    ck_assert_ptr_null(strstr(b.data, "z3"));
    ck_assert_ptr_nonnull(strstr(b.data, "\"keep\":\"ok\""));
    cJSON *j = cJSON_Parse(b.data);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "user"), "Password")->valuestring,
                     "[redacted]");
    cJSON_Delete(j);
    buf_release(&b);
}
END_TEST

START_TEST(kept_as_written)
{
    const char *in = "{ \"a\" : 1.50, \"b\":[true,null] }";
    struct buf b;
    struct jobdata_result r;
    buf_init(&b, 0);
    jobdata_prepare(in, strlen(in), REDACT, 0, &b, &r);
    ck_assert(r.is_json);
    ck_assert_int_eq(r.redacted, 0);
    ck_assert_str_eq(b.data, in);
    buf_reset(&b);
    jobdata_prepare("not {json", 9, REDACT, 0, &b, &r);
    ck_assert(!r.is_json);
    ck_assert_str_eq(b.data, "not {json");
    buf_reset(&b);
    jobdata_prepare("a\0b\xff", 4, REDACT, 0, &b, &r);
    ck_assert(!r.is_json);
    ck_assert_uint_eq(b.len, 4);
    buf_release(&b);
}
END_TEST

START_TEST(big_payload_capped)
{
    size_t n = 5 * 1024 * 1024;
    char *in = malloc(n + 1);
    /* {"s":"ééé...é"} : two-byte characters everywhere near the cut */
    memcpy(in, "{\"s\":\"", 6);
    size_t i = 6;
    while (i + 2 < n - 2) {
        in[i++] = '\xc3';
        in[i++] = '\xa9';
    }
    in[i++] = '"';
    in[i++] = '}';
    struct buf b;
    struct jobdata_result r;
    buf_init(&b, 0);
    jobdata_prepare(in, i, REDACT, 65537, &b, &r);
    ck_assert(r.is_json);
    ck_assert(r.truncated);
    ck_assert_uint_le(b.len, 65537);
    ck_assert_uint_ge(b.len, 65530);
    /* no split sequence: the last byte ends a character */
    ck_assert_uint_eq((unsigned char)b.data[b.len - 1], 0xa9);
    buf_release(&b);
    free(in);
}
END_TEST

START_TEST(json_validity)
{
    ck_assert(jobdata_json_valid("{}", 2));
    const char *ok = " [1, -2.5e3, \"a\\u00e9\", {\"k\":false}] ";
    ck_assert(jobdata_json_valid(ok, strlen(ok)));
    ck_assert(!jobdata_json_valid("{\"a\":}", 6));
    ck_assert(!jobdata_json_valid("[1,]", 4));
    ck_assert(!jobdata_json_valid("01", 2));
    ck_assert(!jobdata_json_valid("\"a\x01\"", 4));
    ck_assert(!jobdata_json_valid("{} {}", 5));
    ck_assert(!jobdata_json_valid("", 0));
}
END_TEST

START_TEST(stack_and_attempts)
{
    const char *st = "[\"Error: one\\n at a\",\"Error: two\\n at b\",\"Error: three\\n at c\"]";
    struct buf b;
    buf_init(&b, 0);
    jobdata_stack(st, strlen(st), 1000, &b);
    ck_assert_str_eq(b.data, st);
    buf_reset(&b);
    jobdata_stack(st, strlen(st), 40, &b);
    cJSON *j = cJSON_Parse(b.data);
    ck_assert_ptr_nonnull(j);
    ck_assert(cJSON_GetArraySize(j) >= 1);
    ck_assert_ptr_nonnull(strstr(b.data, "three"));
    ck_assert_ptr_null(strstr(b.data, "one"));
    cJSON_Delete(j);
    buf_release(&b);
    ck_assert_int_eq(jobdata_attempts("{\"attempts\":3,\"backoff\":{\"delay\":200}}", 38), 3);
    ck_assert_int_eq(jobdata_attempts("{\"backoff\":{\"attempts\":9},\"attempts\":2}", 39), 2);
    ck_assert_int_eq(jobdata_attempts("{\"attempts\":0}", 14), 1);
    ck_assert_int_eq(jobdata_attempts("{}", 2), 1);
    ck_assert_int_eq(jobdata_attempts("garbage", 7), 1);
}
END_TEST

Suite *
u_jobdata_suite(void)
{
    Suite *s = suite_create("jobdata");
    TCase *tc = tcase_create("prepare");
    tcase_add_test(tc, redaction);
    tcase_add_test(tc, kept_as_written);
    tcase_add_test(tc, big_payload_capped);
    tcase_add_test(tc, json_validity);
    tcase_add_test(tc, stack_and_attempts);
    suite_add_tcase(s, tc);
    return s;
}
