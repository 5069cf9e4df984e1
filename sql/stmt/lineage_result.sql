UPDATE action_jobs SET result = :result, result_at = :at, result_reason = :reason
WHERE action_id = :action_id AND job_id = :job_id AND result IS NULL;
