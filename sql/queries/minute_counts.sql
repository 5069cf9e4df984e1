-- minute_counts: per-minute event counts of a queue, newest first.
-- params: queue (optional), since (optional; default the last hour)
-- columns: queue, minute_start (ms), added, completed, failed, retries, stalled, unknown, malformed
SELECT queue, minute * 60000 AS minute_start, added, completed, failed, retries, stalled, unknown,
       malformed
FROM minute_counts
WHERE (endpoint, queue) IN (SELECT endpoint, queue FROM queue_counters
                            WHERE :queue IS NULL OR queue = :queue)
  AND minute >= COALESCE(:since, CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000) / 60000
ORDER BY minute DESC, queue;
