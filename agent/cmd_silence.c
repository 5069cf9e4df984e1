/*
 * cmd_silence: `bullwatch silence add|list|expire`. A silence holds back the
 * notifications of the alerts its matchers select (rule=GLOB, queue=GLOB,
 * severity=GLOB, all of them) until it expires; the alerts still change
 * state and are recorded. Stored in the audit store; the agent reads them
 * on each evaluation timer.
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "silence.h"
#include "store.h"
#include "util.h"

static void
silence_usage(void)
{
    fprintf(stderr,
            "usage: bullwatch silence add MATCHER... --comment WHY [--for 2h | --until TIME]\n"
            "                             [--author NAME] [-c FILE]\n"
            "       bullwatch silence list [--all] [--json] [-c FILE]\n"
            "       bullwatch silence expire ID [-c FILE]\n"
            "MATCHER: rule=GLOB, queue=GLOB or severity=GLOB (all must match)\n");
}

static int
add(struct store *st, int argc, char **argv, int64_t now)
{
    struct buf m;
    const char *author = silence_author(), *comment = NULL;
    int64_t until = now + 3600000;
    buf_init(&m, 0);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "--comment") || !strcmp(a, "--author") || !strcmp(a, "--for") ||
             !strcmp(a, "--until")) && i + 1 >= argc) {
            fprintf(stderr, "bullwatch silence add: %s needs a value\n", a);
            goto bad;
        }
        if (!strcmp(a, "--comment")) {
            comment = argv[++i];
        } else if (!strcmp(a, "--author")) {
            author = argv[++i];
        } else if (!strcmp(a, "--for")) {
            int64_t d;
            if (parse_duration_ms(argv[++i], &d) != 0 || d <= 0) {
                fprintf(stderr, "bullwatch silence add: bad --for '%s' (e.g. 30m, 2h)\n", argv[i]);
                goto bad;
            }
            until = now + d;
        } else if (!strcmp(a, "--until")) {
            if (parse_time_ms(argv[++i], now, &until) != 0 || until <= now) {
                fprintf(stderr, "bullwatch silence add: bad --until '%s' (a future time)\n", argv[i]);
                goto bad;
            }
        } else if (!strncmp(a, "rule=", 5) || !strncmp(a, "queue=", 6) || !strncmp(a, "severity=", 9)) {
            if (strchr(a, ',')) {
                fprintf(stderr, "bullwatch silence add: a matcher holds no ',': '%s'\n", a);
                goto bad;
            }
            buf_addf(&m, "%s%s", m.len ? "," : "", a);
        } else {
            fprintf(stderr, "bullwatch silence add: unknown argument '%s'\n", a);
            goto bad;
        }
    }
    if (!m.len || !comment || !*comment) {
        fprintf(stderr, "bullwatch silence add: needs at least one matcher and --comment\n");
        goto bad;
    }
    int64_t id;
    char err[300];
    if (silence_add(st, m.data, author, comment, now, until, &id, err, sizeof err) != 0) {
        fprintf(stderr, "bullwatch silence add: %s\n", err);
        buf_release(&m);
        return EXIT_RUNTIME;
    }
    char d[32];
    format_duration(until - now, d, sizeof d);
    printf("silence %lld: %s, by %s, for %s: %s\n", (long long)id,
           m.data, log_esc(author, strlen(author)), d, log_esc(comment, strlen(comment)));
    buf_release(&m);
    return EXIT_OK;
bad:
    buf_release(&m);
    silence_usage();
    return EXIT_USAGE;
}

static int
list(struct store *st, int argc, char **argv, int64_t now)
{
    bool all = false, json = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--all"))
            all = true;
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else {
            fprintf(stderr, "bullwatch silence list: unknown argument '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(store_db(st),
                           "SELECT id, matchers, author, comment, created_at, expires_at FROM silences "
                           "WHERE ? OR expires_at > ? ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return EXIT_RUNTIME;
    sqlite3_bind_int(s, 1, all);
    sqlite3_bind_int64(s, 2, now);
    struct buf b;
    buf_init(&b, 0);
    if (json)
        buf_adds(&b, "[");
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(s, 1);
        const char *au = (const char *)sqlite3_column_text(s, 2);
        const char *co = (const char *)sqlite3_column_text(s, 3);
        int64_t exp = sqlite3_column_int64(s, 5);
        if (json) {
            buf_addf(&b, "%s{\"id\":%lld,\"matchers\":", n ? "," : "", (long long)sqlite3_column_int64(s, 0));
            buf_add_json_str(&b, m, strlen(m));
            buf_adds(&b, ",\"author\":");
            buf_add_json_str(&b, au, strlen(au));
            buf_adds(&b, ",\"comment\":");
            buf_add_json_str(&b, co, strlen(co));
            buf_addf(&b, ",\"created_at\":%lld,\"expires_at\":%lld,\"active\":%s}",
                     (long long)sqlite3_column_int64(s, 4), (long long)exp, exp > now ? "true" : "false");
        } else {
            char d[32];
            format_duration(exp > now ? exp - now : now - exp, d, sizeof d);
            buf_addf(&b, "%-5lld %-40s %-12s %s %-8s %s\n", (long long)sqlite3_column_int64(s, 0), m,
                     log_esc(au, strlen(au)), exp > now ? "expires in" : "expired   ", d,
                     log_esc(co, strlen(co)));
        }
        n++;
    }
    sqlite3_finalize(s);
    if (json)
        buf_adds(&b, "]\n");
    else if (n == 0)
        buf_adds(&b, all ? "no silences\n" : "no active silences\n");
    fwrite(b.data, 1, b.len, stdout);
    buf_release(&b);
    return EXIT_OK;
}

static int
expire(struct store *st, int argc, char **argv, int64_t now)
{
    int64_t id;
    if (argc != 1 || parse_int64(argv[0], &id) != 0) {
        silence_usage();
        return EXIT_USAGE;
    }
    int rc = silence_expire(st, id, now);
    if (rc < 0)
        return EXIT_RUNTIME;
    if (rc == 0) {
        fprintf(stderr, "bullwatch silence expire: no active silence %lld\n", (long long)id);
        return EXIT_USAGE;
    }
    printf("silence %lld expired\n", (long long)id);
    return EXIT_OK;
}

int
cmd_silence(int argc, char **argv)
{
    const char *path = NULL;
    char *rest[64];
    int n = 0;
    if (argc < 2) {
        silence_usage();
        return EXIT_USAGE;
    }
    for (int i = 2; i < argc && n < 64; i++) {
        int r = cmd_config_opt(argc, argv, &i, &path);
        if (r < 0)
            return EXIT_USAGE;
        if (r == 0)
            rest[n++] = argv[i];
    }
    const char *verb = argv[1];
    bool mutating = !strcmp(verb, "add") || !strcmp(verb, "expire");
    if (!mutating && strcmp(verb, "list") != 0) {
        fprintf(stderr, "bullwatch silence: unknown action '%s'\n", verb);
        silence_usage();
        return EXIT_USAGE;
    }
    struct config cfg;
    if (cmd_load_config(&cfg, path) != 0) {
        config_release(&cfg);
        return EXIT_USAGE;
    }
    if (mutating && cfg.read_only) {
        fprintf(stderr, "bullwatch silence %s: refused: read_only = true in the config\n", verb);
        config_release(&cfg);
        return EXIT_USAGE;
    }
    char err[512];
    struct store *st = store_open(cfg.store_path, false, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bullwatch silence: %s\n", err);
        config_release(&cfg);
        return EXIT_RUNTIME;
    }
    int64_t now = now_ms();
    int rc = !strcmp(verb, "add") ? add(st, n, rest, now)
             : !strcmp(verb, "list") ? list(st, n, rest, now)
                                     : expire(st, n, rest, now);
    store_close(st);
    config_release(&cfg);
    return rc;
}
