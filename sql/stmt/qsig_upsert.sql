-- A window's deaths of one signature on one queue (sigtab.c, at flush).
INSERT INTO queue_signatures (endpoint, queue, signature, first_seen, last_seen, count,
                              sample_reason, sample_job_id)
VALUES (:endpoint, :queue, :signature, :first_seen, :last_seen, :count, :sample_reason,
        :sample_job_id)
ON CONFLICT (queue, signature, endpoint) DO UPDATE SET
    first_seen = MIN(first_seen, excluded.first_seen),
    count = count + excluded.count,
    sample_reason = CASE WHEN excluded.last_seen >= last_seen THEN excluded.sample_reason
                         ELSE sample_reason END,
    sample_job_id = CASE WHEN excluded.last_seen >= last_seen THEN excluded.sample_job_id
                         ELSE sample_job_id END,
    last_seen = MAX(last_seen, excluded.last_seen);
