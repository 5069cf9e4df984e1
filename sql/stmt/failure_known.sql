-- Is this death already recorded (same job, same finishedOn)?
SELECT 1 FROM failures
WHERE endpoint = :endpoint AND queue = :queue AND job_id = :job_id AND finished_on = :finished_on
LIMIT 1;
