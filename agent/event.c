/* event: see event.h */
#include "event.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

int
bstr_eq(struct bstr b, const char *s)
{
    size_t n = strlen(s);
    return b.p && b.n == n && memcmp(b.p, s, n) == 0;
}

static int
field_is(const redisReply *f, const char *name)
{
    size_t n = strlen(name);
    return f->len == n && memcmp(f->str, name, n) == 0;
}

/* events whose meaning needs a jobId */
static int
needs_job(enum bmq_ev t)
{
    switch (t) {
    case BMQ_EV_DRAINED:
    case BMQ_EV_PAUSED:
    case BMQ_EV_RESUMED:
    case BMQ_EV_CLEANED:
    case BMQ_EV_CUSTOM:
        return 0;
    default:
        return 1;
    }
}

int
event_decode(const redisReply *e, struct bmq_event *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    ev->type = BMQ_EV_CUSTOM;
    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING) {
        snprintf(err, errlen, "entry is not [id, fields]");
        return -1;
    }
    ev->id.p = e->element[0]->str;
    ev->id.n = e->element[0]->len;
    {
        uint64_t seq;
        if (stream_id_parse(ev->id.p, &ev->id_ms, &seq) != 0) {
            snprintf(err, errlen, "bad stream id");
            return -1;
        }
    }
    const redisReply *f = e->element[1];
    if (f->type == REDIS_REPLY_NIL) {
        snprintf(err, errlen, "entry has no fields (deleted)");
        return -1;
    }
    if (f->type != REDIS_REPLY_ARRAY || f->elements % 2 != 0) {
        snprintf(err, errlen, "fields are not field/value pairs");
        return -1;
    }
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        struct bstr val = {v->str, v->len};
        if (field_is(k, "event"))
            ev->name = val;
        else if (field_is(k, "jobId"))
            ev->job_id = val;
        else if (field_is(k, "prev"))
            ev->prev = val;
        else if (field_is(k, "failedReason"))
            ev->failed_reason = val;
        else if (field_is(k, "name"))
            ev->job_name = val;
        else if (field_is(k, "attemptsMade"))
            ev->attempts_made = val;
        else if (field_is(k, "delay"))
            ev->delay = val;
        else if (field_is(k, "count"))
            ev->count = val;
    }
    if (!ev->name.p) {
        snprintf(err, errlen, "no 'event' field");
        return -1;
    }
    ev->type = bmq_ev_lookup(ev->name.p, ev->name.n);
    if (needs_job(ev->type) && (!ev->job_id.p || ev->job_id.n == 0)) {
        snprintf(err, errlen, "'%s' event without jobId", bmq_ev_name(ev->type));
        return -1;
    }
    return 0;
}
