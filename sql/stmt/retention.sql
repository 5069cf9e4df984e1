DELETE FROM failures WHERE event_time < :cutoff;
DELETE FROM minute_counts WHERE minute < :cutoff / 60000;
DELETE FROM depth_samples WHERE minute < :cutoff / 60000;
DELETE FROM gaps WHERE detected_at < :cutoff;
DELETE FROM alert_transitions WHERE at < :cutoff;
DELETE FROM deliveries WHERE outbox_id IN (SELECT id FROM outbox WHERE state != 'pending' AND created_at < :cutoff);
DELETE FROM outbox WHERE state != 'pending' AND created_at < :cutoff;
DELETE FROM silences WHERE expires_at < :cutoff;
