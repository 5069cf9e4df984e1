-- Every queue's counts since :minute (the engine's start), queue by queue
-- through minute_log's key
SELECT queue_names.queue, m.minute, m.added, m.completed, m.failed, m.retries, m.stalled
FROM queue_names CROSS JOIN minute_log m
     ON m.queue_id = queue_names.id
    AND m.endpoint_id = (SELECT id FROM endpoints WHERE name = :endpoint) AND m.minute >= :minute;
