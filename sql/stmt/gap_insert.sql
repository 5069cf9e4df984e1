INSERT OR IGNORE INTO gaps (endpoint, queue, kind, after_id, before_id, from_ms, to_ms, detected_at)
VALUES (:endpoint, :queue, :kind, :after_id, :before_id, :from_ms, :to_ms, :now);
