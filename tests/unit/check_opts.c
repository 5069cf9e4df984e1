/* opts: the one option parser of every command (literal argv arrays). */
#include <string.h>

#include "opts.h"
#include "suites.h"

struct got {
    int json, limit_set;
    const char *limit, *name;
};

static int
on(void *ud, int id, const char *v)
{
    struct got *g = ud;
    if (id == 0)
        g->json++;
    else if (id == 1) {
        g->limit = v;
        g->limit_set++;
    } else if (id == 2) {
        g->name = v;
    }
    return 0;
}

static const struct opt tab[] = {
    {"json", false, 0}, {"limit", true, 1}, {"name", true, 2}, {NULL, false, 0}};

START_TEST(opts_positionals_anywhere_and_both_spellings)
{
    char *argv[] = {(char *)"list", (char *)"payments", (char *)"--limit=5", (char *)"-c",
                    (char *)"a.ini", (char *)"--json", (char *)"extra", (char *)"--name",
                    (char *)"x=y", NULL};
    char *pos[10];
    int npos;
    const char *cfg = NULL;
    struct got g = {0};
    ck_assert_int_eq(opts_parse("dlq", 9, argv, tab, on, &g, &cfg, pos, &npos), 0);
    ck_assert_int_eq(npos, 2);
    ck_assert_str_eq(pos[0], "payments");
    ck_assert_str_eq(pos[1], "extra");
    ck_assert_str_eq(g.limit, "5");
    ck_assert_str_eq(g.name, "x=y");
    ck_assert_int_eq(g.json, 1);
    ck_assert_str_eq(cfg, "a.ini");
}
END_TEST

START_TEST(opts_double_dash_ends_options)
{
    char *argv[] = {(char *)"purge", (char *)"q", (char *)"--", (char *)"--json",
                    (char *)"-weird-id", NULL};
    char *pos[10];
    int npos;
    struct got g = {0};
    ck_assert_int_eq(opts_parse("dlq", 5, argv, tab, on, &g, NULL, pos, &npos), 0);
    ck_assert_int_eq(npos, 3);
    ck_assert_str_eq(pos[1], "--json"); /* a job id, not a flag */
    ck_assert_str_eq(pos[2], "-weird-id");
    ck_assert_int_eq(g.json, 0);
}
END_TEST

START_TEST(opts_refuses_what_it_does_not_know)
{
    char *pos[10];
    int npos;
    struct got g = {0};
    char *a1[] = {(char *)"status", (char *)"--jsn", NULL};
    ck_assert_int_eq(opts_parse("status", 2, a1, tab, on, &g, NULL, pos, &npos), -1);
    char *a2[] = {(char *)"status", (char *)"--limit", NULL};
    ck_assert_int_eq(opts_parse("status", 2, a2, tab, on, &g, NULL, pos, &npos), -1);
    char *a3[] = {(char *)"status", (char *)"--json=yes", NULL};
    ck_assert_int_eq(opts_parse("status", 2, a3, tab, on, &g, NULL, pos, &npos), -1);
    char *a4[] = {(char *)"status", (char *)"-c", (char *)"x", NULL};
    ck_assert_int_eq(opts_parse("status", 3, a4, tab, on, &g, NULL, pos, &npos), -1); /* no -c */
    /* parsing twice starts afresh */
    char *a5[] = {(char *)"status", (char *)"--json", NULL};
    ck_assert_int_eq(opts_parse("status", 2, a5, tab, on, &g, NULL, pos, &npos), 0);
    ck_assert_int_eq(opts_parse("status", 2, a5, tab, on, &g, NULL, pos, &npos), 0);
    ck_assert_int_eq(g.json, 2);
}
END_TEST

Suite *
opts_suite(void)
{
    Suite *s = suite_create("opts");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, opts_positionals_anywhere_and_both_spellings);
    tcase_add_test(tc, opts_double_dash_ends_options);
    tcase_add_test(tc, opts_refuses_what_it_does_not_know);
    suite_add_tcase(s, tc);
    return s;
}
