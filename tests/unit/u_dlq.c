/* dlq wrappers and strmap: pure pieces of the dead-letter code */
#include <stdio.h>
#include <string.h>

#include "dlq.h"
#include "strmap.h"
#include "unit.h"

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

START_TEST(strmap_basics)
{
    struct strmap *m = strmap_new();
    char key[32];
    int64_t v;
    const char *aux;
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof key, "q%c%d", 0, i);
        strmap_put(m, key, (size_t)n, i, i % 2 ? "odd" : NULL);
    }
    ck_assert_uint_eq(strmap_count(m), 1000);
    int n = snprintf(key, sizeof key, "q%c%d", 0, 777);
    ck_assert(strmap_get(m, key, (size_t)n, &v, &aux));
    ck_assert_int_eq(v, 777);
    ck_assert_str_eq(aux, "odd");
    ck_assert(strmap_del(m, key, (size_t)n));
    ck_assert(!strmap_get(m, key, (size_t)n, &v, &aux));
    ck_assert(!strmap_del(m, key, (size_t)n));
    ck_assert_uint_eq(strmap_count(m), 999);
    strmap_put(m, key, (size_t)n, 5, NULL); /* reuses a deleted slot */
    ck_assert(strmap_get(m, key, (size_t)n, &v, NULL));
    ck_assert_int_eq(v, 5);
    /* keys differing only after a NUL are different */
    ck_assert(!strmap_get(m, "q", 1, NULL, NULL));
    strmap_clear(m);
    ck_assert_uint_eq(strmap_count(m), 0);
    strmap_free(m);
}
END_TEST

Suite *
u_dlq_suite(void)
{
    Suite *s = suite_create("dlq");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, unpack_variants);
    tcase_add_test(tc, strmap_basics);
    suite_add_tcase(s, tc);
    return s;
}
