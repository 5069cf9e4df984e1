/*
 * preload: writes N BullMQ-shaped job lifecycles into one queue's event
 * stream, the way BullMQ's scripts write them (field names and order of
 * shared/bullmq-internals.md §3.1): added, waiting, active, then completed,
 * or failed + retries-exhausted. Dead jobs also get their job hash and a
 * `failed` zset entry. Pipelined; for benchmarks only.
 *
 *   preload HOST PORT QUEUE JOBS DEAD_PCT [PREFIX]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

static long long
now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int
drain_replies(redisContext *c, int n)
{
    for (int i = 0; i < n; i++) {
        void *r;
        if (redisGetReply(c, &r) != REDIS_OK) {
            fprintf(stderr, "preload: %s\n", c->errstr);
            return -1;
        }
        if (((redisReply *)r)->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "preload: %s\n", ((redisReply *)r)->str);
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: preload HOST PORT QUEUE JOBS DEAD_PCT [PREFIX]\n");
        return 2;
    }
    const char *q = argv[3];
    long jobs = atol(argv[4]);
    int dead_pct = atoi(argv[5]);
    const char *prefix = argc > 6 ? argv[6] : "bull";
    redisContext *c = redisConnect(argv[1], atoi(argv[2]));
    if (!c || c->err) {
        fprintf(stderr, "preload: cannot connect: %s\n", c ? c->errstr : "oom");
        return 1;
    }
    char ev[256], key[256], failed[256], meta[256];
    snprintf(ev, sizeof ev, "%s:%s:events", prefix, q);
    snprintf(failed, sizeof failed, "%s:%s:failed", prefix, q);
    snprintf(meta, sizeof meta, "%s:%s:meta", prefix, q);
    redisAppendCommand(c, "HSET %s opts.maxLenEvents 100000000 version bullmq:5.71.0", meta);
    if (drain_replies(c, 1) != 0)
        return 1;
    static const char *const reasons[] = {
        "timeout after %ldms", "connection refused 10.0.%ld.7:5432",
        "user 7f3c9a2b-1d4e-4c1a-9b7e-%012ld not found", "validation failed for order %ld"};
    int pending = 0;
    long long t0 = now_ms();
    long dead = 0;
    for (long i = 1; i <= jobs; i++) {
        char id[32], reason[128];
        snprintf(id, sizeof id, "%ld", i);
        int dies = (int)((i * 7919) % 100) < dead_pct;
        redisAppendCommand(c, "XADD %s * event added jobId %s name %s", ev, id,
                           dies ? "charge" : "send");
        redisAppendCommand(c, "XADD %s * event waiting jobId %s", ev, id);
        redisAppendCommand(c, "XADD %s * event active jobId %s prev waiting", ev, id);
        pending += 3;
        if (dies) {
            long long fin = now_ms();
            snprintf(reason, sizeof reason, reasons[i % 4], (i * 31) % 10000);
            snprintf(key, sizeof key, "%s:%s:%s", prefix, q, id);
            redisAppendCommand(
                c,
                "HSET %s name charge data {\"orderId\":%ld,\"amount\":%ld,\"currency\":\"EUR\","
                "\"customer\":{\"id\":\"c-%ld\",\"email\":\"user%ld@example.com\"},\"items\":"
                "[{\"sku\":\"SKU-1\",\"qty\":2},{\"sku\":\"SKU-2\",\"qty\":1}],\"token\":\"tok_%ld\"} "
                "opts {\"attempts\":3,\"backoff\":{\"type\":\"fixed\",\"delay\":200}} "
                "timestamp %lld delay 0 priority 0 processedOn %lld finishedOn %lld atm 3 ats 3 "
                "failedReason %s stacktrace %s",
                key, i, i % 997, i % 5000, i % 5000, i, fin - 900, fin - 5, fin, reason,
                "[\"Error: boom\\n    at charge (/app/worker.js:42:11)\\n    at process "
                "(/app/node_modules/bullmq/dist/cjs/classes/worker.js:517:28)\"]");
            redisAppendCommand(c, "ZADD %s %lld %s", failed, fin, id);
            redisAppendCommand(c, "XADD %s * event failed jobId %s failedReason %s prev active", ev,
                               id, reason);
            redisAppendCommand(c, "XADD %s * event retries-exhausted jobId %s attemptsMade 3", ev,
                               id);
            pending += 4;
            dead++;
        } else {
            redisAppendCommand(c, "XADD %s * event completed jobId %s returnvalue {\"ok\":true} "
                                  "prev active",
                               ev, id);
            pending += 1;
        }
        if (pending >= 20000) {
            if (drain_replies(c, pending) != 0)
                return 1;
            pending = 0;
        }
    }
    if (drain_replies(c, pending) != 0)
        return 1;
    redisReply *r = redisCommand(c, "XLEN %s", ev);
    printf("{\"jobs\":%ld,\"dead\":%ld,\"entries\":%lld,\"seconds\":%.2f}\n", jobs, dead,
           r ? r->integer : -1, (now_ms() - t0) / 1000.0);
    freeReplyObject(r);
    redisFree(c);
    return 0;
}
