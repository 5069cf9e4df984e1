/* cluster.c: slots, the slot map and redirections, from literal inputs.
 * The expected slots were read from a real redis-server 7.0 in cluster mode
 * (CLUSTER KEYSLOT). */
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "rcluster.h"
#include "suites.h"

static int
slot(const char *k)
{
    return cluster_key_slot(k, strlen(k));
}

START_TEST(key_slots_match_redis)
{
    ck_assert_int_eq(slot("foo"), 12182);
    ck_assert_int_eq(slot("bar"), 5061);
    ck_assert_int_eq(slot("123456789"), 12739); /* CRC16/XMODEM check value 0x31C3 */
    ck_assert_int_eq(slot("{user1000}.following"), 3443);
    ck_assert_int_eq(slot("bull:{q1}:events"), 7450);
    ck_assert_int_eq(slot("{bull}:q1:events"), 9263);
    ck_assert_int_eq(slot("a{}b"), 13694); /* an empty tag hashes the whole key */
    ck_assert_int_eq(slot("{}{x}"), 3257);  /* only the first '{' counts */
    ck_assert_int_eq(slot("x{y"), 2740);    /* no closing brace: the whole key */
    ck_assert_int_eq(slot("bull:pay:events"), 481);
    ck_assert(cluster_key_tagged("bull:{q1}:x", 11));
    ck_assert(!cluster_key_tagged("a{}b", 4));
}
END_TEST

START_TEST(queue_slots_per_layout)
{
    /* one tagged prefix: every queue in the slot of "bull" */
    ck_assert_int_eq(cluster_queue_slot("{bull}", "q1"), 9263);
    ck_assert_int_eq(cluster_queue_slot("{bull}", "other"), 9263);
    /* tagged names: each queue its own slot */
    ck_assert_int_eq(cluster_queue_slot("bull", "{q1}"), 7450);
    ck_assert_int_eq(cluster_queue_slot("bull", "{q1}"), slot("bull:{q1}:wait"));
    /* neither: the keys spread over slots */
    ck_assert_int_eq(cluster_queue_slot("bull", "pay"), -1);
    ck_assert_int_eq(cluster_queue_slot("{bull", "pay"), -1);
}
END_TEST

START_TEST(slot_map_from_cluster_slots)
{
    /* three masters (one with a replica), the first with no address of its own */
    redisReply *r = RESP("*3\r\n"
                         "*3\r\n:0\r\n:5460\r\n*3\r\n$0\r\n\r\n:7001\r\n$2\r\nid\r\n"
                         "*4\r\n:5461\r\n:10922\r\n*3\r\n$9\r\n127.0.0.1\r\n:7002\r\n$1\r\nb\r\n"
                         "*3\r\n$9\r\n127.0.0.1\r\n:7005\r\n$1\r\nr\r\n"
                         "*3\r\n:10923\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:7003\r\n");
    struct cluster_map m;
    char err[128];
    ck_assert_int_eq(cluster_map_parse(&m, r, "127.0.0.1", err, sizeof err), 0);
    ck_assert_int_eq(m.nnodes, 3);
    ck_assert_int_eq(cluster_map_unserved(&m), 0);
    ck_assert_str_eq(cluster_map_node(&m, 0)->host, "127.0.0.1");
    ck_assert_int_eq(cluster_map_node(&m, 0)->port, 7001);
    ck_assert_str_eq(cluster_map_node(&m, 0)->id, "id");
    ck_assert_int_eq(cluster_map_node(&m, 7450)->port, 7002);
    ck_assert_int_eq(cluster_map_node(&m, 16383)->port, 7003);
    ck_assert_ptr_null(cluster_map_node(&m, 16384));
    cluster_map_release(&m);
    freeReplyObject(r);

    /* a gap in the ranges */
    r = RESP("*1\r\n*3\r\n:0\r\n:99\r\n*2\r\n$1\r\nh\r\n:1\r\n");
    ck_assert_int_eq(cluster_map_parse(&m, r, "127.0.0.1", err, sizeof err), 0);
    ck_assert_int_eq(cluster_map_unserved(&m), 16384 - 100);
    ck_assert_ptr_null(cluster_map_node(&m, 100));
    cluster_map_release(&m);
    freeReplyObject(r);

    /* not the shape: an error reply, a range past the last slot */
    r = RESP("-ERR This instance has cluster support disabled\r\n");
    ck_assert_int_eq(cluster_map_parse(&m, r, "h", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cluster support disabled"));
    freeReplyObject(r);
    r = RESP("*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n");
    ck_assert_int_eq(cluster_map_parse(&m, r, "h", err, sizeof err), -1);
    freeReplyObject(r);
}
END_TEST

START_TEST(redirections)
{
    struct cluster_redirect d;
    const char *t = "MOVED 3999 127.0.0.1:6381";
    ck_assert_int_eq(cluster_redirect_parse(t, strlen(t), &d), 0);
    ck_assert(!d.ask);
    ck_assert_int_eq(d.slot, 3999);
    ck_assert_str_eq(d.host, "127.0.0.1");
    ck_assert_int_eq(d.port, 6381);
    t = "ASK 12 ::1:7002";
    ck_assert_int_eq(cluster_redirect_parse(t, strlen(t), &d), 0);
    ck_assert(d.ask);
    ck_assert_str_eq(d.host, "::1");
    ck_assert_int_eq(d.port, 7002);
    t = "MOVED 1 [::1]:7003";
    ck_assert_int_eq(cluster_redirect_parse(t, strlen(t), &d), 0);
    ck_assert_str_eq(d.host, "::1");
    const char *bad[] = {"ERR wrong", "MOVED x 1:2", "MOVED 16384 h:1", "MOVED 1 h", "ASK 1 :7",
                         "MOVED 1 h:0", "MOVED 1 h:7x", "MOVED 1 h:99999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(cluster_redirect_parse(bad[i], strlen(bad[i]), &d) == -1, "%s", bad[i]);
}
END_TEST

static int
key_arg(int argc, const char **argv)
{
    return rcluster_key_arg(argc, argv, NULL);
}

START_TEST(routing_key_of_a_command)
{
    const char *hget[] = {"HGET", "bull:{q}:1", "data"};
    ck_assert_int_eq(key_arg(3, hget), 1);
    const char *evalsha[] = {"EVALSHA", "abc", "2", "bull:{q}:failed", "bull:{q}:wait", "x"};
    ck_assert_int_eq(key_arg(6, evalsha), 3);
    const char *nokeys[] = {"EVAL", "return 1", "0"};
    ck_assert_int_eq(key_arg(3, nokeys), -1);
    const char *xread[] = {"XREAD", "COUNT", "10", "BLOCK", "5", "STREAMS", "a", "b", "0", "0"};
    ck_assert_int_eq(key_arg(10, xread), 6);
    const char *scan[] = {"SCAN", "0", "MATCH", "*"};
    ck_assert_int_eq(key_arg(4, scan), -1);
    const char *script[] = {"script", "load", "return 1"}; /* any case */
    ck_assert_int_eq(key_arg(3, script), -1);
    const char *xinfo[] = {"XINFO", "STREAM", "bull:{q}:events"};
    ck_assert_int_eq(key_arg(3, xinfo), 2);
}
END_TEST

START_TEST(printf_commands_split_back)
{
    int argc;
    const char **argv;
    size_t *lens;
    const char resp[] = "*3\r\n$4\r\nHGET\r\n$3\r\na\0b\r\n$0\r\n\r\n";
    ck_assert_int_eq(rcluster_split(resp, sizeof resp - 1, &argc, &argv, &lens), 0);
    ck_assert_int_eq(argc, 3);
    ck_assert_str_eq(argv[0], "HGET");
    ck_assert_uint_eq(lens[1], 3); /* binary-safe */
    ck_assert_int_eq(memcmp(argv[1], "a\0b", 3), 0);
    ck_assert_uint_eq(lens[2], 0);
    free((void *)argv);
    const char *bad[] = {"+OK\r\n", "*2\r\n$4\r\nHGET\r\n", "*1\r\n$9\r\nHGET\r\n", "*0\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_int_eq(rcluster_split(bad[i], strlen(bad[i]), &argc, &argv, &lens), -1);
}
END_TEST

Suite *
cluster_suite(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, key_slots_match_redis);
    tcase_add_test(tc, queue_slots_per_layout);
    tcase_add_test(tc, slot_map_from_cluster_slots);
    tcase_add_test(tc, redirections);
    tcase_add_test(tc, routing_key_of_a_command);
    tcase_add_test(tc, printf_commands_split_back);
    suite_add_tcase(s, tc);
    return s;
}
