/*
 * opts: the one option parser of every command, getopt_long over a table:
 * --name VALUE and --name=VALUE, flags (--json), -c FILE / --config FILE,
 * --redis NAME (opts_redis),
 * "--" ends the options, the positional arguments come back in order
 * wherever they stood. Unknown options and missing values are reported as
 * "bullwatch CMD: ..." on stderr; the caller exits 2.
 */
#ifndef AGENT_OPTS_H
#define AGENT_OPTS_H

#include <stdbool.h>

struct opt {
    const char *name; /* without the dashes: "json", "failed-reason" */
    bool value;       /* takes a value */
    int id;           /* what fn is told (>= 0) */
};

/* Told each option as it comes (value NULL for a flag): 0, or -1 when the
 * value is bad (fn said why). */
typedef int (*opt_fn)(void *ud, int id, const char *value);

/* Parse argv[1..argc-1] (argv[0] names the command word, as for
 * getopt). The config file of -c goes to *config (may be NULL: refused).
 * Positionals into pos (argc entries at most), their count in *npos.
 * 0, or -1 (reported). */
int opts_parse(const char *cmd, int argc, char **argv, const struct opt *tab, opt_fn fn, void *ud,
               const char **config, char **pos, int *npos);

/* --redis NAME, which every command takes (the endpoint it talks to, from
 * [redis NAME]): the value of the last opts_parse, or NULL. */
const char *opts_redis(void);

#endif
