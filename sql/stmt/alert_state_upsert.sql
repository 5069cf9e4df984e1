INSERT OR REPLACE INTO alert_state (rule, labels, endpoint, queue, state, since, last_true,
                                    last_sent, value, threshold)
VALUES (:rule, :labels, :endpoint, :queue, :state, :since, :last_true, :last_sent, :value,
        :threshold);
