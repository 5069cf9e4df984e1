/*
 * cmd_store: the audit store itself.
 *   bullwatch store [-c FILE] [--json]   rows, size, oldest row, retention,
 *                                        job data withheld by redaction
 *   bullwatch store backup FILE [-c FILE]
 *                                        a consistent copy through SQLite's
 *                                        online backup API (the agent may
 *                                        keep writing), created 0600 (0660
 *                                        with [store] group) like the store
 * The copy is the way to take a store elsewhere: `query` refuses VACUUM
 * INTO and ATTACH, and copying the .db file alone misses the -wal.
 */
#include "cmd.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "opts.h"
#include "xmem.h"
#include "store.h"
#include "storeadmin.h"
#include "util.h"

/* failures and minute_counts: the rows of the views, counted in their
 * tables (sql/schema/0010: a count through the view's joins reads them all) */
static const char *const store_tables[] = {
    "failures",      "gaps",    "actions",    "action_jobs", "minute_counts",
    "depth_samples", "outbox",  "deliveries", "alert_transitions", "silences",
    NULL};


static int64_t
one_int(sqlite3 *db, const char *sql, bool *ok)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    *ok = false;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        *ok = sqlite3_column_type(s, 0) != SQLITE_NULL;
        v = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return v;
}

static int64_t
file_size(const char *path, const char *sfx)
{
    char f[4096];
    struct stat st;
    snprintf(f, sizeof f, "%s%s", path, sfx);
    return stat(f, &st) == 0 ? (int64_t)st.st_size : 0;
}

static int
store_report(struct config *cfg, bool json)
{
    char err[512];
    struct store *st = store_open(cfg->store_path, true, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bullwatch store: %s\n", err);
        return EXIT_RUNTIME;
    }
    sqlite3 *db = store_db(st);
    bool ok;
    int64_t size = file_size(cfg->store_path, "") + file_size(cfg->store_path, "-wal");
    int64_t oldest = one_int(db, "SELECT min(finished_at) FROM failure_log", &ok); /* an index */
    if (!ok)
        oldest = -1;
    int64_t withheld = -1; /* the last day's, as status (an index reaches them) */
    sqlite3_stmt *ws = store_stmt(st, "stmt/data_withheld");
    store_bind_int(ws, ":since", now_ms() - 86400000);
    if (sqlite3_step(ws) == SQLITE_ROW)
        withheld = sqlite3_column_int64(ws, 0);
    sqlite3_reset(ws);
    struct stat sb;
    unsigned mode = stat(cfg->store_path, &sb) == 0 ? (unsigned)(sb.st_mode & 07777) : 0;
    struct buf b;
    buf_init(&b, 0);
    if (json) {
        buf_adds(&b, "{\"path\":");
        buf_add_json_str(&b, cfg->store_path, strlen(cfg->store_path));
        buf_addf(&b, ",\"mode\":\"%04o\",\"bytes\":%lld,\"retention_ms\":%lld,\"tables\":{", mode,
                 (long long)size, (long long)cfg->retention_ms);
    } else {
        char when[40] = "-", ret[32];
        if (oldest >= 0)
            format_utc(oldest, "%Y-%m-%dT%H:%M:%SZ", when, sizeof when);
        format_duration(cfg->retention_ms, ret, sizeof ret);
        buf_addf(&b, "store %s  (mode %04o)\n", log_esc(cfg->store_path, strlen(cfg->store_path)),
                 mode);
        buf_addf(&b, "size        %lld bytes (db + wal)\n", (long long)size);
        buf_addf(&b, "oldest row  %s\n", when);
        buf_addf(&b, "retention   %s\n", ret);
        buf_addf(&b, "withheld    %lld failure row%s of the last 24h whose job data redaction could not read\n",
                 (long long)(withheld < 0 ? 0 : withheld), withheld == 1 ? "" : "s");
        struct storeadmin_retention r;
        char line[300];
        if (storeadmin_retention_get(st, &r) == 0) {
            storeadmin_retention_line(&r, now_ms(), line, sizeof line);
            buf_addf(&b, "%s\n", line);
        }
        buf_adds(&b, "rows\n");
    }
    int shown = 0;
    for (int i = 0; store_tables[i]; i++) {
        char sql[128];
        const char *t = store_tables[i];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s",
                 !strcmp(t, "failures")        ? "failure_log"
                 : !strcmp(t, "minute_counts") ? "minute_log"
                                               : t);
        int64_t n = one_int(db, sql, &ok);
        if (!ok)
            continue; /* a table this store's version does not have */
        if (json)
            buf_addf(&b, "%s\"%s\":%lld", shown ? "," : "", store_tables[i], (long long)n);
        else
            buf_addf(&b, "  %-18s %lld\n", store_tables[i], (long long)n);
        shown++;
    }
    fflush(stdout);
    int integrity = 0;
    if (!json) {
        fwrite(b.data, 1, b.len, stdout);
        buf_reset(&b);
        fputs("integrity   ", stdout);
        fflush(stdout);
        integrity = storeadmin_integrity(st, false, stdout, 20);
        fputs(integrity == 0 ? "ok (quick_check)\n" : integrity > 0 ? "PROBLEMS (above)\n"
                                                                      : "could not run\n",
              stdout);
    } else {
        integrity = storeadmin_integrity(st, false, NULL, 0);
        buf_addf(&b, "},\"oldest_failure_at\":%lld,\"data_withheld\":%lld,\"integrity\":\"%s\"}\n",
                 (long long)oldest, (long long)(withheld < 0 ? 0 : withheld),
                 integrity == 0 ? "ok" : integrity > 0 ? "problems" : "unknown");
    }
    fwrite(b.data, 1, b.len, stdout);
    buf_release(&b);
    store_close(st);
    return integrity > 0 ? EXIT_RUNTIME : EXIT_OK;
}

static int
store_backup(struct config *cfg, const char *to)
{
    char err[512];
    if (access(to, F_OK) == 0) {
        fprintf(stderr, "bullwatch store backup: '%s' exists; not overwritten\n",
                log_esc(to, strlen(to)));
        return EXIT_USAGE;
    }
    struct store *st = store_open_as_is(cfg->store_path, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bullwatch store backup: %s\n", err);
        return EXIT_RUNTIME;
    }
    const char *gname = config_store_group();
    struct group *gr = gname[0] ? getgrnam(gname) : NULL;
    mode_t old = umask(gr ? 007 : 077);
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    int code = EXIT_OK;
    if (rc == SQLITE_OK) {
        sqlite3_backup *bk = sqlite3_backup_init(dst, "main", store_db(st), "main");
        if (!bk) {
            rc = sqlite3_errcode(dst);
        } else {
            /* 256 pages a step: the agent's writes wait at most one step */
            while ((rc = sqlite3_backup_step(bk, 256)) == SQLITE_OK || rc == SQLITE_BUSY ||
                   rc == SQLITE_LOCKED) {
                if (rc != SQLITE_OK) {
                    struct timespec ts = {0, 20 * 1000 * 1000};
                    nanosleep(&ts, NULL);
                }
            }
            sqlite3_backup_finish(bk);
            if (rc == SQLITE_DONE)
                rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK) {
        fprintf(stderr, "bullwatch store backup: cannot copy '%s' to '%s': %s\n",
                log_esc(cfg->store_path, strlen(cfg->store_path)), log_esc(to, strlen(to)),
                dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
        code = EXIT_RUNTIME;
    }
    sqlite3_close(dst);
    umask(old);
    if (code == EXIT_OK) {
        if (chmod(to, gr ? 0660 : 0600) != 0 || (gr && chown(to, (uid_t)-1, gr->gr_gid) != 0))
            fprintf(stderr, "bullwatch store backup: '%s': %s\n", log_esc(to, strlen(to)),
                    strerror(errno));
        bool ok;
        int64_t n = one_int(store_db(st), "SELECT count(*) FROM failure_log", &ok);
        if (!ok) /* a store before 0010, copied as it is */
            n = one_int(store_db(st), "SELECT count(*) FROM failures", &ok);
        printf("backed up '%s' to '%s' (%lld failure rows, %lld bytes)\n",
               log_esc(cfg->store_path, strlen(cfg->store_path)), log_esc(to, strlen(to)),
               (long long)n, (long long)file_size(to, ""));
    } else {
        unlink(to);
    }
    store_close(st);
    return code;
}

struct store_flags {
    bool json, dry_run;
};

static int
set_flag(void *ud, int id, const char *v)
{
    struct store_flags *f = ud;
    (void)v;
    if (id == 0)
        f->json = true;
    else
        f->dry_run = true;
    return 0;
}

int
cmd_store(int argc, char **argv)
{
    static const char *const usage =
        "usage: bullwatch store [-c FILE] [--json]         rows, size, oldest row, retention, integrity\n"
        "       bullwatch store backup FILE [-c FILE]      consistent copy (SQLite backup API)\n"
        "       bullwatch store vacuum [--dry-run] [-c FILE]   compact, and convert to incremental\n"
        "                                  auto_vacuum (needs the agent stopped; says how long)\n";
    const char *path = NULL, *to = NULL, *verb = NULL;
    struct store_flags fl = {false, false};
    static const struct opt opts[] = {{"json", false, 0}, {"dry-run", false, 1}, {NULL, false, 0}};
    char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
    int npos = 0;
    int prc = opts_parse("store", argc, argv, opts, set_flag, &fl, &path, pos, &npos);
    if (prc == 0 && npos >= 1)
        verb = pos[0];
    if (prc == 0 && verb && !strcmp(verb, "backup"))
        to = npos >= 2 ? pos[1] : NULL;
    if (prc == 0 && verb && ((strcmp(verb, "backup") && strcmp(verb, "vacuum")) ||
                             npos > (strcmp(verb, "backup") ? 1 : 2))) {
        fprintf(stderr, "bullwatch store: unexpected '%s'\n%s",
                log_esc(pos[npos - 1], strlen(pos[npos - 1])), usage);
        prc = -1;
    }
    free(pos);
    if (prc != 0)
        return EXIT_USAGE;
    bool backup = verb && !strcmp(verb, "backup"), vacuum = verb && !strcmp(verb, "vacuum");
    bool json = fl.json;
    if (backup && !to) {
        fprintf(stderr, "bullwatch store backup: which FILE?\n%s", usage);
        return EXIT_USAGE;
    }
    struct config cfg;
    if (cmd_load_config(&cfg, path) != 0) {
        config_release(&cfg);
        return EXIT_USAGE;
    }
    int rc;
    if (vacuum) {
        char err[512];
        rc = storeadmin_vacuum(cfg.store_path, fl.dry_run, stdout, err, sizeof err) == 0
                 ? EXIT_OK
                 : (fprintf(stderr, "bullwatch store vacuum: %s\n", err), EXIT_RUNTIME);
    } else {
        rc = backup ? store_backup(&cfg, to) : store_report(&cfg, json);
    }
    config_release(&cfg);
    return rc;
}
