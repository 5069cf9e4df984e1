-- Record one terminal failure. Idempotent: the unique (endpoint, queue,
-- stream_id) index ignores a re-read stream entry, and the NOT EXISTS clause
-- ignores the same death (same job, same finishedOn) seen once from the
-- stream and once by reconciliation.
INSERT OR IGNORE INTO failures (
    endpoint, queue, job_id, stream_id, event_time, name, attempts_made, attempts_allowed,
    failed_reason, signature, signature_text, data, data_size, data_truncated, data_json,
    opts, stacktrace, timestamp, processed_on, finished_on, processed_by, hash_missing,
    reconciled, recorded_at)
SELECT :endpoint, :queue, :job_id, :stream_id, :event_time, :name, :attempts_made,
       :attempts_allowed, :failed_reason, :signature, :signature_text, :data, :data_size,
       :data_truncated, :data_json, :opts, :stacktrace, :timestamp, :processed_on,
       :finished_on, :processed_by, :hash_missing, :reconciled, :recorded_at
WHERE NOT EXISTS (
    SELECT 1 FROM failures
    WHERE endpoint = :endpoint AND queue = :queue AND job_id = :job_id
      AND finished_on = :finished_on);
