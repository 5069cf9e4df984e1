/*
 * bullwatch: entry point. Dispatches subcommands; no logic of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "version.h"

static void
usage(FILE *out)
{
    fputs("usage: bullwatch <command> [options]\n"
          "\n"
          "  agent  [-c FILE] [--drain]       run the agent in the foreground (--drain: stop\n"
          "                                   once every stream is read to its end)\n"
          "  status [-c FILE] [--json]        queues, depths per state, agent lag\n"
          "  query  NAME|FILE.sql [--param k=v]... [--json|--csv] [--raw] [-c FILE]\n"
          "                                   read-only SQL; --raw: cells as stored, with no\n"
          "                                   escaping of control/bidi bytes (default: escaped)\n"
          "  store [--json] | store backup FILE   the audit store: rows, size, oldest row;\n"
          "                                   a consistent copy (SQLite online backup)\n"
          "  check-config [-c FILE]           validate agent.ini, print the effective config\n"
          "  dlq list QUEUE [--name N] [--failed-reason TEXT] [--signature ID] [--since T] [--until T]\n"
          "           [--limit N] [--json]    dead jobs of a queue's failed set, newest first\n"
          "  dlq show QUEUE JOB_ID [--json]   one job: fields, data, opts, stack traces\n"
          "  dlq replay|purge QUEUE (JOB_ID... | --all | filters) [--dry-run] [--yes] ...\n"
          "  silence add|list|expire [...]    hold back matching alert notifications\n"
          "  sink test NAME [-c FILE]         send a test notification to a sink, print the answer\n"
          "  tui [-c FILE] [--read-only] [--queue NAME]\n"
          "                                   terminal UI: queues, dead jobs, job detail,\n"
          "                                   alerts, audit, deliveries (? for keys)\n"
          "\n"
          "  help CMD | CMD --help             the usage of one command\n"
          "  --version                         the release\n"
          "\n"
          "Config: -c FILE, else $BULLWATCH_CONFIG, else ./agent.ini\n"
          "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 partly done\n",
          out);
}

/* Each command's usage, for `bullwatch help CMD`, `CMD --help` and `-h`. */
static const struct {
    const char *name, *text;
} helps[] = {
    {"agent", "usage: bullwatch agent [-c FILE] [--drain]\n"
              "  Run the agent in the foreground: read every queue's events, record dead jobs,\n"
              "  evaluate rules, deliver notifications, serve [agent] http. SIGTERM/SIGINT:\n"
              "  commit and exit 0; SIGHUP: read the configuration again.\n"
              "  --drain   stop once every stream is read to its end\n"},
    {"status", "usage: bullwatch status [-c FILE] [--json]\n"
               "  Every queue: counts per state, paused, workers, dead/1h, agent lag, and dead\n"
               "  jobs that have not failed yet where no worker will fail them.\n"},
    {"query", "usage: bullwatch query NAME|FILE.sql [--param k=v]... [--json|--csv] [-c FILE]\n"
              "  Read-only SQL over the audit store. NAME: failures, top_signatures,\n"
              "  job_history, gaps, minute_counts, actions, action_jobs, replay_outcomes,\n"
              "  alert_history, deliveries.\n"},
    {"check-config", "usage: bullwatch check-config [-c FILE]\n"
                     "  Validate the configuration and print it as it would run, secrets masked.\n"},
    {"dlq", "usage: bullwatch dlq list QUEUE [filters] [--json]\n"
            "       bullwatch dlq show QUEUE JOB_ID [--json]\n"
            "       bullwatch dlq replay QUEUE (JOB_ID... | --all | filters) [--dry-run] [--yes]\n"
            "                 [--rate N] [--stop-if-refail PCT] [--keep-attempts] [--comment TEXT]\n"
            "       bullwatch dlq purge QUEUE (JOB_ID... | --all | filters) [--dry-run] [--yes]\n"
            "  filters: --name N, --failed-reason TEXT, --signature ID, --since T, --until T,\n"
            "           --limit N; --reason TEXT is --failed-reason in list, refused in replay\n"
            "           and purge (--comment TEXT is their audit comment)\n"},
    {"silence", "usage: bullwatch silence add MATCHER... --comment WHY [--for 2h | --until TIME]\n"
                "       bullwatch silence list [--json]\n"
                "       bullwatch silence expire ID\n"
                "  MATCHER: KEY=GLOB over rule, severity, endpoint, queue\n"},
    {"store", "usage: bullwatch store [-c FILE] [--json]\n"
              "       bullwatch store backup FILE [-c FILE]\n"
              "       bullwatch store vacuum [--dry-run] [-c FILE]\n"
              "  The audit store: rows, size, oldest row, retention, integrity; a consistent\n"
              "  copy; compaction (with the agent stopped: it says how long and how much disk).\n"},
    {"sink", "usage: bullwatch sink test NAME [-c FILE]\n"
             "  Send a marked test notification to the sink and print the receiver's answer.\n"},
    {"tui", "usage: bullwatch tui [-c FILE] [--read-only] [--queue NAME]\n"
            "  The terminal UI: queues, dead jobs, job detail, alerts, audit, deliveries\n"
            "  (? lists the keys).\n"},
};

static int
help(const char *cmd, FILE *out)
{
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        if (!strcmp(helps[i].name, cmd)) {
            fputs(helps[i].text, out);
            fputs("  -c FILE   the configuration (default $BULLWATCH_CONFIG, else ./agent.ini)\n"
                  "  -h, --help  this text\n",
                  out);
            return EXIT_OK;
        }
    }
    fprintf(stderr, "bullwatch: no command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}

/* The command c with its arguments (args[0] is c). */
static int
dispatch(const char *c, int argc, char **argv)
{
    if (!strcmp(c, "agent"))
        return cmd_agent(argc - 1, argv + 1);
    if (!strcmp(c, "status"))
        return cmd_status(argc - 1, argv + 1);
    if (!strcmp(c, "query"))
        return cmd_query(argc - 1, argv + 1);
    if (!strcmp(c, "check-config"))
        return cmd_check_config(argc - 1, argv + 1);
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(c, "dlq"))
        return cmd_dlq(argc - 1, argv + 1);
    if (!strcmp(c, "silence"))
        return cmd_silence(argc - 1, argv + 1);
    if (!strcmp(c, "sink"))
        return cmd_sink(argc - 1, argv + 1);
    if (!strcmp(c, "tui"))
        return cmd_tui(argc - 1, argv + 1);
    if (!strcmp(c, "store"))
        return cmd_store(argc - 1, argv + 1);
    fprintf(stderr, "bullwatch: unknown command '%s'\n", c);
    usage(stderr);
    return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "--version") || !strcmp(c, "-V") || !strcmp(c, "version")) {
        printf("bullwatch %s\n", BULLWATCH_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(c, "help") && argc >= 3)
        return help(argv[2], stdout);
    for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return help(c, stdout);
    /* --json: errors as one JSON object on stderr (the agent and the TUI are
     * not one-shot commands and keep their text) */
    bool json = false;
    for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
        json = json || !strcmp(argv[i], "--json");
    if (!json || !strcmp(c, "agent") || !strcmp(c, "tui"))
        return dispatch(c, argc, argv); /* each command's parser: opts.c */
    char what[64];
    snprintf(what, sizeof what, "%s%s%s", c, argc > 2 && argv[2][0] != '-' ? " " : "",
             argc > 2 && argv[2][0] != '-' && (!strcmp(c, "dlq") || !strcmp(c, "silence") ||
                                               !strcmp(c, "store") || !strcmp(c, "sink"))
                 ? argv[2]
                 : "");
    cmd_errors_capture();
    return cmd_errors_emit(what, dispatch(c, argc, argv));
}
