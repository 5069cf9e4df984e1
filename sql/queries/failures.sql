-- failures: terminal failures, newest first.
-- params: queue (optional), since (optional; ms, or a duration like 2h),
--         until (optional), limit (optional, default 1000)
-- columns: queue, job_id, name, failed_reason, signature, attempts_made,
--          attempts_allowed, finished_at (ms), reconciled (0/1), hash_missing,
--          stream_id, endpoint
SELECT queue, job_id, name, failed_reason, signature, attempts_made, attempts_allowed,
       COALESCE(finished_on, event_time) AS finished_at, reconciled, hash_missing, stream_id,
       endpoint
FROM failures
WHERE (:queue IS NULL OR queue = :queue)
  AND (:since IS NULL OR COALESCE(finished_on, event_time) >= :since)
  AND (:until IS NULL OR COALESCE(finished_on, event_time) < :until)
ORDER BY COALESCE(finished_on, event_time) DESC, id DESC
LIMIT COALESCE(:limit, 1000);
