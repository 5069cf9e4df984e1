-- stmt/failure_known by ids (the agent's insert path, which has them)
SELECT 1 FROM failure_log
WHERE queue_id = :queue_id
  AND job_id = CASE WHEN CAST(CAST(:job_id AS INTEGER) AS TEXT) = :job_id
                    THEN CAST(:job_id AS INTEGER) ELSE :job_id END
  AND +finished_at = :finished_on AND endpoint_id = :endpoint_id
LIMIT 1;
