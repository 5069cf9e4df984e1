/* buf and util: escaping, durations, globs, stream ids, times */
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "unit.h"
#include "util.h"

START_TEST(escaping)
{
    struct buf b;
    buf_init(&b, 0);
    const char in[] = "a\x1b]0;t\x07\r\n\t\\\x7f\xff\xc2\x9b \xc3\xa9\xe6\xbc\xa2";
    buf_add_escaped(&b, in, sizeof in - 1);
    ck_assert_str_eq(b.data, "a\\x1b]0;t\\x07\\r\\n\\t\\\\\\x7f\\xff\\xc2\\x9b \xc3\xa9\xe6\xbc\xa2");
    buf_reset(&b);
    buf_add_json_str(&b, in, sizeof in - 1);
    cJSON *j = cJSON_Parse(b.data);
    ck_assert_ptr_nonnull(j);
    ck_assert(cJSON_IsString(j));
    cJSON_Delete(j);
    buf_release(&b);
    buf_init(&b, 5);
    buf_adds(&b, "123456789");
    ck_assert(b.truncated);
    ck_assert_str_eq(b.data, "12345");
    buf_release(&b);
}
END_TEST

START_TEST(durations_sizes_bools)
{
    int64_t v;
    ck_assert_int_eq(parse_duration_ms("250ms", &v), 0);
    ck_assert_int_eq(v, 250);
    ck_assert_int_eq(parse_duration_ms("1.5s", &v), 0);
    ck_assert_int_eq(v, 1500);
    ck_assert_int_eq(parse_duration_ms("5", &v), 0);
    ck_assert_int_eq(v, 5000);
    ck_assert_int_eq(parse_duration_ms("30d", &v), 0);
    ck_assert_int_eq(v, 30LL * 86400000);
    ck_assert_int_eq(parse_duration_ms("1w", &v), 0);
    ck_assert_int_eq(v, 7LL * 86400000);
    ck_assert_int_eq(parse_duration_ms("", &v), -1);
    ck_assert_int_eq(parse_duration_ms("abc", &v), -1);
    ck_assert_int_eq(parse_duration_ms("-1s", &v), -1);
    ck_assert_int_eq(parse_duration_ms("5x", &v), -1);
    ck_assert_int_eq(parse_size("64k", &v), 0);
    ck_assert_int_eq(v, 65536);
    ck_assert_int_eq(parse_size("10MB", &v), 0);
    ck_assert_int_eq(v, 10 * 1024 * 1024);
    ck_assert_int_eq(parse_size("ten", &v), -1);
    bool b;
    ck_assert_int_eq(parse_bool("yes", &b), 0);
    ck_assert(b);
    ck_assert_int_eq(parse_bool("off", &b), 0);
    ck_assert(!b);
    ck_assert_int_eq(parse_bool("maybe", &b), -1);
}
END_TEST

START_TEST(globs)
{
    ck_assert(glob_list_match("*", "anything", false));
    ck_assert(glob_list_match("email-*,  *-dlq ", "orders-dlq", false));
    ck_assert(!glob_list_match("email-*, *-dlq", "orders", false));
    ck_assert(!glob_list_match("", "orders", false));
    ck_assert(glob_list_match("*SECRET*", "apisecretkey", true));
    ck_assert(!glob_list_match("*SECRET*", "apisecretkey", false));
}
END_TEST

START_TEST(stream_ids_and_times)
{
    uint64_t ms, seq;
    ck_assert_int_eq(stream_id_parse("1795434786395-12", &ms, &seq), 0);
    ck_assert_uint_eq(ms, 1795434786395ULL);
    ck_assert_uint_eq(seq, 12);
    ck_assert_int_eq(stream_id_parse("x-1", &ms, &seq), -1);
    ck_assert_int_lt(stream_id_cmp("1-0", "1-1"), 0);
    ck_assert_int_lt(stream_id_cmp("1-1", "2-0"), 0);
    ck_assert_int_gt(stream_id_cmp("10-0", "9-5"), 0);
    ck_assert_int_eq(stream_id_cmp("3-3", "3-3"), 0);
    int64_t t;
    ck_assert_int_eq(parse_time_ms("2h", 10000000, &t), 0);
    ck_assert_int_eq(t, 10000000 - 7200000);
    ck_assert_int_eq(parse_time_ms("1795428000000", 0, &t), 0);
    ck_assert_int_eq(t, 1795428000000LL);
    ck_assert_int_eq(parse_time_ms("2026-11-23T10:00:00Z", 0, &t), 0);
    ck_assert_int_eq(t, 1795428000000LL);
    ck_assert_int_eq(parse_time_ms("2026-11-23 10:00", 0, &t), 0);
    ck_assert_int_eq(t, 1795428000000LL);
    ck_assert_int_eq(parse_time_ms("yesterday", 0, &t), -1);
    const char *names[] = {"a", "c", "e"};
    ck_assert_int_eq(sorted_find(names, 3, sizeof *names, 0, "c"), 1);
    ck_assert_int_eq(sorted_find(names, 3, sizeof *names, 0, "d"), -1);
}
END_TEST

Suite *
u_util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("util");
    tcase_add_test(tc, escaping);
    tcase_add_test(tc, durations_sizes_bools);
    tcase_add_test(tc, globs);
    tcase_add_test(tc, stream_ids_and_times);
    suite_add_tcase(s, tc);
    return s;
}
