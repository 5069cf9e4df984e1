INSERT OR REPLACE INTO alert_state (rule, queue, state, since, last_true, last_sent, value, threshold)
VALUES (:rule, :queue, :state, :since, :last_true, :last_sent, :value, :threshold);
