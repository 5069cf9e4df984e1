-- replayed jobs whose next outcome is not known yet (the last 7 days)
SELECT j.action_id, j.job_id, j.target_queue, j.target_job_id
FROM action_jobs j JOIN actions a ON a.id = j.action_id
WHERE j.outcome = 'replayed' AND j.result IS NULL AND j.at >= :since AND a.endpoint = :endpoint;
