-- Record one terminal failure. Idempotent through the unique index
-- failure_rows_death (queue, job_id, endpoint, finished_on): a re-read
-- stream entry and the same death seen from the stream and from
-- reconciliation are ignored. Stack trace and opts are written first
-- (stmt/text_get, stmt/text_put: keyed by hash) and referenced by id; the signature's text by
-- stmt/signature_put; the hour summary by stmt/failure_hour_add when a row
-- was written.
INSERT OR IGNORE INTO failure_rows (
    endpoint, queue, job_id, stream_id, event_time, finished_at, name, attempts_made,
    attempts_allowed, failed_reason, signature, data, data_size, data_truncated, data_json,
    opts_id, stack_id, timestamp, processed_on, finished_on, processed_by, hash_missing,
    reconciled, recorded_at)
VALUES (:endpoint, :queue, :job_id, :stream_id, :event_time, COALESCE(:finished_on, :event_time),
        :name, :attempts_made, :attempts_allowed, :failed_reason, :signature, :data, :data_size,
        :data_truncated, :data_json,
        :opts_id, :stack_id,
        :timestamp, :processed_on, :finished_on, :processed_by, :hash_missing, :reconciled,
        :recorded_at);
