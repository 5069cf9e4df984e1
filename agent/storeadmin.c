/* storeadmin: see storeadmin.h */
#include "storeadmin.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "sqlembed.h"
#include "util.h"

static double
mono_now_ms(void)
{
    return (double)mono_us() / 1000.0;
}

static int64_t
col_int(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, i);
}

int
storeadmin_retention_get(struct store *st, struct storeadmin_retention *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = NULL;
    /* prepared by hand: a store before 0008 has no store_state table, and
     * store_stmt() treats a statement that does not prepare as a bug */
    if (sqlite3_prepare_v2(store_db(st), sql_get("stmt/retention_state_get"), -1, &s, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(s);
        return -1;
    }
    int rc = -1;
    if (sqlite3_step(s) == SQLITE_ROW) {
        out->cutoff = col_int(s, 0);
        out->backlog_since = col_int(s, 1);
        out->trimmed = col_int(s, 2);
        out->last_slice_at = col_int(s, 3);
        out->last_slice_ms = sqlite3_column_double(s, 4);
        out->max_slice_ms = sqlite3_column_double(s, 5);
        out->done_at = col_int(s, 6);
        rc = 0;
    }
    sqlite3_finalize(s);
    return rc;
}

static int
state_put(struct store *st, const struct storeadmin_retention *r)
{
    sqlite3_stmt *s = store_stmt(st, "stmt/retention_state_put");
    store_bind_int(s, ":cutoff", r->cutoff);
    if (r->backlog_since)
        store_bind_int(s, ":backlog_since", r->backlog_since);
    else
        store_bind_null(s, ":backlog_since");
    store_bind_int(s, ":trimmed", r->trimmed);
    store_bind_int(s, ":now", r->last_slice_at);
    store_bind_real(s, ":slice_ms", r->last_slice_ms);
    store_bind_real(s, ":max_slice_ms", r->max_slice_ms);
    if (r->done_at)
        store_bind_int(s, ":done_at", r->done_at);
    else
        store_bind_null(s, ":done_at");
    return store_exec(st, s, "retention state");
}

/* One statement of a slice with a cutoff of its own. 0 / -1 */
static int
keep_slice(struct store *st, const char *name, int64_t cutoff)
{
    sqlite3_stmt *s = store_stmt(st, name);
    store_bind_int(s, ":cutoff", cutoff);
    return store_exec(st, s, "retention");
}

static int
more_left(struct store *st, const char *name, const struct storeadmin_keep *k, bool *more)
{
    sqlite3_stmt *s = store_stmt(st, name);
    store_bind_int(s, ":cutoff", k->cutoff);
    store_bind_int(s, ":sig_cutoff", k->signature_cutoff);
    store_bind_int(s, ":counts_cutoff", k->counts_cutoff);
    if (sqlite3_step(s) != SQLITE_ROW) {
        store_note_error(st, "retention");
        sqlite3_reset(s);
        return -1;
    }
    *more = *more || sqlite3_column_int(s, 0) != 0;
    sqlite3_reset(s);
    return 0;
}

int
storeadmin_retention_slice(struct store *st, int64_t cutoff, int64_t now, bool *more)
{
    struct storeadmin_keep k = {cutoff, now - STOREADMIN_SIGNATURE_RETENTION_MS, cutoff};
    return storeadmin_retention_slice_keep(st, &k, now, more);
}

int
storeadmin_retention_slice_keep(struct store *st, const struct storeadmin_keep *k, int64_t now,
                                bool *more)
{
    sqlite3 *db = store_db(st);
    struct storeadmin_retention r;
    int64_t cutoff = k->cutoff;
    *more = false;
    if (storeadmin_retention_get(st, &r) != 0)
        memset(&r, 0, sizeof r);
    double t0 = mono_now_ms();
    int before = sqlite3_total_changes(db);
    if (store_run_script(st, "stmt/retention_slice", ":cutoff", cutoff) != 0 ||
        keep_slice(st, "stmt/retention_counts", k->counts_cutoff) != 0 ||
        keep_slice(st, "stmt/retention_signatures", k->signature_cutoff) != 0)
        return -1;
    int64_t n = sqlite3_total_changes(db) - before;
    if (n > 0)
        store_texts_changed(st); /* texts may be among them (failrec.c's memory) */
    if (more_left(st, "stmt/retention_more", k, more) != 0 ||
        more_left(st, "stmt/retention_more_keep", k, more) != 0)
        return -1;
    if (n > 0 && storeadmin_incremental_vacuum(st, STOREADMIN_VACUUM_PAGES) != 0)
        return -1;
    double ms = mono_now_ms() - t0;

    r.cutoff = cutoff;
    r.last_slice_at = now;
    r.last_slice_ms = ms;
    if (ms > r.max_slice_ms)
        r.max_slice_ms = ms;
    if (*more && !r.backlog_since) {
        r.backlog_since = now;
        r.trimmed = 0;
        log_info("retention: a backlog of rows older than the retention period; trimming it in "
                 "slices of %d rows per table between reads",
                 STOREADMIN_SLICE);
    }
    r.trimmed += n;
    if (!*more) {
        if (r.backlog_since)
            log_info("retention: backlog trimmed: %lld rows in %.1f s (longest slice %.1f ms)",
                     (long long)r.trimmed, (double)(now - r.backlog_since) / 1000.0,
                     r.max_slice_ms);
        else if (n > 0)
            r.trimmed = n;
        r.backlog_since = 0;
        r.done_at = now;
    }
    return state_put(st, &r);
}

int
storeadmin_incremental_vacuum(struct store *st, int pages)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    char sql[64];
    int mode = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA auto_vacuum", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        mode = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (mode != 2)
        return 0;
    snprintf(sql, sizeof sql, "PRAGMA incremental_vacuum(%d)", pages);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        store_note_error(st, "incremental vacuum");
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        store_note_error(st, "incremental vacuum");
        return -1;
    }
    return 0;
}

static void
fmt_ago(int64_t now, int64_t at, char *out, size_t len)
{
    int64_t s = (now - at) / 1000;
    if (s < 120)
        snprintf(out, len, "%llds ago", (long long)s);
    else if (s < 7200)
        snprintf(out, len, "%lldm ago", (long long)(s / 60));
    else
        snprintf(out, len, "%lldh ago", (long long)(s / 3600));
}

void
storeadmin_retention_line(const struct storeadmin_retention *r, int64_t now, char *line,
                          size_t len)
{
    char a[32];
    if (r->backlog_since) {
        fmt_ago(now, r->backlog_since, a, sizeof a);
        snprintf(line, len,
                 "retention: trimming a backlog since %s, %lld rows so far (longest slice %.1f ms)",
                 a, (long long)r->trimmed, r->max_slice_ms);
    } else if (r->done_at) {
        fmt_ago(now, r->done_at, a, sizeof a);
        snprintf(line, len, "retention: up to date (checked %s, %lld rows last trimmed, longest "
                            "slice %.1f ms)",
                 a, (long long)r->trimmed, r->max_slice_ms);
    } else {
        snprintf(line, len, "retention: not run yet");
    }
}

int
storeadmin_integrity(struct store *st, bool full, FILE *out, int max_lines)
{
    sqlite3_stmt *s = NULL;
    const char *sql = full ? "PRAGMA integrity_check" : "PRAGMA quick_check";
    if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    int problems = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *msg = (const char *)sqlite3_column_text(s, 0);
        if (msg && strcmp(msg, "ok") == 0)
            continue;
        if (problems++ < max_lines && out)
            fprintf(out, "%s\n", msg ? msg : "?");
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return -1;
    return problems ? 1 : 0;
}

static int
exec_err(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int
storeadmin_vacuum(const char *path, bool dry_run, FILE *out, char *err, size_t errlen)
{
    char lock[4096 + 8];
    struct {
        long long size, avail;
    } sz = {0, 0};
    snprintf(lock, sizeof lock, "%s.lock", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open '%s': %s", lock, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "an agent holds '%s': stop it first (VACUUM rewrites the whole "
                              "store and would hold its write lock throughout)",
                 lock);
        close(fd);
        return -1;
    }
    int rc = -1;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open audit store '%s': %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *s = NULL;
    long long pages = 0, psize = 0, freep = 0;
    int mode = 0;
    const char *q[] = {"PRAGMA page_count", "PRAGMA page_size", "PRAGMA freelist_count",
                       "PRAGMA auto_vacuum"};
    long long *dst[] = {&pages, &psize, &freep, NULL};
    for (int i = 0; i < 4; i++) {
        if (sqlite3_prepare_v2(db, q[i], -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
            if (dst[i])
                *dst[i] = sqlite3_column_int64(s, 0);
            else
                mode = sqlite3_column_int(s, 0);
        }
        sqlite3_finalize(s);
    }
    sz.size = pages * psize;
    struct statvfs vfs;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (statvfs(dir, &vfs) == 0)
        sz.avail = (long long)vfs.f_bavail * (long long)vfs.f_frsize;
    long long need = 2 * (sz.size - freep * psize);
    double mb = (double)sz.size / 1e6;
    fprintf(out,
            "store '%s': %.0f MB (%lld free pages, auto_vacuum %s)\n"
            "a full VACUUM rewrites it: it needs about %.0f MB of free disk (%.0f MB free) and "
            "takes about %.0f s (its %.0f MB of rows at ~50 MB/s: 1M rows took 3 s from the page "
            "cache here, a cold disk is slower); the agent must stay stopped meanwhile\n",
            path, mb, freep, mode == 2 ? "incremental" : mode == 1 ? "full" : "none",
            (double)need / 1e6, (double)sz.avail / 1e6, (double)need / 2e6 / 50.0 + 1.0,
            (double)need / 2e6);
    if (sz.avail && sz.avail < need) {
        snprintf(err, errlen, "not enough free disk for VACUUM: %.0f MB needed, %.0f MB free",
                 (double)need / 1e6, (double)sz.avail / 1e6);
        goto out;
    }
    if (dry_run) {
        rc = 0;
        goto out;
    }
    double t0 = mono_now_ms();
    if (exec_err(db, "PRAGMA auto_vacuum = INCREMENTAL", err, errlen) != 0 ||
        exec_err(db, "VACUUM", err, errlen) != 0 ||
        exec_err(db, "PRAGMA wal_checkpoint(TRUNCATE)", err, errlen) != 0)
        goto out;
    if (sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        pages = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    fprintf(out, "vacuumed in %.1f s: %.0f MB -> %.0f MB, auto_vacuum incremental from now on\n",
            (mono_now_ms() - t0) / 1000.0, mb, (double)(pages * psize) / 1e6);
    rc = 0;
out:
    sqlite3_close(db);
    close(fd); /* drops the lock */
    return rc;
}
