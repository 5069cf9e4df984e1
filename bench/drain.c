/*
 * drain: the limit. A bare hiredis loop of XREAD COUNT 1000 over one stream
 * from 0-0 to its end, doing nothing with the entries but reading the last
 * id. Prints one JSON line.   drain HOST PORT STREAM_KEY
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

static double
now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: drain HOST PORT STREAM_KEY\n");
        return 2;
    }
    redisContext *c = redisConnect(argv[1], atoi(argv[2]));
    if (!c || c->err)
        return 1;
    char cursor[64] = "0-0";
    long long n = 0;
    double t0 = now_s();
    for (;;) {
        redisReply *r = redisCommand(c, "XREAD COUNT 1000 STREAMS %s %s", argv[3], cursor);
        if (!r)
            return 1;
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
            freeReplyObject(r);
            break;
        }
        redisReply *entries = r->element[0]->element[1];
        n += (long long)entries->elements;
        snprintf(cursor, sizeof cursor, "%s",
                 entries->element[entries->elements - 1]->element[0]->str);
        freeReplyObject(r);
    }
    double secs = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"entries\":%lld,\"seconds\":%.3f,\"events_per_s\":%.0f,\"peak_rss_kb\":%ld}\n", n,
           secs, n / secs, ru.ru_maxrss);
    redisFree(c);
    return 0;
}
