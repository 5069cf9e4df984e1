-- 0005_counters: per queue, running totals of what the stream said and what
-- was recorded, kept in the same transaction as the rows (the agent's
-- /metrics counters survive restarts and outlive retention). Filled from
-- the per-minute counts and gaps already stored.
CREATE TABLE queue_counters (
    endpoint  TEXT    NOT NULL,
    queue     TEXT    NOT NULL,
    added     INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0,
    retries   INTEGER NOT NULL DEFAULT 0,
    stalled   INTEGER NOT NULL DEFAULT 0,
    gaps      INTEGER NOT NULL DEFAULT 0,  -- trimmed stretches
    dead      INTEGER NOT NULL DEFAULT 0,  -- failure rows written (stream + reconciled)
    PRIMARY KEY (endpoint, queue)
);
INSERT INTO queue_counters (endpoint, queue, added, completed, failed, retries, stalled, dead)
SELECT endpoint, queue, SUM(added), SUM(completed), SUM(failed), SUM(retries), SUM(stalled),
       SUM(failed)
FROM minute_counts GROUP BY endpoint, queue;
INSERT INTO queue_counters (endpoint, queue, gaps, dead)
SELECT endpoint, queue, SUM(kind = 'trim'), SUM(reconciled) FROM gaps WHERE true
GROUP BY endpoint, queue
ON CONFLICT (endpoint, queue) DO UPDATE SET gaps = gaps + excluded.gaps, dead = dead + excluded.dead;
