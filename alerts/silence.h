/*
 * silence: silences in the audit store, shared by `bullwatch silence` and
 * the TUI. Matchers are "KEY=GLOB,..." over rule, severity and the alert's
 * labels (endpoint, queue), all of which must match; the agent reads the
 * active ones on each evaluation timer.
 */
#ifndef BW_SILENCE_H
#define BW_SILENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Insert a silence; its id in *id. 0, or -1 with err. */
int silence_add(struct store *st, const char *matchers, const char *author, const char *comment,
                int64_t now, int64_t until, int64_t *id, char *err, size_t errlen);
/* End an active silence now. 1 ended, 0 no such active silence, -1 error. */
int silence_expire(struct store *st, int64_t id, int64_t now);
/* Whether a silence holds an alert back: labels_match (labels.h), the one
 * matcher the agent and the TUI use. */
/* The user running the command ($USER, else the passwd entry). */
const char *silence_author(void);

#endif
