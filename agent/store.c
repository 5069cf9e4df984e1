/* store: see store.h */
#include "store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "sqlembed.h"
#include "xmem.h"

struct cached {
    const char *name;
    sqlite3_stmt *stmt;
};

struct store {
    sqlite3 *db;
    uint64_t texts_gen;
    struct cached *cache;
    int ncache;
    bool quiet;         /* errors are remembered, not logged (the agent) */
    char last_err[300]; /* the last failed write: "what: message" */
};

static struct store *store_open_files(const char *path, bool readonly, bool any_version, char *err,
                                      size_t errlen);

/* A write failed: remember it, and log it unless the owner reports. */
static void
failed(struct store *st, const char *what, const char *msg)
{
    snprintf(st->last_err, sizeof st->last_err, "%s: %s", what, msg);
    if (!st->quiet)
        log_warn("store: %s", st->last_err);
}

void
store_set_quiet(struct store *st, bool quiet)
{
    st->quiet = quiet;
}

const char *
store_last_error(const struct store *st)
{
    return st->last_err;
}

/*
 * Parameter indexes by (statement, name pointer): sqlite3_bind_parameter_index
 * compares every name of the statement, which showed in profiles of the
 * failure insert (25 parameters). Names are string literals, so pointer
 * identity is a safe key; a miss just asks SQLite. Cleared by store_close
 * (statements die there). Single-threaded, like the rest of the process.
 */
#define PCACHE_SIZE 1024
static struct {
    const sqlite3_stmt *stmt;
    const char *name;
    int idx;
} pcache[PCACHE_SIZE];

static int
param_index(sqlite3_stmt *s, const char *name)
{
    uintptr_t h = ((uintptr_t)s >> 4) * 31u + (uintptr_t)name;
    h = (h ^ (h >> 13) ^ (h >> 7)) % PCACHE_SIZE;
    if (pcache[h].stmt == s && pcache[h].name == name)
        return pcache[h].idx;
    int i = sqlite3_bind_parameter_index(s, name);
    pcache[h].stmt = s;
    pcache[h].name = name;
    pcache[h].idx = i;
    return i;
}

const char *
sql_get(const char *name)
{
    for (int i = 0; sql_texts[i].name; i++)
        if (strcmp(sql_texts[i].name, name) == 0)
            return sql_texts[i].text;
    return NULL;
}

static int
exec_plain(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static struct store *open_store(const char *path, bool readonly, bool any_version, char *err,
                                size_t errlen);

struct store *
store_open(const char *path, bool readonly, char *err, size_t errlen)
{
    return open_store(path, readonly, false, err, errlen);
}

struct store *
store_open_as_is(const char *path, char *err, size_t errlen)
{
    return open_store(path, true, true, err, errlen);
}

/* The schema version this build writes: its newest schema/NNNN. */
static int
schema_latest(void)
{
    int latest = 0;
    for (int i = 0; sql_texts[i].name; i++)
        if (strncmp(sql_texts[i].name, "schema/", 7) == 0 && atoi(sql_texts[i].name + 7) > latest)
            latest = atoi(sql_texts[i].name + 7);
    return latest;
}

static int
migrate(struct store *st, const char *path, char *err, size_t errlen)
{
    int have = store_version(st);
    char msg[256];
    for (int i = 0; sql_texts[i].name; i++) {
        const char *n = sql_texts[i].name;
        if (strncmp(n, "schema/", 7) != 0)
            continue;
        int v = atoi(n + 7);
        if (v <= have)
            continue;
        if (exec_plain(st->db, "BEGIN IMMEDIATE", msg, sizeof msg) != 0 ||
            exec_plain(st->db, sql_texts[i].text, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "%s: migration %s failed: %s", path, n, msg);
            exec_plain(st->db, "ROLLBACK", msg, sizeof msg);
            return -1;
        }
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v);
        if (exec_plain(st->db, pragma, msg, sizeof msg) != 0 ||
            exec_plain(st->db, "COMMIT", msg, sizeof msg) != 0) {
            snprintf(err, errlen, "%s: migration %s failed: %s", path, n, msg);
            exec_plain(st->db, "ROLLBACK", msg, sizeof msg);
            return -1;
        }
        log_debug("store %s: applied %s", path, n);
        have = v;
    }
    return 0;
}

/*
 * File modes. The store holds job data, stack traces and secrets a job may
 * carry: its files are the owner's only (0600), or shared with the
 * operators' group (0660, [store] group) so they can run the CLI and TUI on
 * it. SQLite creates the database file with 0644 less the umask, and
 * creates -wal and -shm with the database file's mode (fchmod'ed, whatever
 * the umask) but the creator's group; its temporary files are 0600 and
 * unlinked at once. So: a tight umask around the open and the first write,
 * the database file's mode and group set when we create it, and -wal/-shm
 * given the database file's group when they are ours.
 */
static void
secure_files(const char *path, bool created, bool readonly)
{
    const char *gname = config_store_group();
    struct group *gr = gname[0] ? getgrnam(gname) : NULL;
    struct stat db;
    if (created) {
        if (chmod(path, gr ? 0660 : 0600) != 0)
            log_warn("store: cannot chmod '%s': %s", path, strerror(errno));
        if (gr && chown(path, (uid_t)-1, gr->gr_gid) != 0)
            log_warn("store: cannot give '%s' to group '%s': %s", path, gname, strerror(errno));
    }
    if (stat(path, &db) != 0)
        return;
    if (!created && !readonly && (db.st_mode & 0007))
        log_warn("store: '%s' is %s by others (mode %04o): it holds job data and stack traces; "
                 "chmod 600 it (or 660 with [store] group)",
                 path, (db.st_mode & 0002) ? "writable" : "readable", (unsigned)(db.st_mode & 07777));
    static const char *const sfx[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
        char f[4096];
        struct stat st;
        snprintf(f, sizeof f, "%s%s", path, sfx[i]);
        if (stat(f, &st) != 0 || st.st_uid != geteuid())
            continue;
        if ((st.st_mode & 0777) != (db.st_mode & 0666))
            (void)chmod(f, db.st_mode & 0666);
        if (st.st_gid != db.st_gid)
            (void)chown(f, (uid_t)-1, db.st_gid);
    }
}

static int64_t
store_page_count(struct store *st)
{
    sqlite3_stmt *s;
    int64_t n = -1;
    if (sqlite3_prepare_v2(st->db, "PRAGMA page_count", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            n = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    return n;
}

static struct store *
open_store(const char *path, bool readonly, bool any_version, char *err, size_t errlen)
{
    /* the umask covers the open and the first write (which creates -wal
     * and -shm); restored on every way out */
    mode_t old_mask = umask(config_store_group()[0] ? 007 : 077);
    bool created = !readonly && access(path, F_OK) != 0;
    struct store *st = store_open_files(path, readonly, any_version, err, errlen);
    if (st) {
        char msg[256];
        if (readonly) /* a first read creates -shm */
            (void)exec_plain(st->db, "SELECT 1 FROM sqlite_master LIMIT 1", msg, sizeof msg);
        secure_files(path, created, readonly);
    }
    umask(old_mask);
    return st;
}

static struct store *
store_open_files(const char *path, bool readonly, bool any_version, char *err, size_t errlen)
{
    struct store *st = xcalloc(1, sizeof *st);
    int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    char msg[256];
    if (readonly && access(path, R_OK) != 0) {
        snprintf(err, errlen, "no audit store at '%s' (has the agent run with this config?)",
                 path);
        free(st);
        return NULL;
    }
    if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open audit store '%s': %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        sqlite3_close(st->db);
        free(st);
        return NULL;
    }
    sqlite3_busy_timeout(st->db, 5000);
    if (!readonly) {
        /* a new store returns the pages retention frees (PRAGMA
         * incremental_vacuum in storeadmin.c); auto_vacuum can only be set
         * before the first table: an existing store is converted by
         * `bullwatch store vacuum`, never here */
        if (store_page_count(st) == 0)
            exec_plain(st->db, "PRAGMA auto_vacuum=INCREMENTAL", msg, sizeof msg);
        if (exec_plain(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                               "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=10000;",
                       msg, sizeof msg) != 0 ||
            migrate(st, path, err, errlen) != 0) {
            if (msg[0] && !err[0])
                snprintf(err, errlen, "cannot set up audit store '%s': %s", path, msg);
            store_close(st);
            return NULL;
        }
    } else {
        exec_plain(st->db, "PRAGMA query_only=1", msg, sizeof msg);
        /* a reader cannot migrate: an older store (the binary upgraded, the
         * agent not restarted yet) is refused by name, not read with
         * statements its tables do not have */
        int v = store_version(st), latest = schema_latest();
        if (!any_version && v > 0 && v < latest) {
            snprintf(err, errlen,
                     "audit store '%s' has schema version %d and this bullwatch reads %d: start "
                     "the agent once (it migrates the store in place), then try again",
                     path, v, latest);
            store_close(st);
            return NULL;
        }
    }
    return st;
}

void
store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->ncache; i++)
        sqlite3_finalize(st->cache[i].stmt);
    free(st->cache);
    memset(pcache, 0, sizeof pcache);
    sqlite3_close(st->db);
    free(st);
}

sqlite3 *
store_db(struct store *st)
{
    return st->db;
}

const char *
store_errmsg(struct store *st)
{
    return sqlite3_errmsg(st->db);
}

int
store_version(struct store *st)
{
    sqlite3_stmt *s;
    int v = 0;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    return v;
}

sqlite3_stmt *
store_stmt(struct store *st, const char *name)
{
    for (int i = 0; i < st->ncache; i++) {
        if (st->cache[i].name == name || strcmp(st->cache[i].name, name) == 0) {
            sqlite3_reset(st->cache[i].stmt);
            sqlite3_clear_bindings(st->cache[i].stmt);
            return st->cache[i].stmt;
        }
    }
    const char *sql = sql_get(name);
    sqlite3_stmt *s = NULL;
    if (!sql) {
        fprintf(stderr, "bullwatch: BUG: no embedded SQL named '%s'\n", name);
        abort();
    }
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "bullwatch: BUG: cannot prepare '%s': %s\n", name,
                sqlite3_errmsg(st->db));
        abort();
    }
    st->cache = xrealloc(st->cache, sizeof *st->cache * (size_t)(st->ncache + 1));
    st->cache[st->ncache].name = name;
    st->cache[st->ncache].stmt = s;
    st->ncache++;
    return s;
}

int
store_run_script(struct store *st, const char *name, const char *param, int64_t value)
{
    const char *sql = sql_get(name);
    const char *tail = sql;
    while (tail && *tail) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(st->db, tail, -1, &s, &tail) != SQLITE_OK) {
            failed(st, name, sqlite3_errmsg(st->db));
            return -1;
        }
        if (!s)
            break;
        store_bind_int(s, param, value);
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
            failed(st, name, sqlite3_errmsg(st->db));
            return -1;
        }
    }
    return 0;
}

int
store_begin(struct store *st)
{
    char msg[256];
    if (exec_plain(st->db, "BEGIN IMMEDIATE", msg, sizeof msg) != 0) {
        failed(st, "cannot begin a transaction", msg);
        return -1;
    }
    return 0;
}

int
store_commit(struct store *st)
{
    char msg[256];
    if (exec_plain(st->db, "COMMIT", msg, sizeof msg) != 0) {
        failed(st, "commit failed", msg);
        store_rollback(st);
        return -1;
    }
    return 0;
}

void
store_rollback(struct store *st)
{
    char msg[256];
    if (!sqlite3_get_autocommit(st->db))
        exec_plain(st->db, "ROLLBACK", msg, sizeof msg);
}

void
store_bind_text(sqlite3_stmt *s, const char *name, const char *p, size_t n)
{
    int i = param_index(s, name);
    if (i > 0)
        sqlite3_bind_text64(s, i, p ? p : "", p ? n : 0, SQLITE_TRANSIENT, SQLITE_UTF8);
}

void
store_bind_str(sqlite3_stmt *s, const char *name, const char *p)
{
    int i = param_index(s, name);
    if (i <= 0)
        return;
    if (p)
        sqlite3_bind_text(s, i, p, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

void
store_bind_int(sqlite3_stmt *s, const char *name, int64_t v)
{
    int i = param_index(s, name);
    if (i > 0)
        sqlite3_bind_int64(s, i, v);
}

void
store_bind_real(sqlite3_stmt *s, const char *name, double v)
{
    int i = param_index(s, name);
    if (i > 0) {
        if (v != v) /* NAN: no value */
            sqlite3_bind_null(s, i);
        else
            sqlite3_bind_double(s, i, v);
    }
}

void
store_bind_null(sqlite3_stmt *s, const char *name)
{
    int i = param_index(s, name);
    if (i > 0)
        sqlite3_bind_null(s, i);
}

int
store_exec(struct store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        failed(st, what, sqlite3_errmsg(st->db));
        sqlite3_reset(s);
        return -1;
    }
    sqlite3_reset(s);
    return 0;
}

void
store_note_error(struct store *st, const char *what)
{
    failed(st, what, sqlite3_errmsg(st->db));
}

uint64_t
store_texts_gen(const struct store *st)
{
    return st->texts_gen;
}

void
store_texts_changed(struct store *st)
{
    st->texts_gen++;
}

int
store_rename_endpoint(struct store *st, const char *from, const char *to)
{
    /* failure_log names its endpoint by id (sql/schema/0010): its rows move
     * to the new name's id when that name has rows already (a death under
     * both names stays under the old), else the name is renamed */
    static const char *const sql_all[] = {
        "UPDATE failure_log SET endpoint_id = (SELECT id FROM endpoints WHERE name = ?2) "
        "WHERE endpoint_id = (SELECT id FROM endpoints WHERE name = ?1) "
        "AND EXISTS (SELECT 1 FROM endpoints WHERE name = ?2) "
        "AND NOT EXISTS (SELECT 1 FROM failure_log d WHERE d.queue_id = failure_log.queue_id "
        "AND d.job_id = failure_log.job_id AND +d.finished_at = failure_log.finished_at "
        "AND d.endpoint_id = (SELECT id FROM endpoints WHERE name = ?2))",
        "UPDATE OR IGNORE minute_log SET endpoint_id = (SELECT id FROM endpoints WHERE name = ?2) "
        "WHERE endpoint_id = (SELECT id FROM endpoints WHERE name = ?1) "
        "AND EXISTS (SELECT 1 FROM endpoints WHERE name = ?2)",
        "UPDATE OR IGNORE endpoints SET name = ?2 WHERE name = ?1",
        "UPDATE OR IGNORE cursors SET endpoint = ?2 WHERE endpoint = ?1",
        "UPDATE OR IGNORE failure_hours SET endpoint = ?2 WHERE endpoint = ?1",
        "UPDATE OR IGNORE gaps SET endpoint = ?2 WHERE endpoint = ?1",
        "UPDATE OR IGNORE queue_depths SET endpoint = ?2 WHERE endpoint = ?1",
        "UPDATE OR IGNORE depth_samples SET endpoint = ?2 WHERE endpoint = ?1",
        "UPDATE OR IGNORE actions SET endpoint = ?2 WHERE endpoint = ?1",
        "UPDATE OR IGNORE queue_counters SET endpoint = ?2 WHERE endpoint = ?1",
        "UPDATE OR IGNORE queue_signatures SET endpoint = ?2 WHERE endpoint = ?1"};
    sqlite3_stmt *s;
    bool found = false;
    if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM cursors WHERE endpoint = ?1 UNION ALL "
                                   "SELECT 1 FROM endpoints WHERE name = ?1 LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK) {
        failed(st, "endpoint rename", sqlite3_errmsg(st->db));
        return -1;
    }
    sqlite3_bind_text(s, 1, from, -1, SQLITE_TRANSIENT);
    found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    if (!found)
        return 0;
    if (store_begin(st) != 0)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < sizeof sql_all / sizeof sql_all[0]; i++) {
        if (sqlite3_prepare_v2(st->db, sql_all[i], -1, &s, NULL) != SQLITE_OK) {
            failed(st, "endpoint rename", sqlite3_errmsg(st->db));
            store_rollback(st);
            return -1;
        }
        sqlite3_bind_text(s, 1, from, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, to, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE) {
            failed(st, "endpoint rename", sqlite3_errmsg(st->db));
            store_rollback(st);
            return -1;
        }
        n += sqlite3_changes(st->db);
    }
    if (store_commit(st) != 0)
        return -1;
    return n > INT32_MAX ? INT32_MAX : (int)n;
}
