/*
 * xread: the stream reader's wire side. One XREAD over every readable
 * queue's events stream, from the read cursors (or, sent ahead while a
 * batch is processed, from that batch's last ids); the stream key of a
 * reply back to its queue; a queue whose events key is not a stream is
 * found and left out.
 */
#include <stdlib.h>
#include <string.h>

#include "ingest_int.h"
#include "log.h"
#include "xmem.h"

/* block_ms < 0 sends no BLOCK: the reply comes at once, empty when nothing
 * is new. Returns the number of streams asked for (0: nothing sent). */
int
xread_send(struct ingest *ing, struct rconn *sr, int64_t block_ms, bool ahead)
{
    int n = 0;
    for (int i = 0; i < ing->nq; i++)
        if (!ing->q[i].skip && !ing->q[i].is_new)
            n++;
    if (n == 0)
        return 0;
    int argc = (block_ms >= 0 ? 6 : 4) + 2 * n;
    const char **argv = xmalloc(sizeof *argv * (size_t)argc);
    char count[24], block[24];
    int k = 0;
    snprintf(count, sizeof count, "%lld", (long long)ing->cfg->read_count);
    argv[k++] = "XREAD";
    argv[k++] = "COUNT";
    argv[k++] = count;
    if (block_ms >= 0) {
        snprintf(block, sizeof block, "%lld", (long long)block_ms);
        argv[k++] = "BLOCK";
        argv[k++] = block;
    }
    argv[k++] = "STREAMS";
    int j = 0;
    for (int i = 0; i < ing->nq; i++) {
        struct iq *q = &ing->q[i];
        if (q->skip || q->is_new)
            continue;
        argv[k + j] = q->stream_key;
        argv[k + n + j] = (ahead && q->batch_last[0]) ? q->batch_last : q->rcursor;
        j++;
    }
    rconn_append(sr, argc, argv, NULL);
    free(argv);
    return n;
}

/* "<prefix>:<queue>:events" -> the queue's index, or -1 */
int
xread_queue_of(const struct ingest *ing, const redisReply *key)
{
    char name[512];
    size_t plen = strlen(ing->cfg->prefix);
    if (key->type != REDIS_REPLY_STRING || key->len < plen + 9 ||
        key->len - plen - 8 >= sizeof name)
        return -1;
    memcpy(name, key->str + plen + 1, key->len - plen - 8);
    name[key->len - plen - 8] = '\0';
    return ingest_find_q(ing, name);
}

/* The events key of some queue is not a stream: find it and stop reading it. */
void
xread_find_bad_streams(struct ingest *ing)
{
    for (int i = 0; i < ing->nq; i++)
        if (!ing->q[i].skip)
            rconn_appendf(ing->cmd, "TYPE %s", ing->q[i].stream_key);
    for (int i = 0; i < ing->nq; i++) {
        if (ing->q[i].skip)
            continue;
        redisReply *r = rconn_reply(ing->cmd);
        if (!r)
            return;
        if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "stream") != 0 &&
            strcmp(r->str, "none") != 0) {
            ing->q[i].skip = true;
            log_error("queue '%s': key '%s' is a %s, not a stream; not reading its events",
                      log_esc(ing->q[i].name, strlen(ing->q[i].name)), ing->q[i].stream_key,
                      r->str);
        }
        freeReplyObject(r);
    }
}
