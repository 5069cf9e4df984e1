-- A queue's three commonest signatures since :since (a notification's context)
SELECT COALESCE(s.signature_text,
                CASE WHEN typeof(r.reason) = 'integer'
                     THEN (SELECT body FROM texts WHERE id = r.reason) ELSE r.reason END, ''),
       COUNT(*) AS n
FROM failure_log r LEFT JOIN signatures s ON s.id = r.sig_id
WHERE r.queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
  AND r.endpoint_id = (SELECT id FROM endpoints WHERE name = :endpoint)
  AND r.finished_at >= :since
GROUP BY r.sig_id
ORDER BY n DESC, MAX(r.finished_at) DESC
LIMIT 3;
