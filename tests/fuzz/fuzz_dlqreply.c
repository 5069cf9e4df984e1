/* The replies of the dead-letter scripts (agent/dlq.c dlq_script_recv,
 * dlq_script_recv_range, dlq_readd_batch; agent/dlq_act.c dlq_walk_take):
 * whatever Redis answers (RESP bytes), they report a status per job or an
 * error, never read outside a reply. rconn is replaced by a fake that
 * hands out the replies parsed from the input (linked against libcore.a
 * without rconn.o; the rest of rconn.h aborts if called).
 * Byte 0: which reader; byte 1: how many jobs the call was for. */
#include <stdio.h>

#include "dlq.h"
#include "dlq_act.h"
#include "fuzz_util.h"
#include "rconn.h"

/* the stubs below name their parameters and use none */
#pragma clang diagnostic ignored "-Wunused-parameter"

static redisReply *queue[16];
static int nq, at;

static redisReply *
next(void)
{
    return at < nq ? queue[at++] : NULL;
}

redisReply *
rconn_reply(struct rconn *rc)
{
    (void)rc;
    return next();
}

redisReply *
rconn_cmd(struct rconn *rc, int argc, const char **argv, const size_t *lens)
{
    (void)rc;
    (void)argc;
    (void)argv;
    (void)lens;
    return next();
}

redisReply *
rconn_cmdf(struct rconn *rc, const char *fmt, ...)
{
    (void)rc;
    if (!strncmp(fmt, "SCRIPT LOAD", 11)) { /* the script loads */
        redisReply *r = calloc(1, sizeof *r);
        r->type = REDIS_REPLY_STRING;
        r->str = strdup("0123456789012345678901234567890123456789");
        r->len = 40;
        return r;
    }
    return next();
}

void
rconn_append(struct rconn *rc, int argc, const char **argv, const size_t *lens)
{
    (void)rc;
    (void)argc;
    (void)argv;
    (void)lens;
}

void
rconn_appendf(struct rconn *rc, const char *fmt, ...)
{
    (void)rc;
    (void)fmt;
}

void
rconn_flush(struct rconn *rc)
{
    (void)rc;
}

const char *
rconn_errstr(const struct rconn *rc)
{
    (void)rc;
    return "fuzz: no more replies";
}

#define NOT_HERE(...)                                                                              \
    {                                                                                              \
        abort();                                                                                   \
    }
struct rconn *rconn_new(const struct redis_endpoint *ep, const char *label, const char *role,
                        int64_t timeout_ms) NOT_HERE()
void rconn_free(struct rconn *rc) NOT_HERE()
int rconn_ensure(struct rconn *rc) NOT_HERE()
int rconn_ensure_async(struct rconn *rc) NOT_HERE()
int rconn_connect_now(struct rconn *rc) NOT_HERE()
bool rconn_is_up(const struct rconn *rc) NOT_HERE()
int64_t rconn_retry_in(const struct rconn *rc) NOT_HERE()
void rconn_set_timeout(struct rconn *rc, int64_t ms) NOT_HERE()
void rconn_mark_down(struct rconn *rc, const char *why) NOT_HERE()
int rconn_fd(const struct rconn *rc, short *events) NOT_HERE()
int rconn_write_some(struct rconn *rc) NOT_HERE()
int rconn_read_some(struct rconn *rc) NOT_HERE()
int rconn_take(struct rconn *rc, redisReply **out) NOT_HERE()
void rconn_use_arena(struct rconn *rc, struct arena *a) NOT_HERE()
void rconn_arena_begin(struct rconn *rc, struct arena *a) NOT_HERE()
void rconn_arena_end(struct rconn *rc) NOT_HERE()
void rconn_check_policy(struct rconn *rc) NOT_HERE()
bool rconn_replies_ready(const struct rconn *rc) NOT_HERE()
bool rconn_sync(const struct rconn *rc) NOT_HERE()

/* one Redis: the link is its only node (queues.c scans and counts per node) */
int
rconn_nodes(const struct rconn *rc)
{
    (void)rc;
    return 1;
}

struct rconn *
rconn_node(struct rconn *rc, int i)
{
    return i == 0 ? rc : NULL;
}

int
rconn_node_for_key(const struct rconn *rc, const char *key, size_t len)
{
    (void)rc, (void)key, (void)len;
    return 0;
}

void
rconn_reply_free(struct rconn *rc, redisReply *r)
{
    (void)rc;
    freeReplyObject(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int mode = data[0] % 3, n = data[1] % 12;
    nq = fuzz_replies(data + 2, size - 2, queue, 16);
    at = 0;
    struct rconn *rc = (struct rconn *)&queue; /* never dereferenced */
    char err[256];
    int status[12];
    enum dlq_place place[12];
    if (mode == 0) {
        if (dlq_script_recv(rc, "lua/purge", n, status, place, err, sizeof err) == 0)
            for (int i = 0; i < n; i++)
                (void)status[i];
    } else if (mode == 1) {
        struct dlq_walk w;
        memset(&w, 0, sizeof w);
        struct dlq_batch b;
        dlq_batch_init(&b, n); /* as exec_run: the batch holds `limit` outcomes */
        /* A range reply with more ids than the call asked for overflowed
         * the batch in dlq_walk_take (a finding of this target, fixed: the
         * walk takes at most `limit`); such replies are fuzzed too. */
        const int unclamped = 1;
        int64_t offset = 0;
        for (;;) {
            int rn = 0;
            redisReply *rr = dlq_script_recv_range(rc, "lua/purge", &rn, err, sizeof err);
            if (!rr)
                break;
            if (rn <= n || unclamped)
                dlq_walk_take(&w, offset, n, rr, &b);
            offset = w.offset;
            freeReplyObject(rr);
        }
        struct dlq_ids again;
        memset(&again, 0, sizeof again);
        dlq_walk_end(&w, &again);
        dlq_ids_release(&again);
        dlq_walk_release(&w);
        dlq_batch_release(&b);
    } else {
        struct dlq_wrapper wr[12], *wp[12];
        const char *ids[12];
        char new_ids[12][32];
        for (int i = 0; i < n; i++) {
            static const char j[] = "{\"originalQueue\":\"q\",\"jobId\":\"1\",\"data\":{}}";
            (void)dlq_unpack(j, sizeof j - 1, &wr[i]);
            wp[i] = &wr[i];
            ids[i] = "w1";
        }
        if (n > 0)
            (void)dlq_readd_batch(rc, "bull", "dead-letter", "q", wp, ids, n, status, new_ids,
                                  place, err, sizeof err);
        for (int i = 0; i < n; i++)
            dlq_wrapper_release(&wr[i]);
    }
    while (at < nq)
        freeReplyObject(queue[at++]);
    return 0;
}
