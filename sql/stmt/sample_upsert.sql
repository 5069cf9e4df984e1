INSERT OR REPLACE INTO depth_samples (endpoint, queue, minute, waiting, active, prioritized,
                                      delayed, failed, workers, oldest_waiting_ms)
VALUES (:endpoint, :queue, :minute, :waiting, :active, :prioritized, :delayed, :failed, :workers,
        :oldest_waiting_ms);
