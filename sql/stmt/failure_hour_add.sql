-- One more failure row in its queue's, signature's and hour's summary (the
-- same transaction as the row).
INSERT INTO failure_hours (endpoint, queue, signature, hour, failures, first_seen, last_seen,
                           sample_reason)
VALUES (:endpoint, :queue, COALESCE(:signature, ''), :finished_at / 3600000, 1, :finished_at,
        :finished_at, :failed_reason)
ON CONFLICT (queue, hour, signature, endpoint) DO UPDATE SET
    failures = failures + 1,
    first_seen = MIN(first_seen, excluded.first_seen),
    last_seen = MAX(last_seen, excluded.last_seen),
    sample_reason = MAX(COALESCE(sample_reason, excluded.sample_reason),
                        COALESCE(excluded.sample_reason, sample_reason));
