/* cmd_common: option helpers shared by the subcommands (see cmd.h) */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "opts.h"
#include "xmem.h"

#include "rule.h"
#include "sink.h"

int
cmd_read_config(struct config *cfg, const char *path, char *err, size_t errlen)
{
    if (config_load(cfg, path, err, errlen) != 0)
        return -1;
    /* alert rules are checked by every command: a bad expr is a bad config */
    struct rules rs;
    if (rules_load(cfg, &rs, err, errlen) != 0)
        return -1;
    rules_release(&rs);
    struct sinks sk;
    if (sinks_load(cfg, &sk, err, errlen) != 0)
        return -1;
    sinks_release(&sk);
    return 0;
}

int
cmd_load_config(struct config *cfg, const char *cli_path)
{
    char err[CONFIG_ERR_LEN];
    if (cmd_read_config(cfg, config_choose_path(cli_path), err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    /* --redis NAME: that endpoint is the config's own from here on */
    if (opts_redis() && config_pick_endpoint(cfg, opts_redis(), err, sizeof err) != 0) {
        fprintf(stderr, "bullwatch: --redis: %s\n", err);
        return -1;
    }
    return 0;
}

int
cmd_one_endpoint(const struct config *cfg, const char *cmd)
{
    if (cfg->nendpoints < 2 || cfg->endpoint_picked)
        return 0;
    char names[512];
    config_endpoint_names(cfg, names, sizeof names);
    fprintf(stderr, "bullwatch %s: %s has %d redis endpoints (%s): choose one with --redis NAME\n",
            cmd, cfg->path, cfg->nendpoints, names);
    return -1;
}

static int
set_flag(void *ud, int id, const char *value)
{
    (void)value;
    ((bool *)ud)[id] = true;
    return 0;
}

int
cmd_setup(int argc, char **argv, const char *name, const char *const *flags, bool *set,
          struct config *cfg)
{
    struct opt tab[16];
    int n = 0;
    for (; flags && flags[n] && n < 15; n++)
        tab[n] = (struct opt){flags[n] + 2, false, n}; /* "--json" -> "json" */
    tab[n] = (struct opt){NULL, false, 0};
    const char *path = NULL;
    char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
    int npos = 0;
    int rc = opts_parse(name, argc, argv, tab, set_flag, set, &path, pos, &npos);
    if (rc == 0 && npos > 0) {
        fprintf(stderr, "bullwatch %s: unexpected argument '%s'\n", name, pos[0]);
        rc = -1;
    }
    free(pos);
    if (rc != 0)
        return EXIT_USAGE;
    if (cmd_load_config(cfg, path) != 0) {
        config_release(cfg);
        return EXIT_USAGE;
    }
    return 0;
}

int
cmd_check_config(int argc, char **argv)
{
    struct config cfg;
    if (cmd_setup(argc, argv, "check-config", NULL, NULL, &cfg) != 0)
        return EXIT_USAGE;
    config_print(&cfg, stdout);
    config_warn_insecure(&cfg);
    int sinks = 0;
    for (int i = 0; i < cfg.nsections; i++)
        if (!strcmp(cfg.sections[i].kind, "sink"))
            sinks++;
    for (int e = 0; e < cfg.nendpoints; e++) {
        struct config v;
        config_endpoint(&cfg, e, &v);
        printf("%s; would watch queues matching '%s' (excluding '%s') under prefix '%s' on %s%s%s\n",
               e ? "" : "\n", v.include, v.exclude, v.prefix, v.endpoint_addr,
               cfg.nendpoints > 1 ? " as " : "", cfg.nendpoints > 1 ? v.endpoint_name : "");
    }
    struct rules rs;
    char err[CONFIG_ERR_LEN];
    if (rules_load(&cfg, &rs, err, sizeof err) == 0) {
        printf("\n; %d alert rule(s) as parsed, %d sink(s)\n", rs.n, sinks);
        rules_print(&rs, stdout);
        rules_release(&rs);
    }
    if (cfg.http[0])
        printf("; [agent] http is set but not served by this version\n");
    config_release(&cfg);
    return EXIT_OK;
}

/* --json errors: stderr is swapped for a memory stream until the end */
static FILE *real_stderr;
static char *captured;
static size_t captured_len;

void
cmd_errors_capture(void)
{
    FILE *m = open_memstream(&captured, &captured_len);
    if (!m)
        return; /* errors stay plain text */
    real_stderr = stderr;
    stderr = m;
}

FILE *
cmd_prompt_stream(void)
{
    return real_stderr ? real_stderr : stderr;
}

int
cmd_errors_emit(const char *command, int code)
{
    if (!real_stderr)
        return code;
    fclose(stderr);
    stderr = real_stderr;
    real_stderr = NULL;
    struct buf b, lines;
    buf_init(&b, 0);
    buf_init(&lines, 0);
    const char *first = NULL;
    size_t first_len = 0, nlines = 0;
    for (size_t i = 0, start = 0; i <= captured_len; i++) {
        if (i < captured_len && captured[i] != '\n')
            continue;
        const char *l = captured + start;
        size_t n = i - start;
        while (n && l[n - 1] == '\r')
            n--;
        /* a progress line's carriage return and erase are not text */
        for (const char *cr = memchr(l, '\r', n); cr; cr = memchr(l, '\r', n)) {
            n -= (size_t)(cr + 1 - l);
            l = cr + 1;
        }
        start = i + 1;
        if (!n)
            continue;
        if (!first) {
            first = l;
            first_len = n;
        }
        buf_adds(&lines, nlines++ ? "," : "");
        buf_add_json_str(&lines, l, n);
    }
    if (code != 0) {
        buf_adds(&b, "{\"error\":{\"command\":");
        buf_add_json_str(&b, command, strlen(command));
        buf_addf(&b, ",\"exit_code\":%d,\"message\":", code);
        if (first)
            buf_add_json_str(&b, first, first_len);
        else
            buf_adds(&b, "\"failed\"");
        buf_adds(&b, ",\"lines\":[");
        buf_add(&b, lines.data ? lines.data : "", lines.len);
        buf_adds(&b, "]}}\n");
    } else if (nlines) {
        buf_adds(&b, "{\"notes\":[");
        buf_add(&b, lines.data, lines.len);
        buf_adds(&b, "]}\n");
    }
    if (b.len)
        fwrite(b.data, 1, b.len, stderr);
    buf_release(&b);
    buf_release(&lines);
    free(captured);
    captured = NULL;
    captured_len = 0;
    return code;
}
