DELETE FROM failures WHERE event_time < :cutoff;
DELETE FROM minute_counts WHERE minute < :cutoff / 60000;
DELETE FROM depth_samples WHERE minute < :cutoff / 60000;
DELETE FROM gaps WHERE detected_at < :cutoff;
