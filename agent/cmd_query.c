/*
 * cmd_query: run a canned query (sql/queries/NAME.sql, embedded) or a .sql
 * file on a READ-ONLY handle of the audit store. Parameters (:name) come from
 * --param k=v; absent ones are NULL. since/until accept durations ("2h"),
 * epoch ms or ISO timestamps. Output: aligned table, --json or --csv.
 *
 * Read-only three times over: the handle is opened read-only with
 * query_only set, an authorizer refuses every write, ATTACH/DETACH, pragmas
 * that set something and load_extension, and VACUUM (VACUUM INTO writes a
 * new file, which neither of the others stops) is refused by name. Exactly
 * one statement: text after it other than ';', whitespace and comments is
 * an error naming its position, never silently ignored.
 *
 * Cells are untrusted text (job data, reasons, names): the table and CSV
 * escape them like every other writer (buf_add_escaped: controls, bidi
 * controls, invalid UTF-8), JSON writes \u escapes. --raw writes the bytes
 * as stored (CSV/table unescaped, JSON with only the escapes JSON needs).
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "buf.h"
#include "log.h"
#include "opts.h"
#include "sqlembed.h"
#include "store.h"
#include "util.h"
#include "xmem.h"

#define TABLE_CELL_MAX 60

static void
list_queries(FILE *out)
{
    fprintf(out, "canned queries:");
    for (int i = 0; sql_texts[i].name; i++)
        if (!strncmp(sql_texts[i].name, "queries/", 8))
            fprintf(out, " %s", sql_texts[i].name + 8);
    fprintf(out, "\n");
}

static char *
read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[4096];
    size_t n;
    if (!f) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    buf_init(&b, 1024 * 1024);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    if (b.truncated) {
        snprintf(err, errlen, "'%s' is larger than 1 MB", path);
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

/* A JSON string literal with only the escapes JSON requires (quote,
 * backslash, C0 controls): --raw --json, bytes otherwise as stored. */
static void
json_raw_str(struct buf *b, const char *s, size_t n)
{
    buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf_addc(b, '\\');
            buf_addc(b, (char)c);
        } else if (c < 0x20) {
            buf_addf(b, "\\u%04x", c);
        } else {
            buf_addc(b, (char)c);
        }
    }
    buf_addc(b, '"');
}

static bool opt_raw;

static void
cell_text(sqlite3_stmt *s, int c, struct buf *b, bool json)
{
    switch (sqlite3_column_type(s, c)) {
    case SQLITE_NULL:
        buf_adds(b, json ? "null" : "");
        break;
    case SQLITE_INTEGER:
        buf_addf(b, "%lld", (long long)sqlite3_column_int64(s, c));
        break;
    case SQLITE_FLOAT:
        buf_addf(b, "%.17g", sqlite3_column_double(s, c));
        break;
    default: {
        const char *t = (const char *)sqlite3_column_blob(s, c);
        size_t n = (size_t)sqlite3_column_bytes(s, c);
        if (json && opt_raw)
            json_raw_str(b, t ? t : "", n);
        else if (json)
            buf_add_json_str(b, t ? t : "", n);
        else
            buf_add(b, t ? t : "", n);
    }
    }
}

/* One CSV field (RFC 4180), escaped like the table unless --raw: a file
 * written with --csv is read on a terminal too (cat, less -r). */
static void
csv_field(struct buf *b, const char *raw, size_t rawn)
{
    struct buf e;
    buf_init(&e, 0);
    const char *s = raw;
    size_t n = rawn;
    if (!opt_raw) {
        buf_add_escaped(&e, raw, rawn);
        s = e.data ? e.data : "";
        n = e.len;
    }
    if (n && !memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
        !memchr(s, '\r', n)) {
        buf_add(b, s, n);
        buf_release(&e);
        return;
    }
    buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            buf_addc(b, '"');
        buf_addc(b, s[i]);
    }
    buf_addc(b, '"');
    buf_release(&e);
}

/* A column that holds a point in time as epoch ms, by the schema's names
 * (finished_at, first_seen, minute_start, gaps' from_ms/to_ms): a table shows
 * it as ISO-8601 UTC, JSON and CSV keep the number (machines read those). */
static bool
is_time_column(const char *name)
{
    static const char *const suffixes[] = {"_at", "_seen", "_start", NULL};
    size_t n = strlen(name);
    if (!strcmp(name, "from_ms") || !strcmp(name, "to_ms"))
        return true;
    for (int i = 0; suffixes[i]; i++) {
        size_t l = strlen(suffixes[i]);
        if (n > l && !strcmp(name + n - l, suffixes[i]))
            return true;
    }
    return false;
}

/* Why the authorizer refused the statement (the first refusal, for the
 * message). */
static char denied[160];

static const char *
action_name(int action)
{
    switch (action) {
    case SQLITE_INSERT:
        return "INSERT";
    case SQLITE_UPDATE:
        return "UPDATE";
    case SQLITE_DELETE:
        return "DELETE";
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_VTABLE:
        return "CREATE";
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_VTABLE:
        return "DROP";
    case SQLITE_ALTER_TABLE:
        return "ALTER TABLE";
    case SQLITE_REINDEX:
        return "REINDEX";
    case SQLITE_ANALYZE:
        return "ANALYZE";
    default:
        return "a statement that writes";
    }
}

static int
authorize(void *ud, int action, const char *a3, const char *a4, const char *db, const char *trig)
{
    (void)ud;
    (void)a4;
    (void)db;
    (void)trig;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        if (a4 && !strcasecmp(a4, "load_extension")) {
            if (!denied[0])
                snprintf(denied, sizeof denied, "load_extension() is refused: query only reads");
            return SQLITE_DENY;
        }
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        /* reading a pragma (PRAGMA table_info(failures), PRAGMA user_version)
         * is fine; giving one a value is a write */
        if (a4 == NULL || (a3 && (!strcasecmp(a3, "table_info") || !strcasecmp(a3, "table_xinfo") ||
                                  !strcasecmp(a3, "index_list") || !strcasecmp(a3, "index_info") ||
                                  !strcasecmp(a3, "index_xinfo") ||
                                  !strcasecmp(a3, "foreign_key_list"))))
            return SQLITE_OK;
        if (!denied[0])
            snprintf(denied, sizeof denied, "PRAGMA %.60s = ... is refused: query only reads", a3 ? a3 : "?");
        return SQLITE_DENY;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        if (!denied[0])
            snprintf(denied, sizeof denied,
                 "%s is refused: query reads the audit store only (copy one with 'bullwatch store "
                 "backup FILE')",
                 action == SQLITE_ATTACH ? "ATTACH" : "DETACH");
        return SQLITE_DENY;
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        if (!denied[0])
            snprintf(denied, sizeof denied, "transaction control is refused: query runs one SELECT");
        return SQLITE_DENY;
    default:
        /* CREATE, DROP and ANALYZE first write the schema tables: name the
         * statement, not that write */
        if (!denied[0] && !((action == SQLITE_INSERT || action == SQLITE_UPDATE ||
                              action == SQLITE_DELETE) && a3 && !strncmp(a3, "sqlite_", 7)))
            snprintf(denied, sizeof denied, "%s is refused: query only reads", action_name(action));
        return SQLITE_DENY;
    }
}

/* Skip whitespace, ';' and SQL comments from p; returns where other text
 * starts (or the end). */
static const char *
skip_tail(const char *p)
{
    for (;;) {
        while (*p == ';' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' ||
               *p == '\v')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* First keyword of a statement (after comments), upper-cased, in kw. */
static void
first_word(const char *p, char *kw, size_t kwlen)
{
    size_t o = 0;
    p = skip_tail(p);
    while (*p && o + 1 < kwlen && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        kw[o++] = (char)(*p >= 'a' ? *p - 32 : *p), p++;
    kw[o] = '\0';
}

/* The command line of query: what it is told as getopt_long goes. */
struct qargs {
    int mode; /* OUT_TABLE, OUT_JSON, OUT_CSV */
    bool raw;
    char **pk, **pv; /* --param k=v, in order */
    int np;
    bool bad;
};

enum { Q_JSON, Q_CSV, Q_RAW, Q_PARAM };
static const struct opt query_opts[] = {
    {"json", false, Q_JSON}, {"csv", false, Q_CSV}, {"raw", false, Q_RAW},
    {"param", true, Q_PARAM}, {NULL, false, 0},
};

static int
on_opt(void *ud, int id, const char *v)
{
    struct qargs *q = ud;
    if (id == Q_JSON || id == Q_CSV) {
        q->mode = id == Q_JSON ? 1 : 2;
    } else if (id == Q_RAW) {
        q->raw = true;
    } else {
        const char *eq = strchr(v, '=');
        if (!eq || eq == v) {
            fprintf(stderr, "bullwatch query: --param needs k=v, not '%s'\n", v);
            q->bad = true;
            return -1;
        }
        q->pk[q->np] = xstrndup(v, (size_t)(eq - v));
        q->pv[q->np] = xstrdup(eq + 1);
        q->np++;
    }
    return 0;
}

int
cmd_query(int argc, char **argv)
{
    const char *path = NULL, *what = NULL;
    enum { OUT_TABLE, OUT_JSON, OUT_CSV } mode = OUT_TABLE;
    char **pk = xcalloc((size_t)argc, sizeof *pk);
    char **pv = xcalloc((size_t)argc, sizeof *pv);
    int np = 0, rc = EXIT_OK;
    char err[512];
    struct config cfg;
    char *sqltext = NULL;
    struct store *st = NULL;
    sqlite3_stmt *s = NULL;
    bool cfg_loaded = false;

    struct qargs qa = {OUT_TABLE, false, pk, pv, 0, false};
    char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
    int npos = 0;
    if (opts_parse("query", argc, argv, query_opts, on_opt, &qa, &path, pos, &npos) != 0 ||
        qa.bad) {
        free(pos);
        np = qa.np;
        rc = EXIT_USAGE;
        goto out;
    }
    mode = qa.mode;
    opt_raw = qa.raw;
    np = qa.np;
    if (npos > 1) {
        fprintf(stderr, "bullwatch query: one query at a time ('%s' and '%s')\n", pos[0], pos[1]);
        free(pos);
        rc = EXIT_USAGE;
        goto out;
    }
    what = npos ? pos[0] : NULL;
    free(pos);
    if (!what) {
        fprintf(stderr, "usage: bullwatch query NAME|FILE.sql [--param k=v]... [--json|--csv] "
                        "[--raw]\n"
                        "  --raw: cells as stored (control, bidi and invalid bytes not escaped)\n");
        list_queries(stderr);
        rc = EXIT_USAGE;
        goto out;
    }
    size_t wl = strlen(what);
    if (wl > 4 && !strcmp(what + wl - 4, ".sql")) {
        sqltext = read_file(what, err, sizeof err);
        if (!sqltext) {
            fprintf(stderr, "bullwatch query: %s\n", err);
            rc = EXIT_USAGE;
            goto out;
        }
    } else {
        char name[256];
        snprintf(name, sizeof name, "queries/%s", what);
        const char *t = sql_get(name);
        if (!t) {
            fprintf(stderr, "bullwatch query: no canned query named '%s'\n", what);
            list_queries(stderr);
            rc = EXIT_USAGE;
            goto out;
        }
        sqltext = xstrdup(t);
    }
    if (cmd_load_config(&cfg, path) != 0) {
        config_release(&cfg);
        rc = EXIT_USAGE;
        goto out;
    }
    cfg_loaded = true;
    st = store_open(cfg.store_path, true, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bullwatch query: %s\n", err);
        rc = EXIT_RUNTIME;
        goto out;
    }
    char kw[16];
    first_word(sqltext, kw, sizeof kw);
    if (!strcmp(kw, "VACUUM")) {
        fprintf(stderr, "bullwatch query: %s: VACUUM is refused: query only reads (VACUUM INTO "
                        "writes a file; copy a store with 'bullwatch store backup FILE')\n",
                what);
        rc = EXIT_USAGE;
        goto out;
    }
    sqlite3_set_authorizer(store_db(st), authorize, NULL);
    denied[0] = '\0';
    const char *tail = NULL;
    if (sqlite3_prepare_v2(store_db(st), sqltext, -1, &s, &tail) != SQLITE_OK || !s) {
        if (denied[0])
            fprintf(stderr, "bullwatch query: %s: %s\n", what, denied);
        else if (sqlite3_errcode(store_db(st)) == SQLITE_AUTH ||
                 !strcmp(store_errmsg(st), "not authorized"))
            fprintf(stderr, "bullwatch query: %s: %s is refused: query only reads\n", what,
                    kw[0] ? kw : "the statement");
        else if (!s && sqlite3_errcode(store_db(st)) == SQLITE_OK)
            fprintf(stderr, "bullwatch query: %s: no SQL statement in it\n", what);
        else
            fprintf(stderr, "bullwatch query: %s: %s\n", what, store_errmsg(st));
        rc = EXIT_USAGE;
        goto out;
    }
    const char *rest = tail ? skip_tail(tail) : "";
    if (*rest) {
        size_t off = (size_t)(rest - sqltext);
        int line = 1, col = 1;
        for (const char *p = sqltext; p < rest; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        size_t show = strcspn(rest, "\n");
        fprintf(stderr,
                "bullwatch query: %s: line %d, column %d (byte %zu): text after the first "
                "statement: '%s%s' (one statement per query)\n",
                what, line, col, off + 1, log_esc(rest, show > 40 ? 40 : show),
                show > 40 ? "..." : "");
        rc = EXIT_USAGE;
        goto out;
    }
    if (!sqlite3_stmt_readonly(s)) {
        fprintf(stderr, "bullwatch query: %s: the statement writes and is refused: query only "
                        "reads\n", what);
        rc = EXIT_USAGE;
        goto out;
    }
    int64_t now = now_ms();
    for (int i = 0; i < np; i++) {
        char pname[300];
        snprintf(pname, sizeof pname, ":%s", pk[i]);
        int idx = sqlite3_bind_parameter_index(s, pname);
        if (idx <= 0) {
            fprintf(stderr, "bullwatch query: '%s' takes no parameter '%s'\n", what, pk[i]);
            rc = EXIT_USAGE;
            goto out;
        }
        int64_t v;
        if (!strcmp(pk[i], "since") || !strcmp(pk[i], "until")) {
            if (parse_time_ms(pv[i], now, &v) != 0) {
                fprintf(stderr,
                        "bullwatch query: bad %s '%s': expected a duration (2h), epoch ms or "
                        "2026-11-23T10:00:00Z\n",
                        pk[i], pv[i]);
                rc = EXIT_USAGE;
                goto out;
            }
            sqlite3_bind_int64(s, idx, v);
        } else if (parse_int64(pv[i], &v) == 0 && strcmp(pk[i], "job_id") != 0 &&
                   strcmp(pk[i], "queue") != 0) {
            sqlite3_bind_int64(s, idx, v);
        } else {
            sqlite3_bind_text(s, idx, pv[i], -1, SQLITE_TRANSIENT);
        }
    }
    int ncol = sqlite3_column_count(s);
    struct buf out;
    buf_init(&out, 0);
    /* table mode buffers cells to size columns */
    char ***rows = NULL;
    int nrows = 0, caprows = 0;
    int *width = xcalloc((size_t)(ncol ? ncol : 1), sizeof *width);
    if (mode == OUT_CSV) {
        for (int c = 0; c < ncol; c++) {
            const char *n = sqlite3_column_name(s, c);
            if (c)
                buf_addc(&out, ',');
            csv_field(&out, n, strlen(n));
        }
        buf_addc(&out, '\n');
    } else if (mode == OUT_JSON) {
        buf_addc(&out, '[');
    } else {
        for (int c = 0; c < ncol; c++)
            width[c] = (int)strlen(log_esc(sqlite3_column_name(s, c), strlen(sqlite3_column_name(s, c))));
    }
    int step;
    struct buf cell;
    buf_init(&cell, 0);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        if (mode == OUT_JSON) {
            buf_adds(&out, nrows ? ",\n{" : "\n{");
            for (int c = 0; c < ncol; c++) {
                const char *n = sqlite3_column_name(s, c);
                if (c)
                    buf_addc(&out, ',');
                buf_add_json_str(&out, n, strlen(n));
                buf_addc(&out, ':');
                cell_text(s, c, &out, true);
            }
            buf_addc(&out, '}');
            nrows++;
        } else if (mode == OUT_CSV) {
            for (int c = 0; c < ncol; c++) {
                if (c)
                    buf_addc(&out, ',');
                buf_reset(&cell);
                cell_text(s, c, &cell, false);
                csv_field(&out, cell.data ? cell.data : "", cell.len);
            }
            buf_addc(&out, '\n');
            nrows++;
        } else {
            if (nrows == caprows) {
                caprows = caprows ? caprows * 2 : 64;
                rows = xrealloc(rows, sizeof *rows * (size_t)caprows);
            }
            rows[nrows] = xcalloc((size_t)(ncol ? ncol : 1), sizeof **rows);
            for (int c = 0; c < ncol; c++) {
                struct buf e;
                buf_reset(&cell);
                int64_t ms = sqlite3_column_int64(s, c);
                if (sqlite3_column_type(s, c) == SQLITE_INTEGER && ms >= 100000000000LL &&
                    ms < 10000000000000LL && is_time_column(sqlite3_column_name(s, c))) {
                    char when[40];
                    format_utc(ms, "%Y-%m-%dT%H:%M:%SZ", when, sizeof when);
                    buf_adds(&cell, when);
                } else {
                    cell_text(s, c, &cell, false);
                }
                buf_init(&e, TABLE_CELL_MAX * 4);
                if (opt_raw)
                    buf_add(&e, cell.data ? cell.data : "", cell.len);
                else
                    buf_add_escaped(&e, cell.data ? cell.data : "", cell.len);
                if (e.len > TABLE_CELL_MAX) {
                    e.len = TABLE_CELL_MAX - 3;
                    while (e.len > 0 && ((unsigned char)e.data[e.len] & 0xc0) == 0x80)
                        e.len--;
                    e.data[e.len] = '\0';
                    buf_adds(&e, "...");
                }
                rows[nrows][c] = buf_detach(&e, NULL);
                int w = (int)strlen(rows[nrows][c]);
                if (w > width[c])
                    width[c] = w;
            }
            nrows++;
        }
    }
    buf_release(&cell);
    if (step != SQLITE_DONE) {
        fprintf(stderr, "bullwatch query: %s: %s\n", what, store_errmsg(st));
        rc = EXIT_RUNTIME;
    } else if (mode == OUT_JSON) {
        buf_adds(&out, nrows ? "\n]\n" : "]\n");
    } else if (mode == OUT_TABLE) {
        for (int c = 0; c < ncol; c++)
            buf_addf(&out, "%-*s%s", c + 1 < ncol ? width[c] : 0,
                     log_esc(sqlite3_column_name(s, c), strlen(sqlite3_column_name(s, c))),
                     c + 1 < ncol ? "  " : "\n");
        for (int r = 0; r < nrows; r++)
            for (int c = 0; c < ncol; c++)
                buf_addf(&out, "%-*s%s", c + 1 < ncol ? width[c] : 0, rows[r][c],
                         c + 1 < ncol ? "  " : "\n");
        buf_addf(&out, "(%d row%s)\n", nrows, nrows == 1 ? "" : "s");
    }
    if (rc == EXIT_OK && out.len)
        fwrite(out.data, 1, out.len, stdout);
    buf_release(&out);
    for (int r = 0; r < nrows && rows; r++) {
        for (int c = 0; c < ncol; c++)
            free(rows[r][c]);
        free(rows[r]);
    }
    free(rows);
    free(width);
out:
    if (s)
        sqlite3_finalize(s);
    store_close(st);
    if (cfg_loaded)
        config_release(&cfg);
    free(sqltext);
    for (int i = 0; i < np; i++) {
        free(pk[i]);
        free(pv[i]);
    }
    free(pk);
    free(pv);
    return rc;
}
