/* strmap: see strmap.h */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "xmem.h"

struct slot {
    char *key; /* NULL: empty; TOMB: deleted */
    size_t n;
    int64_t value;
    char *aux;
};

struct strmap {
    struct slot *s;
    size_t cap, count, used;
};

static char tomb;
#define TOMB (&tomb)

static uint64_t
hash(const char *k, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ULL;
    }
    return h;
}

struct strmap *
strmap_new(void)
{
    struct strmap *m = xcalloc(1, sizeof *m);
    m->cap = 64;
    m->s = xcalloc(m->cap, sizeof *m->s);
    return m;
}

void
strmap_clear(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->s[i].key && m->s[i].key != TOMB) {
            free(m->s[i].key);
            free(m->s[i].aux);
        }
        m->s[i].key = NULL;
    }
    m->count = m->used = 0;
}

void
strmap_free(struct strmap *m)
{
    if (!m)
        return;
    strmap_clear(m);
    free(m->s);
    free(m);
}

size_t
strmap_count(const struct strmap *m)
{
    return m->count;
}

static struct slot *
find(const struct strmap *m, const char *key, size_t n)
{
    size_t i = hash(key, n) & (m->cap - 1);
    for (size_t probe = 0; probe < m->cap; probe++, i = (i + 1) & (m->cap - 1)) {
        struct slot *s = &m->s[i];
        if (!s->key)
            return NULL;
        if (s->key != TOMB && s->n == n && memcmp(s->key, key, n) == 0)
            return s;
    }
    return NULL;
}

static void
grow(struct strmap *m)
{
    struct slot *old = m->s;
    size_t oldcap = m->cap;
    m->cap *= 2;
    m->s = xcalloc(m->cap, sizeof *m->s);
    m->count = m->used = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].key && old[i].key != TOMB) {
            size_t j = hash(old[i].key, old[i].n) & (m->cap - 1);
            while (m->s[j].key)
                j = (j + 1) & (m->cap - 1);
            m->s[j] = old[i];
            m->count++;
            m->used++;
        }
    }
    free(old);
}

void
strmap_put(struct strmap *m, const char *key, size_t n, int64_t value, const char *aux)
{
    struct slot *s = find(m, key, n);
    if (s) {
        s->value = value;
        free(s->aux);
        s->aux = aux ? xstrdup(aux) : NULL;
        return;
    }
    if ((m->used + 1) * 4 > m->cap * 3)
        grow(m);
    size_t i = hash(key, n) & (m->cap - 1);
    while (m->s[i].key && m->s[i].key != TOMB)
        i = (i + 1) & (m->cap - 1);
    if (!m->s[i].key)
        m->used++;
    m->s[i].key = xmemdup(key, n);
    m->s[i].n = n;
    m->s[i].value = value;
    m->s[i].aux = aux ? xstrdup(aux) : NULL;
    m->count++;
}

bool
strmap_get(const struct strmap *m, const char *key, size_t n, int64_t *value, const char **aux)
{
    struct slot *s = find(m, key, n);
    if (!s)
        return false;
    if (value)
        *value = s->value;
    if (aux)
        *aux = s->aux;
    return true;
}

bool
strmap_del(struct strmap *m, const char *key, size_t n)
{
    struct slot *s = find(m, key, n);
    if (!s)
        return false;
    free(s->key);
    free(s->aux);
    s->key = TOMB;
    s->aux = NULL;
    m->count--;
    return true;
}
