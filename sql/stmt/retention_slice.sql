-- One slice of retention: at most 500 rows of each growing table older
-- than :cutoff (ms), oldest first, each statement from an index. Run by the
-- agent inside its commit window, one slice per loop iteration, until
-- stmt/retention_more says nothing is due (storeadmin.c). failure_hours
-- goes by whole hours: the hour the cutoff falls in stays until it is all
-- older, so its summary may still count rows trimmed from it. minute_counts
-- and queue_signatures have cutoffs of their own (stmt/retention_counts,
-- stmt/retention_signatures).
DELETE FROM failure_log WHERE id IN
    (SELECT id FROM failure_log WHERE finished_at < :cutoff ORDER BY finished_at LIMIT 500);
-- texts no remaining row can refer to (last_at is at most an hour behind)
DELETE FROM texts WHERE id IN
    (SELECT id FROM texts
     WHERE last_at < MIN(:cutoff, COALESCE((SELECT MIN(finished_at) FROM failure_log), :cutoff))
                     - 3600000
     ORDER BY last_at LIMIT 500);
DELETE FROM failure_hours WHERE (queue, hour, signature, endpoint) IN
    (SELECT queue, hour, signature, endpoint FROM failure_hours
     WHERE hour < :cutoff / 3600000 ORDER BY hour LIMIT 500);
DELETE FROM depth_samples WHERE rowid IN
    (SELECT rowid FROM depth_samples WHERE minute < :cutoff / 60000 ORDER BY minute LIMIT 500);
DELETE FROM gaps WHERE id IN
    (SELECT id FROM gaps WHERE detected_at < :cutoff ORDER BY detected_at LIMIT 500);
DELETE FROM alert_transitions WHERE id IN
    (SELECT id FROM alert_transitions WHERE at < :cutoff ORDER BY at LIMIT 500);
DELETE FROM deliveries WHERE outbox_id IN
    (SELECT id FROM outbox WHERE state != 'pending' AND created_at < :cutoff
     ORDER BY created_at, id LIMIT 500);
DELETE FROM outbox WHERE id IN
    (SELECT id FROM outbox WHERE state != 'pending' AND created_at < :cutoff
     ORDER BY created_at, id LIMIT 500);
DELETE FROM silences WHERE id IN
    (SELECT id FROM silences WHERE expires_at < :cutoff ORDER BY expires_at LIMIT 500);
