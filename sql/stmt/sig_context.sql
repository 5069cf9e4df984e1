SELECT COALESCE(s.signature_text, :signature), COUNT(*), CAST(r.job_id AS TEXT),
       CASE WHEN typeof(r.reason) = 'integer' THEN (SELECT body FROM texts WHERE id = r.reason)
            ELSE r.reason END,
       MIN(r.finished_at)
FROM (SELECT id, signature_text FROM signatures WHERE signature = :signature) s
JOIN failure_log r ON r.sig_id = s.id
WHERE r.queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
  AND r.endpoint_id = (SELECT id FROM endpoints WHERE name = :endpoint)
  AND r.finished_at >= :since;
