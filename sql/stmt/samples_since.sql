SELECT queue, minute, waiting, active, prioritized, delayed, failed, workers, oldest_waiting_ms
FROM depth_samples WHERE endpoint = :endpoint AND minute >= :minute ORDER BY minute;
