-- Record one terminal failure into failure_log (sql/schema/0010). The agent
-- asks stmt/failure_known first (one death = one row: a re-read stream
-- entry and the same death seen from the stream and from reconciliation
-- are one); a plain VALUES insert (a SELECT reading failure_log would make
-- SQLite stage the row in a temporary table: 4x the time). :name and
-- :reason are TEXT, or the INTEGER id of a text in texts; :queue_id and
-- :endpoint_id from queue_names and endpoints, the signature's id from
-- signatures (the agent put all three first).
INSERT INTO failure_log (
    queue_id, endpoint_id, job_id, finished_at, event_gap, stream_seq, name, attempts_made,
    attempts_allowed, reason, sig_id, data, data_size, flags, opts_id, stack_id, created_gap,
    processed_gap, processed_by, recorded_gap)
VALUES (
    :queue_id, :endpoint_id,
    CASE WHEN CAST(CAST(:job_id AS INTEGER) AS TEXT) = :job_id
         THEN CAST(:job_id AS INTEGER) ELSE :job_id END,
    COALESCE(:finished_on, :event_time), COALESCE(:finished_on, :event_time) - :event_time,
    CASE WHEN :stream_id IS NULL THEN NULL
         WHEN :stream_id = :event_time || '-' ||
                           CAST(substr(:stream_id, length(:event_time) + 2) AS INTEGER)
         THEN CAST(substr(:stream_id, length(:event_time) + 2) AS INTEGER)
         ELSE :stream_id END,
    :name, :attempts_made, :attempts_allowed, :reason,
    (SELECT id FROM signatures WHERE signature = :signature),
    :data, NULLIF(:data_size, length(CAST(:data AS BLOB))),
    (:data_truncated != 0) | ((:data_json = 0) << 1) | ((:hash_missing != 0) << 2) |
    ((:reconciled != 0) << 3) | ((:finished_on IS NULL) << 4),
    :opts_id, :stack_id, COALESCE(:finished_on, :event_time) - :timestamp,
    COALESCE(:finished_on, :event_time) - :processed_on, :processed_by,
    :recorded_at - COALESCE(:finished_on, :event_time));
