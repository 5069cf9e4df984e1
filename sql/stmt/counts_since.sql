SELECT queue, minute, added, completed, failed, retries, stalled
FROM minute_counts
WHERE endpoint = :endpoint
  AND queue IN (SELECT queue FROM queue_counters WHERE endpoint = :endpoint)
  AND minute >= :minute;
