/* strmap: the binary-safe string -> (int64, string) hash map. */
#include <stdio.h>
#include <string.h>

#include "strmap.h"
#include "suites.h"

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
strmap_suite(void)
{
    Suite *s = suite_create("strmap");
    TCase *tc = tcase_create("map");
    tcase_add_test(tc, strmap_basics);
    suite_add_tcase(s, tc);
    return s;
}
