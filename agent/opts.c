/* opts: see opts.h */
#include "opts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

#define ID_CONFIG (-2)
#define OPT_REDIS 'R' /* long only: --redis NAME */

static const char *redis_name; /* the last parse's --redis (see opts.h) */

const char *
opts_redis(void)
{
    return redis_name;
}

int
opts_parse(const char *cmd, int argc, char **argv, const struct opt *tab, opt_fn fn, void *ud,
           const char **config, char **pos, int *npos)
{
    int n = 0;
    while (tab && tab[n].name)
        n++;
    struct option *lo = xcalloc((size_t)n + 3, sizeof *lo);
    for (int i = 0; i < n; i++) {
        lo[i].name = tab[i].name;
        lo[i].has_arg = tab[i].value ? required_argument : no_argument;
        lo[i].val = 256 + i;
    }
    lo[n].name = "config";
    lo[n].has_arg = required_argument;
    lo[n].val = 'c';
    lo[n + 1].name = "redis";
    lo[n + 1].has_arg = required_argument;
    lo[n + 1].val = OPT_REDIS;
    redis_name = NULL;
    int rc = 0, c;
    *npos = 0;
    opterr = 0;
    optind = 0; /* glibc: start afresh (a command may parse twice) */
    /* "-": positionals come back as option 1, in order, wherever they stand */
    while (rc == 0 && (c = getopt_long(argc, argv, "-:c:", lo, NULL)) != -1) {
        if (c == 1) {
            pos[(*npos)++] = optarg;
        } else if (c == 'c') {
            if (!config) {
                fprintf(stderr, "bullwatch %s: takes no -c\n", cmd);
                rc = -1;
            } else {
                *config = optarg;
            }
        } else if (c == OPT_REDIS) {
            redis_name = optarg;
        } else if (c == ':') {
            fprintf(stderr, "bullwatch %s: %s needs a value\n", cmd, argv[optind - 1]);
            rc = -1;
        } else if (c == '?') {
            const char *o = argv[optind - 1], *eq = strchr(o, '=');
            if (optopt && optopt < 256 && o[0] == '-' && o[1] != '-')
                fprintf(stderr, "bullwatch %s: unknown option '-%c'\n", cmd, optopt);
            else if (optopt >= 256 && eq) /* a flag given a value */
                fprintf(stderr, "bullwatch %s: %.*s takes no value\n", cmd, (int)(eq - o), o);
            else
                fprintf(stderr, "bullwatch %s: unknown option '%s'\n", cmd, o);
            rc = -1;
        } else if (c >= 256 && c < 256 + n) {
            rc = fn ? fn(ud, tab[c - 256].id, optarg) : 0;
        }
    }
    /* after "--": the rest are positionals as given */
    while (rc == 0 && optind < argc)
        pos[(*npos)++] = argv[optind++];
    free(lo);
    return rc;
}
