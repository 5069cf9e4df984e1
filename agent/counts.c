/*
 * counts: per queue and minute, what the stream says (added, completed,
 * failed, retries, stalled, custom, malformed), staged in the commit window
 * and added to minute_counts when it commits. Each count is told to the
 * observer (the alert engine) as it is staged; the engine stages it too.
 */
#include <stdlib.h>
#include <string.h>

#include "ingest_int.h"
#include "util.h"
#include "xmem.h"

static const char *const cnt_params[C__N] = {
    [IC_ADDED] = ":added",     [IC_COMPLETED] = ":completed", [IC_FAILED] = ":failed",
    [IC_RETRIES] = ":retries", [IC_STALLED] = ":stalled",     [IC_GAPS] = NULL,
    [C_UNKNOWN] = ":unknown",  [C_MALFORMED] = ":malformed",
};

int64_t *
counts_slot(struct ingest *ing, int qi, int64_t minute)
{
    for (int i = ing->ncnt - 1; i >= 0; i--)
        if (ing->cnt[i].qi == qi && ing->cnt[i].minute == minute)
            return ing->cnt[i].v;
    if (ing->ncnt == ing->capcnt) {
        ing->capcnt = ing->capcnt ? ing->capcnt * 2 : 16;
        ing->cnt = xrealloc(ing->cnt, sizeof *ing->cnt * (size_t)ing->capcnt);
    }
    struct cnt_slot *s = &ing->cnt[ing->ncnt++];
    memset(s, 0, sizeof *s);
    s->qi = qi;
    s->minute = minute;
    return s->v;
}

/* Stage delta of what (an enum ingest_count) and tell the observer. */
void
counts_note(struct ingest *ing, int qi, int what, int64_t minute, int delta)
{
    counts_slot(ing, qi, minute)[what] += delta;
    if (ing->obs)
        ing->obs(ing->obs_ud, ing->q[qi].name, what, minute, delta);
}

static uint64_t
job_hash(struct bstr id)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < id.n; i++)
        h = (h ^ (unsigned char)id.p[i]) * 1099511628211ULL;
    return h ? h : 1;
}

/* A delayed event's `delay`: the absolute due time in ms. */
static bool
retry_due(struct bstr d, int64_t *out)
{
    char tmp[24];
    if (!d.p || d.n == 0 || d.n >= sizeof tmp)
        return false;
    memcpy(tmp, d.p, d.n);
    tmp[d.n] = '\0';
    return parse_int64(tmp, out) == 0 && *out > 0;
}

/* Count one decoded entry of queue qi. */
void
counts_track(struct ingest *ing, int qi, const struct bmq_event *ev)
{
    struct iq *q = &ing->q[qi];
    struct prev_entry *p = &q->prev;
    int64_t minute = (int64_t)(ev->id_ms / 60000);
    uint64_t job = ev->job_id.p ? job_hash(ev->job_id) : 0;
    bool same_job = job && job == p->job;
    bool was_retry = false;
    switch (ev->type) {
    case BMQ_EV_ADDED:
        counts_note(ing, qi, IC_ADDED, minute, 1);
        break;
    case BMQ_EV_COMPLETED:
        counts_note(ing, qi, IC_COMPLETED, minute, 1);
        break;
    case BMQ_EV_FAILED:
        counts_note(ing, qi, IC_FAILED, minute, 1);
        break;
    case BMQ_EV_DELAYED:
        /* an add with a delay writes `added` then `delayed` in one script */
        if (!(p->type == BMQ_EV_ADDED && same_job)) {
            counts_note(ing, qi, IC_RETRIES, minute, 1);
            int64_t due;
            if (ing->retry_obs && retry_due(ev->delay, &due))
                ing->retry_obs(ing->retry_obs_ud, q->name, due);
        }
        break;
    case BMQ_EV_WAITING:
        if (bstr_eq(ev->prev, "active")) {
            counts_note(ing, qi, IC_RETRIES, minute, 1);
            was_retry = true;
        }
        break;
    case BMQ_EV_STALLED:
        counts_note(ing, qi, IC_STALLED, minute, 1);
        /* the stalled checker writes `waiting(prev active)` then `stalled` */
        if (p->type == BMQ_EV_WAITING && p->was_retry && same_job)
            counts_note(ing, qi, IC_RETRIES, p->minute, -1);
        break;
    case BMQ_EV_CUSTOM:
        counts_slot(ing, qi, minute)[C_UNKNOWN]++;
        ing->staged.custom++;
        break;
    default:
        break;
    }
    p->type = ev->type;
    p->was_retry = was_retry;
    p->minute = minute;
    p->job = job;
}

/* Before COMMIT: the staged counts into minute_log (the view minute_counts). */
int
counts_flush(struct ingest *ing)
{
    for (int i = 0; i < ing->ncnt; i++) {
        struct cnt_slot *c = &ing->cnt[i];
        if (failrec_ids(ing, c->qi) != 0)
            return -1;
        sqlite3_stmt *s = store_stmt(ing->st, "stmt/counts_add");
        store_bind_int(s, ":queue_id", ing->q[c->qi].qid);
        store_bind_int(s, ":endpoint_id", ing->eid);
        store_bind_int(s, ":minute", c->minute);
        for (int k = 0; k < C__N; k++)
            if (cnt_params[k])
                store_bind_int(s, cnt_params[k], c->v[k]);
        if (store_exec(ing->st, s, "minute counts") != 0)
            return -1;
    }
    return 0;
}

void
counts_drop(struct ingest *ing)
{
    ing->ncnt = 0;
    if (ing->capcnt > 4096) { /* a burst over every queue: give the memory back */
        free(ing->cnt);
        ing->cnt = NULL;
        ing->capcnt = 0;
    }
}
