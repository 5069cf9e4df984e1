-- Is this death already recorded (same job, same finishedOn)? By job
-- (failure_log_job; the + keeps the planner off failure_log_queue_at: many
-- jobs die in the same millisecond, a stalled-jobs check fails them at once).
-- :queue_id and :endpoint_id from queue_names and endpoints (failrec_ids).
SELECT 1 FROM failure_log
WHERE queue_id = :queue_id
  AND job_id = CASE WHEN CAST(CAST(:job_id AS INTEGER) AS TEXT) = :job_id
                    THEN CAST(:job_id AS INTEGER) ELSE :job_id END
  AND +finished_at = :finished_on AND endpoint_id = :endpoint_id
LIMIT 1;
