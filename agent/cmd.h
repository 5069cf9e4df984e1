/*
 * cmd: the subcommands of build/bullwatch. Each returns the process exit
 * code: 0 ok, 1 runtime failure, 2 usage or configuration error,
 * 3 partly done.
 */
#ifndef AGENT_CMD_H
#define AGENT_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_PARTIAL 3

int cmd_agent(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_dlq(int argc, char **argv);
int cmd_silence(int argc, char **argv);
int cmd_sink(int argc, char **argv);
int cmd_tui(int argc, char **argv);
int cmd_store(int argc, char **argv);

/* Shared option handling: "-c FILE" / "--config FILE" at argv[*i].
 * Returns 1 when consumed (and advances *i), 0 when not a config option,
 * -1 on a missing value. */
/* The common start of a subcommand: parse "-c FILE" and the boolean flags
 * named in flags (NULL-terminated; their values go to set[i]), then load the
 * config. 0, or EXIT_USAGE after printing why (cfg is then released). */
int cmd_setup(int argc, char **argv, const char *name, const char *const *flags, bool *set,
              struct config *cfg);

/* Load the config chosen by -c / BULLWATCH_CONFIG / ./agent.ini and apply
 * --redis NAME (opts_redis); prints the error and returns -1 on failure. */
/* Load path and check its rules and sinks too. 0, or -1 with FILE:LINE in err. */
int cmd_read_config(struct config *cfg, const char *path, char *err, size_t errlen);
int cmd_load_config(struct config *cfg, const char *cli_path);
/* A command that talks to one Redis: 0 when the config has one endpoint or
 * --redis picked one; else prints the names and returns -1 (exit 2). */
int cmd_one_endpoint(const struct config *cfg, const char *cmd);

/* Machine-readable errors for --json: from cmd_errors_capture() on, what the
 * command writes to stderr is kept; cmd_errors_emit() then writes one JSON
 * object line to the real stderr: {"error":{"command","exit_code","message",
 * "lines"}} when code is not 0, {"notes":[...]} when it is and something was
 * written, nothing otherwise. Returns code. Prompts that must reach the
 * engineer at once go to cmd_prompt_stream() (the real stderr). */
void cmd_errors_capture(void);
int cmd_errors_emit(const char *command, int code);
FILE *cmd_prompt_stream(void);

#endif
