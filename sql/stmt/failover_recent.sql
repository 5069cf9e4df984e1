SELECT id, CASE WHEN typeof(stream_seq) = 'integer'
                THEN (finished_at - event_gap) || '-' || stream_seq ELSE stream_seq END
FROM failure_log
WHERE queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
  AND endpoint_id = (SELECT id FROM endpoints WHERE name = :endpoint)
  AND finished_at >= :since AND stream_seq IS NOT NULL
ORDER BY id;
