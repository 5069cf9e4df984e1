-- failures: terminal failures, newest first.
-- params: queue (optional), since (optional; ms, or a duration like 2h),
--         until (optional), limit (optional, default 1000)
-- columns: queue, job_id, name, failed_reason, signature, attempts_made,
--          attempts_allowed, finished_at (ms), reconciled (0/1), hash_missing,
--          stream_id, endpoint
-- From an index either way, newest first without sorting: failure_log_queue_at
-- with a queue, failure_log_at without (the other branch's condition is false,
-- it reads nothing); the two are merged in index order.
SELECT q.queue, CAST(r.job_id AS TEXT) AS job_id,
       CASE WHEN typeof(r.name) = 'integer' THEN (SELECT body FROM texts WHERE id = r.name)
            ELSE r.name END AS name,
       CASE WHEN typeof(r.reason) = 'integer' THEN (SELECT body FROM texts WHERE id = r.reason)
            ELSE r.reason END AS failed_reason,
       s.signature, r.attempts_made, r.attempts_allowed, r.finished_at,
       (r.flags >> 3) & 1 AS reconciled, (r.flags >> 2) & 1 AS hash_missing,
       CASE WHEN typeof(r.stream_seq) = 'integer'
            THEN (r.finished_at - r.event_gap) || '-' || r.stream_seq
            ELSE r.stream_seq END AS stream_id,
       e.name AS endpoint
FROM (
    SELECT id, finished_at FROM failure_log
    WHERE :queue IS NOT NULL AND queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
      AND finished_at >= COALESCE(:since, -9223372036854775808)
      AND finished_at < COALESCE(:until, 9223372036854775807)
    UNION ALL
    SELECT id, finished_at FROM failure_log
    WHERE :queue IS NULL
      AND finished_at >= COALESCE(:since, -9223372036854775808)
      AND finished_at < COALESCE(:until, 9223372036854775807)
    ORDER BY finished_at DESC, id DESC
    LIMIT COALESCE(:limit, 1000)
) k
JOIN failure_log r ON r.id = k.id
JOIN queue_names q ON q.id = r.queue_id
JOIN endpoints e ON e.id = r.endpoint_id
LEFT JOIN signatures s ON s.id = r.sig_id
ORDER BY k.finished_at DESC, k.id DESC;
