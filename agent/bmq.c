/* bmq: see bmq.h */
#include "bmq.h"

#include <string.h>

static const char *const ev_names[] = {
#define X(e, s) s,
    BMQ_EVENTS(X)
#undef X
    "custom",
};

const char *
bmq_ev_name(enum bmq_ev ev)
{
    return (unsigned)ev < BMQ_EV__COUNT ? ev_names[ev] : "?";
}

enum bmq_ev
bmq_ev_lookup(const char *s, size_t n)
{
    for (int i = 0; i < BMQ_EV_CUSTOM; i++)
        if (strlen(ev_names[i]) == n && memcmp(ev_names[i], s, n) == 0)
            return (enum bmq_ev)i;
    return BMQ_EV_CUSTOM;
}

void
bmq_key(struct buf *b, const char *prefix, const char *queue, const char *suffix)
{
    buf_adds(b, prefix);
    buf_addc(b, ':');
    buf_adds(b, queue);
    buf_addc(b, ':');
    buf_adds(b, suffix);
}

void
bmq_job_key(struct buf *b, const char *prefix, const char *queue, const char *id, size_t idlen)
{
    buf_adds(b, prefix);
    buf_addc(b, ':');
    buf_adds(b, queue);
    buf_addc(b, ':');
    buf_add(b, id, idlen);
}

bool
bmq_queue_from_meta_key(const char *prefix, const char *key, size_t keylen, char *out,
                        size_t outlen)
{
    size_t pl = strlen(prefix);
    const size_t sl = 5; /* ":meta" */
    if (keylen < pl + 1 + 1 + sl || memcmp(key, prefix, pl) != 0 || key[pl] != ':')
        return false;
    if (memcmp(key + keylen - sl, ":meta", sl) != 0)
        return false;
    const char *name = key + pl + 1;
    size_t n = keylen - pl - 1 - sl;
    if (n == 0 || n >= outlen || memchr(name, ':', n) || memchr(name, '\0', n))
        return false;
    memcpy(out, name, n);
    out[n] = '\0';
    return true;
}

static int
b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool
bmq_worker_queue(const char *prefix, const char *name, char *out, size_t outlen)
{
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0 || name[pl] != ':')
        return false;
    const char *b = name + pl + 1;
    size_t n = strcspn(b, ":");
    const char *rest = b + n;
    if (n == 0 || n % 4 != 0)
        return false;
    if (*rest && strncmp(rest, ":w:", 3) != 0)
        return false; /* ":qe" (QueueEvents) and anything else */
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '=') {
            if (i < n - 2)
                return false;
            continue;
        }
        int v = b64val(b[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= outlen)
                return false;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return o > 0 && strlen(out) == o;
}
