-- Retention of the per-minute counts by their own cutoff: the older of the
-- store's retention and what the rules' baselines reach back. 500 rows.
-- Queue by queue through the key (queue_counters names every queue).
DELETE FROM minute_counts WHERE (endpoint, queue, minute) IN
    (SELECT m.endpoint, m.queue, m.minute
     FROM queue_counters c CROSS JOIN minute_counts m
                         ON m.endpoint = c.endpoint AND m.queue = c.queue
                         AND m.minute < :cutoff / 60000
     LIMIT 500);
