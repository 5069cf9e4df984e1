INSERT OR REPLACE INTO action_jobs (action_id, job_id, outcome, detail, at)
VALUES (:action_id, :job_id, :outcome, :detail, :now);
