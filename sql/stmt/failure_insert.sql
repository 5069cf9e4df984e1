-- Record one terminal failure. Idempotent through two unique indexes: a
-- re-read stream entry (endpoint, queue, stream_id) and the same death seen
-- from the stream and from reconciliation (endpoint, queue, job_id,
-- finished_on) are both ignored.
INSERT OR IGNORE INTO failures (
    endpoint, queue, job_id, stream_id, event_time, name, attempts_made, attempts_allowed,
    failed_reason, signature, signature_text, data, data_size, data_truncated, data_json,
    opts, stacktrace, timestamp, processed_on, finished_on, processed_by, hash_missing,
    reconciled, recorded_at)
VALUES (:endpoint, :queue, :job_id, :stream_id, :event_time, :name, :attempts_made,
        :attempts_allowed, :failed_reason, :signature, :signature_text, :data, :data_size,
        :data_truncated, :data_json, :opts, :stacktrace, :timestamp, :processed_on,
        :finished_on, :processed_by, :hash_missing, :reconciled, :recorded_at);
