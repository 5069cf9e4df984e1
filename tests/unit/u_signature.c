/* signature: the error message normaliser, with literal messages */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "signature.h"
#include "unit.h"

static char out[1024];

static const char *
norm(const char *s)
{
    struct buf b;
    buf_init(&b, 0);
    signature_normalise(s, strlen(s), &b);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    buf_release(&b);
    return out;
}

START_TEST(numbers_group)
{
    char a[SIGNATURE_ID_LEN + 1], b[SIGNATURE_ID_LEN + 1];
    ck_assert_str_eq(norm("timeout after 3012ms"), "timeout after <n>ms");
    signature_id(out, strlen(out), a);
    ck_assert_str_eq(norm("timeout after 98ms"), "timeout after <n>ms");
    signature_id(out, strlen(out), b);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(strlen(a), SIGNATURE_ID_LEN);
    ck_assert_str_eq(norm("retry in 1.5 s (attempt 3/5)"), "retry in <n> s (attempt <n>/<n>)");
}
END_TEST

START_TEST(placeholders)
{
    ck_assert_str_eq(norm("user 7f3c9a2b-1d4e-4c1a-9b7e-000000000042 not found"),
                     "user <uuid> not found");
    ck_assert_str_eq(norm("mail to bob.smith+x@mail.example.com bounced"), "mail to <email> bounced");
    ck_assert_str_eq(norm("connect ECONNREFUSED 10.0.3.7:6379"), "connect ECONNREFUSED <ip>");
    ck_assert_str_eq(norm("bind ::1 failed"), "bind <ip> failed");
    ck_assert_str_eq(norm("bad pointer 0xdeadbeef"), "bad pointer <hex>");
    ck_assert_str_eq(norm("object 5f2b9c3e8a1d4e6f missing"), "object <hex> missing");
    ck_assert_str_eq(norm("key 'user:42' and \"abc\" bad"), "key '<v>' and \"<v>\" bad");
}
END_TEST

START_TEST(words_kept)
{
    ck_assert_str_eq(norm("E11000 duplicate key"), "E11000 duplicate key");
    ck_assert_str_eq(norm("sha256 mismatch in v2"), "sha256 mismatch in v2");
    ck_assert_str_eq(norm("can't parse 12 items"), "can't parse <n> items");
    ck_assert_str_eq(norm("  a\n\tb   c  "), "a b c");
}
END_TEST

START_TEST(capped_and_distinct)
{
    char big[10000], a[SIGNATURE_ID_LEN + 1], b[SIGNATURE_ID_LEN + 1];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_uint_le(strlen(norm(big)), SIGNATURE_MAX);
    norm("disk full");
    signature_id(out, strlen(out), a);
    norm("disk empty");
    signature_id(out, strlen(out), b);
    ck_assert_str_ne(a, b);
}
END_TEST

Suite *
u_signature_suite(void)
{
    Suite *s = suite_create("signature");
    TCase *tc = tcase_create("normalise");
    tcase_add_test(tc, numbers_group);
    tcase_add_test(tc, placeholders);
    tcase_add_test(tc, words_kept);
    tcase_add_test(tc, capped_and_distinct);
    suite_add_tcase(s, tc);
    return s;
}
