-- The staged counts of a queue's minute (counts.c; ids from queue_names and
-- endpoints, which the agent put first).
INSERT INTO minute_log (queue_id, endpoint_id, minute, added, completed, failed, retries, stalled,
                        unknown, malformed)
VALUES (:queue_id, :endpoint_id, :minute, :added, :completed, :failed, :retries, :stalled,
        :unknown, :malformed)
ON CONFLICT (queue_id, endpoint_id, minute) DO UPDATE SET
    added = added + excluded.added,
    completed = completed + excluded.completed,
    failed = failed + excluded.failed,
    retries = retries + excluded.retries,
    stalled = stalled + excluded.stalled,
    unknown = unknown + excluded.unknown,
    malformed = malformed + excluded.malformed;
