-- TUI job view: the job's story, each recorded death and each action on it.
SELECT event_time, 'died (attempt ' || COALESCE(attempts_made, '?') || '/' ||
       COALESCE(attempts_allowed, '?') || '): ' || COALESCE(failed_reason, '')
FROM failure_rows
WHERE queue = ?2 AND job_id = ?3 AND endpoint = ?1
UNION ALL
SELECT j.at, j.outcome || ' by action ' || a.id || ' (' || a.os_user ||
       COALESCE(', ' || a.reason, '') || ')' || COALESCE(': ' || j.detail, '') ||
       COALESCE(', then ' || j.result || COALESCE(': ' || j.result_reason, ''), '')
FROM action_jobs j JOIN actions a ON a.id = j.action_id
WHERE a.endpoint = ?1 AND a.queue = ?2 AND j.job_id = ?3
ORDER BY 1 LIMIT 200;
