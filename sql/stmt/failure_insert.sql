-- Record one terminal failure. Idempotent through the unique index
-- failures_death (endpoint, queue, job_id, finished_on): a re-read stream
-- entry and the same death seen from the stream and from reconciliation are
-- ignored.
INSERT OR IGNORE INTO failures (
    endpoint, queue, job_id, stream_id, event_time, name, attempts_made, attempts_allowed,
    failed_reason, signature, signature_text, data, data_size, data_truncated, data_json,
    opts, stacktrace, timestamp, processed_on, finished_on, processed_by, hash_missing,
    reconciled, recorded_at)
VALUES (:endpoint, :queue, :job_id, :stream_id, :event_time, :name, :attempts_made,
        :attempts_allowed, :failed_reason, :signature, :signature_text, :data, :data_size,
        :data_truncated, :data_json, :opts, :stacktrace, :timestamp, :processed_on,
        :finished_on, :processed_by, :hash_missing, :reconciled, :recorded_at);
