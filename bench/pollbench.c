/*
 * pollbench: one depth poll of every queue (every state, pipelined), with
 * bullwatch's own queues_poll(), as the agent and `status` run it; with
 * several [redis NAME] endpoints, each in turn as the agent's loop does (a
 * round's time is their sum). Prints one JSON line.   pollbench CONFIG ROUNDS
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

#define MAX_EP 16

int
main(int argc, char **argv)
{
    struct config cfg;
    char err[512];
    if (argc < 3 || config_load(&cfg, argv[1], err, sizeof err) != 0) {
        fprintf(stderr, "usage: pollbench CONFIG ROUNDS (%s)\n", argc < 3 ? "" : err);
        return 2;
    }
    int rounds = atoi(argv[2]), nep = cfg.nendpoints < MAX_EP ? cfg.nendpoints : MAX_EP, total = 0;
    /* every endpoint polled in turn, as the agent's loop runs their timers */
    struct config v[MAX_EP];
    struct rconn *rc[MAX_EP];
    struct queue_list l[MAX_EP];
    struct queue_depth *d[MAX_EP];
    double *ms = xcalloc((size_t)rounds, sizeof *ms), *ems[MAX_EP];
    for (int e = 0; e < nep; e++) {
        config_endpoint(&cfg, e, &v[e]);
        rc[e] = rconn_new(&v[e].ep, v[e].endpoint_addr, "bench", v[e].connect_timeout_ms);
        if (rconn_connect_now(rc[e]) != 0 || queues_discover(rc[e], &v[e], &l[e]) != 0)
            return 1;
        d[e] = xcalloc((size_t)(l[e].n ? l[e].n : 1), sizeof *d[e]);
        ems[e] = xcalloc((size_t)rounds, sizeof *ems[e]);
        total += l[e].n;
    }
    for (int i = 0; i < rounds; i++) {
        for (int e = 0; e < nep; e++) {
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            if (queues_poll(rc[e], v[e].prefix, &l[e], d[e], now_ms()) != 0)
                return 1;
            clock_gettime(CLOCK_MONOTONIC, &b);
            ems[e][i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
            ms[i] += ems[e][i];
        }
    }
    qsort(ms, (size_t)rounds, sizeof *ms, cmp_d);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"endpoints\":%d,\"queues\":%d,\"ms_min\":%.2f,\"ms_median\":%.2f,"
           "\"peak_rss_kb\":%ld,\"endpoint_ms_median\":[", nep, total, ms[0], ms[rounds / 2],
           ru.ru_maxrss);
    for (int e = 0; e < nep; e++) {
        qsort(ems[e], (size_t)rounds, sizeof *ems[e], cmp_d);
        printf("%s%.2f", e ? "," : "", ems[e][rounds / 2]);
        free(ems[e]);
        free(d[e]);
        queue_list_release(&l[e]);
        rconn_free(rc[e]);
    }
    printf("]}\n");
    free(ms);
    config_release(&cfg);
    return 0;
}
