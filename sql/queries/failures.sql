-- failures: terminal failures, newest first.
-- params: queue (optional), since (optional; ms, or a duration like 2h),
--         until (optional), limit (optional, default 1000)
-- columns: queue, job_id, name, failed_reason, signature, attempts_made,
--          attempts_allowed, finished_at (ms), reconciled (0/1), hash_missing,
--          stream_id, endpoint
-- From an index either way, newest first without sorting: failure_rows_queue_at
-- with a queue, failure_rows_at without (the other branch's condition is false,
-- it reads nothing); the two are merged in index order.
SELECT queue, job_id, name, failed_reason, signature, attempts_made, attempts_allowed,
       finished_at, reconciled, hash_missing, stream_id, endpoint
FROM (
    SELECT queue, job_id, name, failed_reason, signature, attempts_made, attempts_allowed,
           finished_at, reconciled, hash_missing, stream_id, endpoint, id
    FROM failure_rows
    WHERE :queue IS NOT NULL AND queue = :queue
      AND finished_at >= COALESCE(:since, -9223372036854775808)
      AND finished_at < COALESCE(:until, 9223372036854775807)
    UNION ALL
    SELECT queue, job_id, name, failed_reason, signature, attempts_made, attempts_allowed,
           finished_at, reconciled, hash_missing, stream_id, endpoint, id
    FROM failure_rows
    WHERE :queue IS NULL
      AND finished_at >= COALESCE(:since, -9223372036854775808)
      AND finished_at < COALESCE(:until, 9223372036854775807)
    ORDER BY finished_at DESC, id DESC
    LIMIT COALESCE(:limit, 1000)
);
