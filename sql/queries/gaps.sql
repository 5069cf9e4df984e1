-- gaps: stream entries lost to trimming before the agent read them ('trim'),
-- and queues first seen with dead jobs older than their stream ('initial',
-- listed only when reconciliation found such jobs). Newest first.
-- params: queue (optional)
-- columns: queue, kind, after_id, before_id, from_ms, to_ms, detected_at, done, reconciled
SELECT queue, kind, after_id, before_id, from_ms, to_ms, detected_at, done, reconciled
FROM gaps
WHERE (:queue IS NULL OR queue = :queue)
  AND (kind = 'trim' OR reconciled > 0 OR done = 0)
ORDER BY detected_at DESC, id DESC;
