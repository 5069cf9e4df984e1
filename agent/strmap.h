/*
 * strmap: a small open-addressing hash map from binary-safe string keys to
 * an int64 and an owned string, for hot-path lookups (replay lineage).
 */
#ifndef AGENT_STRMAP_H
#define AGENT_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);
size_t strmap_count(const struct strmap *m);
/* Insert or replace; key and aux are copied. */
void strmap_put(struct strmap *m, const char *key, size_t n, int64_t value, const char *aux);
/* true when found: value and aux (borrowed until the next change) set. */
bool strmap_get(const struct strmap *m, const char *key, size_t n, int64_t *value,
                const char **aux);
bool strmap_del(struct strmap *m, const char *key, size_t n);
void strmap_clear(struct strmap *m);

#endif
