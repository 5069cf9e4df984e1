-- Is this death already recorded (same job, same finishedOn)? By job
-- (failure_log_job, the + keeps the planner off failure_log_queue_at: many
-- jobs die in the same millisecond, a stalled-jobs check fails them at once).
SELECT 1 FROM failure_log
WHERE queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
  AND endpoint_id = (SELECT id FROM endpoints WHERE name = :endpoint)
  AND job_id = CASE WHEN CAST(CAST(:job_id AS INTEGER) AS TEXT) = :job_id
                    THEN CAST(:job_id AS INTEGER) ELSE :job_id END
  AND +finished_at = :finished_on
LIMIT 1;
