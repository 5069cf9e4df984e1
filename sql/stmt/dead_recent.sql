SELECT COUNT(*) FROM failure_log
WHERE queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
  AND endpoint_id = (SELECT id FROM endpoints WHERE name = :endpoint)
  AND finished_at >= :since;
