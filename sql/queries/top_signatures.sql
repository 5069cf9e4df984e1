-- top_signatures: the most frequent error signatures per queue over a window.
-- params: queue (optional), since (optional, default the last 24 h), limit (default 20)
-- columns: queue, signature, signature_text, failures, first_seen, last_seen, sample_reason
-- Whole hours from the summary failure_hours (kept with the rows); the
-- hour `since` falls in is counted from the rows themselves (by finish time).
WITH p (since) AS (
    SELECT COALESCE(:since, CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 86400000)
),
-- the hour since falls in, from the rows: grouped by ids first, named after
recent (queue_id, sig_id, failures, first_seen, last_seen, reason) AS (
    SELECT r.queue_id, r.sig_id, COUNT(*), MIN(r.finished_at), MAX(r.finished_at), r.reason
    FROM p CROSS JOIN failure_log r
    WHERE :queue IS NULL AND r.finished_at >= p.since
      AND r.finished_at < (p.since / 3600000 + 1) * 3600000
    GROUP BY r.queue_id, r.sig_id
    UNION ALL
    SELECT r.queue_id, r.sig_id, COUNT(*), MIN(r.finished_at), MAX(r.finished_at), r.reason
    FROM p CROSS JOIN failure_log r
    WHERE r.queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
      AND r.finished_at >= p.since AND r.finished_at < (p.since / 3600000 + 1) * 3600000
    GROUP BY r.queue_id, r.sig_id
),
parts (queue, signature, failures, first_seen, last_seen, sample_reason) AS (
    SELECT h.queue, h.signature, h.failures, h.first_seen, h.last_seen, h.sample_reason
    FROM failure_hours h, p
    WHERE :queue IS NULL AND h.hour > p.since / 3600000
    UNION ALL
    SELECT h.queue, h.signature, h.failures, h.first_seen, h.last_seen, h.sample_reason
    FROM failure_hours h, p
    WHERE h.queue = :queue AND h.hour > p.since / 3600000
    UNION ALL
    SELECT q.queue, COALESCE(s.signature, ''), x.failures, x.first_seen, x.last_seen,
           CASE WHEN typeof(x.reason) = 'integer' THEN (SELECT body FROM texts WHERE id = x.reason)
                ELSE x.reason END
    FROM recent x JOIN queue_names q ON q.id = x.queue_id LEFT JOIN signatures s ON s.id = x.sig_id
)
SELECT x.queue, NULLIF(x.signature, '') AS signature, s.signature_text, SUM(x.failures) AS failures,
       MIN(x.first_seen) AS first_seen, MAX(x.last_seen) AS last_seen,
       MAX(x.sample_reason) AS sample_reason
FROM parts x LEFT JOIN signatures s ON s.signature = x.signature
GROUP BY x.queue, x.signature
ORDER BY failures DESC, last_seen DESC
LIMIT COALESCE(:limit, 20);
