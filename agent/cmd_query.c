/*
 * cmd_query: run a canned query (sql/queries/NAME.sql, embedded) or a .sql
 * file on a READ-ONLY handle of the audit store. Parameters (:name) come from
 * --param k=v; absent ones are NULL. since/until accept durations ("2h"),
 * epoch ms or ISO timestamps. Output: aligned table, --json or --csv.
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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
        if (json)
            buf_add_json_str(b, t ? t : "", n);
        else
            buf_add(b, t ? t : "", n);
    }
    }
}

static void
csv_field(struct buf *b, const char *s, size_t n)
{
    if (n && !memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
        !memchr(s, '\r', n)) {
        buf_add(b, s, n);
        return;
    }
    buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            buf_addc(b, '"');
        buf_addc(b, s[i]);
    }
    buf_addc(b, '"');
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

    for (int i = 1; i < argc; i++) {
        int r = cmd_config_opt(argc, argv, &i, &path);
        if (r < 0) {
            rc = EXIT_USAGE;
            goto out;
        }
        if (r == 1)
            continue;
        if (!strcmp(argv[i], "--json")) {
            mode = OUT_JSON;
        } else if (!strcmp(argv[i], "--csv")) {
            mode = OUT_CSV;
        } else if (!strcmp(argv[i], "--param") || !strcmp(argv[i], "-p")) {
            char *eq = i + 1 < argc ? strchr(argv[i + 1], '=') : NULL;
            if (!eq || eq == argv[i + 1]) {
                fprintf(stderr, "bullwatch query: --param needs k=v\n");
                rc = EXIT_USAGE;
                goto out;
            }
            i++;
            pk[np] = xstrndup(argv[i], (size_t)(eq - argv[i]));
            pv[np] = xstrdup(eq + 1);
            np++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "bullwatch query: unknown option '%s'\n", argv[i]);
            rc = EXIT_USAGE;
            goto out;
        } else if (!what) {
            what = argv[i];
        } else {
            fprintf(stderr, "bullwatch query: one query at a time ('%s' and '%s')\n", what,
                    argv[i]);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (!what) {
        fprintf(stderr, "usage: bullwatch query NAME|FILE.sql [--param k=v]... [--json|--csv]\n");
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
    if (sqlite3_prepare_v2(store_db(st), sqltext, -1, &s, NULL) != SQLITE_OK || !s) {
        fprintf(stderr, "bullwatch query: %s: %s\n", what, store_errmsg(st));
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
            width[c] = (int)strlen(sqlite3_column_name(s, c));
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
                cell_text(s, c, &cell, false);
                buf_init(&e, TABLE_CELL_MAX * 4);
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
            buf_addf(&out, "%-*s%s", c + 1 < ncol ? width[c] : 0, sqlite3_column_name(s, c),
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
