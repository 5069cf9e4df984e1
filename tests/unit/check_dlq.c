/* dlq: unpacking dead-letter wrapper jobs (the pure part of the dead-letter
 * code; selection and scripts need Redis and are covered by tests/it). */
#include <stdio.h>
#include <string.h>

#include "dlq.h"
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

Suite *
dlq_suite(void)
{
    Suite *s = suite_create("dlq");
    TCase *tc = tcase_create("unpack");
    tcase_add_test(tc, unpack_variants);
    suite_add_tcase(s, tc);
    return s;
}
