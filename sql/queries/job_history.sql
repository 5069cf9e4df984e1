-- job_history: every recorded failure of one job, oldest first.
-- params: queue (required), job_id (required)
-- columns: event_time, stream_id, attempts_made, attempts_allowed, failed_reason,
--          signature, reconciled, hash_missing, processed_by, data, stacktrace
SELECT f.event_time, f.stream_id, f.attempts_made, f.attempts_allowed, f.failed_reason,
       f.signature, f.reconciled, f.hash_missing, f.processed_by, f.data, f.stacktrace
FROM failure_log r JOIN failures f ON f.id = r.id
WHERE r.queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
  AND r.job_id = CASE WHEN CAST(CAST(:job_id AS INTEGER) AS TEXT) = :job_id
                      THEN CAST(:job_id AS INTEGER) ELSE :job_id END
ORDER BY f.event_time, f.id;
