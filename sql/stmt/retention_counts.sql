-- Retention of the per-minute counts by their own cutoff: the older of the
-- store's retention and what the rules' baselines reach back. 500 rows.
DELETE FROM minute_counts WHERE (endpoint, queue, minute) IN
    (SELECT endpoint, queue, minute FROM minute_counts WHERE minute < :cutoff / 60000
     ORDER BY minute LIMIT 500);
