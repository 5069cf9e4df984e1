/* check_lease: the pure parts of HA agents (agent/lease.h): the lease
 * script's reply, the leader header, the local view's end, the key; the
 * message ids HA agents share (alerts/sink.h: id_quantum_ms) and the
 * leader member of webhook bodies. The lease against a real Redis is
 * tests/it/t_ha.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "lease.h"
#include "sink.h"
#include "suites.h"

START_TEST(lease_reply_parsed)
{
    struct lease_reply r;
    redisReply *x = RESP("*5\r\n:1\r\n:3\r\n$7\r\nagent-a\r\n:2000\r\n:1700000000000\r\n");
    ck_assert_int_eq(lease_parse_reply(x, &r), 0);
    ck_assert(r.held);
    ck_assert_int_eq(r.token, 3);
    ck_assert_str_eq(r.holder, "agent-a");
    ck_assert_int_eq(r.remaining_ms, 2000);
    ck_assert_int_eq(r.clear, 1700000000000LL);
    freeReplyObject(x);
    /* another's lease: not held, who and for how long */
    x = RESP("*5\r\n:0\r\n:4\r\n$7\r\nagent-b\r\n:1234\r\n:0\r\n");
    ck_assert_int_eq(lease_parse_reply(x, &r), 0);
    ck_assert(!r.held);
    ck_assert_str_eq(r.holder, "agent-b");
    ck_assert_int_eq(r.remaining_ms, 1234);
    freeReplyObject(x);
    /* numbers as bulk strings are taken too (a script's tostring) */
    x = RESP("*5\r\n:0\r\n$1\r\n9\r\n$0\r\n\r\n$2\r\n-5\r\n:0\r\n");
    ck_assert_int_eq(lease_parse_reply(x, &r), 0);
    ck_assert_int_eq(r.token, 9);
    ck_assert_str_eq(r.holder, "");
    ck_assert_int_eq(r.remaining_ms, -5);
    freeReplyObject(x);
}
END_TEST

START_TEST(lease_reply_refused)
{
    struct lease_reply r;
    const char *bad[] = {
        "-NOSCRIPT no such script\r\n",
        "*4\r\n:1\r\n:3\r\n$1\r\na\r\n:1\r\n",                 /* four elements */
        "*5\r\n:2\r\n:3\r\n$1\r\na\r\n:1\r\n:0\r\n",           /* held is 0 or 1 */
        "*5\r\n:1\r\n$2\r\nx1\r\n$1\r\na\r\n:1\r\n:0\r\n",     /* token not a number */
        "*5\r\n:1\r\n:3\r\n:7\r\n:1\r\n:0\r\n",                /* holder not a string */
        "*5\r\n:1\r\n:3\r\n$1\r\na\r\n*0\r\n:0\r\n",           /* remaining an array */
        ":1\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        redisReply *x = ut_resp(bad[i], strlen(bad[i]));
        ck_assert_msg(lease_parse_reply(x, &r) == -1, "accepted %s", bad[i]);
        freeReplyObject(x);
    }
    ck_assert_int_eq(lease_parse_reply(NULL, &r), -1);
    /* a holder longer than LEASE_ID_MAX is cut, not overflowed */
    char raw[600];
    char name[300];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(raw, sizeof raw, "*5\r\n:0\r\n:1\r\n$%zu\r\n%s\r\n:1\r\n:0\r\n", strlen(name), name);
    redisReply *x = ut_resp(raw, strlen(raw));
    ck_assert_int_eq(lease_parse_reply(x, &r), 0);
    ck_assert_int_eq(strlen(r.holder), LEASE_ID_MAX - 1);
    freeReplyObject(x);
}
END_TEST

START_TEST(lease_names_and_times)
{
    char b[LEASE_HEADER_MAX], id[LEASE_ID_MAX], pid[32];
    lease_header_value("agent-a", 7, b, sizeof b);
    ck_assert_str_eq(b, "agent-a;token=7");
    lease_key("bull", b, sizeof b);
    ck_assert_str_eq(b, "bull:bullwatch:lease");
    lease_key("{bull}", b, sizeof b); /* a cluster's hash-tagged prefix stays in front */
    ck_assert_str_eq(b, "{bull}:bullwatch:lease");
    lease_default_id(id, sizeof id);
    snprintf(pid, sizeof pid, ":%ld", (long)getpid());
    ck_assert_msg(strlen(id) > strlen(pid) && !strcmp(id + strlen(id) - strlen(pid), pid), "%s", id);
    /* the local view ends before Redis's lease: a twentieth, at least 50 ms */
    ck_assert_int_eq(lease_local_until(1000, 10000, 10000), 1000 + 10000 - 500);
    ck_assert_int_eq(lease_local_until(1000, 1000, 1000), 1000 + 1000 - 50);
    ck_assert_int_eq(lease_local_until(1000, 400, 10000), 1000 + 400 - 500); /* a short answer */
}
END_TEST

static void
notice_at(struct notice *n, int64_t t, int64_t quantum)
{
    memset(n, 0, sizeof *n);
    n->rule = "dead_letters";
    n->queue = "payments";
    n->endpoint = "default";
    n->labels = "{\"endpoint\":\"default\",\"queue\":\"payments\"}";
    memcpy(n->fingerprint, "0123456789abcdef", 17);
    n->kind = NOTICE_FIRING;
    n->starts_at = n->at = n->transition_at = t;
    n->id_quantum_ms = quantum;
}

START_TEST(ha_ids_shared_within_a_quantum)
{
    char an[] = "hook";
    struct sink k = {.name = an};
    struct notice n1, n2;
    char x[SINK_MSG_ID_LEN], y[SINK_MSG_ID_LEN], d1[48], d2[48];
    ck_assert_int_eq(sink_id_time(125000, 60000), 120000);
    ck_assert_int_eq(sink_id_time(120000, 60000), 120000);
    ck_assert_int_eq(sink_id_time(-1, 60000), -60000);
    ck_assert_int_eq(sink_id_time(125000, 0), 125000);
    /* two agents time one transition 120.010 s and 179.990 s: one id */
    notice_at(&n1, 120010, 60000);
    notice_at(&n2, 179990, 60000);
    sink_msg_id(&k, &n1, x);
    sink_msg_id(&k, &n2, y);
    ck_assert_str_eq(x, y);
    notice_dedup_key(&n1, d1);
    notice_dedup_key(&n2, d2);
    ck_assert_str_eq(d1, d2);
    /* across a boundary: two ids (the documented limit) */
    notice_at(&n2, 180000, 60000);
    sink_msg_id(&k, &n2, y);
    ck_assert_str_ne(x, y);
    /* without HA the exact times are kept: two ids */
    notice_at(&n1, 120010, 0);
    notice_at(&n2, 120011, 0);
    sink_msg_id(&k, &n1, x);
    sink_msg_id(&k, &n2, y);
    ck_assert_str_ne(x, y);
    /* a resolved of the same quantum is another message */
    notice_at(&n1, 120010, 60000);
    notice_at(&n2, 120010, 60000);
    n2.kind = NOTICE_RESOLVED;
    n2.resolved = true;
    sink_msg_id(&k, &n1, x);
    sink_msg_id(&k, &n2, y);
    ck_assert_str_ne(x, y);
}
END_TEST

START_TEST(leader_member_added)
{
    struct buf b;
    buf_init(&b, 0);
    sink_add_leader("{\"type\":\"alert.firing\"}", "agent \"a\"", 2, &b);
    ck_assert_str_eq(b.data, "{\"leader\":{\"id\":\"agent \\\"a\\\"\",\"token\":2},\"type\":\"alert.firing\"}");
    buf_reset(&b);
    sink_add_leader("{}", "a", 1, &b);
    ck_assert_str_eq(b.data, "{\"leader\":{\"id\":\"a\",\"token\":1}}");
    buf_reset(&b);
    sink_add_leader("[1]", "a", 1, &b); /* not an object: as it is */
    ck_assert_str_eq(b.data, "[1]");
    buf_release(&b);
}
END_TEST

Suite *
lease_suite(void)
{
    Suite *s = suite_create("lease");
    TCase *tc = tcase_create("lease");
    tcase_add_test(tc, lease_reply_parsed);
    tcase_add_test(tc, lease_reply_refused);
    tcase_add_test(tc, lease_names_and_times);
    tcase_add_test(tc, ha_ids_shared_within_a_quantum);
    tcase_add_test(tc, leader_member_added);
    suite_add_tcase(s, tc);
    return s;
}
