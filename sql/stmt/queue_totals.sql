SELECT added, completed, failed, retries, stalled, gaps, dead FROM queue_counters
WHERE endpoint = :endpoint AND queue = :queue;
