/*
 * sigtab: per queue and error signature, what the store knows of it
 * (queue_signatures: first and last seen, count, the newest death's reason
 * and job), kept in the commit window with the failure rows.
 *
 * The deaths of a window are staged in memory per (queue, signature), one
 * row upserted each at flush (a burst of 20,000 deaths of one error is one
 * write, not 20,000); the first time a window meets a (queue, signature)
 * the store is asked whether it knows it. A signature it does not know is
 * new: the signature observer (the alert engine) is told at once, staged
 * like the counts, so an evaluation in the same window sees it. A rolled
 * back window drops what was staged, and the deaths read again are
 * staged, and found new, again.
 */
#include <stdlib.h>
#include <string.h>

#include "ingest_int.h"
#include "signature.h"
#include "xmem.h"

struct sig_slot {
    int qi;
    char sig[SIGNATURE_ID_LEN + 1];
    bool known;       /* the store had it before this window */
    int64_t first, last, count;
    char *reason, *job; /* the newest death's */
};

struct sigtab {
    struct sig_slot *v;
    int n, cap;
    struct strmap *index; /* "qi/sig" -> index in v */
};

struct sigtab *
sigtab_new(void)
{
    struct sigtab *t = xcalloc(1, sizeof *t);
    t->index = strmap_new();
    return t;
}

void
sigtab_drop(struct sigtab *t)
{
    for (int i = 0; i < t->n; i++) {
        free(t->v[i].reason);
        free(t->v[i].job);
    }
    t->n = 0;
    strmap_clear(t->index);
    if (t->cap > 4096) { /* a burst over many queues: give the memory back */
        free(t->v);
        t->v = NULL;
        t->cap = 0;
    }
}

void
sigtab_free(struct sigtab *t)
{
    if (!t)
        return;
    sigtab_drop(t);
    free(t->v);
    strmap_free(t->index);
    free(t);
}

/* The sample reason kept per (queue, signature): its first 2 KB, cut on a
 * character (the row keeps the whole reason; the sample only names it). */
#define SAMPLE_MAX 2048

static char *
dup_n(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Is (queue, sig) in the store? -1 on a store error. */
static int
known(struct ingest *ing, const char *queue, const char *sig)
{
    sqlite3_stmt *s = store_stmt(ing->st, "stmt/qsig_get");
    store_bind_str(s, ":endpoint", ing->cfg->endpoint_name);
    store_bind_str(s, ":queue", queue);
    store_bind_str(s, ":signature", sig);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    store_note_error(ing->st, "cannot record a failure (signatures)");
    return -1;
}

int
sigtab_note(struct ingest *ing, int qi, const char *sig, int64_t at, const char *reason,
            size_t rn, const char *job, size_t jn)
{
    if (rn > SAMPLE_MAX) {
        rn = SAMPLE_MAX;
        while (rn > 0 && ((unsigned char)reason[rn] & 0xC0) == 0x80)
            rn--;
    }
    struct sigtab *t = ing->sigs;
    char key[32 + SIGNATURE_ID_LEN];
    int kn = snprintf(key, sizeof key, "%d/%s", qi, sig);
    int64_t i;
    struct sig_slot *s;
    if (strmap_get(t->index, key, (size_t)kn, &i, NULL)) {
        s = &t->v[i];
        s->count++;
        if (at < s->first)
            s->first = at;
        if (at >= s->last) {
            s->last = at;
            free(s->reason);
            free(s->job);
            s->reason = reason ? dup_n(reason, rn) : NULL;
            s->job = dup_n(job, jn);
        }
        return 0;
    }
    int k = known(ing, ing->q[qi].name, sig);
    if (k < 0)
        return -1;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = xrealloc(t->v, sizeof *t->v * (size_t)t->cap);
    }
    s = &t->v[t->n];
    memset(s, 0, sizeof *s);
    s->qi = qi;
    memcpy(s->sig, sig, sizeof s->sig);
    s->known = k == 1;
    s->first = s->last = at;
    s->count = 1;
    s->reason = reason ? dup_n(reason, rn) : NULL;
    s->job = dup_n(job, jn);
    strmap_put(t->index, key, (size_t)kn, t->n, NULL);
    t->n++;
    if (!s->known && ing->sig_obs)
        ing->sig_obs(ing->sig_obs_ud, ing->q[qi].name, sig, at);
    return 0;
}

int
sigtab_flush(struct ingest *ing)
{
    struct sigtab *t = ing->sigs;
    for (int i = 0; i < t->n; i++) {
        struct sig_slot *s = &t->v[i];
        sqlite3_stmt *u = store_stmt(ing->st, "stmt/qsig_upsert");
        store_bind_str(u, ":endpoint", ing->cfg->endpoint_name);
        store_bind_str(u, ":queue", ing->q[s->qi].name);
        store_bind_str(u, ":signature", s->sig);
        store_bind_int(u, ":first_seen", s->first);
        store_bind_int(u, ":last_seen", s->last);
        store_bind_int(u, ":count", s->count);
        store_bind_str(u, ":sample_reason", s->reason);
        store_bind_str(u, ":sample_job_id", s->job);
        if (store_exec(ing->st, u, "signatures") != 0)
            return -1;
    }
    return 0;
}
