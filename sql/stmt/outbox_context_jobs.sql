-- An alert's context: the newest dead jobs of a queue since :since, and how
-- many died in all.
SELECT job_id, COALESCE(failed_reason, ''), (SELECT COUNT(*) FROM failures
        WHERE endpoint = :endpoint AND queue = :queue AND event_time >= :since)
FROM failures
WHERE endpoint = :endpoint AND queue = :queue AND event_time >= :since
ORDER BY event_time DESC, id DESC
LIMIT 3;
