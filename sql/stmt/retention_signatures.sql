-- Retention of queue_signatures by its own cutoff (signature_retention):
-- a signature not seen since is "never seen" again. At most 500 rows.
DELETE FROM queue_signatures WHERE (queue, signature, endpoint) IN
    (SELECT queue, signature, endpoint FROM queue_signatures
     WHERE last_seen < :cutoff ORDER BY last_seen LIMIT 500);
