-- Retention of the per-minute counts by their own cutoff: the older of the
-- store's retention and what the rules' baselines reach back. 500 rows.
-- Queue by queue through minute_log's key.
DELETE FROM minute_log WHERE (queue_id, endpoint_id, minute) IN
    (SELECT m.queue_id, m.endpoint_id, m.minute
     FROM queue_names CROSS JOIN endpoints CROSS JOIN minute_log m
          ON m.queue_id = queue_names.id AND m.endpoint_id = endpoints.id
         AND m.minute < :cutoff / 60000
     LIMIT 500);
