/* dlq: unpacking dead-letter wrapper jobs (the pure part of the dead-letter
 * code; selection and scripts need Redis and are covered by tests/it). */
#include <stdio.h>
#include <string.h>

#include "dlq.h"
#include "dlq_act.h"
#include "suites.h"

START_TEST(unpack_variants)
{
    struct dlq_wrapper w;
    const char *a = "{\"originalQueue\":\"orders\",\"originalJobId\":\"42\",\"jobName\":\"charge\","
                    "\"jobData\":{\"order\":7},\"failedReason\":\"boom\",\"failedAt\":1795400000000,"
                    "\"maxAttempts\":3}";
    ck_assert_int_eq(dlq_unpack(a, strlen(a), &w), 0);
    ck_assert_str_eq(w.queue, "orders");
    ck_assert_str_eq(w.id, "42");
    ck_assert_str_eq(w.name, "charge");
    ck_assert_str_eq(w.data, "{\"order\":7}");
    ck_assert_str_eq(w.opts, "{\"attempts\":3}");
    ck_assert_str_eq(w.reason, "boom");
    ck_assert_int_eq(w.failed_at, 1795400000000LL);
    dlq_wrapper_release(&w);
    const char *b = "{\"queue\":\"emails\",\"jobId\":7,\"name\":\"send\",\"data\":[1,2],"
                    "\"opts\":{\"attempts\":5},\"error\":{\"message\":\"smtp down\"}}";
    ck_assert_int_eq(dlq_unpack(b, strlen(b), &w), 0);
    ck_assert_str_eq(w.queue, "emails");
    ck_assert_str_eq(w.id, "7");
    ck_assert_str_eq(w.data, "[1,2]");
    ck_assert_str_eq(w.opts, "{\"attempts\":5}");
    ck_assert_str_eq(w.reason, "smtp down");
    dlq_wrapper_release(&w);
    const char *c = "{\"originalQueue\":\"a:b\",\"jobData\":{}}";
    ck_assert_int_eq(dlq_unpack(c, strlen(c), &w), -1); /* not a queue name */
    dlq_wrapper_release(&w);
    ck_assert_int_eq(dlq_unpack("{\"x\":1}", 7, &w), -1);
    dlq_wrapper_release(&w);
    ck_assert_int_eq(dlq_unpack("not json", 8, &w), -1);
    dlq_wrapper_release(&w);
    const char *d = "{\"originalQueue\":\"q\"}";
    ck_assert_int_eq(dlq_unpack(d, strlen(d), &w), 0);
    ck_assert_str_eq(w.name, "replayed");
    ck_assert_str_eq(w.data, "{}");
    ck_assert_str_eq(w.opts, "{\"attempts\":0}");
    dlq_wrapper_release(&w);
}
END_TEST

/* issue 12 item 5, found by fuzzing: a float-to-integer conversion out of
 * range is undefined; out-of-range numbers read as "not given" */
START_TEST(unpack_out_of_range_numbers)
{
    static const struct {
        const char *in;
        const char *opts;
        long long at;
    } cases[] = {
        {"{\"originalQueue\":\"q\",\"maxAttempts\": 6666666660}", "{\"attempts\":0}", 0},
        {"{\"originalQueue\":\"q\",\"maxAttempts\": 1e100}", "{\"attempts\":0}", 0},
        {"{\"originalQueue\":\"q\",\"maxAttempts\": -1e100}", "{\"attempts\":0}", 0},
        {"{\"originalQueue\":\"q\",\"maxAttempts\": 2147483647}", "{\"attempts\":2147483647}", 0},
        {"{\"originalQueue\":\"q\",\"maxAttempts\": 2147483648}", "{\"attempts\":0}", 0},
        {"{\"originalQueue\":\"q\",\"maxAttempts\": 0.5}", "{\"attempts\":0}", 0},
        {"{\"originalQueue\":\"q\",\"failedAt\": 1e100}", "{\"attempts\":0}", 0},
        {"{\"originalQueue\":\"q\",\"failedAt\": -1e100}", "{\"attempts\":0}", 0},
        {"{\"originalQueue\":\"q\",\"failedAt\": 1e19}", "{\"attempts\":0}", 0},
        {"{\"originalQueue\":\"q\",\"timestamp\": 9.3e18}", "{\"attempts\":0}", 0},
        {"{\"originalQueue\":\"q\",\"failedAt\": 1795400000000.7}", "{\"attempts\":0}", 1795400000000LL},
        {"{\"originalQueue\":\"q\",\"jobId\": 1e300, \"failedAt\": 253402300799999}", "{\"attempts\":0}",
         253402300799999LL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct dlq_wrapper w;
        ck_assert_int_eq(dlq_unpack(cases[i].in, strlen(cases[i].in), &w), 0);
        ck_assert_str_eq(w.opts, cases[i].opts);
        ck_assert_int_eq(w.failed_at, cases[i].at);
        dlq_wrapper_release(&w);
    }
}
END_TEST

START_TEST(progress_line)
{
    char b[256];
    /* 30 of 120 after 1.5 s: 25%, 20 a second, 4.5 s left (rounded up) */
    dlq_progress_line(b, sizeof b, DLQ_PURGE, 30, 120, 1500, 79);
    ck_assert_str_eq(b, "purging [##########------------------------------]  25% 30/120 20/s 5s left");
    ck_assert_int_le((int)strlen(b), 79);
    /* no rate before 200 ms; narrow: no bar */
    dlq_progress_line(b, sizeof b, DLQ_REPLAY, 1, 3, 10, 30);
    ck_assert_str_eq(b, "replaying  33% 1/3");
    /* never past the frozen count, never a division by zero */
    dlq_progress_line(b, sizeof b, DLQ_REPLAY, 9, 0, 1000, 60);
    ck_assert_str_eq(b, "replaying [###################################] 100% 1/1 1/s");
    /* under a second to go */
    dlq_progress_line(b, sizeof b, DLQ_PURGE, 950, 1000, 1000, 30);
    ck_assert_str_eq(b, "purging  95% 950/1000 950/s <1s left");
    dlq_progress_line(b, sizeof b, DLQ_PURGE, 0, 50, 5000, 60);
    ck_assert_str_eq(b, "purging [----------------------------------------]   0% 0/50");
}
END_TEST

Suite *
dlq_suite(void)
{
    Suite *s = suite_create("dlq");
    TCase *tc = tcase_create("unpack");
    tcase_add_test(tc, unpack_variants);
    tcase_add_test(tc, unpack_out_of_range_numbers);
    tcase_add_test(tc, progress_line);
    suite_add_tcase(s, tc);
    return s;
}
