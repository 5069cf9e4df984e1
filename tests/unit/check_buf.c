/* buf: growth, caps, terminal-safe escaping and JSON string literals. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "suites.h"

static struct buf b;

static void
setup(void)
{
    buf_init(&b, 0);
}

static void
teardown(void)
{
    buf_release(&b);
}

static const char *
esc(const char *s, size_t n)
{
    buf_reset(&b);
    buf_add_escaped(&b, s, n);
    ck_assert_ptr_nonnull(b.data);
    return b.data;
}
#define ESC(lit) esc(lit, sizeof(lit) - 1)

#define terminal_safe(s, n) ut_utf8_valid((s), (n), true)

/* ---- basics ---- */

START_TEST(add_and_grow)
{
    buf_add(&b, "", 0);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, "");
    buf_adds(&b, "ab");
    buf_addc(&b, 'c');
    buf_add(&b, "d\0e", 3);
    ck_assert_uint_eq(b.len, 6);
    ck_assert_int_eq(memcmp(b.data, "abcd\0e", 7), 0); /* NUL-terminated too */
    buf_reset(&b);
    for (int i = 0; i < 100000; i++)
        buf_addc(&b, (char)('a' + i % 26));
    ck_assert_uint_eq(b.len, 100000);
    ck_assert_uint_eq(strlen(b.data), 100000);
    ck_assert_int_eq(b.data[99999], 'a' + 99999 % 26);
    ck_assert(!b.truncated);
}
END_TEST

START_TEST(addf_small_and_large)
{
    buf_addf(&b, "%d-%s", 42, "x");
    ck_assert_str_eq(b.data, "42-x");
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_addf(&b, "[%s]", big);
    ck_assert_uint_eq(b.len, 4 + 1 + 999 + 1);
    ck_assert_int_eq(b.data[5], 'z');
    ck_assert_int_eq(b.data[b.len - 1], ']');
}
END_TEST

START_TEST(max_truncates)
{
    struct buf m;
    buf_init(&m, 5);
    buf_adds(&m, "123");
    ck_assert(!m.truncated);
    buf_adds(&m, "456789");
    ck_assert(m.truncated);
    ck_assert_uint_eq(m.len, 5);
    ck_assert_str_eq(m.data, "12345");
    buf_addc(&m, 'x');
    buf_addf(&m, "%s", "more");
    ck_assert_str_eq(m.data, "12345");
    buf_reset(&m);
    ck_assert(!m.truncated);
    ck_assert_uint_eq(m.len, 0);
    ck_assert_str_eq(m.data, "");
    buf_addf(&m, "%0300d", 7); /* the large vsnprintf path is capped too */
    ck_assert(m.truncated);
    ck_assert_str_eq(m.data, "00000");
    buf_release(&m);
    ck_assert_ptr_null(m.data);
    ck_assert_uint_eq(m.max, 5); /* release keeps the cap */
}
END_TEST

START_TEST(detach)
{
    size_t len = 99;
    char *p = buf_detach(&b, &len);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, "");
    ck_assert_uint_eq(len, 0);
    free(p);
    buf_adds(&b, "hello");
    p = buf_detach(&b, &len);
    ck_assert_str_eq(p, "hello");
    ck_assert_uint_eq(len, 5);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    free(p);
    buf_adds(&b, "again"); /* usable after detach */
    ck_assert_str_eq(b.data, "again");
}
END_TEST

/* ---- buf_add_escaped ---- */

START_TEST(escaped_controls)
{
    ck_assert_str_eq(ESC("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
    ck_assert_str_eq(ESC("bell\x07"), "bell\\x07");
    ck_assert_str_eq(ESC("a\rb\nc\td"), "a\\rb\\nc\\td");
    ck_assert_str_eq(ESC("back\\slash"), "back\\\\slash");
    ck_assert_str_eq(ESC("del\x7f"), "del\\x7f");
    ck_assert_str_eq(ESC("nul\0!"), "nul\\x00!");
    ck_assert_str_eq(ESC("\x01\x1f"), "\\x01\\x1f");
    ck_assert_str_eq(ESC("a\x1b]0;t\x07\r\n\t\\\x7f\xff\xc2\x9b \xc3\xa9\xe6\xbc\xa2"),
                     "a\\x1b]0;t\\x07\\r\\n\\t\\\\\\x7f\\xff\\xc2\\x9b \xc3\xa9\xe6\xbc\xa2");
}
END_TEST

START_TEST(escaped_invalid_utf8_and_c1)
{
    ck_assert_str_eq(ESC("\xff"), "\\xff");
    ck_assert_str_eq(ESC("\x80"), "\\x80");                 /* lone continuation */
    ck_assert_str_eq(ESC("\xc0\xaf"), "\\xc0\\xaf");         /* overlong '/' */
    ck_assert_str_eq(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* surrogate */
    ck_assert_str_eq(ESC("x\xe6\xbc"), "x\\xe6\\xbc");       /* cut sequence */
    ck_assert_str_eq(ESC("\xf8\x88\x80\x80\x80"), "\\xf8\\x88\\x80\\x80\\x80");
    ck_assert_str_eq(ESC("\xc2\x9b" "2J"), "\\xc2\\x9b2J");  /* U+009B CSI */
    ck_assert_str_eq(ESC("\xc2\x85"), "\\xc2\\x85");         /* U+0085 NEL */
}
END_TEST

START_TEST(escaped_keeps_valid_utf8)
{
    ck_assert_str_eq(ESC("caf\xc3\xa9"), "caf\xc3\xa9");            /* é */
    ck_assert_str_eq(ESC("\xe6\xbc\xa2\xe5\xad\x97"), "\xe6\xbc\xa2\xe5\xad\x97"); /* 漢字 */
    ck_assert_str_eq(ESC("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");  /* U+1F600 */
    ck_assert_str_eq(ESC("\xc2\xa0"), "\xc2\xa0");                  /* U+00A0 is not C1 */
    ck_assert_str_eq(ESC("plain ascii 123 {}[]"), "plain ascii 123 {}[]");
}
END_TEST

START_TEST(escaped_every_byte_is_terminal_safe)
{
    unsigned char all[512];
    for (int i = 0; i < 256; i++) {
        all[2 * i] = (unsigned char)i;
        all[2 * i + 1] = (unsigned char)(0x80 + i % 64); /* continuation-looking bytes */
    }
    esc((const char *)all, sizeof all);
    ck_assert(terminal_safe((const unsigned char *)b.data, b.len));
    for (int i = 0; i < 256; i++) {
        char one = (char)i;
        esc(&one, 1);
        ck_assert_msg(terminal_safe((const unsigned char *)b.data, b.len), "byte 0x%02x -> %s", i, b.data);
    }
}
END_TEST

/* bidi controls reorder the text around them ("Trojan Source"): named by
 * their code point in the table/log policy, \u escapes in JSON */
START_TEST(escaped_bidi_controls)
{
    ck_assert_str_eq(ESC("a\xe2\x80\xae" "b"), "a\\u202eb");             /* RLO */
    ck_assert_str_eq(ESC("\xe2\x80\xaa\xe2\x80\xac"), "\\u202a\\u202c"); /* LRE PDF */
    ck_assert_str_eq(ESC("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069"); /* LRI PDI */
    ck_assert_str_eq(ESC("\xe2\x80\x8e\xe2\x80\x8f"), "\\u200e\\u200f"); /* LRM RLM */
    ck_assert_str_eq(ESC("\xd8\x9c"), "\\u061c");                       /* ALM */
    /* neighbours are ordinary text */
    ck_assert_str_eq(ESC("\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5"), "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5");
    for (uint32_t cp = 0; cp < 0x110000; cp++)
        ck_assert(utf8_cp_unsafe(cp) ==
                  (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
                   (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
                   cp == 0x200e || cp == 0x200f || cp == 0x61c));
}
END_TEST

START_TEST(json_str_bidi)
{
    static const char in[] = "evil\xe2\x80\xae txt.exe \xe2\x81\xa6\xd8\x9c\xe2\x80\x8f";
    buf_reset(&b);
    buf_add_json_str(&b, in, sizeof in - 1);
    ck_assert_str_eq(b.data, "\"evil\\u202e txt.exe \\u2066\\u061c\\u200f\"");
    cJSON *j = cJSON_Parse(b.data);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(j->valuestring, in); /* the same text once decoded */
    cJSON_Delete(j);
}
END_TEST

/* buf.h: quotes are printable and kept as they are */
START_TEST(escaped_quotes)
{
    ESC("say \"hi\" and 'bye'");
    ck_assert_str_eq(b.data, "say \"hi\" and 'bye'");
}
END_TEST

START_TEST(escaped_stops_at_cap)
{
    struct buf m;
    buf_init(&m, 8);
    buf_add_escaped(&m, "\x1b\x1b\x1b\x1b\x1b", 5);
    ck_assert(m.truncated);
    ck_assert_uint_le(m.len, 8);
    ck_assert(strncmp(m.data, "\\x1b\\x1b", 8) == 0);
    buf_release(&m);
}
END_TEST

/* ---- buf_add_json_str ---- */

static cJSON *
json_of(const char *s, size_t n)
{
    buf_reset(&b);
    buf_add_json_str(&b, s, n);
    cJSON *j = cJSON_Parse(b.data);
    ck_assert_msg(j != NULL, "not JSON: %s", b.data);
    ck_assert(cJSON_IsString(j));
    return j;
}

START_TEST(json_str_round_trip)
{
    static const char in[] = "q\"uote\\ tab\t nl\n cr\r bell\x07 esc\x1b del\x7f caf\xc3\xa9 \xe6\xbc\xa2";
    cJSON *j = json_of(in, sizeof in - 1);
    ck_assert_str_eq(j->valuestring, in);
    cJSON_Delete(j);
    ck_assert_int_eq(b.data[0], '"');
    ck_assert_int_eq(b.data[b.len - 1], '"');
    ck_assert_ptr_null(memchr(b.data, '\x1b', b.len));
    ck_assert_ptr_null(memchr(b.data, '\x07', b.len));
    ck_assert_ptr_null(memchr(b.data, '\n', b.len));
}
END_TEST

START_TEST(json_str_invalid_utf8)
{
    static const char in[] = "a\xff" "b\xc0\xaf" "c\xe6\xbc";
    cJSON *j = json_of(in, sizeof in - 1);
    /* each invalid byte is U+FFFD */
    ck_assert_str_eq(j->valuestring, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd");
    cJSON_Delete(j);
    j = json_of("\xc2\x9b", 2); /* a C1 control is escaped, not raw */
    ck_assert_str_eq(j->valuestring, "\xc2\x9b");
    cJSON_Delete(j);
    ck_assert_ptr_nonnull(strstr(b.data, "\\u009b"));
    j = json_of("a\0b", 3);
    ck_assert_ptr_nonnull(strstr(b.data, "\\u0000"));
    cJSON_Delete(j);
    j = json_of("", 0);
    ck_assert_str_eq(b.data, "\"\"");
    cJSON_Delete(j);
}
END_TEST

START_TEST(json_str_every_byte)
{
    unsigned char all[512];
    for (int i = 0; i < 256; i++) {
        all[2 * i] = (unsigned char)i;
        all[2 * i + 1] = (unsigned char)(0x80 + i % 64);
    }
    cJSON *j = json_of((const char *)all, sizeof all);
    cJSON_Delete(j);
    ck_assert(terminal_safe((const unsigned char *)b.data, b.len));
    for (int i = 1; i < 256; i++) {
        char one = (char)i;
        j = json_of(&one, 1);
        cJSON_Delete(j);
        ck_assert_msg(terminal_safe((const unsigned char *)b.data, b.len), "byte 0x%02x -> %s", i, b.data);
    }
}
END_TEST

Suite *
buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("basics");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, add_and_grow);
    tcase_add_test(tc, addf_small_and_large);
    tcase_add_test(tc, max_truncates);
    tcase_add_test(tc, detach);
    suite_add_tcase(s, tc);

    tc = tcase_create("escape");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, escaped_controls);
    tcase_add_test(tc, escaped_invalid_utf8_and_c1);
    tcase_add_test(tc, escaped_keeps_valid_utf8);
    tcase_add_test(tc, escaped_every_byte_is_terminal_safe);
    tcase_add_test(tc, escaped_quotes);
    tcase_add_test(tc, escaped_bidi_controls);
    tcase_add_test(tc, escaped_stops_at_cap);
    suite_add_tcase(s, tc);

    tc = tcase_create("json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, json_str_round_trip);
    tcase_add_test(tc, json_str_invalid_utf8);
    tcase_add_test(tc, json_str_every_byte);
    tcase_add_test(tc, json_str_bidi);
    suite_add_tcase(s, tc);
    return s;
}
