/*
 * pollbench: one depth poll of every queue (every state, pipelined), with
 * bullwatch's own queues_poll(), as the agent and `status` run it. Prints
 * one JSON line.   pollbench CONFIG ROUNDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "queues.h"
#include "rconn.h"
#include "util.h"
#include "xmem.h"

static int
cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    struct config cfg;
    char err[512];
    if (argc < 3 || config_load(&cfg, argv[1], err, sizeof err) != 0) {
        fprintf(stderr, "usage: pollbench CONFIG ROUNDS (%s)\n", argc < 3 ? "" : err);
        return 2;
    }
    int rounds = atoi(argv[2]);
    struct rconn *rc = rconn_new(&cfg.ep, cfg.endpoint_addr, "bench", cfg.connect_timeout_ms);
    struct queue_list l;
    if (rconn_connect_now(rc) != 0 || queues_discover(rc, &cfg, &l) != 0)
        return 1;
    struct queue_depth *d = xcalloc((size_t)l.n, sizeof *d);
    double *ms = xcalloc((size_t)rounds, sizeof *ms);
    for (int i = 0; i < rounds; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (queues_poll(rc, cfg.prefix, &l, d, now_ms()) != 0)
            return 1;
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    }
    qsort(ms, (size_t)rounds, sizeof *ms, cmp_d);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"queues\":%d,\"ms_min\":%.2f,\"ms_median\":%.2f,\"peak_rss_kb\":%ld}\n", l.n, ms[0],
           ms[rounds / 2], ru.ru_maxrss);
    free(ms);
    free(d);
    queue_list_release(&l);
    rconn_free(rc);
    config_release(&cfg);
    return 0;
}
