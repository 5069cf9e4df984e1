/* event: BullMQ stream entries decoded from RESP bytes fed to a hiredis
 * reader (the same replies XREAD gives the ingest loop). */
#include <string.h>

#include <hiredis/hiredis.h>

#include "bmq.h"
#include "event.h"
#include "suites.h"

static struct bmq_event ev;
static char err[128];

static int
decode(const redisReply *e)
{
    err[0] = '\0';
    return event_decode(e, &ev, err, sizeof err);
}

START_TEST(failed_with_reason_and_prev)
{
    redisReply *e = RESP("*2\r\n$15\r\n1795434786984-3\r\n*8\r\n"
                         "$5\r\nevent\r\n$6\r\nfailed\r\n"
                         "$5\r\njobId\r\n$2\r\n17\r\n"
                         "$12\r\nfailedReason\r\n$13\r\nboom: timeout\r\n"
                         "$4\r\nprev\r\n$6\r\nactive\r\n");
    ck_assert_int_eq(decode(e), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_FAILED);
    ck_assert(bstr_eq(ev.name, "failed"));
    ck_assert(bstr_eq(ev.id, "1795434786984-3"));
    ck_assert_uint_eq(ev.id_ms, 1795434786984ULL);
    ck_assert(bstr_eq(ev.job_id, "17"));
    ck_assert(bstr_eq(ev.failed_reason, "boom: timeout"));
    ck_assert_uint_eq(ev.failed_reason.n, 13);
    ck_assert(bstr_eq(ev.prev, "active"));
    /* absent fields stay absent */
    ck_assert_ptr_null(ev.job_name.p);
    ck_assert_ptr_null(ev.delay.p);
    ck_assert_ptr_null(ev.attempts_made.p);
    /* the values borrow from the reply */
    ck_assert_ptr_eq(ev.job_id.p, e->element[1]->element[3]->str);
    freeReplyObject(e);
}
END_TEST

START_TEST(added_with_name)
{
    redisReply *e = RESP("*2\r\n$3\r\n7-0\r\n*6\r\n$5\r\nevent\r\n$5\r\nadded\r\n"
                         "$5\r\njobId\r\n$3\r\n101\r\n$4\r\nname\r\n$6\r\ncharge\r\n");
    ck_assert_int_eq(decode(e), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_ADDED);
    ck_assert(bstr_eq(ev.job_id, "101"));
    ck_assert(bstr_eq(ev.job_name, "charge"));
    ck_assert_uint_eq(ev.id_ms, 7);
    freeReplyObject(e);
}
END_TEST

START_TEST(retries_exhausted_attempts)
{
    redisReply *e = RESP("*2\r\n$3\r\n1-1\r\n*6\r\n$5\r\nevent\r\n$17\r\nretries-exhausted\r\n"
                         "$5\r\njobId\r\n$1\r\n5\r\n$12\r\nattemptsMade\r\n$1\r\n3\r\n");
    ck_assert_int_eq(decode(e), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_RETRIES_EXHAUSTED);
    ck_assert(bstr_eq(ev.job_id, "5"));
    ck_assert(bstr_eq(ev.attempts_made, "3"));
    freeReplyObject(e);
}
END_TEST

START_TEST(delayed_delay)
{
    redisReply *e = RESP("*2\r\n$3\r\n1-4\r\n*6\r\n$5\r\nevent\r\n$7\r\ndelayed\r\n$5\r\njobId\r\n$1\r\n9\r\n"
                         "$5\r\ndelay\r\n$13\r\n1795434786609\r\n");
    ck_assert_int_eq(decode(e), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_DELAYED);
    ck_assert(bstr_eq(ev.job_id, "9"));
    ck_assert(bstr_eq(ev.delay, "1795434786609"));
    freeReplyObject(e);
}
END_TEST

START_TEST(cleaned_count)
{
    redisReply *e = RESP("*2\r\n$3\r\n2-0\r\n*4\r\n$5\r\nevent\r\n$7\r\ncleaned\r\n$5\r\ncount\r\n$2\r\n42\r\n");
    ck_assert_int_eq(decode(e), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_CLEANED);
    ck_assert(bstr_eq(ev.count, "42"));
    ck_assert_ptr_null(ev.job_id.p);
    freeReplyObject(e);
}
END_TEST

START_TEST(drained_without_job_id)
{
    redisReply *e = RESP("*2\r\n$3\r\n1-2\r\n*2\r\n$5\r\nevent\r\n$7\r\ndrained\r\n");
    ck_assert_int_eq(decode(e), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_DRAINED);
    ck_assert_ptr_null(ev.job_id.p);
    freeReplyObject(e);
}
END_TEST

START_TEST(unknown_event_is_custom)
{
    redisReply *e = RESP("*2\r\n$3\r\n1-3\r\n*4\r\n$5\r\nevent\r\n$6\r\nmy-evt\r\n$3\r\nfoo\r\n$3\r\nbar\r\n");
    ck_assert_int_eq(decode(e), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_CUSTOM);
    ck_assert(bstr_eq(ev.name, "my-evt"));
    freeReplyObject(e);
    /* a known name's prefix is not the known event */
    e = RESP("*2\r\n$3\r\n1-5\r\n*2\r\n$5\r\nevent\r\n$4\r\nfail\r\n");
    ck_assert_int_eq(decode(e), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_CUSTOM);
    freeReplyObject(e);
}
END_TEST

START_TEST(missing_event_field)
{
    redisReply *e = RESP("*2\r\n$3\r\n1-0\r\n*2\r\n$5\r\njobId\r\n$1\r\n1\r\n");
    ck_assert_int_eq(decode(e), -1);
    ck_assert_str_eq(err, "no 'event' field");
    ck_assert(bstr_eq(ev.id, "1-0")); /* the id was readable */
    freeReplyObject(e);
}
END_TEST

START_TEST(failed_without_job_id)
{
    redisReply *e = RESP("*2\r\n$3\r\n1-0\r\n*4\r\n$5\r\nevent\r\n$6\r\nfailed\r\n"
                         "$12\r\nfailedReason\r\n$4\r\nboom\r\n");
    ck_assert_int_eq(decode(e), -1);
    ck_assert_str_eq(err, "'failed' event without jobId");
    freeReplyObject(e);
    /* an empty jobId is no jobId */
    e = RESP("*2\r\n$3\r\n1-0\r\n*4\r\n$5\r\nevent\r\n$6\r\nfailed\r\n$5\r\njobId\r\n$0\r\n\r\n");
    ck_assert_int_eq(decode(e), -1);
    ck_assert_ptr_nonnull(strstr(err, "without jobId"));
    freeReplyObject(e);
}
END_TEST

START_TEST(odd_number_of_fields)
{
    redisReply *e = RESP("*2\r\n$3\r\n1-0\r\n*3\r\n$5\r\nevent\r\n$6\r\nfailed\r\n$5\r\njobId\r\n");
    ck_assert_int_eq(decode(e), -1);
    ck_assert_str_ne(err, "");
    freeReplyObject(e);
}
END_TEST

START_TEST(not_an_entry)
{
    redisReply *e = RESP("$5\r\nhello\r\n");
    ck_assert_int_eq(decode(e), -1);
    ck_assert_str_ne(err, "");
    freeReplyObject(e);
    e = RESP("*3\r\n$3\r\n1-0\r\n*0\r\n*0\r\n"); /* three elements */
    ck_assert_int_eq(decode(e), -1);
    freeReplyObject(e);
    e = RESP(":5\r\n");
    ck_assert_int_eq(decode(e), -1);
    freeReplyObject(e);
    e = RESP("*2\r\n:1\r\n*2\r\n$5\r\nevent\r\n$7\r\ndrained\r\n"); /* id not a string */
    ck_assert_int_eq(decode(e), -1);
    freeReplyObject(e);
    e = RESP("*2\r\n$3\r\n1-0\r\n$5\r\nfield\r\n"); /* fields not an array */
    ck_assert_int_eq(decode(e), -1);
    freeReplyObject(e);
    e = RESP("*2\r\n$3\r\n1-0\r\n*-1\r\n"); /* deleted entry */
    ck_assert_int_eq(decode(e), -1);
    freeReplyObject(e);
    ck_assert_int_eq(decode(NULL), -1);
}
END_TEST

START_TEST(bad_stream_id)
{
    static const char *const raw[] = {
        "*2\r\n$5\r\nnot-a\r\n*2\r\n$5\r\nevent\r\n$7\r\ndrained\r\n",
        "*2\r\n$2\r\n1-\r\n*2\r\n$5\r\nevent\r\n$7\r\ndrained\r\n",
        "*2\r\n$3\r\n-10\r\n*2\r\n$5\r\nevent\r\n$7\r\ndrained\r\n",
        "*2\r\n$4\r\n1-0x\r\n*2\r\n$5\r\nevent\r\n$7\r\ndrained\r\n",
        "*2\r\n$0\r\n\r\n*2\r\n$5\r\nevent\r\n$7\r\ndrained\r\n",
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        redisReply *e = ut_resp(raw[i], strlen(raw[i]));
        ck_assert_msg(decode(e) == -1, "case %zu accepted", i);
        ck_assert_str_eq(err, "bad stream id");
        freeReplyObject(e);
    }
}
END_TEST

START_TEST(binary_values_keep_length)
{
    static const char raw[] = "*2\r\n$3\r\n5-0\r\n*6\r\n$5\r\nevent\r\n$6\r\nfailed\r\n"
                              "$5\r\njobId\r\n$2\r\n\xff\x00\r\n"
                              "$12\r\nfailedReason\r\n$9\r\na\x00\x1b[31mb\x00\r\n";
    redisReply *e = ut_resp(raw, sizeof raw - 1);
    ck_assert_int_eq(decode(e), 0);
    ck_assert_uint_eq(ev.job_id.n, 2);
    ck_assert_int_eq(memcmp(ev.job_id.p, "\xff\x00", 2), 0);
    ck_assert_uint_eq(ev.failed_reason.n, 9);
    ck_assert_int_eq(memcmp(ev.failed_reason.p, "a\0\x1b[31mb\0", 9), 0);
    ck_assert(!bstr_eq(ev.failed_reason, "a")); /* not cut at the NUL */
    freeReplyObject(e);
}
END_TEST

START_TEST(non_string_fields_ignored)
{
    /* an integer value where a string is expected is skipped, not read */
    redisReply *e = RESP("*2\r\n$3\r\n1-0\r\n*6\r\n$5\r\nevent\r\n$6\r\nfailed\r\n"
                         "$5\r\njobId\r\n:7\r\n$5\r\njobId\r\n$1\r\n8\r\n");
    ck_assert_int_eq(decode(e), 0);
    ck_assert(bstr_eq(ev.job_id, "8"));
    freeReplyObject(e);
}
END_TEST

START_TEST(bstr_eq_contract)
{
    struct bstr a = {"abc", 3}, b = {"abcd", 3}, z = {NULL, 0}, e = {"", 0};
    ck_assert(bstr_eq(a, "abc"));
    ck_assert(bstr_eq(b, "abc"));
    ck_assert(!bstr_eq(a, "ab"));
    ck_assert(!bstr_eq(a, "abcd"));
    ck_assert(!bstr_eq(z, ""));
    ck_assert(bstr_eq(e, ""));
}
END_TEST

Suite *
event_suite(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, failed_with_reason_and_prev);
    tcase_add_test(tc, added_with_name);
    tcase_add_test(tc, retries_exhausted_attempts);
    tcase_add_test(tc, delayed_delay);
    tcase_add_test(tc, cleaned_count);
    tcase_add_test(tc, drained_without_job_id);
    tcase_add_test(tc, unknown_event_is_custom);
    tcase_add_test(tc, binary_values_keep_length);
    tcase_add_test(tc, non_string_fields_ignored);
    tcase_add_test(tc, bstr_eq_contract);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_test(tc, missing_event_field);
    tcase_add_test(tc, failed_without_job_id);
    tcase_add_test(tc, odd_number_of_fields);
    tcase_add_test(tc, not_an_entry);
    tcase_add_test(tc, bad_stream_id);
    suite_add_tcase(s, tc);
    return s;
}
