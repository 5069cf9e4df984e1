/*
 * retbench: retention of a store's rows older than a cutoff, through the
 * agent's own code (storeadmin_retention_slice), one transaction per slice
 * as the agent's commit window has it. Prints one JSON line: slices, the
 * longest and the total write-lock hold (BEGIN IMMEDIATE to COMMIT), and
 * the WAL checkpoints apart (the agent's wal_autocheckpoint runs them after
 * COMMIT, with the write lock released: readers and writers go on).
 * Usage: retbench STORE CUTOFF_MS   (RETBENCH_VERBOSE=1: every slice)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "storeadmin.h"
#include "util.h"

static int wal_frames;

static double
now_ms_f(void)
{
    return (double)mono_us() / 1000.0;
}

static int
on_wal(void *ud, sqlite3 *db, const char *name, int frames)
{
    (void)ud, (void)db, (void)name;
    wal_frames = frames;
    return SQLITE_OK;
}

int
main(int argc, char **argv)
{
    char err[256];
    if (argc != 3) {
        fprintf(stderr, "usage: retbench STORE CUTOFF_MS\n");
        return 2;
    }
    struct store *st = store_open(argv[1], false, err, sizeof err);
    if (!st) {
        fprintf(stderr, "retbench: %s\n", err);
        return 1;
    }
    long long cutoff = atoll(argv[2]);
    sqlite3_wal_hook(store_db(st), on_wal, NULL); /* replaces the auto-checkpoint */
    double longest = 0, total = 0, ck_longest = 0, t_all = now_ms_f();
    int slices = 0, ckpts = 0;
    bool more = true;
    bool verbose = getenv("RETBENCH_VERBOSE") != NULL;
    while (more) {
        double a = now_ms_f();
        if (store_begin(st) != 0 ||
            storeadmin_retention_slice(st, cutoff, (int64_t)time(NULL) * 1000, &more) != 0 ||
            store_commit(st) != 0) {
            fprintf(stderr, "retbench: %s\n", store_errmsg(st));
            store_close(st);
            return 1;
        }
        double d = now_ms_f() - a;
        if (verbose)
            fprintf(stderr, "slice %d: %.1f ms\n", slices, d);
        longest = d > longest ? d : longest;
        total += d;
        slices++;
        if (wal_frames >= 10000) { /* the agent's wal_autocheckpoint */
            a = now_ms_f();
            sqlite3_wal_checkpoint_v2(store_db(st), NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
            d = now_ms_f() - a;
            ck_longest = d > ck_longest ? d : ck_longest;
            ckpts++;
            wal_frames = 0;
        }
    }
    printf("{\"slices\":%d,\"longest_ms\":%.1f,\"locked_ms\":%.0f,\"wall_ms\":%.0f,"
           "\"checkpoints\":%d,\"checkpoint_longest_ms\":%.1f}\n",
           slices, longest, total, now_ms_f() - t_all, ckpts, ck_longest);
    store_close(st);
    return 0;
}
