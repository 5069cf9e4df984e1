/*
 * cmd_sink: `bullwatch sink test NAME`: one clearly marked test
 * notification through the real path (an outbox row written and committed,
 * the body the sink's format builds, its secrets added at send time, the
 * signature, every URL of the sink), then the receiver's answer printed.
 *
 * The row has state 'test': the agent, which may run at the same time on
 * the same store, never sends it; this command sends it once, without
 * retry, and records the attempt like any delivery (`query deliveries`).
 */
#include "cmd.h"
#include "opts.h"
#include "xmem.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "labels.h"
#include "log.h"
#include "outbox.h"
#include "sink.h"
#include "store.h"
#include "util.h"
#include "window.h"

struct test_run {
    const struct sink *k;
    int64_t ids[SINK_MAX_URLS];
    int n, done, ok;
};

static void
on_report(void *ud, int64_t id, long status, const char *err, const char *answer)
{
    struct test_run *t = ud;
    int target = 0;
    for (int i = 0; i < t->n; i++)
        if (t->ids[i] == id)
            target = i;
    t->done++;
    bool good = status >= 200 && status < 300;
    t->ok += good;
    printf("sink %s", t->k->name);
    if (t->n > 1)
        printf(" (url %d of %d)", target + 1, t->n);
    if (err)
        printf(": no answer: %s\n", err);
    else
        printf(": HTTP %ld%s\n", status, good ? "" : " (the receiver refused the test)");
    if (answer && *answer)
        printf("  answer: %s\n", log_esc(answer, strlen(answer)));
}

static void
sink_usage(void)
{
    fputs("usage: bullwatch sink test NAME [-c FILE]\n"
          "  sends a test notification (marked TEST, rule bullwatch_test) to the sink's\n"
          "  receiver through the outbox, and prints the receiver's answer\n",
          stderr);
}

int
cmd_sink(int argc, char **argv)
{
    const char *path = NULL, *name = NULL;
    char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
    int npos = 0;
    static const struct opt none[] = {{NULL, false, 0}};
    int prc = opts_parse("sink", argc, argv, none, NULL, NULL, &path, pos, &npos);
    bool test = npos == 2 && !strcmp(pos[0], "test");
    if (test)
        name = pos[1];
    free(pos);
    if (prc != 0)
        return EXIT_USAGE;
    if (!test || !name) {
        sink_usage();
        return EXIT_USAGE;
    }
    struct config cfg;
    if (cmd_load_config(&cfg, path) != 0) {
        config_release(&cfg);
        return EXIT_USAGE;
    }
    char err[CONFIG_ERR_LEN];
    struct sinks sinks;
    if (sinks_load(&cfg, &sinks, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        config_release(&cfg);
        return EXIT_USAGE;
    }
    int rc = EXIT_RUNTIME;
    struct test_run t = {0};
    t.k = sinks_find(&sinks, name);
    if (!t.k) {
        fprintf(stderr, "bullwatch sink test: no [sink %s] in %s\n", name, cfg.path);
        sinks_release(&sinks);
        config_release(&cfg);
        return EXIT_USAGE;
    }
    struct store *st = store_open(cfg.store_path, false, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bullwatch sink test: %s\n", err);
        goto out_sinks;
    }
    struct window *win = window_new(st);
    struct outbox *o = outbox_new(st, win, &sinks);
    outbox_set_report(o, on_report, &t);

    char host[128] = "?", summary[512];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(summary, sizeof summary,
             "TEST from bullwatch on %s: a test of sink '%s' (bullwatch sink test), not an alert; "
             "nothing to do",
             host, name);
    struct labels lab = {0};
    labels_set(&lab, "endpoint", cfg.endpoint_name);
    labels_set(&lab, "queue", "bullwatch-test");
    struct buf lj;
    buf_init(&lj, 0);
    labels_json(&lab, &lj);
    int64_t now = now_ms();
    struct notice n = {0};
    n.rule = "bullwatch_test";
    n.queue = "bullwatch-test";
    n.endpoint = cfg.endpoint_name;
    n.severity = "info";
    n.summary = summary;
    n.runbook = "";
    n.expr = "test";
    n.labels = lj.data;
    labels_fingerprint(n.rule, &lab, n.fingerprint);
    n.kind = NOTICE_TEST;
    n.value = 1;
    n.threshold = 0;
    n.starts_at = n.at = n.transition_at = now;
    if (window_open(win) != 0 || (t.n = outbox_add_test(o, t.k, &n, now, t.ids)) < 0 ||
        window_commit(win) != 0) {
        fprintf(stderr, "bullwatch sink test: cannot write the test row: %s\n",
                store_last_error(st) ? store_last_error(st) : store_errmsg(st));
        if (window_is_open(win))
            window_abort(win);
        goto out;
    }
    for (int i = 0; i < t.n; i++)
        if (outbox_send_now(o, t.ids[i], now_ms()) != 0)
            t.done++, printf("sink %s: cannot send row %lld\n", name, (long long)t.ids[i]);
    int64_t deadline = mono_ms() + t.k->timeout_ms + 2000;
    while (t.done < t.n && mono_ms() < deadline) {
        struct pollfd p[16];
        int np = outbox_fds(o, p, 16);
        int64_t w = outbox_wait_ms(o, now_ms());
        if (w < 0 || w > 100)
            w = 100;
        if (np > 0)
            (void)poll(p, (nfds_t)np, (int)w);
        else
            usleep((useconds_t)(w > 0 ? w : 1) * 1000);
        outbox_pump(o, now_ms());
    }
    outbox_pump(o, now_ms()); /* records the results in the window */
    if (window_is_open(win))
        (void)window_commit(win);
    if (t.done < t.n)
        printf("sink %s: no answer within %lld ms\n", name, (long long)(t.k->timeout_ms + 2000));
    rc = t.ok == t.n ? EXIT_OK : EXIT_RUNTIME;
out:
    buf_release(&lj);
    outbox_free(o);
    window_free(win);
    store_close(st);
out_sinks:
    sinks_release(&sinks);
    config_release(&cfg);
    return rc;
}
