/*
 * arena: a bump allocator for hiredis replies. A connection whose reader
 * uses arena_reply_fns builds every reply inside the arena, so parsing a
 * 1000-entry XREAD reply costs no malloc per element; the caller releases a
 * whole reply with arena_reset(), never freeReplyObject().
 */
#ifndef AGENT_ARENA_H
#define AGENT_ARENA_H

#include <stddef.h>

#include <hiredis/hiredis.h>

struct arena;

struct arena *arena_new(size_t chunk);
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
/* Forget every allocation; keeps one chunk for reuse. */
void arena_reset(struct arena *a);
size_t arena_used(const struct arena *a);

/* Reader functions: set reader->fn to this and reader->privdata to the
 * arena. freeObject is a no-op. */
extern redisReplyObjectFunctions arena_reply_fns;

#endif
