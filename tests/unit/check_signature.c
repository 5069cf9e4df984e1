/* signature: the error message normaliser and its id, on literal messages. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "signature.h"
#include "suites.h"

static char out[2048];

/* Normalised form of s, copied to the static out. */
static const char *
norm(const char *s)
{
    struct buf b;
    buf_init(&b, 0);
    signature_normalise(s, strlen(s), &b);
    ck_assert_uint_le(b.len, SIGNATURE_MAX);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    buf_release(&b);
    return out;
}

/* id of the normalised form of s */
static void
id_of(const char *s, char id[SIGNATURE_ID_LEN + 1])
{
    const char *n = norm(s);
    signature_id(n, strlen(n), id);
}

#define NORM_EQ(in, want) ck_assert_str_eq(norm(in), want)

START_TEST(numbers_group)
{
    char a[SIGNATURE_ID_LEN + 1], b[SIGNATURE_ID_LEN + 1];
    NORM_EQ("timeout after 3012ms", "timeout after <n>ms");
    NORM_EQ("timeout after 98ms", "timeout after <n>ms");
    id_of("timeout after 3012ms", a);
    id_of("timeout after 98ms", b);
    ck_assert_str_eq(a, b);
    NORM_EQ("retry in 1.5 s (attempt 3/5)", "retry in <n> s (attempt <n>/<n>)");
    NORM_EQ("42", "<n>");
    NORM_EQ("job 12345678 failed", "job <n> failed");
}
END_TEST

START_TEST(uuids)
{
    NORM_EQ("user 7f3c9a2b-1d4e-4c1a-9b7e-000000000042 not found", "user <uuid> not found");
    NORM_EQ("id=7F3C9A2B-1D4E-4C1A-9B7E-00000000004A", "id=<uuid>");
}
END_TEST

START_TEST(emails)
{
    NORM_EQ("mail to bob.smith+x@mail.example.com bounced", "mail to <email> bounced");
    NORM_EQ("<alice@example.org>: mailbox full", "<<email>>: mailbox full");
}
END_TEST

START_TEST(ipv4_with_port)
{
    NORM_EQ("connect ECONNREFUSED 10.0.3.7:6379", "connect ECONNREFUSED <ip>");
    NORM_EQ("connect ECONNREFUSED 127.0.0.1", "connect ECONNREFUSED <ip>");
    char a[SIGNATURE_ID_LEN + 1], b[SIGNATURE_ID_LEN + 1];
    id_of("connect ECONNREFUSED 10.0.3.7:6379", a);
    id_of("connect ECONNREFUSED 192.168.1.20:6380", b);
    ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(ipv6)
{
    NORM_EQ("bind ::1 failed", "bind <ip> failed");
    NORM_EQ("connect to fe80::1:6379 refused", "connect to <ip> refused");
}
END_TEST

START_TEST(hex)
{
    NORM_EQ("bad pointer 0xdeadbeef", "bad pointer <hex>");
    NORM_EQ("bad pointer 0XFF00", "bad pointer <hex>");
    NORM_EQ("object 5f2b9c3e8a1d4e6f missing", "object <hex> missing");
    NORM_EQ("commit a1b2c3d4e5 gone", "commit <hex> gone");
    /* letters only, or too short: a word, not hex */
    NORM_EQ("deadbeefcafe", "deadbeefcafe");
    NORM_EQ("code ab12 here", "code ab12 here");
}
END_TEST

START_TEST(quoted_values)
{
    NORM_EQ("key 'user:42' and \"abc\" bad", "key '<v>' and \"<v>\" bad");
    NORM_EQ("unknown column `total_9` in table", "unknown column `<v>` in table");
    NORM_EQ("'x' \"y\"", "'<v>' \"<v>\"");
    /* an unclosed quote is kept */
    NORM_EQ("unterminated \"abc", "unterminated \"abc");
}
END_TEST

START_TEST(words_with_digits_kept)
{
    NORM_EQ("E11000 duplicate key", "E11000 duplicate key");
    NORM_EQ("sha256 mismatch in v2", "sha256 mismatch in v2");
    NORM_EQ("utf8 decoder", "utf8 decoder");
    NORM_EQ("HTTP2 stream reset", "HTTP2 stream reset");
}
END_TEST

START_TEST(apostrophe_is_not_a_quote)
{
    NORM_EQ("can't parse 12 items", "can't parse <n> items");
    NORM_EQ("can't open 'cfg.json'", "can't open '<v>'");
    NORM_EQ("don't retry, it's 5 o'clock", "don't retry, it's <n> o'clock");
}
END_TEST

START_TEST(whitespace_collapsed)
{
    NORM_EQ("  a\n\tb   c  ", "a b c");
    NORM_EQ("Error: boom\r\n    at f (x.js)\n", "Error: boom at f (x.js)");
    NORM_EQ("", "");
    NORM_EQ(" \n\t ", "");
}
END_TEST

START_TEST(appends_to_buffer)
{
    struct buf b;
    buf_init(&b, 0);
    buf_adds(&b, "pre|");
    signature_normalise(" take 5 ", 8, &b);
    ck_assert_str_eq(b.data, "pre|take <n>");
    buf_release(&b);
}
END_TEST

START_TEST(capped_for_long_input)
{
    static char big[10240];
    /* letters */
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_uint_le(strlen(norm(big)), SIGNATURE_MAX);
    ck_assert_uint_ge(strlen(out), SIGNATURE_MAX - 8);
    ck_assert(strspn(out, "x") == strlen(out));
    /* numbers grow on the way ("1 " -> "<n> ") */
    for (size_t i = 0; i + 1 < sizeof big; i += 2) {
        big[i] = '1';
        big[i + 1] = ' ';
    }
    big[sizeof big - 1] = '\0';
    ck_assert_uint_le(strlen(norm(big)), SIGNATURE_MAX);
    ck_assert_uint_ge(strlen(out), SIGNATURE_MAX - 8);
    ck_assert(strncmp(out, "<n> <n> ", 8) == 0);
    /* e-mails: the longest placeholder */
    big[0] = '\0';
    while (strlen(big) + 8 < sizeof big)
        strcat(big, "a@b.io ");
    ck_assert_uint_le(strlen(norm(big)), SIGNATURE_MAX);
    /* with existing content the cap applies to the appended part */
    struct buf b;
    buf_init(&b, 0);
    buf_adds(&b, "0123456789");
    signature_normalise(big, strlen(big), &b);
    ck_assert_uint_le(b.len, 10 + SIGNATURE_MAX);
    ck_assert_uint_gt(b.len, 10 + SIGNATURE_MAX - 8);
    ck_assert(memcmp(b.data, "0123456789", 10) == 0);
    buf_release(&b);
}
END_TEST

static uint64_t
fnv1a64(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

START_TEST(id_format)
{
    char id[SIGNATURE_ID_LEN + 1];
    static const char *const texts[] = {"", "timeout after <n>ms", "disk full", "x"};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        memset(id, '#', sizeof id);
        signature_id(texts[t], strlen(texts[t]), id);
        ck_assert_uint_eq(strlen(id), SIGNATURE_ID_LEN);
        ck_assert_uint_eq(strspn(id, "0123456789abcdef"), SIGNATURE_ID_LEN);
        /* 12 of the 16 hex digits of the 64-bit FNV-1a hash */
        char full[17];
        snprintf(full, sizeof full, "%016llx", (unsigned long long)fnv1a64(texts[t], strlen(texts[t])));
        ck_assert_msg(strncmp(full, id, SIGNATURE_ID_LEN) == 0 ||
                          strcmp(full + 16 - SIGNATURE_ID_LEN, id) == 0,
                      "id %s is not part of FNV-1a %s", id, full);
    }
    /* stable */
    char again[SIGNATURE_ID_LEN + 1];
    signature_id("disk full", 9, id);
    signature_id("disk full", 9, again);
    ck_assert_str_eq(id, again);
}
END_TEST

START_TEST(different_messages_different_ids)
{
    static const char *const msgs[] = {
        "disk full", "disk empty", "timeout after 5ms", "timeout before 5ms", "connect ECONNREFUSED 1.2.3.4",
        "E11000 duplicate key", "E11001 duplicate key", "can't parse 'x'", "",
    };
    enum { N = sizeof msgs / sizeof msgs[0] };
    char ids[N][SIGNATURE_ID_LEN + 1];
    for (int i = 0; i < N; i++)
        id_of(msgs[i], ids[i]);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            ck_assert_msg(strcmp(ids[i], ids[j]) != 0, "'%s' and '%s' share id %s", msgs[i], msgs[j],
                          ids[i]);
}
END_TEST

Suite *
signature_suite(void)
{
    Suite *s = suite_create("signature");
    TCase *tc = tcase_create("normalise");
    tcase_add_test(tc, numbers_group);
    tcase_add_test(tc, uuids);
    tcase_add_test(tc, emails);
    tcase_add_test(tc, ipv4_with_port);
    tcase_add_test(tc, ipv6);
    tcase_add_test(tc, hex);
    tcase_add_test(tc, quoted_values);
    tcase_add_test(tc, words_with_digits_kept);
    tcase_add_test(tc, apostrophe_is_not_a_quote);
    tcase_add_test(tc, whitespace_collapsed);
    tcase_add_test(tc, appends_to_buffer);
    tcase_add_test(tc, capped_for_long_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("id");
    tcase_add_test(tc, id_format);
    tcase_add_test(tc, different_messages_different_ids);
    suite_add_tcase(s, tc);
    return s;
}
