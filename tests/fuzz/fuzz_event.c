/* The stream event decoder (agent/event.c): one XREAD entry, [id, [k, v,
 * ...]], as RESP bytes. Whatever the entry, the decoder returns 0 or -1
 * with a message and every string it hands back lies inside the reply. */
#include <stdio.h>

#include "event.h"
#include "fuzz_util.h"

static void
inside(const redisReply *r, struct bstr b)
{
    (void)r;
    if (b.p && b.n > 0) {
        volatile char c = b.p[0];
        volatile char d = b.p[b.n - 1]; /* ASan checks the bounds */
        (void)c;
        (void)d;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    redisReply *rep[4];
    int n = fuzz_replies(data, size, rep, 4);
    for (int i = 0; i < n; i++) {
        struct bmq_event ev;
        char err[256];
        err[0] = '\0';
        int rc = event_decode(rep[i], &ev, err, sizeof err);
        if (rc == 0) {
            inside(rep[i], ev.id);
            inside(rep[i], ev.name);
            inside(rep[i], ev.job_id);
            inside(rep[i], ev.prev);
            inside(rep[i], ev.failed_reason);
            inside(rep[i], ev.job_name);
            inside(rep[i], ev.attempts_made);
            inside(rep[i], ev.delay);
            inside(rep[i], ev.count);
        } else if (!err[0]) {
            abort(); /* a refusal always says why */
        }
        freeReplyObject(rep[i]);
    }
    return 0;
}
