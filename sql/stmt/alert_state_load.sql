SELECT rule, queue, state, since, last_true, last_sent, value, threshold, labels FROM alert_state
WHERE endpoint = :endpoint;
