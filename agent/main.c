/*
 * bullwatch: entry point. Dispatches subcommands; no logic of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"

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
          "  dlq list QUEUE [--name N] [--reason TEXT] [--signature ID] [--since T] [--until T]\n"
          "           [--limit N] [--json]    dead jobs of a queue's failed set, newest first\n"
          "  dlq show QUEUE JOB_ID [--json]   one job: fields, data, opts, stack traces\n"
          "  dlq replay|purge QUEUE (JOB_ID... | --all | filters) [--dry-run] [--yes] ...\n"
          "  silence add|list|expire [...]    hold back matching alert notifications\n"
          "  tui [-c FILE] [--read-only] [--queue NAME]\n"
          "                                   terminal UI: queues, dead jobs, job detail,\n"
          "                                   alerts, audit, deliveries (? for keys)\n"
          "\n"
          "Config: -c FILE, else $BULLWATCH_CONFIG, else ./agent.ini\n"
          "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 partly done\n",
          out);
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
    if (!strcmp(c, "tui"))
        return cmd_tui(argc - 1, argv + 1);
    if (!strcmp(c, "store"))
        return cmd_store(argc - 1, argv + 1);
    fprintf(stderr, "bullwatch: unknown command '%s'\n", c);
    usage(stderr);
    return EXIT_USAGE;
}
