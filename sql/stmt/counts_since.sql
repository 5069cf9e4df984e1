SELECT queue, minute, added, completed, failed, retries, stalled
FROM minute_counts WHERE endpoint = :endpoint AND minute >= :minute;
