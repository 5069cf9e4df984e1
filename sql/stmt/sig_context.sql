-- A new signature's notice: its normalised text, how many of the queue's
-- deaths since :since (its first) carry it, and the first of them (reason,
-- job id; SQLite takes the bare columns from the MIN row). From the
-- queue's rows since then (failure_rows_queue_at), the open window's too.
SELECT COALESCE((SELECT signature_text FROM signatures WHERE signature = :signature),
                :signature),
       COUNT(*), r.job_id, r.failed_reason, MIN(r.finished_at)
FROM failure_rows r
WHERE r.queue = :queue AND r.finished_at >= :since AND r.signature = :signature
  AND r.endpoint = :endpoint;
