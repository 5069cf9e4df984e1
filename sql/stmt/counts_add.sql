INSERT INTO minute_counts (endpoint, queue, minute, added, completed, failed, retries, stalled,
                           unknown, malformed)
VALUES (:endpoint, :queue, :minute, :added, :completed, :failed, :retries, :stalled, :unknown,
        :malformed)
ON CONFLICT (endpoint, queue, minute) DO UPDATE SET
    added = added + excluded.added,
    completed = completed + excluded.completed,
    failed = failed + excluded.failed,
    retries = retries + excluded.retries,
    stalled = stalled + excluded.stalled,
    unknown = unknown + excluded.unknown,
    malformed = malformed + excluded.malformed;
