-- TUI job view: the job's story, each recorded death and each action on it.
SELECT r.finished_at - r.event_gap, 'died (attempt ' || COALESCE(r.attempts_made, '?') || '/' ||
       COALESCE(r.attempts_allowed, '?') || '): ' ||
       COALESCE(CASE WHEN typeof(r.reason) = 'integer'
                     THEN (SELECT body FROM texts WHERE id = r.reason) ELSE r.reason END, '')
FROM failure_log r
WHERE r.queue_id = (SELECT id FROM queue_names WHERE queue = ?2)
  AND r.endpoint_id = (SELECT id FROM endpoints WHERE name = ?1)
  AND r.job_id = CASE WHEN CAST(CAST(?3 AS INTEGER) AS TEXT) = ?3
                      THEN CAST(?3 AS INTEGER) ELSE ?3 END
UNION ALL
SELECT j.at, j.outcome || ' by action ' || a.id || ' (' || a.os_user ||
       COALESCE(', ' || a.reason, '') || ')' || COALESCE(': ' || j.detail, '') ||
       COALESCE(', then ' || j.result || COALESCE(': ' || j.result_reason, ''), '')
FROM action_jobs j JOIN actions a ON a.id = j.action_id
WHERE a.endpoint = ?1 AND a.queue = ?2 AND j.job_id = ?3
ORDER BY 1 LIMIT 200;
