/* endpoint: see endpoint.h */
#include "endpoint.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "ingest.h"
#include "rconn.h"
#include "util.h"
#include "xmem.h"

struct endpoint *
endpoint_new(const struct config *cfg, int i, struct store *st, struct window *win)
{
    struct endpoint *ep = xcalloc(1, sizeof *ep);
    struct buf b;
    ep->index = i;
    config_endpoint(cfg, i, &ep->cfg);
    buf_init(&b, 0);
    if (cfg->nendpoints > 1)
        buf_addf(&b, "%s (%s)", ep->cfg.endpoint_name, ep->cfg.endpoint_addr);
    else
        buf_adds(&b, ep->cfg.endpoint_addr);
    ep->label = buf_detach(&b, NULL);
    /* the links' own lines give the address; the loop's log context
     * (log_set_endpoint) the name */
    ep->cmd = rconn_new(&ep->cfg.ep, ep->cfg.endpoint_addr, "cmd", ep->cfg.connect_timeout_ms);
    ep->srd = rconn_new(&ep->cfg.ep, ep->cfg.endpoint_addr, "stream", ep->cfg.connect_timeout_ms);
    ep->arena = arena_new(1 << 20);
    rconn_use_arena(ep->srd, ep->arena); /* XREAD replies: no malloc per entry */
    ep->ing = ingest_new(&ep->cfg, st, win, ep->cmd);
    /* the first connect (TCP, TLS, the PING probe) takes a few loop
     * iterations: not an outage yet. Evaluating then would see no gauges
     * and resolve every gauge alert the store has firing, only to fire it
     * again at the first poll. */
    ep->next_outage_eval = mono_ms() + ep->cfg.connect_timeout_ms;
    return ep;
}

void
endpoint_free(struct endpoint *ep)
{
    if (!ep)
        return;
    ingest_free(ep->ing);
    queue_list_release(&ep->ql);
    free(ep->depths);
    free(ep->pick);
    rconn_free(ep->cmd);
    rconn_free(ep->srd);
    arena_free(ep->arena);
    free(ep->label);
    free(ep);
}

void
endpoint_rebind(struct endpoint *ep, const struct config *cfg)
{
    config_endpoint(cfg, ep->index, &ep->cfg);
}

void
endpoint_set_queues(struct endpoint *ep, struct queue_list *fresh)
{
    /* the depths of queues still there carry over (both lists are sorted) */
    struct queue_depth *nd = xcalloc((size_t)(fresh->n ? fresh->n : 1), sizeof *nd);
    for (int i = 0, j = 0; i < fresh->n && j < ep->ql.n;) {
        int c = strcmp(fresh->names[i], ep->ql.names[j]);
        if (c == 0)
            nd[i++] = ep->depths[j++];
        else if (c < 0)
            i++;
        else
            j++;
    }
    queue_list_release(&ep->ql);
    ep->ql = *fresh;
    memset(fresh, 0, sizeof *fresh);
    ingest_set_queues(ep->ing, &ep->ql);
    free(ep->depths);
    ep->depths = nd;
    free(ep->pick);
    ep->pick = xcalloc((size_t)(ep->ql.n ? ep->ql.n : 1), sizeof *ep->pick);
    ep->poll_cursor = 0;
}

void
endpoint_links(struct endpoint *ep)
{
    bool was_up = rconn_is_up(ep->srd);
    ep->links_up = rconn_ensure_async(ep->cmd) == 0 && rconn_ensure_async(ep->srd) == 0;
    if (was_up && !rconn_is_up(ep->srd))
        ingest_link_lost(ep->ing);
    if (ingest_inflight(ep->ing) && mono_ms() > ingest_overdue_at(ep->ing)) {
        rconn_mark_down(ep->srd, "no reply to XREAD within its block time");
        ingest_link_lost(ep->ing);
    }
    if (!rconn_is_up(ep->srd))
        ingest_link_lost(ep->ing);
}
