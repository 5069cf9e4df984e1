-- top_signatures: the most frequent error signatures per queue over a window.
-- params: queue (optional), since (optional, default the last 24 h), limit (default 20)
-- columns: queue, signature, signature_text, failures, first_seen, last_seen, sample_reason
SELECT queue, signature, signature_text, COUNT(*) AS failures,
       MIN(event_time) AS first_seen, MAX(event_time) AS last_seen,
       MAX(failed_reason) AS sample_reason
FROM failures
WHERE (:queue IS NULL OR queue = :queue)
  AND event_time >= COALESCE(:since, CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 86400000)
GROUP BY queue, signature
ORDER BY failures DESC, last_seen DESC
LIMIT COALESCE(:limit, 20);
