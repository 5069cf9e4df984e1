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
#include "opts.h"
#include "xmem.h"
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
            "MATCHER: rule=GLOB, queue=GLOB, severity=GLOB or signature=ID (a new\n"
            "error signature's alert; all must match)\n");
}

/* What the command line said: the verb's words and the options of all
 * three verbs (each verb refuses the others'). */
struct sargs {
    char **pos; /* after the verb: matchers (add) or the id (expire) */
    int npos;
    const char *comment, *author, *for_, *until;
    bool all, json;
};

enum { S_COMMENT, S_AUTHOR, S_FOR, S_UNTIL, S_ALL, S_JSON };
static const struct opt silence_opts[] = {
    {"comment", true, S_COMMENT}, {"author", true, S_AUTHOR}, {"for", true, S_FOR},
    {"until", true, S_UNTIL},     {"all", false, S_ALL},      {"json", false, S_JSON},
    {NULL, false, 0},
};

static int
on_opt(void *ud, int id, const char *v)
{
    struct sargs *a = ud;
    switch (id) {
    case S_COMMENT: a->comment = v; break;
    case S_AUTHOR: a->author = v; break;
    case S_FOR: a->for_ = v; break;
    case S_UNTIL: a->until = v; break;
    case S_ALL: a->all = true; break;
    case S_JSON: a->json = true; break;
    }
    return 0;
}

/* A matcher is KEY=GLOB: rule, severity or a label (endpoint, queue). */
static bool
is_matcher(const char *a)
{
    size_t k = strspn(a, "abcdefghijklmnopqrstuvwxyz_");
    return k > 0 && a[k] == '=';
}

static int
add(struct store *st, const struct sargs *sa, int64_t now)
{
    struct buf m;
    const char *author = sa->author ? sa->author : silence_author(), *comment = sa->comment;
    int64_t until = now + 3600000;
    buf_init(&m, 0);
    if (sa->all || sa->json) {
        fprintf(stderr, "bullwatch silence add: --all and --json are for list\n");
        goto bad;
    }
    if (sa->for_) {
        int64_t d;
        if (parse_duration_ms(sa->for_, &d) != 0 || d <= 0) {
            fprintf(stderr, "bullwatch silence add: bad --for '%s' (e.g. 30m, 2h)\n", sa->for_);
            goto bad;
        }
        until = now + d;
    }
    if (sa->until && (parse_time_ms(sa->until, now, &until) != 0 || until <= now)) {
        fprintf(stderr, "bullwatch silence add: bad --until '%s' (a future time)\n", sa->until);
        goto bad;
    }
    for (int i = 0; i < sa->npos; i++) {
        const char *a = sa->pos[i];
        if (!is_matcher(a)) {
            fprintf(stderr, "bullwatch silence add: not a KEY=GLOB matcher: '%s'\n", a);
            goto bad;
        }
        if (strchr(a, ',')) {
            fprintf(stderr, "bullwatch silence add: a matcher holds no ',': '%s'\n", a);
            goto bad;
        }
        buf_addf(&m, "%s%s", m.len ? "," : "", a);
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
list(struct store *st, const struct sargs *sa, int64_t now)
{
    bool all = sa->all, json = sa->json;
    if (sa->npos || sa->comment || sa->author || sa->for_ || sa->until) {
        fprintf(stderr, "bullwatch silence list: takes only --all and --json\n");
        return EXIT_USAGE;
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
expire(struct store *st, const struct sargs *sa, int64_t now)
{
    int64_t id;
    if (sa->npos != 1 || parse_int64(sa->pos[0], &id) != 0 || sa->comment || sa->all || sa->json) {
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

static int
run(int argc, char **argv, struct sargs *sa, const char **path)
{
    /* argv[1] is the verb: it stands where getopt expects the program name */
    if (opts_parse("silence", argc - 1, argv + 1, silence_opts, on_opt, sa, path, sa->pos,
                   &sa->npos) != 0)
        return EXIT_USAGE;
    const char *verb = argv[1];
    bool mutating = !strcmp(verb, "add") || !strcmp(verb, "expire");
    if (!mutating && strcmp(verb, "list") != 0) {
        fprintf(stderr, "bullwatch silence: unknown action '%s'\n", verb);
        silence_usage();
        return EXIT_USAGE;
    }
    struct config cfg;
    if (cmd_load_config(&cfg, *path) != 0) {
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
    int rc = !strcmp(verb, "add") ? add(st, sa, now)
             : !strcmp(verb, "list") ? list(st, sa, now)
                                     : expire(st, sa, now);
    store_close(st);
    config_release(&cfg);
    return rc;
}

int
cmd_silence(int argc, char **argv)
{
    const char *path = NULL;
    if (argc < 2) {
        silence_usage();
        return EXIT_USAGE;
    }
    struct sargs sa;
    memset(&sa, 0, sizeof sa);
    sa.pos = xcalloc((size_t)argc + 1, sizeof *sa.pos);
    int rc = run(argc, argv, &sa, &path);
    free(sa.pos);
    return rc;
}
