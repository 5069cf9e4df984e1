-- An alert's context: the most frequent error signatures of a queue since :since.
SELECT COALESCE(signature_text, failed_reason, ''), COUNT(*) AS n
FROM failures
WHERE endpoint = :endpoint AND queue = :queue AND event_time >= :since
GROUP BY signature
ORDER BY n DESC, MAX(event_time) DESC
LIMIT 3;
