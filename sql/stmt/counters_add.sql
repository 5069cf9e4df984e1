INSERT INTO queue_counters (endpoint, queue, added, completed, failed, retries, stalled, gaps, dead)
VALUES (:endpoint, :queue, :added, :completed, :failed, :retries, :stalled, :gaps, :dead)
ON CONFLICT (endpoint, queue) DO UPDATE SET
    added = added + excluded.added,
    completed = completed + excluded.completed,
    failed = failed + excluded.failed,
    retries = retries + excluded.retries,
    stalled = stalled + excluded.stalled,
    gaps = gaps + excluded.gaps,
    dead = dead + excluded.dead;
