/*
 * event: decoding one BullMQ stream entry into struct bmq_event. Pure.
 * Field pointers BORROW from the reply: they stay valid until the reply is
 * freed (the ingest loop processes a whole XREAD batch before freeing it).
 * Values are binary-safe (pointer + length); none is NUL-terminated.
 */
#ifndef AGENT_EVENT_H
#define AGENT_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "bmq.h"

struct bstr {
    const char *p; /* NULL when absent */
    size_t n;
};

struct bmq_event {
    struct bstr id;   /* stream id "ms-seq" */
    uint64_t id_ms;   /* its time part */
    enum bmq_ev type;
    struct bstr name; /* the event field (custom events keep their name) */
    struct bstr job_id;
    struct bstr prev;
    struct bstr failed_reason;
    struct bstr job_name;      /* added: name */
    struct bstr attempts_made; /* retries-exhausted */
    struct bstr delay;         /* delayed: absolute due ms */
    struct bstr count;         /* cleaned */
};

/* Decode entry ([id, [f1, v1, ...]]). 0 on success; -1 when malformed, with
 * a reason in err (and ev->id set when the id itself was readable). Unknown
 * event names decode fine as BMQ_EV_CUSTOM. */
int event_decode(const redisReply *entry, struct bmq_event *ev, char *err, size_t errlen);

/* true when the bstr equals the C string s */
int bstr_eq(struct bstr b, const char *s);

#endif
