/* arena: see arena.h */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#include "xmem.h"

struct chunk {
    struct chunk *next;
    size_t size, used;
    max_align_t data[];
};

struct arena {
    struct chunk *head;
    size_t chunk;
    size_t total;
};

struct arena *
arena_new(size_t chunk)
{
    struct arena *a = xcalloc(1, sizeof *a);
    a->chunk = chunk;
    return a;
}

void
arena_free(struct arena *a)
{
    if (!a)
        return;
    arena_reset(a);
    free(a->head);
    free(a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->used + n > a->head->size) {
        size_t sz = n > a->chunk ? n : a->chunk;
        struct chunk *c = xmalloc(sizeof *c + sz);
        c->size = sz;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += n;
    a->total += n;
    return p;
}

void
arena_reset(struct arena *a)
{
    /* keep the largest chunk */
    struct chunk *keep = NULL;
    for (struct chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        if (!keep || c->size > keep->size) {
            if (keep)
                free(keep);
            keep = c;
        } else {
            free(c);
        }
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
        /* grow the standard chunk to what one reply needed */
        if (a->total > a->chunk && a->total > keep->size)
            a->chunk = a->total;
    }
    a->head = keep;
    a->total = 0;
}

size_t
arena_used(const struct arena *a)
{
    return a->total;
}

static redisReply *
new_reply(const redisReadTask *task, int type)
{
    struct arena *a = task->privdata;
    redisReply *r = arena_alloc(a, sizeof *r);
    memset(r, 0, sizeof *r);
    r->type = type;
    if (task->parent) {
        redisReply *parent = task->parent->obj;
        parent->element[task->idx] = r;
    }
    return r;
}

static void *
create_string(const redisReadTask *task, char *str, size_t len)
{
    redisReply *r = new_reply(task, task->type);
    char *s = arena_alloc(task->privdata, len + 1);
    memcpy(s, str, len);
    s[len] = '\0';
    r->str = s;
    r->len = len;
    return r;
}

static void *
create_array(const redisReadTask *task, int elements)
{
    redisReply *r = new_reply(task, REDIS_REPLY_ARRAY);
    if (elements > 0) {
        r->element = arena_alloc(task->privdata, sizeof(redisReply *) * (size_t)elements);
        memset(r->element, 0, sizeof(redisReply *) * (size_t)elements);
    }
    r->elements = (size_t)(elements > 0 ? elements : 0);
    return r;
}

static void *
create_integer(const redisReadTask *task, long long value)
{
    redisReply *r = new_reply(task, REDIS_REPLY_INTEGER);
    r->integer = value;
    return r;
}

static void *
create_nil(const redisReadTask *task)
{
    return new_reply(task, REDIS_REPLY_NIL);
}

static void
free_object(void *p)
{
    (void)p; /* released with arena_reset() */
}

redisReplyObjectFunctions arena_reply_fns = {create_string, create_array, create_integer,
                                             create_nil, free_object};
