-- minute_counts: per-minute event counts of a queue, newest first.
-- params: queue (optional), since (optional; default the last hour)
-- columns: queue, minute_start (ms), added, completed, failed, retries, stalled, unknown, malformed
SELECT queue_names.queue, m.minute * 60000 AS minute_start, m.added, m.completed, m.failed,
       m.retries, m.stalled, m.unknown, m.malformed
FROM queue_names CROSS JOIN endpoints CROSS JOIN minute_log m
     ON m.queue_id = queue_names.id AND m.endpoint_id = endpoints.id
    AND m.minute >= COALESCE(:since, CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000) / 60000
WHERE :queue IS NULL OR queue_names.queue = :queue
ORDER BY m.minute DESC, queue_names.queue;
