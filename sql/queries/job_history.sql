-- job_history: every recorded failure of one job, oldest first.
-- params: queue (required), job_id (required)
-- columns: event_time, stream_id, attempts_made, attempts_allowed, failed_reason,
--          signature, reconciled, hash_missing, processed_by, data, stacktrace
SELECT event_time, stream_id, attempts_made, attempts_allowed, failed_reason, signature,
       reconciled, hash_missing, processed_by, data, stacktrace
FROM failures
WHERE queue = :queue AND job_id = :job_id
ORDER BY event_time, id;
