-- 0009_signatures_seen: what the store knows of each error signature of a
-- queue, kept longer than the failure rows (`signature_retention` in
-- [store], default a year, by last_seen), so that "never seen before" is a
-- lookup and not a scan of failure_rows (new_signatures[w] in the rules).
-- Written in the agent's commit window with the rows (agent/sigtab.c);
-- the normalised text stays in `signatures` (once per signature, never
-- trimmed). sample_reason and sample_job_id are the newest death's.
CREATE TABLE queue_signatures (
    endpoint      TEXT    NOT NULL,
    queue         TEXT    NOT NULL,
    signature     TEXT    NOT NULL,
    first_seen    INTEGER NOT NULL,  -- finished_at of the first death (ms)
    last_seen     INTEGER NOT NULL,  -- ... of the newest
    count         INTEGER NOT NULL,
    sample_reason TEXT,
    sample_job_id TEXT,
    PRIMARY KEY (queue, signature, endpoint)
) WITHOUT ROWID;
-- the engine's start (what is new now) and retention (what is old)
CREATE INDEX queue_signatures_first ON queue_signatures (first_seen);
CREATE INDEX queue_signatures_last ON queue_signatures (last_seen);
-- once, from the rows the store has (one pass over failure_rows)
INSERT INTO queue_signatures (endpoint, queue, signature, first_seen, last_seen, count,
                              sample_reason, sample_job_id)
SELECT endpoint, queue, signature, MIN(finished_at), MAX(finished_at), COUNT(*),
       MAX(failed_reason), MAX(job_id)
FROM failure_rows WHERE signature IS NOT NULL
GROUP BY queue, signature, endpoint;
