INSERT INTO queue_depths (endpoint, queue, polled_at, waiting, active, prioritized, delayed,
                          completed, failed, waiting_children, paused, workers,
                          oldest_waiting_ms, version)
VALUES (:endpoint, :queue, :now, :waiting, :active, :prioritized, :delayed, :completed, :failed,
        :waiting_children, :paused, :workers, :oldest_waiting_ms, :version)
ON CONFLICT (endpoint, queue) DO UPDATE SET
    polled_at = excluded.polled_at, waiting = excluded.waiting, active = excluded.active,
    prioritized = excluded.prioritized, delayed = excluded.delayed,
    completed = excluded.completed, failed = excluded.failed,
    waiting_children = excluded.waiting_children, paused = excluded.paused,
    workers = excluded.workers, oldest_waiting_ms = excluded.oldest_waiting_ms,
    version = excluded.version;
