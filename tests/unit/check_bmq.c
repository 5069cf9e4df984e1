/* bmq: event names, key builders, queue names from meta keys and worker
 * client names. */
#include <string.h>

#include "bmq.h"
#include "queues.h"
#include "buf.h"
#include "suites.h"

START_TEST(event_names_round_trip)
{
    static const char *const names[] = {
#define X(e, s) s,
        BMQ_EVENTS(X)
#undef X
    };
    ck_assert_int_eq((int)(sizeof names / sizeof names[0]), BMQ_EV_CUSTOM);
    for (int i = 0; i < BMQ_EV_CUSTOM; i++) {
        const char *n = bmq_ev_name((enum bmq_ev)i);
        ck_assert_str_eq(n, names[i]);
        ck_assert_int_eq(bmq_ev_lookup(n, strlen(n)), i);
    }
    ck_assert_str_eq(bmq_ev_name(BMQ_EV_FAILED), "failed");
    ck_assert_str_eq(bmq_ev_name(BMQ_EV_RETRIES_EXHAUSTED), "retries-exhausted");
    ck_assert_str_eq(bmq_ev_name(BMQ_EV_CUSTOM), "custom");
    ck_assert_str_eq(bmq_ev_name(BMQ_EV__COUNT), "?");
}
END_TEST

START_TEST(event_lookup_unknown)
{
    ck_assert_int_eq(bmq_ev_lookup("nope", 4), BMQ_EV_CUSTOM);
    ck_assert_int_eq(bmq_ev_lookup("", 0), BMQ_EV_CUSTOM);
    ck_assert_int_eq(bmq_ev_lookup("fail", 4), BMQ_EV_CUSTOM);
    ck_assert_int_eq(bmq_ev_lookup("failedx", 7), BMQ_EV_CUSTOM);
    ck_assert_int_eq(bmq_ev_lookup("FAILED", 6), BMQ_EV_CUSTOM);
    /* length-bounded: only n bytes are looked at */
    ck_assert_int_eq(bmq_ev_lookup("failed-and-more", 6), BMQ_EV_FAILED);
}
END_TEST

START_TEST(key_builders)
{
    struct buf b;
    buf_init(&b, 0);
    bmq_key(&b, "bull", "orders", "meta");
    ck_assert_str_eq(b.data, "bull:orders:meta");
    buf_reset(&b);
    bmq_job_key(&b, "{bull}", "q", "a\0b", 3);
    ck_assert_uint_eq(b.len, 12);
    ck_assert_int_eq(memcmp(b.data, "{bull}:q:a\0b", 12), 0);
    buf_release(&b);
}
END_TEST

static bool
meta(const char *prefix, const char *key, char *out, size_t outlen)
{
    return bmq_queue_from_meta_key(prefix, key, strlen(key), out, outlen);
}

START_TEST(queue_from_meta_key)
{
    char q[64];
    ck_assert(meta("bull", "bull:orders:meta", q, sizeof q));
    ck_assert_str_eq(q, "orders");
    ck_assert(meta("my:pfx", "my:pfx:q1:meta", q, sizeof q));
    ck_assert_str_eq(q, "q1");
    ck_assert(meta("{bull}", "{bull}:q:meta", q, sizeof q));
    ck_assert_str_eq(q, "q");
    ck_assert(meta("bull", "bull:email-dlq:meta", q, sizeof q));
    ck_assert_str_eq(q, "email-dlq");
}
END_TEST

START_TEST(queue_from_meta_key_rejects)
{
    char q[64];
    ck_assert(!meta("bull", "bull:a:b:meta", q, sizeof q));    /* ':' in the name */
    ck_assert(!meta("bull", "bull::relay:meta", q, sizeof q)); /* under "bull::" */
    ck_assert(!meta("bull", "bull::meta", q, sizeof q));       /* empty name */
    ck_assert(!meta("bull", "bull:orders:wait", q, sizeof q));
    ck_assert(!meta("bull", "other:orders:meta", q, sizeof q));
    ck_assert(!meta("bull", "bullx:orders:meta", q, sizeof q));
    ck_assert(!meta("bull", "bull:orders:metadata", q, sizeof q));
    ck_assert(!meta("bull", "bull:meta", q, sizeof q));
    ck_assert(!meta("my:pfx", "my:orders:meta", q, sizeof q));
    /* the name does not fit in out */
    ck_assert(!meta("bull", "bull:orders:meta", q, 6));
    ck_assert(meta("bull", "bull:orders:meta", q, 7));
    ck_assert_str_eq(q, "orders");
    /* embedded NUL in the key */
    ck_assert(!bmq_queue_from_meta_key("bull", "bull:a\0b:meta", 13, q, sizeof q));
}
END_TEST

START_TEST(worker_queue)
{
    char q[64];
    /* base64("names") = "bmFtZXM=" */
    ck_assert(bmq_worker_queue("bull", "bull:bmFtZXM=", q, sizeof q));
    ck_assert_str_eq(q, "names");
    memset(q, 0, sizeof q);
    ck_assert(bmq_worker_queue("bull", "bull:bmFtZXM=:w:alpha", q, sizeof q));
    ck_assert_str_eq(q, "names");
    /* base64("orders") = "b3JkZXJz" (no padding) */
    ck_assert(bmq_worker_queue("bull", "bull:b3JkZXJz", q, sizeof q));
    ck_assert_str_eq(q, "orders");
    ck_assert(bmq_worker_queue("my:pfx", "my:pfx:b3JkZXJz:w:x", q, sizeof q));
    ck_assert_str_eq(q, "orders");
}
END_TEST

START_TEST(worker_queue_rejects)
{
    char q[64];
    ck_assert(!bmq_worker_queue("bull", "bull:bmFtZXM=:qe", q, sizeof q));  /* QueueEvents */
    ck_assert(!bmq_worker_queue("bull", "other:bmFtZXM=", q, sizeof q));    /* wrong prefix */
    ck_assert(!bmq_worker_queue("bull", "bullx:bmFtZXM=", q, sizeof q));
    ck_assert(!bmq_worker_queue("bull", "bull:", q, sizeof q));
    ck_assert(!bmq_worker_queue("bull", "bull:bmFtZX", q, sizeof q));       /* not a multiple of 4 */
    ck_assert(!bmq_worker_queue("bull", "bull:bm!tZXM=", q, sizeof q));     /* not base64 */
    ck_assert(!bmq_worker_queue("bull", "bull:bmFtZXM=:x:alpha", q, sizeof q));
    ck_assert(!bmq_worker_queue("bull", "bull:AAAA", q, sizeof q));         /* decodes to NULs */
    ck_assert(!bmq_worker_queue("bull", "bull:bmFtZXM=", q, 3));            /* does not fit */
    ck_assert(!bmq_worker_queue("bull", "redis-cli", q, sizeof q));
}
END_TEST

START_TEST(closest_queue_names)
{
    char n0[] = "emails", n1[] = "payments", n2[] = "payments-dlq", n3[] = "reports";
    char *names[] = {n0, n1, n2, n3};
    struct queue_list l = {names, 4};
    char out[200];
    ck_assert_int_eq(queue_name_distance("paymnets", "payments"), 2);
    ck_assert_int_eq(queue_name_distance("", "abc"), 3);
    ck_assert_int_eq(queue_name_distance("same", "same"), 0);
    queue_closest(&l, "paymnets", out, sizeof out);
    ck_assert_str_eq(out, "'payments', 'payments-dlq', 'emails'");
    queue_closest(&l, "email", out, sizeof out); /* contained: close */
    ck_assert(!strncmp(out, "'emails'", 8));
    struct queue_list none = {NULL, 0};
    queue_closest(&none, "x", out, sizeof out);
    ck_assert_str_eq(out, "");
    /* a name of 600 bytes is compared on its first 255: bounded, no overflow */
    char longname[601];
    memset(longname, 'L', 600);
    longname[600] = '\0';
    ck_assert_int_eq(queue_name_distance(longname, "LLL"), 252);
}
END_TEST

Suite *
bmq_suite(void)
{
    Suite *s = suite_create("bmq");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, event_names_round_trip);
    tcase_add_test(tc, event_lookup_unknown);
    tcase_add_test(tc, key_builders);
    tcase_add_test(tc, queue_from_meta_key);
    tcase_add_test(tc, queue_from_meta_key_rejects);
    tcase_add_test(tc, worker_queue);
    tcase_add_test(tc, worker_queue_rejects);
    tcase_add_test(tc, closest_queue_names);
    suite_add_tcase(s, tc);
    return s;
}
