-- The newest three deaths of a queue since :since (a notification's
-- context), with how many died since
SELECT CAST(r.job_id AS TEXT),
       COALESCE(CASE WHEN typeof(r.reason) = 'integer'
                     THEN (SELECT body FROM texts WHERE id = r.reason) ELSE r.reason END, ''),
       (SELECT COUNT(*) FROM failure_log c
        WHERE c.queue_id = r.queue_id AND c.finished_at >= :since AND c.endpoint_id = r.endpoint_id)
FROM failure_log r
WHERE r.queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
  AND r.endpoint_id = (SELECT id FROM endpoints WHERE name = :endpoint)
  AND r.finished_at >= :since
ORDER BY r.finished_at DESC, r.id DESC
LIMIT 3;
