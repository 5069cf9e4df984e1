-- TUI signature view: one queue's signatures over the whole store, from the
-- hourly summary failure_hours (kept with the rows). NEW: first seen on the
-- queue (queue_signatures, kept signature_retention) since ?3. WORKERS:
-- the Worker names (processed_by) its deaths ran on, among the queue's
-- newest 5,000 deaths (one bounded read of failure_log_queue_at).
WITH recent (signature, pb) AS (
    SELECT s.signature, r.processed_by FROM failure_log r LEFT JOIN signatures s ON s.id = r.sig_id
    WHERE r.queue_id = (SELECT id FROM queue_names WHERE queue = ?2)
      AND r.endpoint_id = (SELECT id FROM endpoints WHERE name = ?1)
    ORDER BY r.finished_at DESC LIMIT 5000
),
workers (signature, names, n) AS (
    SELECT signature, GROUP_CONCAT(DISTINCT pb), COUNT(*) FROM recent GROUP BY signature
)
SELECT SUM(h.failures), NULLIF(h.signature, ''),
       CASE WHEN (SELECT q.first_seen FROM queue_signatures q
                  WHERE q.queue = ?2 AND q.signature = h.signature AND q.endpoint = ?1) >= ?3
            THEN 'NEW' ELSE '' END,
       strftime('%m-%d %H:%M:%S', MIN(h.first_seen) / 1000, 'unixepoch'),
       strftime('%m-%d %H:%M:%S', MAX(h.last_seen) / 1000, 'unixepoch'),
       COALESCE((SELECT REPLACE(w.names, ',', ', ') FROM workers w WHERE w.signature = h.signature),
                CASE WHEN EXISTS (SELECT 1 FROM workers w WHERE w.signature = h.signature)
                     THEN '(blank: no Worker name)' ELSE '(not among the newest 5,000)' END),
       MAX(h.sample_reason)
FROM failure_hours h
WHERE h.queue = ?2 AND h.endpoint = ?1
GROUP BY h.signature
ORDER BY SUM(h.failures) DESC, MAX(h.last_seen) DESC LIMIT 200;
