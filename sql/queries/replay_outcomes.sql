-- replay_outcomes: did the replay work? Per replay action: how many jobs it
-- replayed, how many have since completed, failed again, or not finished yet.
-- params: queue (optional), action (optional)
-- columns: action, queue, started_at, os_user, reason, replayed, completed, failed_again, pending
SELECT a.id AS action, a.queue, a.started_at, a.os_user, a.reason,
       SUM(j.outcome = 'replayed') AS replayed,
       SUM(j.result = 'completed') AS completed,
       SUM(j.result = 'failed') AS failed_again,
       SUM(j.outcome = 'replayed' AND j.result IS NULL) AS pending
FROM actions a JOIN action_jobs j ON j.action_id = a.id
WHERE a.verb = 'replay' AND (:queue IS NULL OR a.queue = :queue)
  AND (:action IS NULL OR a.id = :action)
GROUP BY a.id
ORDER BY a.id DESC;
