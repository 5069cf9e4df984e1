/* util: durations, sizes, bools, numbers, glob lists, stream ids, times. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "suites.h"
#include "util.h"

#define DUR_OK(s, want)                                                                            \
    do {                                                                                           \
        int64_t v_ = -12345;                                                                       \
        ck_assert_msg(parse_duration_ms(s, &v_) == 0, "'%s' rejected", s);                         \
        ck_assert_msg(v_ == (int64_t)(want), "'%s' -> %lld, want %lld", s, (long long)v_,          \
                      (long long)(want));                                                          \
    } while (0)

#define DUR_BAD(s)                                                                                 \
    do {                                                                                           \
        int64_t v_ = -12345;                                                                       \
        ck_assert_msg(parse_duration_ms(s, &v_) == -1, "'%s' accepted (%lld)", s, (long long)v_);  \
        ck_assert_int_eq(v_, -12345);                                                              \
    } while (0)

START_TEST(durations)
{
    DUR_OK("250ms", 250);
    DUR_OK("2s", 2000);
    DUR_OK("1.5s", 1500);
    DUR_OK("30m", 30 * 60000);
    DUR_OK("2h", 2 * 3600000);
    DUR_OK("30d", 30LL * 86400000);
    DUR_OK("1w", 7LL * 86400000);
    DUR_OK("5", 5000); /* bare number: seconds */
    DUR_OK("0", 0);
    DUR_OK("0.25", 250);
    DUR_OK("0ms", 0);
    DUR_OK("3650d", 3650LL * 86400000);
}
END_TEST

START_TEST(durations_rejected)
{
    DUR_BAD("");
    DUR_BAD("abc");
    DUR_BAD("-1s");
    DUR_BAD("5x");
    DUR_BAD("s");
    DUR_BAD(" 5s");
    DUR_BAD("5 s");
    DUR_BAD("5ss");
    DUR_BAD("5msx");
    DUR_BAD("1e400s");
    ck_assert_int_eq(parse_duration_ms(NULL, &(int64_t){0}), -1);
}
END_TEST

START_TEST(format_durations_exact)
{
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {{90000, "90s"}, {1500, "1500ms"}, {5400000, "90m"}, {86400000, "1d"}, {0, "0ms"}, {61001, "61001ms"}};
    char out[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        format_duration_exact(cases[i].ms, out, sizeof out);
        ck_assert_str_eq(out, cases[i].text);
        int64_t back;
        ck_assert_int_eq(parse_duration_ms(out, &back), 0);
        ck_assert_int_eq(back, cases[i].ms);
    }
}
END_TEST

START_TEST(format_durations)
{
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {250, "250ms"}, {2000, "2s"}, {1500, "1.5s"}, {30 * 60000, "30m"}, {2 * 3600000, "2h"},
        {30LL * 86400000, "30d"}, {0, "0ms"}, {-5, "0ms"},
    };
    char out[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        format_duration(cases[i].ms, out, sizeof out);
        ck_assert_str_eq(out, cases[i].text);
        int64_t back;
        if (cases[i].ms >= 0) {
            ck_assert_int_eq(parse_duration_ms(out, &back), 0);
            ck_assert_int_eq(back, cases[i].ms);
        }
    }
}
END_TEST

#define SIZE_OK(s, want)                                                                           \
    do {                                                                                           \
        int64_t v_ = -1;                                                                           \
        ck_assert_msg(parse_size(s, &v_) == 0, "'%s' rejected", s);                                \
        ck_assert_msg(v_ == (int64_t)(want), "'%s' -> %lld", s, (long long)v_);                    \
    } while (0)

START_TEST(sizes)
{
    SIZE_OK("512", 512);
    SIZE_OK("0", 0);
    SIZE_OK("64k", 65536);
    SIZE_OK("64K", 65536);
    SIZE_OK("2kb", 2048);
    SIZE_OK("10MB", 10 * 1024 * 1024);
    SIZE_OK("3m", 3 * 1024 * 1024);
    SIZE_OK("1g", 1024LL * 1024 * 1024);
    SIZE_OK("16b", 16);
    static const char *const bad[] = {"", "ten", "-1", "5x", "5 MB", "k", " 5", "5.5k",
                                      "99999999999999999999", "9999999999999g"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v;
        ck_assert_msg(parse_size(bad[i], &v) == -1, "'%s' accepted", bad[i]);
    }
}
END_TEST

START_TEST(bools)
{
    static const char *const yes[] = {"true", "TRUE", "True", "yes", "YES", "on", "On", "1"};
    static const char *const no[] = {"false", "FALSE", "no", "No", "off", "OFF", "0"};
    static const char *const bad[] = {"maybe", "", "2", "y", "n", "truee", " true", "enabled"};
    bool v;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        v = false;
        ck_assert_msg(parse_bool(yes[i], &v) == 0 && v, "'%s'", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        v = true;
        ck_assert_msg(parse_bool(no[i], &v) == 0 && !v, "'%s'", no[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse_bool(bad[i], &v) == -1, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(int64s)
{
    int64_t v;
    ck_assert_int_eq(parse_int64("42", &v), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(parse_int64("-7", &v), 0);
    ck_assert_int_eq(v, -7);
    ck_assert_int_eq(parse_int64("9223372036854775807", &v), 0);
    ck_assert_int_eq(v, INT64_MAX);
    ck_assert_int_eq(parse_int64("", &v), -1);
    ck_assert_int_eq(parse_int64("4x", &v), -1);
    ck_assert_int_eq(parse_int64("9223372036854775808", &v), -1);
    ck_assert_int_eq(parse_int64(NULL, &v), -1);
}
END_TEST

START_TEST(glob_lists)
{
    ck_assert(glob_list_match("*", "anything", false));
    ck_assert(glob_list_match("email-*, *-dlq", "email-send", false));
    ck_assert(glob_list_match("email-*, *-dlq", "orders-dlq", false));
    ck_assert(!glob_list_match("email-*, *-dlq", "orders", false));
    ck_assert(!glob_list_match("email-*, *-dlq", "my-email-x", false));
    /* spaces around commas, empty items */
    ck_assert(glob_list_match("  email-*  ,   *-dlq  ", "orders-dlq", false));
    ck_assert(glob_list_match("  email-*  ,   *-dlq  ", "email-x", false));
    ck_assert(glob_list_match(",,a,,", "a", false));
    ck_assert(glob_list_match("a,b,c", "b", false));
    ck_assert(!glob_list_match("a,b,c", "a,b", false));
    /* empty list: nothing */
    ck_assert(!glob_list_match("", "orders", false));
    ck_assert(!glob_list_match("   ", "orders", false));
    ck_assert(!glob_list_match(" , ", "", false));
    ck_assert(!glob_list_match(NULL, "orders", false));
    /* case */
    ck_assert(glob_list_match("*SECRET*", "apisecretkey", true));
    ck_assert(glob_list_match("*secret*", "apiSecretKey", true));
    ck_assert(!glob_list_match("*SECRET*", "apisecretkey", false));
    ck_assert(glob_list_match("Orders", "Orders", false));
    ck_assert(!glob_list_match("Orders", "orders", false));
    /* ? and [] */
    ck_assert(glob_list_match("q?", "q1", false));
    ck_assert(!glob_list_match("q?", "q12", false));
    ck_assert(glob_list_match("q[0-9]", "q7", false));
}
END_TEST

START_TEST(stream_ids)
{
    uint64_t ms = 1, seq = 1;
    ck_assert_int_eq(stream_id_parse("1795434786395-12", &ms, &seq), 0);
    ck_assert_uint_eq(ms, 1795434786395ULL);
    ck_assert_uint_eq(seq, 12);
    ck_assert_int_eq(stream_id_parse("0-0", &ms, &seq), 0);
    ck_assert_uint_eq(ms, 0);
    ck_assert_uint_eq(seq, 0);
    ck_assert_int_eq(stream_id_parse("1795434786395", &ms, &seq), 0); /* no sequence */
    ck_assert_uint_eq(ms, 1795434786395ULL);
    ck_assert_uint_eq(seq, 0);
    ck_assert_int_eq(stream_id_parse("18446744073709551615-18446744073709551615", &ms, &seq), 0);
    ck_assert_uint_eq(ms, UINT64_MAX);
    ck_assert_uint_eq(seq, UINT64_MAX);
    static const char *const bad[] = {"", "x-1", "1-", "-1", "1-x", "1-2-3", "1 -2", " 1-2", "1-+2",
                                      "18446744073709551616-0", "1-18446744073709551616"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(stream_id_parse(bad[i], &ms, &seq) == -1, "'%s' accepted", bad[i]);
    ck_assert_int_eq(stream_id_parse(NULL, &ms, &seq), -1);
}
END_TEST

START_TEST(stream_id_order)
{
    ck_assert_int_eq(stream_id_cmp("1-0", "1-1"), -1);
    ck_assert_int_eq(stream_id_cmp("1-1", "2-0"), -1);
    ck_assert_int_eq(stream_id_cmp("1-0", "2-0"), -1);
    ck_assert_int_eq(stream_id_cmp("2-0", "1-1"), 1);
    ck_assert_int_eq(stream_id_cmp("10-0", "9-5"), 1); /* numeric, not text */
    ck_assert_int_eq(stream_id_cmp("1-10", "1-9"), 1);
    ck_assert_int_eq(stream_id_cmp("3-3", "3-3"), 0);
    ck_assert_int_eq(stream_id_cmp("1795434786395-12", "1795434786395-12"), 0);
    ck_assert_int_eq(stream_id_cmp("1795434786395-12", "1795434786395-2"), 1);
    ck_assert_int_eq(stream_id_cmp("1795434786395-12", "1795434786396-0"), -1);
    /* invalid ids compare as 0-0 */
    ck_assert_int_eq(stream_id_cmp("junk", "0-0"), 0);
    ck_assert_int_eq(stream_id_cmp("junk", "0-1"), -1);
}
END_TEST

#define TIME_OK(s, now, want)                                                                      \
    do {                                                                                           \
        int64_t t_ = -1;                                                                           \
        ck_assert_msg(parse_time_ms(s, now, &t_) == 0, "'%s' rejected", s);                        \
        ck_assert_msg(t_ == (int64_t)(want), "'%s' -> %lld, want %lld", s, (long long)t_,          \
                      (long long)(want));                                                          \
    } while (0)

START_TEST(times)
{
    const int64_t now = 1795434786395LL;
    TIME_OK("2h", now, now - 7200000);
    TIME_OK("30m", now, now - 1800000);
    TIME_OK("1.5s", now, now - 1500);
    TIME_OK("1d", now, now - 86400000);
    TIME_OK("1795428000000", now, 1795428000000LL); /* epoch ms */
    TIME_OK("1795428000", now, 1795428000000LL);    /* epoch seconds */
    TIME_OK("2026-11-23T10:00:00Z", now, 1795428000000LL);
    TIME_OK("2026-11-23T10:00:00", now, 1795428000000LL);
    TIME_OK("2026-11-23 10:00:00", now, 1795428000000LL);
    TIME_OK("2026-11-23 10:00", now, 1795428000000LL);
    TIME_OK("2026-11-23T10:00", now, 1795428000000LL);
    TIME_OK("2026-11-23", now, 1795392000000LL);
    TIME_OK("1970-01-01T00:00:00Z", now, 0);
    static const char *const bad[] = {"yesterday", "", "2026-13-45", "2026-11-23T10:00:00+02:00",
                                      "10:00", "2026-11-23X"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t;
        ck_assert_msg(parse_time_ms(bad[i], now, &t) == -1, "'%s' accepted", bad[i]);
    }
}
END_TEST

struct named {
    int id;
    const char *name;
};

START_TEST(sorted_lookup)
{
    const char *names[] = {"a", "c", "e"};
    ck_assert_int_eq(sorted_find(names, 3, sizeof *names, 0, "a"), 0);
    ck_assert_int_eq(sorted_find(names, 3, sizeof *names, 0, "c"), 1);
    ck_assert_int_eq(sorted_find(names, 3, sizeof *names, 0, "e"), 2);
    ck_assert_int_eq(sorted_find(names, 3, sizeof *names, 0, "d"), -1);
    ck_assert_int_eq(sorted_find(names, 3, sizeof *names, 0, ""), -1);
    ck_assert_int_eq(sorted_find(names, 0, sizeof *names, 0, "a"), -1);
    static const struct named recs[] = {{1, "alpha"}, {2, "beta"}, {3, "delta"}, {4, "gamma"}};
    int i = sorted_find(recs, 4, sizeof recs[0], offsetof(struct named, name), "delta");
    ck_assert_int_eq(i, 2);
    ck_assert_int_eq(recs[i].id, 3);
    ck_assert_int_eq(sorted_find(recs, 4, sizeof recs[0], offsetof(struct named, name), "epsilon"), -1);
}
END_TEST

START_TEST(clocks)
{
    int64_t a = mono_ms(), b = mono_ms();
    ck_assert_int_ge(b, a);
    /* the wall clock is after 2020-01-01 */
    ck_assert_int_gt(now_ms(), 1577836800000LL);
}
END_TEST

Suite *
util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, durations);
    tcase_add_test(tc, durations_rejected);
    tcase_add_test(tc, format_durations);
    tcase_add_test(tc, format_durations_exact);
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, bools);
    tcase_add_test(tc, int64s);
    suite_add_tcase(s, tc);

    tc = tcase_create("match");
    tcase_add_test(tc, glob_lists);
    tcase_add_test(tc, sorted_lookup);
    suite_add_tcase(s, tc);

    tc = tcase_create("ids_and_times");
    tcase_add_test(tc, stream_ids);
    tcase_add_test(tc, stream_id_order);
    tcase_add_test(tc, times);
    tcase_add_test(tc, clocks);
    suite_add_tcase(s, tc);
    return s;
}
