-- Is this death already recorded (same job, same finishedOn)?
SELECT 1 FROM failure_rows
WHERE queue = :queue AND job_id = :job_id AND endpoint = :endpoint AND finished_on = :finished_on
LIMIT 1;
