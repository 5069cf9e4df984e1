-- Is anything older than :cutoff left to trim (after a slice)?
SELECT EXISTS (SELECT 1 FROM failure_log WHERE finished_at < :cutoff)
    OR EXISTS (SELECT 1 FROM texts
               WHERE last_at < MIN(:cutoff, COALESCE((SELECT MIN(finished_at) FROM failure_log),
                                                     :cutoff)) - 3600000)
    OR EXISTS (SELECT 1 FROM failure_hours WHERE hour < :cutoff / 3600000)
    OR EXISTS (SELECT 1 FROM depth_samples WHERE minute < :cutoff / 60000)
    OR EXISTS (SELECT 1 FROM gaps WHERE detected_at < :cutoff)
    OR EXISTS (SELECT 1 FROM alert_transitions WHERE at < :cutoff)
    OR EXISTS (SELECT 1 FROM outbox WHERE state != 'pending' AND created_at < :cutoff)
    OR EXISTS (SELECT 1 FROM silences WHERE expires_at < :cutoff);
