/* event: stream entries decoded from RESP bytes through a hiredis reader */
#include <string.h>

#include <hiredis/hiredis.h>

#include "bmq.h"
#include "event.h"
#include "unit.h"

static redisReply *
resp(const char *bytes, size_t n)
{
    redisReader *r = redisReaderCreate();
    void *reply = NULL;
    redisReaderFeed(r, bytes, n);
    ck_assert_int_eq(redisReaderGetReply(r, &reply), REDIS_OK);
    ck_assert_ptr_nonnull(reply);
    redisReaderFree(r);
    return reply;
}
#define RESP(lit) resp(lit, sizeof(lit) - 1)

START_TEST(failed_entry)
{
    redisReply *e = RESP("*2\r\n$15\r\n1795434786984-0\r\n*6\r\n$5\r\nevent\r\n$6\r\nfailed\r\n"
                         "$5\r\njobId\r\n$1\r\n1\r\n$12\r\nfailedReason\r\n$6\r\nboom 2\r\n");
    struct bmq_event ev;
    char err[128];
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_FAILED);
    ck_assert(bstr_eq(ev.job_id, "1"));
    ck_assert(bstr_eq(ev.failed_reason, "boom 2"));
    ck_assert_uint_eq(ev.id_ms, 1795434786984ULL);
    freeReplyObject(e);
}
END_TEST

START_TEST(other_events)
{
    struct bmq_event ev;
    char err[128];
    redisReply *e = RESP("*2\r\n$3\r\n1-1\r\n*4\r\n$5\r\nevent\r\n$17\r\nretries-exhausted\r\n"
                         "$12\r\nattemptsMade\r\n$1\r\n3\r\n");
    /* retries-exhausted needs a jobId */
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), -1);
    freeReplyObject(e);
    e = RESP("*2\r\n$3\r\n1-2\r\n*2\r\n$5\r\nevent\r\n$7\r\ndrained\r\n");
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_DRAINED);
    freeReplyObject(e);
    e = RESP("*2\r\n$3\r\n1-3\r\n*4\r\n$5\r\nevent\r\n$6\r\nmy-evt\r\n$3\r\nfoo\r\n$3\r\nbar\r\n");
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_CUSTOM);
    ck_assert(bstr_eq(ev.name, "my-evt"));
    freeReplyObject(e);
    e = RESP("*2\r\n$3\r\n1-4\r\n*6\r\n$5\r\nevent\r\n$7\r\ndelayed\r\n$5\r\njobId\r\n$1\r\n9\r\n"
             "$5\r\ndelay\r\n$13\r\n1795434786609\r\n");
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), 0);
    ck_assert_int_eq(ev.type, BMQ_EV_DELAYED);
    ck_assert(bstr_eq(ev.delay, "1795434786609"));
    freeReplyObject(e);
}
END_TEST

START_TEST(malformed)
{
    struct bmq_event ev;
    char err[128];
    redisReply *e = RESP("*2\r\n$3\r\n1-0\r\n*2\r\n$5\r\njobId\r\n$1\r\n1\r\n");
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), -1);
    ck_assert_str_eq(err, "no 'event' field");
    ck_assert(bstr_eq(ev.id, "1-0"));
    freeReplyObject(e);
    e = RESP("*2\r\n$3\r\n1-0\r\n*2\r\n$5\r\nevent\r\n$6\r\nfailed\r\n");
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), -1);
    ck_assert_str_eq(err, "'failed' event without jobId");
    freeReplyObject(e);
    e = RESP("*2\r\n$3\r\n1-0\r\n*3\r\n$5\r\nevent\r\n$6\r\nfailed\r\n$1\r\nx\r\n");
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), -1);
    freeReplyObject(e);
    e = RESP("$5\r\nhello\r\n");
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), -1);
    freeReplyObject(e);
    e = RESP("*2\r\n$5\r\nnot-a\r\n*2\r\n$5\r\nevent\r\n$7\r\ndrained\r\n");
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), -1);
    ck_assert_str_eq(err, "bad stream id");
    freeReplyObject(e);
}
END_TEST

START_TEST(binary_values)
{
    static const char raw[] = "*2\r\n$3\r\n5-0\r\n*6\r\n$5\r\nevent\r\n$6\r\nfailed\r\n"
                              "$5\r\njobId\r\n$2\r\n\xff\x00\r\n$12\r\nfailedReason\r\n$5\r\na\x00\x1b[b\r\n";
    redisReply *e = resp(raw, sizeof raw - 1);
    struct bmq_event ev;
    char err[128];
    ck_assert_int_eq(event_decode(e, &ev, err, sizeof err), 0);
    ck_assert_uint_eq(ev.job_id.n, 2);
    ck_assert_uint_eq(ev.failed_reason.n, 5);
    ck_assert_int_eq(memcmp(ev.failed_reason.p, "a\0\x1b[b", 5), 0);
    freeReplyObject(e);
}
END_TEST

START_TEST(bmq_names)
{
    char q[64];
    for (int i = 0; i < BMQ_EV_CUSTOM; i++) {
        const char *n = bmq_ev_name((enum bmq_ev)i);
        ck_assert_int_eq(bmq_ev_lookup(n, strlen(n)), i);
    }
    ck_assert_int_eq(bmq_ev_lookup("nope", 4), BMQ_EV_CUSTOM);
    ck_assert(bmq_queue_from_meta_key("bull", "bull:orders:meta", 16, q, sizeof q));
    ck_assert_str_eq(q, "orders");
    ck_assert(!bmq_queue_from_meta_key("bull", "bull:a:b:meta", 13, q, sizeof q));
    ck_assert(!bmq_queue_from_meta_key("bull", "bull::relay:meta", 16, q, sizeof q));
    ck_assert(bmq_queue_from_meta_key("my:pfx", "my:pfx:q1:meta", 14, q, sizeof q));
    ck_assert_str_eq(q, "q1");
    ck_assert(bmq_queue_from_meta_key("{bull}", "{bull}:q:meta", 13, q, sizeof q));
    ck_assert_str_eq(q, "q");
    ck_assert(bmq_worker_queue("bull", "bull:bmFtZXM=", q, sizeof q));
    ck_assert_str_eq(q, "names");
    ck_assert(bmq_worker_queue("bull", "bull:bmFtZXM=:w:alpha", q, sizeof q));
    ck_assert(!bmq_worker_queue("bull", "bull:bmFtZXM=:qe", q, sizeof q));
    ck_assert(!bmq_worker_queue("bull", "other:bmFtZXM=", q, sizeof q));
}
END_TEST

Suite *
u_event_suite(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, failed_entry);
    tcase_add_test(tc, other_events);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, binary_values);
    tcase_add_test(tc, bmq_names);
    suite_add_tcase(s, tc);
    return s;
}
